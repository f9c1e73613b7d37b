/**
 * `signImage` end to end: the local AWS endpoint's SignPayload (restJson1, through the real AWS SDK) signs the
 * payload it receives with an AWS-Signer-shaped test PKI; the signature is pushed to the real Debian
 * docker-registry (no referrers API: tag schema) or to the in-memory referrers-capable registry, then verified
 * by the engine with a `TrustPolicy.fromSigningProfiles`-shaped policy.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { actLikeAwsSigner, awsEnv, awsSignerLike, engineVerifier, OTHER_PROFILE, PROFILE, signerChain } from './support';
import { parseReference } from '../../src/verifier/reference';
import { sdkSignPayloadClient, signImage, SignImageOptions } from '../../src/verifier/sign';
import { MEDIA_TYPE } from '../../src/verifier/types';
import { AwsFake, startAwsFake } from '../support/aws-fake';
import { makeChain } from '../support/pki';
import { pushImage, pushImageIndex, pushSignature, remoteTarget, tagSchemaTag } from '../support/push';
import { ReferrersServer, startReferrersServer, startRegistry, TestRegistry } from '../support/registry';
import { signJws } from '../support/sign';

let registry: TestRegistry;
let referrers: ReferrersServer;
let aws: AwsFake;
const savedEnv: Record<string, string | undefined> = {};
let repoCounter = 0;
const newRepo = () => `sign/app${++repoCounter}`;

beforeAll(async () => {
  registry = await startRegistry();
  referrers = await startReferrersServer({ referrers: 'supported' });
  aws = await startAwsFake();
  for (const [k, v] of Object.entries(awsEnv(aws.url))) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  signerChain();
});

afterAll(async () => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await registry?.stop();
  await referrers?.stop();
  await aws?.stop();
});

beforeEach(() => {
  actLikeAwsSigner(aws);
  aws.signPayloadErrors.length = 0;
  aws.calls.length = 0;
  referrers.clearFaults();
});

function options(host: string, extra: Partial<SignImageOptions> = {}): SignImageOptions {
  return {
    signingProfileArn: PROFILE,
    signer: sdkSignPayloadClient({ endpoint: aws.url }),
    plainHttpRegistries: [host],
    requestTimeoutMs: 5000,
    sleep: async () => undefined,
    ...extra,
  };
}

async function tagIndex(url: string, repo: string, digest: string) {
  const got = await remoteTarget(url, repo).getManifest(tagSchemaTag(digest));
  return got ? JSON.parse(got.bytes.toString()) : undefined;
}

describe('round trips', () => {
  test('digest reference: signed, pushed with the tag schema, verified by the engine', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const ref = `${registry.host}/${repo}@${image.digest}`;
    const r = await signImage(parseReference(ref), options(registry.host, { userMetadata: { build: '42' } }));
    expect(r.subject).toEqual(image);
    expect(r.discovery).toBe('tag-schema');
    const call = aws.calls.find((c) => c.operation === 'SignPayload')!.input;
    expect(call.profileName).toBe('release_profile');
    expect(call.profileOwner).toBe('123456789012');
    expect(call.payloadFormat).toBe(MEDIA_TYPE.NOTARY_PAYLOAD);
    expect(JSON.parse(call.payload.toString())).toEqual({ targetArtifact: { ...image, annotations: { build: '42' } } });
    const idx = await tagIndex(registry.url, repo, image.digest);
    expect(idx.manifests.map((m: any) => m.digest)).toEqual([r.signature.digest]);
    expect(idx.manifests[0].artifactType).toBe(MEDIA_TYPE.NOTARY_SIGNATURE);
    const v = await engineVerifier(registry.host, aws.url).verify(ref);
    expect(v.status).toBe('verified');
    expect(v.signatureDigest).toBe(r.signature.digest);
    expect(v.signer).toBe(`${PROFILE}/v1AbCdEf12`); // the profile VERSION ARN the signature names
  });

  test('tag reference: resolved and reported by digest; the digest verifies', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo, { tag: 'v1' });
    const r = await signImage(parseReference(`${registry.host}/${repo}:v1`), options(registry.host));
    expect(r.subject.digest).toBe(image.digest);
    expect(r.signedReference).toBe(`${registry.host}/${repo}@${image.digest}`);
    expect((await engineVerifier(registry.host, aws.url).verify(r.signedReference)).status).toBe('verified');
  });

  test('multi-arch index: the index itself is the subject and verifies', async () => {
    const repo = newRepo();
    const { index, manifests } = await pushImageIndex(registry.url, repo, { tag: 'multi' });
    const r = await signImage(parseReference(`${registry.host}/${repo}:multi`), options(registry.host));
    expect(r.subject).toEqual(index);
    expect(r.subject.mediaType).toBe(MEDIA_TYPE.OCI_INDEX);
    const v = await engineVerifier(registry.host, aws.url).verify(`${registry.host}/${repo}@${index.digest}`);
    expect(v.status).toBe('verified');
    // a platform manifest is another subject: not signed by signing the index
    const p = await engineVerifier(registry.host, aws.url).verify(`${registry.host}/${repo}@${manifests[0].digest}`);
    expect(p.status).toBe('failed');
  });

  test('a repository that already has signatures: the tag-schema index keeps them all', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const other = makeChain({ keySlot: 'sign-existing' });
    const old1 = await pushSignature(registry.url, repo, image, signJws({ key: other.key, chainDer: other.chainDer, targetArtifact: image }), MEDIA_TYPE.JWS);
    const old2 = await pushSignature(registry.url, repo, image, signJws({ key: other.key, chainDer: other.chainDer, targetArtifact: image }), MEDIA_TYPE.JWS);
    const r = await signImage(parseReference(`${registry.host}/${repo}@${image.digest}`), options(registry.host));
    const idx = await tagIndex(registry.url, repo, image.digest);
    expect(idx.manifests.map((m: any) => m.digest)).toEqual([old1.digest, old2.digest, r.signature.digest]);
    const v = await engineVerifier(registry.host, aws.url).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('verified');
    expect(v.signatureDigest).toBe(r.signature.digest);
  });

  test('a second signature by another profile: both listed, each profile verifies its own', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const ref = parseReference(`${registry.host}/${repo}@${image.digest}`);
    const first = await signImage(ref, options(registry.host));
    const second = await signImage(ref, options(registry.host, { signingProfileArn: OTHER_PROFILE }));
    expect(second.signature.digest).not.toBe(first.signature.digest);
    const idx = await tagIndex(registry.url, repo, image.digest);
    expect(idx.manifests.map((m: any) => m.digest)).toEqual([first.signature.digest, second.signature.digest]);
    const onlyOther = await engineVerifier(registry.host, aws.url, [OTHER_PROFILE]).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(onlyOther.status).toBe('verified');
    expect(onlyOther.signatureDigest).toBe(second.signature.digest);
    expect(onlyOther.signer).toBe(`${OTHER_PROFILE}/v1AbCdEf12`);
  });

  test('a tag-schema tag holding something else than an OCI index is not overwritten', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await pushImage(registry.url, repo, { tag: tagSchemaTag(image.digest) });
    const e = await signImage(parseReference(`${registry.host}/${repo}@${image.digest}`), options(registry.host)).catch((x) => x);
    expect(e.code).toBe('INVALID_MANIFEST');
    expect(e.message).toContain('refusing to overwrite');
  });

  test('a registry with the referrers API: no tag-schema index is written, the API lists the signature', async () => {
    const repo = newRepo();
    const image = await pushImage(referrers.url, repo);
    const ref = `${referrers.host}/${repo}@${image.digest}`;
    const r = await signImage(parseReference(ref), options(referrers.host));
    expect(r.discovery).toBe('referrers-api');
    expect(await tagIndex(referrers.url, repo, image.digest)).toBeUndefined();
    const v = await engineVerifier(referrers.host, aws.url).verify(ref);
    expect(v.status).toBe('verified');
    expect(v.signatureDigest).toBe(r.signature.digest);
  });
});

describe('failure paths: typed error, nothing visible to verifiers', () => {
  /** Pushes a new image to `server`, runs `arrange` (faults, Signer answers), signs: the error thrown (or the result). */
  async function signFreshImage(server: { url: string; host: string }, arrange: () => void) {
    const repo = newRepo();
    const image = await pushImage(server.url, repo);
    arrange();
    const outcome = await signImage(parseReference(`${server.host}/${repo}@${image.digest}`), options(server.host)).catch((x) => x);
    return { repo, image, outcome };
  }

  /** The same on the plain registry, with these Signer errors queued. */
  const signAfterSignerErrors = (errors: Array<{ status: number; type: string; message: string }>) =>
    signFreshImage(registry, () => aws.signPayloadErrors.push(...errors));

  async function unsignedAfter(host: string, url: string, repo: string, digest: string) {
    expect(await tagIndex(url, repo, digest)).toBeUndefined();
    const v = await engineVerifier(host, aws.url).verify(`${host}/${repo}@${digest}`);
    expect(v.status).toBe('failed');
    expect(v.error?.code).toBe('NO_SIGNATURE');
  }

  test('AccessDeniedException: failed AWS_API naming the code and grantPushAndSign; not retried', async () => {
    const { repo, image, outcome: e } = await signAfterSignerErrors([{ status: 403, type: 'AccessDeniedException', message: 'User is not authorized to perform: signer:SignPayload' }]);
    expect(e.kind).toBe('failed');
    expect(e.code).toBe('AWS_API');
    expect(e.message).toContain('AccessDeniedException');
    expect(e.message).toContain('SignedRegistry.grantPushAndSign');
    expect(aws.calls.filter((c) => c.operation === 'SignPayload')).toHaveLength(1);
    await unsignedAfter(registry.host, registry.url, repo, image.digest);
  });

  test('ThrottlingException: retried a bounded number of times (3 attempts), then inconclusive', async () => {
    const { repo, image, outcome: e } = await signAfterSignerErrors(Array(5).fill({ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }));
    expect(e.kind).toBe('inconclusive');
    expect(e.code).toBe('AWS_API');
    expect(e.message).toContain('ThrottlingException');
    expect(aws.calls.filter((c) => c.operation === 'SignPayload')).toHaveLength(3);
    await unsignedAfter(registry.host, registry.url, repo, image.digest);
  });

  test('throttled once, then signed', async () => {
    const { outcome: r } = await signAfterSignerErrors([{ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }]);
    expect(r).not.toBeInstanceOf(Error);
    expect(aws.calls.filter((c) => c.operation === 'SignPayload')).toHaveLength(2);
    expect((await engineVerifier(registry.host, aws.url).verify(r.signedReference)).status).toBe('verified');
  });

  test('Signer 5xx on every attempt: inconclusive, nothing pushed', async () => {
    const { repo, image, outcome: e } = await signAfterSignerErrors(Array(3).fill({ status: 500, type: 'InternalServiceErrorException', message: 'boom' }));
    expect(e.kind).toBe('inconclusive');
    expect(e.message).toContain('InternalServiceErrorException');
    await unsignedAfter(registry.host, registry.url, repo, image.digest);
  });

  test('an envelope over another payload is refused before anything is pushed', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const decoy = await pushImage(registry.url, repo);
    aws.signPayload = () => {
      const c = signerChain();
      return signJws({ key: c.key, chainDer: c.chainDer, targetArtifact: decoy, signingScheme: 'notary.x509.signingAuthority', authenticSigningTime: new Date(), payload: undefined });
    };
    const e = await signImage(parseReference(`${registry.host}/${repo}@${image.digest}`), options(registry.host)).catch((x) => x);
    expect(e.kind).toBe('failed');
    expect(e.code).toBe('TARGET_MISMATCH');
    await unsignedAfter(registry.host, registry.url, repo, image.digest);
  });

  test('a registry refusing the signature manifest: failed/inconclusive error with its code, no signature listed', async () => {
    const { repo, image, outcome: e } = await signFreshImage(referrers, () => referrers.addFault({
      match: /^PUT \/v2\/[^ ]+\/manifests\//, status: 403, body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'push denied' }] }),
    }));
    expect(e.code).toBe('AUTHENTICATION');
    expect(e.message).toContain('DENIED');
    referrers.clearFaults();
    await unsignedAfter(referrers.host, referrers.url, repo, image.digest);
  });

  test('a registry refusing the envelope blob upload: error with the registry code, no manifest pushed', async () => {
    const repo = newRepo();
    const image = await pushImage(referrers.url, repo);
    const before = referrers.requests().length;
    referrers.addFault({ match: /^POST \/v2\/[^ ]+\/blobs\/uploads\//, status: 403, body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'no push' }] }) });
    const e = await signImage(parseReference(`${referrers.host}/${repo}@${image.digest}`), options(referrers.host)).catch((x) => x);
    expect(e.code).toBe('AUTHENTICATION');
    expect(e.message).toContain('DENIED');
    expect(referrers.requests().slice(before).some((r) => r.startsWith('PUT ') && r.includes('/manifests/'))).toBe(false);
    referrers.clearFaults();
    await unsignedAfter(referrers.host, referrers.url, repo, image.digest);
  });

  test('registry 503 on the manifest PUT: retried (bounded) and signed; 503 every time: inconclusive, not listed', async () => {
    const repo = newRepo();
    const image = await pushImage(referrers.url, repo);
    referrers.addFault({ match: /^PUT \/v2\/[^ ]+\/manifests\/sha256:/, status: 503, times: 2 });
    const ok = await signImage(parseReference(`${referrers.host}/${repo}@${image.digest}`), options(referrers.host));
    expect(ok.discovery).toBe('referrers-api');
    const repo2 = newRepo();
    const image2 = await pushImage(referrers.url, repo2);
    const before = referrers.requests().length;
    referrers.addFault({ match: /^PUT \/v2\/[^ ]+\/manifests\/sha256:/, status: 503 });
    const e = await signImage(parseReference(`${referrers.host}/${repo2}@${image2.digest}`), options(referrers.host)).catch((x) => x);
    expect(e.kind).toBe('inconclusive');
    expect(e.code).toBe('REGISTRY_UNAVAILABLE');
    expect(referrers.requests().slice(before).filter((r) => r.startsWith('PUT ') && r.includes('/manifests/'))).toHaveLength(3);
    referrers.clearFaults();
    await unsignedAfter(referrers.host, referrers.url, repo2, image2.digest);
  });

  test('an upload Location on another origin is not followed (the envelope never leaves the registry)', async () => {
    const { repo, image, outcome: e } = await signFreshImage(referrers, () => referrers.addFault({
      match: /^POST \/v2\/[^ ]+\/blobs\/uploads\//, status: 202, headers: { Location: 'http://198.51.100.7/upload/1' }, body: '',
    }));
    expect(e.kind).toBe('failed');
    expect(e.message).toContain('another origin');
    referrers.clearFaults();
    await unsignedAfter(referrers.host, referrers.url, repo, image.digest);
  });

  test('Signer answering something that is not a JWS envelope: INVALID_ENVELOPE, nothing pushed', async () => {
    const { repo, image, outcome: e } = await signFreshImage(registry, () => {
      aws.signPayload = () => Buffer.from('not an envelope');
    });
    expect(e.kind).toBe('failed');
    expect(e.code).toBe('INVALID_ENVELOPE');
    await unsignedAfter(registry.host, registry.url, repo, image.digest);
  });

  test('an envelope over the right payload with a broken signature: refused before pushing', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    aws.signPayload = (input) => {
      const env = JSON.parse(Buffer.from(awsSignerLike(input)).toString());
      const sig = Buffer.from(env.signature, 'base64url');
      sig[10] ^= 0xff;
      env.signature = sig.toString('base64url');
      return Buffer.from(JSON.stringify(env));
    };
    const e = await signImage(parseReference(`${registry.host}/${repo}@${image.digest}`), options(registry.host)).catch((x) => x);
    expect(e.kind).toBe('failed');
    expect(e.code).toBe('INVALID_SIGNATURE');
    await unsignedAfter(registry.host, registry.url, repo, image.digest);
  });

  test('a signing-profile VERSION ARN is a configuration error before any call', async () => {
    const e = await signImage(parseReference(`${registry.host}/x/y@sha256:${'a'.repeat(64)}`), options(registry.host, { signingProfileArn: `${PROFILE}/AbCdEf1234` })).catch((x) => x);
    expect(e.kind).toBe('configuration');
    expect(e.message).toContain('VERSION ARN');
    expect(aws.calls).toHaveLength(0);
  });
});

