/**
 * Issue 8 items 6 and 7 against the BUNDLED admission hook, a real docker-registry and the local AWS
 * fake: a partner-CA certificate carrying the AWS Signer headers and a forged profile version is
 * refused (no GetRevocationStatus call for the forged job); a malformed GetRevocationStatus answer
 * refuses the image at `strict`; a TRUST_POLICY with keys Go would merge is a configuration error.
 */
import { context, handlerSuite, hookEvent, REVISION_ARN, SIGNER_JOB, SIGNER_PROFILE, SIGNER_PROFILE_VERSION } from './harness';
import { makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { awsSignerSignOptions, signJws } from '../support/sign';

const s = handlerSuite('admission-hook');
const FORGED_JOB = 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/ffffffff-ffff-4fff-8fff-ffffffffffff';
let partner: ReturnType<typeof makeChain>;
let partnerSigned: string;

beforeAll(async () => {
  partner = makeChain({ length: 3, keyType: 'p384', keySlot: 'handler-partner', root: { subject: 'CN=Partner Root CA,O=Partner,ST=WA,C=US' } });
  const desc = await pushImage(s.h.registry.url, 'app/partner');
  const env = signJws({ key: partner.key, chainDer: partner.chainDer, targetArtifact: desc, ...awsSignerSignOptions(SIGNER_PROFILE_VERSION, FORGED_JOB) });
  await pushSignature(s.h.registry.url, 'app/partner', desc, env, 'application/jose+json');
  partnerSigned = `${s.h.registry.host}/app/partner@${desc.digest}`;
});
afterEach(() => {
  s.h.aws.revocationBody = undefined;
  s.h.aws.revoked = [];
  delete process.env.TRUST_POLICY;
});

function revision(...refs: string[]): void {
  s.h.aws.revisions.set(REVISION_ARN, refs.map((ref, n) => {
    const [name, digest] = ref.split('@');
    return { containerName: `c${n}`, image: `${name}:latest`, imageDigest: digest };
  }));
}

/** The harness's Signer statement, also trusting a partner CA store (the configuration hazard of item 7). */
function configureWithPartner(): void {
  s.h.configure({
    mode: 'ENFORCE',
    cacheTtlMs: 0,
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{
        name: 'aws-and-partner',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['signingAuthority:signer-test', 'signingAuthority:partner'],
        trustedIdentities: [SIGNER_PROFILE],
      }],
    },
    trustStores: { 'signingAuthority:signer-test': s.h.signerRootPem, 'signingAuthority:partner': partner.rootPem },
  });
}

test('control: the AWS-Signer-chain image is admitted under the same statement', async () => {
  configureWithPartner();
  revision(s.h.signerSigned);
  expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
  expect(s.out.verdicts()[0]).toMatchObject({ outcome: 'verified', signer: SIGNER_PROFILE_VERSION });
});

test('a partner-CA chain with Signer headers and a forged profile version is refused, no revocation call for the forged job', async () => {
  configureWithPartner();
  revision(partnerSigned);
  expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
  const v = s.out.verdicts()[0];
  expect(v).toMatchObject({ outcome: 'rejected', status: 'failed' });
  expect(JSON.stringify(v)).toMatch(/UNTRUSTED_IDENTITY|does not end in an AWS Signer root/);
  expect(s.h.aws.calls.filter((c) => c.operation === 'GetRevocationStatus')).toHaveLength(0);
});

test('without the extra root in the config, even the test Signer chain is not an AWS Signer chain', async () => {
  s.h.configure({ mode: 'ENFORCE', cacheTtlMs: 0, extraAwsSignerRootsPem: undefined });
  revision(s.h.signerSigned);
  expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
});

test('an extraAwsSignerRootsPem that holds no certificate is a configuration error (fails closed)', async () => {
  s.h.configure({ mode: 'ENFORCE', extraAwsSignerRootsPem: 'not a pem' });
  revision(s.h.signerSigned);
  expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
  expect(s.out.lines.find((l) => l.message === 'configuration error')).toBeDefined();
});

test.each([
  ['revokedEntities a string', `{"revokedEntities":"${SIGNER_JOB}"}`],
  ['revokedEntities null', '{"revokedEntities":null}'],
  ['an array body', '[]'],
  ['an empty body', ''],
])('GetRevocationStatus answering 200 with %s refuses the image at strict (failed, not inconclusive)', async (_n, body) => {
  s.h.aws.revocationBody = body;
  s.h.configure({ mode: 'ENFORCE', cacheTtlMs: 0, inconclusiveAction: 'ADMIT' });
  revision(s.h.signerSigned);
  expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
  expect(s.out.verdicts()[0]).toMatchObject({ outcome: 'rejected', failingCheck: 'revocation' });
});

test('a TRUST_POLICY whose keys Go would merge ("trustPolicies" + "TrustPolicies") is a configuration error, never the lax reading', async () => {
  s.h.configure({ mode: 'ENFORCE' });
  const strictStmt = '{"name":"strict","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:test"],"trustedIdentities":["*"]}';
  const skipStmt = '{"name":"skip","registryScopes":["*"],"signatureVerification":{"level":"skip"}}';
  process.env.TRUST_POLICY = `{"version":"1.0","trustPolicies":[${strictStmt}],"TrustPolicies":[${skipStmt}]}`;
  revision(s.h.unsigned);
  expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
  expect(s.out.verdicts().find((v) => v.outcome === 'skipped')).toBeUndefined();
  expect(JSON.stringify(s.out.lines)).toMatch(/duplicate object key/);
});
