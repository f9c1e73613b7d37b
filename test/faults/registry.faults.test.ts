/**
 * Fault injection through the whole engine (ImageVerifier), not the registry client alone
 * (test/verifier/registry/faults.test.ts covers RemoteRepository directly). A loopback OCI registry
 * with fault knobs serves a really signed image; each fault must end in a definite verdict
 * (inconclusive for transient trouble, failed for bad content), within the configured timeout
 * (bound assertion: elapsed < timeout + slack), with attempts bounded (counted at the server) and
 * backoff delays jittered.
 */
import { createHash } from 'node:crypto';
import { CONFIG_VERSION } from '../../src/handlers/config';
import { Runtime } from '../../src/handlers/runtime';
import { ReferrersCapabilityCache, RemoteRepository, RemoteRepositoryOptions } from '../../src/verifier/registry/remote';
import { Descriptor, Verdict } from '../../src/verifier/types';
import { ImageVerifier } from '../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { Chain, makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { Fault, ReferrersServer, startReferrersServer } from '../support/registry';
import { envelopeMediaType, signEnvelope } from '../support/sign';
import { captureStdout } from '../support/stdout-capture';

/** Generous scheduling slack for the bound assertions on a loaded CI machine. */
const SLACK_MS = 2000;
const REPO = 'faults/app';

let srv: ReferrersServer;
let chain: Chain;
let image: Descriptor;
let sig: Descriptor;
let envelopeDigest: string;

beforeAll(async () => {
  srv = await startReferrersServer();
  chain = makeChain({ length: 3, keyType: 'p256', keySlot: 'faults' });
  image = await pushImage(srv.url, REPO);
  const envelope = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image });
  sig = await pushSignature(srv.url, REPO, image, envelope, envelopeMediaType('jws'));
  envelopeDigest = 'sha256:' + createHash('sha256').update(envelope).digest('hex');
});

afterAll(async () => {
  await srv?.stop();
});

beforeEach(() => srv.reset());

function verifier(opts: Partial<RemoteRepositoryOptions> = {}, capability: ReferrersCapabilityCache = new Map()): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{
        name: 'faults',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:faults'],
        trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'],
      }],
    },
    trustStores: new InMemoryTrustStore({ 'ca:faults': chain.rootPem }),
    sourceFor: (ref) => new RemoteRepository(ref, {
      plainHttpRegistries: [srv.host],
      referrersCapability: capability,
      requestTimeoutMs: 500,
      operationTimeoutMs: 2000,
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100, maxRetryAfterMs: 300 },
      ...opts,
    }),
    cacheTtlMs: 0,
  });
}

const ref = () => `${srv.host}/${REPO}@${image.digest}`;

async function timed(v: ImageVerifier): Promise<{ verdict: Verdict; ms: number }> {
  const t0 = Date.now();
  const verdict = await v.verify(ref());
  return { verdict, ms: Date.now() - t0 };
}

/** Requests at the server whose line contains `part`. */
function hits(part: string): number {
  return srv.requests().filter((l) => l.includes(part)).length;
}

const manifestPath = () => `/manifests/${image.digest}`;
const blobPath = () => `/blobs/${envelopeDigest}`;
const referrersPath = () => `/referrers/${image.digest}`;

test('baseline: without faults the image verifies', async () => {
  const { verdict } = await timed(verifier());
  expect(verdict.status).toBe('verified');
  expect(verdict.signatureDigest).toBe(sig.digest);
});

describe('5xx', () => {
  test.each([
    ['image manifest', manifestPath],
    ['referrers listing', referrersPath],
    ['signature envelope blob', blobPath],
  ])('%s answering 503: inconclusive REGISTRY_UNAVAILABLE after exactly maxAttempts', async (_what, part) => {
    srv.addFault({ match: part(), status: 503 });
    const { verdict, ms } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.verified).toBe(false);
    expect(JSON.stringify(verdict)).toContain('REGISTRY_UNAVAILABLE');
    expect(hits(part())).toBe(3);
    expect(ms).toBeLessThan(2000 + SLACK_MS);
  });

  test('a transient 500 is retried and the image verifies', async () => {
    srv.addFault({ match: manifestPath(), status: 500, times: 2 });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('verified');
    expect(hits(manifestPath())).toBe(3);
  });
});

