/**
 * Fuzz: the whole verification pipeline (ImageVerifier.verify) over in-memory sources, where the
 * transport cannot fail: a notary.x509 signature with an RFC 3161 countersignature, a leaf checked by
 * OCSP and an intermediate by CRL, each answered from memory. The signature, its timestamp token, its
 * intermediate certificate, the OCSP response and the CRL are mutated.
 *
 * Properties (issue 8 item 4): no input yields an INCONCLUSIVE verdict unless the transport failed;
 * every verdict is verified / failed / skipped; every failed verdict carries a typed, non-INTERNAL code
 * (an INTERNAL verdict is an engine bug that input tripped), and the engine logs no internal error.
 */
import { createHash } from 'node:crypto';
import * as fc from 'fast-check';
import { FUZZ_RUNS, fuzzTimeout, mutate, mutationsArb, params } from './support';
import { ErrorCode } from '../../src/verifier/errors';
import { MEDIA_TYPE, Verdict } from '../../src/verifier/types';
import { ImageVerifier } from '../../src/verifier/verifier';
import { FetchResponse, RevocationFetch } from '../../src/verifier/x509/revocation';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { FixtureSource } from '../support/fixture-source';
import { makeChain, makeCrl, makeOcspResponse, makeTimestampToken, makeTsaChain } from '../support/pki';
import { signEnvelope, signJws } from '../support/sign';

const OCSP_URL = 'http://ocsp.fuzz.invalid/leaf';
const CRL_URL = 'http://crl.fuzz.invalid/intermediate.crl';
const chain = makeChain({ length: 3, keySlot: 'pipeline-fuzz', leaf: { ocspUrl: OCSP_URL }, intermediates: [{ crlUrl: CRL_URL }] });
const tsa = makeTsaChain({ keySlot: 'pipeline-fuzz-tsa' });
const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}');
const target = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + createHash('sha256').update(manifest).digest('hex'), size: manifest.length };
const SCOPE = 'fuzz.example/app';
const REFERENCE = `${SCOPE}@${target.digest}`;

/** A valid JWS over `target` with a countersignature over its signature bytes. */
function timestampedJws(): Buffer {
  const bare = JSON.parse(Buffer.from(signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: target, signingTime: new Date(Date.now() - 10_000) })).toString());
  const token = makeTimestampToken({ message: Buffer.from(bare.signature, 'base64url'), tsa, accuracySeconds: 1 });
  bare.header['io.cncf.notary.timestampSignature'] = Buffer.from(token).toString('base64');
  return Buffer.from(JSON.stringify(bare));
}
const JWS = timestampedJws();
const JWS_OBJ = JSON.parse(JWS.toString());
const TOKEN = Buffer.from(JWS_OBJ.header['io.cncf.notary.timestampSignature'], 'base64');
const INTERMEDIATE = Buffer.from(JWS_OBJ.header.x5c[1], 'base64');
const OCSP = makeOcspResponse({ certDer: chain.chainDer[0], issuer: chain.certs[1] as any, status: 'good' });
const CRL = makeCrl({ issuer: chain.certs[2] as any });

const POLICY = {
  version: '1.0',
  trustPolicies: [{
    name: 'fuzz',
    registryScopes: [SCOPE],
    signatureVerification: { level: 'strict', verifyTimestamp: 'always' },
    trustStores: ['ca:fuzz', 'tsa:fuzz'],
    trustedIdentities: ['*'],
  }],
};
const trustStores = new InMemoryTrustStore({ 'ca:fuzz': chain.rootPem, 'tsa:fuzz': tsa.rootPem });

/** Failed codes that a definitive problem with the input may carry (everything but INTERNAL and the transport codes). */
const TRANSPORT_CODES: readonly ErrorCode[] = ['NETWORK', 'TIMEOUT', 'THROTTLED', 'REGISTRY_UNAVAILABLE', 'AUTHENTICATION', 'AWS_API'];

