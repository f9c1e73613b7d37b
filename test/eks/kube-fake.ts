/**
 * Fakes for the EKS webhook-configuration custom resource, speaking the real wire protocols:
 *  - a Kubernetes API server over HTTPS on loopback (server certificate from a test CA made with
 *    test/support/pki.ts, SAN IP 127.0.0.1) that authenticates bearer tokens the way EKS does in
 *    substance: it decodes the `k8s-aws-v1.` token into the presigned STS URL, checks host, action,
 *    version, expiry and that `x-k8s-aws-id` is signed and names the cluster, and RECOMPUTES the SigV4
 *    signature with an independent implementation (`@smithy/signature-v4`) and the credentials the STS
 *    fake issued; it answers server-side apply and delete of webhook configurations with real
 *    Kubernetes shapes (201/200 object, 404/422/401 `Status`);
 *  - AWS STS `AssumeRole` (awsQuery: form-encoded POST, XML answer) issuing fresh credentials;
 *  - Amazon EKS `DescribeCluster` (restJson1: `GET /clusters/<name>`, errors in `x-amzn-errortype`);
 *  - a CloudFormation `ResponseURL` endpoint recording the PUT.
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { AddressInfo, Socket } from 'net';
// An independent SigV4 implementation (a transitive dependency of the AWS SDK), for the test fake only.
// eslint-disable-next-line import/no-extraneous-dependencies
import { SignatureV4 } from '@smithy/signature-v4';
import { der, makeCertificate, makeKey } from '../support/pki';

// ---------------------------------------------------------------------------------------------------------
// Test PKI: a CA and a loopback server certificate
// ---------------------------------------------------------------------------------------------------------

export interface ServerPki {
  /** PEM of the CA (what the custom resource gets as CertificateAuthorityData, base64). */
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA and a server certificate for 127.0.0.1 (subjectAltName iPAddress), keys from slot `slot`. */
export function serverPki(slot: string): ServerPki {
  const caKey = makeKey('p256', `kube-ca/${slot}`);
  const leafKey = makeKey('p256', `kube-leaf/${slot}`);
  const caSubject = `CN=kubernetes ${slot},O=Test`;
  const ca = makeCertificate({ subject: caSubject, keyPair: caKey, keyUsage: ['keyCertSign', 'cRLSign'], basicConstraints: { ca: true } });
  const san = der.seq(der.implicit(7, new Uint8Array([127, 0, 0, 1])));
  const leaf = makeCertificate({
    subject: 'CN=kube-apiserver',
    keyPair: leafKey,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['serverAuth'],
    basicConstraints: { ca: false },
    extraExtensions: [{ oid: '2.5.29.17', value: san }],
  }, { privateKey: caKey.privateKey, publicKey: caKey.publicKey, subject: caSubject });
  return { caPem: ca.pem, certPem: leaf.pem, keyPem: leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

// ---------------------------------------------------------------------------------------------------------
// STS
// ---------------------------------------------------------------------------------------------------------

export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly roleArn: string;
}

export interface StsFake {
  readonly url: string;
  /** Credentials issued, by access key id. */
  readonly issued: Map<string, IssuedCredentials>;
  readonly calls: Array<Record<string, string>>;
  /** When set, AssumeRole answers AccessDenied (403). */
  deny?: boolean;
  stop(): Promise<void>;
}

export async function startStsFake(): Promise<StsFake> {
  const fake = { issued: new Map(), calls: [] } as unknown as StsFake;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      fake.calls.push(form);
      const requestId = randomUUID();
      const xml = (code: number, body: string) => {
        res.writeHead(code, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(body);
      };
      if (form.Action !== 'AssumeRole' || form.Version !== '2011-06-15') {
        return xml(400, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unsupported ${form.Action}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
      }
      if (fake.deny) {
        return xml(403, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>'
          + `<Message>User: arn:aws:sts::123456789012:assumed-role/cfg/fn is not authorized to perform: sts:AssumeRole on resource: ${form.RoleArn}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
      }
      const creds: IssuedCredentials = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(90).toString('base64'),
        roleArn: form.RoleArn,
      };
      fake.issued.set(creds.accessKeyId, creds);
      const expiration = new Date(Date.now() + Number(form.DurationSeconds ?? 3600) * 1000).toISOString();
      const roleName = form.RoleArn.split('/').pop();
      return xml(200, '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        + `<AssumedRoleUser><AssumedRoleId>AROA3XFRBF535PLBIFPI4:${form.RoleSessionName}</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/${roleName}/${form.RoleSessionName}</Arn></AssumedRoleUser>`
        + `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId><SecretAccessKey>${creds.secretAccessKey}</SecretAccessKey><SessionToken>${creds.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>`
        + `</AssumeRoleResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

export interface EksFake {
  readonly url: string;
  /** Clusters DescribeCluster knows: endpoint and base64 CA data, as EKS returns them. */
  readonly clusters: Map<string, { endpoint: string; caData: string }>;
  /** Names asked for. */
  readonly calls: string[];
  stop(): Promise<void>;
}

/** EKS DescribeCluster: `GET /clusters/{name}`, the answer's `cluster` shape, ResourceNotFoundException (404) otherwise. */
export async function startEksFake(): Promise<EksFake> {
  const fake = { clusters: new Map(), calls: [] } as unknown as EksFake;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const m = /^\/clusters\/([^/?]+)$/.exec(req.url ?? '');
      const requestId = randomUUID();
      const json = (code: number, body: unknown, errorType?: string) => {
        res.writeHead(code, { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'GET' || !m) return json(404, { message: 'unknown operation' }, 'UnknownOperationException');
      const name = decodeURIComponent(m[1]);
      fake.calls.push(name);
      const c = fake.clusters.get(name);
      if (!c) return json(404, { message: `No cluster found for name: ${name}.` }, 'ResourceNotFoundException');
      return json(200, {
        cluster: {
          name,
          arn: `arn:aws:eks:us-east-1:123456789012:cluster/${name}`,
          createdAt: 1733100000,
          version: '1.33',
          endpoint: c.endpoint,
          roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
          certificateAuthority: { data: c.caData },
          status: 'ACTIVE',
          platformVersion: 'eks.9',
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// ---------------------------------------------------------------------------------------------------------
// EKS token authentication (independent of the handler's presigner)
// ---------------------------------------------------------------------------------------------------------

/** node:crypto behind smithy's Checksum interface (SHA-256, or HMAC-SHA-256 with a secret). */
class NodeSha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  public constructor(private readonly secret?: string | Uint8Array) {
    this.hash = this.fresh();
  }
  public update(data: string | Uint8Array): void {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  }
  public async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  public reset(): void {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(this.secret as any));
  }
}

/** Why a token is refused, or `undefined` when it authenticates (then `identity` is the role). */
export async function authenticateEksToken(authorization: string | undefined, clusterName: string, region: string,
  issued: ReadonlyMap<string, IssuedCredentials>): Promise<{ error?: string; roleArn?: string }> {
  const m = /^Bearer k8s-aws-v1\.([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) return { error: 'not an EKS token' };
  let url: URL;
  try {
    url = new URL(Buffer.from(m[1], 'base64url').toString('utf8'));
  } catch {
    return { error: 'token is not a URL' };
  }
  const q = url.searchParams;
  if (url.protocol !== 'https:' || url.host !== `sts.${region}.amazonaws.com` || url.pathname !== '/') return { error: `wrong STS endpoint ${url.host}` };
  if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return { error: 'not GetCallerIdentity 2011-06-15' };
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > 60) return { error: `X-Amz-Expires ${q.get('X-Amz-Expires')} not in 1..60` };
  const signed = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signed.includes('x-k8s-aws-id') || !signed.includes('host')) return { error: 'x-k8s-aws-id is not signed' };
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
  if (!date) return { error: 'bad X-Amz-Date' };
  const signingDate = new Date(Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]));
  if (Math.abs(Date.now() - signingDate.getTime()) > 15 * 60_000) return { error: 'token expired' };
  const akid = (q.get('X-Amz-Credential') ?? '').split('/')[0];
  const creds = issued.get(akid);
  if (!creds) return { error: 'unknown access key' };
  if (q.get('X-Amz-Security-Token') !== creds.sessionToken) return { error: 'session token mismatch' };
  // Recompute the presigned URL for THIS cluster with the issued credentials: a token for another
  // cluster, or with a tampered field, gets another signature.
  const signer = new SignatureV4({
    service: 'sts',
    region,
    sha256: NodeSha256 as any,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
  });
  const presigned = await signer.presign({
    method: 'GET',
    protocol: 'https:',
    hostname: url.host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { 'host': url.host, 'x-k8s-aws-id': clusterName },
  } as any, { signingDate, expiresIn: expires });
  if (presigned.query?.['X-Amz-SignedHeaders'] !== q.get('X-Amz-SignedHeaders')) return { error: 'signed headers differ' };
  if (presigned.query?.['X-Amz-Signature'] !== q.get('X-Amz-Signature')) return { error: 'signature mismatch' };
  return { roleArn: creds.roleArn };
}

// ---------------------------------------------------------------------------------------------------------
// Kubernetes API server
// ---------------------------------------------------------------------------------------------------------

export interface KubeRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body: string;
  readonly status: number;
  readonly authError?: string;
}

export interface KubeFake {
  readonly endpoint: string;
  readonly pki: ServerPki;
  /** Stored objects by `<resource>/<name>`. */
  readonly objects: Map<string, any>;
  readonly requests: KubeRequestRecord[];
  /** TLS connections attempted (handshake started). */
  connections: number;
  /** Answers to send first, one per request, before authentication (e.g. 401/403 while access propagates, 503). */
  readonly queued: number[];
  /** Answer 422 Invalid (echoing the webhook URL, as the API server's validation does) to every apply. */
  invalid?: boolean;
  /** Role ARNs the cluster maps to an admin (others get 403). */
  readonly admins: Set<string>;
  stop(): Promise<void>;
}

const RESOURCES: Record<string, string> = {
  mutatingwebhookconfigurations: 'MutatingWebhookConfiguration',
  validatingwebhookconfigurations: 'ValidatingWebhookConfiguration',
};

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** A Kubernetes API server for `clusterName`, authenticating EKS tokens against the STS fake's credentials. */
export async function startKubeFake(opts: { clusterName: string; region: string; sts: StsFake; pki: ServerPki }): Promise<KubeFake> {
  const fake = { pki: opts.pki, objects: new Map(), requests: [], connections: 0, queued: [], admins: new Set<string>() } as unknown as KubeFake;
  const sockets = new Set<Socket>();
  const server = https.createServer({ key: opts.pki.keyPem, cert: opts.pki.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const record = (code: number, obj: unknown, authError?: string) => {
          fake.requests.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body, status: code, authError });
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        const queued = fake.queued.shift();
        if (queued) {
          return record(queued, status(queued, { 401: 'Unauthorized', 403: 'Forbidden', 429: 'TooManyRequests' }[queued] ?? 'InternalError', `injected ${queued}`));
        }
        const auth = await authenticateEksToken(req.headers.authorization, opts.clusterName, opts.region, opts.sts.issued);
        if (auth.error) return record(401, status(401, 'Unauthorized', 'Unauthorized'), auth.error);
        const url = new URL(req.url ?? '/', 'https://kube');
        const m = /^\/apis\/admissionregistration\.k8s\.io\/v1\/(mutatingwebhookconfigurations|validatingwebhookconfigurations)\/([a-z0-9.-]+)$/.exec(url.pathname);
        if (!m) return record(404, status(404, 'NotFound', 'the server could not find the requested resource'));
        const [, resource, name] = m;
        const kind = RESOURCES[resource];
        if (!fake.admins.has(auth.roleArn!)) {
          return record(403, status(403, 'Forbidden', `${kind.toLowerCase()}s.admissionregistration.k8s.io "${name}" is forbidden: User "${auth.roleArn}" cannot ${req.method === 'DELETE' ? 'delete' : 'patch'} resource "${resource}" in API group "admissionregistration.k8s.io" at the cluster scope`,
            { name, group: 'admissionregistration.k8s.io', kind: resource }));
        }
        const key = `${resource}/${name}`;
        if (req.method === 'DELETE') {
          const existing = fake.objects.get(key);
          if (!existing) return record(404, status(404, 'NotFound', `${resource}.admissionregistration.k8s.io "${name}" not found`, { name, group: 'admissionregistration.k8s.io', kind: resource }));
          fake.objects.delete(key);
          return record(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: 'admissionregistration.k8s.io', kind: resource, uid: existing.metadata.uid } });
        }
        if (req.method !== 'PATCH') return record(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
        if (req.headers['content-type'] !== 'application/apply-patch+yaml') {
          return record(415, status(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml'));
        }
        if (url.searchParams.get('fieldManager') !== 'cdk-signed-images' || url.searchParams.get('force') !== 'true') {
          return record(409, status(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "kubectl"'));
        }
        let obj: any;
        try {
          obj = JSON.parse(body);
        } catch {
          return record(400, status(400, 'BadRequest', 'error decoding YAML'));
        }
        if (obj.kind !== kind || obj.apiVersion !== 'admissionregistration.k8s.io/v1' || obj.metadata?.name !== name) {
          return record(400, status(400, 'BadRequest', `the name of the object (${obj.metadata?.name}) does not match the name on the URL (${name})`));
        }
        if (fake.invalid) {
          const url0 = obj.webhooks?.[0]?.clientConfig?.url;
          return record(422, status(422, 'Invalid', `${kind}.admissionregistration.k8s.io "${name}" is invalid: webhooks[0].clientConfig.url: Invalid value: "${url0}": must be a valid URL`,
            { name, group: 'admissionregistration.k8s.io', kind, causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "${url0}": must be a valid URL`, field: 'webhooks[0].clientConfig.url' }] }));
        }
        const existing = fake.objects.get(key);
        const stored = {
          ...obj,
          metadata: {
            ...obj.metadata,
            uid: existing?.metadata.uid ?? randomUUID(),
            resourceVersion: String(Date.now()),
            generation: (existing?.metadata.generation ?? 0) + 1,
            creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d{3}/, ''),
            managedFields: [{ manager: 'cdk-signed-images', operation: 'Apply', apiVersion: 'admissionregistration.k8s.io/v1', time: new Date().toISOString().replace(/\.\d{3}/, ''), fieldsType: 'FieldsV1', fieldsV1: {} }],
          },
        };
        fake.objects.set(key, stored);
        return record(existing ? 200 : 201, stored);
      })();
    });
  });
  server.on('connection', (s: Socket) => {
    fake.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake, {
    endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// CloudFormation ResponseURL
// ---------------------------------------------------------------------------------------------------------

export interface ResponseRecorder {
  readonly url: string;
  readonly puts: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }>;
  stop(): Promise<void>;
}

/** An HTTP endpoint recording PUTs (as S3 answers a presigned PUT: 200, empty body). */
export async function startResponseRecorder(): Promise<ResponseRecorder> {
  const puts: ResponseRecorder['puts'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') puts.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(req.method === 'PUT' ? 200 : 405);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    puts,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
