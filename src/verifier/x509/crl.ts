/**
 * CRLs (RFC 5280 §5) for the revocation check: parsing, validation against the issuer (notation-core-go
 * `revocation/crl`: signature, issuer, NextUpdate required, critical extensions), delta CRLs, and the
 * per-certificate CRL step (http only, 5 s).
 */
import { CertificateInfo } from './certificate';
import { TAG, bytesEqual, children, contextTag, decodeTime, expectTag, parseDer, sequence } from './der';
import {
  ExtensionInfo, KNOWN_CRL_EXTENSIONS, decodeCrlNumber, decodeCrlReason, decodeDistributionPoints, decodeInvalidityDate, findExtension,
  parseExtensionList,
} from './extensions';
import { readSignatureBits } from './ocsp';
import { OID } from './oids';
import type { RevocationOptions, RevocationStatus } from './revocation';
import { Problems, RevocationFetch, fetchRevocationData, invalidAnswer, note, unavailable } from './revocation-transport';
import { SignatureAlgorithmInfo, checkSignature, parseAlgorithm } from './signature';

export const DEFAULT_CRL_TIMEOUT_MS = 5000;
const MAX_CRL_BYTES = 32 * 1024 * 1024;

/** CRLReason values with a meaning of their own here. */
const REASON_CERTIFICATE_HOLD = 6;
const REASON_REMOVE_FROM_CRL = 8;

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

const fail = (detail: string): never => { throw invalidAnswer(detail); };

function parseEntry(e: Parameters<typeof sequence>[0]): CrlEntryInfo {
  const ef = sequence(e, 'CRL entry');
  const serialRaw = expectTag(ef[0], TAG.INTEGER, 'serial').value;
  const revocationDate = decodeTime(ef[1]);
  let reason: number | undefined;
  let invalidityDate: Date | undefined;
  for (const x of ef[2] ? parseExtensionList(ef[2], fail) : []) {
    if (x.oid === OID.EXT_CRL_REASON) reason = decodeCrlReason(x);
    else if (x.oid === OID.EXT_INVALIDITY_DATE) invalidityDate = decodeInvalidityDate(x);
    else if (x.critical) throw invalidAnswer(`CRL entry contains unsupported critical extension ${x.oid}`);
  }
  return { serialRaw, revocationDate, ...(reason !== undefined ? { reason } : {}), ...(invalidityDate ? { invalidityDate } : {}) };
}

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
  const entries = f[i]?.tag === TAG.SEQUENCE ? sequence(f[i++], 'revokedCertificates').map(parseEntry) : [];
  const extensions = f[i]?.tag === contextTag(0, true) ? parseExtensionList(children(f[i++])[0], fail) : [];
  if (i !== f.length) throw invalidAnswer('unexpected data in TBSCertList');
  let crlNumber: bigint | undefined;
  let deltaOf: bigint | undefined;
  for (const x of extensions) {
    if (x.oid === OID.EXT_CRL_NUMBER) crlNumber = decodeCrlNumber(x);
    if (x.oid === OID.EXT_DELTA_CRL_INDICATOR) deltaOf = decodeCrlNumber(x);
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
    signature: readSignatureBits(sigTlv),
  };
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
    if (x.critical && !KNOWN_CRL_EXTENSIONS.has(x.oid)) throw invalidAnswer(`CRL contains unsupported critical extension ${x.oid}`);
    if (x.critical && x.oid === OID.EXT_ISSUING_DISTRIBUTION_POINT) throw invalidAnswer('CRL with a critical issuing distribution point is not supported');
  }
}

async function fetchCrl(url: string, o: RevocationOptions & { fetch: RevocationFetch }): Promise<Uint8Array> {
  if (!url.toLowerCase().startsWith('http://')) throw invalidAnswer(`unsupported scheme: ${url.split(':')[0]}. Only supports CRL URL in HTTP protocol`);
  const res = await fetchRevocationData(o.fetch, url, { method: 'GET', timeoutMs: o.timeouts?.crlMs ?? DEFAULT_CRL_TIMEOUT_MS, maxBytes: MAX_CRL_BYTES });
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
      if (e.reason === REASON_REMOVE_FROM_CRL) { hold = false; continue; }
      if (e.reason === REASON_CERTIFICATE_HOLD) { hold = true; continue; }
      return 'revoked';
    }
  }
  return hold ? 'revoked' : 'good';
}

/** The delta CRL of `base`, when the certificate or the base CRL names one (freshest CRL). */
async function deltaCrl(
  cert: CertificateInfo, base: CrlInfo, issuer: CertificateInfo, o: RevocationOptions & { fetch: RevocationFetch }, now: Date,
): Promise<CrlInfo | undefined> {
  const fresh = findExtension(base.extensions, OID.EXT_FRESHEST_CRL);
  const deltaUrls = [...cert.deltaCrlUrls, ...(fresh ? decodeDistributionPoints(fresh.value) : [])];
  if (!deltaUrls.length) return undefined;
  const delta = parseCrl(await fetchCrl(deltaUrls[0], o));
  validateCrl(delta, issuer, now);
  if (delta.deltaOf === undefined) throw invalidAnswer('delta CRL is missing the Delta CRL Indicator extension');
  if (base.crlNumber === undefined || delta.deltaOf > base.crlNumber) throw invalidAnswer('delta CRL does not apply to the base CRL');
  return delta;
}

/** The CRL step for one certificate: the first usable CRL of its distribution points, else `unknown`. */
export async function checkCrl(
  cert: CertificateInfo, issuer: CertificateInfo, o: RevocationOptions & { fetch: RevocationFetch }, problems: Problems,
): Promise<RevocationStatus> {
  const now = o.now ? o.now() : new Date();
  for (const url of cert.crlUrls) {
    try {
      const base = parseCrl(await fetchCrl(url, o));
      validateCrl(base, issuer, now);
      if (base.deltaOf !== undefined) throw invalidAnswer('the CRL at a distribution point must be a base CRL, not a delta CRL');
      return crlStatus(cert, base, await deltaCrl(cert, base, issuer, o, now), o.signingTime);
    } catch (e) {
      note(problems, url, e);
    }
  }
  return 'unknown';
}
