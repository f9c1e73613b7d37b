/**
 * ECS deployment lifecycle hook (PRE_SCALE_UP): verifies every container image of the target service
 * revision and answers `{ hookStatus }`.
 *
 * - ENFORCE: FAILED when any image is rejected; on inconclusive verdicts FAILED unless
 *   `inconclusiveAction` is ADMIT (fail closed by default).
 * - AUDIT: always SUCCEEDED; rejections are logged and counted.
 * - Always answers before the Lambda timeout: when the work does not fit, IN_PROGRESS with a
 *   `callBackDelay`, carrying the references already verified in `hookDetails` so the next invocation
 *   only verifies the rest.
 * - ENFORCE, image without any signature yet (ECR managed signing signs a few seconds after the
 *   push): IN_PROGRESS while `signatureWaitSeconds` lasts, then FAILED. Other rejections fail at once.
 */
import { HandlerConfig } from './config';
import { getRuntime, LambdaContext, Deadline, beforeDeadline, mapBounded, pinImage, regionOf, ImageResult, Runtime, Metrics } from './runtime';

/* eslint-disable @typescript-eslint/no-require-imports */
/** Lazy `require` (not `await import()`, which Jest's CommonJS VM rejects); the SDK loads on first use. */
const loadEcs = (): Promise<typeof import('@aws-sdk/client-ecs')> => Promise.resolve().then(() => require('@aws-sdk/client-ecs'));
/* eslint-enable @typescript-eslint/no-require-imports */

export type HookStatus = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';

export interface HookResponse {
  readonly hookStatus: HookStatus;
  readonly callBackDelay?: number;
  readonly hookDetails?: Record<string, unknown>;
}

/** Key of this handler's progress inside `hookDetails`. */
export const PROGRESS_KEY = 'cdkSignedImages';

interface Progress {
  /** Images (as verified: pinned reference) already admitted in an earlier round. */
  readonly admitted: string[];
  /** IN_PROGRESS rounds answered so far. */
  readonly round: number;
  /**
   * When the hook started waiting for a signature to appear (ISO 8601): the first invocation that
   * found an image without any signature. Absent when not waiting.
   */
  readonly signatureWaitStartedAt?: string;
}

/** Default of `signatureWaitSeconds`. */
const DEFAULT_SIGNATURE_WAIT_SECONDS = 120;
const DEFAULT_MAX_ROUNDS = 20;

/** True for a verdict whose only problem is that the image has no signature (yet). */
function isUnsignedYet(r: ImageResult): boolean {
  return r.outcome === 'rejected' && r.verdict?.status === 'failed' && r.verdict.error?.code === 'NO_SIGNATURE';
}

/** The IN_PROGRESS rounds allowed: explicit, else 20 or as many as the signature wait needs. */
function maxRoundsOf(config: HandlerConfig, waitSeconds: number, callBackDelay: number): number {
  if (config.maxInProgressRounds !== undefined) return config.maxInProgressRounds;
  const waitRounds = waitSeconds > 0 ? Math.ceil(waitSeconds / Math.max(1, callBackDelay)) + 1 : 0;
  return Math.max(DEFAULT_MAX_ROUNDS, waitRounds);
}

interface ContainerImage {
  readonly containerName?: string;
  readonly image?: string;
  readonly imageDigest?: string;
}

const ecsClients = new Map<string, any>();

async function ecsClient(region: string | undefined): Promise<any> {
  const key = region ?? '';
  let c = ecsClients.get(key);
  if (!c) {
    const { ECSClient } = await loadEcs();
    c = new ECSClient(region ? { region } : {});
    ecsClients.set(key, c);
  }
  return c;
}

async function describeRevision(arn: string): Promise<ContainerImage[]> {
  const { DescribeServiceRevisionsCommand } = await loadEcs();
  const client = await ecsClient(regionOf(arn));
  const out = await client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [arn] }));
  const revision = (out.serviceRevisions ?? []).find((r: any) => r.serviceRevisionArn === arn) ?? out.serviceRevisions?.[0];
  if (!revision) {
    const f = (out.failures ?? [])[0];
    throw new Error(`DescribeServiceRevisions returned no revision for ${arn}${f ? `: ${f.reason ?? ''} ${f.detail ?? ''}`.trimEnd() : ''}`);
  }
  if (!Array.isArray(revision.containerImages) || revision.containerImages.length === 0) {
    throw new Error(`service revision ${arn} lists no containerImages`);
  }
  return revision.containerImages;
}

