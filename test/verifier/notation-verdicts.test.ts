/**
 * notation's own verdicts (test/fixtures/notation-go, see PROVENANCE.md and expected-verdicts ids)
 * reproduced through the whole pipeline: policy selection, integrity, authenticity, identity,
 * expiry, target match, user metadata, plugin handling.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvelopeUnverified } from '../../src/verifier/envelope';
import { ImageVerifier } from '../../src/verifier/verifier';
import { compareSemver } from '../../src/verifier/verify/integrity';
import { DirectoryTrustStore } from '../../src/verifier/x509/truststore';
import { FixtureSource } from '../support/fixture-source';

const FIX = join(__dirname, '..', 'fixtures', 'notation-go');
const REF = 'registry.acme-rockets.io/software/net-monitor@sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e';
const TARGET = { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e', size: 528 };
const BASE_POLICY = JSON.parse(readFileSync(join(FIX, 'policies', 'dummy-oci-trustpolicy.json'), 'utf8'));

function policy(over: { level?: string; trustStores?: string[]; trustedIdentities?: string[] } = {}) {
  const st = BASE_POLICY.trustPolicies[0];
  return {
    version: '1.0',
    trustPolicies: [{
      ...st,
      signatureVerification: { level: over.level ?? 'strict' },
      trustStores: over.trustStores ?? st.trustStores,
      trustedIdentities: over.trustedIdentities ?? st.trustedIdentities,
    }],
  };
}

function verifier(envelopeFile: string, opts: { level?: string; trustStores?: string[]; trustedIdentities?: string[]; target?: typeof TARGET; userMetadata?: Record<string, string> } = {}) {
  const envelope = readFileSync(join(FIX, 'mock-envelopes', envelopeFile));
  return new ImageVerifier({
    trustPolicy: policy(opts),
    trustStores: new DirectoryTrustStore(join(FIX, 'truststore')),
    sourceFor: (ref) => new FixtureSource(`${ref.registry}/${ref.repository}`, opts.target ?? TARGET, [{ mediaType: 'application/jose+json', envelope }]),
    userMetadata: opts.userMetadata,
    cacheTtlMs: 0,
  });
}

const LEVELS = ['strict', 'permissive', 'audit'] as const;

describe.each(['ca', 'sa'])('notation-go mock envelopes (%s)', (kind) => {
  test.each(LEVELS)(`${kind}_valid_sig_env verifies at %s (ngo-${kind}-valid)`, async (level) => {
    const v = await verifier(`${kind}_valid_sig_env.json`, { level }).verify(REF);
    expect(v.status).toBe('verified');
    expect(v.signatures[0].checks.filter((c) => !c.passed)).toEqual([]);
    expect(v.signer).toBe('CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US');
    expect(v.signatures[0].signingScheme).toBe(kind === 'ca' ? 'notary.x509' : 'notary.x509.signingAuthority');
  });

  test.each(LEVELS)(`${kind}_invalid_sig_env fails integrity at %s (ngo-${kind}-invalid)`, async (level) => {
    const v = await verifier(`${kind}_invalid_sig_env.json`, { level }).verify(REF);
    expect(v.status).toBe('failed');
    const integrity = v.signatures[0].checks.find((c) => c.check === 'integrity')!;
    expect(integrity.passed).toBe(false);
    expect(integrity.reason).toBe('signature is invalid. Error: illegal base64 data at input byte 242');
  });

  test(`${kind}_expired_sig_env: expiry enforced at strict, logged at permissive and audit (ngo-${kind}-expired)`, async () => {
    const strict = await verifier(`${kind}_expired_sig_env.json`, { level: 'strict' }).verify(REF);
    expect(strict.status).toBe('failed');
    expect(strict.reasons.join('\n')).toContain('digital signature has expired on "Fri, 29 Jul 2022 23:59:00 +0000"');
    for (const level of ['permissive', 'audit']) {
      const v = await verifier(`${kind}_expired_sig_env.json`, { level }).verify(REF);
      expect(v.status).toBe('verified');
      expect(v.signatures[0].checks.find((c) => c.check === 'expiry')).toMatchObject({ passed: false, action: 'log' });
    }
  });

  test(`untrusted store: authenticity enforced at strict/permissive, logged at audit (ngo-${kind}-untrusted-store)`, async () => {
    const trustStores = ['ca:valid-trust-store-2', 'signingAuthority:valid-trust-store-2'];
    for (const level of ['strict', 'permissive']) {
      const v = await verifier(`${kind}_valid_sig_env.json`, { level, trustStores }).verify(REF);
      expect(v.status).toBe('failed');
      expect(v.reasons.join()).toContain("the signature's certificate chain does not contain any trusted certificate");
    }
    const audit = await verifier(`${kind}_valid_sig_env.json`, { level: 'audit', trustStores }).verify(REF);
    expect(audit.status).toBe('verified');
    expect(audit.signatures[0].checks.find((c) => c.check === 'authenticity')).toMatchObject({ passed: false, action: 'log' });
  });

  test(`identity mismatch has notation's message (ngo-${kind}-untrusted-identity)`, async () => {
    const v = await verifier(`${kind}_valid_sig_env.json`, { trustedIdentities: ['x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN'] }).verify(REF);
    expect(v.status).toBe('failed');
    expect(v.signatures[0].error?.message).toBe(
      'signing certificate from the digital signature does not match the X.509 trusted identities [map["C":"IN" "CN":"LOL" "L":"Hyderabad" "O":"DummyOrg" "ST":"TG"]] defined in the trust policy "test-statement-name"',
    );
  });

  test(`unknown verification plugin fails at every level (ngo-${kind}-plugin-missing)`, async () => {
    for (const level of LEVELS) {
      const v = await verifier(`${kind}_plugin_sig_env.json`, { level }).verify(REF);
      expect(v.status).toBe('failed');
      expect(v.signatures[0].error?.message).toMatch(/^error while locating the verification plugin "plugin-name".*plugin not found/);
    }
  });
});

test('payload must match the resolved descriptor (content descriptor mismatch)', async () => {
  const v = await verifier('ca_valid_sig_env.json', { target: { ...TARGET, size: 529 } }).verify(REF);
  expect(v.status).toBe('failed');
  expect(v.signatures[0].error?.code).toBe('TARGET_MISMATCH');
  expect(v.signatures[0].error?.message).toContain('content descriptor mismatch');
});

describe('user metadata (ngo-user-metadata, audit level)', () => {
  const target = { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: 'sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b', size: 942 };
  const ref = 'registry.acme-rockets.io/software/net-monitor@' + target.digest;
  const cases: Array<[Record<string, string>, boolean]> = [
    [{}, true],
    [{ 'io.wabbit-networks.buildId': '123' }, true],
    [{ 'io.wabbit-networks.buildId': '321' }, false],
    [{ 'io.wabbit-networks.buildId': '123', 'io.wabbit-networks.buildTime': '1672944615' }, true],
    [{ 'io.wabbit-networks.buildId': '123', 'io.wabbit-networks.buildTime': '1' }, false],
  ];
  test.each(cases)('%j -> %s', async (userMetadata, ok) => {
    const v = await verifier('sig_env_with_metadata.json', { level: 'audit', target, userMetadata: Object.keys(userMetadata).length ? userMetadata : undefined }).verify(ref);
    expect(v.verified).toBe(ok);
    if (!ok) expect(v.signatures[0].error?.code).toBe('USER_METADATA_MISMATCH');
  });
});

test('plugin min-version ordering matches notation (ngo-plugin-minversion, installed 1.0.0)', () => {
  for (const v of ['1.0.1', '1.0.9', '1.2.3', '1.1.0-alpha']) expect(compareSemver('1.0.0', v)).toBeLessThan(0);
  for (const v of ['0.0.9', '1.0.0-alpha', '1.0.0-alpha.beta', '1.0.0']) expect(compareSemver('1.0.0', v)).toBeGreaterThanOrEqual(0);
  expect(compareSemver('1.0.0-alpha', '1.0.0-alpha.beta')).toBeLessThan(0);
  expect(compareSemver('1.0.0-alpha.1', '1.0.0-alpha.beta')).toBeLessThan(0);
});

test('no applicable statement fails with notation wording', async () => {
  const v = await verifier('ca_valid_sig_env.json').verify('registry.acme-rockets.io/other/repo@' + TARGET.digest);
  expect(v.status).toBe('failed');
  expect(v.error?.code).toBe('NO_APPLICABLE_TRUST_POLICY');
  expect(v.reasons[0]).toContain('has no applicable oci trust policy statement');
});

test('skip level succeeds without fetching signatures', async () => {
  const source = new FixtureSource('x', TARGET, []);
  const iv = new ImageVerifier({
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'skip-all', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] },
    trustStores: new DirectoryTrustStore(join(FIX, 'truststore')),
    sourceFor: () => source,
  });
  const v = await iv.verify(REF);
  expect(v.status).toBe('skipped');
  expect(source.stats.requests).toBe(0);
});

describe('RFC 3161 timestamps (ngo-ts-*, policy timestamp-trustpolicy.json)', () => {
  const tsPolicy = JSON.parse(readFileSync(join(FIX, 'policies', 'timestamp-trustpolicy.json'), 'utf8'));
  async function verifyTs(file: string, statement: Record<string, unknown> = {}) {
    const envelope = readFileSync(join(FIX, 'timestamp', 'sigEnv', file));
    const mediaType = envelope[0] === 0x7b ? 'application/jose+json' : 'application/cose'; // '{' starts a JWS
    const target = parseEnvelopeUnverified(mediaType, envelope).targetArtifact;
    const iv = new ImageVerifier({
      // The vectors exercise the authentic-timestamp step only: audit level records every check's
      // outcome without stopping at authenticity. Revocation is skipped: the GlobalSign TSA's OCSP
      // responder is not reachable from the test machine.
      trustPolicy: { version: '1.0', trustPolicies: [{ ...tsPolicy.trustPolicies[0], signatureVerification: { level: 'audit', override: { revocation: 'skip' } }, ...statement }] },
      trustStores: new DirectoryTrustStore(join(FIX, 'truststore')),
      sourceFor: (ref) => new FixtureSource(`${ref.registry}/${ref.repository}`, target, [{ mediaType, envelope }]),
      cacheTtlMs: 0,
    });
    const v = await iv.verify(`registry.example/ts@${target.digest}`);
    return { v, ts: v.signatures[0]?.checks.find((c) => c.check === 'authenticTimestamp') };
  }

  test.each(['jwsWithTimestamp.sig', 'coseWithTimestamp.sig', 'jwsExpiredWithTimestamp.sig', 'coseExpiredWithTimestamp.sig'])('%s: authentic timestamp passes', async (file) => {
    const { ts } = await verifyTs(file);
    expect(ts).toMatchObject({ passed: true });
  });

  test('withoutTimestamp.sig: no countersignature', async () => {
    const { ts } = await verifyTs('withoutTimestamp.sig');
    expect(ts?.reason).toBe('no timestamp countersignature was found in the signature envelope');
  });

  test('timestampBeforeNotBefore.sig / timestampAfterNotAfter.sig: notation messages', async () => {
    expect((await verifyTs('timestampBeforeNotBefore.sig')).ts?.reason).toBe(
      'timestamp can be before certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it will be valid from "Fri, 18 Sep 2099 11:54:34 +0000"');
    expect((await verifyTs('timestampAfterNotAfter.sig')).ts?.reason).toBe(
      'timestamp can be after certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it was expired at "Tue, 18 Sep 2001 11:54:34 +0000"');
  });

  test('afterCertExpiry with an unexpired chain does not check the timestamp; no tsa store means validity now', async () => {
    expect((await verifyTs('coseWithTimestamp.sig', { signatureVerification: { level: 'audit', verifyTimestamp: 'afterCertExpiry', override: { revocation: 'skip' } } })).ts).toMatchObject({ passed: true });
    const noTsa = await verifyTs('coseExpiredWithTimestamp.sig', { trustStores: ['ca:valid-trust-store'] });
    expect(noTsa.ts?.reason).toBe('verification time is after certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it was expired at "Tue, 18 Jun 2024 07:30:31 +0000"');
  });
});
