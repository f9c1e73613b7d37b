import { VerificationInconclusiveError } from '../../../src/verifier/errors';
import { parseReference } from '../../../src/verifier/reference';
import { RemoteRepository, RemoteRepositoryOptions, createBoundedAgents } from '../../../src/verifier/registry';
import { Descriptor } from '../../../src/verifier/types';
import { caught } from '../../support/helpers';
import { pushImage, pushSignature } from '../../support/push';
import { ReferrersServer, startReferrersServer } from '../../support/registry';

describe('retries, throttling and timeouts', () => {
  let srv: ReferrersServer;
  let img: Descriptor;
  let sig: Descriptor;
  let sleeps: number[];
  beforeAll(async () => {
    srv = await startReferrersServer();
    img = await pushImage(srv.url, 'app', { tag: 'v1' });
    sig = await pushSignature(srv.url, 'app', img, Buffer.from('{"e":1}'), 'application/jose+json');
  });
  afterAll(async () => {
    await srv.stop();
  });
  beforeEach(() => {
    srv.clearFaults();
    sleeps = [];
  });
  const repo = (o: RemoteRepositoryOptions = {}) => new RemoteRepository({ registry: srv.host, repository: 'app' }, {
    plainHttpRegistries: [srv.host],
    referrersCapability: new Map(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...o,
  });
  const tagRef = () => parseReference(`${srv.host}/app:v1`);
  const attempts = (before: number) => srv.requests().slice(before).filter((r) => r.includes('/manifests/v1')).length;

  test('5xx is retried a bounded number of times, then REGISTRY_UNAVAILABLE', async () => {
    srv.addFault({ match: '/manifests/v1', status: 503 });
    const before = srv.requestCount();
    const e = await caught(repo({ retry: { maxAttempts: 4 } }).resolve(tagRef()));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('REGISTRY_UNAVAILABLE');
    expect(attempts(before)).toBe(4);
    expect(sleeps).toHaveLength(3);
    // full jitter under the exponential cap
    sleeps.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(200 * 2 ** i));
  });

  test('a transient 5xx recovers', async () => {
    srv.addFault({ match: '/manifests/v1', status: 502, times: 2 });
    const before = srv.requestCount();
    const r = await repo({ retry: { maxAttempts: 3 } }).resolve(tagRef());
    expect(r.descriptor.digest).toBe(img.digest);
    expect(attempts(before)).toBe(3);
  });

  test('429 honours Retry-After up to the cap, then THROTTLED', async () => {
    srv.addFault({ match: '/manifests/v1', status: 429, retryAfter: 2, times: 1 });
    const r = await repo({ retry: { maxAttempts: 3, maxRetryAfterMs: 5000 } }).resolve(tagRef());
    expect(r.descriptor.digest).toBe(img.digest);
    expect(sleeps).toEqual([2000]);

    sleeps = [];
    srv.addFault({ match: '/manifests/v1', status: 429, retryAfter: 3600 });
    const before = srv.requestCount();
    const e = await caught(repo({ retry: { maxAttempts: 3, maxRetryAfterMs: 1500 } }).resolve(tagRef()));
    expect(e.code).toBe('THROTTLED');
    expect(sleeps).toEqual([1500, 1500]);
    expect(attempts(before)).toBe(3);
  });

  test('a Retry-After beyond the operation deadline stops retrying at once', async () => {
    srv.addFault({ match: '/manifests/v1', status: 429, retryAfter: 60 });
    const before = srv.requestCount();
    const e = await caught(repo({ retry: { maxAttempts: 5, maxRetryAfterMs: 120000 }, operationTimeoutMs: 2000 }).resolve(tagRef()));
    expect(e.code).toBe('THROTTLED');
    expect(attempts(before)).toBe(1);
    expect(sleeps).toEqual([]);
  });

  test('connection resets are retried, then NETWORK', async () => {
    srv.addFault({ match: '/manifests/v1', reset: true, times: 1 });
    expect((await repo().resolve(tagRef())).descriptor.digest).toBe(img.digest);
    srv.addFault({ match: '/manifests/v1', reset: true });
    const before = srv.requestCount();
    const e = await caught(repo({ retry: { maxAttempts: 2 } }).resolve(tagRef()));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('NETWORK');
    expect(attempts(before)).toBe(2);
  });

  test('a truncated body is a retried network error, never accepted', async () => {
    srv.addFault({ match: '/blobs/', truncateAt: 3 });
    const e = await caught(repo({ retry: { maxAttempts: 2 } }).fetchSignature(sig));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('NETWORK');
    srv.clearFaults();
    srv.addFault({ match: '/blobs/', truncateAt: 3, times: 1 });
    expect(Buffer.from((await repo().fetchSignature(sig)).envelope).toString()).toBe('{"e":1}');
  });

  test('a hanging server ends in TIMEOUT within the per-request timeout (bounded attempts)', async () => {
    srv.addFault({ match: '/manifests/v1', delayMs: 30000 });
    const before = srv.requestCount();
    const e = await caught(repo({ requestTimeoutMs: 100, retry: { maxAttempts: 2 } }).resolve(tagRef()));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('TIMEOUT');
    expect(attempts(before)).toBe(2);
  }, 10000);

  test('a slowly trickling body ends in TIMEOUT', async () => {
    srv.addFault({ match: '/manifests/v1', trickleMs: 200 });
    const e = await caught(repo({ requestTimeoutMs: 150, retry: { maxAttempts: 1 } }).resolve(tagRef()));
    expect(e.code).toBe('TIMEOUT');
  }, 10000);

  test('the operation deadline bounds the whole operation, retries included', async () => {
    srv.addFault({ match: '/manifests/v1', delayMs: 30000 });
    const e = await caught(new RemoteRepository({ registry: srv.host, repository: 'app' }, {
      plainHttpRegistries: [srv.host], requestTimeoutMs: 20000, operationTimeoutMs: 200, retry: { maxAttempts: 10 },
    }).resolve(tagRef()));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('TIMEOUT');
  }, 10000);

  test('an external abort signal stops the operation', async () => {
    srv.addFault({ match: '/manifests/v1', delayMs: 30000 });
    const ctl = new AbortController();
    const p = caught(repo({ signal: ctl.signal }).resolve(tagRef()));
    setTimeout(() => ctl.abort(), 50);
    expect((await p).code).toBe('TIMEOUT');
  }, 10000);

  test('the verification deadline (`deadline`) bounds every operation; a backoff past it reports the real error', async () => {
    srv.addFault({ match: '/manifests/v1', status: 429, retryAfter: 2 });
    const before = srv.requestCount();
    const e = await caught(repo({ deadline: Date.now() + 500, retry: { maxAttempts: 5, maxRetryAfterMs: 5000 } }).resolve(tagRef()));
    expect(e.code).toBe('THROTTLED'); // not a bare TIMEOUT: the 2 s backoff would end after the deadline
    expect(attempts(before)).toBe(1);
    expect(sleeps).toEqual([]);
    srv.clearFaults();
    srv.addFault({ match: '/manifests/v1', delayMs: 30000 });
    const t0 = Date.now();
    const late = await caught(repo({ deadline: Date.now() + 150, operationTimeoutMs: 20000, requestTimeoutMs: 20000 }).resolve(tagRef()));
    expect(late.code).toBe('TIMEOUT');
    expect(late.message).toContain('deadline');
    expect(Date.now() - t0).toBeLessThan(5000);
    // a deadline already past: nothing is sent
    const before2 = srv.requestCount();
    expect((await caught(repo({ deadline: Date.now() - 1 }).resolve(tagRef()))).code).toBe('TIMEOUT');
    expect(srv.requestCount()).toBe(before2);
  }, 10000);

  test('404 and other definitive answers are not retried', async () => {
    const e = await caught(repo({ retry: { maxAttempts: 5 } }).resolve(parseReference(`${srv.host}/app:missing`)));
    expect(e.code).toBe('NOT_FOUND');
    // counted by path: a straggler of an earlier test (a held request ending late) must not count
    expect(srv.requests().filter((l) => l.endsWith('/manifests/missing'))).toHaveLength(1);
  });

  test('the bounded agent keeps connections at most maxSocketsPerHost under concurrency', async () => {
    const agents = createBoundedAgents({ maxSocketsPerHost: 2 });
    const fresh = await startReferrersServer();
    try {
      await pushImage(fresh.url, 'app', { tag: 'v1' });
      const afterPush = fresh.connectionStats();
      fresh.addFault({ match: '/manifests/', delayMs: 20 });
      const r = new RemoteRepository({ registry: fresh.host, repository: 'app' }, { plainHttpRegistries: [fresh.host], agents });
      await Promise.all(Array.from({ length: 20 }, () => r.resolve(parseReference(`${fresh.host}/app:v1`))));
      const all = fresh.connectionStats();
      // connections opened by the verifier's agent (the push helper's own connections excluded)
      const stats = { peak: all.peak - afterPush.current, total: all.total - afterPush.total };
      expect(stats.peak).toBeLessThanOrEqual(2);
      expect(stats.total).toBeLessThanOrEqual(2); // keep-alive reuses them
      expect(r.stats.requests).toBe(20);
    } finally {
      agents.destroy();
      await fresh.stop();
    }
  });
});
