/**
 * Issue 8 item 7: an AWS Signer identity (signing-profile or profile-version ARN in trustedIdentities)
 * matches only a certificate chain that ends in an AWS Signer root. Before, a partner CA trusted in
 * another signingAuthority store of the same statement could mint a certificate, add the Signer
 * plugin headers with a forged `signingProfileVersion`, and be verified as the trusted profile (and
 * the revocation check was made for the forged job). Real registry, real signatures; the AWS Signer
 * root set is injected (`awsSignerRoots`) because AWS's own key cannot sign in tests.
 */
import { RemoteRepository } from '../../../src/verifier/registry/remote';
import { AWS_SIGNER_ROOTS_DER, chainEndsInAwsSignerRoot, SignerRevocationClient, SignerRevocationRequest } from '../../../src/verifier/signer';
import { Descriptor } from '../../../src/verifier/types';
import { ImageVerifier, ImageVerifierOptions } from '../../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../../src/verifier/x509/truststore';
import { awsSignerShaped, Chain, makeChain } from '../../support/pki';
import { pushImage, pushSignature } from '../../support/push';
import { startRegistry, TestRegistry } from '../../support/registry';
import { awsSignerSignOptions, envelopeMediaType, signEnvelope } from '../../support/sign';

const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/shop_release';
const PROFILE_VERSION = `${PROFILE}/AbCdEf1234`;
const JOB = 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0f6a3bd6-2b3e-4a7f-9d27-8f4e0b1c2d3e';
const FORGED_JOB = 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/ffffffff-ffff-4fff-8fff-ffffffffffff';

let registry: TestRegistry;
let signer: Chain;
let partner: Chain;
let impostor: Chain;
let n = 0;

const root = (c: Chain): Uint8Array => c.chainDer[c.chainDer.length - 1];

beforeAll(async () => {
  registry = await startRegistry();
  signer = makeChain(awsSignerShaped());
  partner = makeChain({ length: 3, keyType: 'p384', keySlot: 'partner-ca', root: { subject: 'CN=Partner Root CA,O=Partner,ST=WA,C=US' } });
  // Same names as the (test) AWS Signer chain, other keys: not byte-identical to the Signer root.
  impostor = makeChain({ ...awsSignerShaped(), keySlot: 'signer-impostor' });
});
afterAll(async () => {
  await registry?.stop();
});

class RecordingClient implements SignerRevocationClient {
  public readonly calls: SignerRevocationRequest[] = [];
  public async getRevocationStatus(input: SignerRevocationRequest) {
    this.calls.push(input);
    return { revokedEntities: [] as string[] };
  }
}

function policy(identities: string[] = [PROFILE], level = 'strict') {
  return {
    version: '1.0',
    trustPolicies: [{
      name: 'aws-and-partner',
      registryScopes: ['*'],
      signatureVerification: { level },
      trustStores: ['signingAuthority:aws-signer-ts', 'signingAuthority:partner'],
      trustedIdentities: identities,
    }],
  };
}

function verifier(client: SignerRevocationClient, extra: Partial<ImageVerifierOptions> = {}, identities?: string[]): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: policy(identities),
    trustStores: new InMemoryTrustStore({
      'signingAuthority:aws-signer-ts': signer.rootPem,
      'signingAuthority:partner': partner.rootPem + impostor.rootPem,
    }),
    sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registry.host], requestTimeoutMs: 5000 }),
    signerClient: client,
    cacheTtlMs: 0,
    awsSignerRoots: [root(signer)],
    ...extra,
  });
}

async function signed(chain: Chain, format: 'jws' | 'cose' = 'jws', chainDer = chain.chainDer, job = JOB): Promise<{ ref: string; image: Descriptor }> {
  const r = `signer-root/app${++n}`;
  const image = await pushImage(registry.url, r);
  const env = signEnvelope(format, { key: chain.key, chainDer, targetArtifact: image, ...awsSignerSignOptions(PROFILE_VERSION, job) });
  await pushSignature(registry.url, r, image, env, envelopeMediaType(format));
  return { ref: `${registry.host}/${r}@${image.digest}`, image };
}

