/**
 * Test support for the EKS admission webhook: Lambda function URL events (payload format 2.0, as
 * Lambda delivers them), AdmissionReview v1 requests as the API server sends them, Kubernetes objects,
 * a local Secrets Manager endpoint (JSON 1.1 wire protocol, `secretsmanager.GetSecretValue`), and an
 * RFC 6902 JSON Patch applier.
 */
import { randomBytes, randomUUID } from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';

// ---------------------------------------------------------------------------------------------------------
// Function URL events
// ---------------------------------------------------------------------------------------------------------

export interface UrlEventOptions {
  readonly method?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string>;
  /** `undefined` body: the event has no `body` field. */
  readonly noBody?: boolean;
}

/** A function URL invocation event (payload format 2.0) for a POST of `body` to `path`. */
export function urlEvent(path: string, body: string | undefined, opts: UrlEventOptions = {}): Record<string, unknown> {
  const now = new Date();
  const method = opts.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: 'timeout=10s',
    headers: {
      'accept': 'application/json, */*',
      'content-type': 'application/json',
      'host': 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
      'user-agent': 'kube-apiserver-admission',
      'x-amzn-trace-id': 'Root=1-6765a6d0-0123456789abcdef01234567',
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...(opts.headers ?? {}),
    },
    queryStringParameters: { timeout: '10s' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'kube-apiserver-admission' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(opts.noBody ? {} : { body: opts.isBase64Encoded && body !== undefined ? Buffer.from(body, 'utf8').toString('base64') : body }),
    isBase64Encoded: opts.isBase64Encoded ?? false,
  };
}

// ---------------------------------------------------------------------------------------------------------
// AdmissionReview requests and Kubernetes objects
// ---------------------------------------------------------------------------------------------------------

const GVK: Record<string, { group: string; version: string; resource: string }> = {
  Pod: { group: '', version: 'v1', resource: 'pods' },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  Job: { group: 'batch', version: 'v1', resource: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs' },
};

export interface ReviewOptions {
  readonly operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly dryRun?: boolean;
  readonly uid?: string;
  readonly oldObject?: unknown;
  readonly subResource?: string;
  readonly namespace?: string;
}

/** An `admission.k8s.io/v1` AdmissionReview for `object` (its `kind` decides the request's kind and resource). */
export function admissionReview(object: any, opts: ReviewOptions = {}): Record<string, any> {
  const kind = object.kind as string;
  const g = GVK[kind] ?? { group: 'example.com', version: 'v1', resource: `${kind.toLowerCase()}s` };
  const operation = opts.operation ?? 'CREATE';
  const namespace = opts.namespace ?? object.metadata?.namespace ?? 'default';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? randomUUID(),
      kind: { group: g.group, version: g.version, kind },
      resource: { group: g.group, version: g.version, resource: g.resource },
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      requestKind: { group: g.group, version: g.version, kind },
      requestResource: { group: g.group, version: g.version, resource: g.resource },
      name: object.metadata?.name,
      namespace,
      operation,
      userInfo: { username: 'kubernetes-admin', uid: 'aws-iam-authenticator:123456789012:AROAEXAMPLE', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: opts.oldObject ?? null,
      dryRun: opts.dryRun ?? false,
      options: operation === 'CREATE'
        ? { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions', fieldManager: 'kubectl-client-side-apply' }
        : { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions', fieldManager: 'kubectl-client-side-apply' },
    },
  };
}

export interface PodSpecImages {
  readonly containers: string[];
  readonly initContainers?: string[];
  readonly ephemeralContainers?: string[];
}

/** A pod spec with these images (containers `app-<i>`, `init-<i>`, `debug-<i>`). */
export function podSpec(images: PodSpecImages): Record<string, unknown> {
  const c = (prefix: string, list: string[]) => list.map((image, i) => ({
    name: `${prefix}-${i}`, image, imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
  }));
  return {
    containers: c('app', images.containers),
    ...(images.initContainers ? { initContainers: c('init', images.initContainers) } : {}),
    ...(images.ephemeralContainers ? { ephemeralContainers: images.ephemeralContainers.map((image, i) => ({ name: `debug-${i}`, image, stdin: true, tty: true })) } : {}),
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
    serviceAccountName: 'default',
    terminationGracePeriodSeconds: 30,
    securityContext: {},
    schedulerName: 'default-scheduler',
  };
}

export function pod(images: PodSpecImages, name = 'web'): Record<string, any> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { app: name } }, spec: podSpec(images) };
}

export function deployment(images: PodSpecImages, name = 'web'): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'shop', labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec(images) },
    },
  };
}