interface ParsedEvent {
  readonly revisionArn: string;
  readonly progress: Progress;
  readonly hookDetails: Record<string, unknown>;
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
  let hookDetails: any = event.hookDetails ?? {};
  if (typeof hookDetails === 'string') {
    try {
      hookDetails = JSON.parse(hookDetails);
    } catch {
      hookDetails = {};
    }
  }
  if (!hookDetails || typeof hookDetails !== 'object' || Array.isArray(hookDetails)) hookDetails = {};
  const p = hookDetails[PROGRESS_KEY];
  const waitStarted = typeof p?.signatureWaitStartedAt === 'string' && !Number.isNaN(Date.parse(p.signatureWaitStartedAt))
    ? p.signatureWaitStartedAt : undefined;
  const progress: Progress = {
    admitted: Array.isArray(p?.admitted) ? p.admitted.filter((s: unknown) => typeof s === 'string') : [],
    round: Number.isInteger(p?.round) && p.round > 0 ? p.round : 0,
    ...(waitStarted ? { signatureWaitStartedAt: waitStarted } : {}),
  };
  return { revisionArn, progress, hookDetails, stage: event.lifecycleStage, deployment: event.resourceArn };
}

export async function handler(event: unknown, context?: LambdaContext): Promise<HookResponse> {
  let rt: Runtime;
  try {
    rt = getRuntime('admission-hook');
  } catch (e) {
    // Without a configuration nothing can be verified: fail closed (a thrown error would roll back too).
    process.stdout.write(JSON.stringify({ timestamp: new Date().toISOString(), level: 'ERROR', handler: 'admission-hook', message: 'configuration error', error: (e as Error).message }) + '\n');
    return { hookStatus: 'FAILED' };
  }
  return rt.withMetrics(context, (metrics) => run(rt, event, context, metrics));
}

