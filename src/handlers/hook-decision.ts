/**
 * The admission hook's decision, as a pure function of what one invocation found: no I/O, no clock
 * (the time is an input), no configuration loading. `admission-hook.lambda.ts` reads the service
 * revision, verifies every image, calls {@link decide} and answers what it returns.
 *
 * Nothing in the event can make the hook admit: every image of the revision is verified in every
 * round (a verdict-cache hit costs microseconds), and the only state carried between rounds in
 * `hookDetails` ({@link HookProgress}) can only make the hook stricter (an earlier signature-wait
 * start, a higher round count). Progress is bound to the service revision and the deployment it was
 * written for; anything else under the progress key is ignored.
 */
import type { HandlerMode, InconclusivePolicy } from './config';

export type HookStatus = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';

export interface HookResponse {
  readonly hookStatus: HookStatus;
  readonly callBackDelay?: number;
  readonly hookDetails?: Record<string, unknown>;
}

/** Key of this handler's progress inside `hookDetails`. */
export const PROGRESS_KEY = 'cdkSignedImages';

/** Format of {@link HookProgress} (version 1 carried an `admitted` list and is never read). */
export const PROGRESS_VERSION = 2;

/** Clock skew tolerated between invocations when reading a signature-wait start, in milliseconds. */
export const CLOCK_SKEW_MS = 5000;

/**
 * What the hook carries from one IN_PROGRESS round to the next. Only what makes it stricter: never a
 * list of admitted images.
 */
export interface HookProgress {
  readonly v: typeof PROGRESS_VERSION;
  /** Service revision ARN the progress was written for. */
  readonly revision: string;
  /** Service deployment ARN (`resourceArn` of the event) the progress was written for, when the event has one. */
  readonly deployment?: string;
  /** IN_PROGRESS rounds answered so far. */
  readonly round: number;
  /** When the hook started waiting for a signature to appear (ISO 8601). */
  readonly signatureWaitStartedAt?: string;
}

/** What a progress is bound to: the event's revision and deployment. */
export interface ProgressBinding {
  readonly revision: string;
  readonly deployment?: string;
}

