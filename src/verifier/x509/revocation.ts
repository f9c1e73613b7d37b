/**
 * X.509 revocation checking for non-AWS chains (notary-verification.md §10; notation-core-go
 * `revocation`): per non-root certificate, OCSP first (AIA, http only, GET or POST, 2 s), then CRL when
 * OCSP gives no answer and a CRL distribution point exists (http only, 5 s, signature checked against
 * the issuer, nextUpdate required, delta CRLs); neither => "non-revokable". The root is not checked.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { VerificationFailedError, VerificationInconclusiveError, VerifierError, isVerifierError } from '../errors';
import { CertificateInfo, ExtensionInfo, OID, SignatureAlgorithmInfo, checkSignature, parseAlgorithm, parseCertificate } from './certificate';
import {
  Tlv, TAG, bytesEqual, children, contextTag, decodeBoolean, decodeInteger, decodeOctetString, decodeOid, decodeTime,
  expectTag, parseDer, readTlv, sequence,
} from './der';
import { goQuote } from '../text/go-quote';

export type RevocationStatus = 'good' | 'revoked' | 'unknown' | 'nonRevokable';

export interface FetchResponse {
  readonly status: number;
  readonly body: Uint8Array;
}

export interface FetchRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  /** Milliseconds. */
  readonly timeoutMs: number;
  /** Maximum response size in bytes. */
  readonly maxBytes: number;
}

/** Injectable HTTP client. Must reject on network errors/timeouts. */
export type RevocationFetch = (url: string, req: FetchRequest) => Promise<FetchResponse>;

export interface RevocationOptions {
  /** Authentic signing time (notary.x509.signingAuthority): revocations effective after it count as good. */
  readonly signingTime?: Date;
  readonly fetch?: RevocationFetch;
  readonly timeouts?: { readonly ocspMs?: number; readonly crlMs?: number };
  /** Clock (for tests). */
  readonly now?: () => Date;
  /** Wording of the reason: `signing` (default) or `timestamping` certificate. */
  readonly purpose?: 'signing' | 'timestamping';
}

export interface CertRevocationResult {
  readonly subject: string;
  readonly status: RevocationStatus;
  readonly method: 'ocsp' | 'crl' | 'none';
  /** Problems met per server (unreachable, bad signature, expired response...). */
  readonly errors: readonly string[];
  /**
   * For an `unknown` status: true when every problem was a transport failure (server unreachable,
   * timeout, a non-200 HTTP answer, OCSP `tryLater`/`internalError`), so asking again may give an
   * answer. False when a server answered with something invalid or definitive (unparsable or badly
   * signed response, expired response, OCSP status `unknown`, unsupported URL scheme).
   */
  readonly transient?: boolean;
}

export interface RevocationResult {
  readonly status: RevocationStatus;
  /** notation wording for revoked/unknown results. */
  readonly reason?: string;
  /**
   * For an `unknown` status: true when it is only due to transport failures (see
   * {@link CertRevocationResult.transient}); the verifier then reports an inconclusive result, else a
   * failed one.
   */
  readonly transient?: boolean;
  /** Leaf first, root last. */
  readonly certs: readonly CertRevocationResult[];
}

export const DEFAULT_OCSP_TIMEOUT_MS = 2000;
export const DEFAULT_CRL_TIMEOUT_MS = 5000;
const MAX_OCSP_BYTES = 1024 * 1024;
const MAX_CRL_BYTES = 32 * 1024 * 1024;