describe('429 with Retry-After', () => {
  test('honoured up to the cap, bounded attempts, then inconclusive THROTTLED', async () => {
    srv.addFault({ match: manifestPath(), status: 429, retryAfter: 1 });
    const { verdict, ms } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.error?.code).toBe('THROTTLED');
    expect(hits(manifestPath())).toBe(3);
    // two waits of min(Retry-After 1 s, cap 300 ms): at least the capped waits, never the full Retry-After
    expect(ms).toBeGreaterThanOrEqual(2 * 300 - 20);
    expect(ms).toBeLessThan(2000 + SLACK_MS);
  });

  test('a Retry-After beyond the operation deadline stops retrying at once', async () => {
    srv.addFault({ match: manifestPath(), status: 429, retryAfter: 60 });
    const { verdict, ms } = await timed(verifier({ retry: { maxAttempts: 5, maxRetryAfterMs: 60_000 } }));
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.error?.code).toBe('THROTTLED');
    expect(hits(manifestPath())).toBe(1);
    expect(ms).toBeLessThan(2000 + SLACK_MS);
  });

  test('one 429 then success verifies', async () => {
    srv.addFault({ match: blobPath(), status: 429, retryAfter: 0, times: 1 });
    expect((await timed(verifier())).verdict.status).toBe('verified');
    expect(hits(blobPath())).toBe(2);
  });
});

describe('slower than the timeout', () => {
  test.each([
    ['image manifest', manifestPath],
    ['referrers listing', referrersPath],
    ['signature envelope blob', blobPath],
  ])('%s never answering: inconclusive TIMEOUT within the operation timeout', async (_what, part) => {
    srv.addFault({ match: part(), delayMs: 3000 });
    const { verdict, ms } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
    expect(JSON.stringify(verdict)).toContain('TIMEOUT');
    expect(hits(part())).toBeLessThanOrEqual(3);
    expect(hits(part())).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(2000 + SLACK_MS);
  }, 15_000);

  test('a trickling body (1 byte / 100 ms) ends in TIMEOUT within the operation timeout', async () => {
    srv.addFault({ match: blobPath(), trickleMs: 100 });
    const { verdict, ms } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
    expect(JSON.stringify(verdict)).toContain('TIMEOUT');
    expect(ms).toBeLessThan(2000 + SLACK_MS);
  }, 15_000);
});

describe('truncated bodies and connection resets', () => {
  test.each([
    ['image manifest', manifestPath],
    ['signature envelope blob', blobPath],
  ])('%s truncated: retried, never accepted, inconclusive NETWORK', async (_what, part) => {
    srv.addFault({ match: part(), truncateAt: 10 });
    const { verdict, ms } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
    expect(JSON.stringify(verdict)).toContain('NETWORK');
    expect(hits(part())).toBe(3);
    expect(ms).toBeLessThan(2000 + SLACK_MS);
  });

  test.each([
    ['image manifest', manifestPath],
    ['referrers listing', referrersPath],
    ['signature envelope blob', blobPath],
  ])('%s connection reset: bounded retries, inconclusive NETWORK', async (_what, part) => {
    srv.addFault({ match: part(), reset: true });
    const { verdict, ms } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
    expect(JSON.stringify(verdict)).toContain('NETWORK');
    expect(hits(part())).toBe(3);
    expect(ms).toBeLessThan(2000 + SLACK_MS);
  });

  test('one reset then success verifies', async () => {
    srv.addFault({ match: referrersPath(), reset: true, times: 1 });
    expect((await timed(verifier())).verdict.status).toBe('verified');
  });
});

