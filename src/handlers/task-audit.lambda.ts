/**
 * EventBridge "ECS Task State Change" (lastStatus RUNNING) → verifies the containers' images
 * (pinned to `imageDigest` when ECS reports one) → logs and metrics.
 *
 * The audit loses nothing:
 *  - every container yields one result: verified / rejected / inconclusive / exempt / skipped, or
 *    `unfinished` (out of time). A malformed event or container entry (no `detail`, `containers` not a
 *    non-empty array, no image string, a malformed `imageDigest`) is logged at ERROR and counted as
 *    inconclusive; it is never skipped silently.
 *  - an SNS notification (topic ARN in `SNS_TOPIC_ARN`) for rejected, inconclusive and unfinished
 *    results; the message says which (`result`). The client is `@aws-sdk/client-sns`, which the Lambda
 *    Node.js runtime ships; it is loaded lazily and, when absent (local runs), the notification is
 *    skipped with a warning. A publish that fails makes the invocation fail after logging and counting,
 *    so Lambda retries it and then hands the original event to the dead-letter queue.
 *  - a configuration error is logged at ERROR, counted (`ConfigurationErrors`, in the namespace of the
 *    `SIGNED_IMAGES_METRICS_NAMESPACE` environment variable, else the default) and notified; the
 *    handler does not throw for it (a retry would meet the same configuration).
 *  - a container without `imageDigest` (and no `@digest` in its image) is reported as unpinned
 *    (`unpinned: true` in its verdict record): the tag's current digest is verified, with a WARN.
 *  - a task whose `lastStatus` is a state other than RUNNING is logged and ignored (the rule only
 *    sends RUNNING; ECS reports `imageDigest` from RUNNING on).
 *
 * `StopTask` (opt-in `stopTask`) acts on definitive rejections only; `stopTaskOnInconclusive` also
 * stops on inconclusive, unfinished and malformed results. Best-effort only: the task has already
 * started, and a service's scheduler starts a replacement. This path detects and alerts; the
 * admission hook is what blocks.
 *
 * One AbortController per invocation: its signal goes to every verification and is aborted when the
 * handler answers, so no registry work outlives the invocation.
 */
import { DEFAULT_DEADLINE_MARGIN_MS, ENV, HANDLER_NAME } from './config';
import { reportConfigurationError } from './config-error';
import {
  Deadline, ecsClient, errorText, getRuntime, ImageResult, isObject, JsonLogger, LambdaContext, loadEcs, mapBounded, Metrics, Outcome, pinImage,
  pinnedDigestOf, regionOf, Runtime,
} from './runtime';


const HANDLER = HANDLER_NAME.TASK_AUDIT;

/** What the audit found for one container, in the answer and the notification: the runtime's {@link Outcome}. */
export type AuditResultKind = Outcome;

export interface TaskAuditEntry {
  /** The image verified (pinned with `@digest` when the event reported one); `''` when the entry has none. */
  readonly image: string;
  readonly container?: string;
  readonly outcome: AuditResultKind;
  /** The digest verified: the event's `imageDigest`, else the tag's current digest. */
  readonly digest?: string;
  readonly reasons?: readonly string[];
  /** The event reported no digest: the tag's current digest was verified (what runs may differ). */
  readonly unpinned?: true;
  /** The container entry of the event is malformed (counted as inconclusive). */
  readonly malformed?: true;
}

export interface TaskAuditResult {
  readonly task?: string;
  readonly results: TaskAuditEntry[];
  readonly notified: boolean;
  readonly stopped: boolean;
  /** Why the event was ignored (a task state other than RUNNING). */
  readonly ignored?: string;
  /** Why the event is malformed (counted as one inconclusive result). */
  readonly malformed?: string;
  /** The configuration could not be loaded: nothing was verified. */
  readonly configurationError?: string;
}

/** A publish to the topic failed: the invocation fails so that Lambda retries it, then dead-letters it. */
export class NotificationError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'NotificationError';
  }
}


/** SNS clients per region (the ECS client is the runtime's). */
const snsClients = new Map<string, any>();

/** Loads the SNS client, which is not a dependency of this package (the Lambda runtime provides it). */
async function snsModule(): Promise<any | undefined> {
  const name = '@aws-sdk/client-sns';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name);
  } catch {
    return undefined;
  }
}