/** Default HTTP client: node:http, http URLs only, timeout and size limit enforced. */
export const httpFetch: RevocationFetch = (url, req) => new Promise((resolve, reject) => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    reject(new VerificationFailedError('REVOCATION_UNKNOWN', `invalid URL ${url}`));
    return;
  }
  if (u.protocol !== 'http:') {
    reject(new VerificationFailedError('REVOCATION_UNKNOWN', `unsupported protocol ${u.protocol.replace(/:$/, '')}`));
    return;
  }
  let r: http.ClientRequest;
  try {
    r = http.request(u, { method: req.method, headers: req.headers, timeout: req.timeoutMs }, onResponse);
  } catch (e) {
    // thrown synchronously by Node for a request it refuses to send (e.g. unescaped characters in the
    // path): the certificate's URL is unusable, which is not a transport failure
    reject(new VerificationFailedError('REVOCATION_UNKNOWN', `invalid request to ${url}: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
    return;
  }
  function onResponse(res: http.IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > req.maxBytes) {
        r.destroy(new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `response from ${url} exceeds ${req.maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks)) }));
    res.on('error', (e) => reject(transportError(url, e)));
  }
  const timedOut = () => new VerificationInconclusiveError('TIMEOUT', `request to ${url} timed out after ${req.timeoutMs} ms`);
  const timer = setTimeout(() => r.destroy(timedOut()), req.timeoutMs);
  r.on('timeout', () => r.destroy(timedOut()));
  r.on('error', (e) => { clearTimeout(timer); reject(transportError(url, e)); });
  r.on('close', () => clearTimeout(timer));
  if (req.body) r.write(Buffer.from(req.body));
  r.end();
});

