/**
 * The whole engine against a real Debian docker-registry on loopback: generated PKIs sign images
 * (JWS and COSE, RSA and EC, x509 and AWS-Signer-shaped signingAuthority chains), and every
 * verdict is decided by the real pipeline. The only stand-in is the AWS Signer revocation API
 * (an object implementing SignerRevocationClient with GetRevocationStatus's request/response shape).
 */
import { createHash } from 'node:crypto';
import { RemoteRepository } from '../../src/verifier/registry/remote';
import { SignerRevocationClient, SignerRevocationRequest } from '../../src/verifier/signer';
import { Descriptor } from '../../src/verifier/types';
import { ImageVerifier, ImageVerifierOptions } from '../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { awsSignerShaped, Chain, makeChain } from '../support/pki';
import { pushImage, pushImageIndex, pushSignature } from '../support/push';
import { startRegistry, TestRegistry } from '../support/registry';
import { awsSignerSignOptions, envelopeMediaType, signEnvelope, SignOptions } from '../support/sign';

let registry: TestRegistry;
let x509Chain: Chain;
let rsaChain: Chain;
let signerChain: Chain;
let otherChain: Chain;

const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/shop_release';
const PROFILE_VERSION = `${PROFILE}/AbCdEf1234`;
const JOB = 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0f6a3bd6-2b3e-4a7f-9d27-8f4e0b1c2d3e';

beforeAll(async () => {
  registry = await startRegistry();
  x509Chain = makeChain({ length: 3, keyType: 'p256', keySlot: 'e2e-x509' });
  rsaChain = makeChain({ length: 2, keyType: 'rsa3072', keySlot: 'e2e-rsa' });
  signerChain = makeChain(awsSignerShaped());
  otherChain = makeChain({ length: 3, keyType: 'p256', keySlot: 'e2e-other', root: { subject: 'CN=Someone Else Root,O=Else,ST=WA,C=US' } });
});

afterAll(async () => {
  await registry?.stop();
});

class RecordingSignerClient implements SignerRevocationClient {
  public readonly calls: SignerRevocationRequest[] = [];
  public constructor(private readonly answer: () => Promise<{ revokedEntities?: string[] }>) {}
  public async getRevocationStatus(input: SignerRevocationRequest) {
    this.calls.push(input);
    return this.answer();
  }
}

let repoCounter = 0;
function newRepo(): string {
  return `e2e/app${++repoCounter}`;
}

function policy(level = 'strict', extra: Record<string, unknown> = {}) {
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: 'x509-signed',
        registryScopes: ['*'],
        signatureVerification: { level, ...extra },
        trustStores: ['ca:corp'],
        trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'],
      },
    ],
  };
}

function signerPolicy(scope: string, level = 'strict', override?: Record<string, string>) {
  return {
    version: '1.0',
    trustPolicies: [{
      name: 'aws-signer',
      registryScopes: [scope],
      signatureVerification: { level, ...(override ? { override } : {}) },
      trustStores: ['signingAuthority:aws-signer-ts'],
      trustedIdentities: [PROFILE],
    }],
  };
}

function verifierFor(trustPolicy: unknown, extra: Partial<ImageVerifierOptions> = {}) {
  return new ImageVerifier({
    trustPolicy,
    trustStores: new InMemoryTrustStore({ 'ca:corp': x509Chain.rootPem + rsaChain.rootPem, 'signingAuthority:aws-signer-ts': signerChain.rootPem }),
    sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registry.host], requestTimeoutMs: 5000 }),
    cacheTtlMs: 0,
    // The test "AWS Signer" root stands in for AWS's (profile ARNs only match AWS Signer chains).
    awsSignerRoots: [signerChain.chainDer[signerChain.chainDer.length - 1]],
    ...extra,
  });
}

async function signAndPush(repo: string, subject: Descriptor, chain: Chain, format: 'jws' | 'cose' = 'jws', opts: Partial<SignOptions> = {}) {
  const envelope = signEnvelope(format, { key: chain.key, chainDer: chain.chainDer, targetArtifact: subject, ...opts });
  return pushSignature(registry.url, repo, subject, envelope, envelopeMediaType(format));
}

