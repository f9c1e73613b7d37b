/**
 * OCI trust policy (`trustpolicy.oci.json`): decoding, validation, statement selection and the
 * per-check actions of a statement (notary-verification.md §1 level table, §9.2).
 *
 * Behaviour follows notaryproject/notation-go @ a48f2283 (`verifier/trustpolicy/{trustpolicy,oci}.go`):
 * rule order and error texts are notation's. Decoding follows Go's `encoding/json` as used by notation
 * (non-strict: unknown keys are ignored, field names match case-insensitively, `null` leaves a field
 * empty, any type mismatch is "malformed trust policy").
 */
import { createHash } from 'crypto';
import { ConfigurationError, VerificationFailedError } from '../errors';
import { findFoldedKeyCollision, foldJsonKey, parseStrictJson } from '../json';
import { canonicalScope } from '../reference';
import { CheckAction, CheckName, VerificationLevelName } from '../types';
import { isDnSubset, parseDistinguishedName } from '../x509/dn';

export type OverridableCheck = 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type VerifyTimestampOption = 'always' | 'afterCertExpiry';
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';

export interface SignatureVerificationSettings {
  readonly level: VerificationLevelName;
  readonly override?: Partial<Record<OverridableCheck, CheckAction>>;
  readonly verifyTimestamp?: VerifyTimestampOption;
}

export interface TrustPolicyStatement {
  readonly name: string;
  readonly registryScopes: string[];
  readonly signatureVerification: SignatureVerificationSettings;
  readonly trustStores?: string[];
  readonly trustedIdentities?: string[];
}

export interface TrustPolicyDocument {
  readonly version: '1.0';
  readonly trustPolicies: TrustPolicyStatement[];
}

export interface TrustStoreRef {
  readonly type: TrustStoreType;
  readonly name: string;
}

/** Tutorial link notation appends to several policy errors. */
export const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';
export const WILDCARD = '*';
export const X509_SUBJECT = 'x509.subject';
export const TRUST_STORE_TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];

const SUPPORTED_VERSIONS = ['1.0'];
const CHECK_NAMES: readonly CheckName[] = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'];
const CHECK_ACTIONS: readonly CheckAction[] = ['enforce', 'log', 'skip'];
const MALFORMED = `malformed trust policy. To create a trust policy, see: ${TRUST_POLICY_LINK}`;

/** The built-in verification levels (notation-go `LevelStrict` ...). */
export const VERIFICATION_LEVELS: Readonly<Record<VerificationLevelName, Readonly<Record<CheckName, CheckAction>>>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};

// ---------------------------------------------------------------------------------------------
// Go-style string quoting (%q), so messages read exactly like notation's.
// ---------------------------------------------------------------------------------------------

/** Go `strconv.Quote`-like quoting (what `%q` prints for a string). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\u0007': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
      default:
        break;
    }
    if (cp < 0x20 || cp === 0x7f) {
      out += '\\x' + cp.toString(16).padStart(2, '0');
    } else if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += cp >= 0xd800 ? '\\ufffd' : '\\u' + cp.toString(16).padStart(4, '0');
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/** `%q` of a Go string slice: `["a" "b"]`. */
function goQuoteList(list: readonly string[]): string {
  return '[' + list.map(goQuote).join(' ') + ']';
}

function invalid(message: string): ConfigurationError {
  return new ConfigurationError('INVALID_TRUST_POLICY', message);
}

// ---------------------------------------------------------------------------------------------
// Decoding (Go encoding/json semantics as used by notation's getDocument)
// ---------------------------------------------------------------------------------------------

interface MutableStatement {
  name: string;
  registryScopes?: string[];
  signatureVerification: { level: string; override?: Record<string, string>; verifyTimestamp?: string };
  trustStores?: string[];
  trustedIdentities?: string[];
}