export interface ProgressReading {
  /** The progress to decide with (a fresh one when the event carried none or one that was ignored). */
  readonly progress: HookProgress;
  /** Why the progress found in `hookDetails` was ignored, if it was. */
  readonly ignored?: string;
  /** `hookDetails` entries that are not ours, passed back unchanged in an IN_PROGRESS answer. */
  readonly passThrough: Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads this hook's progress out of the event's `hookDetails`. Progress that is not exactly what
 * {@link decide} wrote for this revision and deployment is ignored (the round starts from 0, the wait
 * from now); a round above `maxRounds` is clamped to it (stricter). Never throws.
 */
export function readProgress(hookDetails: unknown, binding: ProgressBinding, now: number, maxRounds: number): ProgressReading {
  const fresh: HookProgress = {
    v: PROGRESS_VERSION, revision: binding.revision, ...(binding.deployment !== undefined ? { deployment: binding.deployment } : {}), round: 0,
  };
  if (hookDetails === undefined || hookDetails === null) return { progress: fresh, passThrough: {} };
  if (!isPlainObject(hookDetails)) {
    return { progress: fresh, passThrough: {}, ignored: `hookDetails is not a JSON object (${Array.isArray(hookDetails) ? 'array' : typeof hookDetails})` };
  }
  // Our key, and any spelling of it that differs only in case, are never passed through.
  const passThrough: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(hookDetails)) {
    if (k.toLowerCase() !== PROGRESS_KEY.toLowerCase()) passThrough[k] = v;
  }
  if (!Object.prototype.hasOwnProperty.call(hookDetails, PROGRESS_KEY)) {
    const variant = Object.keys(hookDetails).find((k) => k.toLowerCase() === PROGRESS_KEY.toLowerCase());
    return { progress: fresh, passThrough, ...(variant !== undefined ? { ignored: `"${variant}" is not the progress key` } : {}) };
  }
  const p = hookDetails[PROGRESS_KEY];
  const ignore = (why: string): ProgressReading => ({ progress: fresh, passThrough, ignored: why });
  if (!isPlainObject(p)) return ignore(`progress is not a JSON object (${p === null ? 'null' : Array.isArray(p) ? 'array' : typeof p})`);
  if (p.v !== PROGRESS_VERSION) {
    return ignore('admitted' in p ? 'progress lists "admitted" images, which this hook never honours' : `progress version ${JSON.stringify(p.v ?? null)} is not ${PROGRESS_VERSION}`);
  }
  if (p.revision !== binding.revision) return ignore(`progress belongs to another service revision (${JSON.stringify(p.revision ?? null)})`);
  if ((p.deployment ?? undefined) !== binding.deployment) return ignore(`progress belongs to another deployment (${JSON.stringify(p.deployment ?? null)})`);
  if (typeof p.round !== 'number' || !Number.isSafeInteger(p.round) || p.round < 0) return ignore(`progress round ${JSON.stringify(p.round ?? null)} is not a non-negative integer`);
  let waitStarted: string | undefined;
  if (p.signatureWaitStartedAt !== undefined) {
    const t = typeof p.signatureWaitStartedAt === 'string' ? Date.parse(p.signatureWaitStartedAt) : NaN;
    if (Number.isNaN(t)) return ignore(`signatureWaitStartedAt ${JSON.stringify(p.signatureWaitStartedAt)} is not a time`);
    if (t > now + CLOCK_SKEW_MS) return ignore(`signatureWaitStartedAt ${JSON.stringify(p.signatureWaitStartedAt)} is in the future`);
    waitStarted = new Date(Math.min(t, now)).toISOString();
  }
  const extra = Object.keys(p).filter((k) => !['v', 'revision', 'deployment', 'round', 'signatureWaitStartedAt'].includes(k));
  if (extra.length > 0) return ignore(`progress has unknown fields (${extra.join(', ')})`);
  return {
    progress: { ...fresh, round: Math.min(p.round, Math.max(0, maxRounds)), ...(waitStarted ? { signatureWaitStartedAt: waitStarted } : {}) },
    passThrough,
  };
}

/**
 * Where one image stands after this round:
 * - `verified`, `exempt` (exemption pattern), `skipped` (`skip` policy level): admissible;
 * - `rejected`: a definitive rejection (bad, untrusted, revoked… signature);
 * - `no-signature-yet`: rejected only because no signature exists (yet): may be waited for;
 * - `inconclusive`: the registry or an AWS API could not answer;
 * - `unpinned`: the revision names the image by tag only and the hook does not verify tags;
 * - `unfinished`: not verified before the invocation ran out of time (the runtime's `unfinished` outcome).
 */
export type ImageState = 'verified' | 'exempt' | 'skipped' | 'rejected' | 'no-signature-yet' | 'inconclusive' | 'unpinned' | 'unfinished';

/** What {@link isUnsignedYet} reads of a per-image result (the runtime's `ImageResult`). */
export interface UnsignedYetInput {
  readonly outcome: string;
  readonly verdict?: { readonly status: string; readonly error?: { readonly code?: string } };
}

/**
 * True for a result whose only problem is that the image has no signature (yet): the one rejection
 * the ECS hook (IN_PROGRESS rounds) and the EKS webhook (re-verification inside the call) wait for,
 * state `no-signature-yet`. Every other rejection is final at once.
 */
export function isUnsignedYet(r: UnsignedYetInput): boolean {
  return r.outcome === 'rejected' && r.verdict?.status === 'failed' && r.verdict.error?.code === 'NO_SIGNATURE';
}

/** One image as {@link decide} sees it (not to be confused with the runtime's per-image `Outcome`). */
export interface DecisionImage {
  /** The image as verified (pinned reference, or the tag for an unpinned image). */
  readonly image: string;
  readonly container?: string;
  readonly state: ImageState;
  /** Why, for anything but verified/exempt/skipped. */
  readonly reason?: string;
}