function signerOpts(extra: Partial<SignOptions> = {}): Partial<SignOptions> {
  return awsSignerSignOptions(PROFILE_VERSION, JOB, extra);
}

describe('x509 signatures', () => {
  test.each([['jws', 'p256'], ['cose', 'p256'], ['jws', 'rsa3072'], ['cose', 'rsa3072']] as const)('%s / %s signed image verifies', async (format, key) => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo, { tag: 'v1' });
    const sig = await signAndPush(repo, image, key === 'p256' ? x509Chain : rsaChain, format);
    const v = await verifierFor(policy()).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('verified');
    expect(v.signatureDigest).toBe(sig.digest);
    expect(v.signer).toBe('CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US');
    expect(v.signatures[0].checks.every((c) => c.passed)).toBe(true);
  });

  test('a tag is resolved to its digest (with a warning) and the digest is verified', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo, { tag: 'v2' });
    await signAndPush(repo, image, x509Chain);
    const warnings: string[] = [];
    const v = await verifierFor(policy(), { logger: { warn: (m) => warnings.push(m) } }).verify(`${registry.host}/${repo}:v2`);
    expect(v.status).toBe('verified');
    expect(v.digest).toBe(image.digest);
    expect(warnings.join()).toMatch(/tag/);
  });

  test('unsigned image: no signature', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const v = await verifierFor(policy()).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('failed');
    expect(v.error?.code).toBe('NO_SIGNATURE');
    expect(v.reasons[0]).toContain('no signature is associated with');
  });

  test('untrusted root is rejected at strict and logged at audit', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, otherChain);
    const ref = `${registry.host}/${repo}@${image.digest}`;
    const strict = await verifierFor(policy()).verify(ref);
    expect(strict.status).toBe('failed');
    expect(strict.signatures[0].error?.code).toBe('UNTRUSTED_CERTIFICATE');
    const audit = await verifierFor(policy('audit')).verify(ref);
    expect(audit.status).toBe('verified');
  });

  test('identity mismatch is rejected', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, x509Chain);
    const p = policy();
    p.trustPolicies[0].trustedIdentities = ['x509.subject:C=US,ST=WA,O=Other Org'];
    const v = await verifierFor(p).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.signatures[0].error?.code).toBe('UNTRUSTED_IDENTITY');
  });

  test('a signature made for another image is rejected (content descriptor mismatch)', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const other = await pushImage(registry.url, repo);
    const envelope = signEnvelope('jws', { key: x509Chain.key, chainDer: x509Chain.chainDer, targetArtifact: other });
    await pushSignature(registry.url, repo, image, envelope, envelopeMediaType('jws'));
    const v = await verifierFor(policy()).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error?.code).toBe('TARGET_MISMATCH');
  });

  test('expired signature: enforced at strict, logged at permissive', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, x509Chain, 'jws', { signingTime: new Date(Date.now() - 7200_000), expiry: new Date(Date.now() - 3600_000) });
    const ref = `${registry.host}/${repo}@${image.digest}`;
    expect((await verifierFor(policy()).verify(ref)).signatures[0].error?.code).toBe('SIGNATURE_EXPIRED');
    const permissive = await verifierFor(policy('permissive')).verify(ref);
    expect(permissive.status).toBe('verified');
    expect(permissive.signatures[0].checks.find((c) => c.check === 'expiry')).toMatchObject({ passed: false, action: 'log' });
  });

  test('an expired signing certificate fails notary.x509 at strict (no TSA store)', async () => {
    const expired = makeChain({ length: 2, keySlot: 'e2e-expired', leaf: { notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') } });
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, expired);
    const v = await new ImageVerifier({
      trustPolicy: policy(),
      trustStores: new InMemoryTrustStore({ 'ca:corp': expired.rootPem }),
      sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registry.host] }),
    }).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].checks.find((c) => c.check === 'authenticTimestamp')).toMatchObject({ passed: false, action: 'enforce' });
  });

  test('first valid signature wins; maxSignatures bounds the attempts', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, otherChain);
    const good = await signAndPush(repo, image, x509Chain, 'cose');
    const ref = `${registry.host}/${repo}@${image.digest}`;
    const v = await verifierFor(policy()).verify(ref);
    expect(v.status).toBe('verified');
    expect(v.signatures).toHaveLength(2);
    expect(v.signatureDigest).toBe(good.digest);
    const bounded = await verifierFor(policy(), { maxSignatures: 1 }).verify(ref);
    expect(bounded.status).toBe('failed');
    expect(bounded.signatures).toHaveLength(1);
  });

  test('unknown critical attribute is rejected even though the signature is cryptographically valid', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, x509Chain, 'jws', { tamper: 'unknownCriticalAttribute' });
    const v = await verifierFor(policy()).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error?.message).toContain('io.example.unknown');
  });

  test('verdicts are cached per (digest, policy) and concurrent requests share one verification', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, x509Chain);
    const iv = verifierFor(policy(), { cacheTtlMs: 60_000 });
    const ref = `${registry.host}/${repo}@${image.digest}`;
    const results = await Promise.all(Array.from({ length: 20 }, () => iv.verify(ref)));
    expect(results.every((r) => r.verified)).toBe(true);
    expect(iv.cacheStats?.computations).toBe(1);
    const again = await iv.verify(ref);
    expect(again.cached).toBe(true);
    expect(again.verified).toBe(true);
  });

  test('failed (definitive) verdicts are cached; "no signature" is not (managed signing is asynchronous)', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const iv = verifierFor(policy(), { cacheTtlMs: 60_000 });
    const ref = `${registry.host}/${repo}@${image.digest}`;
    expect((await iv.verify(ref)).error?.code).toBe('NO_SIGNATURE');
    expect((await iv.verify(ref)).cached).toBeUndefined();
    await signAndPush(repo, image, otherChain);
    expect((await iv.verify(ref)).status).toBe('failed');
    expect((await iv.verify(ref)).cached).toBe(true);
  });
});

