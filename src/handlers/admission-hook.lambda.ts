/**
 * ECS deployment lifecycle hook (PRE_SCALE_UP): verifies every container image of the target service
 * revision and answers `{ hookStatus }`.
 *
 * `handler` = read the revision → verify every image → {@link decide} (src/handlers/hook-decision.ts,
 * a pure function) → log and answer. Every image is verified in every round: nothing in the event
 * (`hookDetails` is configured by whoever may edit the service) can make the hook skip an image. The
 * progress it carries in `hookDetails` (round, signature-wait start), bound to the revision and the
 * deployment, can only make it stricter.
 *
 * - ENFORCE: FAILED when any image is rejected; on inconclusive verdicts FAILED unless
 *   `inconclusiveAction` is ADMIT (fail closed by default); an image never verified (out of time
 *   after the last round) is FAILED whatever `inconclusiveAction` says.
 * - A container without `imageDigest` (ECS version consistency off) is refused in ENFORCE unless the
 *   config says `unpinnedImages: VERIFY_CURRENT_DIGEST` (then the tag's current digest is verified,
 *   every round, with a warning). AUDIT verifies and reports it (`unpinned: true`).
 * - AUDIT: always SUCCEEDED, even when the configuration cannot be read (the mode then comes from the
 *   `ADMISSION_MODE` environment variable); rejections are logged and counted.
 * - Always answers before the Lambda timeout: IN_PROGRESS with a `callBackDelay` when the work does
 *   not fit; in-flight verifications are aborted once the answer is decided.
 * - ENFORCE, image without any signature yet (ECR managed signing signs a few seconds after the
 *   push): IN_PROGRESS while `signatureWaitSeconds` lasts, then FAILED. Other rejections fail at once.
 */
import {
  DEFAULT_CALL_BACK_DELAY_SECONDS, DEFAULT_DEADLINE_MARGIN_MS, DEFAULT_MAX_IN_PROGRESS_ROUNDS, DEFAULT_SIGNATURE_WAIT_SECONDS, ENV, HANDLER_NAME,
  UnpinnedImagePolicy,
} from './config';
import { reportConfigurationError } from './config-error';
import {
  decide, Decision, HookResponse, HookStatus, DecisionImage, ImageState, isUnsignedYet, maxRoundsFor, readProgress, signatureWaitState,
} from './hook-decision';
import {
  beforeDeadline, Deadline, ecsClient, errorText, getRuntime, ImageResult, isAdmitted, LambdaContext, loadEcs, mapBounded, Metrics, pinImage,
  regionOf, Runtime,
} from './runtime';
import { VerificationInconclusiveError } from '../verifier';

export type { HookResponse, HookStatus } from './hook-decision';
export { PROGRESS_KEY } from './hook-decision';


const HANDLER = HANDLER_NAME.ADMISSION_HOOK;

interface ContainerImage {
  readonly containerName?: string;
  readonly image?: string;
  readonly imageDigest?: string;
}


/** The revision's container images. Throws {@link VerificationInconclusiveError} (`AWS_API`) when it cannot tell. */
async function describeRevision(arn: string): Promise<ContainerImage[]> {
  let out: any;
  try {
    const { DescribeServiceRevisionsCommand } = await loadEcs();
    const client = await ecsClient(regionOf(arn));
    out = await client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [arn] }));
  } catch (e) {
    throw new VerificationInconclusiveError('AWS_API', `DescribeServiceRevisions failed for ${arn}: ${errorText(e)}`, { cause: e });
  }
  const revisions = Array.isArray(out?.serviceRevisions) ? out.serviceRevisions : [];
  const revision = revisions.find((r: any) => r?.serviceRevisionArn === arn);
  if (!revision) {
    const f = Array.isArray(out?.failures) ? out.failures[0] : undefined;
    throw new VerificationInconclusiveError('AWS_API',
      `DescribeServiceRevisions returned no revision for ${arn}${f ? `: ${f.reason ?? ''} ${f.detail ?? ''}`.trimEnd() : ''}`);
  }
  if (!Array.isArray(revision.containerImages) || revision.containerImages.length === 0) {
    throw new VerificationInconclusiveError('AWS_API', `service revision ${arn} lists no containerImages`);
  }
  return revision.containerImages;
}

interface ParsedEvent {
  readonly revisionArn: string;
  readonly hookDetails: unknown;
  readonly stage?: string;
  readonly deployment?: string;
}

