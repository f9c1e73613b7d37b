import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { CertificateInfo, parseCertificate } from '../../../src/verifier/x509/certificate';
import { parseCrl } from '../../../src/verifier/x509/crl';
import { children, decodeOctetString, parseDer, sequence } from '../../../src/verifier/x509/der';
import { buildOcspRequest } from '../../../src/verifier/x509/ocsp';
import { checkRevocation, RevocationFetch } from '../../../src/verifier/x509/revocation';
import { Chain, GeneratedCert, makeCertificate, makeChain, makeCrl, makeKey, makeOcspResponse } from '../../support/pki';

type Handler = (req: http.IncomingMessage, body: Buffer) => { status?: number; body?: Uint8Array; hang?: boolean };

let server: http.Server;
let base: string;
const handlers = new Map<string, Handler>();
const seen: { method: string; url: string; body: Buffer }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, body });
      const key = req.url!.split('/').slice(0, 2).join('/');
      const h = handlers.get(key);
      if (!h) { res.statusCode = 404; res.end(); return; }
      const out = h(req, body);
      if (out.hang) return;
      res.statusCode = out.status ?? 200;
      res.end(Buffer.from(out.body ?? new Uint8Array(0)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => { handlers.clear(); seen.length = 0; });

const parse = (c: Chain) => c.chainDer.map(parseCertificate);
const issuerOf = (c: Chain, i: number): GeneratedCert & { subject: string } => c.certs[i + 1] as any;

function ocspChain(id: string, extra: { crl?: boolean; ocsp?: boolean } = {}): Chain {
  const urls = (n: string) => ({
    ...(extra.ocsp === false ? {} : { ocspUrl: `${base}/ocsp-${id}-${n}` }),
    ...(extra.crl ? { crlUrl: `${base}/crl-${id}-${n}` } : {}),
  });
  return makeChain({ length: 3, leaf: urls('leaf'), intermediates: [urls('int')] });
}

function serveOcsp(id: string, c: Chain, i: number, o: Partial<Parameters<typeof makeOcspResponse>[0]> = {}) {
  handlers.set(`/ocsp-${id}-${i === 0 ? 'leaf' : 'int'}`, () => ({
    body: makeOcspResponse({ certDer: c.chainDer[i], issuer: issuerOf(c, i), status: 'good', ...o }),
  }));
}

function serveCrl(id: string, c: Chain, i: number, o: Partial<Parameters<typeof makeCrl>[0]> = {}, path = `/crl-${id}-${i === 0 ? 'leaf' : 'int'}`) {
  handlers.set(path, () => ({ body: makeCrl({ issuer: issuerOf(c, i), ...o }) }));
}

const leafSubject = 'CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US';

describe('no revocation information', () => {
  it('is nonRevokable', async () => {
    const r = await checkRevocation(parse(makeChain({ length: 3 })));
    expect(r.status).toBe('nonRevokable');
    expect(r.reason).toBeUndefined();
    expect(r.certs.map((c) => c.method)).toEqual(['none', 'none', 'none']);
  });
});

describe('OCSP', () => {
  it('good for every certificate, via GET with a proper request', async () => {
    const c = ocspChain('good');
    serveOcsp('good', c, 0);
    serveOcsp('good', c, 1);
    const r = await checkRevocation(parse(c));
    expect(r.status).toBe('good');
    expect(r.certs.map((x) => [x.status, x.method])).toEqual([['good', 'ocsp'], ['good', 'ocsp'], ['nonRevokable', 'none']]);
    const leafReq = seen.find((s) => s.url.startsWith('/ocsp-good-leaf/'))!;
    expect(leafReq.method).toBe('GET');
    const reqDer = Buffer.from(decodeURIComponent(leafReq.url.split('/')[2]), 'base64');
    const certId = sequence(children(sequence(sequence(sequence(parseDer(new Uint8Array(reqDer)), 'req')[0], 'tbs')[0], 'list')[0])[0], 'certid');
    expect(Buffer.from(certId[3].value).equals(Buffer.from(parse(c)[0].serialRaw))).toBe(true);
    expect(decodeOctetString(certId[2]).length).toBe(20);
  });
  it('revoked leaf', async () => {
    const c = ocspChain('rev');
    serveOcsp('rev', c, 0, { status: 'revoked', revokedAt: new Date(Date.now() - 3600_000) });
    serveOcsp('rev', c, 1);
    const r = await checkRevocation(parse(c));
    expect(r.status).toBe('revoked');
    expect(r.reason).toBe(`signing certificate with subject "${leafSubject}" is revoked`);
  });
  it('revoked after the authentic signing time counts as good', async () => {
    const c = ocspChain('later');
    const revokedAt = new Date(Date.now() - 3600_000);
    serveOcsp('later', c, 0, { status: 'revoked', revokedAt });
    serveOcsp('later', c, 1);
    expect((await checkRevocation(parse(c), { signingTime: new Date(revokedAt.getTime() - 60_000) })).status).toBe('good');
    expect((await checkRevocation(parse(c), { signingTime: new Date(revokedAt.getTime() + 60_000) })).status).toBe('revoked');
  });
  it('unknown status, bad signature, expired response, HTTP errors and wrong responder are "unknown"', async () => {
    const c = ocspChain('unk');
    serveOcsp('unk', c, 1);
    const cases: [string, Handler][] = [
      ['unknown', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: issuerOf(c, 0), status: 'unknown' }) })],
      ['bad signature', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: issuerOf(c, 0), status: 'good', badSignature: true }) })],
      ['expired', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: issuerOf(c, 0), status: 'good', thisUpdate: new Date(Date.now() - 3 * 86400_000), nextUpdate: new Date(Date.now() - 86400_000) }) })],
      ['500', () => ({ status: 500 })],
      ['tryLater', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: issuerOf(c, 0), status: 'good', responseStatus: 3 }) })],
      ['garbage', () => ({ body: new Uint8Array([0x30, 0x03, 0x0a, 0x01]) })],
      ['signed by root', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: { ...issuerOf(c, 0), privateKey: c.certs[2].privateKey }, status: 'good' }) })],
      ['other serial', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: issuerOf(c, 0), status: 'good', serial: 42n }) })],
    ];
    for (const [name, h] of cases) {
      handlers.set('/ocsp-unk-leaf', h);
      const r = await checkRevocation(parse(c));
      expect([name, r.status]).toEqual([name, 'unknown']);
      expect(r.reason).toBe(`signing certificate with subject "${leafSubject}" revocation status is unknown`);
      expect(r.certs[0].errors.length).toBe(1);
    }
  });
  it('delegated responder needs the OCSPSigning EKU and the issuer signature', async () => {
    const c = ocspChain('deleg');
    serveOcsp('deleg', c, 1);
    const inter = issuerOf(c, 0);
    const mk = (eku: string[]) => makeCertificate({ subject: 'CN=OCSP Responder,O=Notary Test,ST=WA,C=US', keyPair: makeKey('p256', `resp-${eku.join()}`), extKeyUsage: eku, keyUsage: ['digitalSignature'] }, inter);
    const good = mk(['ocspSigning']);
    handlers.set('/ocsp-deleg-leaf', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: inter, status: 'good', responder: good }) }));
    expect((await checkRevocation(parse(c))).status).toBe('good');
    const noEku = mk(['codeSigning']);
    handlers.set('/ocsp-deleg-leaf', () => ({ body: makeOcspResponse({ certDer: c.chainDer[0], issuer: inter, status: 'good', responder: noEku }) }));
    const r = await checkRevocation(parse(c));
    expect(r.status).toBe('unknown');
    expect(r.certs[0].errors[0]).toMatch(/OCSPSigning/);
  });
  it('unreachable server and timeouts are unknown, quickly', async () => {
    const c = makeChain({ length: 2, leaf: { ocspUrl: 'http://127.0.0.1:1/ocsp' } });
    expect((await checkRevocation(parse(c))).status).toBe('unknown');
    const h = ocspChain('hang');
    handlers.set('/ocsp-hang-leaf', () => ({ hang: true }));
    serveOcsp('hang', h, 1);
    const r = await checkRevocation(parse(h), { timeouts: { ocspMs: 200 } });
    expect(r.status).toBe('unknown');
    expect(r.certs[0].errors[0]).toMatch(/timed out/);
  });
  it('https and other schemes are not fetched', async () => {
    const c = makeChain({ length: 2, leaf: { ocspUrl: 'https://127.0.0.1:1/ocsp' } });
    const fetch: RevocationFetch = async () => { throw new Error('should not be called'); };
    const r = await checkRevocation(parse(c), { fetch });
    expect(r.status).toBe('unknown');
    expect(r.certs[0].errors[0]).toMatch(/OCSPServer protocol https is not supported/);
  });
  it('uses the injected fetch and POSTs long requests', async () => {
    const c = makeChain({ length: 2, leaf: { ocspUrl: `http://example.invalid/${'p'.repeat(300)}` } });
    const calls: string[] = [];
    const fetch: RevocationFetch = async (url, req) => {
      calls.push(`${req.method} ${url.length}`);
      return { status: 200, body: makeOcspResponse({ certDer: c.chainDer[0], issuer: issuerOf(c, 0), status: 'good' }) };
    };
    const r = await checkRevocation(parse(c), { fetch });
    expect(r.status).toBe('good');
    expect(calls).toHaveLength(1);
    // the 255-char limit applies to the encoded request, not the server URL
    expect(calls[0]).toMatch(/^GET /);
    expect(buildOcspRequest(parse(c)[0], parse(c)[1]).length).toBeLessThan(200);
  });
});

