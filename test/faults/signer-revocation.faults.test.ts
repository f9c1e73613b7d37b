/**
 * GetRevocationStatus throttled or failing, through the whole engine with the REAL
 * @aws-sdk/client-signer (sdkSignerRevocationClient) pointed at a loopback endpoint that answers
 * faults in the restJson1 wire shape. Every case ends in a definite verdict: inconclusive at strict
 * (revocation enforced), verified with the failure logged when revocation is only logged.
 * Attempts are counted at the endpoint (the SDK's standard retry mode: bounded).
 */
import { createServer, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { RemoteRepository } from '../../src/verifier/registry/remote';
import { sdkSignerRevocationClient } from '../../src/verifier/signer';
import { ImageVerifier } from '../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { awsSignerShaped, Chain, makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { startRegistry, TestRegistry } from '../support/registry';
import { awsSignerSignOptions, envelopeMediaType, signEnvelope } from '../support/sign';

const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/faults';
const PROFILE_VERSION = `${PROFILE}/AbCdEf1234`;
const JOB = 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0f6a3bd6-2b3e-4a7f-9d27-8f4e0b1c2d3e';

type Answer = (res: ServerResponse) => void;

let registry: TestRegistry;
let chain: Chain;
let ref: string;
let server: Server;
let endpoint: string;
let answer: Answer;
let attempts = 0;
const saved = { ...process.env };

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const b = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b), ...headers });
  res.end(b);
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAULTS';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  registry = await startRegistry();
  chain = makeChain(awsSignerShaped());
  const image = await pushImage(registry.url, 'faults/signer');
  const envelope = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image, ...awsSignerSignOptions(PROFILE_VERSION, JOB) });
  await pushSignature(registry.url, 'faults/signer', image, envelope, envelopeMediaType('jws'));
  ref = `${registry.host}/faults/signer@${image.digest}`;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/revocations')) attempts++;
      answer(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  process.env = saved;
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await registry?.stop();
});

beforeEach(() => {
  attempts = 0;
});

function verifier(level: 'strict' | 'permissive', warnings: string[] = [], awsApiTimeoutMs?: number): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{
        name: 'signer',
        registryScopes: [`${registry.host}/faults/signer`],
        signatureVerification: { level },
        trustStores: ['signingAuthority:faults'],
        trustedIdentities: [PROFILE],
      }],
    },
    trustStores: new InMemoryTrustStore({ 'signingAuthority:faults': chain.rootPem }),
    sourceFor: (r) => new RemoteRepository(r, { plainHttpRegistries: [registry.host] }),
    signerClient: sdkSignerRevocationClient('us-east-1', endpoint),
    awsSignerRoots: [chain.chainDer[chain.chainDer.length - 1]],
    awsApiTimeoutMs,
    cacheTtlMs: 0,
    logger: { warn: (m) => warnings.push(m) },
  });
}

test('baseline: a healthy endpoint verifies (one call)', async () => {
  answer = (res) => json(res, 200, { revokedEntities: [] });
  expect((await verifier('strict').verify(ref)).status).toBe('verified');
  expect(attempts).toBe(1);
});

test('throttled (429 ThrottlingException): bounded SDK retries, then inconclusive AWS_API at strict', async () => {
  answer = (res) => json(res, 429, { message: 'Rate exceeded' }, { 'x-amzn-ErrorType': 'ThrottlingException' });
  const v = await verifier('strict').verify(ref);
  expect(v.status).toBe('inconclusive');
  expect(v.verified).toBe(false);
  expect(v.error?.code).toBe('AWS_API');
  expect(v.reasons.join()).toContain('GetRevocationStatus call failed with error');
  expect(attempts).toBeGreaterThanOrEqual(1);
  expect(attempts).toBeLessThanOrEqual(3);
}, 30_000);

test('failing (500 ServiceFailureException): inconclusive at strict; permissive verifies and logs', async () => {
  answer = (res) => json(res, 500, { message: 'internal' }, { 'x-amzn-ErrorType': 'ServiceFailureException' });
  const strict = await verifier('strict').verify(ref);
  expect(strict.status).toBe('inconclusive');
  expect(strict.error?.code).toBe('AWS_API');
  expect(attempts).toBeLessThanOrEqual(3);

  const warnings: string[] = [];
  const permissive = await verifier('permissive', warnings).verify(ref);
  expect(permissive.status).toBe('verified');
  expect(permissive.signatures[0].checks.find((c) => c.check === 'revocation')).toMatchObject({ passed: false, action: 'log' });
  expect(warnings.join('\n')).toMatch(/revocation check failed \(logged only\)/);
}, 30_000);

test('access denied (400 AccessDeniedException, not retried): inconclusive', async () => {
  answer = (res) => json(res, 400, { message: 'not authorized' }, { 'x-amzn-ErrorType': 'AccessDeniedException' });
  const v = await verifier('strict').verify(ref);
  expect(v.status).toBe('inconclusive');
  expect(v.reasons.join()).toContain('not authorized');
  expect(attempts).toBe(1);
});

test('connection reset by the endpoint: inconclusive, bounded attempts', async () => {
  answer = (res) => res.socket?.destroy();
  const v = await verifier('strict').verify(ref);
  expect(v.status).toBe('inconclusive');
  expect(v.error?.code).toBe('AWS_API');
  expect(attempts).toBeLessThanOrEqual(3);
}, 30_000);

test('a garbage 200 body: a failed revocation check (REVOCATION_UNKNOWN), never verified, not a transport failure', async () => {
  answer = (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"revokedEntities": [tru');
  };
  const v = await verifier('strict').verify(ref);
  expect(v.verified).toBe(false);
  expect(v.status).toBe('failed');
  expect(v.signatures[0].error).toMatchObject({ kind: 'failed', code: 'REVOCATION_UNKNOWN' });
}, 30_000);

test('a hanging endpoint is cut off by awsApiTimeoutMs: inconclusive, within the bound', async () => {
  answer = () => undefined; // never answers
  const started = Date.now();
  const v = await verifier('strict', [], 500).verify(ref);
  const elapsed = Date.now() - started;
  expect(v.status).toBe('inconclusive');
  expect(v.reasons.join()).toContain('GetRevocationStatus call failed with error: timed out after 500 ms');
  expect(elapsed).toBeLessThan(500 + 2000);
}, 30_000);
