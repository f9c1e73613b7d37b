/**
 * Decoding a trust policy the way notation does (Go's `encoding/json` as used by notation's
 * getDocument): unknown keys are ignored, field names match case-insensitively, `null` leaves a field
 * empty, any type mismatch is "malformed trust policy".
 */
import { findFoldedKeyCollision, foldJsonKey, parseStrictJson } from '../json';
import { invalid, MALFORMED } from './model';

export interface MutableStatement {
  name: string;
  registryScopes?: string[];
  signatureVerification: { level: string; override?: Record<string, string>; verifyTimestamp?: string };
  trustStores?: string[];
  trustedIdentities?: string[];
}

export interface MutableDocument {
  version: string;
  trustPolicies?: MutableStatement[];
}

class Malformed extends Error {}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Iterates the keys of `obj` that map onto one of `fields`, the way Go's decoder does: an exact
 * match first, else a case-insensitive one; unknown keys are ignored. Later keys overwrite earlier ones.
 */
function forEachField(obj: Record<string, unknown>, fields: readonly string[], fn: (field: string, value: unknown) => void): void {
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === undefined) continue; // absent (only possible for objects handed in directly)
    let field = fields.find((f) => f === key);
    if (field === undefined) {
      // Go's case-insensitive field match (Unicode simple folding: "truſtStores" is "trustStores").
      const folded = foldJsonKey(key);
      field = fields.find((f) => foldJsonKey(f) === folded);
    }
    if (field !== undefined) fn(field, value);
  }
}

function decodeString(v: unknown): string {
  if (v === null) return '';
  if (typeof v !== 'string') throw new Malformed();
  return v;
}

function decodeStringList(v: unknown): string[] | undefined {
  if (v === null) return undefined;
  if (!Array.isArray(v)) throw new Malformed();
  return v.map((e) => decodeString(e));
}

function decodeStringMap(v: unknown): Record<string, string> | undefined {
  if (v === null) return undefined;
  if (!isPlainObject(v)) throw new Malformed();
  const out: Record<string, string> = {};
  for (const key of Object.keys(v)) {
    if (v[key] === undefined) continue;
    // Go map keys are exact; a JSON null element becomes the zero value.
    Object.defineProperty(out, key, { value: decodeString(v[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function decodeSignatureVerification(v: unknown, target: MutableStatement['signatureVerification']): void {
  if (v === null) return;
  if (!isPlainObject(v)) throw new Malformed();
  forEachField(v, ['level', 'override', 'verifyTimestamp'], (field, value) => {
    if (field === 'level') target.level = decodeString(value);
    else if (field === 'override') target.override = decodeStringMap(value);
    else target.verifyTimestamp = decodeString(value);
  });
}

function decodeStatement(v: unknown): MutableStatement {
  const st: MutableStatement = { name: '', signatureVerification: { level: '' } };
  if (v === null) return st;
  if (!isPlainObject(v)) throw new Malformed();
  forEachField(v, ['name', 'signatureVerification', 'trustStores', 'trustedIdentities', 'registryScopes'], (field, value) => {
    switch (field) {
      case 'name': st.name = decodeString(value); break;
      case 'signatureVerification':
        st.signatureVerification = { level: '' };
        decodeSignatureVerification(value, st.signatureVerification);
        break;
      case 'trustStores': st.trustStores = decodeStringList(value); break;
      case 'trustedIdentities': st.trustedIdentities = decodeStringList(value); break;
      default: st.registryScopes = decodeStringList(value); break;
    }
  });
  return st;
}

function decodeDocument(v: unknown): MutableDocument {
  const doc: MutableDocument = { version: '' };
  if (v === null) return doc;
  if (!isPlainObject(v)) throw new Malformed();
  forEachField(v, ['version', 'trustPolicies'], (field, value) => {
    if (field === 'version') {
      doc.version = decodeString(value);
    } else {
      if (value === null) {
        doc.trustPolicies = undefined;
      } else {
        if (!Array.isArray(value)) throw new Malformed();
        doc.trustPolicies = value.map((s) => decodeStatement(s));
      }
    }
  });
  return doc;
}

export function decode(input: unknown): MutableDocument {
  if (input === undefined || input === null) {
    throw invalid('oci trust policy document cannot be nil');
  }
  let raw: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    // Strict parse (src/verifier/json): grammar errors keep notation's message; keys that Go's decoder
    // would merge ("trustPolicies" and "TrustPolicies", at any depth), invalid UTF-8 and lone
    // surrogates are rejected with the reason.
    raw = parseStrictJson(input, (message, reason) => invalid(reason === 'syntax' ? MALFORMED : `${MALFORMED} (${message})`));
  } else {
    // An object handed in directly (construct props, handler config): JS keeps case variants apart,
    // Go would not, so the same rule applies.
    const collision = findFoldedKeyCollision(input);
    if (collision) throw invalid(`${MALFORMED} (${collision})`);
  }
  try {
    return decodeDocument(raw);
  } catch (e) {
    if (e instanceof Malformed) throw invalid(MALFORMED);
    throw e;
  }
}