export async function handler(event: any, context?: LambdaContext): Promise<TaskAuditResult> {
  let rt: Runtime;
  try {
    rt = getRuntime(HANDLER);
  } catch (e) {
    return configurationError(e, event, context);
  }
  const controller = new AbortController();
  try {
    return await rt.withMetrics(context, (metrics) => run(rt, event, context, metrics, controller.signal));
  } catch (e) {
    if (!(e instanceof NotificationError)) {
      rt.logger.error('the task audit failed; Lambda retries the event, then sends it to the dead-letter queue',
        { requestId: context?.awsRequestId, error: errorText(e), stack: (e as Error)?.stack });
    }
    throw e;
  } finally {
    // The answer is out (or the invocation failed): nothing may keep running for it.
    controller.abort();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Configuration errors: logged, counted, notified; never thrown
// ---------------------------------------------------------------------------------------------------------

async function configurationError(e: unknown, event: any, context: LambdaContext | undefined): Promise<TaskAuditResult> {
  const detail = isObject(event) && isObject(event.detail) ? event.detail : {};
  const task = typeof detail.taskArn === 'string' ? detail.taskArn : undefined;
  const cluster = typeof detail.clusterArn === 'string' ? detail.clusterArn : undefined;
  const message = errorText(e);
  const code = typeof (e as any)?.code === 'string' ? (e as any).code : undefined;
  // One ERROR line and one `ConfigurationErrors` EMF record (namespace from the environment: the config is unreadable).
  reportConfigurationError({
    handler: HANDLER,
    error: e,
    functionName: context?.functionName,
    data: { requestId: context?.awsRequestId, task, cluster, consequence: 'nothing verified; the event is not retried' },
  });
  const logger = new JsonLogger({ handler: HANDLER, requestId: context?.awsRequestId, task, cluster });
  const notified = await notify(logger, 'configuration-error', {
    result: 'configuration-error', task, cluster, errorCode: code, error: cap(message, MAX_REASON_CHARS),
  });
  return { task, results: [], notified, stopped: false, configurationError: message };
}

// ---------------------------------------------------------------------------------------------------------
// One event
// ---------------------------------------------------------------------------------------------------------

interface Target {
  readonly index: number;
  readonly image: string;
  readonly container?: string;
  readonly digest?: string;
  readonly unpinned: boolean;
}

const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;

async function run(rt: Runtime, event: any, context: LambdaContext | undefined, metrics: Metrics, signal: AbortSignal): Promise<TaskAuditResult> {
  const requestId = context?.awsRequestId;
  const detail = isObject(event) ? event.detail : undefined;
  const task: string | undefined = isObject(detail) && typeof detail.taskArn === 'string' ? detail.taskArn : undefined;
  const cluster: string | undefined = isObject(detail) && typeof detail.clusterArn === 'string' ? detail.clusterArn : undefined;
  const group = isObject(detail) && typeof detail.group === 'string' ? detail.group : undefined;
  const log = rt.logger.child({ requestId, task, cluster, group, lastStatus: isObject(detail) ? detail.lastStatus : undefined });

  const malformedEvent = eventProblem(event);
  if (malformedEvent) {
    metrics.inconclusive();
    log.error('malformed task state change event; counted as inconclusive', { reason: malformedEvent, detailType: isObject(event) ? event['detail-type'] : undefined });
    const entry: TaskAuditEntry = { image: '', outcome: 'inconclusive', reasons: [`malformed event: ${malformedEvent}`], malformed: true };
    const notified = await notifyFindings(log, { task, cluster, group }, [entry]);
    const stopped = await maybeStop(rt, task, cluster, [entry]);
    return { task, results: [entry], notified, stopped, malformed: malformedEvent };
  }
  if (typeof detail.lastStatus === 'string' && detail.lastStatus !== 'RUNNING') {
    log.warn('the task is not RUNNING; event ignored (the audit verifies tasks at RUNNING, when ECS reports image digests)');
    return { task, results: [], notified: false, stopped: false, ignored: `lastStatus ${detail.lastStatus}` };
  }

  // Every container entry yields exactly one result, in order.
  const entries: Array<TaskAuditEntry | undefined> = [];
  const targets: Target[] = [];
  (detail.containers as unknown[]).forEach((c, index) => {
    const problem = containerProblem(c);
    const name = isObject(c) && typeof c.name === 'string' ? c.name : undefined;
    if (problem) {
      const image = isObject(c) && typeof c.image === 'string' ? c.image : '';
      entries.push({ image: cap(image, MAX_IMAGE_CHARS), container: name === undefined ? undefined : cap(name, MAX_IMAGE_CHARS), outcome: 'inconclusive', reasons: [`malformed container entry ${index}: ${problem}`], malformed: true });
      metrics.inconclusive();
      log.error('malformed container entry; counted as inconclusive', { index, container: name, reason: problem });
      return;
    }
    const ec = c as Record<string, any>;
    const digest = typeof ec.imageDigest === 'string' && ec.imageDigest !== '' ? ec.imageDigest : undefined;
    const unpinned = !digest && !ec.image.includes('@');
    const image = pinImage(ec.image, digest);
    if (unpinned) {
      log.warn('unpinned image: the event has no imageDigest for this container; the tag\'s current digest is verified, which may not be what the task runs',
        { image, container: name });
    }
    entries.push(undefined);
    targets.push({ index, image, container: name, digest: digest ?? pinnedDigestOf(image), unpinned });
  });

  const deadline = new Deadline(context, rt.config.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS);
  const results = await mapBounded(targets, rt.concurrency, (t) => rt.verifyImage(t.image,
    { requestId, container: t.container, task, cluster, ...(t.unpinned ? { unpinned: true } : {}) }, { signal }), { deadline });
  targets.forEach((t, i) => {
    const r: ImageResult | undefined = results[i];
    metrics.record(r ?? { outcome: 'unfinished' });
    entries[t.index] = {
      image: t.image,
      container: t.container,
      outcome: r?.outcome ?? 'unfinished',
      digest: t.digest ?? r?.verdict?.digest,
      reasons: r ? (r.verdict?.reasons && r.verdict.reasons.length > 0 ? r.verdict.reasons : undefined) : ['out of time before the image was verified'],
      ...(t.unpinned ? { unpinned: true as const } : {}),
    };
  });
  const out = entries as TaskAuditEntry[];

  const unfinished = out.filter((r) => r.outcome === 'unfinished');
  if (unfinished.length > 0) log.error('out of time before every image was verified; counted as inconclusive', { images: imagesForLog(unfinished) });
  const rejected = out.filter((r) => r.outcome === 'rejected');
  if (rejected.length > 0) log.warn('task runs images that failed verification', { rejected: imagesForLog(rejected) });
  const inconclusive = out.filter((r) => r.outcome === 'inconclusive');
  if (inconclusive.length > 0) log.warn('task runs images that could not be verified', { inconclusive: imagesForLog(inconclusive) });

  const notified = await notifyFindings(log, { task, cluster, group }, out);
  const stopped = await maybeStop(rt, task, cluster, out);
  return { task, results: out, notified, stopped };
}

/** Why the event cannot be audited, or `undefined` when it has the shape of a task state change. */
function eventProblem(event: any): string | undefined {
  if (!isObject(event)) return 'the event is not a JSON object';
  if (event['detail-type'] !== 'ECS Task State Change') return `detail-type is ${JSON.stringify(event['detail-type'])}, not "ECS Task State Change"`;
  const detail = event.detail;
  if (!isObject(detail)) return 'detail is missing or not an object';
  if (detail.lastStatus !== undefined && typeof detail.lastStatus !== 'string') return 'detail.lastStatus is not a string';
  if (typeof detail.lastStatus === 'string' && detail.lastStatus !== 'RUNNING') return undefined; // ignored by the caller
  if (!Array.isArray(detail.containers)) return 'detail.containers is missing or not an array';
  if (detail.containers.length === 0) return 'detail.containers is empty (a running task has at least one container)';
  return undefined;
}

/** Why a container entry cannot be verified, or `undefined`. */
function containerProblem(c: unknown): string | undefined {
  if (!isObject(c)) return 'not a JSON object';
  if (typeof c.image !== 'string' || c.image.trim() === '') return 'no image string';
  if (c.imageDigest !== undefined && c.imageDigest !== null && c.imageDigest !== '') {
    if (typeof c.imageDigest !== 'string' || !DIGEST.test(c.imageDigest)) return `imageDigest ${JSON.stringify(c.imageDigest).slice(0, 100)} is not a digest`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Notification and StopTask
// ---------------------------------------------------------------------------------------------------------

type NotificationKind = 'rejected' | 'inconclusive' | 'unfinished' | 'configuration-error';

const SUBJECTS: Record<NotificationKind, string> = {
  'rejected': 'ECS task runs an image that failed signature verification',
  'inconclusive': 'ECS task image signature could not be verified (inconclusive)',
  'unfinished': 'ECS task image verification did not finish (unfinished)',
  'configuration-error': 'ECS task audit cannot run: configuration error',
};

/** Publishes the rejected, inconclusive and unfinished results (nothing when there are none). */
async function notifyFindings(
  log: JsonLogger, where: { task?: string; cluster?: string; group?: string }, out: readonly TaskAuditEntry[],
): Promise<boolean> {
  const finding = (r: TaskAuditEntry) => ({
    result: r.outcome,
    image: r.image ? cap(r.image, MAX_IMAGE_CHARS) : undefined,
    container: r.container === undefined ? undefined : cap(r.container, MAX_IMAGE_CHARS),
    digest: r.digest,
    reason: r.reasons ? cap(r.reasons.join('; '), MAX_REASON_CHARS) : undefined,
    unpinned: r.unpinned,
    malformed: r.malformed,
  });
  // Bounded, so the message stays far below SNS's 256 KB limit whatever the event holds.
  let omitted = 0;
  const listed = (kind: AuditResultKind) => {
    const all = out.filter((r) => r.outcome === kind);
    omitted += Math.max(0, all.length - MAX_FINDINGS_PER_KIND);
    return all.slice(0, MAX_FINDINGS_PER_KIND).map(finding);
  };
  const rejected = listed('rejected');
  const inconclusive = listed('inconclusive');
  const unfinished = listed('unfinished');
  const kind: NotificationKind | undefined = rejected.length > 0 ? 'rejected' : inconclusive.length > 0 ? 'inconclusive' : unfinished.length > 0 ? 'unfinished' : undefined;
  if (!kind) return false;
  return notify(log, kind, {
    result: kind,
    task: where.task,
    cluster: where.cluster,
    group: where.group,
    rejected,
    inconclusive,
    unfinished,
    ...(omitted > 0 ? { omitted } : {}),
  });
}

const MAX_FINDINGS_PER_KIND = 20;
const MAX_IMAGE_CHARS = 512;
const MAX_REASON_CHARS = 2000;

/** Image names for a log line: bounded like the notification. */
function imagesForLog(entries: readonly TaskAuditEntry[]): string[] {
  return entries.slice(0, MAX_FINDINGS_PER_KIND).map((r) => cap(r.image || '(none)', MAX_IMAGE_CHARS));
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Publishes to `SNS_TOPIC_ARN`; `false` when no topic is set or the SNS client is absent; throws {@link NotificationError} when the publish fails. */
async function notify(log: JsonLogger, kind: NotificationKind, message: Record<string, unknown>): Promise<boolean> {
  const topic = process.env[ENV.SNS_TOPIC_ARN];
  if (!topic) return false;
  const sns = await snsModule();
  if (!sns) {
    log.warn('@aws-sdk/client-sns is not available; notification skipped', { topic });
    return false;
  }
  try {
    const key = `sns|${regionOf(topic) ?? ''}`;
    let client = snsClients.get(key);
    if (!client) {
      client = new sns.SNSClient({ region: regionOf(topic) });
      snsClients.set(key, client);
    }
    await client.send(new sns.PublishCommand({
      TopicArn: topic,
      Subject: SUBJECTS[kind],
      Message: JSON.stringify(message, null, 2),
    }));
    return true;
  } catch (e) {
    log.error('SNS notification failed; the invocation fails so that Lambda retries the event, then dead-letters it', { topic, result: kind, error: errorText(e) });
    throw new NotificationError(`SNS notification to ${topic} failed: ${errorText(e)}`);
  }
}

/** Stops the task on a definitive rejection; on inconclusive/unfinished/malformed results only with `stopTaskOnInconclusive`. */
async function maybeStop(rt: Runtime, task: string | undefined, cluster: string | undefined, out: readonly TaskAuditEntry[]): Promise<boolean> {
  if (!rt.config.stopTask || !task) return false;
  const rejected = out.filter((r) => r.outcome === 'rejected');
  const unsure = out.filter((r) => r.outcome === 'inconclusive' || r.outcome === 'unfinished');
  let reason: string;
  if (rejected.length > 0) {
    reason = `image failed signature verification: ${rejected.map((r) => r.image).join(', ')}`;
  } else if (rt.config.stopTaskOnInconclusive && unsure.length > 0) {
    reason = `image signature could not be verified (${unsure.map((r) => r.outcome).join(', ')}; stopTaskOnInconclusive): ${unsure.map((r) => r.image || '(no image)').join(', ')}`;
  } else {
    if (unsure.length > 0) rt.logger.info('not stopping the task: its images are unverified, not rejected (stopTaskOnInconclusive is off)', { task });
    return false;
  }
  return stopTask(rt, task, cluster, `cdk-signed-images: ${reason}`.slice(0, 255));
}

async function stopTask(rt: Runtime, task: string, cluster: string | undefined, reason: string): Promise<boolean> {
  try {
    const { StopTaskCommand } = await loadEcs();
    const client = await ecsClient(regionOf(task));
    await client.send(new StopTaskCommand({ task, cluster, reason }));
    rt.logger.warn('stopped the task (best-effort: a service scheduler may start a replacement)', { task, reason });
    return true;
  } catch (e) {
    rt.logger.error('StopTask failed', { task, error: errorText(e) });
    return false;
  }
}

