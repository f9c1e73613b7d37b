/**
 * Issue 8 item 6, end to end: every place the engine reads JSON that notation (Go encoding/json) or a
 * registry also reads rejects duplicate and case-variant keys, against a real docker-registry and
 * really signed envelopes. Each attack document is validly signed / pushed; before the strict parser
 * the engine read the exact key (JSON.parse) while notation reads the last case-insensitive match.
 */
import { RemoteRepository } from '../../../src/verifier/registry/remote';
import { parseIndexManifests, parseSignatureManifest } from '../../../src/verifier/registry/source';
import { Descriptor, MEDIA_TYPE } from '../../../src/verifier/types';
import { ImageVerifier, ImageVerifierOptions } from '../../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../../src/verifier/x509/truststore';
import { failure } from '../../support/helpers';
import { Chain, makeChain } from '../../support/pki';
import { pushImage, pushImageIndex, pushSignature, remoteTarget, tagSchemaTag } from '../../support/push';
import { startRecordingServer, startRegistry, TestRegistry } from '../../support/registry';
import { envelopeMediaType, signEnvelope, SignOptions } from '../../support/sign';

let registry: TestRegistry;
let chain: Chain;
let n = 0;
const repo = (): string => `strict/app${++n}`;

beforeAll(async () => {
  registry = await startRegistry();
  chain = makeChain({ length: 3, keyType: 'p256', keySlot: 'strict-json' });
});
afterAll(async () => {
  await registry?.stop();
});

function policy() {
  return {
    version: '1.0',
    trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:corp'], trustedIdentities: ['*'] }],
  };
}

function verifier(extra: Partial<ImageVerifierOptions> = {}): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: policy(),
    trustStores: new InMemoryTrustStore({ 'ca:corp': chain.rootPem }),
    sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registry.host], requestTimeoutMs: 5000 }),
    cacheTtlMs: 0,
    ...extra,
  });
}

const td = (d: Descriptor): string => JSON.stringify({ mediaType: d.mediaType, digest: d.digest, size: d.size });
const payloadText = (json: string): Uint8Array => Buffer.from(json);

async function signRaw(r: string, subject: Descriptor, opts: Partial<SignOptions>, format: 'jws' | 'cose' = 'jws', post?: (env: string) => string) {
  let env = signEnvelope(format, { key: chain.key, chainDer: chain.chainDer, targetArtifact: subject, ...opts });
  if (post) env = Buffer.from(post(Buffer.from(env).toString('utf8')));
  return pushSignature(registry.url, r, subject, env, envelopeMediaType(format));
}

async function verdictOf(r: string, d: Descriptor, extra: Partial<ImageVerifierOptions> = {}) {
  return verifier(extra).verify(`${registry.host}/${r}@${d.digest}`);
}

describe('signature payload (JWS and COSE)', () => {
  test.each(['jws', 'cose'] as const)('%s: a clean payload still verifies (control)', async (format) => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    await signRaw(r, image, { payload: payloadText(`{"targetArtifact":${td(image)}}`) }, format);
    expect((await verdictOf(r, image)).status).toBe('verified');
  });

  test.each<[string, (img: Descriptor, other: Descriptor) => string]>([
    ['"targetArtifact" then "TargetArtifact" (Go reads the second)', (img, other) => `{"targetArtifact":${td(img)},"TargetArtifact":${td(other)}}`],
    ['exact duplicate "targetArtifact"', (img, other) => `{"targetArtifact":${td(img)},"targetArtifact":${td(other)}}`],
    ['"digest" and "Digest" inside targetArtifact', (img, other) =>
      `{"targetArtifact":{"mediaType":"${img.mediaType}","digest":"${img.digest}","size":${img.size},"Digest":"${other.digest}"}}`],
    ['"size" and the long-s spelling "\u017fize"', (img, other) =>
      `{"targetArtifact":{"mediaType":"${img.mediaType}","digest":"${img.digest}","size":${img.size},"\\u017fize":${other.size}}}`],
    ['Kelvin-sign variant in nested annotations', (img) =>
      `{"targetArtifact":{"mediaType":"${img.mediaType}","digest":"${img.digest}","size":${img.size},"annotations":{"buildkind":"a","build\u212aind":"b"}}}`],
    ['lone surrogate escape (Go: U+FFFD)', (img) =>
      `{"targetArtifact":{"mediaType":"${img.mediaType}","digest":"${img.digest}","size":${img.size},"annotations":{"a\\ud800":"x"}}}`],
  ])('%s is INVALID_ENVELOPE, never verified (jws and cose)', async (_n, build) => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    const other = await pushImage(registry.url, r);
    for (const format of ['jws', 'cose'] as const) {
      const rr = repo();
      const img = await pushImage(registry.url, rr);
      await signRaw(rr, img, { payload: payloadText(build(img, other)) }, format);
      const v = await verdictOf(rr, img);
      expect(v.status).toBe('failed');
      expect(v.signatures[0].error?.code).toBe('INVALID_ENVELOPE');
      expect(v.signatures[0].error?.message).toMatch(/duplicate object key|lone surrogate/);
    }
    expect(image.digest).not.toBe(other.digest);
  });
});

