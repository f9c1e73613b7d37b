/**
 * OCSP (RFC 6960) for the revocation check: the request notation-core-go sends (SHA-1 CertID, as Go's
 * x/crypto/ocsp), the response checks, and the per-certificate OCSP step (AIA servers, http only, GET
 * when the encoded request fits in 255 characters, else POST).
 */
import * as crypto from 'node:crypto';
import { CertificateInfo, parseCertificate } from './certificate';
import { TAG, Tlv, bytesEqual, children, contextTag, decodeInteger, decodeOctetString, decodeOid, decodeTime, encodeTlv, expectTag, parseDer, sequence } from './der';
import { parseExtensionList } from './extensions';
import { HASH_BY_OID, OID } from './oids';
import type { RevocationOptions, RevocationStatus } from './revocation';
import { FetchResponse, Problems, RevocationFetch, fetchRevocationData, invalidAnswer, note, unavailable } from './revocation-transport';
import { checkSignature, parseAlgorithm } from './signature';

export const DEFAULT_OCSP_TIMEOUT_MS = 2000;
const MAX_OCSP_BYTES = 1024 * 1024;

const SEQUENCE = 0x30;
const SHA1_ALGORITHM = encodeTlv(SEQUENCE, Buffer.from([0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00]));

/** DER OCSPRequest for `cert` issued by `issuer` (SHA-1 CertID, as Go's x/crypto/ocsp). */
export function buildOcspRequest(cert: CertificateInfo, issuer: CertificateInfo): Uint8Array {
  const sha1 = (b: Uint8Array) => crypto.createHash('sha1').update(b).digest();
  const certId = encodeTlv(SEQUENCE, Buffer.concat([
    SHA1_ALGORITHM,
    encodeTlv(TAG.OCTET_STRING, sha1(issuer.subjectRaw)),
    encodeTlv(TAG.OCTET_STRING, sha1(issuer.publicKeyBits)),
    encodeTlv(TAG.INTEGER, cert.serialRaw),
  ]));
  const request = encodeTlv(SEQUENCE, certId);
  const tbs = encodeTlv(SEQUENCE, encodeTlv(SEQUENCE, request));
  return encodeTlv(SEQUENCE, tbs);
}

interface OcspAnswer { status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date }

const RESPONSE_STATUS: Record<number, string> = { 1: 'malformed', 2: 'internal error', 3: 'try later', 5: 'signature required', 6: 'unauthorized' };

export function readSignatureBits(t: Tlv): Uint8Array {
  const v = expectTag(t, TAG.BIT_STRING, 'signature').value;
  if (v.length < 1 || v[0] !== 0) throw invalidAnswer('invalid signature bit string');
  return v.subarray(1);
}

/** The BasicOCSPResponse of an OCSPResponse; a non-successful responseStatus is an error. */
function basicResponse(body: Uint8Array): Tlv[] {
  const top = sequence(parseDer(body), 'OCSPResponse');
  const status = Number(decodeInteger(expectTag(top[0], TAG.ENUMERATED, 'responseStatus'), undefined, TAG.ENUMERATED));
  if (status !== 0) {
    const message = `OCSP response status: ${RESPONSE_STATUS[status] ?? status}`;
    // internalError and tryLater say nothing about the certificate: asking again may work.
    throw status === 2 || status === 3 ? unavailable(message) : invalidAnswer(message);
  }
  if (!top[1] || top[1].tag !== contextTag(0, true)) throw invalidAnswer('OCSP response has no responseBytes');
  const [typeTlv, respTlv] = sequence(children(top[1])[0], 'ResponseBytes');
  if (decodeOid(typeTlv) !== OID.OCSP_BASIC_RESPONSE) throw invalidAnswer('OCSP response is not a basic OCSP response');
  return sequence(parseDer(decodeOctetString(respTlv)), 'BasicOCSPResponse');
}

/** The response signer: the issuer, or a delegated responder issued by it with the OCSPSigning EKU. */
function responseSigner(certsTlv: Tlv | undefined, issuer: CertificateInfo): CertificateInfo {
  if (!certsTlv || certsTlv.tag !== contextTag(0, true)) return issuer;
  const certs = sequence(children(certsTlv)[0], 'certs').map((c) => parseCertificate(c.raw));
  const responder = certs.find((c) => !bytesEqual(c.raw, issuer.raw));
  if (!responder) return issuer;
  const e = checkSignature(issuer, responder.signatureAlgorithm, responder.tbs, responder.signature, true);
  if (e) throw invalidAnswer(`bad signature on embedded certificate: ${e}`);
  if (!(responder.extKeyUsage ?? []).includes(OID.EKU_OCSP_SIGNING)) throw invalidAnswer('OCSP responder certificate lacks the OCSPSigning EKU');
  return responder;
}

