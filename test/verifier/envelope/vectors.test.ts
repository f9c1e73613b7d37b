/**
 * Envelope-level verdicts on the public notation-go / notation-core-go vectors (test/fixtures, see PROVENANCE.md).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseEnvelopeUnverified, verifyEnvelopeIntegrity } from '../../../src/verifier/envelope';
import { CborMap, CborTagged, decodeCbor } from '../../../src/verifier/envelope/cbor';
import { coseContent, decodeCose } from '../../../src/verifier/envelope/cose';
import { decodeJws, jwsContent } from '../../../src/verifier/envelope/jws';
import { failure } from '../../support/helpers';

const FIX = path.join(__dirname, '../../fixtures');
const read = (p: string): Buffer => fs.readFileSync(path.join(FIX, p));
const JWS = 'application/jose+json';
const COSE = 'application/cose';


const MOCK_TARGET = {
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
  size: 528,
};

describe('notation-go mock envelopes (internal/mock/testdata)', () => {
  test.each([
    ['ca_valid_sig_env.json', 'notary.x509', '2020-11-09T07:00:00.000Z', '2120-11-09T07:00:00.000Z'],
    ['sa_valid_sig_env.json', 'notary.x509.signingAuthority', '2020-11-09T07:00:00.000Z', '2120-11-09T07:00:00.000Z'],
    // expired: integrity passes; expiry against "now" is judged by the pipeline
    ['ca_expired_sig_env.json', 'notary.x509', '2022-07-29T00:00:00.000Z', '2022-07-29T23:59:00.000Z'],
    ['sa_expired_sig_env.json', 'notary.x509.signingAuthority', '2022-07-29T00:00:00.000Z', '2022-07-29T23:59:00.000Z'],
  ])('%s passes integrity', (file, scheme, time, expiry) => {
    const env = verifyEnvelopeIntegrity(JWS, read(`notation-go/mock-envelopes/${file}`));
    expect(env.format).toBe('jws');
    expect(env.mediaType).toBe(JWS);
    expect(env.algorithm).toBe('PS384');
    expect(env.signingScheme).toBe(scheme);
    const t = scheme === 'notary.x509' ? env.signingTime : env.authenticSigningTime;
    expect(t?.toISOString()).toBe(time);
    if (scheme === 'notary.x509') expect(env.authenticSigningTime).toBeUndefined();
    else expect(env.signingTime).toBeUndefined();
    expect(env.expiry?.toISOString()).toBe(expiry);
    expect(env.targetArtifact).toEqual(MOCK_TARGET);
    expect(env.payloadContentType).toBe('application/vnd.cncf.notary.payload.v1+json');
    expect(env.certificateChain).toHaveLength(2);
    expect(env.extendedAttributes).toEqual([]);
    expect(env.verificationPlugin).toBeUndefined();
    // the mocks spell the unprotected key `io.cncf.notary.SigningAgent`: unknown keys are ignored
    expect(env.signingAgent).toBeUndefined();
    expect(env.timestampToken).toBeUndefined();
    expect(env.signature.length).toBe(384); // RSA 3072
    // chain order leaf -> root: the last certificate is self-signed
    const root = new crypto.X509Certificate(env.certificateChain[1]);
    expect(root.checkIssued(root)).toBe(true);
    expect(new crypto.X509Certificate(env.certificateChain[0]).checkIssued(root)).toBe(true);
  });

  test.each(['ca_invalid_sig_env.json', 'sa_invalid_sig_env.json'])('%s (padded base64url payload) fails integrity like notation', (file) => {
    const err = failure(() => verifyEnvelopeIntegrity(JWS, read(`notation-go/mock-envelopes/${file}`)));
    expect(err.code).toBe('INVALID_SIGNATURE');
    expect(err.message).toBe('signature is invalid. Error: illegal base64 data at input byte 242');
    expect(err.kind).toBe('failed');
    // inspect cannot read it either
    expect(failure(() => parseEnvelopeUnverified(JWS, read(`notation-go/mock-envelopes/${file}`))).message)
      .toBe('payload error: illegal base64 data at input byte 242');
  });

  test.each([
    ['ca_plugin_sig_env.json', 'notary.x509'],
    ['sa_plugin_sig_env.json', 'notary.x509.signingAuthority'],
  ])('%s exposes the plugin and the unknown critical attribute', (file, scheme) => {
    const env = verifyEnvelopeIntegrity(JWS, read(`notation-go/mock-envelopes/${file}`));
    expect(env.signingScheme).toBe(scheme);
    expect(env.verificationPlugin).toBe('plugin-name');
    expect(env.verificationPluginMinVersion).toBeUndefined();
    expect(env.extendedAttributes).toEqual([{ key: 'SomeKey', value: 'SomeValue', critical: true }]);
  });

  const pluginVersions: Array<[string, string, string]> = [
    ['ca_compatible_pluginver_sig_env_0.0.9.json', '0.0.9', '2023-01-19T08:21:36.000Z'],
    ['ca_compatible_pluginver_sig_env_1.0.0-alpha.beta.json', '1.0.0-alpha.beta', '2023-01-19T21:03:23.000Z'],
    ['ca_compatible_pluginver_sig_env_1.0.0-alpha.json', '1.0.0-alpha', '2023-01-19T20:57:04.000Z'],
    ['ca_compatible_pluginver_sig_env_1.0.0.json', '1.0.0', '2023-01-19T21:05:58.000Z'],
    ['ca_incompatible_pluginver_sig_env_1.0.1.json', '1.0.1', '2023-01-19T20:49:02.000Z'],
    ['ca_incompatible_pluginver_sig_env_1.0.9.json', '1.0.9', '2023-01-19T08:47:18.000Z'],
    ['ca_incompatible_pluginver_sig_env_1.1.0-alpha.json', '1.1.0-alpha', '2023-01-19T20:40:34.000Z'],
    ['ca_incompatible_pluginver_sig_env_1.2.3.json', '1.2.3', '2023-01-19T20:54:01.000Z'],
  ];
  test.each(pluginVersions)('%s: plugin %s fields, -08:00 signing time', (file, min, time) => {
    const env = verifyEnvelopeIntegrity(JWS, read(`notation-go/mock-envelopes/${file}`));
    expect(env.algorithm).toBe('PS256');
    expect(env.verificationPlugin).toBe('io.cncf.notary.plugin.unittest.mock');
    expect(env.verificationPluginMinVersion).toBe(min);
    expect(env.signingTime?.toISOString()).toBe(time);
    expect(env.expiry).toBeUndefined();
    expect(env.extendedAttributes).toEqual([]);
    expect(env.signingAgent).toBe('Notation/1.0.0');
    expect(env.certificateChain).toHaveLength(1);
    expect(env.targetArtifact).toEqual({
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: 'sha256:fe7e9333395060c2f5e63cf36a38fba10176f183b4163a5794e081a480abba5f',
      size: 942,
    });
  });

  test('sig_env_with_metadata.json carries user metadata annotations', () => {
    const env = verifyEnvelopeIntegrity(JWS, read('notation-go/mock-envelopes/sig_env_with_metadata.json'));
    expect(env.targetArtifact).toEqual({
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: 'sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b',
      size: 942,
      annotations: { 'io.wabbit-networks.buildId': '123', 'io.wabbit-networks.buildTime': '1672944615' },
    });
  });

  test('the mock envelope is not accepted under the COSE media type or an unknown one', () => {
    const bytes = read('notation-go/mock-envelopes/ca_valid_sig_env.json');
    expect(failure(() => verifyEnvelopeIntegrity(COSE, bytes)).code).toBe('INVALID_ENVELOPE');
    const err = failure(() => verifyEnvelopeIntegrity('application/json', bytes));
    expect(err.code).toBe('UNSUPPORTED_ENVELOPE');
    expect(err.message).toBe('signature envelope format with media type "application/json" is not supported');
  });
});

describe('notation-go oci-layout signatures (internal/testdata)', () => {
  const target = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
    size: 481,
  };

  test('jws_signature.sig (PS256, +08:00 signing time)', () => {
    const env = verifyEnvelopeIntegrity(JWS, read('notation-go/oci-layout-signed/jws_signature.sig'));
    expect(env.algorithm).toBe('PS256');
    expect(env.targetArtifact).toEqual(target);
    expect(env.signingTime?.toISOString()).toBe('2023-03-14T08:10:02.000Z');
    expect(env.signingAgent).toBe('Notation/1.0.0');
  });

  test('cose_signature.sig (COSE alg -37)', () => {
    const env = verifyEnvelopeIntegrity(COSE, read('notation-go/oci-layout-signed/cose_signature.sig'));
    expect(env.format).toBe('cose');
    expect(env.algorithm).toBe('PS256');
    expect(env.signingScheme).toBe('notary.x509');
    expect(env.targetArtifact).toEqual(target);
    expect(env.signingTime).toBeInstanceOf(Date);
    expect(env.certificateChain.length).toBeGreaterThanOrEqual(1);
    expect(env.signature.length).toBe(256);
  });

  test('a single flipped signature bit in the COSE vector fails crypto', () => {
    const bytes = Buffer.from(read('notation-go/oci-layout-signed/cose_signature.sig'));
    bytes[bytes.length - 1] ^= 1; // last byte belongs to the signature bstr
    const err = failure(() => verifyEnvelopeIntegrity(COSE, bytes));
    expect(err.code).toBe('INVALID_SIGNATURE');
    expect(err.message).toBe('signature is invalid. Error: verification error');
  });

  test('the COSE vector under the JWS media type is a parse failure', () => {
    expect(failure(() => verifyEnvelopeIntegrity(JWS, read('notation-go/oci-layout-signed/cose_signature.sig'))).code).toBe('INVALID_ENVELOPE');
  });
});

describe('notation-go timestamp envelopes (verifier/testdata/timestamp/sigEnv)', () => {
  test.each([
    ['jwsWithTimestamp.sig', JWS, true],
    ['jwsExpiredWithTimestamp.sig', JWS, true],
    ['timestampBeforeNotBefore.sig', JWS, true],
    ['withoutTimestamp.sig', JWS, false],
    ['coseWithTimestamp.sig', COSE, true],
    ['coseExpiredWithTimestamp.sig', COSE, true],
    ['timestampAfterNotAfter.sig', COSE, true],
  ])('%s (%s) passes integrity; timestamp token present: %s', (file, mediaType, hasToken) => {
    const bytes = read(`notation-go/timestamp/sigEnv/${file}`);
    const env = verifyEnvelopeIntegrity(mediaType as string, bytes);
    expect(env.signingScheme).toBe('notary.x509');
    expect(env.algorithm).toBe('PS256');
    if (!hasToken) {
      expect(env.timestampToken).toBeUndefined();
      return;
    }
    const tok = env.timestampToken!;
    expect(tok).toBeInstanceOf(Uint8Array);
    // a DER ContentInfo: SEQUENCE { OID 1.2.840.113549.1.7.2 (signedData) ... }
    expect(tok[0]).toBe(0x30);
    expect(Buffer.from(tok).includes(Buffer.from('06092a864886f70d010702', 'hex'))).toBe(true);
    if (mediaType === JWS) {
      const header = JSON.parse(bytes.toString()).header;
      expect(Buffer.from(tok).toString('base64')).toBe(header['io.cncf.notary.timestampSignature']);
      // env.signature is the raw decoded signature (the timestamp message imprint input)
      expect(Buffer.from(env.signature).toString('base64url')).toBe(JSON.parse(bytes.toString()).signature);
    } else {
      const top = decodeCbor(bytes) as CborTagged;
      const unprotected = (top.value as unknown[])[1] as CborMap;
      expect(Buffer.compare(Buffer.from(tok), Buffer.from(unprotected.get('io.cncf.notary.timestampSignature') as Uint8Array))).toBe(0);
      expect(Buffer.compare(Buffer.from(env.signature), Buffer.from((top.value as unknown[])[3] as Uint8Array))).toBe(0);
    }
  });

  test('JWS timestamp envelopes carry a +08:00 signing time', () => {
    const env = verifyEnvelopeIntegrity(JWS, read('notation-go/timestamp/sigEnv/jwsWithTimestamp.sig'));
    expect(env.signingTime?.toISOString()).toBe('2024-06-18T06:29:33.000Z');
    expect(env.targetArtifact.digest).toBe('sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda');
  });
});

describe('notation-core-go conformance encodings', () => {
  test('JWS conformance: protected header rules, crit ordering and extended attributes', () => {
    const doc = JSON.parse(read('notation-core-go/conformance/jws-conformance.json').toString());
    const d = decodeJws(Buffer.from(JSON.stringify(doc)));
    const c = jwsContent(d);
    expect(c.algorithm).toBe('ES256');
    expect(c.signingScheme).toBe('notary.x509');
    expect(c.signingTime?.toISOString()).toBe('2022-08-29T13:50:00.000Z');
    expect(c.expiry?.toISOString()).toBe('2099-08-30T13:50:00.000Z');
    expect(c.signingAgent).toBe('NotationConformanceTest/1.0.0');
    expect(c.signature.length).toBe(64);
    expect(Buffer.from(c.payload).toString()).toBe('{"key":"hello JWS"}');
    const attrs = Object.fromEntries(c.extendedAttributes.map((a) => [a.key, a]));
    expect(Object.keys(attrs).sort()).toEqual(['signedCritKey1', 'signedKey1', 'signedKey2', 'signedKey3', 'signedKey4']);
    expect(attrs.signedCritKey1).toEqual({ key: 'signedCritKey1', value: 'signedCritValue1', critical: true });
    expect(attrs.signedKey1.critical).toBe(false);
    // no x5c: not verifiable
    const err = failure(() => verifyEnvelopeIntegrity(JWS, Buffer.from(JSON.stringify(doc))));
    expect(err.code).toBe('INVALID_CERTIFICATE_CHAIN');
    expect(err.message).toBe('certificate chain is not present');
    // the payload is not a Notary payload
    expect(failure(() => parseEnvelopeUnverified(JWS, Buffer.from(JSON.stringify(doc)))).message)
      .toMatch(/^failed to unmarshal the payload content in the signature blob to envelope.Payload/);
  });

  test('COSE conformance: tag-1 times, crit labels, unprotected signing agent', () => {
    const conf = JSON.parse(read('notation-core-go/conformance/cose-conformance.json').toString());
    const bytes = Buffer.from(conf.expectedOutput.cborHex, 'hex');
    const d = decodeCose(bytes);
    expect(Buffer.from(d.protectedRaw).toString('hex').toUpperCase()).toBe(conf.protectedHeaders.cborHex);
    const c = coseContent(d);
    expect(c.algorithm).toBe('PS384');
    expect(c.signingTime?.getTime()).toBe(conf.signingTime * 1000);
    expect(c.expiry?.getTime()).toBe(conf.expiry * 1000);
    expect(c.signingAgent).toBe('NotationConformanceTest/1.0.0');
    expect(c.extendedAttributes).toEqual([
      { key: 'signedKey1', value: 'signedValue1', critical: false },
      { key: 'signedCritKey1', value: 'signedCritValue1', critical: true },
    ]);
    expect(Buffer.from(c.payload).toString()).toBe('hello COSE');
    const err = failure(() => verifyEnvelopeIntegrity(COSE, bytes));
    expect(err.code).toBe('INVALID_CERTIFICATE_CHAIN');
    expect(err.message).toBe('certificate chain is not present');
  });
});