describe('CRL', () => {
  const crlChain = (id: string) => ocspChain(id, { crl: true, ocsp: false });
  const now = () => new Date();
  it('good, revoked, and the invalidityDate rule', async () => {
    const c = crlChain('crl1');
    const p = parse(c);
    serveCrl('crl1', c, 1);
    serveCrl('crl1', c, 0);
    let r = await checkRevocation(p);
    expect(r.status).toBe('good');
    expect(r.certs[0].method).toBe('crl');
    serveCrl('crl1', c, 0, { revoked: [{ serial: c.certs[0].serial, reason: 1 }] });
    r = await checkRevocation(p);
    expect(r.status).toBe('revoked');
    expect(r.reason).toBe(`signing certificate with subject "${leafSubject}" is revoked`);
    const inval = new Date(Date.now() - 3600_000);
    serveCrl('crl1', c, 0, { revoked: [{ serial: c.certs[0].serial, invalidityDate: inval }] });
    expect((await checkRevocation(p, { signingTime: new Date(inval.getTime() - 1000) })).status).toBe('good');
    expect((await checkRevocation(p, { signingTime: new Date(inval.getTime() + 1000) })).status).toBe('revoked');
  });
  it('revoked intermediate', async () => {
    const c = crlChain('crl2');
    serveCrl('crl2', c, 0);
    serveCrl('crl2', c, 1, { revoked: [{ serial: c.certs[1].serial }] });
    const r = await checkRevocation(parse(c));
    expect(r.status).toBe('revoked');
    expect(r.reason).toMatch(/^signing certificate with subject "CN=Test Intermediate CA 1,O=Notary Test,ST=WA,C=US" is revoked$/);
  });
  test.each([
    ['missing nextUpdate', { nextUpdate: null }, /CRL NextUpdate is not set/],
    ['expired', { thisUpdate: new Date(Date.now() - 10 * 86400_000), nextUpdate: new Date(Date.now() - 86400_000) }, /expired CRL/],
    ['bad signature', { badSignature: true }, /CRL signature verification failed/],
    ['wrong signer', { wrongSigner: true }, /CRL signature verification failed/],
  ] as const)('%s -> unknown', async (_n, o, re) => {
    const c = crlChain(`crlbad${_n.replace(/ /g, '')}`);
    const id = `crlbad${_n.replace(/ /g, '')}`;
    serveCrl(id, c, 1);
    const opts: any = { ...o };
    if (opts.wrongSigner) { delete opts.wrongSigner; serveCrl(id, { ...c, certs: [c.certs[0], { ...c.certs[1], privateKey: c.certs[2].privateKey }, c.certs[2]] } as Chain, 0, opts); } else {serveCrl(id, c, 0, opts);}
    const r = await checkRevocation(parse(c), { now });
    expect(r.status).toBe('unknown');
    expect(r.certs[0].errors[0]).toMatch(re);
  });
  it('OCSP unknown falls back to CRL', async () => {
    const c = ocspChain('fb', { crl: true });
    handlers.set('/ocsp-fb-leaf', () => ({ status: 503 }));
    serveCrl('fb', c, 0, { revoked: [{ serial: c.certs[0].serial }] });
    serveOcsp('fb', c, 1);
    const r = await checkRevocation(parse(c));
    expect(r.status).toBe('revoked');
    expect(r.certs[0].method).toBe('crl');
    expect(r.certs[1].method).toBe('ocsp');
  });
  it('delta CRLs (certificate hold, removeFromCRL)', async () => {
    const c = makeChain({ length: 2, leaf: { crlUrl: `${base}/crl-delta-base`, deltaCrlUrl: `${base}/crl-delta-d` } });
    const iss = issuerOf(c, 0);
    handlers.set('/crl-delta-base', () => ({ body: makeCrl({ issuer: iss, crlNumber: 10n }) }));
    handlers.set('/crl-delta-d', () => ({ body: makeCrl({ issuer: iss, crlNumber: 11n, deltaOf: 10n, revoked: [{ serial: c.certs[0].serial, reason: 6 }] }) }));
    expect((await checkRevocation(parse(c))).status).toBe('revoked');
    handlers.set('/crl-delta-base', () => ({ body: makeCrl({ issuer: iss, crlNumber: 10n, revoked: [{ serial: c.certs[0].serial, reason: 6 }] }) }));
    handlers.set('/crl-delta-d', () => ({ body: makeCrl({ issuer: iss, crlNumber: 11n, deltaOf: 10n, revoked: [{ serial: c.certs[0].serial, reason: 8 }] }) }));
    expect((await checkRevocation(parse(c))).status).toBe('good');
    handlers.set('/crl-delta-d', () => ({ body: makeCrl({ issuer: iss, crlNumber: 11n }) }));
    const r = await checkRevocation(parse(c));
    expect(r.status).toBe('unknown');
    expect(r.certs[0].errors[0]).toMatch(/Delta CRL Indicator/);
  });
  it('parseCrl reads entries', () => {
    const c = makeChain({ length: 2 });
    const crl = parseCrl(makeCrl({ issuer: issuerOf(c, 0), crlNumber: 7n, revoked: [{ serial: 5n, reason: 1, invalidityDate: new Date('2024-01-01T00:00:00Z') }] }));
    expect(crl.crlNumber).toBe(7n);
    expect(crl.entries).toHaveLength(1);
    expect(crl.entries[0].reason).toBe(1);
    expect(crl.entries[0].invalidityDate?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(() => parseCrl(new Uint8Array([0x30, 0x00]))).toThrow();
  });
});

describe('timestamping purpose wording', () => {
  it('uses "timestamping certificate"', async () => {
    const c = makeChain({ length: 2, leaf: { ocspUrl: 'http://127.0.0.1:1/x' } });
    const r = await checkRevocation(parse(c) as CertificateInfo[], { purpose: 'timestamping' });
    expect(r.reason).toBe(`timestamping certificate with subject "${leafSubject}" revocation status is unknown`);
  });
});
