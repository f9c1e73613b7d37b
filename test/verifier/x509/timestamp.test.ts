import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CertificateInfo, parseCertificate, parseCertificates } from '../../../src/verifier/x509/certificate';
import { buildChain, verifyAuthenticTimestamp, verifySignedToken } from '../../../src/verifier/x509/timestamp';
import { formatRange, parseSignedToken, parseTstInfo, validateTstInfo } from '../../../src/verifier/x509/timestamp-token';
import { failure } from '../../support/helpers';
import { makeChain, makeTimestampToken, makeTsaChain } from '../../support/pki';

const FIX = path.join(__dirname, '../../fixtures');
const SIGENV = path.join(FIX, 'notation-go/timestamp/sigEnv');
const CS = path.join(FIX, 'notation-go/timestamp/countersignature');
const tsaRoots = parseCertificates(fs.readFileSync(path.join(FIX, 'notation-go/truststore/x509/tsa/test-timestamp/globalsignRoot.cer')));
const digicertRoots = parseCertificates(fs.readFileSync(path.join(FIX, 'notation-go/truststore/x509/tsa/test-mismatch/DigiCertTSARootSHA384.cer')));

interface Env { signature: Uint8Array; token?: Uint8Array; chain: CertificateInfo[]; signingTime?: Date }

function jws(file: string): Env {
  const e = JSON.parse(fs.readFileSync(path.join(SIGENV, file), 'utf8'));
  const prot = JSON.parse(Buffer.from(e.protected, 'base64url').toString('utf8'));
  const ts = e.header['io.cncf.notary.timestampSignature'];
  return {
    signature: new Uint8Array(Buffer.from(e.signature, 'base64url')),
    ...(ts ? { token: new Uint8Array(Buffer.from(ts, 'base64')) } : {}),
    chain: (e.header.x5c as string[]).map((c) => parseCertificate(new Uint8Array(Buffer.from(c, 'base64')))),
    signingTime: new Date(prot['io.cncf.notary.signingTime']),
  };
}

// Minimal CBOR reader for COSE_Sign1 test vectors (definite lengths only).
function cbor(buf: Buffer, pos = 0): [unknown, number] {
  const ib = buf[pos++];
  const major = ib >> 5;
  let ai = ib & 31;
  let n: number;
  if (ai < 24) {n = ai;} else if (ai === 24) {n = buf[pos++];} else if (ai === 25) { n = buf.readUInt16BE(pos); pos += 2; } else if (ai === 26) { n = buf.readUInt32BE(pos); pos += 4; } else if (ai === 27) { n = Number(buf.readBigUInt64BE(pos)); pos += 8; } else {throw new Error('unsupported CBOR');}
  switch (major) {
    case 0: return [n, pos];
    case 1: return [-1 - n, pos];
    case 2: return [buf.subarray(pos, pos + n), pos + n];
    case 3: return [buf.subarray(pos, pos + n).toString('utf8'), pos + n];
    case 4: { const a: unknown[] = []; for (let i = 0; i < n; i++) { const [v, p] = cbor(buf, pos); a.push(v); pos = p; } return [a, pos]; }
    case 5: { const m = new Map<unknown, unknown>(); for (let i = 0; i < n; i++) { const [k, p1] = cbor(buf, pos); const [v, p2] = cbor(buf, p1); m.set(k, v); pos = p2; } return [m, pos]; }
    case 6: { const [v, p] = cbor(buf, pos); return [{ tag: n, value: v }, p]; }
    default: ai = 0; return [n === 20 ? false : n === 21 ? true : null, pos];
  }
}

function cose(file: string): Env {
  const [top] = cbor(fs.readFileSync(path.join(SIGENV, file))) as [{ tag: number; value: [Buffer, Map<unknown, unknown>, Buffer, Buffer] }, number];
  expect(top.tag).toBe(18);
  const [, unprotected, , signature] = top.value;
  const token = unprotected.get('io.cncf.notary.timestampSignature') as Buffer | undefined;
  return {
    signature: new Uint8Array(signature),
    ...(token ? { token: new Uint8Array(token) } : {}),
    chain: (unprotected.get(33) as Buffer[]).map((c) => parseCertificate(new Uint8Array(c))),
  };
}


const verify = (env: Env, roots = tsaRoots, extra: Partial<Parameters<typeof verifyAuthenticTimestamp>[0]> = {}) =>
  verifyAuthenticTimestamp({ token: env.token, signature: env.signature, signingChain: env.chain, tsaRoots: roots, ...extra });

