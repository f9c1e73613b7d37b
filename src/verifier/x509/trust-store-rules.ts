/**
 * The one rule for what a trust store may hold, applied by the runtime loader (truststore.ts) and by the
 * construct's synth-time check (`TrustStore.fromPem`), so both accept and refuse the same certificates.
 *
 * notation-go `verifier/truststore`:
 * - every store (`ValidateCertificates`): each certificate is a CA (basicConstraints cA=true) or
 *   self-signed (its signature verifies with its own key);
 * - `tsa` stores additionally (`isRootCACertificate`): each certificate is a root CA, i.e. Go's
 *   `cert.CheckSignatureFrom(cert)` succeeds (a v3 certificate needs basicConstraints cA=true, a non-empty
 *   key usage needs keyCertSign, SHA-1/MD5 signatures are refused) and its issuer equals its subject.
 */
import { CertificateInfo } from './certificate';
import { bytesEqual } from './der';
import { checkSignature, checkSignatureFrom } from './signature';
import { goQuote } from '../text/go-quote';

/** Which rule a trust-store certificate breaks. */
export type TrustStoreRule = 'caOrSelfSigned' | 'rootCa';

export interface TrustStoreCertificateProblem {
  readonly rule: TrustStoreRule;
  /** The certificate's subject as Go prints it. */
  readonly subject: string;
  /** notation's message: `certificate with subject "…" is not …`. */
  readonly message: string;
  /** For `rootCa`: why the certificate is not a root CA (Go's error, or issuer/subject mismatch). */
  readonly detail?: string;
}

/** notation-go `ValidateCertificates` for one certificate: a CA or self-signed. */
export function caOrSelfSignedProblem(c: CertificateInfo): TrustStoreCertificateProblem | undefined {
  const isCa = c.basicConstraints.present && c.basicConstraints.ca;
  if (isCa || checkSignature(c, c.signatureAlgorithm, c.tbs, c.signature, true) === undefined) return undefined;
  return {
    rule: 'caOrSelfSigned',
    subject: c.subject,
    message: `certificate with subject ${goQuote(c.subject)} is not a CA certificate or self-signed signing certificate`,
  };
}

/** notation-go `isRootCACertificate` (required of every certificate of a `tsa` store). */
export function rootCaProblem(c: CertificateInfo): TrustStoreCertificateProblem | undefined {
  const detail = checkSignatureFrom(c, c)
    ?? (bytesEqual(c.subjectRaw, c.issuerRaw) ? undefined : `issuer (${c.issuer}) and subject (${c.subject}) are not the same`);
  if (detail === undefined) return undefined;
  return { rule: 'rootCa', subject: c.subject, message: `certificate with subject ${goQuote(c.subject)} is not a root CA certificate: ${detail}`, detail };
}

/**
 * Whether `cert` may be in a trust store of `type` (`ca`, `signingAuthority` or `tsa`): undefined when it
 * may, else the first rule it breaks (the rule for every store first, then the `tsa` root-CA rule).
 */
export function checkTrustStoreCertificate(type: string, cert: CertificateInfo): TrustStoreCertificateProblem | undefined {
  return caOrSelfSignedProblem(cert) ?? (type === 'tsa' ? rootCaProblem(cert) : undefined);
}
