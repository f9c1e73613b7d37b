/**
 * The BUNDLED task-launch audit and direct-invoke verify handlers against the real loopback
 * docker-registry; ECS StopTask and SNS Publish answered by the local AWS fake.
 */
import * as http from 'http';
import * as net from 'net';
import { CLUSTER, context, Harness, startHarness, TASK, taskEvent } from './harness';
import { loadHandler } from '../support/handler-bundle';
import { pushImage } from '../support/push';
import { ReferrersServer, startReferrersServer } from '../support/registry';
import { captureStdout, Captured } from '../support/stdout-capture';

let h: Harness;
let audit: (event: unknown, ctx?: unknown) => Promise<any>;
let verify: (event: unknown, ctx?: unknown) => Promise<any>;
let out: Captured;

function split(ref: string): { image: string; imageDigest: string } {
  const [name, digest] = ref.split('@');
  return { image: `${name}:latest`, imageDigest: digest };
}

beforeAll(async () => {
  h = await startHarness();
  audit = loadHandler('task-audit').handler;
  verify = loadHandler('verify').handler;
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  h.aws.calls.length = 0;
  delete process.env.SNS_TOPIC_ARN;
  out = captureStdout();
});

afterEach(() => out.restore());

describe('task audit', () => {
  test('verifies every container (pinned to imageDigest), logs and counts; no StopTask by default', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit(taskEvent([split(h.signed), split(h.unsigned)]), context());
    expect(res.task).toBe(TASK);
    expect(res.results).toEqual([
      expect.objectContaining({ image: h.signed, container: 'c0', outcome: 'verified' }),
      expect.objectContaining({ image: h.unsigned, container: 'c1', outcome: 'rejected' }),
    ]);
    expect(res.stopped).toBe(false);
    expect(res.notified).toBe(false);
    expect(h.aws.calls.filter((c) => c.operation === 'StopTask')).toHaveLength(0);
    const verdicts = out.verdicts();
    expect(verdicts.find((v) => v.image === h.unsigned)).toMatchObject({ task: TASK, cluster: CLUSTER, handler: 'task-audit', outcome: 'rejected' });
    expect(out.emf()[0]).toMatchObject({ Verified: 1, Rejected: 1 });
    expect(out.lines.some((l) => l.message === 'task runs images that failed verification')).toBe(true);
  });

  test('stopTask (opt-in) stops a task running a rejected image through ECS StopTask', async () => {
    h.configure({ mode: 'AUDIT', stopTask: true });
    const res = await audit(taskEvent([split(h.unsigned)]), context());
    expect(res.stopped).toBe(true);
    const stop = h.aws.calls.find((c) => c.operation === 'StopTask');
    expect(stop?.input).toMatchObject({ task: TASK, cluster: CLUSTER });
    expect(stop?.input.reason).toContain('failed signature verification');
  });

  test('stopTask leaves tasks with verified images alone', async () => {
    h.configure({ mode: 'AUDIT', stopTask: true });
    const res = await audit(taskEvent([split(h.signed)]), context());
    expect(res.stopped).toBe(false);
    expect(h.aws.calls.filter((c) => c.operation === 'StopTask')).toHaveLength(0);
  });

  test('a container without imageDigest is resolved by tag, with a warning, and reported as unpinned', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit(taskEvent([{ image: h.taggedImage }]), context());
    expect(res.results[0]).toMatchObject({ image: h.taggedImage, outcome: 'verified', unpinned: true, digest: h.taggedDigest });
    expect(out.lines.some((l) => l.level === 'WARN' && /no imageDigest/.test(l.message))).toBe(true);
    expect(out.verdicts()[0]).toMatchObject({ image: h.taggedImage, unpinned: true, digest: h.taggedDigest, outcome: 'verified' });
  });

  test('a rejected image is published to the SNS topic (real SNS client, awsQuery wire shape)', async () => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:alerts';
    const res = await audit(taskEvent([split(h.signed), split(h.unsigned)]), context());
    expect(res.notified).toBe(true);
    const published = h.aws.calls.filter((c) => c.service === 'sns' && c.operation === 'Publish');
    expect(published).toHaveLength(1);
    expect(published[0].input.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:alerts');
    const message = JSON.parse(published[0].input.Message);
    expect(JSON.stringify(message.rejected)).toContain(h.unsignedDigest);
    expect(JSON.stringify(message.rejected)).not.toContain(h.signedDigest);
  });

  test('no rejection, no notification', async () => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:alerts';
    const res = await audit(taskEvent([split(h.signed)]), context());
    expect(res.notified).toBe(false);
    expect(h.aws.calls.filter((c) => c.service === 'sns')).toHaveLength(0);
  });

  test('another event type is malformed: logged at ERROR and counted as inconclusive, nothing verified', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit({ 'detail-type': 'ECS Container Instance State Change', 'detail': {} }, context());
    expect(res.malformed).toContain('detail-type');
    expect(res.results).toEqual([expect.objectContaining({ outcome: 'inconclusive', malformed: true })]);
    expect(out.verdicts()).toHaveLength(0);
    expect(out.emf()[0]).toMatchObject({ Inconclusive: 1, Verified: 0, Rejected: 0 });
  });

  test('exempt images are counted as exempt', async () => {
    h.configure({ mode: 'AUDIT', exemptions: [`${h.registry.host}/app/uns*`] });
    const res = await audit(taskEvent([split(h.unsigned)]), context());
    expect(res.results[0].outcome).toBe('exempt');
    expect(out.emf()[0]).toMatchObject({ Exempt: 1, Rejected: 0 });
  });
});

