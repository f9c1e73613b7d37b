/**
 * Fault injection through the whole engine (ImageVerifier), not the registry client alone
 * (test/verifier/registry/faults.test.ts covers RemoteRepository directly). A loopback OCI registry
 * with fault knobs serves a really signed image; each fault must end in a definite verdict
 * (inconclusive for transient trouble, failed for bad content), within the configured timeout
 * (bound assertion: elapsed < timeout + slack), with attempts bounded (counted at the server) and
 * backoff delays jittered.
 */
import { createHash } from 'node:crypto';
import { ReferrersCapabilityCache, RemoteRepository, RemoteRepositoryOptions } from '../../src/verifier/registry/remote';
import { Descriptor, Verdict } from '../../src/verifier/types';
import { ImageVerifier } from '../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { Chain, makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { Fault, ReferrersServer, startReferrersServer } from '../support/registry';
import { envelopeMediaType, signEnvelope } from '../support/sign';

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
