import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigurationError } from '../../../src/verifier/errors';
import { TrustStoreTypeName } from '../../../src/verifier/types';
import { DirectoryTrustStore, InMemoryTrustStore } from '../../../src/verifier/x509/truststore';
import { makeChain } from '../../support/pki';

const FIXTURE_ROOT = path.join(__dirname, '../../fixtures/notation-go/truststore');

async function failure(p: Promise<unknown>): Promise<ConfigurationError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    expect((e as ConfigurationError).code).toBe('INVALID_TRUST_STORE');
    return e as ConfigurationError;
  }
  throw new Error('expected a failure');
}

describe('DirectoryTrustStore with notation-go fixtures', () => {
  const store = new DirectoryTrustStore(FIXTURE_ROOT);

  test.each([
    ['ca', 'valid-trust-store', 6],
    ['ca', 'valid-trust-store-2', 2],
    ['ca', 'valid-trust-store-self-signed', 1],
    ['signingAuthority', 'valid-trust-store', 3],
    ['signingAuthority', 'valid-trust-store-2', 2],
    ['tsa', 'test-timestamp', 1],
    ['tsa', 'test-mismatch', 1],
  ] as const)('%s:%s loads %i certificates', async (type, name, count) => {
    const certs = await store.getCertificates(type, name);
    expect(certs).toHaveLength(count);
  });

  it('valid-trust-store contains NotationTestRoot and the self-signed wabbit-networks leaf', async () => {
    const certs = await store.getCertificates('ca', 'valid-trust-store');
    const subjects = certs.map((c) => c.subject);
    expect(subjects).toContain('CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US');
    expect(subjects.some((s) => s.includes('Notation Test Root'))).toBe(true);
  });

  it('rejects a malformed file', async () => {
    const e = await failure(store.getCertificates('ca', 'trust-store-with-invalid-certs'));
    expect(e.message).toMatch(/^failed to read the trusted certificate invalid in trust store trust-store-with-invalid-certs of type ca: x509: malformed certificate/);
  });

  it('rejects a leaf that is neither CA nor self-signed', async () => {
    const e = await failure(store.getCertificates('ca', 'trust-store-with-leaf-certs'));
    expect(e.message).toBe('failed to validate the trusted certificate non-ca.crt in trust store trust-store-with-leaf-certs of type ca: certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed signing certificate');
    const e2 = await failure(store.getCertificates('ca', 'trust-store-with-leaf-certs-in-single-file'));
    expect(e2.message).toMatch(/RootAndLeafCerts\.crt .* is not a CA certificate or self-signed signing certificate$/);
  });

  it('tsa stores need self-signed root CAs', async () => {
    const e = await failure(store.getCertificates('tsa', 'test-nonCA'));
    expect(e.message).toBe('trusted certificate wabbit-networks.io.crt in trust store test-nonCA of type tsa is invalid: certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate');
    const e2 = await failure(store.getCertificates('tsa', 'test-nonSelfIssued'));
    expect(e2.message).toBe('trusted certificate nonSelfIssued.crt in trust store test-nonSelfIssued of type tsa is invalid: certificate with subject "CN=Notation Test Revokable RSA Chain Cert 2,O=Notary,L=Seattle,ST=WA,C=US" is not a root CA certificate: issuer (CN=Notation Test Revokable RSA Chain Cert Root,O=Notary,L=Seattle,ST=WA,C=US) and subject (CN=Notation Test Revokable RSA Chain Cert 2,O=Notary,L=Seattle,ST=WA,C=US) are not the same');
  });

  it('missing store, bad type, bad name', async () => {
    expect((await failure(store.getCertificates('ca', 'nope'))).message).toBe('the trust store "nope" of type "ca" does not exist');
    expect((await failure(store.getCertificates('bogus' as TrustStoreTypeName, 'x'))).message).toBe('unsupported trust store type: bogus');
    expect((await failure(store.getCertificates('ca', '../ca'))).message).toBe('trust store name needs to follow [a-zA-Z0-9_.-]+ format, ../ca is invalid');
    expect((await failure(store.getCertificates('ca', ''))).message).toMatch(/format,  is invalid$/);
  });
});

