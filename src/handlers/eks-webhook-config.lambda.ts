/**
 * Custom resource of `EksAdmissionWebhook` that applies its MutatingWebhookConfiguration and
 * ValidatingWebhookConfiguration to the cluster, reading the webhook secret itself at deploy time, so
 * that no CloudFormation event, resource property, log line or response ever holds it.
 *
 * Create/Update: GetSecretValue; STS AssumeRole into `RoleArn`; an EKS bearer token (eks/eks-token.ts);
 * server-side apply of each configuration (`PATCH ...?fieldManager=cdk-signed-images&force=true`,
 * `application/apply-patch+yaml`) over HTTPS trusting only the cluster CA of the properties.
 * Delete: DELETE each object named by the physical id (404 is fine); an unreachable or deleted cluster
 * does not block stack deletion: after bounded retries the answer is SUCCESS with a warning.
 *
 * A plain Lambda-backed custom resource: it answers CloudFormation itself (PUT to `ResponseURL`).
 * Every log line and the `Reason` pass through a redactor of the secret and of any URL holding it.
 */
import { CfnAnswer, cfnResponseBody, CfnRequest, sendCfnResponse } from './eks/cfn-response';
import {
  applyPath, clusterConnection, ClusterConnection, ConfigProperties, ConfigPropertyError, objectPath, parsePhysicalId, parseProperties, physicalId,
  PhysicalTarget, withSecret,
} from './eks/config-resource';
import { AwsCredentials, eksToken } from './eks/eks-token';
import { kubeRequestWithRetries, KubeTarget, RetryPolicy } from './eks/kube-client';
import { redactor } from './eks/redact';
import { resetSecretCache, webhookSecret } from './eks/secret';
import { JsonLogger } from './runtime/logger';

/** Total time spent retrying the Kubernetes API per request (ms; tests shorten it). */
export const RETRY_BUDGET_ENV = 'WEBHOOK_CONFIG_RETRY_MS';
const DEFAULT_RETRY_BUDGET_MS = 180_000;
/** Time kept to answer CloudFormation before the Lambda timeout. */
const ANSWER_MARGIN_MS = 20_000;

/* eslint-disable @typescript-eslint/no-require-imports */
const loadSts = (): Promise<typeof import('@aws-sdk/client-sts')> => Promise.resolve().then(() => require('@aws-sdk/client-sts'));
const loadEks = (): Promise<typeof import('@aws-sdk/client-eks')> => Promise.resolve().then(() => require('@aws-sdk/client-eks'));
/* eslint-enable @typescript-eslint/no-require-imports */

interface Context {
  readonly awsRequestId?: string;
  readonly logStreamName?: string;
  getRemainingTimeInMillis?(): number;
}

