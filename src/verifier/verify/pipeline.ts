/**
 * The verification of one resolved image under its statement: discover its signatures, verify each in
 * turn until one passes (src/verifier/verify/signature.ts), check the platform manifests of an index when
 * asked, and turn the outcomes into a verdict. Never throws for a per-image problem.
 */
import { toVerifierError, VerificationFailedError, VerificationInconclusiveError, VerifierError } from '../errors';
import { checkActions } from '../policy';
import { parseIndexManifests } from '../registry/source';
import { Descriptor, MEDIA_TYPE, SignatureOutcome, Verdict, VerdictStatus } from '../types';
import { elapsed, errorVerdict, reasonsOf, VerificationContext } from './context';
import { verifySignature } from './signature';

/** The image being verified: its descriptor and manifest bytes. */
export interface ResolvedImage {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

interface SignatureSearch {
  readonly signatures: SignatureOutcome[];
  /** The first signature that passed every check. */
  readonly winner?: SignatureOutcome;
  /** Why the search has no definitive answer (a signature's or the listing's inconclusive error). */
  readonly inconclusive?: VerifierError;
  /** A listing failure that fails the image outright. */
  readonly failed?: VerifierError;
}

/**
 * Verifies `image` under `ctx.statement`. `discovery` is a signature listing already under way (started
 * while the manifest was fetched); without it the image's signatures are listed now.
 */
export async function verifyImage(ctx: VerificationContext, image: ResolvedImage, discovery?: AsyncIterable<Descriptor>): Promise<Verdict> {
  const { statement, reference, started } = ctx;
  const target = image.descriptor;
  const level = statement.signatureVerification.level;
  const base = { reference, digest: target.digest, mediaType: target.mediaType, policyStatement: statement.name, level };
  const search = await searchSignatures(ctx, target, discovery ?? ctx.source.listSignatures(target));
  const { signatures, winner, inconclusive } = search;
  if (search.failed) {
    return { ...base, status: 'failed', verified: false, signatures, reasons: [search.failed.message], error: search.failed.toJSON(), durationMs: elapsed(started) };
  }
  if (winner) {
    const platforms = ctx.env.options.requirePlatformSignatures && isIndex(target.mediaType) ? await verifyPlatforms(ctx, image.bytes) : undefined;
    const verified = { ...base, signer: winner.signer, signatureDigest: winner.signatureDigest, signatures, platforms };
    const failedPlatforms = (platforms ?? []).filter((p) => !p.verified);
    if (failedPlatforms.length > 0) {
      const status: VerdictStatus = failedPlatforms.some((p) => p.status === 'inconclusive') ? 'inconclusive' : 'failed';
      const reasons = failedPlatforms.map((p) => `platform manifest ${p.digest}: ${p.reasons.join('; ')}`);
      return { ...verified, status, verified: false, reasons, durationMs: elapsed(started) };
    }
    return { ...verified, status: 'verified', verified: true, reasons: [], durationMs: elapsed(started) };
  }
  if (inconclusive) {
    return { ...base, status: 'inconclusive', verified: false, signatures, reasons: reasonsOf(signatures, inconclusive), error: inconclusive.toJSON(), durationMs: elapsed(started) };
  }
  if (signatures.length === 0) {
    const err = new VerificationFailedError('NO_SIGNATURE', `no signature is associated with "${reference}", make sure the artifact was signed successfully`);
    return { ...base, status: 'failed', verified: false, signatures, reasons: [err.message], error: err.toJSON(), durationMs: elapsed(started) };
  }
  const first = signatures.find((s) => s.error)?.error;
  return { ...base, status: 'failed', verified: false, signatures, reasons: reasonsOf(signatures), error: first, durationMs: elapsed(started) };
}

/** Tries the listed signatures in order until one verifies, `maxSignatures` were tried, or the verification is aborted. */
async function searchSignatures(ctx: VerificationContext, target: Descriptor, listing: AsyncIterable<Descriptor>): Promise<SignatureSearch> {
  const { env, reference } = ctx;
  const checkCtx = { env, statement: ctx.statement, actions: checkActions(ctx.statement), target };
  const signatures: SignatureOutcome[] = [];
  let inconclusive: VerifierError | undefined;
  try {
    let tried = 0;
    for await (const sigDesc of listing) {
      if (tried >= env.maxSignatures) {
        env.logger.warn(`stopped after ${env.maxSignatures} signatures (maxSignatures)`, { reference });
        break;
      }
      if (ctx.signal?.aborted) {
        // deadline or abandoned: not every signature was tried, so no definitive answer
        inconclusive = new VerificationInconclusiveError('TIMEOUT', `verification of ${reference} stopped before every signature was tried`);
        break;
      }
      tried++;
      const outcome = await verifySignature(ctx.source, sigDesc, checkCtx);
      signatures.push(outcome);
      if (outcome.verified) return { signatures, winner: outcome, inconclusive };
      if (outcome.error?.kind === 'inconclusive' && !inconclusive) {
        inconclusive = new VerificationInconclusiveError(outcome.error.code as any, outcome.error.message);
      }
    }
  } catch (e) {
    const err = env.toError(e, reference);
    if (err.kind === 'failed') return { signatures, failed: err };
    inconclusive = inconclusive ?? err;
  }
  return { signatures, inconclusive };
}

/** Every platform manifest of the index `indexBytes` verified as an image of its own (same statement and source). */
async function verifyPlatforms(ctx: VerificationContext, indexBytes: Uint8Array): Promise<Verdict[]> {
  const { reference, started } = ctx;
  let manifests: Descriptor[];
  try {
    // Strict parse with descriptor validation: a malformed index or one with duplicate / case-variant
    // keys is a failed platform check, never "no platforms to check".
    manifests = parseIndexManifests(indexBytes, 'image index').manifests;
  } catch (e) {
    return [errorVerdict(reference, toVerifierError(e), started)];
  }
  const out: Verdict[] = [];
  for (const m of manifests) {
    const platformRef = `${reference.split('@')[0]}@${m.digest}`;
    try {
      const bytes = await ctx.source.fetchManifest(m);
      const descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
      out.push(await verifyImage({ ...ctx, reference: platformRef, signal: undefined }, { descriptor, bytes }));
    } catch (e) {
      out.push(errorVerdict(platformRef, ctx.env.toError(e, platformRef), started));
    }
  }
  return out;
}

function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.OCI_INDEX || mediaType === MEDIA_TYPE.DOCKER_MANIFEST_LIST;
}
