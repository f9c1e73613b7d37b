/**
 * RFC 3161 TimeStampToken verification for the `notary.x509` authentic-timestamp step
 * (notary-verification.md §8; notation-go `verifyAuthenticTimestamp`, notaryproject/tspclient-go,
 * notation-core-go `internal/cms`). Plain DER (CMS SignedData with id-ct-TSTInfo), no network.
 * TSA-chain revocation is left to the caller: `checkRevocation(result.tsaChain, { purpose: 'timestamping' })`.
 */
import * as crypto from 'node:crypto';
import { ErrorCode, VerificationFailedError, isVerifierError } from '../errors';
import { CertificateInfo, parseCertificate } from './certificate';
import { validateTimestampingChain } from './chain';
import {
  Tlv, TAG, bytesEqual, children, contextTag, decodeGeneralizedTimeFraction, decodeInteger, decodeOctetString, decodeOid,
  expectTag, parseDer, sequence,
} from './der';
import { HASH_BY_OID, OID } from './oids';
import { SignatureAlgorithmInfo, checkSignature, checkSignatureFrom } from './signature';
import { goQuote } from '../text/go-quote';
import { goUtcString, rfc1123z } from '../text/go-time';


function tsError(message: string, code: ErrorCode = 'INVALID_TIMESTAMP', cause?: unknown): never {
  throw new VerificationFailedError(code, message, cause === undefined ? undefined : { cause });
}

/** A malformed or invalid timestamp token (the low-level parsers' error; callers add notation's prefix). */
function invalid(message: string): VerificationFailedError {
  return new VerificationFailedError('INVALID_TIMESTAMP', message);
}

/**
 * Runs `fn`, turning a typed error into an `INVALID_TIMESTAMP` failure whose message is `prefix + detail`.
 * Anything untyped (a bug) propagates unchanged, so the engine reports it as `INTERNAL` with its stack.
 */
function wrap<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!isVerifierError(e)) throw e;
    throw new VerificationFailedError('INVALID_TIMESTAMP', `${prefix}${e.message}`, { cause: e });
  }
}

/**
 * Runs `fn`; a typed error becomes notation's `<prefix><detail>` INVALID_TIMESTAMP failure. Untyped
 * errors (bugs) propagate unchanged, so the engine reports them as `INTERNAL` with their stack.
 */
function step<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!isVerifierError(e)) throw e;
    tsError(`${prefix}${e.message}`, 'INVALID_TIMESTAMP', e);
  }
}

export interface Attribute {
  readonly oid: string;
  readonly values: readonly Tlv[];
}

export interface SignerInfo {
  readonly version: number;
  /** IssuerAndSerialNumber (issuer Name DER + serial contents) or subjectKeyIdentifier. */
  readonly sid: { readonly issuerRaw: Uint8Array; readonly serialRaw: Uint8Array } | { readonly subjectKeyId: Uint8Array };
  readonly digestAlgorithm: string;
  /** Raw `[0] IMPLICIT` signed attributes (as stored), if present. */
  readonly signedAttrsRaw?: Uint8Array;
  readonly signedAttrs: readonly Attribute[];
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
}

export interface SignedToken {
  readonly raw: Uint8Array;
  readonly contentType: string;
  readonly content: Uint8Array;
  readonly certificates: readonly CertificateInfo[];
  readonly signerInfos: readonly SignerInfo[];
}

export interface TstInfo {
  readonly version: number;
  readonly policy: string;
  readonly hashAlgorithm: string;
  readonly hashedMessage: Uint8Array;
  readonly serialNumber: bigint;
  readonly genTime: Date;
  /** Sub-millisecond digits of genTime are kept here (Date has ms precision). */
  readonly genTimeFraction: string;
  readonly accuracy?: { readonly seconds: number; readonly millis: number; readonly micros: number };
  readonly ordering: boolean;
  readonly nonce?: bigint;
}