interface MutableDocument {
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

function decode(input: unknown): MutableDocument {
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

// ---------------------------------------------------------------------------------------------
// Validation (notation-go OCIDocument.Validate)
// ---------------------------------------------------------------------------------------------

interface ResolvedLevel {
  readonly name: VerificationLevelName | 'custom';
  readonly actions: Record<CheckName, CheckAction>;
}

/** notation-go `SignatureVerification.GetVerificationLevel`; returns an error message on failure. */
function resolveLevel(sv: { level: string; override?: Record<string, string> }): ResolvedLevel | string {
  if (sv.level === '') {
    return 'signature verification level is empty or missing in the trust policy statement';
  }
  if (!Object.prototype.hasOwnProperty.call(VERIFICATION_LEVELS, sv.level)) {
    return `invalid signature verification level ${goQuote(sv.level)}`;
  }
  const base = sv.level as VerificationLevelName;
  const actions: Record<CheckName, CheckAction> = { ...VERIFICATION_LEVELS[base] };
  const overrides = sv.override ? Object.keys(sv.override) : [];
  if (overrides.length === 0) return { name: base, actions };
  if (base === 'skip') {
    return `signature verification level ${goQuote(base)} can't be used to customize signature verification`;
  }
  for (const key of overrides) {
    const value = sv.override![key];
    if (!(CHECK_NAMES as readonly string[]).includes(key)) {
      return `verification type ${goQuote(key)} in custom signature verification is not supported, supported values are ${goQuoteList(CHECK_NAMES)}`;
    }
    if (!(CHECK_ACTIONS as readonly string[]).includes(value)) {
      return `verification action ${goQuote(value)} in custom signature verification is not supported, supported values are ${goQuoteList(CHECK_ACTIONS)}`;
    }
    if (key === 'integrity') {
      return `${goQuote(key)} verification can not be overridden in custom signature verification`;
    }
    if (key !== 'revocation' && value === 'skip') {
      return `${goQuote(key)} verification can not be skipped in custom signature verification`;
    }
    actions[key as CheckName] = value as CheckAction;
  }
  return { name: 'custom', actions };
}

const TRUST_STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

function cut(s: string, sep: string): [string, string, boolean] {
  const i = s.indexOf(sep);
  if (i < 0) return [s, '', false];
  return [s.slice(0, i), s.slice(i + sep.length), true];
}

function validateTrustStores(name: string, stores: readonly string[]): string | undefined {
  for (const store of stores) {
    const [type, storeName, found] = cut(store, ':');
    if (!found) {
      return `trust policy statement ${goQuote(name)} has malformed trust store value ${goQuote(store)}. The required format is <TrustStoreType>:<TrustStoreName>`;
    }
    if (!(TRUST_STORE_TYPES as readonly string[]).includes(type)) {
      return `trust policy statement ${goQuote(name)} uses an unsupported trust store type ${goQuote(type)} in trust store value ${goQuote(store)}`;
    }
    if (!TRUST_STORE_NAME.test(storeName)) {
      return `trust policy statement ${goQuote(name)} uses an unsupported trust store name ${goQuote(storeName)} in trust store value ${goQuote(store)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format`;
    }
  }
  return undefined;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function validateTrustedIdentities(name: string, identities: readonly string[]): string | undefined {
  if (identities.length > 1 && identities.includes(WILDCARD)) {
    return `trust policy statement ${goQuote(name)} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`;
  }
  const parsed: Array<{ raw: string; dn: ReturnType<typeof parseDistinguishedName> }> = [];
  for (const identity of identities) {
    if (identity === '') {
      return `trust policy statement ${goQuote(name)} has an empty trusted identity`;
    }
    if (identity === WILDCARD) continue;
    const [prefix, value, found] = cut(identity, ':');
    if (!found) {
      return `trust policy statement ${goQuote(name)} has trusted identity ${goQuote(identity)} missing separator`;
    }
    if (prefix !== X509_SUBJECT) continue; // other prefixes (e.g. AWS Signer ARNs) are opaque
    if (value === '') {
      return `trust policy statement ${goQuote(name)} has trusted identity ${goQuote(identity)} without an identity value`;
    }
    let dn: ReturnType<typeof parseDistinguishedName>;
    try {
      dn = parseDistinguishedName(value);
    } catch (e) {
      return `trust policy statement ${goQuote(name)} has trusted identity ${goQuote(identity)} with invalid identity value: ${errorMessage(e)}`;
    }
    parsed.push({ raw: identity, dn });
  }
  for (let i = 0; i < parsed.length; i++) {
    for (let j = 0; j < parsed.length; j++) {
      if (i !== j && isDnSubset(parsed[i].dn, parsed[j].dn)) {
        return `trust policy statement ${goQuote(name)} has overlapping x509 trustedIdentities, ${goQuote(parsed[i].raw)} overlaps with ${goQuote(parsed[j].raw)}`;
      }
    }
  }
  return undefined;
}

/** notation-go `validatePolicyCore`; returns an error message (without the "oci trust policy: " prefix). */
function validatePolicyCore(st: MutableStatement): string | undefined {
  if (st.name === '') {
    return 'a trust policy statement is missing a name, every statement requires a name';
  }
  const level = resolveLevel(st.signatureVerification);
  if (typeof level === 'string') {
    return `trust policy statement ${goQuote(st.name)} has invalid signatureVerification: ${level}`;
  }
  const vt = st.signatureVerification.verifyTimestamp;
  if (vt !== undefined && vt !== '' && vt !== 'always' && vt !== 'afterCertExpiry') {
    return `trust policy statement ${goQuote(st.name)} has invalid signatureVerification: verifyTimestamp must be "always" or "afterCertExpiry", but got ${goQuote(vt)}`;
  }
  const stores = st.trustStores ?? [];
  const identities = st.trustedIdentities ?? [];
  if (level.name === 'skip') {
    if (stores.length > 0 || identities.length > 0) {
      return `trust policy statement ${goQuote(st.name)} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped`;
    }
    return undefined;
  }
  if (stores.length === 0 || identities.length === 0) {
    return `trust policy statement ${goQuote(st.name)} is either missing trust stores or trusted identities, both must be specified`;
  }
  return validateTrustStores(st.name, stores) ?? validateTrustedIdentities(st.name, identities);
}

const SCOPE_HINT = 'make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout';

// Equivalent to distribution's domain / repository regexes as used by notation, written without
// nested quantifiers so that no input can cause catastrophic backtracking.
const DOMAIN_LABEL = /^[a-zA-Z0-9-]+$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

function isValidDomain(domain: string): boolean {
  let host = domain;
  const colon = domain.indexOf(':');
  if (colon >= 0) {
    host = domain.slice(0, colon);
    if (!/^[0-9]+$/.test(domain.slice(colon + 1))) return false;
  }
  if (host === '') return false;
  return host.split('.').every((label) => DOMAIN_LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-'));
}

function isValidRepository(repository: string): boolean {
  return repository.split('/').every((c) => PATH_COMPONENT.test(c));
}

/**
 * notation-go `validateRegistryScopeFormat`: `domain/repository` per the distribution grammar, no
 * scheme, tag, digest or wildcard. Returns an error message, or undefined when valid.
 */
export function registryScopeError(scope: string): string | undefined {
  if (scope.length > 1 && scope.includes('*')) {
    return `registry scope ${goQuote(scope)} with wild card(s) is not valid, ${SCOPE_HINT}`;
  }
  const [domain, repository, found] = cut(scope, '/');
  if (!found || domain === '' || repository === '' || !isValidDomain(domain) || !isValidRepository(repository)) {
    return `registry scope ${goQuote(scope)} is not valid, ${SCOPE_HINT}`;
  }
  return undefined;
}

function validateRegistryScopes(doc: MutableDocument): string | undefined {
  const counts = new Map<string, number>();
  const spelled = new Map<string, string>();
  for (const st of doc.trustPolicies ?? []) {
    const scopes = st.registryScopes ?? [];
    if (scopes.length === 0) {
      return `oci trust policy statement ${goQuote(st.name)} has zero registry scopes, it must specify registry scopes with at least one value`;
    }
    if (scopes.length > 1 && scopes.includes(WILDCARD)) {
      return `oci trust policy statement ${goQuote(st.name)} uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`;
    }
    for (const scope of scopes) {
      if (scope !== WILDCARD) {
        const err = registryScopeError(scope);
        if (err) return err;
      }
      // Counted in canonical form: `LOCALHOST:5000/app` and `localhost:5000/app` (or an ECR
      // registry's standard and FIPS names) are one scope, so two statements cannot claim it
      // (stricter than notation, which compares the strings).
      const key = canonicalScope(scope);
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (!spelled.has(key)) spelled.set(key, scope);
    }
  }
  for (const [key, n] of counts) {
    const scope = spelled.get(key) ?? key;
    if (n > 1) {
      return `registry scope ${goQuote(scope)} is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement`;
    }
  }
  return undefined;
}

/** notation-go `OCIDocument.Validate`; returns the first violated rule's message. */
function validateDocument(doc: MutableDocument): string | undefined {
  if (doc.version === '') {
    return 'oci trust policy document has empty version, version must be specified';
  }
  if (!SUPPORTED_VERSIONS.includes(doc.version)) {
    return `oci trust policy document uses unsupported version ${goQuote(doc.version)}`;
  }
  const statements = doc.trustPolicies ?? [];
  if (statements.length === 0) {
    return 'oci trust policy document can not have zero trust policy statements';
  }
  const names = new Set<string>();
  for (const st of statements) {
    if (names.has(st.name)) {
      return `multiple oci trust policy statements use the same name ${goQuote(st.name)}, statement names must be unique`;
    }
    const err = validatePolicyCore(st);
    if (err) return `oci trust policy: ${err}`;
    names.add(st.name);
  }
  return validateRegistryScopes(doc);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function toDocument(doc: MutableDocument): TrustPolicyDocument {
  return {
    version: doc.version as '1.0',
    trustPolicies: (doc.trustPolicies ?? []).map((st) => {
      const sv: Mutable<SignatureVerificationSettings> = {
        level: st.signatureVerification.level as VerificationLevelName,
      };
      if (st.signatureVerification.override !== undefined) {
        sv.override = { ...st.signatureVerification.override } as Partial<Record<OverridableCheck, CheckAction>>;
      }
      if (st.signatureVerification.verifyTimestamp) {
        sv.verifyTimestamp = st.signatureVerification.verifyTimestamp as VerifyTimestampOption;
      }
      const out: Mutable<TrustPolicyStatement> = {
        name: st.name,
        registryScopes: [...(st.registryScopes ?? [])],
        signatureVerification: sv,
      };
      if (st.trustStores !== undefined) out.trustStores = [...st.trustStores];
      if (st.trustedIdentities !== undefined) out.trustedIdentities = [...st.trustedIdentities];
      return out;
    }),
  };
}

/**
 * Decodes and validates an OCI trust policy (JSON text, UTF-8 bytes, or an already-parsed object).
 * Applies every rule of notation-go `OCIDocument.Validate`, in notation's order and with its messages.
 * Unknown keys are ignored, as notation does. Returns a normalized copy.
 * @throws ConfigurationError `INVALID_TRUST_POLICY`
 */
export function parseTrustPolicy(input: string | unknown): TrustPolicyDocument {
  const doc = decode(input);
  const err = validateDocument(doc);
  if (err) throw invalid(err);
  return toDocument(doc);
}

/**
 * Validates an already-built policy object (same checks as {@link parseTrustPolicy}); identities
 * other than `x509.subject:` (e.g. Signer ARNs containing unresolved placeholders) are opaque.
 * @throws ConfigurationError `INVALID_TRUST_POLICY`
 */
export function validateTrustPolicy(doc: TrustPolicyDocument): void {
  parseTrustPolicy(doc);
}

const canonicalScopes = new WeakMap<TrustPolicyStatement, string[]>();

/** A statement's registry scopes in canonical form (computed once per parsed statement). */
function canonicalScopesOf(st: TrustPolicyStatement): string[] {
  let c = canonicalScopes.get(st);
  if (!c) {
    c = st.registryScopes.map(canonicalScope);
    canonicalScopes.set(st, c);
  }
  return c;
}

/**
 * Selects the statement applying to `scope` (`registry/repository`), both sides compared in their
 * canonical form (`canonicalScope`: host lower-cased, trailing dot and HTTPS default port removed,
 * IP literals normalised, an ECR registry's FIPS / dual-stack names mapped to its standard name).
 * An exact registry scope beats
 * `*`. `reference` (the full artifact reference, `registry/repo@digest`) is only used in the error.
 * @throws VerificationFailedError `NO_APPLICABLE_TRUST_POLICY`
 */
export function selectStatement(doc: TrustPolicyDocument, scope: string, reference?: string): TrustPolicyStatement {
  let wildcard: TrustPolicyStatement | undefined;
  let exact: TrustPolicyStatement | undefined;
  const wanted = canonicalScope(scope);
  for (const st of doc.trustPolicies) {
    if (st.registryScopes.includes(WILDCARD)) wildcard = st;
    else if (canonicalScopesOf(st).includes(wanted)) exact = st;
  }
  const found = exact ?? wildcard;
  if (!found) {
    throw new VerificationFailedError(
      'NO_APPLICABLE_TRUST_POLICY',
      `artifact ${goQuote(reference ?? scope)} has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: ${TRUST_POLICY_LINK}`,
    );
  }
  return found;
}

/**
 * The action of every check for a statement: the level's table with the statement's overrides applied
 * (notation-go `GetVerificationLevel`).
 * @throws ConfigurationError `INVALID_TRUST_POLICY` if the level/overrides are invalid
 */
export function checkActions(statement: TrustPolicyStatement): Record<CheckName, CheckAction> {
  const sv = statement.signatureVerification ?? ({} as SignatureVerificationSettings);
  const level = resolveLevel({
    level: typeof sv.level === 'string' ? sv.level : '',
    override: sv.override as Record<string, string> | undefined,
  });
  if (typeof level === 'string') {
    throw invalid(`trust policy statement ${goQuote(statement.name)} has invalid signatureVerification: ${level}`);
  }
  return level.actions;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(obj[k])).join(',') + '}';
  }
  return JSON.stringify(v) ?? 'null';
}

/** Lowercase hex SHA-256 of the policy's canonical JSON (sorted keys, no whitespace, undefined dropped). */
export function policyFingerprint(doc: TrustPolicyDocument): string {
  return createHash('sha256').update(canonicalJson(doc), 'utf8').digest('hex');
}

/**
 * Parses a trust store reference `<ca|signingAuthority|tsa>:<name>`.
 * @throws ConfigurationError `INVALID_TRUST_POLICY`
 */
export function parseTrustStoreRef(ref: string): TrustStoreRef {
  const [type, name, found] = cut(String(ref), ':');
  if (!found) {
    throw invalid(`malformed trust store value ${goQuote(ref)}. The required format is <TrustStoreType>:<TrustStoreName>`);
  }
  if (!(TRUST_STORE_TYPES as readonly string[]).includes(type)) {
    throw invalid(`unsupported trust store type ${goQuote(type)} in trust store value ${goQuote(ref)}`);
  }
  if (!TRUST_STORE_NAME.test(name)) {
    throw invalid(`unsupported trust store name ${goQuote(name)} in trust store value ${goQuote(ref)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format`);
  }
  return { type: type as TrustStoreType, name };
}
