/**
 * Expiry and authentic timestamp of one signature (notary-verification.md §1 steps 4-5, §8).
 */
import { VerificationFailedError } from '../errors';
import { trustStoreNames } from '../policy';
import { SignatureCheckContext } from './context';
import { rfc1123z } from '../text/go-time';
import { VerifiedEnvelope } from '../types';
import { throwOnRevocation } from './revocation';
import { parseCertificate } from '../x509/certificate';
import { checkValidityAt } from '../x509/chain';
import { checkRevocation } from '../x509/revocation';
import { verifyAuthenticTimestamp } from '../x509/timestamp';

export function checkExpiry(env: VerifiedEnvelope, now: Date): void {
  if (env.expiry && now.getTime() >= env.expiry.getTime()) {
    throw new VerificationFailedError('SIGNATURE_EXPIRED', `digital signature has expired on "${rfc1123z(env.expiry)}"`);
  }
}

/**
 * signingAuthority: every chain certificate valid at the authentic signing time. notary.x509: an
 * RFC 3161 countersignature checked against the policy's `tsa` stores when one is configured and
 * `verifyTimestamp` asks for it (always, or afterCertExpiry with an expired chain certificate);
 * otherwise every chain certificate must be valid now (notary-verification.md §8).
 */
export async function checkTimestamp(env: VerifiedEnvelope, ctx: SignatureCheckContext): Promise<void> {
  const chain = env.certificateChain.map((c) => parseCertificate(c));
  if (env.signingScheme === 'notary.x509.signingAuthority') {
    checkValidityAt(chain, env.authenticSigningTime!, 'signing');
    return;
  }
  const engine = ctx.env;
  const now = engine.now();
  const tsaStores = trustStoreNames(ctx.statement, 'tsa');
  const when = ctx.statement.signatureVerification.verifyTimestamp ?? 'always';
  const run = tsaStores.length > 0 && (when === 'always' || chain.some((c) => c.notAfter.getTime() < now.getTime()));
  if (!run) {
    checkValidityAt(chain, now, 'now');
    return;
  }
  if (!env.timestampToken) {
    throw new VerificationFailedError('INVALID_TIMESTAMP', 'no timestamp countersignature was found in the signature envelope');
  }
  const tsaRoots = [];
  for (const name of tsaStores) tsaRoots.push(...await engine.options.trustStores.getCertificates('tsa', name));
  if (tsaRoots.length === 0) throw new VerificationFailedError('INVALID_TIMESTAMP', 'no trusted TSA certificate found in trust store');
  const result = verifyAuthenticTimestamp({
    token: env.timestampToken, signature: env.signature, signingTime: env.signingTime, signingChain: chain, tsaRoots,
  });
  // The TSA chain's revocation is checked unless the statement skips revocation altogether.
  if (ctx.actions.revocation !== 'skip') {
    throwOnRevocation(await checkRevocation(result.tsaChain, { ...engine.options.x509Revocation, purpose: 'timestamping', now: engine.now }));
  }
}