describe('AWS Signer signatures (in-process plugin logic)', () => {
  test('verifies, with the exact GetRevocationStatus request', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    await signAndPush(repo, image, signerChain, 'jws', signerOpts({ authenticSigningTime: when }));
    const client = new RecordingSignerClient(async () => ({ revokedEntities: [] }));
    const v = await verifierFor(signerPolicy(`${registry.host}/${repo}`), { signerClient: client }).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('verified');
    expect(v.signer).toBe(PROFILE_VERSION);
    expect(client.calls).toHaveLength(1);
    expect(client.calls[0]).toMatchObject({ platformId: 'Notation-OCI-SHA384-ECDSA', profileVersionArn: PROFILE_VERSION, jobArn: JOB });
    expect(client.calls[0].signatureTimestamp.getTime()).toBe(when.getTime());
    expect(client.calls[0].certificateHashes).toHaveLength(4);
    expect(client.calls[0].certificateHashes.every((h) => /^[0-9a-f]{192}$/.test(h))).toBe(true);
    expect(client.calls[0].certificateHashes[3].slice(0, 96)).toBe(client.calls[0].certificateHashes[3].slice(96));
  });

  test('a profile ARN trusts every version; a different profile does not', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, signerChain, 'jws', signerOpts());
    const client = new RecordingSignerClient(async () => ({}));
    const ref = `${registry.host}/${repo}@${image.digest}`;
    const p = signerPolicy(`${registry.host}/${repo}`);
    p.trustPolicies[0].trustedIdentities = ['arn:aws:signer:us-east-1:123456789012:/signing-profiles/other_profile'];
    const v = await verifierFor(p, { signerClient: client }).verify(ref);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error?.message).toBe("Signature publisher doesn't match any trusted identities.");
  });

  test('revoked profile version is rejected with the plugin message', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, signerChain, 'jws', signerOpts());
    const client = new RecordingSignerClient(async () => ({ revokedEntities: [PROFILE_VERSION] }));
    const v = await verifierFor(signerPolicy(`${registry.host}/${repo}`), { signerClient: client }).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error?.message).toBe(`Resource(s) ${PROFILE_VERSION} have been revoked.`);
  });

  test('GetRevocationStatus failing: inconclusive at strict, verified when revocation is only logged', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, signerChain, 'jws', signerOpts());
    const ref = `${registry.host}/${repo}@${image.digest}`;
    const failing = new RecordingSignerClient(async () => { throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }); });
    const strict = await verifierFor(signerPolicy(`${registry.host}/${repo}`), { signerClient: failing }).verify(ref);
    expect(strict.status).toBe('inconclusive');
    expect(strict.verified).toBe(false);
    expect(strict.reasons.join()).toContain('GetRevocationStatus call failed with error');
    const cached = verifierFor(signerPolicy(`${registry.host}/${repo}`), { signerClient: failing, cacheTtlMs: 60_000 });
    const calls = failing.calls.length;
    expect((await cached.verify(ref)).status).toBe('inconclusive');
    const second = await cached.verify(ref);
    expect(second.cached).toBeUndefined(); // inconclusive verdicts are never cached
    expect(failing.calls.length).toBe(calls + 2);
    const logged = await verifierFor(signerPolicy(`${registry.host}/${repo}`, 'strict', { revocation: 'log' }), { signerClient: failing }).verify(ref);
    expect(logged.status).toBe('verified');
  });

  test('an AWS Signer signature is never authenticated by a ca: store', async () => {
    const repo = newRepo();
    const image = await pushImage(registry.url, repo);
    await signAndPush(repo, image, signerChain, 'jws', signerOpts());
    const p = signerPolicy(`${registry.host}/${repo}`);
    p.trustPolicies[0].trustStores = ['ca:corp'];
    const v = await new ImageVerifier({
      trustPolicy: p,
      trustStores: new InMemoryTrustStore({ 'ca:corp': signerChain.rootPem }),
      sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registry.host] }),
      signerClient: new RecordingSignerClient(async () => ({})),
    }).verify(`${registry.host}/${repo}@${image.digest}`);
    expect(v.signatures[0].error?.code).toBe('UNTRUSTED_CERTIFICATE');
  });
});

