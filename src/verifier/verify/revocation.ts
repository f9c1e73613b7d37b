/**
 * Revocation of one signature: AWS Signer's GetRevocationStatus for Signer envelopes, OCSP/CRL for plain
 * X.509 chains (notary-verification.md §1 step 6), and the verdict of a revocation answer.
 */
import { VerificationFailedError, VerificationInconclusiveError } from '../errors';
import { checkSignerRevocation } from '../signer';
import { VerifiedEnvelope } from '../types';
import { VerifierEnvironment } from './context';
import { parseCertificate } from '../x509/certificate';
import { checkRevocation } from '../x509/revocation';

export async function checkSignatureRevocation(env: VerifiedEnvelope, engine: VerifierEnvironment, isSigner: boolean): Promise<void> {
  if (isSigner) {
    await checkSignerProfileRevocation(env, engine);
    return;
  }
  const chain = env.certificateChain.map((c) => parseCertificate(c));
  throwOnRevocation(await checkRevocation(chain, { ...engine.options.x509Revocation, signingTime: env.authenticSigningTime, now: engine.now }));
}

async function checkSignerProfileRevocation(env: VerifiedEnvelope, engine: VerifierEnvironment): Promise<void> {
  const client = engine.options.signerClient;
  if (!client) {
    throw new VerificationInconclusiveError('AWS_API', 'GetRevocationStatus call failed with error: no AWS Signer client is configured');
  }
  const ms = engine.options.awsApiTimeoutMs ?? 5000;
  const r = await checkSignerRevocation({ getRevocationStatus: (input) => withTimeout(client.getRevocationStatus(input), ms) }, env);
  if (!r.passed) {
    // A 2xx answer of the wrong shape is a failed revocation check (enforced per the statement's
    // revocation action), not a transport failure.
    if (r.malformed) throw new VerificationFailedError('REVOCATION_UNKNOWN', r.reason ?? 'malformed GetRevocationStatus answer');
    if (r.inconclusive) throw new VerificationInconclusiveError('AWS_API', r.reason ?? 'revocation status unknown');
    throw new VerificationFailedError('REVOKED', r.reason ?? 'revoked');
  }
}

/** Turns an OCSP/CRL answer into a typed error: revoked fails; only a transport failure is inconclusive. */
export function throwOnRevocation(r: { status: string; reason?: string; transient?: boolean }): void {
  if (r.status === 'revoked') throw new VerificationFailedError('REVOKED', r.reason ?? 'signing certificate is revoked');
  if (r.status === 'unknown') {
    // Only transport failures (unreachable, timeout, non-200, tryLater) are inconclusive; an invalid or
    // definitive answer (bad signature, expired, unparsable, status unknown) is a failed check.
    const reason = r.reason ?? 'revocation status is unknown';
    if (r.transient === true) throw new VerificationInconclusiveError('REVOCATION_UNKNOWN', reason);
    throw new VerificationFailedError('REVOCATION_UNKNOWN', reason);
  }
}

/** Rejects when `promise` does not settle within `ms` (the timer never keeps the process alive). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new VerificationInconclusiveError('TIMEOUT', `timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
