import { createHash, X509Certificate } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import {
  AWS_SIGNER_GOVCLOUD_ROOT_PEM,
  AWS_SIGNER_GOVCLOUD_ROOT_SHA256,
  AWS_SIGNER_GOVCLOUD_TRUST_STORE,
  AWS_SIGNER_ROOT_PEM,
  AWS_SIGNER_ROOT_SHA256,
  AWS_SIGNER_TRUST_STORE,
  AWS_SIGNER_TRUST_STORES,
} from '../../../src/verifier/signer';

const sha256 = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

describe('AWS Signer roots', () => {
  test.each([
    ['aws', AWS_SIGNER_ROOT_PEM, AWS_SIGNER_ROOT_SHA256, '90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f',
      'C=US\nO=AWS\nOU=Cryptography\nST=WA\nCN=AWS Signer Code Signing Root CA G1', 'aws-signer-notation-root.crt'],
    ['aws-us-gov', AWS_SIGNER_GOVCLOUD_ROOT_PEM, AWS_SIGNER_GOVCLOUD_ROOT_SHA256, '673653ab76f41a10546cdeb4107ecd6df2c15c2c9a0d32ed97d271b4436fc3e8',
      'C=US\nO=AWS\nOU=Cryptography\nST=WA\nCN=AWS Signer Code Signing GovCloud (US) Root CA G1', 'aws-us-gov-signer-notation-root.crt'],
  ])('%s root: published SHA-256 fingerprint, subject, self-signed P-384 CA', (_p, pem, constFp, publishedFp, subject, file) => {
    expect(sha256(pem)).toBe(publishedFp);
    expect(constFp).toBe(publishedFp);
    const cert = new X509Certificate(pem);
    expect(cert.subject).toBe(subject);
    expect(cert.issuer).toBe(subject);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    // identical to the vendored file next to the module and to the test fixture copy
    const vendored = readFileSync(join(__dirname, '../../../src/verifier/signer/roots', file), 'utf8');
    const fixture = readFileSync(join(__dirname, '../../fixtures/aws-signer-roots', file), 'utf8');
    expect(sha256(vendored)).toBe(publishedFp);
    expect(sha256(fixture)).toBe(publishedFp);
    expect(pem.trim()).toBe(vendored.trim());
  });

  test('store names', () => {
    expect(AWS_SIGNER_TRUST_STORE).toBe('aws-signer-ts');
    expect(AWS_SIGNER_GOVCLOUD_TRUST_STORE).toBe('aws-us-gov-signer-ts');
    expect(Object.keys(AWS_SIGNER_TRUST_STORES).sort()).toEqual(['aws-signer-ts', 'aws-us-gov-signer-ts']);
  });
});
