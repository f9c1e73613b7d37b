/**
 * Load: 500 concurrent verifications of 50 distinct signed digests through ONE ImageVerifier against
 * the real docker-registry (behind the counting proxy). Exactly one verification per digest
 * (single-flight cache), connections at the registry bounded by the agent's maxSockets, and no
 * memory growth across 10 repeated rounds.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { createBoundedAgents, HttpAgents } from '../../src/verifier/registry/http';
import { RemoteRepository } from '../../src/verifier/registry/remote';
import { ImageVerifier } from '../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { Chain, makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { startRegistry, TestRegistry } from '../support/registry';
import { envelopeMediaType, signEnvelope } from '../support/sign';

const DIGESTS = 50;
const CONCURRENT = 500;
const MAX_SOCKETS = 8;

let registry: TestRegistry;
let chain: Chain;
let refs: string[];

beforeAll(async () => {
  registry = await startRegistry({ countRequests: true });
  chain = makeChain({ length: 3, keyType: 'p256', keySlot: 'load' });
  refs = [];
  for (let i = 0; i < DIGESTS; i++) {
    const repo = `load/app${i % 5}`;
    const image = await pushImage(registry.url, repo);
    await pushSignature(registry.url, repo, image, signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image }), envelopeMediaType('jws'));
    refs.push(`${registry.host}/${repo}@${image.digest}`);
  }
}, 120_000);

afterAll(async () => {
  await registry?.stop();
});

function verifier(agents: HttpAgents, cacheTtlMs = 600_000): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{
        name: 'load',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:load'],
        trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'],
      }],
    },
    trustStores: new InMemoryTrustStore({ 'ca:load': chain.rootPem }),
    sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registry.host], agents, referrersCapability: new Map() }),
    cacheTtlMs,
  });
}

/** 500 calls over the 50 digests, interleaved. */
const burst = () => Array.from({ length: CONCURRENT }, (_, i) => refs[i % DIGESTS]);

test('500 concurrent verifications of 50 digests: one verification per digest, bounded connections', async () => {
  const agents = createBoundedAgents({ maxSocketsPerHost: MAX_SOCKETS });
  try {
    const iv = verifier(agents);
    const statsBefore = registry.connectionStats!();
    const requestsBefore = registry.requestCount!();
    const verdicts = await Promise.all(burst().map((r) => iv.verify(r)));
    // the 450 joiners cost nothing at the registry: 5 requests per digest (referrers probe — each
    // source here has its own capability map —, manifest, tag-schema listing, signature manifest, envelope)
    expect(registry.requestCount!() - requestsBefore).toBe(DIGESTS * 5);
    expect(verdicts.every((v) => v.status === 'verified')).toBe(true);
    expect(iv.cacheStats?.computations).toBe(DIGESTS);
    expect(iv.cacheStats?.inflightJoins).toBe(CONCURRENT - DIGESTS);
    // connections opened at the registry during the burst never exceed the agent bound
    const stats = registry.connectionStats!();
    expect(stats.peak).toBeLessThanOrEqual(Math.max(statsBefore.current, 0) + MAX_SOCKETS);
    expect(stats.total - statsBefore.total).toBeLessThanOrEqual(MAX_SOCKETS);

    // a second burst is served entirely from the cache: no new computation, no new request
    const requests = registry.requestCount!();
    const again = await Promise.all(burst().map((r) => iv.verify(r)));
    expect(again.every((v) => v.cached === true && v.verified)).toBe(true);
    expect(iv.cacheStats?.computations).toBe(DIGESTS);
    expect(registry.requestCount!()).toBe(requests);
  } finally {
    agents.destroy();
  }
}, 120_000);

test('memory does not grow across 10 rounds of 500 concurrent uncached verifications', async () => {
  const agents = createBoundedAgents({ maxSocketsPerHost: MAX_SOCKETS });
  // A real full GC before each measurement, so the comparison is of live objects, not of garbage
  // the collector has not reached yet (V8 exposes gc() to a new context once the flag is set).
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const heap: number[] = [];
  // connections other clients (the test's own pushes, keep-alive) left open before the rounds
  const baseline = registry.connectionStats!().current;
  try {
    for (let round = 1; round <= 10; round++) {
      // a fresh short-lived cache per round: every round recomputes 50 verdicts and shares them 10x
      const iv = verifier(agents);
      const verdicts = await Promise.all(burst().map((r) => iv.verify(r)));
      expect(verdicts.filter((v) => v.status === 'verified')).toHaveLength(CONCURRENT);
      expect(iv.cacheStats?.computations).toBe(DIGESTS);
      await new Promise((r) => setImmediate(r));
      gc();
      heap.push(process.memoryUsage().heapUsed);
      expect(registry.connectionStats!().current).toBeLessThanOrEqual(baseline + MAX_SOCKETS);
    }
  } finally {
    agents.destroy();
  }
  // live heap after round 10 within round 2 + 16 MB (bounded caches fill up in the first rounds)
  expect(heap[9] - heap[1]).toBeLessThan(16 * 1024 * 1024);
}, 300_000);
