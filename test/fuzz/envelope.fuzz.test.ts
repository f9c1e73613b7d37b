/**
 * Fuzz: signature envelopes (JWS JSON and COSE_Sign1 / CBOR) through verifyEnvelopeIntegrity and
 * parseEnvelopeUnverified: arbitrary bytes, byte-mutated valid envelopes, and structure-aware JWS
 * field replacement. Only typed errors; a mutated envelope that still verifies must be semantically
 * the same signature (same target, same signing key material).
 */
import * as fc from 'fast-check';
import { FUZZ_RUNS, fuzzTimeout, mutate, mutationsArb, params, typedOnly } from './support';
import { parseEnvelopeUnverified, verifyEnvelopeIntegrity } from '../../src/verifier/envelope';
import { VerifierError } from '../../src/verifier/errors';
import { MEDIA_TYPE } from '../../src/verifier/types';
import { makeChain } from '../support/pki';
import { signEnvelope } from '../support/sign';

const ecChain = makeChain({ length: 3, keyType: 'p256', keySlot: 'fuzz-ec' });
const rsaChain = makeChain({ length: 2, keyType: 'rsa2048', keySlot: 'fuzz-rsa' });
const target = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + 'ab'.repeat(32), size: 1234 };

const VALID: Array<{ mediaType: string; bytes: Uint8Array }> = [];
for (const chain of [ecChain, rsaChain]) {
  VALID.push({ mediaType: MEDIA_TYPE.JWS, bytes: signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: target }) });
  VALID.push({ mediaType: MEDIA_TYPE.COSE, bytes: signEnvelope('cose', { key: chain.key, chainDer: chain.chainDer, targetArtifact: target }) });
}

function both(mediaType: string, bytes: Uint8Array): void {
  const v = typedOnly(() => verifyEnvelopeIntegrity(mediaType, bytes));
  if (!(v instanceof VerifierError)) {
    // whatever still verifies is a signature over the same target
    expect(v.targetArtifact.digest).toBe(target.digest);
    expect(v.targetArtifact.size).toBe(target.size);
  }
  typedOnly(() => parseEnvelopeUnverified(mediaType, bytes));
}

describe(`envelopes: only typed errors (${FUZZ_RUNS} runs each)`, () => {
  test('the unmutated envelopes verify', () => {
    for (const e of VALID) expect(verifyEnvelopeIntegrity(e.mediaType, e.bytes).targetArtifact.digest).toBe(target.digest);
  });

  test('arbitrary bytes under both media types', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), fc.constantFrom(MEDIA_TYPE.JWS, MEDIA_TYPE.COSE, 'application/octet-stream'), (bytes, mt) => {
      both(mt, bytes);
    }), params());
  }, fuzzTimeout());

  test('arbitrary JSON under the JWS media type', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (j) => {
      both(MEDIA_TYPE.JWS, Buffer.from(JSON.stringify(j) ?? 'null'));
    }), params());
  }, fuzzTimeout());

  test('byte-mutated valid JWS and COSE envelopes', () => {
    fc.assert(fc.property(fc.constantFrom(...VALID), mutationsArb, (e, ms) => {
      both(e.mediaType, mutate(e.bytes, ms));
    }), params());
  }, fuzzTimeout(5));

  test('JWS with one field replaced by an arbitrary JSON value', () => {
    const jwsValid = VALID.filter((e) => e.mediaType === MEDIA_TYPE.JWS);
    const paths = ['protected', 'payload', 'signature', 'header', 'header.x5c', 'header.io.cncf.notary.signingAgent', 'header.io.cncf.notary.timestamp', 'extra'];
    fc.assert(fc.property(fc.constantFrom(...jwsValid), fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), (e, p, value) => {
      const obj = JSON.parse(Buffer.from(e.bytes).toString());
      const [head, ...rest] = p.split('.');
      if (rest.length === 0) obj[head] = value;
      else if (obj[head] && typeof obj[head] === 'object') obj[head][rest.join('.')] = value;
      both(MEDIA_TYPE.JWS, Buffer.from(JSON.stringify(obj)));
    }), params());
  }, fuzzTimeout(5));

  test('JWS protected header / payload replaced by base64url of arbitrary JSON', () => {
    const jws = VALID[0];
    fc.assert(fc.property(fc.constantFrom('protected', 'payload'), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('alg', 'crit', 'cty', 'io.cncf.notary.signingScheme', 'io.cncf.notary.signingTime', 'io.cncf.notary.expiry', 'targetArtifact'), fc.jsonValue({ maxDepth: 2 }))), (field, value) => {
      const obj = JSON.parse(Buffer.from(jws.bytes).toString());
      obj[field] = Buffer.from(JSON.stringify(value) ?? '').toString('base64url');
      both(MEDIA_TYPE.JWS, Buffer.from(JSON.stringify(obj)));
    }), params());
  }, fuzzTimeout(5));
});