test('a lone case-variant "TargetArtifact" (Go would read it as targetArtifact) is refused, never guessed', async () => {
  const r = repo();
  const image = await pushImage(registry.url, r);
  await signRaw(r, image, { payload: payloadText(`{"TargetArtifact":${td(image)}}`) });
  const v = await verdictOf(r, image);
  expect(v.status).toBe('failed');
  expect(v.signatures[0].error).toMatchObject({ code: 'INVALID_ENVELOPE' });
});

describe('JWS protected header and envelope', () => {
  test.each<[string, Partial<SignOptions>]>([
    ['"alg" and "ALG"', { extendedAttributes: [{ key: 'ALG', value: 'ES384' }] }],
    ['"cty" and "Cty"', { extendedAttributes: [{ key: 'Cty', value: 'application/json' }] }],
    ['signingScheme with a long s', { extendedAttributes: [{ key: 'io.cncf.notary.\u017figningScheme', value: 'notary.x509.signingAuthority' }] }],
    ['"crit" and "CRIT"', { extendedAttributes: [{ key: 'CRIT', value: [] }] }],
    ['nested duplicate inside an extended attribute', { extendedAttributes: [{ key: 'io.example.meta', value: JSON.parse('{"k":{"a":1,"A":2}}') }] }],
  ])('protected header with %s is INVALID_ENVELOPE', async (_n, opts) => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    await signRaw(r, image, opts);
    const v = await verdictOf(r, image);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error?.code).toBe('INVALID_ENVELOPE');
    expect(v.signatures[0].error?.message).toMatch(/duplicate object key/);
  });

  test('flattened JWS with "payload" and "Payload" (Go reads the second) is INVALID_ENVELOPE', async () => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    await signRaw(r, image, {}, 'jws', (env) => env.replace(/}$/, `,"Payload":"${Buffer.from('{"targetArtifact":{}}').toString('base64url')}"}`));
    const v = await verdictOf(r, image);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error).toMatchObject({ code: 'INVALID_ENVELOPE' });
    expect(v.signatures[0].error?.message).toMatch(/duplicate object key "Payload"/);
  });

  test('unprotected header with "x5c" and "X5C" is INVALID_ENVELOPE', async () => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    await signRaw(r, image, {}, 'jws', (env) => env.replace('"header":{', '"header":{"X5C":[],'));
    const v = await verdictOf(r, image);
    expect(v.signatures[0].error).toMatchObject({ code: 'INVALID_ENVELOPE' });
  });
});