describe('DirectoryTrustStore on generated layouts', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const storeDir = (type: string, name: string) => {
    const d = path.join(root, 'x509', type, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  const globalSign = fs.readFileSync(path.join(FIXTURE_ROOT, 'x509/trust-store-with-directories/GlobalSignRootCA.crt'));

  it('rejects a sub-directory', async () => {
    const d = storeDir('ca', 'with-dir');
    fs.writeFileSync(path.join(d, 'GlobalSignRootCA.crt'), globalSign);
    fs.mkdirSync(path.join(d, 'sub-dir'));
    const e = await failure(new DirectoryTrustStore(root).getCertificates('ca', 'with-dir'));
    expect(e.message).toBe('trusted certificate sub-dir in trust store with-dir of type ca is not a regular file (directories or symlinks are not supported)');
  });

  it('rejects a symlinked certificate and a symlinked store directory', async () => {
    const d = storeDir('ca', 'with-link');
    fs.writeFileSync(path.join(d, 'GlobalSignRootCA.crt'), globalSign);
    fs.symlinkSync(path.join(d, 'GlobalSignRootCA.crt'), path.join(d, 'link.crt'));
    expect((await failure(new DirectoryTrustStore(root).getCertificates('ca', 'with-link'))).message).toMatch(/link\.crt .* is not a regular file/);
    const real = storeDir('ca', 'real');
    fs.writeFileSync(path.join(real, 'a.crt'), globalSign);
    fs.symlinkSync(real, path.join(root, 'x509', 'ca', 'linked'));
    expect((await failure(new DirectoryTrustStore(root).getCertificates('ca', 'linked'))).message).toMatch(/^the trust store linked of type ca with path .* is not a regular directory \(symlinks are not supported\)$/);
  });

  it('empty store is an error; an empty file too', async () => {
    storeDir('signingAuthority', 'empty');
    expect((await failure(new DirectoryTrustStore(root).getCertificates('signingAuthority', 'empty'))).message).toBe('no x509 certificates were found in trust store "empty" of type "signingAuthority"');
    fs.writeFileSync(path.join(storeDir('ca', 'emptyfile'), 'a.pem'), '');
    expect((await failure(new DirectoryTrustStore(root).getCertificates('ca', 'emptyfile'))).message).toMatch(/^failed to read the trusted certificate a\.pem/);
  });

  it('loads PEM bundles and DER regardless of extension; accepts intermediates (CA)', async () => {
    const chain = makeChain({ length: 3 });
    const d = storeDir('ca', 'mixed');
    fs.writeFileSync(path.join(d, 'bundle.txt'), chain.certs[1].pem + chain.rootPem);
    fs.writeFileSync(path.join(d, 'root.bin'), chain.chainDer[2]);
    const certs = await new DirectoryTrustStore(root).getCertificates('ca', 'mixed');
    expect(certs.map((c) => c.subject)).toEqual([
      'CN=Test Intermediate CA 1,O=Notary Test,ST=WA,C=US', 'CN=Test Root CA,O=Notary Test,ST=WA,C=US', 'CN=Test Root CA,O=Notary Test,ST=WA,C=US',
    ]);
    // tsa stores refuse an intermediate
    fs.writeFileSync(path.join(storeDir('tsa', 'inter'), 'i.pem'), chain.certs[1].pem);
    expect((await failure(new DirectoryTrustStore(root).getCertificates('tsa', 'inter'))).message).toMatch(/is not a root CA certificate: crypto|is not a root CA certificate: x509/);
  });

  it('caches parsed certificates, but not failures', async () => {
    const chain = makeChain({ length: 2 });
    const store = new DirectoryTrustStore(root);
    expect((await failure(store.getCertificates('ca', 'later'))).message).toMatch(/does not exist/);
    const d = storeDir('ca', 'later');
    fs.writeFileSync(path.join(d, 'root.pem'), chain.rootPem);
    const first = await store.getCertificates('ca', 'later');
    fs.rmSync(path.join(d, 'root.pem'));
    const second = await store.getCertificates('ca', 'later');
    expect(second).toHaveLength(1);
    expect(second[0].raw).toEqual(first[0].raw);
  });
});

describe('InMemoryTrustStore', () => {
  const chain = makeChain({ length: 3 });
  it('returns the parsed bundle', async () => {
    const store = new InMemoryTrustStore({ 'signingAuthority:aws-signer-ts': chain.rootPem, 'ca:acme': chain.certs[1].pem + chain.rootPem });
    expect(await store.getCertificates('signingAuthority', 'aws-signer-ts')).toHaveLength(1);
    expect(await store.getCertificates('ca', 'acme')).toHaveLength(2);
    expect((await failure(store.getCertificates('ca', 'aws-signer-ts'))).message).toBe('the trust store "aws-signer-ts" of type "ca" does not exist');
  });
  it('validates content lazily with notation messages', async () => {
    const store = new InMemoryTrustStore({ 'ca:leaf': chain.certs[0].pem, 'ca:garbage': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'ca:empty': ' ' });
    expect((await failure(store.getCertificates('ca', 'leaf'))).message).toMatch(/is not a CA certificate or self-signed signing certificate$/);
    expect((await failure(store.getCertificates('ca', 'garbage'))).message).toMatch(/^failed to read the trusted certificate ca:garbage in trust store garbage of type ca: x509: malformed certificate/);
    expect((await failure(store.getCertificates('ca', 'empty'))).message).toBe('no x509 certificates were found in trust store "empty" of type "ca"');
  });
  it('rejects bad keys eagerly', () => {
    expect(() => new InMemoryTrustStore({ nocolon: 'x' })).toThrow(ConfigurationError);
    expect(() => new InMemoryTrustStore({ 'xyz:name': 'x' })).toThrow('unsupported trust store type: xyz');
    expect(() => new InMemoryTrustStore({ 'ca:bad/name': 'x' })).toThrow('trust store name needs to follow [a-zA-Z0-9_.-]+ format, bad/name is invalid');
  });
});
