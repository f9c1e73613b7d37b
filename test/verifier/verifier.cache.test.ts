/**
 * The cached-verdict path of ImageVerifier: a digest reference with a live cached verdict is answered
 * without any registry request (counted at the registry side); tags still resolve through the registry.
 */
import { RemoteRepository } from '../../src/verifier/registry/remote';
import { MEDIA_TYPE } from '../../src/verifier/types';
import { ImageVerifier, ImageVerifierOptions } from '../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { FixtureSource } from '../support/fixture-source';
import { Chain, makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { startRegistry, TestRegistry } from '../support/registry';
import { envelopeMediaType, signEnvelope } from '../support/sign';

let registry: TestRegistry;
let chain: Chain;

beforeAll(async () => {
  registry = await startRegistry({ countRequests: true });
  chain = makeChain({ length: 3, keyType: 'p256', keySlot: 'cache-path' });
});

afterAll(async () => {
  await registry?.stop();
});

/** The file's verifier: strict, the test CA trusted, the loopback registry, a 60 s cache; `extra` overrides. */
function verifier(extra: Partial<ImageVerifierOptions> = {}): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{
        name: 'p',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:c'],
        trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'],
      }],
    },
    trustStores: new InMemoryTrustStore({ 'ca:c': chain.rootPem }),
    sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registry.host] }),
    cacheTtlMs: 60_000,
    ...extra,
  });
}

test('a cached verdict for a digest reference costs no registry request', async () => {
  const image = await pushImage(registry.url, 'cache/app', { tag: 'v1' });
  await pushSignature(registry.url, 'cache/app', image, signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image }), envelopeMediaType('jws'));
  const iv = verifier();
  const ref = `${registry.host}/cache/app@${image.digest}`;
  const first = await iv.verify(ref);
  expect(first.status).toBe('verified');
  expect(first.cached).toBeUndefined();

  const before = registry.requestCount!();
  const again = await iv.verify(ref);
  expect(registry.requestCount!()).toBe(before);
  expect(again).toMatchObject({ status: 'verified', verified: true, cached: true, digest: image.digest, reference: ref, signer: first.signer });
  expect(iv.cacheStats).toMatchObject({ hits: 1, computations: 1 });

  // a tag must still be resolved (it may have moved), then the verdict comes from the cache
  const tagged = await iv.verify(`${registry.host}/cache/app:v1`);
  expect(registry.requestCount!()).toBe(before + 1);
  expect(tagged).toMatchObject({ status: 'verified', cached: true, digest: image.digest });
});

test('the early lookup respects the TTL and the repository scope', async () => {
  const image = await pushImage(registry.url, 'cache/ttl');
  await pushSignature(registry.url, 'cache/ttl', image, signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image }), envelopeMediaType('jws'));
  let t = Date.now();
  const iv = verifier({ now: () => new Date(t) });
  const ref = `${registry.host}/cache/ttl@${image.digest}`;
  expect((await iv.verify(ref)).status).toBe('verified');
  // same digest in another repository: another scope, not answered from the cache
  const elsewhere = await iv.verify(`${registry.host}/cache/other@${image.digest}`);
  expect(elsewhere.cached).toBeUndefined();
  expect(elsewhere.status).toBe('failed');
  t += 61_000;
  const before = registry.requestCount!();
  const expired = await iv.verify(ref);
  expect(expired.cached).toBeUndefined();
  expect(expired.status).toBe('verified');
  expect(registry.requestCount!()).toBeGreaterThan(before);
});

test('a verification of an already-seen chain parses no certificate again (content-keyed parse cache)', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const certModule = require('../../src/verifier/x509/certificate');
  const target = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + 'ef'.repeat(32), size: 10 };
  const envelope = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: target });
  const iv = verifier({
    sourceFor: () => new FixtureSource('mem.example/app', target, [{ mediaType: MEDIA_TYPE.JWS, envelope }]),
    cacheTtlMs: 0,
  });
  const ref = `mem.example/app@${target.digest}`;
  expect((await iv.verify(ref)).status).toBe('verified'); // trust store loaded outside the count
  // Certificates are parsed by content once; later verifications of images signed by the same chain
  // only hit the parse cache.
  const before = { ...certModule.certificateParseStats };
  expect((await iv.verify(ref)).status).toBe('verified');
  expect(certModule.certificateParseStats.parsed).toBe(before.parsed);
  expect(certModule.certificateParseStats.cacheHits).toBeGreaterThan(before.cacheHits);
});

