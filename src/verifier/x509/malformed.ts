import { VerificationFailedError } from '../errors';

/** Go's `x509: malformed certificate: …` as the engine's typed failure. */
export function malformedCertificate(detail: string): never {
  throw new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', `x509: malformed certificate: ${detail}`);
}
