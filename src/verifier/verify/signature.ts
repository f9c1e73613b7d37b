/**
 * One signature, every check in notation's order: integrity (envelope, plugin, critical attributes),
 * authenticity and trusted identity, expiry, authentic timestamp, revocation, and last the target
 * descriptor and user metadata. Each check's action (enforce / log / skip) comes from the statement.
 */
import { verifyEnvelopeIntegrity } from '../envelope';
import { VerifierError } from '../errors';
import { ArtifactSource } from '../registry/source';
import { AWS_SIGNER_PLUGIN_ID, SIGNER_PROFILE_VERSION_ATTRIBUTE } from '../signer';
import { CheckName, CheckResult, Descriptor, SignatureOutcome, VerifiedEnvelope } from '../types';
import { checkAuthenticity, envelopeAttribute, leafSubject } from './authenticity';
import { SignatureCheckContext } from './context';
import { checkCriticalAttributes, checkPlugin, checkTarget } from './integrity';
import { checkSignatureRevocation } from './revocation';
import { checkExpiry, checkTimestamp } from './timestamp';

type Outcome = Omit<SignatureOutcome, 'verified' | 'checks' | 'error'>;

/** Runs every check on one signature; returns its outcome (never throws). */
export async function verifySignature(source: ArtifactSource, sigDesc: Descriptor, ctx: SignatureCheckContext): Promise<SignatureOutcome> {
  const checks: CheckResult[] = [];
  let envelope: VerifiedEnvelope;
  let mediaType: string | undefined;
  try {
    const artifact = await source.fetchSignature(sigDesc);
    mediaType = artifact.envelopeMediaType;
    envelope = verifyEnvelopeIntegrity(artifact.envelopeMediaType, artifact.envelope);
    checkPlugin(envelope);
    checkCriticalAttributes(envelope);
    checks.push({ check: 'integrity', action: 'enforce', passed: true });
  } catch (e) {
    const err = ctx.env.toError(e, sigDesc.digest);
    if (err.kind === 'failed') checks.push({ check: 'integrity', action: 'enforce', passed: false, reason: err.message, code: err.code });
    return { signatureDigest: sigDesc.digest, envelopeMediaType: mediaType, verified: false, checks, error: err.toJSON() };
  }

  const isSigner = envelope.verificationPlugin === AWS_SIGNER_PLUGIN_ID;
  const outcome: Outcome = {
    signatureDigest: sigDesc.digest,
    envelopeMediaType: mediaType,
    signer: isSigner ? envelopeAttribute(envelope, SIGNER_PROFILE_VERSION_ATTRIBUTE) : leafSubject(envelope),
    signingScheme: envelope.signingScheme,
    signingTime: (envelope.authenticSigningTime ?? envelope.signingTime)?.toISOString(),
  };
  const env = envelope;
  const steps: Array<[CheckName, () => Promise<void> | void]> = [
    ['authenticity', () => checkAuthenticity(env, ctx, isSigner)],
    ['expiry', () => checkExpiry(env, ctx.env.now())],
    ['authenticTimestamp', () => checkTimestamp(env, ctx)],
    ['revocation', () => checkSignatureRevocation(env, ctx.env, isSigner)],
  ];
  for (const [check, run] of steps) {
    const failed = await runCheck(check, run, ctx, sigDesc, checks);
    if (failed) return { ...outcome, verified: false, checks, error: failed.toJSON() };
  }
  try {
    checkTarget(env, ctx.target, ctx.env.options.userMetadata);
  } catch (e) {
    const err = ctx.env.toError(e, sigDesc.digest);
    checks.push({ check: 'integrity', action: 'enforce', passed: false, reason: err.message, code: err.code });
    return { ...outcome, verified: false, checks, error: err.toJSON() };
  }
  return { ...outcome, verified: true, checks };
}

/**
 * Runs one check under its action and records the result. Returns the error that ends this signature:
 * an enforced failure, or a configuration error unless the statement only audits; a logged failure is
 * recorded and warned about, and the next check runs.
 */
async function runCheck(
  check: CheckName, run: () => Promise<void> | void, ctx: SignatureCheckContext, sigDesc: Descriptor, checks: CheckResult[],
): Promise<VerifierError | undefined> {
  const action = ctx.actions[check];
  if (action === 'skip') return undefined;
  try {
    await run();
    checks.push({ check, action, passed: true });
    return undefined;
  } catch (e) {
    const err = ctx.env.toError(e, sigDesc.digest);
    checks.push({ check, action, passed: false, reason: err.message, code: err.code });
    if (err.kind === 'configuration' && ctx.statement.signatureVerification.level !== 'audit') return err;
    if (action === 'enforce') return err;
    ctx.env.logger.warn(`${check} check failed (logged only): ${err.message}`, { signature: sigDesc.digest });
    return undefined;
  }
}
