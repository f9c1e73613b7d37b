/**
 * One canonical form of a registry where a reference meets configuration (issue 8, item 3): statement
 * selection, exemptions, verdict-cache keys and the IAM mapping of scopes see every spelling of one
 * registry as the same registry, so a spelling can never pick a weaker statement.
 *
 * The attack: a policy with an exact scope `<host>/shop/api` trusting the release CA and a `*`
 * statement trusting the CI CA. An image signed only by CI must be refused under EVERY spelling of
 * `<host>`, as it is under the canonical one (the real docker-registry, real signatures).
 */
import { ConfigurationError } from '../../../src/verifier/errors';
import { parseTrustPolicy, selectStatement } from '../../../src/verifier/policy';
import { canonicalExemption, globToRegExp, matchExemption } from '../../../src/verifier/policy/exemptions';
import {
  canonicalRegistryHost, canonicalScope, formatReference, parseEcrRegistry, parseReference, repositoryScope, scopeRegistry,
} from '../../../src/verifier/reference';
import { RemoteRepository } from '../../../src/verifier/registry/remote';
import { ImageVerifier } from '../../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../../src/verifier/x509/truststore';
import { Chain, makeChain } from '../../support/pki';
import { pushImage, pushSignature } from '../../support/push';
import { startRegistry, TestRegistry } from '../../support/registry';
import { signJws } from '../../support/sign';

const D = 'sha256:' + 'a'.repeat(64);