export function cronJob(images: PodSpecImages, name = 'nightly'): Record<string, any> {
  const spec = { ...podSpec(images), restartPolicy: 'OnFailure' };
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'shop' },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec } } } },
  };
}

/** A ReplicaSet, StatefulSet or DaemonSet (apps/v1) or a Job (batch/v1) with these images in its pod template. */
export function workload(kind: 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job', images: PodSpecImages, name = 'web'): Record<string, any> {
  const template = { metadata: { labels: { app: name } }, spec: podSpec(images) };
  const specs = {
    ReplicaSet: { replicas: 2, selector: { matchLabels: { app: name } }, template },
    StatefulSet: { replicas: 2, serviceName: name, selector: { matchLabels: { app: name } }, template },
    DaemonSet: { selector: { matchLabels: { app: name } }, template },
    Job: { backoffLimit: 2, template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } },
  };
  return { apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1', kind, metadata: { name, namespace: 'shop', labels: { app: name } }, spec: specs[kind] };
}

// ---------------------------------------------------------------------------------------------------------
// Secrets Manager (JSON 1.1 protocol)
// ---------------------------------------------------------------------------------------------------------

export interface SecretsFake {
  readonly url: string;
  readonly arn: string;
  secret: string;
  /** When set, GetSecretValue answers this HTTP status with an AWS error. */
  failWith?: number;
  readonly calls: Array<{ target: string; body: any }>;
  stop(): Promise<void>;
}

/** A local Secrets Manager endpoint holding one secret (`GetSecretValue` only). */
export async function startSecretsFake(): Promise<SecretsFake> {
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:EksWebhookSecret-AbCdEf';
  const state: SecretsFake = {
    url: '',
    arn,
    secret: randomBytes(24).toString('hex'),
    calls: [],
    stop: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: any = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        // answered below
      }
      state.calls.push({ target, body });
      const send = (status: number, obj: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(obj));
      };
      if (target !== 'secretsmanager.GetSecretValue') return send(400, { __type: 'UnknownOperationException', message: target });
      if (state.failWith) return send(state.failWith, { __type: state.failWith >= 500 ? 'InternalServiceError' : 'ResourceNotFoundException', message: 'injected fault' });
      if (body.SecretId !== arn) return send(400, { __type: 'ResourceNotFoundException', message: 'Secrets Manager can\'t find the specified secret.' });
      return send(200, { ARN: arn, Name: 'EksWebhookSecret', SecretString: state.secret, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as any).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6902 JSON Patch
// ---------------------------------------------------------------------------------------------------------

export interface PatchOp {
  readonly op: string;
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Applies an RFC 6902 patch (add, remove, replace, test; move/copy unsupported) to a deep copy of
 * `doc`. Throws on a failed `test` or a missing path, as RFC 6902 requires (the whole patch fails).
 */
export function applyJsonPatch<T>(doc: T, ops: readonly PatchOp[]): T {
  const root = { v: JSON.parse(JSON.stringify(doc)) };
  for (const op of ops) {
    const tokens = parsePointer(op.path);
    if (tokens.length === 0) throw new Error('patching the document root is not supported');
    let parent: any = root.v;
    for (const t of tokens.slice(0, -1)) {
      if (parent === null || typeof parent !== 'object' || !(t in parent)) throw new Error(`path ${op.path} does not exist`);
      parent = parent[t];
    }
    const last = tokens[tokens.length - 1];
    const isArray = Array.isArray(parent);
    const index = isArray ? (last === '-' ? parent.length : Number(last)) : -1;
    if (isArray && (!/^(0|[1-9][0-9]*|-)$/.test(last) || index > parent.length)) throw new Error(`bad array index in ${op.path}`);
    const exists = isArray ? index < parent.length : parent !== null && typeof parent === 'object' && Object.prototype.hasOwnProperty.call(parent, last);
    switch (op.op) {
      case 'test':
        if (!exists || !deepEqual(isArray ? parent[index] : parent[last], op.value)) throw new Error(`test failed at ${op.path}`);
        break;
      case 'replace':
        if (!exists) throw new Error(`replace: ${op.path} does not exist`);
        if (isArray) parent[index] = op.value;
        else parent[last] = op.value;
        break;
      case 'add':
        if (isArray) parent.splice(index, 0, op.value);
        else parent[last] = op.value;
        break;
      case 'remove':
        if (!exists) throw new Error(`remove: ${op.path} does not exist`);
        if (isArray) parent.splice(index, 1);
        else delete parent[last];
        break;
      default:
        throw new Error(`unsupported op ${op.op}`);
    }
  }
  return root.v;
}

/** Decodes an AdmissionReview answer's base64 `patch`. */
export function decodePatch(response: any): PatchOp[] {
  expect(response.patchType).toBe('JSONPatch');
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
}
