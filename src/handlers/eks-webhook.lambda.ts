/**
 * Amazon EKS admission webhook (mutating and validating), behind a Lambda function URL: a thin
 * adapter over the runtime the ECS admission hook uses (same engine, trust policy, verdict records
 * and EMF metrics), and over the same decision function ({@link decide}). It cannot answer "in
 * progress" (the API server waits at most `timeoutSeconds`): its signature wait is inside the call.
 *
 * Request → answer:
 * 1. Payload-format-2.0 event; the path is `/<secret>/mutate` or `/<secret>/validate`. The secret
 *    (Secrets Manager, cached) is compared in constant time BEFORE anything else: a wrong or missing
 *    secret is answered 403 with no AdmissionReview, no registry call, no configuration read, and a
 *    log line that names neither the path nor the body.
 * 2. The body must be an `admission.k8s.io/v1` AdmissionReview (≤ 4 MiB). Without a usable `uid`
 *    the answer is HTTP 400 (the API server applies the webhook's `failurePolicy`); with one, ENFORCE
 *    refuses and AUDIT admits with a warning.
 * 3. Every image of `containers`, `initContainers` and `ephemeralContainers` of a Pod or of a
 *    workload's pod template is verified.
 *    - mutate: each verified image is replaced by `repository@sha256:<verified digest>` (RFC 6902
 *      `test` + `replace`, so the patch applies only to the image that was verified);
 *    - validate: in ENFORCE an image not pinned by digest is refused (`unpinnedImages` REJECT, the
 *      default) or its tag's current digest is verified (`VERIFY_CURRENT_DIGEST`); pinned images are
 *      verified again (a verdict-cache hit after the mutating call).
 * 4. ENFORCE refuses (HTTP 200, `allowed: false`, `status.message` naming each image and its
 *    reason) on a rejection, on an inconclusive verdict unless `inconclusiveAction` is ADMIT, and on
 *    an image not verified before the deadline; AUDIT admits with Kubernetes `warnings` and
 *    `auditAnnotations`. `dryRun` requests get the same answer and are not counted in the metrics.
 *    ENFORCE, image without any signature (ECR managed signing signs a few seconds after the push):
 *    re-verified about once a second for `signatureWaitSeconds` (default 8), never past the deadline;
 *    any other rejection is final at once. The refusal then says the signing may still be under way.
 * 5. Every answer counts 1 in `HookSucceeded` (allowed) or `HookFailed` (refused), with the wait's
 *    rounds in `SignatureWaitRounds`, like the ECS hook's answers (dry runs not counted).
 */
import { DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS, ENV, HANDLER_NAME, UnpinnedImagePolicy } from './config';
import { reportConfigurationError } from './config-error';
import {
  admissionResponse, AdmissionRequest, ContainerImage, containerImages, isPinned, JsonPatchOperation, parseAdmissionReview, ReviewAnswer,
} from './eks/admission';
import { checkPath, HttpResponse, jsonResponse, parseHttpEvent, readBody, WebhookEndpoint } from './eks/http';
import { EKS_ENV, webhookSecret } from './eks/secret';
import { decide, DecisionImage, ImageState, isUnsignedYet, maxRoundsFor, readProgress } from './hook-decision';
import { Deadline, errorText, getRuntime, ImageResult, JsonLogger, LambdaContext, mapBounded, Metrics, pinImage, Runtime } from './runtime';

export type { HttpResponse } from './eks/http';

/** Name of the bundled handler (`assets/handlers/eks-webhook`). */
export const HANDLER = HANDLER_NAME.EKS_WEBHOOK;

/** Longest audit annotation value written. */
const MAX_ANNOTATION_CHARS = 2000;

/** Default webhook `timeoutSeconds` when the environment does not say. */
const DEFAULT_TIMEOUT_SECONDS = 10;

/** Seconds between two re-verifications of an image without a signature (the signature wait). */
const SIGNATURE_POLL_SECONDS = 1;