export interface DecisionInput {
  readonly mode: HandlerMode;
  readonly inconclusiveAction: InconclusivePolicy;
  /** Configured signature wait, seconds (AUDIT never waits, whatever this says). */
  readonly signatureWaitSeconds: number;
  readonly callBackDelaySeconds: number;
  /** IN_PROGRESS rounds allowed in total. */
  readonly maxRounds: number;
  /** From {@link readProgress}. */
  readonly progress: HookProgress;
  /** `hookDetails` entries passed back in an IN_PROGRESS answer. */
  readonly passThrough?: Record<string, unknown>;
  /** The revision could not be read (`unreadable`, an inconclusive verdict) or not in time (`out-of-time`). */
  readonly revision?: 'unreadable' | 'out-of-time';
  readonly images: readonly DecisionImage[];
  /** Containers listed without an image (counted as inconclusive). */
  readonly malformed: readonly string[];
  /** The time, in milliseconds since the epoch. */
  readonly now: number;
}

export interface SignatureWait {
  /** When the wait started (now, when it starts this round). */
  readonly startedAt: string;
  readonly waitedSeconds: number;
  readonly signatureWaitSeconds: number;
  /** One more IN_PROGRESS round fits in the wait budget and the round limit. */
  readonly mayWait: boolean;
}

export interface Decision {
  readonly response: HookResponse;
  /** The progress carried to the next round (IN_PROGRESS answers only). */
  readonly next?: HookProgress;
  /** True when the answer is SUCCEEDED or FAILED (results are counted on final answers only). */
  readonly final: boolean;
  /** Why the hook answers what it answers, one sentence each. */
  readonly reasons: string[];
  /** Present when some image has no signature yet (ENFORCE with a signature wait). */
  readonly wait?: SignatureWait;
}

/** The IN_PROGRESS rounds allowed: explicit, else `floor` or as many as the signature wait needs. */
export function maxRoundsFor(explicit: number | undefined, signatureWaitSeconds: number, callBackDelaySeconds: number, floor: number): number {
  if (explicit !== undefined && Number.isSafeInteger(explicit) && explicit >= 0) return explicit;
  const waitRounds = signatureWaitSeconds > 0 ? Math.ceil(signatureWaitSeconds / Math.max(1, callBackDelaySeconds)) + 1 : 0;
  return Math.max(floor, waitRounds);
}

/** What {@link signatureWaitState} reads. */
export type WaitInput = Pick<DecisionInput, 'mode' | 'signatureWaitSeconds' | 'callBackDelaySeconds' | 'maxRounds' | 'progress' | 'now'>;

/** Where the signature wait stands at `now`. Only ENFORCE waits. */
export function signatureWaitState(input: WaitInput): SignatureWait {
  const waitSeconds = input.mode === 'ENFORCE' ? Math.max(0, input.signatureWaitSeconds) : 0;
  const startedAt = input.progress.signatureWaitStartedAt;
  const started = startedAt !== undefined ? Math.min(input.now, Date.parse(startedAt)) : input.now;
  const waitedMs = input.now - started;
  const canContinue = input.progress.round < input.maxRounds;
  // Never wait past the budget: the next invocation comes `callBackDelay` later.
  const mayWait = waitSeconds > 0 && canContinue && waitedMs + input.callBackDelaySeconds * 1000 <= waitSeconds * 1000;
  return { startedAt: new Date(started).toISOString(), waitedSeconds: Math.round(waitedMs / 1000), signatureWaitSeconds: waitSeconds, mayWait };
}

function list(images: readonly DecisionImage[]): string {
  return images.map((i) => (i.container ? `${i.container} (${i.image})` : i.image)).join(', ');
}