/** A COSE envelope (no countersignature: checked under a policy without `tsa` stores). */
const COSE = signEnvelope('cose', { key: chain.key, chainDer: chain.chainDer, targetArtifact: target });
const POLICY_NO_TSA = { ...POLICY, trustPolicies: [{ ...POLICY.trustPolicies[0], trustStores: ['ca:fuzz'] }] };

interface Answers {
  envelope?: Uint8Array;
  cose?: boolean;
  ocsp?: FetchResponse | 'throw';
  crl?: FetchResponse | 'throw';
}

interface Run {
  verdict: Verdict;
  internalLogs: unknown[];
  transportFailed: boolean;
}

/**
 * True when an OCSP response's top-level responseStatus (a well-formed SEQUENCE { ENUMERATED ... })
 * is internalError (2) or tryLater (3): the responder's own "unavailable", which like HTTP 5xx says
 * nothing about the certificate and is inconclusive by design (RFC 6960 §2.3).
 */
function ocspResponderUnavailable(body: Uint8Array): boolean {
  if (body[0] !== 0x30 || body.length < 5) return false;
  const off = body[1] & 0x80 ? 2 + (body[1] & 0x7f) : 2;
  return body[off] === 0x0a && body[off + 1] === 0x01 && (body[off + 2] === 2 || body[off + 2] === 3);
}

async function run(a: Answers): Promise<Run> {
  const internalLogs: unknown[] = [];
  let transportFailed = false;
  const fetch: RevocationFetch = async (url) => {
    const answer = url.startsWith(OCSP_URL) ? (a.ocsp ?? { status: 200, body: OCSP }) : url === CRL_URL ? (a.crl ?? { status: 200, body: CRL }) : undefined;
    if (answer === undefined || answer === 'throw') {
      transportFailed = true;
      throw new Error(`connect ECONNREFUSED ${url}`);
    }
    if (answer.status !== 200 || (url.startsWith(OCSP_URL) && ocspResponderUnavailable(answer.body))) transportFailed = true;
    return answer;
  };
  const verifier = new ImageVerifier({
    trustPolicy: a.cose ? POLICY_NO_TSA : POLICY,
    trustStores,
    sourceFor: () => new FixtureSource(SCOPE, target, [{ mediaType: a.cose ? MEDIA_TYPE.COSE : MEDIA_TYPE.JWS, envelope: a.envelope ?? (a.cose ? COSE : JWS) }]),
    x509Revocation: { fetch },
    cacheTtlMs: 0,
    logger: { warn: (m, d) => { if (/internal error/.test(m)) internalLogs.push({ m, d }); } },
  });
  return { verdict: await verifier.verify(REFERENCE), internalLogs, transportFailed };
}

/** Verdict status/code counts per property, printed with FUZZ_STATS=1. */
const tally = new Map<string, number>();
afterAll(() => {
  if (process.env.FUZZ_STATS) process.stderr.write(`pipeline fuzz verdicts: ${JSON.stringify(Object.fromEntries([...tally].sort()), null, 1)}\n`);
});