describe('canonicalRegistryHost', () => {
  test.each([
    ['LOCALHOST:5000', 'localhost:5000'],
    ['LocalHost:5000', 'localhost:5000'],
    ['localhost.:5000', 'localhost:5000'],
    ['Registry.Example.COM.', 'registry.example.com'],
    ['registry.example.com:443', 'registry.example.com'],
    ['registry.example.com:0443', 'registry.example.com'],
    ['registry.example.com:05000', 'registry.example.com:5000'],
    ['registry.example.com:80', 'registry.example.com:80'],
    ['127.1:5000', '127.0.0.1:5000'],
    ['0x7f.0.0.1:5000', '127.0.0.1:5000'],
    ['2130706433:5000', '127.0.0.1:5000'],
    ['127.000.000.001:5000', '127.0.0.1:5000'],
    ['[0:0:0:0:0:0:0:1]:5000', '[::1]:5000'],
    ['[::1]:5000', '[::1]:5000'],
    ['123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com.:443', '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalRegistryHost(input)).toBe(expected);
  });

  test('two loopback NAMES stay two registries (names are not resolved)', () => {
    expect(canonicalRegistryHost('localhost:5000')).not.toBe(canonicalRegistryHost('127.0.0.1:5000'));
  });

  test('an address that is not one is a typed error', () => {
    expect(() => canonicalRegistryHost('foo.123')).toThrow(ConfigurationError);
    expect(() => canonicalRegistryHost('a b')).toThrow(ConfigurationError);
  });
});

describe('parseReference returns the canonical host; the scope maps ECR endpoint names to one registry', () => {
  test.each([
    [`LOCALHOST:5000/shop/api@${D}`, 'localhost:5000', 'localhost:5000/shop/api'],
    [`127.1:5000/shop/api@${D}`, '127.0.0.1:5000', '127.0.0.1:5000/shop/api'],
    ['reg.io.:443/shop/api:v1', 'reg.io', 'reg.io/shop/api'],
    [`123456789012.DKR.ECR.us-east-1.amazonaws.com/shop/api@${D}`, '123456789012.dkr.ecr.us-east-1.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api'],
    [`123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/shop/api@${D}`, '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api'],
    [`123456789012.dkr-ecr.us-east-1.on.aws/shop/api@${D}`, '123456789012.dkr-ecr.us-east-1.on.aws', '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api'],
    [`123456789012.dkr-ecr-fips.us-east-1.on.aws/shop/api@${D}`, '123456789012.dkr-ecr-fips.us-east-1.on.aws', '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api'],
  ])('%s', (input, registry, scope) => {
    const ref = parseReference(input);
    expect(ref.registry).toBe(registry);
    expect(repositoryScope(ref)).toBe(scope);
    expect(canonicalScope(`${ref.registry}/${ref.repository}`)).toBe(scope);
    expect(formatReference(ref).startsWith(`${registry}/shop/api`)).toBe(true);
  });

  test('ECR endpoint names are recognised in every spelling', () => {
    expect(parseEcrRegistry('123456789012.DKR-ECR.US-WEST-2.ON.AWS.')).toMatchObject({ accountId: '123456789012', region: 'us-west-2', dualStack: true, fips: false });
    expect(scopeRegistry('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com')).toBe('123456789012.dkr.ecr.us-gov-west-1.amazonaws.com');
  });
});

describe('trust policy: scopes compared in canonical form', () => {
  const doc = (scopes: string[][]) => ({
    version: '1.0',
    trustPolicies: scopes.map((registryScopes, i) => ({
      name: `s${i}`, registryScopes, signatureVerification: { level: 'strict' }, trustStores: ['ca:x'], trustedIdentities: ['*'],
    })),
  });

  test('an exact scope written in upper case still beats *', () => {
    const p = parseTrustPolicy(doc([['LOCALHOST:5000/shop/api'], ['*']]));
    expect(selectStatement(p, repositoryScope(parseReference(`localhost:5000/shop/api@${D}`))).name).toBe('s0');
  });

  test('an ECR scope written with the FIPS name applies to the standard and dual-stack names', () => {
    const p = parseTrustPolicy(doc([['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/shop/api'], ['*']]));
    for (const host of ['123456789012.dkr.ecr.us-east-1.amazonaws.com', '123456789012.dkr-ecr.us-east-1.on.aws', '123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM.']) {
      expect(selectStatement(p, repositoryScope(parseReference(`${host}/shop/api@${D}`))).name).toBe('s0');
    }
  });

  test('two statements claiming one scope in two spellings are rejected (stricter than notation)', () => {
    expect(() => parseTrustPolicy(doc([['localhost:5000/shop/api'], ['LOCALHOST:5000/shop/api']]))).toThrow(/present in multiple oci trust policy statements/);
    expect(() => parseTrustPolicy(doc([['reg.io/a'], ['reg.io:443/a']]))).toThrow(/present in multiple/);
    expect(() => parseTrustPolicy(doc([['123456789012.dkr.ecr.us-east-1.amazonaws.com/a'], ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/a']]))).toThrow(/present in multiple/);
  });
});

describe('exemptions match canonical forms only', () => {
  const globs = ['localhost:5000/tools/*', 'REG.IO/base/**', '123456789012.dkr.ecr.us-east-1.amazonaws.com/sidecar/*'];
  const res = globs.map((g) => globToRegExp(canonicalExemption(g)));

  test.each([
    [`LOCALHOST:5000/tools/x@${D}`, 'localhost:5000/tools/*'],
    ['localhost.:5000/tools/x:1', 'localhost:5000/tools/*'],
    ['reg.io/base/node:20', 'REG.IO/base/**'],
    ['Reg.Io.:443/base/node:20', 'REG.IO/base/**'],
    [`123456789012.dkr-ecr.us-east-1.on.aws/sidecar/envoy@${D}`, '123456789012.dkr.ecr.us-east-1.amazonaws.com/sidecar/*'],
  ])('%s is exempt by %s', (image, glob) => {
    expect(matchExemption(res, globs, image)).toBe(glob);
  });

  test('an unparsable reference is never exempt, even when its text matches a glob', () => {
    const any = [globToRegExp('**')];
    expect(matchExemption(any, ['**'], 'not a reference')).toBeUndefined();
    expect(matchExemption(any, ['**'], 'localhost:5000/Tools/x:1')).toBeUndefined();
    expect(matchExemption(res, globs, 'localhost:5000/tools/x')).toBeUndefined();
  });
});

describe('real registry: every spelling of the host selects the exact statement', () => {
  let registry: TestRegistry;
  let release: Chain;
  let ci: Chain;
  let digest: string;
  let port: string;

  beforeAll(async () => {
    registry = await startRegistry();
    port = registry.host.split(':')[1];
    release = makeChain({ keySlot: 'canonical-release', root: { subject: 'CN=Release Root,O=Shop,C=US' } });
    ci = makeChain({ keySlot: 'canonical-ci', root: { subject: 'CN=CI Root,O=Shop,C=US' } });
    const desc = await pushImage(registry.url, 'shop/api');
    digest = desc.digest;
    await pushSignature(registry.url, 'shop/api', desc, signJws({ key: ci.key, chainDer: ci.chainDer, targetArtifact: desc }), 'application/jose+json');
  });
  afterAll(async () => {
    await registry?.stop();
  });

  function verifier(exactHost: string, plain: string[]) {
    return new ImageVerifier({
      trustPolicy: {
        version: '1.0',
        trustPolicies: [
          { name: 'release', registryScopes: [`${exactHost}/shop/api`], signatureVerification: { level: 'strict' }, trustStores: ['ca:release'], trustedIdentities: ['*'] },
          { name: 'ci', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:ci'], trustedIdentities: ['*'] },
        ],
      },
      trustStores: new InMemoryTrustStore({ 'ca:release': release.rootPem, 'ca:ci': ci.rootPem }),
      sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: plain, requestTimeoutMs: 3000, retry: { maxAttempts: 1 } }),
    });
  }

  test('the CI-signed image under the canonical spelling is refused by the release statement', async () => {
    const v = await verifier(registry.host, [registry.host]).verify(`${registry.host}/shop/api@${digest}`);
    expect(v).toMatchObject({ status: 'failed', policyStatement: 'release' });
    expect(v.error?.code).toBe('UNTRUSTED_CERTIFICATE');
  });

  test.each([
    ['127.1'], ['0x7f.0.0.1'], ['2130706433'], ['127.000.000.001'], ['127.0.0.1.'], ['0177.0.0.1'],
  ])('spelled %s:PORT it is refused the same way (and not from the cache of another spelling)', async (host) => {
    const v = verifier(registry.host, [registry.host]);
    const verdict = await v.verify(`${host}:${port}/shop/api@${digest}`);
    expect(verdict).toMatchObject({ status: 'failed', policyStatement: 'release', verified: false });
    expect(verdict.error?.code).toBe('UNTRUSTED_CERTIFICATE');
    // a second spelling right after is a cache hit of the SAME decision
    const again = await v.verify(`${registry.host}/shop/api@${digest}`);
    expect(again).toMatchObject({ status: 'failed', policyStatement: 'release' });
  });

  test('with the exact scope written LOCALHOST:PORT, localhost spellings select it too', async () => {
    const v = verifier(`LOCALHOST:${port}`, [`localhost:${port}`]);
    for (const host of [`localhost:${port}`, `LOCALHOST:${port}`, `LocalHost.:${port}`]) {
      const verdict = await v.verify(`${host}/shop/api@${digest}`);
      expect(verdict.policyStatement).toBe('release');
      expect(verdict.verified).toBe(false);
    }
  });

  test('plainHttpRegistries entries are compared in canonical form too', async () => {
    const v = verifier(registry.host, [`127.1:${port}`]);
    const verdict = await v.verify(`2130706433:${port}/shop/api@${digest}`);
    // reached the registry over plain HTTP (a definitive verdict), not an HTTPS connection failure
    expect(verdict).toMatchObject({ status: 'failed', policyStatement: 'release' });
    expect(verdict.error?.code).toBe('UNTRUSTED_CERTIFICATE');
  });

  test('a port spelled with leading zeros is the same registry; :443 of an HTTPS host is dropped', async () => {
    const v = verifier(registry.host, [registry.host]);
    const verdict = await v.verify(`127.0.0.1:0${port}/shop/api@${digest}`);
    expect(verdict).toMatchObject({ status: 'failed', policyStatement: 'release' });
    expect(repositoryScope(parseReference(`reg.io:443/shop/api@${D}`))).toBe('reg.io/shop/api');
  });
});
