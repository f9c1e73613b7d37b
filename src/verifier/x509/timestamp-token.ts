/**
 * RFC 3161 TimeStampTokens as notation reads them (notaryproject/tspclient-go, notation-core-go
 * `internal/cms`): the CMS SignedData with id-ct-TSTInfo content, its SignerInfos, the TSTInfo and its
 * check against the timestamped message. Parsing only; verification is in timestamp.ts.
 */
import * as crypto from 'node:crypto';
import { VerificationFailedError } from '../errors';
import { CertificateInfo, parseCertificate } from './certificate';
import {
  Tlv, TAG, bytesEqual, children, contextTag, decodeGeneralizedTimeFraction, decodeInteger, decodeOctetString, decodeOid,
  expectTag, parseDer, sequence,
} from './der';
import { HASH_BY_OID, OID } from './oids';
import { rfc3339 } from '../text/go-time';

/** A malformed or invalid timestamp token (the low-level parsers' error; callers add notation's prefix). */
export function invalid(message: string): VerificationFailedError {
  return new VerificationFailedError('INVALID_TIMESTAMP', message);
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

/** tspclient `Timestamp.Format()`: `[lower, upper]` in RFC 3339. */
export function formatRange(r: TimestampRange): string {
  return `[${rfc3339(r.lower)}, ${rfc3339(r.upper)}]`;
}
