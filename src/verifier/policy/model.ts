/**
 * The trust policy's model (`trustpolicy.oci.json`, notary-verification.md §1 level table, §9.2): the
 * parsed document's types, notation's constants and the verification-level table.
 *
 * The engine's names are `NotationTrustPolicy` / `NotationPolicyStatement` (notation's JSON shape, as
 * parsed and validated); the construct's `TrustPolicy` / `TrustPolicyStatement` (src/trust-policy.ts)
 * build one.
 */
import { ConfigurationError } from '../errors';
import { CheckAction, CheckName, TrustStoreTypeName, VerificationLevelName } from '../types';

export type OverridableCheck = 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type VerifyTimestampOption = 'always' | 'afterCertExpiry';

export interface SignatureVerificationSettings {
  readonly level: VerificationLevelName;
  readonly override?: Partial<Record<OverridableCheck, CheckAction>>;
  readonly verifyTimestamp?: VerifyTimestampOption;
}

/** One statement of a parsed, validated notation trust policy. */
export interface NotationPolicyStatement {
  readonly name: string;
  readonly registryScopes: string[];
  readonly signatureVerification: SignatureVerificationSettings;
  readonly trustStores?: string[];
  readonly trustedIdentities?: string[];
}

/** A parsed, validated notation trust policy (`trustpolicy.oci.json`). */
export interface NotationTrustPolicy {
  readonly version: '1.0';
  readonly trustPolicies: NotationPolicyStatement[];
}

export interface TrustStoreRef {
  readonly type: TrustStoreTypeName;
  readonly name: string;
}

/** Tutorial link notation appends to several policy errors. */
export const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';
export const WILDCARD = '*';
export const X509_SUBJECT = 'x509.subject';

export const SUPPORTED_VERSIONS = ['1.0'];
export const CHECK_NAMES: readonly CheckName[] = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'];
export const CHECK_ACTIONS: readonly CheckAction[] = ['enforce', 'log', 'skip'];
export const MALFORMED = `malformed trust policy. To create a trust policy, see: ${TRUST_POLICY_LINK}`;

/** The built-in verification levels (notation-go `LevelStrict` ...). */
export const VERIFICATION_LEVELS: Readonly<Record<VerificationLevelName, Readonly<Record<CheckName, CheckAction>>>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};

export function invalid(message: string): ConfigurationError {
  return new ConfigurationError('INVALID_TRUST_POLICY', message);
}

/** Go's `strings.Cut`. */
export function cut(s: string, sep: string): [string, string, boolean] {
  const i = s.indexOf(sep);
  if (i < 0) return [s, '', false];
  return [s.slice(0, i), s.slice(i + sep.length), true];
}
