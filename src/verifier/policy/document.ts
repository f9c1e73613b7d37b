/**
 * OCI trust policy (`trustpolicy.oci.json`): parse and validate a document, and fingerprint it.
 *
 * Behaviour follows notaryproject/notation-go @ a48f2283 (`verifier/trustpolicy/{trustpolicy,oci}.go`):
 * rule order and error texts are notation's (decode.ts, validate.ts).
 */
import { createHash } from 'crypto';
import { CheckAction, VerificationLevelName } from '../types';
import { decode, MutableDocument } from './decode';
import { invalid, NotationPolicyStatement, NotationTrustPolicy, OverridableCheck, SignatureVerificationSettings, VerifyTimestampOption } from './model';
import { validateDocument } from './validate';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function toDocument(doc: MutableDocument): NotationTrustPolicy {
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
      const out: Mutable<NotationPolicyStatement> = {
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
export function parseTrustPolicy(input: string | unknown): NotationTrustPolicy {
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
export function validateTrustPolicy(doc: NotationTrustPolicy): void {
  parseTrustPolicy(doc);
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
export function policyFingerprint(doc: NotationTrustPolicy): string {
  return createHash('sha256').update(canonicalJson(doc), 'utf8').digest('hex');
}