/** The property: typed, definitive verdicts unless the transport failed. */
function check(r: Run): void {
  const v = r.verdict;
  const key = `${expect.getState().currentTestName?.split(') ')[1] ?? ''} | ${v.status}${v.error ? ` ${v.error.kind}/${v.error.code}` : ''}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  const summary = JSON.stringify({ status: v.status, error: v.error, reasons: v.reasons });
  expect([summary, r.internalLogs]).toEqual([summary, []]);
  expect(['verified', 'failed', 'skipped', ...(r.transportFailed ? ['inconclusive'] : [])]).toContain(v.status);
  if (v.status === 'failed') {
    expect(v.error).toBeDefined();
    expect(v.error!.kind).not.toBe('inconclusive');
    expect(v.error!.code).not.toBe('INTERNAL');
    expect(TRANSPORT_CODES).not.toContain(v.error!.code);
  }
  if (v.status === 'inconclusive') expect(v.error?.kind).toBe('inconclusive');
}

const withHeader = (edit: (h: any) => void) => {
  const o = JSON.parse(JWS.toString());
  edit(o.header);
  return Buffer.from(JSON.stringify(o));
};

describe(`verification pipeline: no inconclusive verdict without a transport failure (${FUZZ_RUNS} runs each)`, () => {
  test('an OCSP answer whose responseStatus is internalError or tryLater is inconclusive (found by this fuzz: one bit of the status)', async () => {
    for (const status of [2, 3]) {
      const body = Buffer.from(OCSP);
      const off = body[1] & 0x80 ? 2 + (body[1] & 0x7f) : 2;
      body[off + 2] = status;
      const r = await run({ ocsp: { status: 200, body } });
      expect(r.transportFailed).toBe(true);
      expect(r.verdict.status).toBe('inconclusive');
      expect(r.verdict.error?.code).toBe('REVOCATION_UNKNOWN');
      check(r);
    }
    for (const status of [1, 5, 6]) {
      const body = Buffer.from(OCSP);
      const off = body[1] & 0x80 ? 2 + (body[1] & 0x7f) : 2;
      body[off + 2] = status;
      const r = await run({ ocsp: { status: 200, body } });
      expect(r.verdict.status).toBe('failed');
      check(r);
    }
  });

  test('the unmutated signature verifies (timestamp, OCSP and CRL all checked)', async () => {
    const r = await run({});
    expect(r.verdict.status).toBe('verified');
    expect(r.verdict.signatures[0].checks.map((c) => `${c.check}:${c.passed}`)).toEqual(
      ['integrity:true', 'authenticity:true', 'expiry:true', 'authenticTimestamp:true', 'revocation:true']);
    check(r);
  });

  test('mutated envelopes', async () => {
    await fc.assert(fc.asyncProperty(mutationsArb, async (ms) => check(await run({ envelope: mutate(JWS, ms) }))), params());
  }, fuzzTimeout(10));

  test('the unmutated COSE signature verifies, and mutated COSE envelopes', async () => {
    const ok = await run({ cose: true });
    expect(ok.verdict.status).toBe('verified');
    check(ok);
    await fc.assert(fc.asyncProperty(mutationsArb, async (ms) => check(await run({ cose: true, envelope: mutate(COSE, ms) }))), params());
  }, fuzzTimeout(10));

  test('mutated timestamp tokens (the signature stays valid)', async () => {
    await fc.assert(fc.asyncProperty(mutationsArb, async (ms) => {
      const token = mutate(TOKEN, ms);
      check(await run({ envelope: withHeader((h) => { h['io.cncf.notary.timestampSignature'] = Buffer.from(token).toString('base64'); }) }));
    }), params());
  }, fuzzTimeout(10));

  test('mutated intermediate certificates (the signature stays valid)', async () => {
    await fc.assert(fc.asyncProperty(mutationsArb, async (ms) => {
      const cert = mutate(INTERMEDIATE, ms);
      check(await run({ envelope: withHeader((h) => { h.x5c[1] = Buffer.from(cert).toString('base64'); }) }));
    }), params());
  }, fuzzTimeout(10));

  test('mutated OCSP responses and CRLs answered with HTTP 200', async () => {
    await fc.assert(fc.asyncProperty(mutationsArb, fc.boolean(), async (ms, ocsp) => {
      const body = mutate(ocsp ? OCSP : CRL, ms);
      const r = await run(ocsp ? { ocsp: { status: 200, body } } : { crl: { status: 200, body } });
      // the only "transport failure" a 200 body can carry: the OCSP responder's internalError/tryLater status
      expect(r.transportFailed).toBe(ocsp && ocspResponderUnavailable(body));
      check(r);
    }), params());
  }, fuzzTimeout(10));

  test('arbitrary bodies with arbitrary statuses, and unreachable servers: inconclusive only when the transport failed', async () => {
    const answer = fc.oneof(
      fc.constant<'throw'>('throw'),
      fc.record({ status: fc.constantFrom(200, 200, 200, 204, 301, 400, 404, 408, 429, 500, 503), body: fc.uint8Array({ maxLength: 256 }) }),
    );
    await fc.assert(fc.asyncProperty(answer, answer, async (ocsp, crl) => check(await run({ ocsp, crl }))), params());
  }, fuzzTimeout(10));
});