/** A socket/HTTP error as an inconclusive error (typed errors, e.g. our own timeout, pass through). */
function transportError(url: string, e: unknown): VerifierError {
  if (isVerifierError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new VerificationInconclusiveError('NETWORK', message || `request to ${url} failed`, { cause: e });
}

/**
 * Calls the (possibly injected) fetch. Its rejections are transport failures (its contract: reject on
 * network errors and timeouts) unless it rejects with a typed error, whose kind is kept.
 */
async function fetchRevocationData(o: { fetch: RevocationFetch }, url: string, req: FetchRequest): Promise<FetchResponse> {
  let res: FetchResponse;
  try {
    res = await o.fetch(url, req);
  } catch (e) {
    throw transportError(url, e);
  }
  return res;
}

/** An invalid or definitive answer of an OCSP responder / CRL (not a transport failure). */
function invalidAnswer(message: string): VerificationFailedError {
  return new VerificationFailedError('REVOCATION_UNKNOWN', message);
}

/** A transport-level failure: unreachable, non-200, or a responder asking to try later. */
function unavailable(message: string): VerificationInconclusiveError {
  return new VerificationInconclusiveError('REVOCATION_UNKNOWN', message);
}

/** Collects per-server problems of one certificate and whether all were transport failures. */
interface Problems {
  readonly errors: string[];
  definitive: boolean;
}

function note(p: Problems, where: string, e: unknown): void {
  p.errors.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  if (!(e instanceof VerificationInconclusiveError)) p.definitive = true;
}

// ------------------------------------------------------------------------------------------------
// helpers
// ------------------------------------------------------------------------------------------------

const HASHES: Record<string, string> = {
  [OID.SHA1]: 'sha1', [OID.SHA256]: 'sha256', [OID.SHA384]: 'sha384', [OID.SHA512]: 'sha512',
};

function parseExtensions(t: Tlv): ExtensionInfo[] {
  return sequence(t, 'extensions').map((e) => {
    const f = sequence(e, 'extension');
    const oid = decodeOid(f[0]);
    let critical = false;
    let i = 1;
    if (f[1]?.tag === TAG.BOOLEAN) { critical = decodeBoolean(f[1]); i = 2; }
    if (f.length !== i + 1) throw invalidAnswer('invalid extension');
    return { oid, critical, value: decodeOctetString(f[i]) };
  });
}

/** Go's `RevocationList.CheckSignatureFrom` / OCSP issuer rules for a CRL/OCSP signed by `issuer`. */
function crlSignerError(issuer: CertificateInfo): string | undefined {
  const ku = issuer.keyUsage;
  const kuNonZero = Object.values(ku.bits).some(Boolean);
  if ((issuer.version === 3 && !issuer.basicConstraints.present) || (issuer.basicConstraints.present && !issuer.basicConstraints.ca)
    || (kuNonZero && !ku.bits.cRLSign)) {
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// OCSP
// ------------------------------------------------------------------------------------------------

function derTlv(tag: number, body: Uint8Array): Buffer {
  const len = body.length;
  let lb: number[];
  if (len < 0x80) {lb = [len];} else {
    lb = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) lb.unshift(n % 256);
    lb.unshift(0x80 | lb.length);
  }
  return Buffer.concat([Buffer.from([tag, ...lb]), Buffer.from(body)]);
}

/** DER OCSPRequest for `cert` issued by `issuer` (SHA-1 CertID, as Go's x/crypto/ocsp). */
export function buildOcspRequest(cert: CertificateInfo, issuer: CertificateInfo): Uint8Array {
  const sha1 = (b: Uint8Array) => crypto.createHash('sha1').update(b).digest();
  const alg = derTlv(0x30, Buffer.concat([derTlv(0x06, Buffer.from([0x2b, 0x0e, 0x03, 0x02, 0x1a])), Buffer.from([0x05, 0x00])]));
  const certId = derTlv(0x30, Buffer.concat([
    alg, derTlv(0x04, sha1(issuer.subjectRaw)), derTlv(0x04, sha1(issuer.publicKeyBits)), derTlv(0x02, cert.serialRaw),
  ]));
  const request = derTlv(0x30, certId);
  const tbs = derTlv(0x30, derTlv(0x30, request));
  return new Uint8Array(derTlv(0x30, tbs));
}

interface OcspAnswer { status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date }

/** Parses and verifies an OCSP response for `cert`; throws Error with the problem. */
export function parseOcspResponse(body: Uint8Array, cert: CertificateInfo, issuer: CertificateInfo, now: Date): OcspAnswer {
  const top = sequence(parseDer(body), 'OCSPResponse');
  const st = expectTag(top[0], TAG.ENUMERATED, 'responseStatus');
  const status = Number(decodeInteger(st, undefined, TAG.ENUMERATED));
  if (status !== 0) {
    const names: Record<number, string> = { 1: 'malformed', 2: 'internal error', 3: 'try later', 5: 'signature required', 6: 'unauthorized' };
    const message = `OCSP response status: ${names[status] ?? status}`;
    // internalError and tryLater say nothing about the certificate: asking again may work.
    throw status === 2 || status === 3 ? unavailable(message) : invalidAnswer(message);
  }
  if (!top[1] || top[1].tag !== contextTag(0, true)) throw invalidAnswer('OCSP response has no responseBytes');
  const [typeTlv, respTlv] = sequence(children(top[1])[0], 'ResponseBytes');
  if (decodeOid(typeTlv) !== '1.3.6.1.5.5.7.48.1.1') throw invalidAnswer('OCSP response is not a basic OCSP response');
  const basic = sequence(parseDer(decodeOctetString(respTlv)), 'BasicOCSPResponse');
  const [tbsTlv, algTlv, sigTlv, certsTlv] = basic;
  const alg = parseAlgorithm(algTlv);
  const sigBits = readBitString(sigTlv);

  // signer: issuer, or a delegated responder issued by the issuer with OCSPSigning EKU
  let signer: CertificateInfo = issuer;
  if (certsTlv && certsTlv.tag === contextTag(0, true)) {
    const certs = sequence(children(certsTlv)[0], 'certs').map((c) => parseCertificate(c.raw));
    const responder = certs.find((c) => !bytesEqual(c.raw, issuer.raw));
    if (responder) {
      const e = checkSignature(issuer, responder.signatureAlgorithm, responder.tbs, responder.signature, true);
      if (e) throw invalidAnswer(`bad signature on embedded certificate: ${e}`);
      if (!(responder.extKeyUsage ?? []).includes(OID.EKU_OCSP_SIGNING)) throw invalidAnswer('OCSP responder certificate lacks the OCSPSigning EKU');
      signer = responder;
    }
  }
  const sigErr = checkSignature(signer, alg, tbsTlv.raw, sigBits, true);
  if (sigErr) throw invalidAnswer(`bad OCSP signature: ${sigErr}`);

  const rd = sequence(tbsTlv, 'ResponseData');
  let i = 0;
  if (rd[i]?.tag === contextTag(0, true)) i++;
  i++; // responderID
  i++; // producedAt
  const responses = sequence(rd[i], 'responses');
  for (const r of responses) {
    const f = sequence(r, 'SingleResponse');
    const [hashAlg, nameHash, keyHash, serial] = sequence(f[0], 'CertID');
    const hashName = HASHES[decodeOid(sequence(hashAlg, 'hash algorithm')[0])];
    if (!bytesEqual(expectTag(serial, TAG.INTEGER, 'serial').value, cert.serialRaw)) continue;
    if (!hashName) throw invalidAnswer('unsupported OCSP CertID hash algorithm');
    const h = (b: Uint8Array) => new Uint8Array(crypto.createHash(hashName).update(b).digest());
    if (!bytesEqual(decodeOctetString(nameHash), h(issuer.subjectRaw)) || !bytesEqual(decodeOctetString(keyHash), h(issuer.publicKeyBits))) {
      throw invalidAnswer('OCSP response CertID does not match the issuer');
    }
    const certStatus = f[1];
    const thisUpdate = decodeTime(f[2]);
    let nextUpdate: Date | undefined;
    for (const extra of f.slice(3)) {
      if (extra.tag === contextTag(0, true)) nextUpdate = decodeTime(children(extra)[0]);
      if (extra.tag === contextTag(1, true)) {
        const crit = parseExtensions(children(extra)[0]).find((e) => e.critical);
        if (crit) throw invalidAnswer(`OCSP response contains unsupported critical extension ${crit.oid}`);
      }
    }
    if (thisUpdate.getTime() > now.getTime() + 5 * 60_000) throw invalidAnswer('OCSP response thisUpdate is in the future');
    if (nextUpdate && now.getTime() > nextUpdate.getTime()) throw invalidAnswer('expired OCSP response');
    if (certStatus.tag === 0x80) return { status: 'good' };
    if (certStatus.tag === 0x82) return { status: 'unknown' };
    if (certStatus.tag === contextTag(1, true)) {
      const ri = children(certStatus);
      return { status: 'revoked', revokedAt: decodeTime(ri[0]) };
    }
    throw invalidAnswer('invalid OCSP certStatus');
  }
  throw invalidAnswer('no OCSP response for the certificate serial number');
}

function readBitString(t: Tlv): Uint8Array {
  const v = expectTag(t, TAG.BIT_STRING, 'signature').value;
  if (v.length < 1 || v[0] !== 0) throw invalidAnswer('invalid signature bit string');
  return v.subarray(1);
}

async function checkOcsp(cert: CertificateInfo, issuer: CertificateInfo, o: Required<Pick<RevocationOptions, 'fetch'>> & RevocationOptions, problems: Problems): Promise<RevocationStatus> {
  const req = buildOcspRequest(cert, issuer);
  const timeoutMs = o.timeouts?.ocspMs ?? DEFAULT_OCSP_TIMEOUT_MS;
  for (const server of cert.ocspUrls) {
    try {
      if (!server.toLowerCase().startsWith('http://')) throw invalidAnswer(`OCSPServer protocol ${server.split(':')[0]} is not supported`);
      const b64 = Buffer.from(req).toString('base64');
      const encoded = encodeURIComponent(b64);
      let res: FetchResponse;
      if (encoded.length <= 255) {
        res = await fetchRevocationData(o, `${server.replace(/\/$/, '')}/${encoded}`, { method: 'GET', timeoutMs, maxBytes: MAX_OCSP_BYTES });
      } else {
        res = await fetchRevocationData(o, server, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: req, timeoutMs, maxBytes: MAX_OCSP_BYTES });
      }
      if (res.status !== 200) throw unavailable(`failed to retrieve OCSP: response had status code ${res.status}`);
      const ans = parseOcspResponse(res.body, cert, issuer, o.now ? o.now() : new Date());
      if (ans.status === 'good') return 'good';
      if (ans.status === 'revoked') {
        if (o.signingTime && ans.revokedAt && o.signingTime.getTime() < ans.revokedAt.getTime()) return 'good';
        return 'revoked';
      }
      // a validly signed "unknown" is the responder's definitive answer
      note(problems, server, invalidAnswer('OCSP status unknown'));
    } catch (e) {
      note(problems, server, e);
    }
  }
  return 'unknown';
}

// ------------------------------------------------------------------------------------------------
// CRL
// ------------------------------------------------------------------------------------------------

export interface CrlEntryInfo {
  readonly serialRaw: Uint8Array;
  readonly revocationDate: Date;
  readonly reason?: number;
  readonly invalidityDate?: Date;
}

export interface CrlInfo {
  readonly raw: Uint8Array;
  readonly tbs: Uint8Array;
  readonly issuerRaw: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly entries: readonly CrlEntryInfo[];
  readonly extensions: readonly ExtensionInfo[];
  readonly crlNumber?: bigint;
  /** Base CRL number when this is a delta CRL. */
  readonly deltaOf?: bigint;
  readonly signatureAlgorithm: SignatureAlgorithmInfo;
  readonly signature: Uint8Array;
}

const CRL_KNOWN_EXTS = new Set(['2.5.29.20', '2.5.29.27', '2.5.29.35', '2.5.29.46', '2.5.29.28']);

/** Parses a DER CRL (v1/v2). Throws Error if malformed. */
export function parseCrl(der: Uint8Array): CrlInfo {
  const [tbsTlv, algTlv, sigTlv, ...rest] = sequence(parseDer(der), 'CertificateList');
  if (!sigTlv || rest.length) throw invalidAnswer('invalid CRL structure');
  const f = sequence(tbsTlv, 'TBSCertList');
  let i = 0;
  if (f[i]?.tag === TAG.INTEGER) i++;
  i++; // inner signature alg
  const issuer = expectTag(f[i++], TAG.SEQUENCE, 'CRL issuer');
  const thisUpdate = decodeTime(f[i++]);
  let nextUpdate: Date | undefined;
  if (f[i] && (f[i].tag === TAG.UTC_TIME || f[i].tag === TAG.GENERALIZED_TIME)) nextUpdate = decodeTime(f[i++]);
  const entries: CrlEntryInfo[] = [];
  if (f[i]?.tag === TAG.SEQUENCE) {
    for (const e of sequence(f[i++], 'revokedCertificates')) {
      const ef = sequence(e, 'CRL entry');
      const serialRaw = expectTag(ef[0], TAG.INTEGER, 'serial').value;
      const revocationDate = decodeTime(ef[1]);
      let reason: number | undefined;
      let invalidityDate: Date | undefined;
      if (ef[2]) {
        for (const x of parseExtensions(ef[2])) {
          if (x.oid === '2.5.29.21') reason = Number(decodeInteger(parseDer(x.value), undefined, TAG.ENUMERATED));
          else if (x.oid === '2.5.29.24') invalidityDate = decodeTime(parseDer(x.value));
          else if (x.critical) throw invalidAnswer(`CRL entry contains unsupported critical extension ${x.oid}`);
        }
      }
      entries.push({ serialRaw, revocationDate, ...(reason !== undefined ? { reason } : {}), ...(invalidityDate ? { invalidityDate } : {}) });
    }
  }
  let extensions: ExtensionInfo[] = [];
  if (f[i]?.tag === contextTag(0, true)) extensions = parseExtensions(children(f[i++])[0]);
  if (i !== f.length) throw invalidAnswer('unexpected data in TBSCertList');
  let crlNumber: bigint | undefined;
  let deltaOf: bigint | undefined;
  for (const x of extensions) {
    if (x.oid === '2.5.29.20') crlNumber = decodeInteger(parseDer(x.value));
    if (x.oid === '2.5.29.27') deltaOf = decodeInteger(parseDer(x.value));
  }
  return {
    raw: der,
    tbs: tbsTlv.raw,
    issuerRaw: issuer.raw,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    entries,
    extensions,
    ...(crlNumber !== undefined ? { crlNumber } : {}),
    ...(deltaOf !== undefined ? { deltaOf } : {}),
    signatureAlgorithm: parseAlgorithm(algTlv),
    signature: readBitString(sigTlv),
  };
}

/** Validates a CRL against its issuer at `now`. Throws Error with the problem. */
export function validateCrl(crl: CrlInfo, issuer: CertificateInfo, now: Date): void {
  const c = crlSignerError(issuer);
  if (c) throw invalidAnswer(`CRL is not signed by the certificate issuer: ${c}`);
  const e = checkSignature(issuer, crl.signatureAlgorithm, crl.tbs, crl.signature, true);
  if (e) throw invalidAnswer(`CRL signature verification failed: ${e}`);
  if (!bytesEqual(crl.issuerRaw, issuer.subjectRaw)) throw invalidAnswer('CRL issuer does not match the certificate issuer');
  if (!crl.nextUpdate) throw invalidAnswer('CRL NextUpdate is not set');
  if (now.getTime() > crl.nextUpdate.getTime()) throw invalidAnswer(`expired CRL. Current time ${now.toISOString()} is after CRL NextUpdate ${crl.nextUpdate.toISOString()}`);
  for (const x of crl.extensions) {
    if (x.critical && !CRL_KNOWN_EXTS.has(x.oid)) throw invalidAnswer(`CRL contains unsupported critical extension ${x.oid}`);
    if (x.critical && x.oid === '2.5.29.28') throw invalidAnswer('CRL with a critical issuing distribution point is not supported');
  }
}

async function fetchCrl(url: string, o: RevocationOptions & { fetch: RevocationFetch }): Promise<Uint8Array> {
  if (!url.toLowerCase().startsWith('http://')) throw invalidAnswer(`unsupported scheme: ${url.split(':')[0]}. Only supports CRL URL in HTTP protocol`);
  const res = await fetchRevocationData(o, url, { method: 'GET', timeoutMs: o.timeouts?.crlMs ?? DEFAULT_CRL_TIMEOUT_MS, maxBytes: MAX_CRL_BYTES });
  if (res.status !== 200) throw unavailable(`failed to download CRL from ${url}: response status ${res.status}`);
  return res.body;
}

function crlStatus(cert: CertificateInfo, base: CrlInfo, delta: CrlInfo | undefined, signingTime: Date | undefined): RevocationStatus {
  let hold = false;
  for (const list of [base, delta]) {
    if (!list) continue;
    for (const e of list.entries) {
      if (!bytesEqual(e.serialRaw, cert.serialRaw)) continue;
      if (signingTime && e.invalidityDate && signingTime.getTime() < e.invalidityDate.getTime()) continue;
      if (e.reason === 8) { hold = false; continue; } // removeFromCRL
      if (e.reason === 6) { hold = true; continue; } // certificateHold
      return 'revoked';
    }
  }
  return hold ? 'revoked' : 'good';
}

async function checkCrl(
  cert: CertificateInfo, issuer: CertificateInfo, o: RevocationOptions & { fetch: RevocationFetch }, problems: Problems,
): Promise<RevocationStatus> {
  const now = o.now ? o.now() : new Date();
  for (const url of cert.crlUrls) {
    try {
      const base = parseCrl(await fetchCrl(url, o));
      validateCrl(base, issuer, now);
      if (base.deltaOf !== undefined) throw invalidAnswer('the CRL at a distribution point must be a base CRL, not a delta CRL');
      let delta: CrlInfo | undefined;
      const fresh = base.extensions.find((x) => x.oid === '2.5.29.46');
      const deltaUrls = [...cert.deltaCrlUrls];
      if (fresh) {
        for (const dp of sequence(parseDer(fresh.value), 'freshest CRL')) {
          for (const fld of sequence(dp, 'distribution point')) {
            if (fld.tag !== contextTag(0, true)) continue;
            const dpn = readTlv(fld.value);
            if (dpn.tag === contextTag(0, true)) for (const g of children(dpn)) if (g.tag === 0x86) deltaUrls.push(Buffer.from(g.value).toString('latin1'));
          }
        }
      }
      if (deltaUrls.length) {
        delta = parseCrl(await fetchCrl(deltaUrls[0], o));
        validateCrl(delta, issuer, now);
        if (delta.deltaOf === undefined) throw invalidAnswer('delta CRL is missing the Delta CRL Indicator extension');
        if (base.crlNumber === undefined || delta.deltaOf > base.crlNumber) throw invalidAnswer('delta CRL does not apply to the base CRL');
      }
      return crlStatus(cert, base, delta, o.signingTime);
    } catch (e) {
      note(problems, url, e);
    }
  }
  return 'unknown';
}

// ------------------------------------------------------------------------------------------------
// chain
// ------------------------------------------------------------------------------------------------

/** Revocation status of one certificate against its issuer (OCSP, then CRL fallback). */
export async function checkCertificateRevocation(
  cert: CertificateInfo, issuer: CertificateInfo, opts: RevocationOptions = {},
): Promise<CertRevocationResult> {
  const o = { ...opts, fetch: opts.fetch ?? httpFetch };
  const problems: Problems = { errors: [], definitive: false };
  const errors = problems.errors;
  const hasOcsp = cert.ocspUrls.length > 0;
  const hasCrl = cert.crlUrls.length > 0;
  if (!hasOcsp && !hasCrl) return { subject: cert.subject, status: 'nonRevokable', method: 'none', errors };
  const result = (status: RevocationStatus, method: 'ocsp' | 'crl'): CertRevocationResult => ({
    subject: cert.subject, status, method, errors, ...(status === 'unknown' ? { transient: !problems.definitive } : {}),
  });
  if (hasOcsp) {
    const s = await checkOcsp(cert, issuer, o, problems);
    if (s !== 'unknown' || !hasCrl) return result(s, 'ocsp');
  }
  return result(await checkCrl(cert, issuer, o, problems), 'crl');
}

/**
 * Checks every non-root certificate of `chain` (leaf..root) concurrently. Overall: any revoked =>
 * `revoked`; else any unknown => `unknown`; else all non-revokable => `nonRevokable`; else `good`.
 * Network problems never throw: they make the certificate's status `unknown` (`transient` when only
 * transport failures were met; invalid or definitive answers make it non-transient).
 */
export async function checkRevocation(chain: readonly CertificateInfo[], opts: RevocationOptions = {}): Promise<RevocationResult> {
  if (chain.length === 0) return { status: 'unknown', reason: 'certificate chain is empty', certs: [], transient: false };
  const results = await Promise.all(chain.map((c, i) => (i === chain.length - 1
    ? Promise.resolve<CertRevocationResult>({ subject: c.subject, status: 'nonRevokable', method: 'none', errors: [] })
    : checkCertificateRevocation(c, chain[i + 1], opts))));
  const kind = opts.purpose === 'timestamping' ? 'timestamping' : 'signing';
  // notation-go walks from the root to the leaf and keeps the last problem (revoked wins).
  let problem: CertRevocationResult | undefined;
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i];
    if (r.status === 'revoked') { problem = r; break; }
    if (r.status === 'unknown') problem = r;
  }
  if (problem?.status === 'revoked') {
    return { status: 'revoked', reason: `${kind} certificate with subject ${goQuote(problem.subject)} is revoked`, certs: results };
  }
  if (problem) {
    // Inconclusive only when every unknown certificate is unknown because of transport failures.
    const transient = results.every((r) => r.status !== 'unknown' || r.transient === true);
    return { status: 'unknown', reason: `${kind} certificate with subject ${goQuote(problem.subject)} revocation status is unknown`, certs: results, transient };
  }
  return { status: results.every((r) => r.status === 'nonRevokable') ? 'nonRevokable' : 'good', certs: results };
}