async function run(rt: Runtime, event: unknown, context: LambdaContext | undefined, metrics: Metrics): Promise<HookResponse> {
  const mode = rt.mode;
  const parsed = parseEvent(event);
  if ('error' in parsed) {
    const hookStatus: HookStatus = mode === 'ENFORCE' ? 'FAILED' : 'SUCCEEDED';
    rt.logger.error('malformed lifecycle hook event', { reason: parsed.error, mode, hookStatus, event: truncate(event) });
    return { hookStatus };
  }
  const log = rt.logger.child({
    requestId: context?.awsRequestId, serviceRevision: parsed.revisionArn, lifecycleStage: parsed.stage, deployment: parsed.deployment, mode,
  });
  const deadline = new Deadline(context, rt.config.deadlineMarginMs ?? 3000);
  const callBackDelay = rt.config.callBackDelaySeconds ?? 5;
  const waitSeconds = mode === 'ENFORCE' ? (rt.config.signatureWaitSeconds ?? DEFAULT_SIGNATURE_WAIT_SECONDS) : 0;
  const maxRounds = maxRoundsOf(rt.config, waitSeconds, callBackDelay);
  const inProgress = (admitted: string[], signatureWaitStartedAt = parsed.progress.signatureWaitStartedAt): HookResponse => ({
    hookStatus: 'IN_PROGRESS',
    callBackDelay,
    hookDetails: {
      ...parsed.hookDetails,
      [PROGRESS_KEY]: { admitted, round: parsed.progress.round + 1, ...(signatureWaitStartedAt ? { signatureWaitStartedAt } : {}) },
    },
  });
  const canContinue = parsed.progress.round < maxRounds;
  /** Where the signature wait stands now: started when, waited how long, may it go on for one more round. */
  const waitState = () => {
    const now = Date.now();
    const startedMs = parsed.progress.signatureWaitStartedAt !== undefined ? Math.min(now, Date.parse(parsed.progress.signatureWaitStartedAt)) : now;
    const waitedMs = now - startedMs;
    // Never wait past the budget: the next invocation comes `callBackDelay` later.
    const mayWait = waitSeconds > 0 && canContinue && waitedMs + callBackDelay * 1000 <= waitSeconds * 1000;
    return { startedAt: new Date(startedMs).toISOString(), waitedSeconds: Math.round(waitedMs / 1000), mayWait };
  };

  let images: ContainerImage[] | undefined;
  try {
    images = await beforeDeadline(describeRevision(parsed.revisionArn), deadline);
  } catch (e) {
    metrics.inconclusive();
    const hookStatus = decideInconclusive(rt);
    log.error('cannot read the service revision; verification is inconclusive', { error: errorText(e), hookStatus, inconclusiveAction: rt.inconclusiveAction });
    return { hookStatus };
  }
  if (images === undefined) {
    if (canContinue) {
      log.warn('out of time reading the service revision; answering IN_PROGRESS', { callBackDelay });
      return inProgress(parsed.progress.admitted);
    }
    metrics.inconclusive();
    const hookStatus = decideInconclusive(rt);
    log.error('out of time and IN_PROGRESS rounds reading the service revision', { hookStatus });
    return { hookStatus };
  }

  const targets: Array<{ image: string; container?: string; digestMissing: boolean }> = [];
  const malformed: string[] = [];
  for (const ci of images) {
    if (typeof ci?.image !== 'string' || ci.image.length === 0) {
      malformed.push(ci?.containerName ?? '(unnamed)');
      continue;
    }
    const digest = typeof ci.imageDigest === 'string' && ci.imageDigest.length > 0 ? ci.imageDigest : undefined;
    targets.push({ image: pinImage(ci.image, digest), container: ci.containerName, digestMissing: !digest });
  }
  if (malformed.length > 0) {
    metrics.inconclusive();
    log.error('service revision lists containers without an image', { containers: malformed });
  }
  const alreadyAdmitted = new Set(parsed.progress.admitted);
  const todo = targets.filter((t) => !alreadyAdmitted.has(t.image));
  for (const t of targets) {
    if (alreadyAdmitted.has(t.image)) log.info('image admitted in an earlier round', { image: t.image, container: t.container });
    else if (t.digestMissing) log.warn('imageDigest is missing from the service revision; the tag is resolved through the registry now', { image: t.image, container: t.container });
  }

  // While a signature may still appear, an unsigned image does not stop the others: a definitive
  // rejection among them must fail the deployment now, not after the wait.
  const mayWaitAtStart = waitState().mayWait;
  const stopEarly = (r: ImageResult) => mode === 'ENFORCE' && r.outcome === 'rejected' && !(mayWaitAtStart && isUnsignedYet(r));
  const results = await mapBounded(todo, rt.concurrency,
    (t) => rt.verifyImage(t.image, { requestId: context?.awsRequestId, container: t.container, serviceRevision: parsed.revisionArn, mode }),
    { deadline, stop: stopEarly });

  const done = results.filter((r): r is ImageResult => r !== undefined);
  const rejected = done.filter((r) => r.outcome === 'rejected');
  const inconclusive = done.filter((r) => r.outcome === 'inconclusive');
  const pending = todo.filter((_, i) => results[i] === undefined).map((t) => t.image);
  const admitted = [...parsed.progress.admitted, ...done.filter((r) => r.outcome === 'verified' || r.outcome === 'exempt' || r.outcome === 'skipped').map((r) => r.image)];
  const summary = {
    images: targets.length,
    verified: done.filter((r) => r.outcome === 'verified').length,
    rejected: rejected.map((r) => r.image),
    inconclusive: inconclusive.map((r) => r.image),
    pending,
    exempt: done.filter((r) => r.outcome === 'exempt').length,
    round: parsed.progress.round,
  };

  const unsignedYet = rejected.filter(isUnsignedYet);
  const otherRejected = rejected.filter((r) => !isUnsignedYet(r));
  const otherwiseInconclusive = (inconclusive.length > 0 || malformed.length > 0) && rt.inconclusiveAction === 'REJECT';

  // Every rejection is "no signature yet": wait for the signature while the budget lasts.
  const waitForSignature = mode === 'ENFORCE' && rejected.length > 0 && otherRejected.length === 0 && !otherwiseInconclusive && waitSeconds > 0;
  const w = waitState();
  // Count final results only: an image still waiting for its signature is not Rejected yet (a
  // rejection alarm must not fire on every push).
  for (const r of done) if (!(waitForSignature && w.mayWait && isUnsignedYet(r))) metrics.record(r);

  let hookStatus: HookStatus;
  if (waitForSignature) {
    const unsigned = unsignedYet.map((r) => r.image);
    const waitInfo = { unsigned, signatureWaitStartedAt: w.startedAt, waitedSeconds: w.waitedSeconds, signatureWaitSeconds: waitSeconds };
    if (w.mayWait) {
      log.info('waiting for signature', { ...summary, ...waitInfo, callBackDelay });
      return inProgress(admitted, w.startedAt);
    }
    hookStatus = 'FAILED';
    const why = canContinue ? `signatureWaitSeconds ${waitSeconds}` : `IN_PROGRESS rounds exhausted (${maxRounds})`;
    log.warn(`no signature appeared: waited ${w.waitedSeconds} s (${why})`, { ...waitInfo, round: parsed.progress.round, maxInProgressRounds: maxRounds });
  } else if (mode === 'ENFORCE' && rejected.length > 0) {
    hookStatus = 'FAILED';
  } else if (pending.length > 0 && canContinue) {
    log.warn('out of time before every image was verified; answering IN_PROGRESS', { ...summary, callBackDelay });
    return inProgress(admitted);
  } else {
    if (pending.length > 0) {
      pending.forEach(() => metrics.inconclusive());
      log.error('images left unverified after the last IN_PROGRESS round', { pending });
    }
    const anyInconclusive = inconclusive.length > 0 || pending.length > 0 || malformed.length > 0;
    hookStatus = mode === 'AUDIT' ? 'SUCCEEDED' : (anyInconclusive ? decideInconclusive(rt) : 'SUCCEEDED');
  }
  const level = hookStatus === 'FAILED' || rejected.length > 0 ? 'WARN' : 'INFO';
  log.log(level, `admission decision: ${hookStatus}`, { ...summary, hookStatus, inconclusiveAction: rt.inconclusiveAction });
  return { hookStatus };
}

function decideInconclusive(rt: Runtime): HookStatus {
  if (rt.mode === 'AUDIT') return 'SUCCEEDED';
  return rt.inconclusiveAction === 'ADMIT' ? 'SUCCEEDED' : 'FAILED';
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function truncate(v: unknown): unknown {
  try {
    const s = JSON.stringify(v);
    return s !== undefined && s.length > 2000 ? s.slice(0, 2000) + '…' : v;
  } catch {
    return String(v);
  }
}