describe('notation-go timestamp vectors', () => {
  test.each([
    ['jwsWithTimestamp.sig', jws],
    ['jwsExpiredWithTimestamp.sig', jws],
    ['coseWithTimestamp.sig', cose],
    ['coseExpiredWithTimestamp.sig', cose],
  ] as const)('%s verifies', (file, load) => {
    const env = load(file);
    const r = verify(env, tsaRoots, { signingTime: (env as Env).signingTime });
    expect(r.tsaChain.length).toBeGreaterThanOrEqual(2);
    expect(r.tsaChain[r.tsaChain.length - 1].sha256).toBe(tsaRoots[0].sha256);
    expect(r.tsaChain[0].extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.8']);
    expect(r.lower.getTime()).toBeLessThanOrEqual(r.genTime.getTime());
    expect(r.upper.getTime()).toBeGreaterThanOrEqual(r.genTime.getTime());
  });
  it('expired leaf: timestamp inside validity although the cert is expired now', () => {
    const env = jws('jwsExpiredWithTimestamp.sig');
    expect(env.chain[0].notAfter.toISOString()).toBe('2024-06-18T07:30:31.000Z');
    const r = verify(env);
    expect(r.upper.getTime()).toBeLessThan(env.chain[0].notAfter.getTime());
  });
  it('timestamp before the signing certificate notBefore', () => {
    const e = failure(() => verify(jws('timestampBeforeNotBefore.sig')));
    expect(e.message).toBe('timestamp can be before certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it will be valid from "Fri, 18 Sep 2099 11:54:34 +0000"');
    expect(e.code).toBe('CERTIFICATE_NOT_VALID');
  });
  it('timestamp after the signing certificate notAfter', () => {
    expect(failure(() => verify(cose('timestampAfterNotAfter.sig'))).message)
      .toBe('timestamp can be after certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it was expired at "Tue, 18 Sep 2001 11:54:34 +0000"');
  });
  it('missing countersignature', () => {
    const e = failure(() => verify(jws('withoutTimestamp.sig')));
    expect(e.message).toBe('no timestamp countersignature was found in the signature envelope');
    expect(e.code).toBe('INVALID_TIMESTAMP');
  });
  it('untrusted TSA root', () => {
    expect(failure(() => verify(jws('jwsWithTimestamp.sig'), digicertRoots)).message)
      .toBe('failed to verify the timestamp countersignature with error: failed to verify signed token: cms verification failure: x509: certificate signed by unknown authority');
  });
  it('no TSA roots', () => {
    expect(failure(() => verify(jws('jwsWithTimestamp.sig'), [])).message).toBe('no trusted TSA certificate found in trust store');
  });
  it('signing time after the timestamp', () => {
    const env = jws('withoutTimestamp.sig');
    const token = new Uint8Array(fs.readFileSync(path.join(CS, 'TimeStampToken.p7s')));
    const e = failure(() => verifyAuthenticTimestamp({ token, signature: Buffer.from('notation'), signingChain: env.chain, tsaRoots, signingTime: new Date('3000-11-10T23:00:00Z') }));
    expect(e.message).toBe('timestamp [2021-09-17T14:09:09Z, 2021-09-17T14:09:11Z] is not bounded after the signing time "3000-11-10 23:00:00 +0000 UTC"');
  });
});

describe('notation-go countersignature vectors (carried by withoutTimestamp.sig)', () => {
  const env = jws('withoutTimestamp.sig');
  const tok = (f: string) => new Uint8Array(fs.readFileSync(path.join(CS, f)));
  const run = (f: string, message: string) => failure(() => verifyAuthenticTimestamp({ token: tok(f), signature: Buffer.from(message), signingChain: [], tsaRoots })).message;
  it('wrong content type', () => {
    expect(run('TimeStampTokenWithInvalideContentType.p7s', 'notation'))
      .toBe('failed to parse timestamp countersignature with error: unexpected content type: 1.2.840.113549.1.7.1. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)');
  });
  it('malformed TSTInfo', () => {
    expect(run('TimeStampTokenWithInvalidTSTInfo.p7s', 'notation')).toMatch(/^failed to get the timestamp TSTInfo with error: cannot unmarshal TSTInfo from timestamp token: /);
  });
  it('mismatched message', () => {
    expect(run('TimeStampToken.p7s', 'mismatch')).toBe('failed to get timestamp from timestamp countersignature with error: invalid TSTInfo: mismatched message');
  });
  it('no signing certificate in the token', () => {
    expect(run('TimeStampTokenWithoutCertificate.p7s', 'notation'))
      .toBe('failed to verify the timestamp countersignature with error: failed to verify signed token: signing certificate not found in the timestamp token');
  });
  it('valid token for "notation" verifies against the GlobalSign root', () => {
    const r = verifyAuthenticTimestamp({ token: tok('TimeStampToken.p7s'), signature: Buffer.from('notation'), signingChain: [], tsaRoots });
    expect(formatRange(r)).toBe('[2021-09-17T14:09:09Z, 2021-09-17T14:09:11Z]');
    expect(r.tstInfo.policy).toBe('1.3.6.1.4.1.4146.2.3');
    expect(r.tsaChain.map((c) => c.subject)).toEqual([
      'CN=Globalsign TSA for Advanced - G4,O=GlobalSign nv-sa,C=BE',
      'CN=GlobalSign Timestamping CA - SHA384 - G4,O=GlobalSign nv-sa,C=BE',
      'CN=GlobalSign,OU=GlobalSign Root CA - R6,O=GlobalSign',
    ]);
    void env;
  });
  it('notation-core-go token with an invalid signature', () => {
    const token = new Uint8Array(fs.readFileSync(path.join(FIX, 'notation-core-go/timestamp/TimeStampTokenWithInvalidSignature.p7s')));
    const signed = parseSignedToken(token);
    const info = parseTstInfo(signed.content);
    expect(() => validateTstInfo(info, Buffer.from('notation'))).not.toThrow();
    expect(() => validateTstInfo(info, Buffer.from(''))).toThrow('invalid TSTInfo: mismatched message');
    expect(() => verifySignedToken(signed, tsaRoots, info.genTime)).toThrow('failed to verify signed token: cms verification failure: crypto/rsa: verification error');
  });
});

describe('TSTInfo accuracy and chain building', () => {
  it('baseline policy implies 1 s; explicit millis/micros', () => {
    const base = { version: 1, hashAlgorithm: '2.16.840.1.101.3.4.2.1', hashedMessage: new Uint8Array(Buffer.from('4ac7a1ad0b2a3cc9ceb5ed3a4e1ed0e8d6a2d1c0b8bfb9e4d9e6a6f2b1e1f1c1', 'hex')), serialNumber: 1n, genTime: new Date('2024-01-01T00:00:00.500Z'), genTimeFraction: '5', ordering: false };
    const msg = Buffer.from('x');
    const digest = new Uint8Array(createHash('sha256').update(msg).digest());
    const r1 = validateTstInfo({ ...base, hashedMessage: digest, policy: '0.4.0.2023.1.1' }, msg);
    expect([r1.lower.toISOString(), r1.upper.toISOString()]).toEqual(['2023-12-31T23:59:59.500Z', '2024-01-01T00:00:01.500Z']);
    const r2 = validateTstInfo({ ...base, hashedMessage: digest, policy: '1.2.3', accuracy: { seconds: 0, millis: 10, micros: 500 } }, msg);
    expect([r2.lower.toISOString(), r2.upper.toISOString()]).toEqual(['2024-01-01T00:00:00.489Z', '2024-01-01T00:00:00.511Z']);
    const r3 = validateTstInfo({ ...base, hashedMessage: digest, policy: '1.2.3' }, msg);
    expect(r3.accuracyMicros).toBe(0);
    expect(() => validateTstInfo({ ...base, hashedMessage: digest, policy: '1.2.3', version: 2 }, msg)).toThrow('TSTInfo version must be 1');
  });
  it('buildChain validity and EKU', () => {
    const c = makeChain({ length: 3, leaf: { extKeyUsage: ['timeStamping'], extKeyUsageCritical: true } }).chainDer.map(parseCertificate);
    expect(buildChain(c[0], [c[1]], [c[2]], new Date()).length).toBe(3);
    expect(() => buildChain(c[0], [], [c[2]], new Date())).toThrow('x509: certificate signed by unknown authority');
    expect(() => buildChain(c[0], [c[1]], [c[2]], new Date('2000-01-01T00:00:00Z'))).toThrow(/^x509: certificate has expired or is not yet valid: current time 2000-01-01T00:00:00Z is before /);
    const cs = makeChain({ length: 2 }).chainDer.map(parseCertificate);
    expect(() => buildChain(cs[0], [], [cs[1]], new Date())).toThrow('x509: certificate specifies an incompatible key usage');
  });
});

describe('generated timestamp tokens (test/support/pki makeTimestampToken)', () => {
  const tsa = makeTsaChain();
  const roots = [parseCertificate(tsa.chainDer[tsa.chainDer.length - 1])];
  const signing = makeChain({ length: 2 }).chainDer.map(parseCertificate);
  const message = new Uint8Array(Buffer.from('signature bytes'));
  const ok = (extra: Partial<Parameters<typeof makeTimestampToken>[0]> = {}) => verifyAuthenticTimestamp({
    token: makeTimestampToken({ message, tsa, ...extra }), signature: message, signingChain: signing, tsaRoots: roots,
  });
  it('verifies, with explicit and baseline accuracy', () => {
    const genTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    const r = ok({ genTime, accuracySeconds: 2 });
    expect(r.genTime.getTime()).toBe(genTime.getTime());
    expect(r.upper.getTime() - r.lower.getTime()).toBe(4000);
    expect(r.tsaChain.map((c) => c.subject)).toEqual(['CN=Test TSA,O=Notary Test,ST=WA,C=US', 'CN=Test TSA Intermediate,O=Notary Test,ST=WA,C=US', 'CN=Test TSA Root,O=Notary Test,ST=WA,C=US']);
    const b = ok({ genTime, policy: '0.4.0.2023.1.1' });
    expect(b.accuracyMicros).toBe(1_000_000);
    expect(ok({ hash: 'sha384', nonce: 12345n }).tstInfo.nonce).toBe(12345n);
  });
  it('EC TSA keys', () => {
    const ecTsa = makeTsaChain({ keyType: 'p384', keySlot: 'tsa-ec' });
    const r = verifyAuthenticTimestamp({ token: makeTimestampToken({ message, tsa: ecTsa, hash: 'sha384' }), signature: message, signingChain: [], tsaRoots: [parseCertificate(ecTsa.chainDer[2])] });
    expect(r.tsaChain).toHaveLength(3);
  });
  test.each([
    ['bad signature', { badSignature: true }, /cms verification failure: crypto\/rsa: verification error$/],
    ['no signing-certificate-v2', { omitSigningCertificateV2: true }, /failed to get SigningCertificateV2 from signed attributes: attribute not found$/],
    ['no certificates', { includeCerts: false }, /signing certificate not found in the timestamp token$/],
    ['wrong content type', { contentType: '1.2.840.113549.1.7.1' }, /unexpected content type: 1\.2\.840\.113549\.1\.7\.1/],
    ['genTime outside the TSA validity', { genTime: new Date('2001-01-01T00:00:00Z') }, /x509: certificate has expired or is not yet valid/],
  ] as const)('%s fails', (_n, extra, re) => {
    expect(() => ok(extra as any)).toThrow(re);
  });
  it('a TSA leaf without timeStamping EKU is rejected', () => {
    const bad = makeTsaChain({ keySlot: 'tsa-noeku', leaf: { extKeyUsage: ['codeSigning'] } });
    expect(() => verifyAuthenticTimestamp({ token: makeTimestampToken({ message, tsa: bad }), signature: message, signingChain: [], tsaRoots: [parseCertificate(bad.chainDer[2])] }))
      .toThrow(/incompatible key usage/);
    const nonCrit = makeTsaChain({ keySlot: 'tsa-noncrit', leaf: { extKeyUsageCritical: false } });
    expect(() => verifyAuthenticTimestamp({ token: makeTimestampToken({ message, tsa: nonCrit }), signature: message, signingChain: [], tsaRoots: [parseCertificate(nonCrit.chainDer[2])] }))
      .toThrow(/^failed to validate the timestamping certificate chain with error: timestamp signing certificate with subject "CN=Test TSA,O=Notary Test,ST=WA,C=US" must have extended key usage extension marked as critical$/);
  });
  it('timestamp outside the signing chain validity', () => {
    const old = makeChain({ length: 2, leaf: { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') } }).chainDer.map(parseCertificate);
    expect(() => verifyAuthenticTimestamp({ token: makeTimestampToken({ message, tsa }), signature: message, signingChain: old, tsaRoots: roots }))
      .toThrow('timestamp can be after certificate "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" validity period, it was expired at "Fri, 01 Jan 2021 00:00:00 +0000"');
  });
});
