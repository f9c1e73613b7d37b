/**
 * Distinguished names for `x509.subject:` trusted identities (notary-verification.md §9.2, §9.3),
 * following notation-go `internal/pkix` on top of an RFC 4514 parser that behaves like go-ldap's
 * `ParseDN` (escapes `\,` `\+` `\\` `\ ` … and `\XX` hex pairs; unescaped leading/trailing spaces of a
 * value dropped; `,` or `;` separate RDNs, `+` joins a multi-valued RDN).
 */
import { ConfigurationError } from '../errors';
import { goQuote } from '../text/go-quote';

export interface DnAttribute {
  readonly type: string;
  readonly value: string;
}

/** Parsed RDNs in string order; each RDN is a list of attributes (length > 1 = multi-valued). */
export type ParsedDn = DnAttribute[][];

const SPECIAL = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);

/** A go-ldap-like RFC 4514 syntax error (callers wrap it with notation's wording). */
function syntaxError(message: string): ConfigurationError {
  return new ConfigurationError('INVALID_TRUST_POLICY', message);
}

/** The byte an escape at `bytes[i]` (a backslash, then a special character or two hex digits) stands for, and how many bytes follow the backslash. */
function readEscape(bytes: Uint8Array, i: number): { byte: number; length: number } {
  if (i + 1 >= bytes.length) throw syntaxError('got corrupted escaped character');
  if (SPECIAL.has(String.fromCharCode(bytes[i + 1]))) return { byte: bytes[i + 1], length: 1 };
  if (i + 2 >= bytes.length) throw syntaxError('got corrupted escaped character');
  const hex = String.fromCharCode(bytes[i + 1], bytes[i + 2]);
  if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw syntaxError(`failed to decode escaped character: invalid hex ${JSON.stringify(hex)}`);
  return { byte: parseInt(hex, 16), length: 2 };
}

/**
 * Low-level RFC 4514 parse (no notation rules). Throws ConfigurationError('INVALID_TRUST_POLICY') with
 * a go-ldap-like message (a certificate subject that does not parse is simply not matched by callers).
 */
export function parseRfc4514(str: string): ParsedDn {
  const rdns: ParsedDn = [];
  let rdn: DnAttribute[] = [];
  let buf: number[] = [];
  let type: string | undefined;
  let trailingSpaces = 0;
  const bytes = Buffer.from(str, 'utf8');
  const take = () => {
    const b = buf.slice(0, buf.length - trailingSpaces);
    buf = [];
    trailingSpaces = 0;
    return Buffer.from(b).toString('utf8');
  };
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i];
    const c = String.fromCharCode(ch);
    if (c === '\\') {
      trailingSpaces = 0;
      const esc = readEscape(bytes, i);
      buf.push(esc.byte);
      i += esc.length;
      continue;
    }
    if (c === '=' && type === undefined) {
      type = take();
      if (type === '') throw syntaxError('incomplete type, value pair');
      if (bytes[i + 1] === 0x23 /* # */) {
        // BER-encoded value: notation rejects `=#` before parsing; refuse here too.
        throw syntaxError('BER-encoded (#) attribute values are not supported');
      }
      continue;
    }
    if (c === ',' || c === '+' || c === ';') {
      if (type === undefined) throw syntaxError('incomplete type, value pair');
      rdn.push({ type, value: take() });
      type = undefined;
      if (c !== '+') {
        rdns.push(rdn);
        rdn = [];
      }
      continue;
    }
    if (c === ' ' && buf.length === 0) continue;
    trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
    buf.push(ch);
  }
  if (buf.length > 0) {
    if (type === undefined) throw syntaxError('DN ended with incomplete type, value pair');
    rdn.push({ type, value: take() });
    rdns.push(rdn);
  } else if (rdn.length > 0) {
    rdns.push(rdn);
  }
  return rdns;
}

function dnError(message: string): never {
  throw new ConfigurationError('INVALID_TRUST_POLICY', message);
}

/** `S` is an alias of `ST`. */
function normaliseType(t: string): string {
  return t === 'S' ? 'ST' : t;
}

/**
 * notation-go `pkix.ParseDistinguishedName`: RFC 4514 DN with mandatory C, ST (or S) and O, no
 * multi-valued RDNs, no duplicate attribute types, no `=#`. Returns type -> value (`S` normalised to `ST`).
 * Throws ConfigurationError('INVALID_TRUST_POLICY').
 */
export function parseDistinguishedName(name: string): Map<string, string> {
  if (name.includes('=#')) {
    dnError(`unsupported distinguished name (DN) ${goQuote(name)}: notation does not support x509.subject identities containing "=#"`);
  }
  let rdns: ParsedDn;
  try {
    rdns = parseRfc4514(name);
  } catch (e) {
    dnError(`parsing distinguished name (DN) ${goQuote(name)} failed with err: ${(e as Error).message}. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`);
  }
  const out = new Map<string, string>();
  for (const rdn of rdns) {
    if (rdn.length > 1) {
      dnError(`distinguished name (DN) ${goQuote(name)} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported`);
    }
    for (const a of rdn) {
      const t = normaliseType(a.type);
      if ((out.get(t) ?? '') === '') {
        out.set(t, a.value);
      } else {
        dnError(`distinguished name (DN) ${goQuote(name)} has duplicate RDN attribute for ${goQuote(t)}, DN can only have unique RDN attributes`);
      }
    }
  }
  for (const f of ['C', 'ST', 'O']) {
    if ((out.get(f) ?? '') === '') {
      dnError(`distinguished name (DN) ${goQuote(name)} has no mandatory RDN attribute for ${goQuote(f)}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum`);
    }
  }
  return out;
}

/** Throws ConfigurationError if `dn` is not a valid notation x509.subject DN. */
export function validateDistinguishedName(dn: string): void {
  parseDistinguishedName(dn);
}

/** notation-go `IsSubsetDN`: every attribute of `a` has an equal (case-sensitive) value in `b`. */
export function isDnSubset(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  for (const [k, v] of a) {
    if ((b.get(k) ?? '') !== v) return false;
  }
  return true;
}

/** Alias of {@link isDnSubset}. */
export const isSubset = isDnSubset;

/** True when either DN is a subset of the other (notation's "overlapping" identities). */
export function dnOverlaps(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return isDnSubset(a, b) || isDnSubset(b, a);
}