describe('verify (direct invoke)', () => {
  test('returns one verdict per image', async () => {
    h.configure({});
    const res = await verify({ images: [h.signed, h.unsigned] }, context());
    expect(res.allowed).toBe(false);
    expect(res.results.map((r: any) => r.outcome)).toEqual(['verified', 'rejected']);
    expect(res.results[0].verdict).toMatchObject({ status: 'verified', digest: h.signedDigest, policyStatement: 'test-ca' });
    expect(res.results[1].verdict.reasons.join(' ')).toContain('no signature');
  });

  test('all verified → allowed', async () => {
    h.configure({});
    expect((await verify({ images: [h.signed] }, context())).allowed).toBe(true);
  });

  test('malformed requests are answered with an error', async () => {
    h.configure({});
    for (const bad of [{}, { images: [] }, { images: [1] }, null]) {
      const res = await verify(bad, context());
      expect(res.allowed).toBe(false);
      expect(res.error).toContain('images');
    }
  });

  test('a trust policy in TRUST_POLICY overrides the file (deploy-time tokens path)', async () => {
    h.configure({});
    process.env.TRUST_POLICY = JSON.stringify({
      version: '1.0',
      trustPolicies: [{ name: 'from-env', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
    });
    try {
      const res = await verify({ images: [h.unsigned] }, context());
      expect(res.results[0]).toMatchObject({ outcome: 'skipped' });
      expect(res.allowed).toBe(true);
    } finally {
      delete process.env.TRUST_POLICY;
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Issue 8, item 13 and the audit side of items 2, 10 and 11: the audit loses nothing
// ---------------------------------------------------------------------------------------------------------

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:alerts';

/** A reverse proxy in front of the real docker-registry that answers chosen requests with a status instead. */
interface FaultProxy {
  readonly host: string;
  /** Returns a status to answer instead of forwarding, or undefined to forward. */
  fault: (method: string, path: string) => number | undefined;
  readonly requests: string[];
  stop(): Promise<void>;
}

async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [thost, tport] = target.split(':');
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<net.Socket>();
  const p: FaultProxy = {
    host: '',
    fault: () => undefined,
    requests: [],
    stop: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    p.requests.push(line);
    const status = p.fault(req.method ?? 'GET', req.url ?? '/');
    if (status !== undefined) {
      req.resume();
      const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${status}` }] });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const up = http.request({ host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers, agent }, (ures) => {
      const headers = { ...ures.headers };
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`http://${target}`, `http://${p.host}`);
      res.writeHead(ures.statusCode ?? 502, headers);
      ures.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (p as any).host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  p.stop = async () => {
    agent.destroy();
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return p;
}

/** A TCP server that accepts connections and never answers; counts the connections still open. */
async function startSilentRegistry(): Promise<{ host: string; open(): number; total(): number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let total = 0;
  const server = net.createServer((sock) => {
    total++;
    sockets.add(sock);
    sock.resume(); // read (and discard) so that the client's FIN is seen and 'close' fires
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    open: () => sockets.size,
    total: () => total,
    stop: async () => {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Waits (bounded) until `cond()` holds; returns whether it did. Not a timing assertion: the bound is generous. */
async function eventually(cond: () => boolean, boundMs = 8000): Promise<boolean> {
  const end = Date.now() + boundMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

function publishes(): any[] {
  return h.aws.calls.filter((c) => c.service === 'sns' && c.operation === 'Publish');
}

function onlyMessage(): any {
  const p = publishes();
  expect(p).toHaveLength(1);
  return { subject: p[0].input.Subject, message: JSON.parse(p[0].input.Message) };
}

function stopCalls(): any[] {
  return h.aws.calls.filter((c) => c.operation === 'StopTask');
}

describe('registry glitches: notified, never read as a verdict, StopTask only on definitive rejections', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(h.registry.host);
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  beforeEach(() => {
    proxy.fault = () => undefined;
    proxy.requests.length = 0;
  });

  const via = (ref: string) => ref.replace(h.registry.host, proxy.host);
  const configure = (extra: Record<string, unknown> = {}) =>
    h.configure({ mode: 'AUDIT', plainHttpRegistries: [h.registry.host, proxy.host], registryTimeoutMs: 2000, cacheTtlMs: 0, ...extra });
  const unavailable = (repo: string) => (_m: string, path: string) => (path.startsWith(`/v2/${repo}/`) ? 503 : undefined);

  test('an unsigned image whose registry answers 503 is inconclusive, counted, and notified as "inconclusive" with image, digest, reason, task and cluster', async () => {
    configure();
    process.env.SNS_TOPIC_ARN = TOPIC;
    proxy.fault = unavailable('app/unsigned');
    const image = via(h.unsigned);
    const res = await audit(taskEvent([split(image)]), context());
    expect(res.results).toEqual([expect.objectContaining({ image, outcome: 'inconclusive', digest: h.unsignedDigest })]);
    expect(res.results[0].reasons.join(' ')).toMatch(/503|unavailable/i);
    expect(res.notified).toBe(true);
    const { subject, message } = onlyMessage();
    expect(subject).toMatch(/inconclusive/);
    expect(message).toMatchObject({ result: 'inconclusive', task: TASK, cluster: CLUSTER, group: 'service:demo-service', rejected: [], unfinished: [] });
    expect(message.inconclusive).toEqual([expect.objectContaining({ result: 'inconclusive', image, digest: h.unsignedDigest, container: 'c0' })]);
    expect(message.inconclusive[0].reason).toEqual(expect.any(String));
    expect(out.emf()[0]).toMatchObject({ Inconclusive: 1, Rejected: 0, Verified: 0 });
  });

  test('StopTask is not called for an inconclusive result by default (stopTask on)', async () => {
    configure({ stopTask: true });
    proxy.fault = unavailable('app/unsigned');
    const res = await audit(taskEvent([split(via(h.unsigned))]), context());
    expect(res.results[0].outcome).toBe('inconclusive');
    expect(res.stopped).toBe(false);
    expect(stopCalls()).toHaveLength(0);
    expect(out.lines.some((l) => /not stopping the task/.test(l.message))).toBe(true);
  });

  test('stopTaskOnInconclusive (opt-in) stops a task whose unsigned image sits behind a 503', async () => {
    configure({ stopTask: true, stopTaskOnInconclusive: true });
    proxy.fault = unavailable('app/unsigned');
    const res = await audit(taskEvent([split(via(h.unsigned))]), context());
    expect(res.stopped).toBe(true);
    expect(stopCalls()).toHaveLength(1);
    expect(stopCalls()[0].input).toMatchObject({ task: TASK, cluster: CLUSTER });
    expect(stopCalls()[0].input.reason).toMatch(/could not be verified/);
    expect(stopCalls()[0].input.reason.length).toBeLessThanOrEqual(255);
  });

  test('stopTaskOnInconclusive without stopTask stops nothing', async () => {
    configure({ stopTask: false, stopTaskOnInconclusive: true });
    proxy.fault = unavailable('app/unsigned');
    const res = await audit(taskEvent([split(via(h.unsigned))]), context());
    expect(res.stopped).toBe(false);
    expect(stopCalls()).toHaveLength(0);
  });

  test('a definitive rejection still stops with stopTaskOnInconclusive on; its reason names the rejection', async () => {
    configure({ stopTask: true, stopTaskOnInconclusive: true });
    const res = await audit(taskEvent([split(via(h.unsigned))]), context());
    expect(res.results[0].outcome).toBe('rejected');
    expect(stopCalls()[0].input.reason).toMatch(/failed signature verification/);
  });

  // A validly signed image whose registry glitches: never stopped, whatever the glitch.
  const sigManifest = (m: string, path: string) => m === 'GET' && /^\/v2\/app\/signed\/manifests\/sha256:/.test(path) && !path.includes(h.signedDigest.slice(7));
  const referrers = (m: string, path: string) => m === 'GET' && /^\/v2\/app\/signed\/referrers\//.test(path);
  const tagIndex = (m: string, path: string) => m === 'GET' && /^\/v2\/app\/signed\/manifests\/sha256-/.test(path);
  test.each([
    ['the listed signature manifest answers 503', sigManifest, 503],
    ['the listed signature manifest answers 429', sigManifest, 429],
    ['the referrers listing answers 400', referrers, 400],
    ['the referrers listing answers 408', referrers, 408],
    ['the referrers listing answers 410', referrers, 410],
    ['the referrers listing answers 500', referrers, 500],
    ['the tag-schema index answers 503', tagIndex, 503],
    ['the tag-schema index answers 408', tagIndex, 408],
  ])('a validly signed image is not stopped when %s', async (_name, match, status) => {
    configure({ stopTask: true });
    process.env.SNS_TOPIC_ARN = TOPIC;
    proxy.fault = (m, path) => (match(m, path) ? status : undefined);
    const image = via(h.signed);
    const res = await audit(taskEvent([split(image)]), context());
    expect(proxy.requests.length).toBeGreaterThan(0);
    expect(res.results[0].outcome).not.toBe('rejected');
    expect(res.stopped).toBe(false);
    expect(stopCalls()).toHaveLength(0);
    if (res.results[0].outcome === 'inconclusive') expect(onlyMessage().message.result).toBe('inconclusive');
  });
});

/** Copies `repo@digest` and its signatures (found through the tag-schema index) from the docker-registry into `server`. */
async function mirror(repo: string, digest: string, server: ReferrersServer): Promise<string> {
  const get = async (path: string, accept?: string) => {
    const res = await fetch(`${h.registry.url}${path}`, { headers: accept ? { accept } : {} });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    return { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
  };
  const copyManifest = async (d: string) => {
    const m = await get(`/v2/${repo}/manifests/${d}`, 'application/vnd.oci.image.manifest.v1+json');
    const json = JSON.parse(m.bytes.toString('utf8'));
    for (const b of [json.config, ...(json.layers ?? [])]) server.putBlob(repo, (await get(`/v2/${repo}/blobs/${b.digest}`)).bytes);
    return server.putManifest(repo, m.bytes, m.type);
  };
  await copyManifest(digest);
  const index = JSON.parse((await get(`/v2/${repo}/manifests/${digest.replace(':', '-')}`, 'application/vnd.oci.image.index.v1+json')).bytes.toString('utf8'));
  const signatures: string[] = [];
  for (const m of index.manifests) signatures.push(await copyManifest(m.digest));
  return signatures[0];
}

describe('a registry with the referrers API: a listed signature that answers 404 is replication lag, not a rejection', () => {
  let server: ReferrersServer;
  let signature: string;
  beforeAll(async () => {
    server = await startReferrersServer();
    signature = await mirror('app/signed', h.signedDigest, server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('control: through the referrers API the signed image is verified', async () => {
    h.configure({ mode: 'AUDIT', stopTask: true, plainHttpRegistries: [h.registry.host, server.host], cacheTtlMs: 0 });
    const res = await audit(taskEvent([split(`${server.host}/app/signed@${h.signedDigest}`)]), context());
    expect(res.results[0].outcome).toBe('verified');
    expect(server.requests().some((r) => r.includes('/referrers/'))).toBe(true);
  });

  test.each([404, 503, 500])('the listed signature manifest answers %i: not rejected, not stopped, notified as inconclusive', async (status) => {
    h.configure({ mode: 'AUDIT', stopTask: true, plainHttpRegistries: [h.registry.host, server.host], registryTimeoutMs: 2000, cacheTtlMs: 0 });
    process.env.SNS_TOPIC_ARN = TOPIC;
    server.clearFaults();
    server.addFault({ match: `/manifests/${signature}`, status });
    try {
      const res = await audit(taskEvent([split(`${server.host}/app/signed@${h.signedDigest}`)]), context());
      expect(server.requests().some((r) => r.includes(`/manifests/${signature}`))).toBe(true);
      expect(res.results[0].outcome).toBe('inconclusive');
      expect(res.stopped).toBe(false);
      expect(stopCalls()).toHaveLength(0);
      expect(onlyMessage().message.result).toBe('inconclusive');
    } finally {
      server.clearFaults();
    }
  });
});

describe('a registry with the referrers API whose listing glitches: inconclusive, never a rejection', () => {
  // A fresh registry (new host) per case, so that no remembered referrers capability carries over.
  test.each([
    [400, undefined],
    [408, undefined],
    [410, undefined],
    [429, undefined],
    [503, undefined],
    [302, undefined],
    [302, { location: '/elsewhere' }],
  ])('the referrers listing answers %i (%j): the signed image is not rejected and not stopped', async (status, headers) => {
    const server = await startReferrersServer();
    try {
      await mirror('app/signed', h.signedDigest, server);
      h.configure({ mode: 'AUDIT', stopTask: true, plainHttpRegistries: [h.registry.host, server.host], registryTimeoutMs: 2000, cacheTtlMs: 0 });
      server.addFault({ match: '/referrers/', status, headers });
      const res = await audit(taskEvent([split(`${server.host}/app/signed@${h.signedDigest}`)]), context());
      expect(server.requests().some((r) => r.includes('/referrers/'))).toBe(true);
      expect(res.results[0].outcome).not.toBe('rejected');
      expect(res.stopped).toBe(false);
      expect(stopCalls()).toHaveLength(0);
    } finally {
      await server.stop();
    }
  });
});

describe('unfinished verifications and the abort signal', () => {
  let silent: Awaited<ReturnType<typeof startSilentRegistry>>;
  beforeAll(async () => {
    silent = await startSilentRegistry();
  });
  afterAll(async () => {
    await silent?.stop();
  });

  const configure = (extra: Record<string, unknown> = {}) =>
    h.configure({ mode: 'AUDIT', plainHttpRegistries: [h.registry.host, silent.host], registryTimeoutMs: 30_000, deadlineMarginMs: 1000, ...extra });
  const hung = () => `${silent.host}/app/hung@${h.signedDigest}`;

  test('out of time: "unfinished", counted as inconclusive, notified as "unfinished", not stopped by default', async () => {
    configure({ stopTask: true });
    process.env.SNS_TOPIC_ARN = TOPIC;
    const res = await audit(taskEvent([split(hung())]), context(1500));
    expect(res.results).toEqual([expect.objectContaining({ image: hung(), outcome: 'unfinished', digest: h.signedDigest })]);
    expect(res.stopped).toBe(false);
    expect(stopCalls()).toHaveLength(0);
    const { subject, message } = onlyMessage();
    expect(subject).toMatch(/unfinished/);
    expect(message).toMatchObject({ result: 'unfinished', task: TASK, cluster: CLUSTER });
    expect(message.unfinished).toEqual([expect.objectContaining({ image: hung(), digest: h.signedDigest, reason: expect.stringContaining('out of time') })]);
    expect(out.emf()[0]).toMatchObject({ Inconclusive: 1 });
  });

  test('out of time with stopTaskOnInconclusive: stopped', async () => {
    configure({ stopTask: true, stopTaskOnInconclusive: true });
    const res = await audit(taskEvent([split(hung())]), context(1500));
    expect(res.results[0].outcome).toBe('unfinished');
    expect(res.stopped).toBe(true);
    expect(stopCalls()[0].input.reason).toMatch(/unfinished/);
  });

  test('the verification is aborted when the handler answers: no connection to the hung registry outlives the invocation', async () => {
    configure();
    const before = silent.total();
    const res = await audit(taskEvent([split(hung())]), context(1500));
    expect(res.results[0].outcome).toBe('unfinished');
    expect(silent.total()).toBeGreaterThan(before);
    // registryTimeoutMs is 30 s: only the abort can close the connection this early.
    expect(await eventually(() => silent.open() === 0)).toBe(true);
  });
});

describe('malformed events and containers: logged at ERROR, counted and notified as inconclusive', () => {
  test.each([
    ['no image field', { image: undefined }],
    ['an image that is a number', { image: 42 }],
    ['an image that is an object', { image: { name: 'x' } }],
    ['an empty image', { image: '' }],
    ['a blank image', { image: '   ' }],
    ['an imageDigest that is not a digest', { image: 'x/y:1', imageDigest: 'sha256:xyz' }],
    ['an imageDigest that is a number', { image: 'x/y:1', imageDigest: 42 }],
    ['an imageDigest with a foreign algorithm', { image: 'x/y:1', imageDigest: `md5:${'0'.repeat(32)}` }],
  ])('a container with %s next to a signed one', async (_name, bad) => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = TOPIC;
    const res = await audit(taskEvent([split(h.signed), bad as Record<string, unknown>]), context());
    expect(res.results).toHaveLength(2);
    expect(res.results[0]).toMatchObject({ image: h.signed, outcome: 'verified' });
    expect(res.results[1]).toMatchObject({ container: 'c1', outcome: 'inconclusive', malformed: true });
    expect(res.results[1].reasons.join(' ')).toMatch(/malformed container entry 1/);
    expect(out.emf()[0]).toMatchObject({ Verified: 1, Inconclusive: 1 });
    expect(out.lines.some((l) => l.level === 'ERROR' && /malformed container entry/.test(l.message) && l.index === 1)).toBe(true);
    const { message } = onlyMessage();
    expect(message).toMatchObject({ result: 'inconclusive', task: TASK });
    expect(message.inconclusive).toEqual([expect.objectContaining({ malformed: true, container: 'c1' })]);
  });

  test('a container entry that is null or not an object', async () => {
    h.configure({ mode: 'AUDIT' });
    const event: any = taskEvent([split(h.signed)]);
    event.detail.containers.push(null, 'x', [1]);
    const res = await audit(event, context());
    expect(res.results.map((r: any) => r.outcome)).toEqual(['verified', 'inconclusive', 'inconclusive', 'inconclusive']);
    expect(out.emf()[0]).toMatchObject({ Verified: 1, Inconclusive: 3 });
  });

  const withDetail = (patch: (d: any) => void) => {
    const e: any = taskEvent([split(h.signed)]);
    patch(e.detail);
    return e;
  };
  test.each([
    ['null', () => null],
    ['a string', () => 'x'],
    ['an array', () => []],
    ['an empty object', () => ({})],
    ['no detail', () => {
      const e: any = taskEvent([split(h.signed)]);
      delete e.detail;
      return e;
    }],
    ['a string detail', () => ({ ...taskEvent([]), detail: 'x' })],
    ['an array detail', () => ({ ...taskEvent([]), detail: [] })],
    ['no containers', () => withDetail((d) => delete d.containers)],
    ['containers as an object', () => withDetail((d) => { d.containers = { 0: { image: 'x' } }; })],
    ['containers as a string', () => withDetail((d) => { d.containers = 'x'; })],
    ['containers null', () => withDetail((d) => { d.containers = null; })],
    ['an empty containers list', () => withDetail((d) => { d.containers = []; })],
    ['a non-string lastStatus', () => withDetail((d) => { d.lastStatus = 5; })],
  ])('an event that is %s: malformed, inconclusive, notified, nothing verified', async (_name, make) => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = TOPIC;
    const res = await audit(make(), context());
    expect(res.malformed).toEqual(expect.any(String));
    expect(res.results).toEqual([expect.objectContaining({ outcome: 'inconclusive', malformed: true })]);
    expect(out.verdicts()).toHaveLength(0);
    expect(out.emf()).toHaveLength(1);
    expect(out.emf()[0]).toMatchObject({ Inconclusive: 1 });
    expect(out.lines.some((l) => l.level === 'ERROR' && /malformed task state change event/.test(l.message))).toBe(true);
    expect(onlyMessage().message.result).toBe('inconclusive');
  });

  test('the notification stays bounded (SNS allows 256 KB) whatever the event holds', async () => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = TOPIC;
    const huge = 'x'.repeat(100_000);
    const containers = Array.from({ length: 30 }, () => ({ image: huge, imageDigest: 'sha256:bad' }));
    const res = await audit(taskEvent(containers), context());
    expect(res.results).toHaveLength(30);
    expect(out.emf()[0]).toMatchObject({ Inconclusive: 30 });
    const published = publishes();
    expect(published).toHaveLength(1);
    expect(Buffer.byteLength(published[0].input.Message)).toBeLessThan(64 * 1024);
    const message = JSON.parse(published[0].input.Message);
    expect(message.inconclusive).toHaveLength(20);
    expect(message.omitted).toBe(10);
    expect(message.inconclusive[0].image.length).toBeLessThan(600);
    expect(res.results[0].image.length).toBeLessThan(600);
    for (const l of out.lines) expect(JSON.stringify(l).length).toBeLessThan(64 * 1024);
  });

  test('with stopTaskOnInconclusive a malformed container stops the task; without it, not', async () => {
    h.configure({ mode: 'AUDIT', stopTask: true });
    await audit(taskEvent([split(h.signed), { image: 7 }]), context());
    expect(stopCalls()).toHaveLength(0);
    h.configure({ mode: 'AUDIT', stopTask: true, stopTaskOnInconclusive: true });
    const res = await audit(taskEvent([split(h.signed), { image: 7 }]), context());
    expect(res.stopped).toBe(true);
  });

  test.each(['STOPPED', 'PENDING', 'DEPROVISIONING'])('a task whose lastStatus is %s is logged and ignored (no verdict, no count)', async (status) => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = TOPIC;
    const res = await audit(withDetail((d) => { d.lastStatus = status; }), context());
    expect(res.ignored).toBe(`lastStatus ${status}`);
    expect(res.results).toEqual([]);
    expect(out.verdicts()).toHaveLength(0);
    expect(out.emf()[0]).toMatchObject({ Inconclusive: 0, Verified: 0, Rejected: 0 });
    expect(out.lines.some((l) => l.level === 'WARN' && /not RUNNING/.test(l.message))).toBe(true);
    expect(publishes()).toHaveLength(0);
  });

  test('an event without lastStatus is audited', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit(withDetail((d) => delete d.lastStatus), context());
    expect(res.results[0]).toMatchObject({ outcome: 'verified' });
  });
});

describe('unpinned images are reported, never blocked', () => {
  test('a tag naming an unsigned image: rejected, unpinned, notified with the tag\'s current digest', async () => {
    const desc = await pushImage(h.registry.url, 'app/moving', { tag: 'v2' });
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = TOPIC;
    const image = `${h.registry.host}/app/moving:v2`;
    const res = await audit(taskEvent([{ image }]), context());
    expect(res.results[0]).toMatchObject({ image, outcome: 'rejected', unpinned: true, digest: desc.digest });
    expect(out.verdicts()[0]).toMatchObject({ image, unpinned: true, digest: desc.digest, outcome: 'rejected' });
    expect(onlyMessage().message.rejected).toEqual([expect.objectContaining({ image, unpinned: true, digest: desc.digest })]);
  });

  test('an image pinned in its own reference (no imageDigest field) is not unpinned', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit(taskEvent([{ image: h.signed }]), context());
    expect(res.results[0]).toMatchObject({ image: h.signed, outcome: 'verified', digest: h.signedDigest });
    expect(res.results[0].unpinned).toBeUndefined();
    expect(out.verdicts()[0].unpinned).toBeUndefined();
  });

  test('a pinned container is not unpinned', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit(taskEvent([split(h.signed)]), context());
    expect(res.results[0].unpinned).toBeUndefined();
  });
});

describe('configuration errors are logged, counted and notified, never thrown', () => {
  afterEach(() => {
    delete process.env.SIGNED_IMAGES_METRICS_NAMESPACE;
  });

  const badConfigs: Array<[string, () => void]> = [
    ['a missing config file', () => { process.env.VERIFIER_CONFIG_PATH = '/nonexistent/cdk-signed-images/config.json'; }],
    ['an invalid mode', () => h.configure({ mode: 'BLOCK' })],
    ['an unsupported config version', () => h.configure({ version: 99 })],
    ['an invalid trust policy', () => h.configure({ trustPolicy: { version: '1.0', trustPolicies: [{ name: 'x', registryScopes: ['*'], signatureVerification: { level: 'paranoid' } }] } })],
    ['an invalid TRUST_POLICY variable', () => {
      h.configure({});
      process.env.TRUST_POLICY = '{not json';
    }],
  ];

  test.each(badConfigs)('%s: resolves, ERROR line, ConfigurationErrors in the default namespace, SNS "configuration-error"', async (_name, setUp) => {
    setUp();
    process.env.SNS_TOPIC_ARN = TOPIC;
    try {
      const res = await audit(taskEvent([split(h.unsigned)]), context());
      expect(res).toMatchObject({ task: TASK, results: [], stopped: false, notified: true });
      expect(res.configurationError).toEqual(expect.any(String));
    } finally {
      delete process.env.TRUST_POLICY;
    }
    expect(out.lines.some((l) => l.level === 'ERROR' && /configuration error/.test(l.message) && l.task === TASK)).toBe(true);
    const emf = out.emf();
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ ConfigurationErrors: 1, FunctionName: 'test-verifier' });
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'SignedImages', Metrics: [{ Name: 'ConfigurationErrors', Unit: 'Count' }] });
    const { subject, message } = onlyMessage();
    expect(subject).toMatch(/configuration error/);
    expect(message).toMatchObject({ result: 'configuration-error', task: TASK, cluster: CLUSTER, error: expect.any(String) });
    expect(out.verdicts()).toHaveLength(0);
  });

  test('the namespace comes from SIGNED_IMAGES_METRICS_NAMESPACE (set by the construct); no topic, no notification', async () => {
    process.env.VERIFIER_CONFIG_PATH = '/nonexistent/cdk-signed-images/config.json';
    process.env.SIGNED_IMAGES_METRICS_NAMESPACE = 'MyAudit';
    const res = await audit(null, context());
    expect(res).toMatchObject({ results: [], notified: false, stopped: false });
    expect(out.emf()[0]._aws.CloudWatchMetrics[0].Namespace).toBe('MyAudit');
    expect(publishes()).toHaveLength(0);
  });
});

describe('a notification that cannot be published fails the invocation (Lambda retries, then dead-letters the event)', () => {
  test('SNS endpoint refusing connections: rejects with NotificationError after logging and counting', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_SNS;
    process.env.AWS_ENDPOINT_URL_SNS = 'http://127.0.0.1:9';
    process.env.SNS_TOPIC_ARN = TOPIC;
    try {
      const fresh = loadHandler('task-audit').handler;
      h.configure({ mode: 'AUDIT' });
      await expect(fresh(taskEvent([split(h.unsigned)]), context())).rejects.toMatchObject({ name: 'NotificationError' });
      expect(out.verdicts().find((v) => v.image === h.unsigned)).toMatchObject({ outcome: 'rejected' });
      expect(out.emf()[0]).toMatchObject({ Rejected: 1 });
      expect(out.lines.some((l) => l.level === 'ERROR' && /SNS notification failed/.test(l.message))).toBe(true);
      // nothing to notify: nothing to fail
      await expect(fresh(taskEvent([split(h.signed)]), context())).resolves.toMatchObject({ notified: false });
      // a configuration error whose notification cannot be published: counted, then the invocation fails
      process.env.VERIFIER_CONFIG_PATH = '/nonexistent/cdk-signed-images/config.json';
      out.lines.length = 0;
      await expect(fresh(taskEvent([split(h.signed)]), context())).rejects.toMatchObject({ name: 'NotificationError' });
      expect(out.emf()).toEqual([expect.objectContaining({ ConfigurationErrors: 1 })]);
    } finally {
      process.env.AWS_ENDPOINT_URL_SNS = saved;
    }
  });
});