/** Time the signature wait leaves before the deadline for its last re-verification. */
const SIGNATURE_RECHECK_RESERVE_MS = 500;

const bootLog = new JsonLogger({ handler: HANDLER });

export async function handler(event: unknown, context?: LambdaContext): Promise<HttpResponse> {
  const req = parseHttpEvent(event);
  if ('error' in req) {
    bootLog.warn('not a function URL request', { reason: req.error, requestId: context?.awsRequestId });
    return jsonResponse(400, { message: 'bad request' });
  }
  // 1. Authenticate before any other work.
  const arn = process.env[EKS_ENV.SECRET_ARN];
  if (!arn) {
    reportConfigurationError({ handler: HANDLER, error: new Error(`${EKS_ENV.SECRET_ARN} is not set`), functionName: context?.functionName });
    return jsonResponse(500, { message: 'webhook not configured' });
  }
  let secret: string;
  try {
    secret = await webhookSecret(arn);
  } catch (e) {
    bootLog.error('cannot read the webhook secret: request not served (the API server applies failurePolicy)', { error: errorText(e), requestId: context?.awsRequestId });
    return jsonResponse(503, { message: 'webhook secret unavailable' });
  }
  const endpoint = checkPath(req.path, secret);
  if (!endpoint) {
    bootLog.warn('unauthenticated request refused', { sourceIp: req.sourceIp, method: req.method, userAgent: req.userAgent, requestId: context?.awsRequestId });
    return jsonResponse(403, { message: 'forbidden' });
  }
  if (req.method !== 'POST') return jsonResponse(405, { message: 'only POST' });

  // 2. The AdmissionReview.
  const body = readBody(req);
  if ('error' in body) {
    bootLog.error('unreadable admission request', { reason: body.error, webhook: endpoint, requestId: context?.awsRequestId });
    return jsonResponse(body.status, { message: body.error });
  }
  const review = parseAdmissionReview(body.text);
  const mode = () => (process.env[ENV.ADMISSION_MODE] === 'AUDIT' ? 'AUDIT' : 'ENFORCE');

  let rt: Runtime;
  try {
    rt = getRuntime(HANDLER);
  } catch (e) {
    const allowed = mode() === 'AUDIT';
    reportConfigurationError({
      handler: HANDLER,
      error: e,
      functionName: context?.functionName,
      data: { mode: process.env[ENV.ADMISSION_MODE] ?? null, allowed, webhook: endpoint },
    });
    const uid = review.uid;
    if (uid === undefined) return jsonResponse(500, { message: 'webhook configuration error' });
    return jsonResponse(200, admissionResponse(uid, {
      allowed,
      message: 'image signature webhook: configuration error, nothing can be verified (see the function\'s logs)',
      ...(allowed ? { warnings: ['image signature webhook (AUDIT): configuration error, images were not verified'] } : {}),
    }));
  }

  if ('error' in review) {
    const allowed = rt.mode === 'AUDIT';
    rt.logger.error('malformed AdmissionReview', { reason: review.error, webhook: endpoint, uid: review.uid, mode: rt.mode, allowed, requestId: context?.awsRequestId });
    if (review.uid === undefined) return jsonResponse(400, { message: review.error });
    // An answer like any other (whether it was a dry run cannot be read): counted in the Hook* metrics.
    await rt.withMetrics(context, async (metrics) => metrics.webhookAnswer(allowed));
    return jsonResponse(200, admissionResponse(review.uid, {
      allowed,
      message: `image signature webhook: malformed AdmissionReview: ${review.error}`,
      ...(allowed ? { warnings: [`image signature webhook (AUDIT): malformed AdmissionReview, not verified: ${review.error}`] } : {}),
    }));
  }

  const abort = new AbortController();
  try {
    const answer = await rt.withMetrics(context, async (metrics) => {
      // A dry run is answered like a real request but counted nowhere.
      const counted = review.dryRun ? new Metrics('unused', 'unused', HANDLER) : metrics;
      try {
        const a = await run(rt, endpoint, review, context, counted, abort.signal);
        counted.webhookAnswer(a.allowed, a.signatureWaitRounds);
        return a;
      } catch (e) {
        // Counted like the answer the catch below gives (the EMF record is written when this returns).
        counted.webhookAnswer(rt.mode === 'AUDIT');
        throw e;
      }
    });
    return jsonResponse(200, admissionResponse(review.uid, answer));
  } catch (e) {
    // A bug, not a verdict: AUDIT admits, ENFORCE refuses.
    const allowed = rt.mode === 'AUDIT';
    rt.logger.error('unexpected error in the EKS webhook', { error: errorText(e), stack: (e as Error)?.stack, allowed, uid: review.uid, requestId: context?.awsRequestId });
    return jsonResponse(200, admissionResponse(review.uid, { allowed, message: 'image signature webhook: internal error (see the function\'s logs)' }));
  } finally {
    abort.abort();
  }
}

