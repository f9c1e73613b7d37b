/**
 * One rule for trust-store certificates at synth (TrustStore.fromPem) and at runtime (the engine's trust-store
 * loader), checked with the same certificates at both layers and at the rule itself.
 */
import { TrustStore, TrustStoreType } from '../src';
import { makeCertificate, makeChain, makeKey } from './support/pki';
import { parseCertificate } from '../src/verifier/x509/certificate';
import { pemBlocks } from '../src/verifier/x509/pem';
import { checkTrustStoreCertificate } from '../src/verifier/x509/trust-store-rules';
import { InMemoryTrustStore } from '../src/verifier/x509/truststore';

const chain = makeChain({ length: 3, keySlot: 'tsr' });
const selfSignedNonCa = makeChain({ length: 1, keySlot: 'tsr-ss' }).certs[0];
const rootKey = makeKey('p256', 'tsr-v1');
const ROOT_SUBJECT = 'CN=Test TSA Root,O=Notary Test,ST=WA,C=US';

/** name, certificate PEM, problem in a tsa store (undefined = accepted), problem in a ca store. */
const CASES: [string, string, RegExp | undefined, RegExp | undefined][] = [
  ['a self-signed root CA', chain.rootPem, undefined, undefined],
  ['a non-CA self-signed certificate', selfSignedNonCa.pem,
    /is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate$/, undefined],
  ['a CA that is not self-signed (intermediate)', chain.certs[1].pem,
    /"CN=Test Intermediate CA 1,O=Notary Test,ST=WA,C=US" is not a root CA certificate: x509: ECDSA verification failure$/, undefined],
  ['a leaf (neither CA nor self-signed)', chain.certs[0].pem,
    /"CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed signing certificate$/,
    /"CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed signing certificate$/],
  ['a self-signed v1 root (Go accepts a v1 parent)',
    makeCertificate({ subject: ROOT_SUBJECT, keyPair: rootKey, version: 1 }).pem, undefined, undefined],
  ['a self-signed CA root signed with SHA-1',
    makeCertificate({ subject: ROOT_SUBJECT, keyPair: rootKey, basicConstraints: { ca: true }, keyUsage: ['keyCertSign'], signatureHash: 'sha1' }).pem,
    /is not a root CA certificate: x509: cannot verify signature: insecure algorithm ECDSA-SHA1$/, undefined],
  ['a self-signed CA root whose key usage lacks keyCertSign',
    makeCertificate({ subject: ROOT_SUBJECT, keyPair: rootKey, basicConstraints: { ca: true }, keyUsage: ['digitalSignature'] }).pem,
    /is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate$/, undefined],
];

async function runtimeProblem(type: 'tsa' | 'ca', pem: string): Promise<string | undefined> {
  try {
    await new InMemoryTrustStore({ [`${type}:s`]: pem }).getCertificates(type, 's');
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function synthProblem(type: TrustStoreType, pem: string): string | undefined {
  try {
    TrustStore.fromPem(type, 's', pem);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The synth wording of the tsa rule says "self-signed root CA"; the reason after it is the engine's. */
const synthWording = (re: RegExp) => new RegExp(re.source.replace('is not a root CA certificate', 'is not a self-signed root CA certificate'));

describe.each(CASES)('%s', (_name, pem, tsaProblem, caProblem) => {
  test('the rule', () => {
    const cert = parseCertificate(pemBlocks(pem)[0]);
    const tsa = checkTrustStoreCertificate('tsa', cert);
    const ca = checkTrustStoreCertificate('ca', cert);
    if (tsaProblem) expect(tsa?.message).toMatch(tsaProblem);
    else expect(tsa).toBeUndefined();
    if (caProblem) expect(ca?.message).toMatch(caProblem);
    else expect(ca).toBeUndefined();
    expect(checkTrustStoreCertificate('signingAuthority', cert)).toEqual(ca);
  });

  test('runtime loader', async () => {
    const tsa = await runtimeProblem('tsa', pem);
    const ca = await runtimeProblem('ca', pem);
    if (tsaProblem) expect(tsa).toMatch(tsaProblem);
    else expect(tsa).toBeUndefined();
    if (caProblem) expect(ca).toMatch(caProblem);
    else expect(ca).toBeUndefined();
  });

  test('synth (TrustStore.fromPem)', () => {
    const tsa = synthProblem(TrustStoreType.TSA, pem);
    const ca = synthProblem(TrustStoreType.CA, pem);
    if (tsaProblem) expect(tsa).toMatch(synthWording(tsaProblem));
    else expect(tsa).toBeUndefined();
    if (caProblem) expect(ca).toMatch(caProblem);
    else expect(ca).toBeUndefined();
  });
});
