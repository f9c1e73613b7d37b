/**
 * A local HTTP endpoint answering the AWS APIs the handlers call, in their real wire shapes, so the
 * AWS SDK v3 clients run unchanged (pointed here with AWS_ENDPOINT_URL_ECS / _SIGNER / _ECR):
 *  - ECS (awsJson1_1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`): DescribeServiceRevisions, StopTask
 *  - ECR (awsJson1_1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`): GetAuthorizationToken
 *  - AWS Signer (restJson1): `GET /revocations?...` (GetRevocationStatus), `POST /signing-jobs/with-payload` (SignPayload)
 *  - SNS (awsQuery: form-encoded `Action=Publish`, XML answer): Publish
 */
import * as http from 'http';
import * as net from 'net';
import { AddressInfo } from 'net';

export interface RecordedCall {
  readonly service: 'ecs' | 'ecr' | 'signer' | 'sns';
  readonly operation: string;
  readonly input: any;
}

export interface AwsFake {
  readonly url: string;
  readonly calls: RecordedCall[];
  /** Service revisions by ARN: `containerImages` as ECS returns them. */
  readonly revisions: Map<string, Array<{ containerName?: string; image?: string; imageDigest?: string }>>;
  /** When set, DescribeServiceRevisions answers this error (`__type`, HTTP status). */
  describeError?: { type: string; status: number; message: string };
  /** Entities GetRevocationStatus reports revoked. */
  revoked: string[];
  /** When set, GetRevocationStatus answers HTTP 200 with exactly this body (malformed-answer tests). */
  revocationBody?: string;
  /**
   * SignPayload: returns the envelope for the RECEIVED payload (base64-decoded), e.g. a JWS made with an
   * AWS-Signer-shaped PKI. Unset: SignPayload answers ValidationException.
   */
  signPayload?: (input: SignPayloadInput) => Uint8Array;
  /** When set, SignPayload answers these errors first, one per call, in order (restJson1: `x-amzn-errortype`). */
  signPayloadErrors: Array<{ type: string; status: number; message: string }>;
  stop(): Promise<void>;
}

/** The SignPayload request as the fake received it (payload decoded). */
export interface SignPayloadInput {
  readonly profileName: string;
  readonly profileOwner?: string;
  readonly payloadFormat: string;
  readonly payload: Buffer;
}

const ECS_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const ECR_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

export async function startAwsFake(): Promise<AwsFake> {
  const fake: Omit<AwsFake, 'url' | 'stop'> = { calls: [], revisions: new Map(), revoked: [], signPayloadErrors: [] } as any;
  const sockets = new Set<import('net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      const json = (status: number, obj: unknown, contentType = 'application/x-amz-json-1.1') => {
        res.writeHead(status, { 'content-type': contentType });
        res.end(JSON.stringify(obj));
      };
      if (target.startsWith(ECS_PREFIX)) {
        const op = target.slice(ECS_PREFIX.length);
        const input = body ? JSON.parse(body) : {};
        fake.calls.push({ service: 'ecs', operation: op, input });
        if (op === 'DescribeServiceRevisions') {
          if (fake.describeError) {
            json(fake.describeError.status, { __type: fake.describeError.type, message: fake.describeError.message });
            return;
          }
          const serviceRevisions: any[] = [];
          const failures: any[] = [];
          for (const arn of input.serviceRevisionArns ?? []) {
            const images = fake.revisions.get(arn);
            if (images) serviceRevisions.push({ serviceRevisionArn: arn, serviceArn: arn.replace(':service-revision/', ':service/').replace(/\/[^/]+$/, ''), containerImages: images, createdAt: 1700000000 });
            else failures.push({ arn, reason: 'MISSING' });
          }
          json(200, { serviceRevisions, failures });
          return;
        }
        if (op === 'StopTask') {
          json(200, { task: { taskArn: input.task, desiredStatus: 'STOPPED', lastStatus: 'RUNNING' } });
          return;
        }
        json(400, { __type: 'InvalidParameterException', message: `unsupported operation ${op}` });
        return;
      }
      if (target.startsWith(ECR_PREFIX)) {
        const op = target.slice(ECR_PREFIX.length);
        const input = body ? JSON.parse(body) : {};
        fake.calls.push({ service: 'ecr', operation: op, input });
        if (op === 'GetAuthorizationToken') {
          json(200, { authorizationData: [{ authorizationToken: Buffer.from('AWS:test-password').toString('base64'), expiresAt: Date.now() / 1000 + 43200, proxyEndpoint: 'https://example' }] });
          return;
        }
        json(400, { __type: 'InvalidParameterException', message: `unsupported operation ${op}` });
        return;
      }
      if (req.method === 'POST' && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        const form = new URLSearchParams(body);
        const op = form.get('Action') ?? '';
        fake.calls.push({ service: 'sns', operation: op, input: Object.fromEntries(form) });
        res.writeHead(op === 'Publish' ? 200 : 400, { 'content-type': 'text/xml' });
        res.end(op === 'Publish'
          ? '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>4f5e6d7c-0000-4000-8000-000000000001</MessageId></PublishResult>'
            + '<ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000002</RequestId></ResponseMetadata></PublishResponse>'
          : `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>unsupported ${op}</Message></Error></ErrorResponse>`);
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST' && url.pathname === '/signing-jobs/with-payload') {
        const raw = body ? JSON.parse(body) : {};
        const input: SignPayloadInput = {
          profileName: raw.profileName,
          profileOwner: raw.profileOwner,
          payloadFormat: raw.payloadFormat,
          payload: Buffer.from(String(raw.payload ?? ''), 'base64'),
        };
        fake.calls.push({ service: 'signer', operation: 'SignPayload', input });
        const restError = (status: number, type: string, message: string) => {
          res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
          res.end(JSON.stringify({ message }));
        };
        const queued = fake.signPayloadErrors.shift();
        if (queued) return restError(queued.status, queued.type, queued.message);
        if (!fake.signPayload) return restError(400, 'ValidationException', 'no signer configured in the fake');
        const envelope = fake.signPayload(input);
        const jobId = `job-${fake.calls.length}`;
        json(200, {
          jobId,
          jobOwner: input.profileOwner ?? '123456789012',
          metadata: { profileArn: `arn:aws:signer:us-east-1:${input.profileOwner}:/signing-profiles/${input.profileName}`, jobId },
          signature: Buffer.from(envelope).toString('base64'),
        }, 'application/json');
        return;
      }
      if (req.method === 'GET' && url.pathname === '/revocations') {
        const input = {
          platformId: url.searchParams.get('platformId'),
          profileVersionArn: url.searchParams.get('profileVersionArn'),
          jobArn: url.searchParams.get('jobArn'),
          signatureTimestamp: url.searchParams.get('signatureTimestamp'),
          certificateHashes: url.searchParams.getAll('certificateHashes'),
        };
        fake.calls.push({ service: 'signer', operation: 'GetRevocationStatus', input });
        if (fake.revocationBody !== undefined) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(fake.revocationBody);
          return;
        }
        const revoked = [input.profileVersionArn, input.jobArn, ...input.certificateHashes].filter((x) => x && fake.revoked.includes(x));
        json(200, { revokedEntities: revoked }, 'application/json');
        return;
      }
      json(404, { message: `no fake for ${req.method} ${req.url}` }, 'application/json');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  }) as AwsFake;
}

/** A TCP server that accepts connections and never answers (a hung registry). */
export async function startBlackHole(): Promise<{ host: string; stop(): Promise<void> }> {
  const sockets = new Set<import('net').Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