describe('bytes that do not match the digest', () => {
  test('image manifest with a flipped byte: failed DIGEST_MISMATCH, not retried', async () => {
    srv.addFault({ match: manifestPath(), wrongBytes: true });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('failed');
    expect(verdict.error?.code).toBe('DIGEST_MISMATCH');
    expect(hits(manifestPath())).toBe(1);
  });

  test('signature envelope with a flipped byte: the signature fails, so the image fails', async () => {
    srv.addFault({ match: blobPath(), wrongBytes: true });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('failed');
    expect(verdict.signatures).toHaveLength(1);
    expect(verdict.signatures[0].error?.code).toBe('DIGEST_MISMATCH');
    expect(hits(blobPath())).toBe(1);
  });

  test('signature manifest with extra bytes beyond its descriptor size: failed DIGEST_MISMATCH', async () => {
    srv.addFault({ match: `/manifests/${sig.digest}`, extraBytes: 16 });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('failed');
    expect(verdict.signatures[0].error?.code).toBe('DIGEST_MISMATCH');
  });
});

describe('retry delays are jittered', () => {
  test('backoff delays before each retry differ between verifications and stay under the cap', async () => {
    const runs: number[][] = [];
    for (let i = 0; i < 4; i++) {
      const delays: number[] = [];
      srv.reset();
      srv.addFault({ match: manifestPath(), status: 503 } as Fault);
      const v = await verifier({
        retry: { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 150 },
        sleep: (ms) => {
          delays.push(ms);
          return new Promise((r) => setTimeout(r, ms));
        },
      }).verify(ref());
      expect(v.status).toBe('inconclusive');
      expect(hits(manifestPath())).toBe(4);
      expect(delays).toHaveLength(3);
      delays.forEach((d, n) => {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(Math.min(150, 50 * 2 ** n));
      });
      runs.push(delays);
    }
    // full jitter: four runs of three random delays are not all the same
    const distinct = new Set(runs.flat().map((d) => d.toFixed(6)));
    expect(distinct.size).toBeGreaterThan(3);
  });

  test('delays measured at the server between attempts differ too', async () => {
    const gaps: number[] = [];
    for (let i = 0; i < 3; i++) {
      const arrivals: number[] = [];
      srv.reset();
      srv.addFault({ match: (_m, url) => url.includes(manifestPath()) && arrivals.push(performance.now()) > 0, status: 503 });
      await verifier({ retry: { maxAttempts: 3, baseDelayMs: 80, maxDelayMs: 160 } }).verify(ref());
      expect(arrivals).toHaveLength(3);
      gaps.push(arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]);
    }
    expect(new Set(gaps.map((g) => Math.round(g))).size).toBeGreaterThan(1);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Issue 8 item 10: registry glitches are never verdicts (through the whole engine)
// ---------------------------------------------------------------------------------------------------------

describe('only definitive answers are verdicts (engine)', () => {
  test.each([400, 408, 410, 302, 405])('referrers listing answered HTTP %d: inconclusive, never failed', async (status) => {
    srv.addFault({ match: referrersPath(), status });
    const { verdict } = await timed(verifier({ retry: { maxAttempts: 1 } }));
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.verified).toBe(false);
    expect(['REGISTRY_UNAVAILABLE', 'TIMEOUT']).toContain(verdict.error?.code);
  });

  test('a listed signature manifest answering 404 (replication lag): inconclusive, and verified once it appears', async () => {
    srv.addFault({ match: `/manifests/${sig.digest}`, status: 404, body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.signatures[0]?.error?.code).toBe('REGISTRY_UNAVAILABLE');
    srv.clearFaults();
    expect((await timed(verifier())).verdict.status).toBe('verified');
  });

  test('the listed envelope blob answering 404: inconclusive', async () => {
    srv.addFault({ match: blobPath(), status: 404 });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('inconclusive');
  });

  test('the subject manifest answering 404 stays definitive: failed NOT_FOUND', async () => {
    srv.addFault({ match: manifestPath(), status: 404, body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('failed');
    expect(verdict.error?.code).toBe('NOT_FOUND');
  });

  test('a referrers 404 without NAME_UNKNOWN falls back to the tag schema (OCI spec) and verifies', async () => {
    srv.addFault({ match: referrersPath(), status: 404, body: '404 page not found' });
    const { verdict } = await timed(verifier());
    expect(verdict.status).toBe('verified');
    expect(hits(`/manifests/${image.digest.replace(':', '-')}`)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Issue 8 item 11: one deadline per verification; the caller's signal aborts in-flight requests
// ---------------------------------------------------------------------------------------------------------

describe('one deadline per verification, abortable', () => {
  const MANY = 'faults/many';
  const LIMIT_MS = 2500;
  let many: Descriptor;
  let manySigs: Descriptor[];
  const sigManifestHits = () => srv.requests().filter((l) => manySigs.some((d) => l.includes(`/manifests/${d.digest}`))).length;
  const trickleSignatures = () => srv.addFault({
    match: (_m, url) => manySigs.some((d) => url.includes(`/manifests/${d.digest}`)),
    trickleMs: 10,
  });

  beforeAll(async () => {
    many = await pushImage(srv.url, MANY);
    manySigs = [];
    for (let i = 0; i < 8; i++) {
      const other = makeChain({ length: 2, keyType: 'p256', keySlot: `many-${i}` });
      const env = signEnvelope('jws', { key: other.key, chainDer: other.chainDer, targetArtifact: many });
      manySigs.push(await pushSignature(srv.url, MANY, many, env, envelopeMediaType('jws'), { annotations: { n: String(i) } }));
    }
  });

  function deadlineVerifier(cacheTtlMs: number, verificationTimeoutMs: number | undefined = LIMIT_MS): ImageVerifier {
    return new ImageVerifier({
      trustPolicy: {
        version: '1.0',
        trustPolicies: [{
          name: 'faults', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:faults'], trustedIdentities: ['*'],
        }],
      },
      trustStores: new InMemoryTrustStore({ 'ca:faults': chain.rootPem }),
      sourceFor: (r, ctx) => new RemoteRepository(r, {
        plainHttpRegistries: [srv.host],
        referrersCapability: new Map(),
        // each operation alone stays under its own limit: only the overall deadline can stop this
        operationTimeoutMs: LIMIT_MS,
        requestTimeoutMs: 10_000,
        retry: { maxAttempts: 1 },
        signal: ctx.signal,
      }),
      cacheTtlMs,
      verificationTimeoutMs,
    });
  }

  async function until(cond: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(cond()).toBe(true);
  }

  test.each([
    ['without a verdict cache', 0],
    ['through the single-flight verdict cache', 300_000],
  ])('8 listed signatures whose manifests trickle, %s: inconclusive TIMEOUT within the overall limit, and requests stop', async (_what, ttl) => {
    trickleSignatures();
    const t0 = Date.now();
    const verdict = await deadlineVerifier(ttl).verify(`${srv.host}/${MANY}@${many.digest}`);
    const ms = Date.now() - t0;
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.error?.code).toBe('TIMEOUT');
    expect(verdict.verified).toBe(false);
    // a safety property, not a benchmark: the old per-operation limit took 8 x 2.5 s
    expect(ms).toBeLessThan(LIMIT_MS + 3000);
    const atVerdict = sigManifestHits();
    expect(atVerdict).toBeGreaterThanOrEqual(1);
    expect(atVerdict).toBeLessThan(8);
    await new Promise((r) => setTimeout(r, 800));
    expect(sigManifestHits()).toBe(atVerdict);
  }, 30_000);

  test('aborting the signal mid-verification stops registry requests at once', async () => {
    trickleSignatures();
    const v = deadlineVerifier(300_000, 60_000);
    const ctl = new AbortController();
    const t0 = Date.now();
    const pending = v.verify(`${srv.host}/${MANY}@${many.digest}`, { signal: ctl.signal });
    await until(() => sigManifestHits() >= 1);
    ctl.abort();
    const verdict = await pending;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.error?.code).toBe('TIMEOUT');
    expect(verdict.error?.message).toContain('aborted');
    const atAbort = srv.requestCount();
    await new Promise((r) => setTimeout(r, 1000));
    expect(srv.requestCount()).toBe(atAbort);
    expect(sigManifestHits()).toBe(1);
  }, 30_000);

  test('an aborted or expired verification is never cached', async () => {
    const v = deadlineVerifier(300_000, 60_000);
    srv.addFault({ match: blobPath(), delayMs: 1500 });
    const ctl = new AbortController();
    const pending = v.verify(ref(), { signal: ctl.signal });
    await until(() => hits(blobPath()) >= 1);
    ctl.abort();
    expect((await pending).error?.code).toBe('TIMEOUT');
    srv.clearFaults();
    const again = await v.verify(ref());
    expect(again.status).toBe('verified');
    expect(again.cached).toBeUndefined();
  }, 30_000);

  test('a verification shared by two callers is not aborted by ONE caller\'s signal', async () => {
    const v = deadlineVerifier(300_000, 60_000);
    srv.addFault({ match: blobPath(), delayMs: 700, times: 1 });
    const a = new AbortController();
    const pa = v.verify(ref(), { signal: a.signal });
    const pb = v.verify(ref());
    await until(() => hits(blobPath()) >= 1);
    a.abort();
    const [va, vb] = await Promise.all([pa, pb]);
    expect(va.status).toBe('inconclusive');
    expect(va.error?.code).toBe('TIMEOUT');
    expect(vb.status).toBe('verified');
    expect(hits(blobPath())).toBe(1); // B's verification was the shared one, not restarted
    expect((await v.verify(ref())).cached).toBe(true);
  }, 30_000);

  test('when EVERY caller of a shared verification gives up, its requests stop', async () => {
    trickleSignatures();
    const v = deadlineVerifier(300_000, 60_000);
    const a = new AbortController();
    const b = new AbortController();
    const pa = v.verify(`${srv.host}/${MANY}@${many.digest}`, { signal: a.signal });
    const pb = v.verify(`${srv.host}/${MANY}@${many.digest}`, { signal: b.signal });
    await until(() => sigManifestHits() >= 1);
    a.abort();
    await new Promise((r) => setTimeout(r, 50));
    b.abort();
    const verdicts = await Promise.all([pa, pb]);
    expect(verdicts.map((x) => x.error?.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    const atAbort = srv.requestCount();
    await new Promise((r) => setTimeout(r, 1000));
    expect(srv.requestCount()).toBe(atAbort);
  }, 30_000);

  test('the handlers\' Runtime passes the verification signal to the registry client: aborting stops requests', async () => {
    trickleSignatures();
    const out = captureStdout();
    try {
      const rt = new Runtime({
        version: CONFIG_VERSION,
        trustPolicy: {
          version: '1.0',
          trustPolicies: [{ name: 'rt', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:rt'], trustedIdentities: ['*'] }],
        },
        trustStores: { 'ca:rt': chain.rootPem },
        plainHttpRegistries: [srv.host],
      }, 'registry-faults');
      const ctl = new AbortController();
      const pending = rt.verifyImage(`${srv.host}/${MANY}@${many.digest}`, {}, { signal: ctl.signal });
      await until(() => sigManifestHits() >= 1);
      ctl.abort();
      const result = await pending;
      expect(result.verdict?.status).toBe('inconclusive');
      expect(result.verdict?.error?.code).toBe('TIMEOUT');
      const atAbort = srv.requestCount();
      await new Promise((r) => setTimeout(r, 1000));
      expect(srv.requestCount()).toBe(atAbort);
    } finally {
      out.restore();
    }
  }, 30_000);

  test('verificationTimeoutMs must be positive', () => {
    expect(() => deadlineVerifier(0, 0)).toThrow(/verificationTimeoutMs/);
    expect(() => deadlineVerifier(0, Number.NaN)).toThrow(/verificationTimeoutMs/);
  });
});