export interface TimestampRange {
  readonly genTime: Date;
  /** Accuracy in microseconds. */
  readonly accuracyMicros: number;
  readonly lower: Date;
  readonly upper: Date;
}

function parseAttributes(t: Tlv): Attribute[] {
  return children(t).map((a) => {
    const [type, values] = sequence(a, 'attribute');
    return { oid: decodeOid(type), values: children(expectTag(values, TAG.SET, 'attribute values')) };
  });
}

/**
 * tspclient `ParseSignedToken`: CMS ContentInfo(SignedData) whose eContentType is id-ct-TSTInfo.
 * Throws VerificationFailedError('INVALID_TIMESTAMP') (message without prefix).
 */
export function parseSignedToken(der: Uint8Array): SignedToken {
  const ci = sequence(parseDer(der), 'ContentInfo');
  if (decodeOid(ci[0]) !== OID.CMS_SIGNED_DATA) throw invalid(`not a CMS SignedData (content type ${decodeOid(ci[0])})`);
  if (!ci[1] || ci[1].tag !== contextTag(0, true)) throw invalid('missing SignedData content');
  const sd = sequence(children(ci[1])[0], 'SignedData');
  let i = 0;
  decodeInteger(sd[i++]); // version
  expectTag(sd[i++], TAG.SET, 'digestAlgorithms');
  const eci = sequence(sd[i++], 'EncapsulatedContentInfo');
  const contentType = decodeOid(eci[0]);
  let content: Uint8Array = new Uint8Array(0);
  if (eci[1]) {
    if (eci[1].tag !== contextTag(0, true)) throw invalid('invalid eContent');
    content = decodeOctetString(children(eci[1])[0]);
  }
  const certificates: CertificateInfo[] = [];
  if (sd[i]?.tag === contextTag(0, true)) {
    for (const c of children(sd[i++])) if (c.tag === TAG.SEQUENCE) certificates.push(parseCertificate(c.raw));
  }
  if (sd[i]?.tag === contextTag(1, true)) i++; // crls
  const signerInfos = children(expectTag(sd[i++], TAG.SET, 'signerInfos')).map((s): SignerInfo => {
    const f = sequence(s, 'SignerInfo');
    let j = 0;
    const version = Number(decodeInteger(f[j++]));
    const sidTlv = f[j++];
    let sid: SignerInfo['sid'];
    if (sidTlv.tag === TAG.SEQUENCE) {
      const [issuer, serial] = sequence(sidTlv, 'IssuerAndSerialNumber');
      sid = { issuerRaw: expectTag(issuer, TAG.SEQUENCE, 'issuer').raw, serialRaw: expectTag(serial, TAG.INTEGER, 'serial').value };
    } else if (sidTlv.tag === 0x80) {
      sid = { subjectKeyId: sidTlv.value };
    } else {
      throw invalid('invalid signer identifier');
    }
    const digestAlgorithm = decodeOid(sequence(f[j++], 'digestAlgorithm')[0]);
    let signedAttrsRaw: Uint8Array | undefined;
    let signedAttrs: Attribute[] = [];
    if (f[j]?.tag === contextTag(0, true)) {
      signedAttrsRaw = f[j].raw;
      signedAttrs = parseAttributes(f[j++]);
    }
    const signatureAlgorithm = decodeOid(sequence(f[j++], 'signatureAlgorithm')[0]);
    const signature = decodeOctetString(f[j++]);
    return { version, sid, digestAlgorithm, ...(signedAttrsRaw ? { signedAttrsRaw } : {}), signedAttrs, signatureAlgorithm, signature };
  });
  if (contentType !== OID.TST_INFO) {
    throw invalid(`unexpected content type: ${contentType}. Expected to be id-ct-TSTInfo (${OID.TST_INFO})`);
  }
  return { raw: der, contentType, content, certificates, signerInfos };
}