describe('layout: what sign pushes is what notation pushes', () => {
  test('signature manifest and envelope match notation\'s layout field by field', async () => {
    const layout = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'sign', 'notation-signature-manifest.layout.json'), 'utf8'));
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const r = await signImage(parseReference(`${registry.host}/${repo}@${image.digest}`), options(registry.host));
    const got = await remoteTarget(registry.url, repo).getManifest(r.signature.digest);
    expect(got!.mediaType).toBe(MEDIA_TYPE.OCI_MANIFEST);
    const m = JSON.parse(got!.bytes.toString());
    // same keys in the same order as notation's (Go struct order of ocispec.Manifest)
    expect(Object.keys(m)).toEqual(Object.keys(layout));
    expect(m.schemaVersion).toBe(layout.schemaVersion);
    expect(m.mediaType).toBe(layout.mediaType);
    expect(m.artifactType).toBe(layout.artifactType);
    expect(m.config).toEqual(layout.config);
    expect(m.layers).toEqual([{ mediaType: layout.layers[0].mediaType, digest: r.envelope.digest, size: r.envelope.size }]);
    expect(m.subject).toEqual({ mediaType: image.mediaType, digest: image.digest, size: image.size });
    expect(Object.keys(m.annotations).sort()).toEqual(Object.keys(layout.annotations).sort());
    const chain = signerChain().chainDer.map((d) => createHash('sha256').update(d).digest('hex'));
    expect(m.annotations['io.cncf.notary.x509chain.thumbprint#S256']).toBe(JSON.stringify(chain));
    expect(m.annotations['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // the empty config blob and the envelope blob are there, byte for byte
    const blob = async (d: string) => Buffer.from(await (await fetch(`${registry.url}/v2/${repo}/blobs/${d}`)).arrayBuffer());
    expect((await blob(layout.config.digest)).toString()).toBe('{}');
    const env = JSON.parse((await blob(r.envelope.digest)).toString());
    expect(Object.keys(env).sort()).toEqual(['header', 'payload', 'protected', 'signature']);
    expect(JSON.parse(Buffer.from(env.payload, 'base64url').toString())).toEqual({ targetArtifact: image });
  });
});