describe('multi-arch images', () => {
  test('an index digest is verified as the index; requirePlatformSignatures also needs every platform', async () => {
    const repo = newRepo();
    const { index, manifests } = await pushImageIndex(registry.url, repo);
    await signAndPush(repo, index, x509Chain);
    const ref = `${registry.host}/${repo}@${index.digest}`;
    expect((await verifierFor(policy()).verify(ref)).status).toBe('verified');
    const strictPlatforms = await verifierFor(policy(), { requirePlatformSignatures: true }).verify(ref);
    expect(strictPlatforms.status).toBe('failed');
    expect(strictPlatforms.platforms).toHaveLength(2);
    for (const m of manifests) await signAndPush(repo, m, x509Chain);
    const all = await verifierFor(policy(), { requirePlatformSignatures: true }).verify(ref);
    expect(all.status).toBe('verified');
    expect(all.platforms?.every((p) => p.verified)).toBe(true);
  });
});

test('registry unreachable: inconclusive, not failed', async () => {
  const v = await new ImageVerifier({
    trustPolicy: policy(),
    trustStores: new InMemoryTrustStore({ 'ca:corp': x509Chain.rootPem }),
    sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: ['127.0.0.1:9'], requestTimeoutMs: 500, operationTimeoutMs: 1500 }),
  }).verify(`127.0.0.1:9/e2e/none@sha256:${createHash('sha256').update('x').digest('hex')}`);
  expect(v.status).toBe('inconclusive');
  expect(v.error?.kind).toBe('inconclusive');
});