/** tspclient `SignedToken.Info`: decodes the TSTInfo. Throws VerificationFailedError('INVALID_TIMESTAMP'). */
export function parseTstInfo(content: Uint8Array): TstInfo {
  const f = sequence(parseDer(content), 'TSTInfo');
  let i = 0;
  const version = Number(decodeInteger(f[i++]));
  const policy = decodeOid(f[i++]);
  const [algTlv, hashTlv] = sequence(f[i++], 'MessageImprint');
  const hashAlgorithm = decodeOid(sequence(algTlv, 'hashAlgorithm')[0]);
  const hashedMessage = decodeOctetString(hashTlv);
  const serialNumber = decodeInteger(f[i++]);
  const gt = expectTag(f[i++], TAG.GENERALIZED_TIME, 'genTime');
  const { date: genTime, fraction } = decodeGeneralizedTimeFraction(gt);
  let accuracy: TstInfo['accuracy'];
  if (f[i]?.tag === TAG.SEQUENCE) {
    let seconds = 0;
    let millis = 0;
    let micros = 0;
    for (const a of children(f[i++])) {
      if (a.tag === TAG.INTEGER) seconds = Number(decodeInteger(a));
      else if (a.tag === 0x80) millis = Number(decodeInteger(a, undefined, 0x80));
      else if (a.tag === 0x81) micros = Number(decodeInteger(a, undefined, 0x81));
      else throw invalid('invalid accuracy');
    }
    accuracy = { seconds, millis, micros };
  }
  let ordering = false;
  if (f[i]?.tag === TAG.BOOLEAN) ordering = f[i++].value[0] !== 0;
  let nonce: bigint | undefined;
  if (f[i]?.tag === TAG.INTEGER) nonce = decodeInteger(f[i++]);
  if (f[i]?.tag === contextTag(0, true)) i++; // tsa name
  if (f[i]?.tag === contextTag(1, true)) i++; // extensions
  if (i !== f.length) throw invalid('unexpected data in TSTInfo');
  return {
    version,
    policy,
    hashAlgorithm,
    hashedMessage,
    serialNumber,
    genTime,
    genTimeFraction: fraction,
    ...(accuracy ? { accuracy } : {}),
    ordering,
    ...(nonce !== undefined ? { nonce } : {}),
  };
}

/**
 * tspclient `TSTInfo.Validate(message)`: messageImprint must be the hash of `message`; returns the
 * timestamp range genTime ± accuracy (explicit, else 1 s for the baseline policy, else 0). Throws VerificationFailedError('INVALID_TIMESTAMP').
 */