/** A short, non-secret description of an error (name, code, message), redacted by the caller. */
function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`;
  return String(e);
}

/** Kubernetes `Status` message of an error body (it may echo field values: redacted by the caller). */
function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body);
    if (s && typeof s.message === 'string') return `${s.reason ?? 'Failure'}: ${s.message}`;
  } catch {
    // not JSON
  }
  return body.slice(0, 300);
}

async function assumeRole(roleArn: string, region: string | undefined): Promise<AwsCredentials> {
  const { STSClient, AssumeRoleCommand } = await loadSts();
  const sts = new STSClient({ region });
  let out: any;
  try {
    out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'cdk-signed-images-webhook-config', DurationSeconds: 900 }),
      { abortSignal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new Error(`AssumeRole into ${roleArn} failed: ${(e as Error)?.name ?? 'Error'}`);
  }
  const c = out?.Credentials;
  if (!c?.AccessKeyId || !c?.SecretAccessKey || !c?.SessionToken) throw new Error(`AssumeRole into ${roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

function retryPolicy(context: Context | undefined): RetryPolicy {
  const configured = Number(process.env[RETRY_BUDGET_ENV]);
  const budget = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_RETRY_BUDGET_MS;
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS : budget;
  const span = Math.max(1, Math.min(budget, remaining));
  const baseMs = Math.min(1000, Math.max(5, Math.floor(span / 20)));
  return { deadline: Date.now() + span, baseMs, maxDelayMs: 15_000, attemptTimeoutMs: Math.min(15_000, span) };
}

/** The endpoint and CA of a cluster imported without them, from EKS DescribeCluster (the function's own role). */
async function describeCluster(name: string, region: string): Promise<ClusterConnection> {
  const { EKSClient, DescribeClusterCommand } = await loadEks();
  let out: any;
  try {
    out = await new EKSClient({ region }).send(new DescribeClusterCommand({ name }), { abortSignal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new Error(`DescribeCluster ${name} failed: ${(e as Error)?.name ?? 'Error'}`);
  }
  return clusterConnection(out?.cluster?.endpoint, out?.cluster?.certificateAuthority?.data, `DescribeCluster ${name}:`);
}

async function kubeTarget(props: ConfigProperties, region: string): Promise<KubeTarget> {
  const { endpoint, caPem } = props.connection ?? await describeCluster(props.clusterName, region);
  const credentials = await assumeRole(props.roleArn, region);
  return { endpoint, caPem, token: () => eksToken(props.clusterName, region, credentials) };
}

function regionOf(): string {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('AWS_REGION is not set');
  return region;
}

/** Create/Update: read the secret, then apply every configuration. Resolves with the answer data. */
async function apply(props: ConfigProperties, context: Context | undefined, log: JsonLogger,
  addSecret: (s: string) => void): Promise<Record<string, string>> {
  resetSecretCache();
  const secret = await webhookSecret(props.secretArn);
  addSecret(secret);
  const objects = props.configurations.map((c) => withSecret(c, secret));
  const target = await kubeTarget(props, regionOf());
  const policy = retryPolicy(context);
  const data: Record<string, string> = {};
  for (const obj of objects) {
    const { kind, metadata: { name } } = obj;
    const res = await kubeRequestWithRetries(target, 'PATCH', applyPath(kind, name), policy, {
      body: JSON.stringify(obj),
      contentType: 'application/apply-patch+yaml',
      onRetry: (attempt, why, delayMs) => log.warn('apply: retrying', { kind, name, attempt, why, delayMs }),
    });
    if (res.status !== 200 && res.status !== 201) {
      throw new Error(`applying ${kind} ${name} failed: HTTP ${res.status} after ${res.attempts} attempt(s): ${statusMessage(res.body)}`);
    }
    log.info('applied', { kind, name, status: res.status, attempts: res.attempts });
    data[kind] = name;
  }
  return data;
}

/** Delete: remove each object; never blocks deletion (warnings instead). */
async function remove(target: PhysicalTarget, props: Record<string, unknown>, context: Context | undefined, log: JsonLogger): Promise<string[]> {
  const warnings: string[] = [];
  let parsed: ConfigProperties;
  let kube: KubeTarget;
  try {
    parsed = parseProperties(props);
    if (parsed.clusterName !== target.clusterName) throw new ConfigPropertyError('the properties name another cluster than the physical id');
    kube = await kubeTarget(parsed, regionOf());
  } catch (e) {
    warnings.push(`cannot reach cluster ${target.clusterName} to delete the webhook configurations (${describe(e)}); delete them by hand if the cluster still exists`);
    return warnings;
  }
  const policy = retryPolicy(context);
  for (const { kind, name } of target.objects) {
    try {
      const res = await kubeRequestWithRetries(kube, 'DELETE', objectPath(kind, name), policy, {
        onRetry: (attempt, why, delayMs) => log.warn('delete: retrying', { kind, name, attempt, why, delayMs }),
      });
      if (res.status === 200 || res.status === 202 || res.status === 404) {
        log.info(res.status === 404 ? 'already absent' : 'deleted', { kind, name, status: res.status, attempts: res.attempts });
      } else {
        warnings.push(`deleting ${kind} ${name} answered HTTP ${res.status} after ${res.attempts} attempt(s): ${statusMessage(res.body)}`);
      }
    } catch (e) {
      warnings.push(`deleting ${kind} ${name} failed: ${describe(e)}`);
    }
  }
  return warnings;
}

/** Lambda entry point: answers CloudFormation via ResponseURL and resolves (never throws). */
export async function handler(event: CfnRequest, context?: Context): Promise<void> {
  const secrets: string[] = [];
  let redact = redactor(secrets);
  const addSecret = (s: string) => {
    secrets.push(s);
    redact = redactor(secrets);
  };
  // Every line passes through the current redactor (it learns the secret once read).
  const log = new JsonLogger({ handler: 'eks-webhook-config', requestId: context?.awsRequestId, requestType: event?.RequestType, logicalResourceId: event?.LogicalResourceId }, (line) => redact(line));
  if (!event || typeof event.ResponseURL !== 'string' || !['Create', 'Update', 'Delete'].includes(event.RequestType)) {
    log.error('not a CloudFormation custom resource request');
    return;
  }
  const fallbackId = event.PhysicalResourceId ?? `eks-webhook-configurations-failed:${event.RequestId}`;
  let answer: CfnAnswer;
  try {
    if (event.RequestType === 'Delete') {
      const target = parsePhysicalId(event.PhysicalResourceId);
      const warnings = target ? await remove(target, event.ResourceProperties, context, log) : [];
      for (const w of warnings) log.warn(w);
      answer = { Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId ?? fallbackId, Reason: warnings.join('; ') || undefined };
    } else {
      const props = parseProperties(event.ResourceProperties);
      const id = physicalId(props.clusterName, props.configurations);
      try {
        const data = await apply(props, context, log, addSecret);
        answer = { Status: 'SUCCESS', PhysicalResourceId: id, Data: data };
      } catch (e) {
        // A failed Create is deleted by CloudFormation with this id: it removes whatever was applied.
        answer = { Status: 'FAILED', PhysicalResourceId: event.RequestType === 'Create' ? id : fallbackId, Reason: describe(e) };
      }
    }
  } catch (e) {
    answer = { Status: 'FAILED', PhysicalResourceId: fallbackId, Reason: describe(e) };
  }
  if (answer.Reason) answer = { ...answer, Reason: redact(answer.Reason) };
  if (answer.Status === 'FAILED') log.error('failed', { reason: answer.Reason });
  const body = redact(cfnResponseBody(event, answer));
  try {
    const status = await sendCfnResponse(event.ResponseURL, body);
    log.info('answered CloudFormation', { status: answer.Status, physicalResourceId: answer.PhysicalResourceId, httpStatus: status });
  } catch (e) {
    log.error('could not answer CloudFormation', { error: describe(e) });
  }
}
