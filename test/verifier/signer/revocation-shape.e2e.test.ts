/**
 * Issue 8 item 6 (GetRevocationStatus): a 200 answer of the wrong shape is a FAILED revocation check
 * (REVOCATION_UNKNOWN), enforced per the statement's revocation action: failed at `strict`, logged at
 * `permissive`. Never read as "not revoked" and never an inconclusive transport failure. Through the
 * real @aws-sdk/client-signer against the local AWS fake (restJson1), a real registry and real
 * signatures (test AWS Signer root injected as an AWS Signer root).
 */
import { RemoteRepository } from '../../../src/verifier/registry/remote';
import { sdkSignerRevocationClient } from '../../../src/verifier/signer';
import { ImageVerifier } from '../../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../../src/verifier/x509/truststore';
import { AwsFake, startAwsFake } from '../../support/aws-fake';
import { awsSignerShaped, Chain, makeChain } from '../../support/pki';
import { pushImage, pushSignature } from '../../support/push';
import { startRegistry, TestRegistry } from '../../support/registry';
import { awsSignerSignOptions, envelopeMediaType, signEnvelope } from '../../support/sign';

const PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/shape';
const PROFILE_VERSION = `${PROFILE}/AbCdEf1234`;
const JOB = 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0f6a3bd6-2b3e-4a7f-9d27-8f4e0b1c2d3e';

let registry: TestRegistry;
let aws: AwsFake;
let chain: Chain;
let ref: string;
const saved = { ...process.env };

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDSHAPE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  registry = await startRegistry();
  aws = await startAwsFake();
  chain = makeChain(awsSignerShaped());
  const image = await pushImage(registry.url, 'shape/signer');
  const env = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image, ...awsSignerSignOptions(PROFILE_VERSION, JOB) });
  await pushSignature(registry.url, 'shape/signer', image, env, envelopeMediaType('jws'));
  ref = `${registry.host}/shape/signer@${image.digest}`;
});
afterAll(async () => {
  process.env = saved;
  await aws?.stop();
  await registry?.stop();
});
afterEach(() => {
  aws.revocationBody = undefined;
  aws.revoked = [];
});

function verifier(level: 'strict' | 'permissive', warnings: string[] = []): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{
        name: 'signer',
        registryScopes: ['*'],
        signatureVerification: { level },
        trustStores: ['signingAuthority:shape'],
        trustedIdentities: [PROFILE],
      }],
    },
    trustStores: new InMemoryTrustStore({ 'signingAuthority:shape': chain.rootPem }),
    sourceFor: (r) => new RemoteRepository(r, { plainHttpRegistries: [registry.host] }),
    signerClient: sdkSignerRevocationClient('us-east-1', aws.url),
    awsSignerRoots: [chain.chainDer[chain.chainDer.length - 1]],
    cacheTtlMs: 0,
    logger: { warn: (m) => warnings.push(m) },
  });
}

test('well-formed answers: [] verifies, a revoked job fails REVOKED (controls)', async () => {
  aws.revocationBody = '{"revokedEntities":[]}';
  expect((await verifier('strict').verify(ref)).status).toBe('verified');
  aws.revocationBody = undefined;
  aws.revoked = [JOB];
  const v = await verifier('strict').verify(ref);
  expect(v.status).toBe('failed');
  expect(v.signatures[0].error?.code).toBe('REVOKED');
});

test.each<[string, string]>([
  ['an object without the list (the API models it optional; Go decodes it as empty)', '{}'],
  ['the list spelt in another case, empty (Go matches keys case-insensitively)', '{"RevokedEntities":[]}'],
  ['the list with unknown siblings', '{"revokedEntities":[],"nextToken":null}'],
])('%s: not revoked', async (_n, body) => {
  aws.revocationBody = body;
  expect((await verifier('strict').verify(ref)).status).toBe('verified');
});

test('a revoked job spelt in another case is read as revoked (never as "no list")', async () => {
  aws.revocationBody = `{"RevokedEntities":["${JOB}"]}`;
  const v = await verifier('strict').verify(ref);
  expect(v.status).toBe('failed');
  expect(v.signatures[0].error?.code).toBe('REVOKED');
});

test.each<[string, string, RegExp]>([
  ['revokedEntities a string', `{"revokedEntities":"${JOB}"}`, /revokedEntities is a string/],
  ['revokedEntities an object', `{"revokedEntities":{"${JOB}":true}}`, /revokedEntities is an object/],
  ['revokedEntities a number', '{"revokedEntities":1}', /revokedEntities is a number/],
  ['revokedEntities a boolean', '{"revokedEntities":false}', /revokedEntities is a boolean/],
  ['revokedEntities null', '{"revokedEntities":null}', /revokedEntities is null/],
  ['revokedEntities null, spelt in another case', '{"RevokedEntities":null}', /revokedEntities is null/],
  ['revokedEntities twice in two spellings', `{"revokedEntities":[],"RevokedEntities":["${JOB}"]}`, /not valid JSON/],
  ['an array body', `["${JOB}"]`, /the answer is an array/],
  ['an empty body', '', /the body is empty/],
  ['a whitespace body', ' \n', /the body is empty/],
  ['a JSON null body', 'null', /the answer is null/],
  ['a non-JSON body', 'not json', /not valid JSON/],
  ['an HTML error page answered 200', '<html><body>Service Unavailable</body></html>', /not valid JSON/],
  ['a truncated JSON body', '{"revokedEntities":["arn:aws:signer', /not valid JSON/],
  ['a string body', '"ok"', /the answer is a string/],
  ['a number body', '0', /the answer is a number/],
  ['entries that are not strings', '{"revokedEntities":[1,null]}', /revokedEntities\[0\] is a number/],
  ['a nested array entry', `{"revokedEntities":[["${JOB}"]]}`, /revokedEntities\[0\] is an array/],
])('%s: failed REVOCATION_UNKNOWN at strict, logged at permissive', async (_n, body, detail) => {
  aws.revocationBody = body;
  const strict = await verifier('strict').verify(ref);
  expect(strict.status).toBe('failed');
  expect(strict.verified).toBe(false);
  const sig = strict.signatures[0];
  expect(sig.error).toMatchObject({ kind: 'failed', code: 'REVOCATION_UNKNOWN' });
  expect(sig.error?.message).toMatch(/^GetRevocationStatus answered with a malformed response, revocation status unknown: /);
  expect(sig.error?.message).toMatch(detail);
  expect(sig.checks.find((c) => c.check === 'revocation')).toMatchObject({ action: 'enforce', passed: false, code: 'REVOCATION_UNKNOWN' });

  const warnings: string[] = [];
  const permissive = await verifier('permissive', warnings).verify(ref);
  expect(permissive.status).toBe('verified');
  expect(permissive.signatures[0].checks.find((c) => c.check === 'revocation')).toMatchObject({ action: 'log', passed: false, code: 'REVOCATION_UNKNOWN' });
  expect(warnings.join('\n')).toMatch(/revocation check failed \(logged only\): GetRevocationStatus answered with a malformed response/);
});
