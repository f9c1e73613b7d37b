import * as fs from 'node:fs';
import * as path from 'node:path';
import { VerificationFailedError } from '../../../src/verifier/errors';
import { goUtcString, rfc1123z } from '../../../src/verifier/text/go-time';
import { CertificateInfo, parseCertificate, parseCertificates } from '../../../src/verifier/x509/certificate';
import {
  checkValidityAt, signatureAlgorithmForKey, validateCodeSigningCa, validateCodeSigningChain,
  validateCodeSigningLeaf, validateTimestampingChain,
} from '../../../src/verifier/x509/chain';
import { awsSignerShaped, ChainOptions, makeChain } from '../../support/pki';

const CASES_DIR = path.join(__dirname, '../../fixtures/notation-core-go/codesigning-chain-cases');
const TS_DIR = path.join(__dirname, '../../fixtures/notation-core-go/x509');
const cases = JSON.parse(fs.readFileSync(path.join(CASES_DIR, 'cases.json'), 'utf8'));

const load = (dir: string, f: string): CertificateInfo => parseCertificates(fs.readFileSync(path.join(dir, f)))[0];

function errorOf(fn: () => void): VerificationFailedError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(VerificationFailedError);
    return e as VerificationFailedError;
  }
}

describe('notation-core-go code-signing cases (cases.json)', () => {
  const all: any[] = cases.cases;
  it('has all 27 cases', () => expect(all).toHaveLength(27));
  test.each(all.map((c, i) => [i, c.fn, c.expect, c] as const))('#%i %s -> %s', (_i, fn, expected, c) => {
    let run: () => void;
    if (fn === 'chain') {
      const chain = (c.chain as string[]).map((f) => load(CASES_DIR, f));
      const signingTime = c.signingTime === undefined ? undefined : c.signingTime === 'now' ? new Date() : new Date(c.signingTime);
      run = () => validateCodeSigningChain(chain, { signingTime });
    } else if (fn === 'ca') {
      const cert = load(CASES_DIR, c.cert);
      run = () => validateCodeSigningCa(cert, c.expectedPathLen);
    } else {
      const cert = load(CASES_DIR, c.cert);
      run = () => validateCodeSigningLeaf(cert);
    }
    const err = errorOf(run);
    if ((expected as string).startsWith('valid')) {
      expect(err).toBeUndefined();
    } else {
      expect(err?.message).toBe((expected as string).replace(/^error: /, ''));
    }
  });
});

describe('notation-core-go timestamping chain cases', () => {
  const tsCases: any[] = cases['timestamping_chain_cases (x509/timestamp_cert_validations_test.go; files in ../x509/)'];
  test.each(tsCases.map((c, i) => [i, c.expect, c] as const))('#%i -> %s', (_i, expected, c) => {
    const chain = (c.chain as string[]).map((f) => load(TS_DIR, f));
    const err = errorOf(() => validateTimestampingChain(chain));
    if (expected === 'valid') {
      expect(err).toBeUndefined();
    } else {
      expect(err).toBeDefined();
      let pos = 0;
      for (const piece of (expected as string).replace(/^error: /, '').split('...').map((s) => s.trim()).filter(Boolean)) {
        const at = err!.message.indexOf(piece, pos);
        expect(at).toBeGreaterThanOrEqual(pos);
        pos = at + piece.length;
      }
    }
  });
  it('a code-signing leaf is not a timestamping leaf', () => {
    const chain = makeChain({ length: 2 }).chainDer.map(parseCertificate);
    expect(errorOf(() => validateTimestampingChain(chain))?.message).toMatch(/must have and only have Timestamping as extended key usage/);
    const ts = makeChain({ length: 2, leaf: { extKeyUsage: ['timeStamping'], extKeyUsageCritical: true } }).chainDer.map(parseCertificate);
    expect(errorOf(() => validateTimestampingChain(ts))).toBeUndefined();
    const nc = makeChain({ length: 2, leaf: { extKeyUsage: ['timeStamping'], extKeyUsageCritical: false } }).chainDer.map(parseCertificate);
    expect(errorOf(() => validateTimestampingChain(nc))?.message).toMatch(/must have extended key usage extension marked as critical/);
  });
});