export function validateTstInfo(info: TstInfo, message: Uint8Array): TimestampRange {
  const hash = HASH_BY_OID[info.hashAlgorithm];
  if (!hash) throw invalid(`invalid TSTInfo: unsupported hashing algorithm ${info.hashAlgorithm}`);
  const digest = new Uint8Array(crypto.createHash(hash).update(message).digest());
  if (!bytesEqual(digest, info.hashedMessage)) throw invalid('invalid TSTInfo: mismatched message');
  if (info.version !== 1) throw invalid(`invalid TSTInfo: TSTInfo version must be 1 but got ${info.version}`);
  let accuracyMicros = 0;
  const a = info.accuracy;
  if (a && (a.seconds !== 0 || a.millis !== 0 || a.micros !== 0)) {
    if (a.seconds < 0 || a.millis < 0 || a.micros < 0) throw invalid('invalid TSTInfo: TSTInfo accuracy cannot be negative');
    if (a.millis > 999 || a.micros > 999) throw invalid('invalid TSTInfo: TSTInfo accuracy millis and micros must be in range [0, 999]');
    accuracyMicros = a.seconds * 1_000_000 + a.millis * 1000 + a.micros;
  } else if (info.policy === OID.BASELINE_TIMESTAMP_POLICY) {
    accuracyMicros = 1_000_000;
  }
  // genTime keeps its full precision for the bounds: lower rounds down, upper rounds up (to the ms).
  const subMs = info.genTimeFraction.length > 3 ? Number(`0.${info.genTimeFraction.slice(3)}`) : 0;
  const base = info.genTime.getTime();
  const lower = new Date(Math.floor(base + subMs - accuracyMicros / 1000));
  const upper = new Date(Math.ceil(base + subMs + accuracyMicros / 1000));
  return { genTime: info.genTime, accuracyMicros, lower, upper };
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** tspclient `Timestamp.Format()`: `[lower, upper]` in RFC 3339. */
export function formatRange(r: TimestampRange): string {
  return `[${rfc3339(r.lower)}, ${rfc3339(r.upper)}]`;
}

function signerAlgorithm(si: SignerInfo): SignatureAlgorithmInfo {
  const hash = HASH_BY_OID[si.digestAlgorithm];
  const o = si.signatureAlgorithm;
  const rsa = [OID.RSA_ENCRYPTION, OID.SHA1_WITH_RSA, OID.SHA256_WITH_RSA, OID.SHA384_WITH_RSA, OID.SHA512_WITH_RSA] as string[];
  const ec = [OID.EC_PUBLIC_KEY, OID.ECDSA_SHA1, OID.ECDSA_SHA256, OID.ECDSA_SHA384, OID.ECDSA_SHA512] as string[];
  const base = { oid: o, raw: new Uint8Array(0), hash, pss: false };
  if (!hash) return { ...base, name: 'UnknownSignatureAlgorithm', keyType: 'unknown' };
  if (rsa.includes(o)) return { ...base, name: `${hash.toUpperCase()}-RSA`, keyType: 'rsa' };
  if (o === OID.RSA_PSS) return { ...base, name: `${hash.toUpperCase()}-RSAPSS`, keyType: 'rsa', pss: true };
  if (ec.includes(o)) return { ...base, name: `ECDSA-${hash.toUpperCase()}`, keyType: 'ec' };
  if (o === OID.ED25519) return { ...base, name: 'Ed25519', keyType: 'ed25519', hash: 'none' };
  return { ...base, name: 'UnknownSignatureAlgorithm', keyType: 'unknown' };
}

/** tspclient `SignedToken.SigningCertificate`: signing-certificate-v2 attribute + sid lookup. */
function signingCertificate(token: SignedToken, si: SignerInfo): CertificateInfo {
  const attr = si.signedAttrs.find((a) => a.oid === OID.CMS_SIGNING_CERTIFICATE_V2);
  if (!attr || attr.values.length !== 1) throw invalid('failed to get SigningCertificateV2 from signed attributes: attribute not found');
  const sid = si.sid;
  const candidate = token.certificates.find((c) => ('subjectKeyId' in sid
    ? c.subjectKeyId !== undefined && bytesEqual(c.subjectKeyId, sid.subjectKeyId)
    : bytesEqual(c.issuerRaw, sid.issuerRaw) && bytesEqual(c.serialRaw, sid.serialRaw)));
  if (!candidate) throw invalid('signing certificate not found in the timestamp token');
  const [certs] = sequence(attr.values[0], 'SigningCertificateV2');
  const ids = sequence(certs, 'ESSCertIDv2 list');
  if (ids.length === 0) throw invalid('signing certificate v2 attribute has no ESSCertIDv2');
  const first = sequence(ids[0], 'ESSCertIDv2');
  let k = 0;
  let hash: string | undefined = 'sha256';
  if (first[k]?.tag === TAG.SEQUENCE) hash = HASH_BY_OID[decodeOid(sequence(first[k++], 'hashAlgorithm')[0])];
  if (!hash) throw invalid('unsupported hash algorithm in ESSCertIDv2');
  const certHash = decodeOctetString(first[k++]);
  if (!bytesEqual(new Uint8Array(crypto.createHash(hash).update(candidate.raw).digest()), certHash)) {
    throw invalid('signing certificate hash does not match ESSCertIDv2');
  }
  if (first[k]) {
    const [, serial] = sequence(first[k], 'IssuerSerial');
    if (serial && !bytesEqual(expectTag(serial, TAG.INTEGER, 'serial').value, candidate.serialRaw)) {
      throw invalid('signing certificate serial number does not match ESSCertIDv2');
    }
  }
  return candidate;
}

function validAt(c: CertificateInfo, at: Date): string | undefined {
  if (at.getTime() < c.notBefore.getTime()) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(at)} is before ${rfc3339(c.notBefore)}`;
  }
  if (at.getTime() > c.notAfter.getTime()) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(at)} is after ${rfc3339(c.notAfter)}`;
  }
  return undefined;
}

