/**
 * Fuzz: OCI signature manifests and image indexes / referrers listings (parseSignatureManifest,
 * parseIndexManifests), and trust-policy JSON text (parseTrustPolicy). The policy property test in
 * test/verifier/policy covers generated documents; this adds raw and mutated JSON text.
 */
import * as fc from 'fast-check';
import { FUZZ_RUNS, fuzzTimeout, mutate, mutationsArb, params, perturb, typedOnly } from './support';
import { ConfigurationError, VerifierError } from '../../src/verifier/errors';
import { parseTrustPolicy } from '../../src/verifier/policy';
import { parseIndexManifests, parseSignatureManifest } from '../../src/verifier/registry/source';
import { MEDIA_TYPE } from '../../src/verifier/types';
import { buildSignatureManifest } from '../support/push';

const subject = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + '12'.repeat(32), size: 500 };
const envelope = { mediaType: MEDIA_TYPE.JWS, digest: 'sha256:' + '34'.repeat(32), size: 2048 };
const SIG_MANIFESTS = [
  buildSignatureManifest(subject, envelope),
  buildSignatureManifest(subject, { ...envelope, mediaType: MEDIA_TYPE.COSE }, { legacy: true }),
];
const INDEX = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.OCI_INDEX,
  manifests: [
    { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + '56'.repeat(32), size: 700, artifactType: MEDIA_TYPE.NOTARY_SIGNATURE, annotations: { a: 'b' } },
    { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + '78'.repeat(32), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
  ],
  annotations: { 'org.opencontainers.image.referrers.filtersApplied': 'artifactType' },
}));
const POLICY = Buffer.from(JSON.stringify({
  version: '1.0',
  trustPolicies: [{
    name: 'p',
    registryScopes: ['registry.example/app', '*'.slice(1) || 'r.example/x'],
    signatureVerification: { level: 'strict', override: { revocation: 'log' } },
    trustStores: ['ca:a', 'signingAuthority:b'],
    trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test', 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/p'],
  }],
}));

const sigManifest = (b: Uint8Array, mt: string, check: boolean) => {
  const r = typedOnly(() => parseSignatureManifest(b, mt, { checkConfigMediaType: check }));
  // OCI digest grammar (unsupported algorithms such as "rha256:" are grammatical; fetching rejects them)
  if (!(r instanceof VerifierError)) expect(r.envelope.digest).toMatch(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/);
};
const index = (b: Uint8Array) => {
  const r = typedOnly(() => parseIndexManifests(b, 'fuzz'));
  if (!(r instanceof VerifierError)) expect(Array.isArray(r.manifests)).toBe(true);
};
const policy = (text: string) => {
  const r = typedOnly(() => parseTrustPolicy(text));
  if (r instanceof VerifierError) expect(r).toBeInstanceOf(ConfigurationError);
};

describe(`OCI manifests and indexes: only typed errors (${FUZZ_RUNS} runs each)`, () => {
  test('valid inputs parse', () => {
    for (const m of SIG_MANIFESTS) expect(parseSignatureManifest(m, MEDIA_TYPE.OCI_MANIFEST).envelope.size).toBe(2048);
    expect(parseIndexManifests(INDEX, 'fuzz').manifests).toHaveLength(2);
  });

  test('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), fc.constantFrom(MEDIA_TYPE.OCI_MANIFEST, MEDIA_TYPE.OCI_ARTIFACT_MANIFEST, 'x'), fc.boolean(), (b, mt, check) => {
      sigManifest(b, mt, check);
      index(b);
    }), params());
  }, fuzzTimeout());

  test('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), fc.boolean(), (j, check) => {
      const b = Buffer.from(JSON.stringify(j) ?? 'null');
      sigManifest(b, MEDIA_TYPE.OCI_MANIFEST, check);
      index(b);
    }), params());
  }, fuzzTimeout());

  test('byte-mutated valid manifests and indexes', () => {
    fc.assert(fc.property(fc.constantFrom(...SIG_MANIFESTS, INDEX), mutationsArb, fc.boolean(), (b, ms, check) => {
      const m = mutate(b, ms);
      sigManifest(m, MEDIA_TYPE.OCI_MANIFEST, check);
      index(m);
    }), params());
  }, fuzzTimeout());

  test('valid manifests and indexes with one JSON node replaced', () => {
    fc.assert(fc.property(fc.constantFrom(...SIG_MANIFESTS, INDEX), fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 1e300, 2 ** 53, '', 'sha256:', null, [], {})), fc.boolean(), (b, pick, value, check) => {
      const m = Buffer.from(JSON.stringify(perturb(JSON.parse(b.toString()), pick, value)) ?? 'null');
      sigManifest(m, MEDIA_TYPE.OCI_MANIFEST, check);
      index(m);
    }), params());
  }, fuzzTimeout());
});

describe(`trust policy JSON text: only ConfigurationError (${FUZZ_RUNS} runs each)`, () => {
  test('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 500 }), policy), params());
  }, fuzzTimeout());

  test('byte-mutated valid policy text', () => {
    fc.assert(fc.property(mutationsArb, (ms) => policy(Buffer.from(mutate(POLICY, ms)).toString('utf8'))), params());
  }, fuzzTimeout());

  test('valid policy with one JSON node replaced', () => {
    fc.assert(fc.property(fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('*', 'ca:', 'x509.subject:', 'tsa:a', 'skip', '__proto__')), (pick, value) => {
      policy(JSON.stringify(perturb(JSON.parse(POLICY.toString()), pick, value)));
    }), params());
  }, fuzzTimeout());

  test('deeply nested JSON does not blow the stack', () => {
    fc.assert(fc.property(fc.integer({ min: 100, max: 5000 }), (depth) => policy('['.repeat(depth) + ']'.repeat(depth))), params({ numRuns: Math.min(FUZZ_RUNS, 200) }));
  }, fuzzTimeout());
});