function unpinnedPolicyOf(rt: Runtime): UnpinnedImagePolicy {
  return rt.config.unpinnedImages === 'VERIFY_CURRENT_DIGEST' ? 'VERIFY_CURRENT_DIGEST' : 'REJECT';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The invocation's time budget: the webhook's `timeoutSeconds` (the API server stops waiting then) and the Lambda's remaining time. */
function deadlineFor(context: LambdaContext | undefined): Deadline {
  const configured = Number(process.env[EKS_ENV.TIMEOUT_SECONDS]);
  const timeoutMs = (Number.isFinite(configured) && configured >= 1 && configured <= 30 ? configured : DEFAULT_TIMEOUT_SECONDS) * 1000;
  const started = Date.now();
  const lambdaLeft = typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis!() : () => Infinity;
  const margin = Math.min(2000, Math.round(timeoutMs / 5));
  return new Deadline({ getRemainingTimeInMillis: () => Math.min(lambdaLeft(), timeoutMs - (Date.now() - started)) }, margin);
}

/** A JSON array of `items` of at most {@link MAX_ANNOTATION_CHARS} characters (items dropped from the end, counted in a last entry). */
function jsonList(items: readonly string[]): string {
  for (let n = items.length; n > 0; n--) {
    const s = JSON.stringify(n === items.length ? items : [...items.slice(0, n), `…and ${items.length - n} more`]);
    if (s.length <= MAX_ANNOTATION_CHARS) return s;
  }
  return JSON.stringify([`${items.length} images (see the webhook's logs)`]);
}

function describe(c: ContainerImage): string {
  return `container ${JSON.stringify(c.container)}${c.list === 'containers' ? '' : ` (${c.list})`} image ${JSON.stringify(c.image)}`;
}

interface Target {
  readonly c: ContainerImage;
  /** Refused without verification (validate, ENFORCE, not pinned). */
  readonly refused?: string;
  readonly unpinned: boolean;
}

/** An answer and the signature-wait rounds spent on it (for the metrics). */
interface RunAnswer extends ReviewAnswer {
  readonly signatureWaitRounds?: number;
}

type Outcome = DecisionImage & { readonly c: ContainerImage };

/** How a state reads in a refusal message or warning. */
const STATE_WORDS: Partial<Record<ImageState, string>> = {
  'unfinished': 'not verified in time',
  'no-signature-yet': 'no signature yet',
};

/** The last line of a refusal for an image without a signature: what to do about it. */
function unsignedHint(waitedMs: number): string {
  const waited = waitedMs > 0 ? ` (the webhook waited ${(waitedMs / 1000).toFixed(1)} s for it)` : '';
  return `an image without a signature may still be being signed by ECR managed signing, which signs a few seconds after the push${waited}: `
    + 'retry kubectl apply in a moment (Pods created by a controller are retried by the controller)';
}

/**
 * Where each container's image stands: its verification result (NO_SIGNATURE is `no-signature-yet`,
 * the one rejection the signature wait waits for), the refusal it got without one, or `unfinished`
 * (not verified before the deadline; left out when `skipMissing`: the verification stopped early on a
 * refusal, which decides the answer anyway).
 */
function outcomesOf(targets: readonly Target[], resultOf: ReadonlyMap<string, ImageResult>, skipMissing: boolean): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const t of targets) {
    const base = { image: t.c.image, container: t.c.container, c: t.c };
    if (t.refused) {
      outcomes.push({ ...base, state: 'unpinned', reason: t.refused });
      continue;
    }
    const r = resultOf.get(t.c.image);
    if (!r) {
      if (!skipMissing) outcomes.push({ ...base, state: 'unfinished', reason: 'not verified before the webhook timeout' });
      continue;
    }
    switch (r.outcome) {
      case 'verified': case 'exempt': case 'skipped':
        outcomes.push({ ...base, state: r.outcome });
        break;
      case 'inconclusive':
        outcomes.push({ ...base, state: 'inconclusive', reason: r.verdict?.error?.message ?? 'inconclusive' });
        break;
      default:
        outcomes.push({ ...base, state: isUnsignedYet(r) ? 'no-signature-yet' : 'rejected', reason: r.verdict?.error?.message ?? r.verdict?.reasons[0] ?? 'rejected' });
    }
  }
  return outcomes;
}