function parseEvent(event: any): ParsedEvent | { error: string } {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return { error: 'event is not a JSON object' };
  const details = event.executionDetails;
  if (details !== undefined && (typeof details !== 'object' || details === null)) return { error: 'executionDetails is not an object' };
  // Current shape: executionDetails.targetServiceRevisionArn; older documentation showed it flat.
  const revisionArn = details?.targetServiceRevisionArn ?? event.targetServiceRevisionArn;
  if (typeof revisionArn !== 'string' || !/^arn:[^:]+:ecs:[^:]*:[^:]*:service-revision\/.+/.test(revisionArn)) {
    return { error: `targetServiceRevisionArn is missing or not a service-revision ARN: ${JSON.stringify(revisionArn ?? null)}` };
  }
  const deployment = event.resourceArn;
  if (deployment !== undefined && typeof deployment !== 'string') return { error: 'resourceArn is not a string' };
  return { revisionArn, hookDetails: event.hookDetails, stage: typeof event.lifecycleStage === 'string' ? event.lifecycleStage : undefined, deployment };
}

export async function handler(event: unknown, context?: LambdaContext): Promise<HookResponse> {
  let rt: Runtime;
  try {
    rt = getRuntime(HANDLER);
  } catch (e) {
    // Without a configuration nothing can be verified. The construct sets the mode in the
    // environment too: AUDIT never blocks; anything else (ENFORCE, unset, garbage) fails closed.
    const mode = process.env[ENV.ADMISSION_MODE];
    const hookStatus: HookStatus = mode === 'AUDIT' ? 'SUCCEEDED' : 'FAILED';
    reportConfigurationError({
      handler: HANDLER, error: e, functionName: context?.functionName, data: { mode: mode ?? null, hookStatus, requestId: context?.awsRequestId },
    });
    return { hookStatus };
  }
  // One abort signal per invocation: once the answer is decided, no verification keeps running.
  const abort = new AbortController();
  try {
    return await rt.withMetrics(context, async (metrics) => {
      try {
        return await run(rt, event, context, metrics, abort.signal);
      } catch (e) {
        // Counted like any answer (the catch below gives it): the EMF record is written when this returns.
        metrics.hookAnswer(rt.mode === 'AUDIT' ? 'SUCCEEDED' : 'FAILED');
        throw e;
      }
    });
  } catch (e) {
    // A bug, not a verdict: AUDIT never blocks, ENFORCE fails closed (a throw would roll back in AUDIT too).
    const hookStatus: HookStatus = rt.mode === 'AUDIT' ? 'SUCCEEDED' : 'FAILED';
    rt.logger.error('unexpected error in the admission hook', { error: errorText(e), stack: (e as Error)?.stack, hookStatus, requestId: context?.awsRequestId });
    return { hookStatus };
  } finally {
    abort.abort();
  }
}

function unpinnedPolicyOf(rt: Runtime): UnpinnedImagePolicy {
  // Anything but the explicit opt-in is the default (fail closed).
  return rt.config.unpinnedImages === 'VERIFY_CURRENT_DIGEST' ? 'VERIFY_CURRENT_DIGEST' : 'REJECT';
}

interface Target {
  readonly image: string;
  readonly container?: string;
  readonly unpinned: boolean;
}

