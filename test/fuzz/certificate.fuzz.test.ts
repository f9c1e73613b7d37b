/**
 * Fuzz: X.509 certificates. parseCertificate on arbitrary and mutated DER; then mutated certificates
 * carried inside a freshly signed envelope through the whole engine (ImageVerifier over an in-memory
 * source): the verdict is never "verified" and nothing untyped escapes.
 */
import * as fc from 'fast-check';
import { FUZZ_RUNS, fuzzTimeout, mutate, mutationsArb, params, typedOnly, typedOnlyAsync } from './support';
import { VerifierError } from '../../src/verifier/errors';
import { MEDIA_TYPE } from '../../src/verifier/types';
import { ImageVerifier } from '../../src/verifier/verifier';
import { parseCertificate } from '../../src/verifier/x509/certificate';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { FixtureSource } from '../support/fixture-source';
import { makeChain } from '../support/pki';
import { signEnvelope } from '../support/sign';

const chain = makeChain({ length: 3, keyType: 'p256', keySlot: 'fuzz-cert' });
const rsa = makeChain({ length: 2, keyType: 'rsa2048', keySlot: 'fuzz-cert-rsa' });
const CERTS = [...chain.chainDer, ...rsa.chainDer];
const target = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + 'cd'.repeat(32), size: 321 };

describe(`certificates: only typed errors (${FUZZ_RUNS} runs each)`, () => {
  test('parseCertificate on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), (b) => {
      typedOnly(() => parseCertificate(b));
    }), params());
  }, fuzzTimeout());

  test('parseCertificate on mutated DER', () => {
    fc.assert(fc.property(fc.constantFrom(...CERTS), mutationsArb, (der, ms) => {
      typedOnly(() => parseCertificate(mutate(der, ms)));
    }), params());
  }, fuzzTimeout());

  test('mutated certificates in a signed envelope, through the engine: never verified', async () => {
    const verifier = (source: FixtureSource) => new ImageVerifier({
      trustPolicy: {
        version: '1.0',
        trustPolicies: [{
          name: 'fuzz',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:fuzz'],
          trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'],
        }],
      },
      trustStores: new InMemoryTrustStore({ 'ca:fuzz': chain.rootPem }),
      sourceFor: () => source,
      cacheTtlMs: 0,
    });
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 }), mutationsArb, fc.constantFrom('jws' as const, 'cose' as const), async (which, ms, format) => {
      const der = chain.chainDer.map((c, i) => (i === which ? mutate(c, ms) : c));
      const unchanged = der.every((c, i) => Buffer.compare(Buffer.from(c), Buffer.from(chain.chainDer[i])) === 0);
      const envelope = signEnvelope(format, { key: chain.key, chainDer: der, targetArtifact: target });
      const source = new FixtureSource('fuzz.example/app', target, [{ mediaType: format === 'jws' ? MEDIA_TYPE.JWS : MEDIA_TYPE.COSE, envelope }]);
      const v = await typedOnlyAsync(() => verifier(source).verify(`fuzz.example/app@${target.digest}`));
      expect(v).not.toBeInstanceOf(VerifierError); // verify() returns verdicts, it does not throw
      const verdict = v as Exclude<typeof v, VerifierError>;
      // an in-memory source cannot fail in transport: never inconclusive, never an INTERNAL failure (issue 8 item 4)
      expect([verdict.status, verdict.error?.code === 'INTERNAL']).toEqual([expect.stringMatching(/^(verified|failed)$/), false]);
      if (verdict.status === 'failed') expect(verdict.error?.kind).not.toBe('inconclusive');
      // a mutation that leaves the DER semantically valid (e.g. flips inside an unused bit) may still verify;
      // anything else must not
      if (verdict.status === 'verified' && !unchanged) {
        expect(() => parseCertificate(der[which])).not.toThrow();
      }
    }), params({ timeout: 10_000 }));
  }, fuzzTimeout(10));
});
