/**
 * EventBridge "ECS Task State Change" (lastStatus RUNNING) → verifies the containers' images
 * (pinned to `imageDigest` when ECS reports one) → logs and metrics.
 *
 * Optional, on a rejected image:
 *  - an SNS notification (topic ARN in `SNS_TOPIC_ARN`). The client is `@aws-sdk/client-sns`, which the
 *    Lambda Node.js runtime ships; it is loaded lazily and, when absent (local runs), the notification
 *    is skipped with a warning.
 *  - `StopTask` (opt-in `stopTask`). Best-effort only: the task has already started, and a service's
 *    scheduler starts a replacement. This path detects and alerts; the admission hook is what blocks.
 */
import { ENV } from './config';
import { getRuntime, LambdaContext, mapBounded, pinImage, Deadline, ImageResult, Runtime, Metrics, regionOf } from './runtime';

/* eslint-disable @typescript-eslint/no-require-imports */
/** Lazy `require` (not `await import()`, which Jest's CommonJS VM rejects); the SDK loads on first use. */
const loadEcs = (): Promise<typeof import('@aws-sdk/client-ecs')> => Promise.resolve().then(() => require('@aws-sdk/client-ecs'));
/* eslint-enable @typescript-eslint/no-require-imports */

export interface TaskAuditResult {
  readonly task?: string;
  readonly results: Array<{ image: string; container?: string; outcome: string; reasons?: readonly string[] }>;
  readonly notified: boolean;
  readonly stopped: boolean;
  readonly ignored?: string;
}

const clients = new Map<string, any>();

async function ecsClient(region: string | undefined): Promise<any> {
  const key = `ecs|${region ?? ''}`;
  let c = clients.get(key);
  if (!c) {
    const { ECSClient } = await loadEcs();
    c = new ECSClient(region ? { region } : {});
    clients.set(key, c);
  }
  return c;
}

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
  const rt = getRuntime('task-audit');
  return rt.withMetrics(context, (metrics) => run(rt, event, context, metrics));
}

async function run(rt: Runtime, event: any, context: LambdaContext | undefined, metrics: Metrics): Promise<TaskAuditResult> {
  const detail = event?.detail;
  if (!event || typeof event !== 'object' || event['detail-type'] !== 'ECS Task State Change' || !detail || typeof detail !== 'object') {
    rt.logger.error('not an "ECS Task State Change" event; ignored', { detailType: event?.['detail-type'] });
    return { results: [], notified: false, stopped: false, ignored: 'not an ECS Task State Change event' };
  }
  const task: string | undefined = typeof detail.taskArn === 'string' ? detail.taskArn : undefined;
  const cluster: string | undefined = typeof detail.clusterArn === 'string' ? detail.clusterArn : undefined;
  const log = rt.logger.child({ requestId: context?.awsRequestId, task, cluster, group: detail.group, lastStatus: detail.lastStatus });
  const containers: any[] = Array.isArray(detail.containers) ? detail.containers : [];
  const targets = containers
    .filter((c) => typeof c?.image === 'string' && c.image.length > 0)
    .map((c) => ({ image: pinImage(c.image, typeof c.imageDigest === 'string' && c.imageDigest ? c.imageDigest : undefined), container: c.name as string | undefined, digest: c.imageDigest }));
  for (const t of targets) {
    if (!t.digest) log.warn('the event has no imageDigest for this container; the tag is resolved through the registry now', { image: t.image, container: t.container });
  }
  const deadline = new Deadline(context, rt.config.deadlineMarginMs ?? 3000);
  const results = await mapBounded(targets, rt.concurrency,
    (t) => rt.verifyImage(t.image, { requestId: context?.awsRequestId, container: t.container, task, cluster }), { deadline });
  for (const r of results) if (r) metrics.record(r);
  const out = targets.map((t, i) => {
    const r: ImageResult | undefined = results[i];
    return { image: t.image, container: t.container, outcome: r?.outcome ?? 'unfinished', reasons: r?.verdict?.reasons };
  });
  const unfinished = out.filter((r) => r.outcome === 'unfinished');
  if (unfinished.length > 0) {
    unfinished.forEach(() => metrics.inconclusive());
    log.error('out of time before every image was verified', { images: unfinished.map((u) => u.image) });
  }
  const rejected = out.filter((r) => r.outcome === 'rejected');
  let notified = false;
  let stopped = false;
  if (rejected.length > 0) {
    log.warn('task runs images that failed verification', { rejected: rejected.map((r) => r.image) });
    notified = await notify(rt, { task, cluster, group: detail.group, rejected });
    if (rt.config.stopTask && task) stopped = await stopTask(rt, task, cluster, rejected.map((r) => r.image));
  }
  return { task, results: out, notified, stopped };
}

async function notify(rt: Runtime, message: Record<string, unknown>): Promise<boolean> {
  const topic = process.env[ENV.SNS_TOPIC_ARN];
  if (!topic) return false;
  const sns = await snsModule();
  if (!sns) {
    rt.logger.warn('@aws-sdk/client-sns is not available; notification skipped', { topic });
    return false;
  }
  try {
    const key = `sns|${regionOf(topic) ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = new sns.SNSClient({ region: regionOf(topic) });
      clients.set(key, client);
    }
    await client.send(new sns.PublishCommand({
      TopicArn: topic,
      Subject: 'ECS task runs an image that failed signature verification',
      Message: JSON.stringify(message, null, 2),
    }));
    return true;
  } catch (e) {
    rt.logger.error('SNS notification failed', { topic, error: (e as Error).message });
    return false;
  }
}

async function stopTask(rt: Runtime, task: string, cluster: string | undefined, images: string[]): Promise<boolean> {
  try {
    const { StopTaskCommand } = await loadEcs();
    const client = await ecsClient(regionOf(task));
    const reason = `cdk-signed-images: image failed signature verification: ${images.join(', ')}`.slice(0, 255);
    await client.send(new StopTaskCommand({ task, cluster, reason }));
    rt.logger.warn('stopped the task (best-effort: a service scheduler may start a replacement)', { task });
    return true;
  } catch (e) {
    rt.logger.error('StopTask failed', { task, error: (e as Error).message });
    return false;
  }
}