function allowsTimestamping(c: CertificateInfo): boolean {
  return c.extKeyUsage === undefined || c.extKeyUsage.includes(OID.EKU_TIME_STAMPING) || c.extKeyUsage.includes(OID.EKU_ANY);
}

/**
 * A simplified `x509.Certificate.Verify` (path building): from `leaf` through `intermediates` to one of
 * `roots`, every cert valid at `at`, parent may sign certificates, SHA-1 rejected, timestamping EKU
 * compatible. Returns leaf..root or throws VerificationFailedError('INVALID_TIMESTAMP') with Go's wording.
 */
export function buildChain(
  leaf: CertificateInfo, intermediates: readonly CertificateInfo[], roots: readonly CertificateInfo[], at: Date,
): CertificateInfo[] {
  const leafErr = validAt(leaf, at);
  if (leafErr) throw invalid(leafErr);
  if (roots.some((r) => bytesEqual(r.raw, leaf.raw))) return [leaf];
  let incompatible = false;
  const search = (path: CertificateInfo[], depth: number): CertificateInfo[] | undefined => {
    const cur = path[path.length - 1];
    if (depth > 10) return undefined;
    const parents = (list: readonly CertificateInfo[]) => list.filter((p) => bytesEqual(p.subjectRaw, cur.issuerRaw)
      && !path.some((q) => bytesEqual(q.raw, p.raw)) && validAt(p, at) === undefined && checkSignatureFrom(cur, p) === undefined);
    for (const r of parents(roots)) {
      const full = [...path, r];
      if (full.every(allowsTimestamping)) return full;
      incompatible = true;
    }
    for (const p of parents(intermediates)) {
      if (roots.some((r) => bytesEqual(r.raw, p.raw))) continue;
      const found = search([...path, p], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  const chain = search([leaf], 0);
  if (!chain) throw invalid(incompatible ? 'x509: certificate specifies an incompatible key usage' : 'x509: certificate signed by unknown authority');
  return chain;
}

/**
 * tspclient `SignedToken.Verify` + notation-core-go `cms.VerifySigner`: exactly one signer; the signing
 * certificate (signing-certificate-v2, sid) from the token; signed attributes (content type, message
 * digest) and signature; chain to `roots` at time `at`. Returns the TSA chain (leaf..root). Throws
 * VerificationFailedError('INVALID_TIMESTAMP') worded like Go ("failed to verify signed token: …").
 */
export function verifySignedToken(token: SignedToken, roots: readonly CertificateInfo[], at: Date): CertificateInfo[] {
  return wrap('failed to verify signed token: ', () => {
    if (token.signerInfos.length !== 1) throw invalid('there should be exactly one signerInfo');
    const si = token.signerInfos[0];
    const signer = signingCertificate(token, si);
    return wrap('cms verification failure: ', () => {
      const hash = HASH_BY_OID[si.digestAlgorithm];
      if (!hash) throw invalid(`unsupported digest algorithm ${si.digestAlgorithm}`);
      let signed: Uint8Array = token.content;
      if (si.signedAttrsRaw) {
        const ct = si.signedAttrs.find((a) => a.oid === OID.CMS_CONTENT_TYPE);
        if (!ct || decodeOid(ct.values[0]) !== token.contentType) throw invalid('invalid content type attribute');
        const md = si.signedAttrs.find((a) => a.oid === OID.CMS_MESSAGE_DIGEST);
        const digest = new Uint8Array(crypto.createHash(hash).update(token.content).digest());
        if (!md || !bytesEqual(decodeOctetString(md.values[0]), digest)) throw invalid('invalid message digest');
        const attrs = new Uint8Array(si.signedAttrsRaw);
        attrs[0] = TAG.SET;
        signed = attrs;
      }
      const err = checkSignature(signer, signerAlgorithm(si), signed, si.signature, false);
      if (err) throw invalid(err);
      const intermediates = token.certificates.filter((c) => !bytesEqual(c.raw, signer.raw));
      return buildChain(signer, intermediates, roots, at);
    });
  });
}

export interface AuthenticTimestampOptions {
  /** The RFC 3161 token (`io.cncf.notary.timestampSignature`), if any. */
  readonly token?: Uint8Array;
  /** The raw signature bytes of the envelope (the message the token timestamps). */
  readonly signature: Uint8Array;
  /** Envelope signing time (`io.cncf.notary.signingTime`): a timestamp range entirely before it is rejected. */
  readonly signingTime?: Date;
  /** Signing certificate chain (leaf..root): the timestamp range must be within every cert's validity. */
  readonly signingChain: readonly CertificateInfo[];
  /** Certificates of the policy's `tsa` trust stores. */
  readonly tsaRoots: readonly CertificateInfo[];
}

export interface AuthenticTimestampResult extends TimestampRange {
  readonly tstInfo: TstInfo;
  /** TSA chain leaf..root (for TSA revocation checking). */
  readonly tsaChain: CertificateInfo[];
}

/**
 * notation-go `verifyAuthenticTimestamp` for `notary.x509` when timestamp verification runs
 * (notary-verification.md §8), with notation's messages. Throws VerificationFailedError
 * ('INVALID_TIMESTAMP', or 'CERTIFICATE_NOT_VALID' when the timestamp is outside the signing chain's validity).
 */
export function verifyAuthenticTimestamp(o: AuthenticTimestampOptions): AuthenticTimestampResult {
  if (!o.token || o.token.length === 0) tsError('no timestamp countersignature was found in the signature envelope');
  const token = step('failed to parse timestamp countersignature with error: ', () => parseSignedToken(o.token!));
  const info = step('failed to get the timestamp TSTInfo with error: ',
    () => wrap('cannot unmarshal TSTInfo from timestamp token: ', () => parseTstInfo(token.content)));
  const range = step('failed to get timestamp from timestamp countersignature with error: ', () => validateTstInfo(info, o.signature));
  if (o.tsaRoots.length < 1) tsError('no trusted TSA certificate found in trust store');
  const tsaChain = step('failed to verify the timestamp countersignature with error: ', () => verifySignedToken(token, o.tsaRoots, info.genTime));
  step('failed to validate the timestamping certificate chain with error: ', () => validateTimestampingChain(tsaChain));
  if (o.signingTime && range.upper.getTime() < o.signingTime.getTime()) {
    tsError(`timestamp ${formatRange(range)} is not bounded after the signing time ${goQuote(goUtcString(o.signingTime))}`);
  }
  for (const cert of o.signingChain) {
    if (!(range.lower.getTime() > cert.notBefore.getTime())) {
      tsError(`timestamp can be before certificate ${goQuote(cert.subject)} validity period, it will be valid from ${goQuote(rfc1123z(cert.notBefore))}`, 'CERTIFICATE_NOT_VALID');
    }
    if (!(range.upper.getTime() < cert.notAfter.getTime())) {
      tsError(`timestamp can be after certificate ${goQuote(cert.subject)} validity period, it was expired at ${goQuote(rfc1123z(cert.notAfter))}`, 'CERTIFICATE_NOT_VALID');
    }
  }
  return { ...range, tstInfo: info, tsaChain };
}
