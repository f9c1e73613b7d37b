/**
 * Issue 8 item 4 through the BUNDLED admission hook: an error that is not a transport failure must be a
 * rejection, never "inconclusive", so ENFORCE with `inconclusiveAction: ADMIT` refuses the image.
 *
 * Real parts: the loopback docker-registry, real signatures, a real HTTP OCSP responder on loopback,
 * the bundled handler. The signing certificate names the OCSP responder; the responder answers 200 with
 * a response that is not valid (garbage, badly signed, expired, status "unknown"). Before the fix all
 * of them made the revocation check "inconclusive" and ADMIT admitted the image. Only a transport
 * failure (503, nothing listening) stays inconclusive, which ADMIT admits by configuration.
 *
 * (No registry answer or configuration that makes the engine itself throw a TypeError was found once
 * the engine's throws were typed: docker-registry refuses malformed indexes, the trust-store and policy
 * parsers throw typed errors. Unknown throws are covered at the engine level in
 * test/verifier/errors.test.ts with sources that throw TypeErrors.)
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { context, handlerSuite, hookEvent, REVISION_ARN } from './harness';
import { MEDIA_TYPE } from '../../src/verifier/types';
import { makeChain, makeOcspResponse } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { signJws } from '../support/sign';

const s = handlerSuite('admission-hook');

let responder: http.Server;
let answer: () => { status: number; body?: Uint8Array } = () => ({ status: 503 });
beforeAll(async () => {
  responder = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answer();
      res.statusCode = a.status;
      res.end(Buffer.from(a.body ?? new Uint8Array(0)));
    });
  });
  await new Promise<void>((r) => responder.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  responder.closeAllConnections();
  await new Promise((r) => responder.close(r));
});

test('ENFORCE + ADMIT: an invalid OCSP answer for the signing certificate is FAILED, only an unreachable responder is inconclusive', async () => {
  const port = (responder.address() as AddressInfo).port;
  const chain = makeChain({ keySlot: 'internal-error-ocsp', leaf: { ocspUrl: `http://127.0.0.1:${port}/ocsp` } });
  const desc = await pushImage(s.h.registry.url, 'app/ocsp');
  await pushSignature(s.h.registry.url, 'app/ocsp', desc, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: desc }), MEDIA_TYPE.JWS);
  const image = `${s.h.registry.host}/app/ocsp@${desc.digest}`;
  s.h.configure({
    mode: 'ENFORCE',
    inconclusiveAction: 'ADMIT',
    signatureWaitSeconds: 0,
    cacheTtlMs: 0,
    trustStores: { 'ca:test': s.h.rootPem + chain.rootPem, 'signingAuthority:signer-test': s.h.rootPem },
  });
  s.h.aws.revisions.set(REVISION_ARN, [{ containerName: 'app', image: `${s.h.registry.host}/app/ocsp:latest`, imageDigest: desc.digest }]);

  const ocsp = (o: Partial<Parameters<typeof makeOcspResponse>[0]>) => makeOcspResponse({ certDer: chain.chainDer[0], issuer: chain.certs[1] as any, status: 'good', ...o });
  const cases: Array<[string, () => { status: number; body?: Uint8Array }, string, string]> = [
    ['good', () => ({ status: 200, body: ocsp({}) }), 'SUCCEEDED', 'verified'],
    ['garbage', () => ({ status: 200, body: new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x00]) }), 'FAILED', 'failed'],
    ['bad signature', () => ({ status: 200, body: ocsp({ badSignature: true }) }), 'FAILED', 'failed'],
    ['expired', () => ({ status: 200, body: ocsp({ thisUpdate: new Date(Date.now() - 3 * 86400_000), nextUpdate: new Date(Date.now() - 86400_000) }) }), 'FAILED', 'failed'],
    ['status unknown', () => ({ status: 200, body: ocsp({ status: 'unknown' }) }), 'FAILED', 'failed'],
    ['other serial', () => ({ status: 200, body: ocsp({ serial: 42n }) }), 'FAILED', 'failed'],
    ['malformedRequest', () => ({ status: 200, body: ocsp({ responseStatus: 1 }) }), 'FAILED', 'failed'],
    ['revoked', () => ({ status: 200, body: ocsp({ status: 'revoked', revokedAt: new Date(Date.now() - 3600_000) }) }), 'FAILED', 'failed'],
    // transport failures: inconclusive, which this configuration admits
    ['HTTP 503', () => ({ status: 503 }), 'SUCCEEDED', 'inconclusive'],
    ['tryLater', () => ({ status: 200, body: ocsp({ responseStatus: 3 }) }), 'SUCCEEDED', 'inconclusive'],
  ];
  const seen: string[][] = [];
  for (const [name, a] of cases) {
    answer = a;
    const before = s.out.verdicts().length;
    const res = await s.handler(hookEvent(), context());
    const verdict = s.out.verdicts().slice(before)[0];
    seen.push([name, res.hookStatus, verdict?.status, verdict?.status === 'failed' ? JSON.stringify(verdict) : '']);
  }
  expect(seen.map(([n, hook, status]) => [n, hook, status])).toEqual(cases.map(([n, , hook, status]) => [n, hook, status]));
  // the failed ones name the revocation check, with a definitive (not transport) code
  for (const [name, , status, json] of seen) {
    if (status !== 'failed') continue;
    expect([name, /REVOCATION_UNKNOWN|REVOKED/.test(json)]).toEqual([name, true]);
    expect([name, json]).not.toEqual([name, expect.stringContaining('"inconclusive"')]);
  }
  expect(s.out.verdicts().every((v) => v.image === image)).toBe(true);
});
