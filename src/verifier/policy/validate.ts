/**
 * Trust policy validation: every rule of notation-go `OCIDocument.Validate`, in notation's order and
 * with its messages (notaryproject/notation-go @ a48f2283, `verifier/trustpolicy/{trustpolicy,oci}.go`).
 */
import { canonicalScope } from '../reference';
import { goQuote } from '../text/go-quote';
import { TRUST_STORE_NAME_PATTERN, TRUST_STORE_TYPES } from '../types';
import { MutableDocument, MutableStatement } from './decode';
import { resolveLevel } from './levels';
import { cut, SUPPORTED_VERSIONS, WILDCARD, X509_SUBJECT } from './model';
import { isDnSubset, parseDistinguishedName } from '../x509/dn';

function validateTrustStores(name: string, stores: readonly string[]): string | undefined {
  for (const store of stores) {
    const [type, storeName, found] = cut(store, ':');
    if (!found) {
      return `trust policy statement ${goQuote(name)} has malformed trust store value ${goQuote(store)}. The required format is <TrustStoreType>:<TrustStoreName>`;
    }
    if (!(TRUST_STORE_TYPES as readonly string[]).includes(type)) {
      return `trust policy statement ${goQuote(name)} uses an unsupported trust store type ${goQuote(type)} in trust store value ${goQuote(store)}`;
    }
    if (!TRUST_STORE_NAME_PATTERN.test(storeName)) {
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
export function validateDocument(doc: MutableDocument): string | undefined {
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