describe('manifests, indexes and listings', () => {
  test('signature manifest with "layers" and "Layers" is INVALID_MANIFEST (real registry stores it verbatim)', async () => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    const env = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image });
    await pushSignature(registry.url, r, image, env, envelopeMediaType('jws'), { mutate: (m) => { m.Layers = m.layers; } });
    const v = await verdictOf(r, image);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error?.code).toBe('INVALID_MANIFEST');
    expect(v.signatures[0].error?.message).toMatch(/duplicate object key "Layers"/);
  });

  test('signature manifest with "subject" and the long-s "\u017fubject" is INVALID_MANIFEST', async () => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    const env = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image });
    await pushSignature(registry.url, r, image, env, envelopeMediaType('jws'), { mutate: (m) => { m['\u017fubject'] = m.subject; } });
    const v = await verdictOf(r, image);
    expect(v.signatures[0]?.error?.code ?? v.error?.code).toBe('INVALID_MANIFEST');
  });

  test('tag-schema index with "manifests" and "Manifests" (Go lists the second) fails, not verified', async () => {
    const r = repo();
    const image = await pushImage(registry.url, r);
    const env = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image });
    const sig = await pushSignature(registry.url, r, image, env, envelopeMediaType('jws'), { tagSchema: false });
    const index = `{"schemaVersion":2,"mediaType":"${MEDIA_TYPE.OCI_INDEX}","manifests":[${JSON.stringify(sig)}],"Manifests":[]}`;
    await remoteTarget(registry.url, r).putManifest(Buffer.from(index), MEDIA_TYPE.OCI_INDEX, tagSchemaTag(image.digest));
    expect((await verdictOf(r, image)).status).toBe('failed');
    const v = await verdictOf(r, image);
    expect(JSON.stringify(v)).toMatch(/INVALID_MANIFEST/);
  });

  test('requirePlatformSignatures: an image index with "manifests" and "Manifests" fails the platform check', async () => {
    const r = repo();
    const { index, manifests } = await pushImageIndex(registry.url, r);
    const t = remoteTarget(registry.url, r);
    const got = await t.getManifest(index.digest);
    const doc = JSON.parse(got!.bytes.toString());
    // Go would read only the first platform; JSON.parse would read both.
    const text = JSON.stringify(doc).replace(/}$/, `,"Manifests":[${JSON.stringify(doc.manifests[0])}]}`);
    const digest = await t.putManifest(Buffer.from(text), MEDIA_TYPE.OCI_INDEX);
    const dup: Descriptor = { mediaType: MEDIA_TYPE.OCI_INDEX, digest, size: Buffer.byteLength(text) };
    await signRaw(r, dup, {});
    for (const m of manifests) await signRaw(r, m, {});
    const v = await verdictOf(r, dup, { requirePlatformSignatures: true });
    expect(v.status).toBe('failed');
    expect(JSON.stringify(v.platforms)).toMatch(/INVALID_MANIFEST/);
    // control: the same platforms under a clean index verify
    await signRaw(r, index, {});
    expect((await verdictOf(r, index, { requirePlatformSignatures: true })).status).toBe('verified');
  });

  test('parsers: listings and signature manifests with nested or Kelvin-sign collisions are INVALID_MANIFEST', () => {
    const d = `{"mediaType":"${MEDIA_TYPE.OCI_MANIFEST}","digest":"sha256:${'a'.repeat(64)}","size":1`;
    for (const text of [
      `{"manifests":[${d},"Digest":"sha256:${'b'.repeat(64)}"}]}`,
      `{"manifests":[${d},"annotations":{"kind":"x","\u212aind":"y"}}]}`,
      '{"manifests":[],"annotations":{"a":"1","A":"2"}}',
    ]) {
      expect(failure(() => parseIndexManifests(Buffer.from(text), 'referrers listing')).code).toBe('INVALID_MANIFEST');
    }
    expect(failure(() => parseSignatureManifest(Buffer.from('{"schemaVersion":2,"SchemaVersion":3}'), MEDIA_TYPE.OCI_MANIFEST)).code).toBe('INVALID_MANIFEST');
  });

  test('a registry answering a manifest with an unknown content type and "mediaType"/"MediaType" is INVALID_MANIFEST', async () => {
    const body = `{"schemaVersion":2,"mediaType":"${MEDIA_TYPE.OCI_MANIFEST}","MediaType":"${MEDIA_TYPE.OCI_INDEX}","config":{},"layers":[]}`;
    const server = await startRecordingServer(() => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body }));
    try {
      const v = await new ImageVerifier({
        trustPolicy: policy(),
        trustStores: new InMemoryTrustStore({ 'ca:corp': chain.rootPem }),
        sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [server.host], requestTimeoutMs: 2000 }),
        cacheTtlMs: 0,
      }).verify(`${server.host}/x/y:latest`);
      expect(v.status).toBe('failed');
      expect(v.error).toMatchObject({ code: 'INVALID_MANIFEST' });
      expect(v.error?.message).toMatch(/duplicate object key "MediaType"/);
    } finally {
      await server.stop();
    }
  });
});
