/**
 * The BUNDLED direct-invoke verify handler: a configuration it cannot load is answered "not allowed",
 * logged and counted (never thrown); a normal request still verifies against the real registry.
 */
import { context, handlerSuite } from './harness';
import { startBlackHole } from '../support/aws-fake';

const s = handlerSuite('verify');

test('a configuration error answers allowed: false with a ConfigurationErrors metric, never throws', async () => {
  process.env.VERIFIER_CONFIG_PATH = '/nonexistent/config.json';
  const res = await s.handler({ images: [s.h.signed] }, context());
  expect(res.allowed).toBe(false);
  expect(res.results).toEqual([]);
  expect(res.error).toMatch(/^configuration error: cannot read the handler configuration/);
  expect(s.out.lines.find((l) => l.level === 'ERROR')).toMatchObject({ message: 'configuration error', handler: 'verify' });
  expect(s.out.emf()[0]).toMatchObject({ ConfigurationErrors: 1 });
});

test('a normal request verifies (signed allowed, unsigned not)', async () => {
  s.h.configure({});
  expect(await s.handler({ images: [s.h.signed] }, context())).toMatchObject({ allowed: true });
  expect(await s.handler({ images: [s.h.signed, s.h.unsigned] }, context())).toMatchObject({ allowed: false });
});

describe('one outcome vocabulary, one metric per outcome', () => {
  const skipPolicy = () => ({
    version: '1.0',
    trustPolicies: [
      { name: 'skip-unsigned', registryScopes: [`${s.h.registry.host}/app/unsigned`], signatureVerification: { level: 'skip' } },
      { name: 'test-ca', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test'], trustedIdentities: ['*'] },
    ],
  });

  test('a skip statement: outcome skipped, counted as Skipped (not Exempt); the verdict record keeps the engine status', async () => {
    s.h.configure({ trustPolicy: skipPolicy() });
    const res = await s.handler({ images: [s.h.unsigned] }, context());
    expect(res).toMatchObject({ allowed: true, results: [{ outcome: 'skipped' }] });
    expect(s.out.emf()[0]).toMatchObject({ Skipped: 1, Exempt: 0, Verified: 0, Rejected: 0, Inconclusive: 0 });
    expect(s.out.emf()[0]._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toContain('Skipped');
    expect(s.out.verdicts()[0]).toMatchObject({ outcome: 'skipped', status: 'skipped' });
  });

  test('an exemption: outcome exempt, counted as Exempt (not Skipped)', async () => {
    s.h.configure({ exemptions: [`${s.h.registry.host}/app/uns*`] });
    const res = await s.handler({ images: [s.h.unsigned] }, context());
    expect(res).toMatchObject({ allowed: true, results: [{ outcome: 'exempt' }] });
    expect(s.out.emf()[0]).toMatchObject({ Exempt: 1, Skipped: 0 });
  });

  test("the engine's failed is the handlers' rejected: counted as Rejected, the record says both", async () => {
    s.h.configure({});
    const res = await s.handler({ images: [s.h.unsigned] }, context());
    expect(res).toMatchObject({ allowed: false, results: [{ outcome: 'rejected', verdict: { status: 'failed' } }] });
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1, Inconclusive: 0 });
    expect(s.out.verdicts()[0]).toMatchObject({ outcome: 'rejected', status: 'failed', errorCode: 'NO_SIGNATURE' });
  });

  test('out of time before an image is verified: outcome unfinished, counted as Inconclusive, not allowed', async () => {
    s.h.configure({});
    const res = await s.handler({ images: [s.h.signed, s.h.unsigned] }, context(0));
    expect(res).toMatchObject({ allowed: false, results: [{ outcome: 'unfinished' }, { outcome: 'unfinished' }] });
    expect(s.out.emf()[0]).toMatchObject({ Inconclusive: 2, Verified: 0, Rejected: 0 });
  });
});

test.each([
  ['awsApiTimeoutMs', -1], ['awsApiTimeoutMs', '5000'], ['awsApiTimeoutMs', 0], ['registryTimeoutMs', null], ['registryTimeoutMs', 'fast'],
])('a %s of %p is a configuration error (not allowed, counted), never a default', async (field, value) => {
  s.h.configure({ [field]: value });
  const res = await s.handler({ images: [s.h.signed] }, context());
  expect(res).toMatchObject({ allowed: false, results: [] });
  expect(res.error).toContain(`${field} must be a positive number of milliseconds`);
  expect(s.out.emf()[0]).toMatchObject({ ConfigurationErrors: 1 });
});

test('awsApiTimeoutMs set apart from registryTimeoutMs: a normal request still verifies', async () => {
  s.h.configure({ awsApiTimeoutMs: 2000 });
  expect(await s.handler({ images: [s.h.signerSigned, s.h.signed] }, context())).toMatchObject({ allowed: true });
});

test('awsApiTimeoutMs bounds GetRevocationStatus, not registryTimeoutMs: a silent Signer endpoint is an AWS-API timeout well before the deadline', async () => {
  const hole = await startBlackHole();
  const saved = process.env.AWS_ENDPOINT_URL_SIGNER;
  process.env.AWS_ENDPOINT_URL_SIGNER = `http://${hole.host}`;
  try {
    // registry requests may take 60 s; AWS API calls 300 ms; the invocation has 20 s
    s.h.configure({ registryTimeoutMs: 60_000, awsApiTimeoutMs: 300 });
    const res = await s.handler({ images: [s.h.signerSigned, s.h.signed] }, context(20_000));
    const byImage = Object.fromEntries(res.results.map((r: any) => [r.image, r]));
    expect(byImage[s.h.signed].outcome).toBe('verified'); // the registry path is unaffected
    expect(byImage[s.h.signerSigned].outcome).toBe('inconclusive'); // not 'unfinished' (the deadline)
    expect(JSON.stringify(byImage[s.h.signerSigned])).toMatch(/tim(e|ed )out/i);
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SIGNER;
    else process.env.AWS_ENDPOINT_URL_SIGNER = saved;
    await hole.stop();
  }
});