function lateSigningVerifier(target: { mediaType: string; digest: string; size: number }, signatures: Array<{ mediaType: string; envelope: Uint8Array }>, now: () => number): ImageVerifier {
  return verifier({
    sourceFor: () => new FixtureSource('mem.example/late', target, signatures),
    cacheTtlMs: 300_000,
    failedCacheTtlMs: 30_000,
    now: () => new Date(now()),
  });
}

test('failed verdicts expire sooner (failedCacheTtlMs): a good signature added after a rejected one is seen', async () => {
  let now = Date.now();
  const target = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + 'cd'.repeat(32), size: 10 };
  const untrusted = makeChain({ length: 3, keyType: 'p256', keySlot: 'cache-untrusted' });
  const signatures = [{ mediaType: MEDIA_TYPE.JWS, envelope: signEnvelope('jws', { key: untrusted.key, chainDer: untrusted.chainDer, targetArtifact: target }) }];
  const iv = lateSigningVerifier(target, signatures, () => now);
  const ref = `mem.example/late@${target.digest}`;
  const first = await iv.verify(ref);
  expect(first.status).toBe('failed');
  expect(first.error?.code).not.toBe('NO_SIGNATURE');
  signatures.push({ mediaType: MEDIA_TYPE.JWS, envelope: signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: target }) });
  now += 10_000;
  expect((await iv.verify(ref)).cached).toBe(true); // still within the failed TTL
  now += 25_000;
  const after = await iv.verify(ref);
  expect(after.cached).toBeUndefined();
  expect(after.status).toBe('verified');
  now += 200_000;
  expect((await iv.verify(ref)).cached).toBe(true); // verified verdicts keep the full TTL
});

test('a "no signature" verdict is never cached: a signature added right after is seen at once', async () => {
  const now = Date.now();
  const target = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + 'ce'.repeat(32), size: 10 };
  const signatures: Array<{ mediaType: string; envelope: Uint8Array }> = [];
  const iv = lateSigningVerifier(target, signatures, () => now);
  const ref = `mem.example/late@${target.digest}`;
  const first = await iv.verify(ref);
  expect(first).toMatchObject({ status: 'failed', error: { code: 'NO_SIGNATURE' } });
  const again = await iv.verify(ref); // same instant: a cached entry would answer here
  expect(again.cached).toBeUndefined();
  expect(again.error?.code).toBe('NO_SIGNATURE');
  expect(iv.cacheStats).toMatchObject({ hits: 0, computations: 2 });
  signatures.push({ mediaType: MEDIA_TYPE.JWS, envelope: signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: target }) }); // ECR managed signing finishes
  const signed = await iv.verify(ref);
  expect(signed.cached).toBeUndefined();
  expect(signed.status).toBe('verified');
});

test('one path for tags and digests: a tag verified first fills its digest\'s cache entry, and the verdicts agree', async () => {
  const image = await pushImage(registry.url, 'cache/tag-first', { tag: 'v1' });
  await pushSignature(registry.url, 'cache/tag-first', image, signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image }), envelopeMediaType('jws'));
  const iv = verifier();
  const byTag = await iv.verify(`${registry.host}/cache/tag-first:v1`);
  expect(byTag).toMatchObject({ status: 'verified', digest: image.digest, mediaType: image.mediaType });
  expect(byTag.cached).toBeUndefined();

  const before = registry.requestCount!();
  const ref = `${registry.host}/cache/tag-first@${image.digest}`;
  const byDigest = await iv.verify(ref);
  expect(registry.requestCount!()).toBe(before); // the tag's verification is the digest's
  expect(byDigest).toMatchObject({ status: 'verified', cached: true, reference: ref });
  for (const k of ['digest', 'mediaType', 'signer', 'signatureDigest', 'policyStatement', 'level', 'signatures'] as const) {
    expect(byDigest[k]).toEqual(byTag[k]);
  }
});

test('without a cache a tag costs what its digest costs: the resolved manifest is not fetched again', async () => {
  const image = await pushImage(registry.url, 'cache/no-cache', { tag: 'v1' });
  await pushSignature(registry.url, 'cache/no-cache', image, signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image }), envelopeMediaType('jws'));
  const iv = verifier({ cacheTtlMs: 0 });
  const count = async (ref: string) => {
    const before = registry.requestCount!();
    expect((await iv.verify(ref)).status).toBe('verified');
    return registry.requestCount!() - before;
  };
  const digestRef = `${registry.host}/cache/no-cache@${image.digest}`;
  await count(digestRef); // the first one also learns that this registry has no referrers API
  const digestCost = await count(digestRef);
  const tagCost = await count(`${registry.host}/cache/no-cache:v1`);
  expect(digestCost).toBe(4); // manifest, tag-schema listing, signature manifest, envelope
  expect(tagCost).toBe(digestCost); // the tag's manifest GET replaces the digest's; nothing is fetched twice
});
