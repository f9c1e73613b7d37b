import { X509Certificate, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VerificationFailedError, VerifierError } from '../../../src/verifier/errors';
import { parseCertificate, parseCertificates } from '../../../src/verifier/x509/certificate';
import { formatGoName } from '../../../src/verifier/x509/name';
import { pemBlocks, toPem } from '../../../src/verifier/x509/pem';
import { checkSignatureFrom } from '../../../src/verifier/x509/signature';
import { der, makeChain, makeCertificate, makeKey, NameAttr } from '../../support/pki';

const FIX = path.join(__dirname, '../../fixtures');
const read = (p: string) => parseCertificates(fs.readFileSync(path.join(FIX, p)));

describe('parseCertificate on upstream fixtures', () => {
  it('Go subject strings', () => {
    expect(read('notation-go/truststore/x509/tsa/test-timestamp/globalsignRoot.cer')[0].subject).toBe('CN=GlobalSign,OU=GlobalSign Root CA - R6,O=GlobalSign');
    expect(read('notation-go/truststore/x509/tsa/test-mismatch/DigiCertTSARootSHA384.cer')[0].subject).toBe('CN=DigiCert Trusted Root G4,OU=www.digicert.com,O=DigiCert Inc,C=US');
    expect(read('notation-core-go/codesigning-chain-cases/codeSigningLeaf.pem')[0].subject).toBe('CN=CodeSigningLeaf');
  });
  it('PEM bundles with several certificates and DER files', () => {
    expect(read('notation-go/truststore/x509/ca/trust-store-with-leaf-certs-in-single-file/RootAndLeafCerts.crt').length).toBe(2);
    const d = read('notation-go/truststore/x509/ca/valid-trust-store/GlobalSign.der');
    expect(d).toHaveLength(1);
    expect(d[0].isSelfSigned).toBe(true);
  });
  it('matches Node X509Certificate on every fixture certificate', () => {
    const files = ['notation-core-go/x509/timestamp_leaf.crt', 'notation-core-go/x509/timestamp_intermediate.crt', 'notation-core-go/x509/timestamp_root.crt',
      'notation-core-go/codesigning-chain-cases/rootCert.pem', 'notation-core-go/codesigning-chain-cases/openSSLMinimum.pem',
      'notation-go/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem', 'aws-signer-roots/aws-signer-notation-root.crt'];
    for (const f of files) {
      const c = read(f)[0];
      const x = new X509Certificate(c.raw);
      expect(c.sha256).toBe(x.fingerprint256.replace(/:/g, '').toLowerCase());
      expect(c.notBefore.getTime()).toBe(new Date(x.validFrom).getTime());
      expect(c.notAfter.getTime()).toBe(new Date(x.validTo).getTime());
      expect(c.serialNumber).toBe(BigInt(`0x${x.serialNumber}`).toString(16));
      expect(c.basicConstraints.ca).toBe(x.ca);
      expect(c.publicKey.equals(x.publicKey)).toBe(true);
      expect(c.isSelfSigned).toBe(x.subject === x.issuer && x.verify(x.publicKey));
    }
  });
  it('AWS Signer root', () => {
    const c = read('aws-signer-roots/aws-signer-notation-root.crt')[0];
    expect(c.sha256).toBe('90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f');
    expect(c.subject).toBe('CN=AWS Signer Code Signing Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US');
    expect([c.keyType, c.curve, c.keySizeBits]).toEqual(['ec', 'P-384', 384]);
  });
  it('timestamp leaf EKU and key usage', () => {
    const c = read('notation-core-go/x509/timestamp_leaf.crt')[0];
    expect(c.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.8']);
    expect(c.extKeyUsageCritical).toBe(true);
    expect(c.keyUsage.bits.digitalSignature).toBe(true);
    expect(c.ocspUrls.length + c.crlUrls.length).toBeGreaterThan(0);
  });
});

describe('parseCertificate on generated certificates', () => {
  const chain = makeChain({
    length: 3,
    keyType: 'rsa2048',
    leaf: { ocspUrl: 'http://127.0.0.1:9/ocsp', crlUrl: ['http://127.0.0.1:9/a.crl', 'http://127.0.0.1:9/b.crl'], deltaCrlUrl: 'http://127.0.0.1:9/d.crl', caIssuersUrl: 'http://127.0.0.1:9/ca.crt', keyUsage: ['digitalSignature', 'contentCommitment'], extKeyUsage: ['codeSigning', '1.2.3.4'], serial: 0xabcdefn },
    intermediates: [{ basicConstraints: { ca: true, pathLen: 0 } }],
  });
  const [leaf, inter, root] = chain.chainDer.map(parseCertificate);
  it('fields', () => {
    expect(leaf.version).toBe(3);
    expect(leaf.serialNumber).toBe('abcdef');
    expect(leaf.subject).toBe('CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US');
    expect(leaf.subjectString).toBe(leaf.subject);
    expect(leaf.issuer).toBe(inter.subject);
    expect(Buffer.from(leaf.issuerRaw).equals(Buffer.from(inter.subjectRaw))).toBe(true);
    expect(leaf.keyUsage).toEqual({ present: true, critical: true, bits: expect.objectContaining({ digitalSignature: true, contentCommitment: true, keyCertSign: false }) });
    expect(leaf.basicConstraints).toEqual({ present: true, critical: true, ca: false });
    expect(inter.basicConstraints).toEqual({ present: true, critical: true, ca: true, pathLen: 0 });
    expect(root.basicConstraints.pathLen).toBeUndefined();
    expect(leaf.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.3', '1.2.3.4']);
    expect(leaf.ocspUrls).toEqual(['http://127.0.0.1:9/ocsp']);
    expect(leaf.caIssuersUrls).toEqual(['http://127.0.0.1:9/ca.crt']);
    expect(leaf.crlUrls).toEqual(['http://127.0.0.1:9/a.crl', 'http://127.0.0.1:9/b.crl']);
    expect(leaf.deltaCrlUrls).toEqual(['http://127.0.0.1:9/d.crl']);
    expect([leaf.keyType, leaf.keySizeBits, leaf.curve]).toEqual(['rsa', 2048, undefined]);
    expect(leaf.signatureAlgorithm.name).toBe('SHA256-RSA');
    expect(leaf.subjectKeyId).toBeDefined();
    expect(Buffer.from(leaf.authorityKeyId!).equals(Buffer.from(inter.subjectKeyId!))).toBe(true);
    expect(root.extKeyUsage).toBeUndefined();
    expect([leaf.isSelfSigned, inter.isSelfSigned, root.isSelfSigned]).toEqual([false, false, true]);
    expect(Buffer.from(leaf.tbs).equals(Buffer.from(new X509Certificate(leaf.raw).raw.subarray(4, 4 + leaf.tbs.length)))).toBe(true);
  });
  it('checkSignatureFrom', () => {
    expect(checkSignatureFrom(leaf, inter)).toBeUndefined();
    expect(checkSignatureFrom(inter, root)).toBeUndefined();
    expect(checkSignatureFrom(leaf, root)).toBe('crypto/rsa: verification error');
    expect(checkSignatureFrom(inter, leaf)).toBe('x509: invalid signature: parent certificate cannot sign this kind of certificate');
  });
  test.each(['p256', 'p384', 'p521', 'rsa3072', 'rsa4096', 'ed25519'] as const)('%s keys', (keyType) => {
    const c = makeChain({ length: 2, keyType }).chainDer.map(parseCertificate);
    expect(checkSignatureFrom(c[0], c[1])).toBeUndefined();
    expect(c[1].isSelfSigned).toBe(true);
  });
  it('key type mismatch message', () => {
    const ec = makeChain({ length: 2, keyType: 'p256' }).chainDer.map(parseCertificate);
    expect(checkSignatureFrom(leaf, ec[1])).toBe('x509: signature algorithm specifies an RSA public key, but have public key of type *ecdsa.PublicKey');
  });
  it('a self-issued certificate with a bad signature is not self-signed', () => {
    const c = parseCertificate(makeChain({ length: 1, leaf: { badSignature: true } }).chainDer[0]);
    expect(c.isSelfSigned).toBe(false);
  });
  it('version 1 certificates', () => {
    const kp = makeKey('p256', 'v1');
    const c = parseCertificate(makeCertificate({ subject: 'CN=v1,O=x,ST=WA,C=US', keyPair: kp, version: 1 }).der);
    expect(c.version).toBe(1);
    expect(c.extensions).toEqual([]);
    expect(c.isSelfSigned).toBe(true);
  });
});

describe('Go pkix.Name.String() compatibility', () => {
  const subjectOf = (name: string | NameAttr[][]) => parseCertificate(makeChain({ length: 1, leaf: { subject: name } }).chainDer[0]).subject;
  it('escaping', () => {
    expect(subjectOf([[{ type: 'C', value: 'US' }], [{ type: 'O', value: ' a,b+c"d\\e<f>g;h ' }], [{ type: 'CN', value: '#x#' }]]))
      .toBe('CN=\\#x#,O=\\ a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\ ,C=US');
  });
  it('reorders known attributes and appends unknown ones (reversed) at the end', () => {
    // DER order: CN, O, DC, C, UID, ST
    const name: NameAttr[][] = [[{ type: 'CN', value: 'n' }], [{ type: 'O', value: 'o' }], [{ type: 'DC', value: 'dc' }], [{ type: 'C', value: 'US' }], [{ type: 'UID', value: 'u' }], [{ type: 'ST', value: 'WA' }]];
    expect(subjectOf(name)).toBe('CN=n,O=o,ST=WA,C=US,0.9.2342.19200300.100.1.1=#130175,0.9.2342.19200300.100.1.25=#13026463');
  });
  it('multi-valued and repeated attributes', () => {
    expect(subjectOf([[{ type: 'C', value: 'US' }, { type: 'O', value: 'o1' }], [{ type: 'O', value: 'o2' }], [{ type: 'CN', value: 'a' }], [{ type: 'CN', value: 'b' }]]))
      .toBe('CN=b,O=o1+O=o2,C=US');
    expect(subjectOf([[{ type: 'SERIALNUMBER', value: '123' }, { type: 'STREET', value: 's' }, { type: 'POSTALCODE', value: '98101' }, { type: 'L', value: 'Seattle' }]]))
      .toBe('SERIALNUMBER=123,POSTALCODE=98101,STREET=s,L=Seattle');
  });
  it('formatGoName directly', () => {
    expect(formatGoName([])).toBe('');
    expect(formatGoName([{ oid: '2.5.4.12', value: 'Dr & co', rdn: 0 }])).toBe('2.5.4.12=#0c074472202620636f');
  });
});

describe('malformed certificates', () => {
  const good = makeChain({ length: 1 }).chainDer[0];
  const expectMalformed = (d: Uint8Array) => {
    try {
      parseCertificate(d);
    } catch (e) {
      expect(e).toBeInstanceOf(VerificationFailedError);
      expect((e as VerificationFailedError).code).toBe('INVALID_CERTIFICATE_CHAIN');
      expect((e as Error).message).toMatch(/^x509: malformed certificate/);
      return;
    }
    throw new Error('expected malformed');
  };
  it('structural errors', () => {
    expectMalformed(new Uint8Array(0));
    expectMalformed(good.subarray(0, good.length - 1));
    expectMalformed(new Uint8Array([...good, 0]));
    expectMalformed(der.seq(der.int(1)));
    expectMalformed(der.seq(der.seq(), der.seq(), der.bit(new Uint8Array(1))));
  });
  it('inner/outer algorithm mismatch and duplicate extensions', () => {
    const kp = makeKey('p256', 'dup');
    const dup = makeCertificate({ subject: 'CN=d,O=x,ST=WA,C=US', keyPair: kp, keyUsage: ['digitalSignature'], extraExtensions: [{ oid: '2.5.29.15', value: der.bit(new Uint8Array([0x80]), 7) }] }).der;
    expectMalformed(dup);
    const x = Buffer.from(good);
    // change the outer AlgorithmIdentifier OID's last byte (ecdsa-with-SHA256 -> SHA384)
    const i = x.lastIndexOf(Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
    x[i + 9] = 0x03;
    expectMalformed(new Uint8Array(x));
  });
  it('random corruption never escapes as a non-verifier error', () => {
    for (let n = 0; n < 300; n++) {
      const x = Buffer.from(good);
      const pos = randomBytes(2).readUInt16BE() % x.length;
      x[pos] ^= 1 + (randomBytes(1)[0] % 255);
      try {
        parseCertificate(new Uint8Array(x));
      } catch (e) {
        expect(e).toBeInstanceOf(VerifierError);
      }
    }
  });
  it('PEM helpers', () => {
    const pem = toPem(good);
    expect(pemBlocks(pem + pem)).toHaveLength(2);
    expect(() => parseCertificates('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----')).toThrow(VerificationFailedError);
    expect(() => parseCertificates('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).toThrow(/no CERTIFICATE PEM block/);
  });
});
