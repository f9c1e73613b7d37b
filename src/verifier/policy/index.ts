/**
 * Trust policies (notation's `trustpolicy.oci.json`): the model, parsing and validation, statement
 * selection, verification levels, trust store references, and the hook's exemption globs.
 */
export { parseTrustPolicy, policyFingerprint, validateTrustPolicy } from './document';
export { canonicalExemption, globToRegExp, matchExemption } from './exemptions';
export { checkActions } from './levels';
export {
  TRUST_POLICY_LINK, VERIFICATION_LEVELS, WILDCARD, X509_SUBJECT,
} from './model';
export type {
  NotationPolicyStatement, NotationTrustPolicy, OverridableCheck, SignatureVerificationSettings, TrustStoreRef, VerifyTimestampOption,
} from './model';
export { selectStatement } from './select';
export { parseTrustStoreRef, trustStoreNames } from './trust-store-ref';
export { registryScopeError } from './validate';