/** The answer of one invocation. */
export function decide(input: DecisionInput): Decision {
  const { mode, progress } = input;
  const enforce = mode === 'ENFORCE';
  const canContinue = progress.round < input.maxRounds;
  const of = (state: ImageState) => input.images.filter((i) => i.state === state);
  const rejected = of('rejected');
  const unpinned = of('unpinned');
  const noSignature = of('no-signature-yet');
  const inconclusive = of('inconclusive');
  const notVerified = of('unfinished');
  const reasons: string[] = [];
  const final = (hookStatus: 'SUCCEEDED' | 'FAILED'): Decision => ({ response: { hookStatus }, final: true, reasons });
  const inProgress = (signatureWaitStartedAt = progress.signatureWaitStartedAt, wait?: SignatureWait): Decision => {
    const next: HookProgress = { ...progress, round: progress.round + 1, ...(signatureWaitStartedAt ? { signatureWaitStartedAt } : {}) };
    return {
      response: { hookStatus: 'IN_PROGRESS', callBackDelay: input.callBackDelaySeconds, hookDetails: { ...(input.passThrough ?? {}), [PROGRESS_KEY]: next } },
      next,
      final: false,
      reasons,
      ...(wait ? { wait } : {}),
    };
  };

  // What is wrong, whatever the mode.
  if (rejected.length > 0) reasons.push(`rejected: ${list(rejected)}`);
  if (unpinned.length > 0) reasons.push(`not pinned to a digest: ${list(unpinned)}`);
  if (input.revision === 'unreadable') reasons.push('the service revision could not be read (inconclusive)');
  if (inconclusive.length > 0) reasons.push(`inconclusive: ${list(inconclusive)}`);
  if (input.malformed.length > 0) reasons.push(`containers without an image (inconclusive): ${input.malformed.join(', ')}`);
  const anyInconclusive = input.revision === 'unreadable' || inconclusive.length > 0 || input.malformed.length > 0;
  const unfinished = input.revision === 'out-of-time' || notVerified.length > 0;

  if (!enforce) {
    // AUDIT never blocks and never waits for a signature; it only takes more rounds to finish verifying.
    if (noSignature.length > 0) reasons.push(`no signature: ${list(noSignature)}`);
    if (unfinished && canContinue) {
      reasons.push('out of time before every image was verified');
      return inProgress();
    }
    if (unfinished) reasons.push(`left unverified after ${progress.round} IN_PROGRESS rounds (audit admits)`);
    if (reasons.length === 0) reasons.push('every image verified or exempt');
    return final('SUCCEEDED');
  }

  // ENFORCE. A definitive rejection fails at once.
  if (rejected.length > 0 || unpinned.length > 0) return final('FAILED');
  // The outcome is FAILED whatever the rest does: answer now.
  if (anyInconclusive && input.inconclusiveAction === 'REJECT') {
    reasons.push('inconclusiveAction REJECT');
    return final('FAILED');
  }
  if (noSignature.length > 0) {
    const wait = signatureWaitState(input);
    if (wait.mayWait) {
      reasons.push(`waiting for a signature: ${list(noSignature)}`);
      return inProgress(wait.startedAt, wait);
    }
    const why = wait.signatureWaitSeconds === 0 ? 'signature wait disabled'
      : canContinue ? `signatureWaitSeconds ${wait.signatureWaitSeconds}` : `IN_PROGRESS rounds exhausted (${input.maxRounds})`;
    reasons.push(`no signature appeared: waited ${wait.waitedSeconds} s (${why}): ${list(noSignature)}`);
    return { ...final('FAILED'), wait };
  }
  if (unfinished) {
    if (canContinue) {
      reasons.push('out of time before every image was verified');
      return inProgress();
    }
    // Never admitted, whatever inconclusiveAction says: an image nobody verified is not "inconclusive".
    reasons.push(`left unverified after ${progress.round} IN_PROGRESS rounds: ${notVerified.length > 0 ? list(notVerified) : 'the service revision'}`);
    return final('FAILED');
  }
  if (anyInconclusive) {
    reasons.push('inconclusiveAction ADMIT');
    return final('SUCCEEDED');
  }
  reasons.push('every image verified or exempt');
  return final('SUCCEEDED');
}