async function run(rt: Runtime, event: unknown, context: LambdaContext | undefined, metrics: Metrics, signal: AbortSignal): Promise<HookResponse> {
  const mode = rt.mode;
  const parsed = parseEvent(event);
  if ('error' in parsed) {
    const hookStatus: HookStatus = mode === 'ENFORCE' ? 'FAILED' : 'SUCCEEDED';
    rt.logger.error('malformed lifecycle hook event', { reason: parsed.error, mode, hookStatus, event: truncate(event) });
    metrics.hookAnswer(hookStatus);
    return { hookStatus };
  }
  const log = rt.logger.child({
    requestId: context?.awsRequestId, serviceRevision: parsed.revisionArn, lifecycleStage: parsed.stage, deployment: parsed.deployment, mode,
  });
  const deadline = new Deadline(context, rt.config.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS);
  const callBackDelaySeconds = rt.config.callBackDelaySeconds ?? DEFAULT_CALL_BACK_DELAY_SECONDS;
  const signatureWaitSeconds = mode === 'ENFORCE' ? (rt.config.signatureWaitSeconds ?? DEFAULT_SIGNATURE_WAIT_SECONDS) : 0;
  const maxRounds = maxRoundsFor(rt.config.maxInProgressRounds, signatureWaitSeconds, callBackDelaySeconds, DEFAULT_MAX_IN_PROGRESS_ROUNDS);
  const unpinnedPolicy = unpinnedPolicyOf(rt);
  const reading = readProgress(parsed.hookDetails, { revision: parsed.revisionArn, deployment: parsed.deployment }, Date.now(), maxRounds);
  if (reading.ignored) {
    log.warn('ignoring the progress in hookDetails: only progress this hook wrote for this revision and deployment counts, and it never admits an image',
      { reason: reading.ignored });
  }
  const settings = {
    mode,
    inconclusiveAction: rt.inconclusiveAction,
    signatureWaitSeconds,
    callBackDelaySeconds,
    maxRounds,
    progress: reading.progress,
    passThrough: reading.passThrough,
  };
  const answer = (decision: Decision, summary: Record<string, unknown>, results: readonly ImageResult[] = []): HookResponse => {
    if (decision.final) {
      for (const r of results) metrics.record(r);
    }
    const hookStatus = decision.response.hookStatus;
    metrics.hookAnswer(hookStatus, decision.wait?.mayWait === true);
    const level = hookStatus === 'FAILED' ? 'WARN' : hookStatus === 'IN_PROGRESS' ? 'INFO' : (decision.reasons.some((r) => !r.startsWith('every image')) ? 'WARN' : 'INFO');
    const message = hookStatus === 'IN_PROGRESS' ? (decision.wait?.mayWait ? 'waiting for signature' : 'answering IN_PROGRESS') : `admission decision: ${hookStatus}`;
    const waitInfo = decision.wait
      ? {
        signatureWaitStartedAt: decision.wait.startedAt,
        waitedSeconds: decision.wait.waitedSeconds,
        signatureWaitSeconds: decision.wait.signatureWaitSeconds,
      }
      : {};
    const gaveUp = decision.final ? decision.reasons.find((r) => r.startsWith('no signature appeared:')) : undefined;
    if (gaveUp) {
      log.warn(gaveUp.slice(0, gaveUp.lastIndexOf('): ') + 1), { ...waitInfo, unsigned: summary.unsigned, round: reading.progress.round, maxInProgressRounds: maxRounds });
    }
    log.log(level, message, {
      ...summary,
      ...waitInfo,
      hookStatus,
      reasons: decision.reasons,
      round: reading.progress.round,
      maxInProgressRounds: maxRounds,
      inconclusiveAction: rt.inconclusiveAction,
      ...(decision.next ? { callBackDelay: callBackDelaySeconds } : {}),
    });
    return decision.response;
  };

  let images: ContainerImage[] | undefined;
  try {
    images = await beforeDeadline(describeRevision(parsed.revisionArn), deadline);
  } catch (e) {
    const decision = decide({ ...settings, revision: 'unreadable', images: [], malformed: [], now: Date.now() });
    if (decision.final) metrics.inconclusive();
    log.error('cannot read the service revision; verification is inconclusive', { error: errorText(e), hookStatus: decision.response.hookStatus, inconclusiveAction: rt.inconclusiveAction });
    return answer(decision, {});
  }
  if (images === undefined) {
    const decision = decide({ ...settings, revision: 'out-of-time', images: [], malformed: [], now: Date.now() });
    if (decision.final) metrics.inconclusive();
    log.warn('out of time reading the service revision', { hookStatus: decision.response.hookStatus });
    return answer(decision, {});
  }

  const targets: Target[] = [];
  const malformed: string[] = [];
  const unpinnedRefused: DecisionImage[] = [];
  for (const ci of images) {
    const container = typeof ci?.containerName === 'string' ? ci.containerName : undefined;
    if (typeof ci?.image !== 'string' || ci.image.length === 0) {
      malformed.push(container ?? '(unnamed)');
      continue;
    }
    const digest = typeof ci.imageDigest === 'string' && ci.imageDigest.length > 0 ? ci.imageDigest : undefined;
    if (digest) {
      targets.push({ image: pinImage(ci.image, digest), container, unpinned: false });
      continue;
    }
    // Tag only: ECS version consistency is off for this container. Exemptions still apply (an exempt
    // image is admitted without verification, pinned or not).
    const exempt = rt.exemptionFor(ci.image) !== undefined;
    if (unpinnedPolicy === 'REJECT' && !exempt) {
      const reason = `container ${JSON.stringify(container ?? '(unnamed)')} names image ${JSON.stringify(ci.image)} without a digest in the service revision, `
        + 'so the image tasks will run cannot be pinned: enable ECS version consistency for the container, or pin the image with @sha256:<digest> in the task definition';
      unpinnedRefused.push({ image: ci.image, container, state: 'unpinned', reason });
      if (mode === 'ENFORCE') {
        // Refused without verification: one verdict record, counted as Rejected.
        log.warn('verdict', { image: ci.image, outcome: 'rejected', status: 'failed', errorCode: 'UNPINNED_IMAGE', unpinned: true, reasons: [reason], container, durationMs: 0 });
        continue;
      }
      // AUDIT reports what the tag names now, marked as unpinned.
      log.warn('imageDigest is missing from the service revision: the image is not pinned', { image: ci.image, container, reason });
    } else if (!exempt) {
      log.warn('imageDigest is missing from the service revision: verifying the digest the tag names now (unpinnedImages VERIFY_CURRENT_DIGEST; tasks started later may pull another image)',
        { image: ci.image, container });
    }
    targets.push({ image: ci.image, container, unpinned: true });
  }
  if (malformed.length > 0) log.error('service revision lists containers without an image', { containers: malformed });

  // While a signature may still appear, an unsigned image does not stop the others: a definitive
  // rejection among them must fail the deployment now, not after the wait.
  const mayWaitAtStart = signatureWaitState({ ...settings, now: Date.now() }).mayWait;
  const refusedAlready = mode === 'ENFORCE' && unpinnedRefused.length > 0;
  const stopEarly = (r: ImageResult) => mode === 'ENFORCE' && r.outcome === 'rejected' && !(mayWaitAtStart && isUnsignedYet(r));
  const todo = refusedAlready ? [] : targets;
  const results = await mapBounded(todo,
    rt.concurrency,
    (t) => rt.verifyImage(t.image, {
      requestId: context?.awsRequestId, container: t.container, serviceRevision: parsed.revisionArn, mode, ...(t.unpinned ? { unpinned: true } : {}),
    }, { signal }),
    { deadline, stop: stopEarly });

  const outcomes: DecisionImage[] = [];
  const done: ImageResult[] = [];
  let stopped = false;
  todo.forEach((t, i) => {
    const r = results[i];
    if (r === undefined) {
      outcomes.push({ image: t.image, container: t.container, state: 'unfinished' });
      return;
    }
    done.push(r);
    if (stopEarly(r)) stopped = true;
    const refusedUnpinned = t.unpinned && unpinnedRefused.some((u) => u.image === t.image && u.container === t.container);
    outcomes.push(refusedUnpinned ? unpinnedRefused.find((u) => u.image === t.image && u.container === t.container)! : decisionImageOf(t, r));
  });
  if (refusedAlready) outcomes.push(...unpinnedRefused);
  // Images not started because a definitive rejection stopped the round are irrelevant: FAILED anyway.
  const relevant = stopped ? outcomes.filter((o) => o.state !== 'unfinished') : outcomes;

  const decision = decide({ ...settings, images: relevant, malformed, now: Date.now() });
  if (decision.final) {
    for (const _ of malformed) metrics.inconclusive();
    if (mode === 'ENFORCE') for (const _ of unpinnedRefused) metrics.count('rejected');
    for (const o of relevant) if (o.state === 'unfinished') metrics.inconclusive();
  }
  const admitted = done.filter((r) => isAdmitted(r.outcome))
    .map((r) => (r.verdict?.digest ? pinImage(r.image, r.verdict.digest) : r.image));
  const byState = (s: ImageState) => relevant.filter((o) => o.state === s).map((o) => o.image);
  const summary = {
    images: targets.length + malformed.length + (refusedAlready ? unpinnedRefused.length : 0),
    verified: done.filter((r) => r.outcome === 'verified').length,
    admitted,
    rejected: [...byState('rejected'), ...byState('no-signature-yet')],
    unpinned: byState('unpinned'),
    unsigned: byState('no-signature-yet'),
    inconclusive: byState('inconclusive'),
    unfinished: byState('unfinished'),
    malformed,
    exempt: done.filter((r) => r.outcome === 'exempt').length,
  };
  return answer(decision, summary, done);
}

function decisionImageOf(t: Target, r: ImageResult): DecisionImage {
  const base = { image: r.image, container: t.container };
  switch (r.outcome) {
    case 'verified': case 'exempt': case 'skipped':
      return { ...base, state: r.outcome };
    case 'inconclusive':
      return { ...base, state: 'inconclusive', reason: r.verdict?.error?.message };
    default:
      return { ...base, state: isUnsignedYet(r) ? 'no-signature-yet' : 'rejected', reason: r.verdict?.error?.message ?? r.verdict?.reasons[0] };
  }
}

function truncate(v: unknown): unknown {
  try {
    const s = JSON.stringify(v);
    return s !== undefined && s.length > 2000 ? s.slice(0, 2000) + '…' : v;
  } catch {
    return String(v);
  }
}