/** The SingleResponse for `cert`'s serial, with its CertID checked against the issuer. */
function singleResponse(responses: Tlv[], cert: CertificateInfo, issuer: CertificateInfo): Tlv[] {
  for (const r of responses) {
    const f = sequence(r, 'SingleResponse');
    const [hashAlg, nameHash, keyHash, serial] = sequence(f[0], 'CertID');
    const hashName = HASH_BY_OID[decodeOid(sequence(hashAlg, 'hash algorithm')[0])];
    if (!bytesEqual(expectTag(serial, TAG.INTEGER, 'serial').value, cert.serialRaw)) continue;
    if (!hashName) throw invalidAnswer('unsupported OCSP CertID hash algorithm');
    const h = (b: Uint8Array) => new Uint8Array(crypto.createHash(hashName).update(b).digest());
    if (!bytesEqual(decodeOctetString(nameHash), h(issuer.subjectRaw)) || !bytesEqual(decodeOctetString(keyHash), h(issuer.publicKeyBits))) {
      throw invalidAnswer('OCSP response CertID does not match the issuer');
    }
    return f;
  }
  throw invalidAnswer('no OCSP response for the certificate serial number');
}

/** certStatus, thisUpdate, nextUpdate and singleExtensions of a SingleResponse, checked at `now`. */
function singleStatus(f: Tlv[], now: Date): OcspAnswer {
  const certStatus = f[1];
  const thisUpdate = decodeTime(f[2]);
  let nextUpdate: Date | undefined;
  for (const extra of f.slice(3)) {
    if (extra.tag === contextTag(0, true)) nextUpdate = decodeTime(children(extra)[0]);
    if (extra.tag === contextTag(1, true)) {
      const crit = parseExtensionList(children(extra)[0], (d) => { throw invalidAnswer(d); }).find((e) => e.critical);
      if (crit) throw invalidAnswer(`OCSP response contains unsupported critical extension ${crit.oid}`);
    }
  }
  if (thisUpdate.getTime() > now.getTime() + 5 * 60_000) throw invalidAnswer('OCSP response thisUpdate is in the future');
  if (nextUpdate && now.getTime() > nextUpdate.getTime()) throw invalidAnswer('expired OCSP response');
  if (certStatus.tag === 0x80) return { status: 'good' };
  if (certStatus.tag === 0x82) return { status: 'unknown' };
  if (certStatus.tag === contextTag(1, true)) return { status: 'revoked', revokedAt: decodeTime(children(certStatus)[0]) };
  throw invalidAnswer('invalid OCSP certStatus');
}

/** Parses and verifies an OCSP response for `cert`; throws Error with the problem. */
export function parseOcspResponse(body: Uint8Array, cert: CertificateInfo, issuer: CertificateInfo, now: Date): OcspAnswer {
  const [tbsTlv, algTlv, sigTlv, certsTlv] = basicResponse(body);
  const alg = parseAlgorithm(algTlv);
  const sigBits = readSignatureBits(sigTlv);
  const signer = responseSigner(certsTlv, issuer);
  const sigErr = checkSignature(signer, alg, tbsTlv.raw, sigBits, true);
  if (sigErr) throw invalidAnswer(`bad OCSP signature: ${sigErr}`);
  const rd = sequence(tbsTlv, 'ResponseData');
  // [0] version (optional), responderID, producedAt, responses
  const responses = sequence(rd[rd[0]?.tag === contextTag(0, true) ? 3 : 2], 'responses');
  return singleStatus(singleResponse(responses, cert, issuer), now);
}

async function queryServer(server: string, req: Uint8Array, fetch: RevocationFetch, timeoutMs: number): Promise<FetchResponse> {
  if (!server.toLowerCase().startsWith('http://')) throw invalidAnswer(`OCSPServer protocol ${server.split(':')[0]} is not supported`);
  const encoded = encodeURIComponent(Buffer.from(req).toString('base64'));
  if (encoded.length <= 255) {
    return fetchRevocationData(fetch, `${server.replace(/\/$/, '')}/${encoded}`, { method: 'GET', timeoutMs, maxBytes: MAX_OCSP_BYTES });
  }
  return fetchRevocationData(fetch, server, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: req, timeoutMs, maxBytes: MAX_OCSP_BYTES });
}

/** The OCSP step for one certificate: the first definitive answer of its servers, else `unknown`. */
export async function checkOcsp(
  cert: CertificateInfo, issuer: CertificateInfo, o: RevocationOptions & { fetch: RevocationFetch }, problems: Problems,
): Promise<RevocationStatus> {
  const req = buildOcspRequest(cert, issuer);
  const timeoutMs = o.timeouts?.ocspMs ?? DEFAULT_OCSP_TIMEOUT_MS;
  for (const server of cert.ocspUrls) {
    try {
      const res = await queryServer(server, req, o.fetch, timeoutMs);
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