const parsed = (o: ChainOptions) => makeChain(o).chainDer.map(parseCertificate);
const msg = (o: ChainOptions) => errorOf(() => validateCodeSigningChain(parsed(o)))?.message;

describe('generated chains', () => {
  test.each([1, 2, 3, 4] as const)('valid chain of length %i', (length) => {
    expect(msg({ length })).toBeUndefined();
  });
  test.each(['rsa2048', 'rsa3072', 'p256', 'p384', 'p521'] as const)('valid %s chain', (keyType) => {
    expect(msg({ length: 3, keyType })).toBeUndefined();
  });
  it('valid AWS-Signer-shaped chain', () => {
    const chain = parsed(awsSignerShaped());
    expect(chain).toHaveLength(4);
    expect(chain[0].subject).toBe('CN=AWS Signer,OU=AWS Cryptography,O=AWS,L=Seattle,ST=WA,C=US');
    expect(signatureAlgorithmForKey(chain[0])).toBe('ES384');
    expect(errorOf(() => validateCodeSigningChain(chain))).toBeUndefined();
  });
  it('rejects leaf without digitalSignature', () => {
    expect(msg({ leaf: { keyUsage: ['contentCommitment'] } })).toBe('the certificate with subject "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" is invalid. The key usage must have the bit positions for "Digital Signature" set');
  });
  it('accepts contentCommitment next to digitalSignature, rejects keyEncipherment', () => {
    expect(msg({ leaf: { keyUsage: ['digitalSignature', 'contentCommitment'] } })).toBeUndefined();
    expect(msg({ leaf: { keyUsage: ['digitalSignature', 'keyEncipherment', 'decipherOnly'] } })).toMatch(/"Digital Signature" only, but found "KeyEncipherment", "DecipherOnly"$/);
  });
  it('rejects non-critical leaf key usage and missing key usage', () => {
    expect(msg({ leaf: { keyUsageCritical: false } })).toMatch(/: key usage extension must be marked critical$/);
    expect(msg({ leaf: { keyUsage: null } })).toMatch(/: key usage extension must be present$/);
  });
  it('rejects a CA leaf', () => {
    expect(msg({ leaf: { basicConstraints: { ca: true } } })).toMatch(/if the basic constraints extension is present, the ca field must be set to false/);
  });
  it('accepts leaf without basicConstraints / EKU, and with anyExtendedKeyUsage', () => {
    expect(msg({ leaf: { basicConstraints: null, extKeyUsage: null } })).toBeUndefined();
    expect(msg({ leaf: { extKeyUsage: ['any', 'codeSigning'] } })).toBeUndefined();
  });
  test.each([['serverAuth', 'ServerAuth'], ['clientAuth', 'ClientAuth'], ['emailProtection', 'EmailProtection'], ['timeStamping', 'Timestamping'], ['ocspSigning', 'OCSPSigning']])('rejects leaf EKU %s', (eku, name) => {
    expect(msg({ leaf: { extKeyUsage: ['codeSigning', eku] } })).toMatch(new RegExp(`extended key usage must not contain ${name} eku$`));
  });
  it('rejects unsupported key sizes', () => {
    expect(msg({ leaf: { keyType: 'rsa1024' } })).toMatch(/: rsa key size 1024 bits is not supported$/);
    expect(msg({ leaf: { keyType: 'p224' } })).toMatch(/: ecdsa key size 224 bits is not supported$/);
  });
  it('rejects a CA without cA / keyCertSign / critical key usage', () => {
    expect(msg({ intermediates: [{ basicConstraints: null }] })).toMatch(/x509: invalid signature: parent certificate cannot sign this kind of certificate$/);
    expect(msg({ root: { keyUsage: ['cRLSign'] } })).toMatch(/parent certificate cannot sign this kind of certificate$/);
    expect(msg({ root: { keyUsageCritical: false } })).toBe('certificate with subject "CN=Test Root CA,O=Notary Test,ST=WA,C=US": key usage extension must be marked critical');
    expect(msg({ root: { keyUsage: null } })).toBe('certificate with subject "CN=Test Root CA,O=Notary Test,ST=WA,C=US": key usage extension must be present');
  });
  it('does not require basicConstraints to be critical (notation-go)', () => {
    expect(msg({ root: { basicConstraints: { ca: true, critical: false } }, intermediates: [{ basicConstraints: { ca: true, critical: false } }] })).toBeUndefined();
  });
  it('enforces pathLen', () => {
    expect(msg({ length: 4, root: { basicConstraints: { ca: true, pathLen: 0 } } })).toBe('certificate with subject "CN=Test Root CA,O=Notary Test,ST=WA,C=US": expected path length of 2 but certificate has path length 0 instead');
    expect(msg({ length: 4, root: { basicConstraints: { ca: true, pathLen: 2 } }, intermediates: [{ basicConstraints: { ca: true, pathLen: 0 } }, { basicConstraints: { ca: true, pathLen: 1 } }] })).toBeUndefined();
  });
  it('rejects a self-signed intermediate', () => {
    expect(msg({ length: 4, intermediates: [{}, { selfSigned: true }] })).toMatch(/^intermediate certificate with subject "CN=Test Intermediate CA 2,O=Notary Test,ST=WA,C=US" is self-signed/);
  });
  it('rejects a bad signature anywhere in the chain', () => {
    expect(msg({ leaf: { badSignature: true } })).toMatch(/^invalid certificates or certificate with subject "CN=Test Leaf.*Error: x509: ECDSA verification failure$/);
    expect(msg({ keyType: 'rsa2048', root: { badSignature: true } })).toMatch(/^root certificate with subject .* is invalid or not self-signed\..*Error: crypto\/rsa: verification error$/);
  });
  it('rejects an issuer name mismatch', () => {
    expect(msg({ leaf: { issuer: 'CN=Someone Else,O=X,ST=WA,C=US' } })).toBe('certificate with subject "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" is not issued by "CN=Test Intermediate CA 1,O=Notary Test,ST=WA,C=US"');
  });
  it('rejects SHA-1 and MD5 signed certificates in multi-cert chains', () => {
    expect(msg({ keyType: 'rsa2048', leaf: { signatureHash: 'sha1' } })).toMatch(/Error: x509: cannot verify signature: insecure algorithm SHA1-RSA$/);
    expect(msg({ keyType: 'rsa2048', root: { signatureHash: 'sha1' } })).toMatch(/Error: x509: cannot verify signature: insecure algorithm SHA1-RSA$/);
    expect(msg({ keyType: 'rsa2048', leaf: { signatureHash: 'md5' } })).toMatch(/insecure algorithm MD5-RSA$/);
  });
  it('rejects a non-self-signed single cert and a self-signed leaf in a longer chain', () => {
    const c = parsed({ length: 2 });
    expect(errorOf(() => validateCodeSigningChain([c[0]]))?.message).toMatch(/^invalid self-signed certificate\. subject: "CN=Test Leaf.*Error: x509: ECDSA verification failure$/);
    const self = parsed({ length: 1, leaf: { basicConstraints: { ca: true } } });
    expect(errorOf(() => validateCodeSigningChain(self))?.message).toMatch(/^invalid self-signed certificate\. Error: certificate with subject .* the ca field must be set to false$/);
    const root = parsed({ length: 2 })[1];
    expect(errorOf(() => validateCodeSigningChain([root, root]))?.message).toMatch(/^leaf certificate with subject "CN=Test Root CA.*is self-signed/);
  });
  it('rejects an empty chain', () => {
    expect(errorOf(() => validateCodeSigningChain([]))?.message).toBe('certificate chain must contain at least one certificate');
  });
  it('signing time outside validity (ValidateCodeSigningCertChain signingTime)', () => {
    const nb = new Date('2030-01-01T00:00:00Z');
    const chain = parsed({ leaf: { notBefore: nb, notAfter: new Date('2031-01-01T00:00:00Z') } });
    const err = errorOf(() => validateCodeSigningChain(chain, { signingTime: new Date('2029-06-01T12:00:00.5Z') }));
    expect(err?.message).toBe('certificate with subject "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" was invalid at signing time of 2029-06-01 12:00:00.5 +0000 UTC. Certificate is valid from [2030-01-01 00:00:00 +0000 UTC] to [2031-01-01 00:00:00 +0000 UTC]');
    expect(err?.code).toBe('CERTIFICATE_NOT_VALID');
  });
});

describe('checkValidityAt', () => {
  const nb = new Date('2024-06-15T07:30:31Z');
  const na = new Date('2024-06-18T07:30:31Z');
  const chain = parsed(awsSignerShaped({ signingTime: new Date('2024-06-15T08:30:31Z') })).map((c) => c);
  const leafOnly = parsed({ length: 2, leaf: { notBefore: nb, notAfter: na } }).slice(0, 1);
  it('signing mode', () => {
    expect(() => checkValidityAt(chain, new Date('2024-06-16T00:00:00Z'), 'signing')).not.toThrow();
    const err = errorOf(() => checkValidityAt(chain, new Date('2024-07-01T00:00:00Z'), 'signing'));
    expect(err?.message).toBe('certificate "CN=AWS Signer,OU=AWS Cryptography,O=AWS,L=Seattle,ST=WA,C=US" was not valid when the digital signature was produced at "Mon, 01 Jul 2024 00:00:00 +0000"');
    expect(err?.code).toBe('CERTIFICATE_NOT_VALID');
    expect(errorOf(() => checkValidityAt(chain, new Date('2024-07-01T00:00:00Z'), 'signing', { utcOffsetMinutes: -420 }))?.message)
      .toMatch(/produced at "Sun, 30 Jun 2024 17:00:00 -0700"$/);
  });
  it('boundaries are inclusive', () => {
    expect(() => checkValidityAt(leafOnly, nb, 'now')).not.toThrow();
    expect(() => checkValidityAt(leafOnly, na, 'now')).not.toThrow();
    expect(() => checkValidityAt(leafOnly, new Date(na.getTime() + 1000), 'now')).toThrow();
  });
  it('now mode', () => {
    expect(errorOf(() => checkValidityAt(leafOnly, new Date('2024-07-01T00:00:00Z'), 'now'))?.message)
      .toBe('verification time is after certificate "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" validity period, it was expired at "Tue, 18 Jun 2024 07:30:31 +0000"');
    expect(errorOf(() => checkValidityAt(leafOnly, new Date('2024-06-01T00:00:00Z'), 'now'))?.message)
      .toBe('verification time is before certificate "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" validity period, it will be valid from "Sat, 15 Jun 2024 07:30:31 +0000"');
  });
  it('formats like Go', () => {
    expect(rfc1123z(new Date('2024-06-18T07:30:31Z'))).toBe('Tue, 18 Jun 2024 07:30:31 +0000');
    expect(goUtcString(new Date('2021-07-07T20:48:42Z'))).toBe('2021-07-07 20:48:42 +0000 UTC');
  });
});

describe('signatureAlgorithmForKey', () => {
  test.each([
    ['rsa2048', 'PS256'], ['rsa3072', 'PS384'], ['rsa4096', 'PS512'], ['p256', 'ES256'], ['p384', 'ES384'], ['p521', 'ES512'],
  ] as const)('%s -> %s', (keyType, alg) => {
    const leaf = parsed({ length: 1, keyType })[0];
    expect(signatureAlgorithmForKey(leaf)).toBe(alg);
  });
  it('errors', () => {
    expect(() => signatureAlgorithmForKey({ keyType: 'rsa', keySizeBits: 8192 })).toThrow('rsa key size 8192 bits is not supported');
    expect(() => signatureAlgorithmForKey({ keyType: 'ec', keySizeBits: 224, curve: 'P-224' })).toThrow('ecdsa key size 224 bits is not supported');
    expect(() => signatureAlgorithmForKey(parsed({ length: 1, keyType: 'ed25519' })[0])).toThrow('unsupported public key type');
  });
});