async function run(
  rt: Runtime, endpoint: WebhookEndpoint, review: AdmissionRequest, context: LambdaContext | undefined, metrics: Metrics, signal: AbortSignal,
): Promise<RunAnswer> {
  const mode = rt.mode;
  const enforce = mode === 'ENFORCE';
  const log = rt.logger.child({
    requestId: context?.awsRequestId,
    uid: review.uid,
    webhook: endpoint,
    kind: review.kind.replace(/^\//, ''),
    namespace: review.namespace,
    name: review.name,
    operation: review.operation,
    ...(review.subResource ? { subResource: review.subResource } : {}),
    dryRun: review.dryRun,
    mode,
  });
  const tag = `image signature webhook${enforce ? '' : ' (AUDIT)'}`;
  const what = `${review.kind.replace(/^\//, '')} ${review.namespace ? `${review.namespace}/` : ''}${review.name ?? '(unnamed)'}`;

  if (review.operation !== 'CREATE' && review.operation !== 'UPDATE') {
    log.info('admission decision: allowed (operation not verified)', { allowed: true });
    return { allowed: true };
  }
  const found = containerImages(review);
  if ('unsupported' in found || 'error' in found) {
    const reason = 'unsupported' in found ? found.unsupported : found.error;
    metrics.inconclusive();
    log.warn(`admission decision: ${enforce ? 'denied' : 'allowed'} (object not readable)`, { allowed: !enforce, reasons: [reason] });
    return enforce
      ? { allowed: false, message: `${tag} refused ${what}: ${reason}` }
      : { allowed: true, warnings: [`${tag}: ${what} not verified: ${reason}`], auditAnnotations: { verdict: 'unreadable' } };
  }

  const unpinnedPolicy = unpinnedPolicyOf(rt);
  const targets: Target[] = found.images.map((c) => {
    if (endpoint === 'mutate' || isPinned(c.image) || rt.exemptionFor(c.image) !== undefined) return { c, unpinned: false };
    if (enforce && unpinnedPolicy === 'REJECT') {
      return {
        c,
        unpinned: true,
        refused: 'not pinned to a digest: the mutating webhook pins every image it verified to repository@sha256:<digest>, so another mutation changed it or the mutating webhook did not run; pin the image with @sha256:<digest>',
      };
    }
    log.warn('image is not pinned to a digest: verifying the digest its tag names now', { image: c.image, container: c.container, unpinnedImages: unpinnedPolicy });
    return { c, unpinned: true };
  });
  for (const t of targets.filter((x) => x.refused)) {
    log.warn('verdict', { image: t.c.image, outcome: 'rejected', status: 'failed', errorCode: 'UNPINNED_IMAGE', unpinned: true, reasons: [t.refused], container: t.c.container, durationMs: 0 });
  }

  // One verification per distinct image (a Pod may run one image in several containers).
  const toVerify = [...new Set(targets.filter((t) => !t.refused).map((t) => t.c.image))];
  const deadline = deadlineFor(context);
  // The config loader refuses a signatureWaitSeconds that is not a non-negative number.
  const waitSeconds = enforce ? rt.config.signatureWaitSeconds ?? DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS : 0;
  // While a signature may still appear, an image without one does not stop the others: a definitive
  // rejection among them must refuse now, not after the wait.
  const stopEarly = (r: ImageResult) => enforce && r.outcome === 'rejected' && !(waitSeconds > 0 && isUnsignedYet(r));
  const refusedAlready = enforce && targets.some((t) => t.refused);
  const work = refusedAlready ? [] : toVerify;
  const verify = (images: readonly string[], extra: Record<string, unknown> = {}) => mapBounded(images, rt.concurrency, (image) => {
    const first = targets.find((t) => t.c.image === image)!;
    return rt.verifyImage(image, {
      requestId: context?.awsRequestId,
      uid: review.uid,
      webhook: endpoint,
      container: first.c.container,
      namespace: review.namespace,
      dryRun: review.dryRun,
      ...(first.unpinned ? { unpinned: true } : {}),
      ...extra,
    }, { signal });
  }, { deadline, stop: stopEarly });
  const resultOf = new Map<string, ImageResult>();
  const keep = (images: readonly string[], results: ReadonlyArray<ImageResult | undefined>) => images.forEach((image, i) => {
    const r = results[i];
    if (r) resultOf.set(image, r);
  });
  keep(work, await verify(work));
  const stopped = [...resultOf.values()].some(stopEarly);
  let outcomes = outcomesOf(targets, resultOf, stopped || refusedAlready);

  // The signature wait (ENFORCE): ECR managed signing signs a few seconds after the push. The webhook
  // cannot answer "in progress" (the API server waits at most timeoutSeconds), so it re-verifies each
  // image without a signature about once a second, inside this call, until one verifies, another
  // verdict comes, or the wait ends (never past the deadline, leaving time for the last re-check).
  // `decide` is the ECS hook's decision: it waits only while the sole problems are "no signature"
  // (isUnsignedYet), so a bad signature, an unpinned or (inconclusiveAction REJECT) an inconclusive
  // image is final at once. The engine never caches a NO_SIGNATURE verdict (cacheable() in
  // src/verifier/verify/verification.ts): every round asks the registry again, and a signature found
  // is cached as usual, so the validating call after this mutating one is a cache hit.
  const waitStart = Date.now();
  const budgetSeconds = Math.max(0, Math.min(waitSeconds, (deadline.remainingMs() - SIGNATURE_RECHECK_RESERVE_MS) / 1000));
  const maxRounds = maxRoundsFor(undefined, budgetSeconds, SIGNATURE_POLL_SECONDS, 0);
  let round = 0;
  const fresh = readProgress(undefined, { revision: review.uid }, waitStart, 0).progress;
  const decideNow = (mayWait: boolean) => decide({
    mode,
    inconclusiveAction: rt.inconclusiveAction,
    signatureWaitSeconds: budgetSeconds,
    callBackDelaySeconds: SIGNATURE_POLL_SECONDS,
    // round < maxRounds is "may go on": once it may not, every answer is final.
    maxRounds: mayWait ? maxRounds : round,
    progress: { ...fresh, round, signatureWaitStartedAt: new Date(waitStart).toISOString() },
    images: outcomes,
    malformed: [],
    now: Date.now(),
  });
  let decision = decideNow(true);
  while (!decision.final && decision.wait?.mayWait) {
    await sleep(SIGNATURE_POLL_SECONDS * 1000);
    round++;
    const unsigned = [...new Set(outcomes.filter((o) => o.state === 'no-signature-yet').map((o) => o.image))];
    // A re-check cut short by the deadline keeps the earlier verdict (no signature).
    keep(unsigned, await verify(unsigned, { signatureWaitRound: round }));
    outcomes = outcomesOf(targets, resultOf, false);
    decision = decideNow(true);
  }
  if (!decision.final) decision = decideNow(false);
  const unsignedLeft = outcomes.filter((o) => o.state === 'no-signature-yet').map((o) => o.image);
  const waitedMs = Date.now() - waitStart;
  if (round > 0) {
    log.log(unsignedLeft.length > 0 ? 'WARN' : 'INFO', unsignedLeft.length > 0 ? 'signature wait: no signature appeared in time' : 'signature wait: signature found', {
      rounds: round, waitedMs, signatureWaitSeconds: waitSeconds, budgetMs: Math.round(budgetSeconds * 1000), unsigned: unsignedLeft,
    });
  }
  const allowed = decision.response.hookStatus === 'SUCCEEDED';
  for (const r of resultOf.values()) metrics.record(r);
  for (const o of outcomes) {
    if (o.state === 'unpinned') metrics.count('rejected');
    if (o.state === 'unfinished') metrics.inconclusive();
  }

  // The pinning patch: verified images only, each guarded by a `test` of the image it replaces.
  const patch: JsonPatchOperation[] = [];
  const pinned: string[] = [];
  if (endpoint === 'mutate' && allowed) {
    for (const o of outcomes) {
      const r = resultOf.get(o.image);
      if (o.state !== 'verified' || !r?.verdict?.digest) continue;
      const value = pinImage(o.image, r.verdict.digest);
      if (value === o.image) continue;
      patch.push({ op: 'test', path: o.c.pointer, value: o.image }, { op: 'replace', path: o.c.pointer, value });
      pinned.push(value);
    }
  }

  const problems = outcomes.filter((o) => o.reason !== undefined);
  const lines = problems.map((o) => `${describe(o.c)}: ${STATE_WORDS[o.state] ?? o.state}: ${o.reason}`);
  if (enforce && !allowed && unsignedLeft.length > 0) lines.push(unsignedHint(round > 0 ? waitedMs : 0));
  const byState = (...s: string[]) => outcomes.filter((o) => s.includes(o.state)).map((o) => o.image);
  const summary = {
    images: found.images.length,
    verified: byState('verified').length,
    rejected: byState('rejected'),
    unsigned: unsignedLeft,
    unpinned: byState('unpinned'),
    inconclusive: byState('inconclusive'),
    unfinished: byState('unfinished'),
    exempt: byState('exempt').length,
    pinned,
  };
  log.log(allowed && problems.length === 0 ? 'INFO' : 'WARN', `admission decision: ${allowed ? 'allowed' : 'denied'}`, {
    ...summary, allowed, reasons: decision.reasons, inconclusiveAction: rt.inconclusiveAction, ...(round > 0 ? { signatureWaitRounds: round } : {}),
  });

  const annotations: Record<string, string> = { verdict: allowed ? (problems.length > 0 ? 'admitted-with-problems' : 'admitted') : 'refused' };
  const lists = {
    rejected: [...summary.rejected, ...summary.unsigned, ...summary.unpinned],
    inconclusive: [...summary.inconclusive, ...summary.unfinished],
    pinned,
  };
  for (const [key, list] of Object.entries(lists)) if (list.length > 0) annotations[key] = jsonList(list);

  if (!allowed) {
    return {
      allowed: false,
      message: `${tag} refused ${what}: ${lines.length > 0 ? lines.join('; ') : decision.reasons.join('; ')}`,
      auditAnnotations: annotations,
      signatureWaitRounds: round,
    };
  }
  return {
    allowed: true,
    warnings: lines.map((l) => `${tag}: ${enforce ? 'admitted' : 'would refuse'}: ${l}`),
    auditAnnotations: annotations,
    patch,
    signatureWaitRounds: round,
  };
}