test.each(['jws', 'cose'] as const)('%s: a chain ending in an AWS Signer root verifies as the profile (control)', async (format) => {
  const { ref } = await signed(signer, format);
  const client = new RecordingClient();
  for (const identity of [PROFILE, PROFILE_VERSION]) {
    const v = await verifier(client, {}, [identity]).verify(ref);
    expect(v.status).toBe('verified');
    expect(v.signer).toBe(PROFILE_VERSION);
  }
  expect(client.calls.length).toBe(2);
});

test.each(['jws', 'cose'] as const)('%s: partner CA + Signer headers + forged profile version => failed UNTRUSTED_IDENTITY, no revocation call', async (format) => {
  const { ref } = await signed(partner, format, partner.chainDer, FORGED_JOB);
  for (const identity of [PROFILE, PROFILE_VERSION]) {
    for (const roots of [[root(signer)], undefined]) {
      const client = new RecordingClient();
      const v = await verifier(client, roots ? {} : { awsSignerRoots: undefined }, [identity]).verify(ref);
      expect(v.status).toBe('failed');
      expect(v.verified).toBe(false);
      expect(v.signatures[0].error?.code).toBe('UNTRUSTED_IDENTITY');
      expect(v.signatures[0].error?.message).toMatch(/does not end in an AWS Signer root certificate/);
      expect(v.signatures[0].checks.find((c) => c.check === 'authenticity')).toMatchObject({ passed: false, code: 'UNTRUSTED_IDENTITY' });
      expect(client.calls).toHaveLength(0); // the forged job is never looked up
    }
  }
});

test('a chain copying the Signer root\'s names with other keys is not an AWS Signer chain', async () => {
  const { ref } = await signed(impostor);
  const v = await verifier(new RecordingClient()).verify(ref);
  expect(v.status).toBe('failed');
  expect(v.signatures[0].error?.code).toBe('UNTRUSTED_IDENTITY');
});

test('the Signer root appended after a partner chain does not help (the chain must be one chain)', async () => {
  const { ref } = await signed(partner, 'jws', [...partner.chainDer, root(signer)]);
  const v = await verifier(new RecordingClient()).verify(ref);
  expect(v.status).toBe('failed');
  expect(v.verified).toBe(false);
});

test('by default only the bundled AWS Signer roots count: the test root is not one of them', async () => {
  const { ref } = await signed(signer);
  const v = await verifier(new RecordingClient(), { awsSignerRoots: undefined }).verify(ref);
  expect(v.status).toBe('failed');
  expect(v.signatures[0].error?.code).toBe('UNTRUSTED_IDENTITY');
});

test('permissive level enforces authenticity too: the forged identity still fails', async () => {
  const { ref } = await signed(partner);
  const v = await new ImageVerifier({
    trustPolicy: policy([PROFILE], 'permissive'),
    trustStores: new InMemoryTrustStore({ 'signingAuthority:aws-signer-ts': signer.rootPem, 'signingAuthority:partner': partner.rootPem }),
    sourceFor: (r) => new RemoteRepository(r, { plainHttpRegistries: [registry.host] }),
    signerClient: new RecordingClient(),
    awsSignerRoots: [root(signer)],
    cacheTtlMs: 0,
  }).verify(ref);
  expect(v.status).toBe('failed');
});

test('chainEndsInAwsSignerRoot: byte-identical last certificate only', () => {
  expect(AWS_SIGNER_ROOTS_DER).toHaveLength(2);
  expect(chainEndsInAwsSignerRoot([...signer.chainDer], [root(signer)])).toBe(true);
  expect(chainEndsInAwsSignerRoot([...signer.chainDer])).toBe(false);
  expect(chainEndsInAwsSignerRoot([root(signer), signer.chainDer[0]], [root(signer)])).toBe(false); // contains, but not at the end
  expect(chainEndsInAwsSignerRoot([], [root(signer)])).toBe(false);
  const flipped = Buffer.from(root(signer));
  flipped[flipped.length - 1] ^= 1;
  expect(chainEndsInAwsSignerRoot([...partner.chainDer.slice(0, 2), flipped], [root(signer)])).toBe(false);
  expect(chainEndsInAwsSignerRoot([AWS_SIGNER_ROOTS_DER[1]])).toBe(true);
});
