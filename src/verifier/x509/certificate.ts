/**
 * X.509 certificate parsing for the verifier (RFC 5280), with the fields and Go-compatible string
 * forms notation relies on (notation-core-go / crypto/x509 semantics). The parts live by concern:
 * `tbs.ts` (structure), `name.ts` (Names and Go's string forms), `public-key.ts`, `signature.ts`
 * (algorithms and Go's signature checks), `extensions/` (one decoder per extension OID), `oids.ts`.
 */
import * as crypto from 'node:crypto';
import { VerificationFailedError } from '../errors';
import { Tlv, bytesEqual, decodeTime, readTlv } from './der';
import { CertificateExtensionFields, ExtensionInfo, decodeCertificateExtensions, parseExtensionList } from './extensions';
import { malformedCertificate as malformed } from './malformed';
import { NameAttribute, formatGoName, parseName } from './name';
import { pemBlocks } from './pem';
import { PublicKeyInfo, parsePublicKey } from './public-key';
import { SignatureAlgorithmInfo, checkSignature, parseAlgorithm } from './signature';
import { extensionList, signatureBits, splitCertificate } from './tbs';

export interface CertificateInfo extends PublicKeyInfo, CertificateExtensionFields {
  /** Full DER. */
  readonly raw: Uint8Array;
  /** Raw TBSCertificate DER. */
  readonly tbs: Uint8Array;
  readonly version: number;
  /** Serial number as lowercase hex without leading zeros (`-` prefix if negative). */
  readonly serialNumber: string;
  /** Serial number INTEGER contents octets. */
  readonly serialRaw: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithmInfo;
  readonly signature: Uint8Array;
  readonly subjectRaw: Uint8Array;
  readonly issuerRaw: Uint8Array;
  /** Subject as Go's `pkix.Name.String()` prints it. */
  readonly subject: string;
  readonly issuer: string;
  /** Alias of {@link subject}. */
  readonly subjectString: string;
  /** Alias of {@link issuer}. */
  readonly issuerString: string;
  readonly subjectAttributes: readonly NameAttribute[];
  readonly issuerAttributes: readonly NameAttribute[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly ExtensionInfo[];
  /** subject == issuer (raw bytes) AND the signature verifies with the certificate's own key. */
  readonly isSelfSigned: boolean;
  /** Lowercase hex SHA-256 of the DER. */
  readonly sha256: string;
}

/**
 * Parsed certificates by content (SHA-256 of the DER). Parsing is deterministic and the result is
 * read-only, and the same intermediates and roots (and, for a while, the same leaf) sign every image
 * of a publisher, so a small LRU saves most of the per-verification parsing. Failures are not cached.
 */
const PARSE_CACHE = new Map<string, CertificateInfo>();
const PARSE_CACHE_MAX = 512;

/** Counters of the parse cache (read by tests and benchmarks). */
export const certificateParseStats = { parsed: 0, cacheHits: 0 };

/** Parses a DER X.509 certificate. Throws VerificationFailedError('INVALID_CERTIFICATE_CHAIN') if malformed. */
export function parseCertificate(der: Uint8Array): CertificateInfo {
  if (!(der instanceof Uint8Array) || der.length === 0) malformed('empty input');
  const key = crypto.createHash('sha256').update(der).digest('base64');
  const hit = PARSE_CACHE.get(key);
  if (hit) {
    certificateParseStats.cacheHits++;
    PARSE_CACHE.delete(key);
    PARSE_CACHE.set(key, hit);
    return hit;
  }
  const info = parseCertificateUncached(der);
  PARSE_CACHE.set(key, info);
  if (PARSE_CACHE.size > PARSE_CACHE_MAX) PARSE_CACHE.delete(PARSE_CACHE.keys().next().value!);
  return info;
}

/** Every failure is Go's `x509: malformed certificate: …` (typed messages of the parts are kept as the detail). */
function parseCertificateUncached(der: Uint8Array): CertificateInfo {
  certificateParseStats.parsed++;
  const raw = new Uint8Array(der);
  try {
    return assemble(raw);
  } catch (e) {
    if (e instanceof VerificationFailedError) {
      if (e.message.startsWith('x509: malformed certificate')) throw e;
      malformed(e.message);
    }
    malformed(e instanceof Error ? e.message : String(e));
  }
}

function serialHex(serial: bigint): string {
  return serial < 0n ? `-${(-serial).toString(16)}` : serial.toString(16);
}

/** Decodes the parts in Go's order, so the first malformation reported is the one Go reports. */
function assemble(raw: Uint8Array): CertificateInfo {
  const parts = splitCertificate(raw);
  const signatureAlgorithm = parseAlgorithm(parts.signatureAlgorithm);
  const signature = signatureBits(parts.signature);
  const issuerAttributes = parseName(parts.issuer);
  const subjectAttributes = parseName(parts.subject);
  const notBefore = decodeTime(parts.notBefore);
  const notAfter = decodeTime(parts.notAfter);
  const key = parsePublicKey(parts.spki);
  const extensions = parts.extensions ? parseExtensionList(extensionList(parts.extensions), malformed, { rejectDuplicates: true }) : [];
  const subject = formatGoName(subjectAttributes);
  const issuer = formatGoName(issuerAttributes);
  const info: Omit<CertificateInfo, 'isSelfSigned'> = {
    raw,
    tbs: parts.tbs.raw,
    version: parts.version,
    serialNumber: serialHex(parts.serialNumber),
    serialRaw: parts.serial.value,
    signatureAlgorithm,
    signature,
    subjectRaw: parts.subject.raw,
    issuerRaw: parts.issuer.raw,
    subject,
    issuer,
    subjectString: subject,
    issuerString: issuer,
    subjectAttributes,
    issuerAttributes,
    notBefore,
    notAfter,
    ...key,
    ...decodeCertificateExtensions(extensions),
    extensions,
    sha256: crypto.createHash('sha256').update(raw).digest('hex'),
  };
  const isSelfSigned = bytesEqual(info.subjectRaw, info.issuerRaw)
    && checkSignature(info, signatureAlgorithm, info.tbs, signature, true) === undefined;
  return { ...info, isSelfSigned };
}

/**
 * Reads certificates from file content the way notation-core-go `ReadCertificateFile` does: PEM with one
 * or more CERTIFICATE blocks, else a single DER certificate (or concatenated DER certificates).
 */
export function parseCertificates(data: Uint8Array | string): CertificateInfo[] {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const text = buf.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = pemBlocks(text);
    if (blocks.length === 0) malformed('no CERTIFICATE PEM block found');
    return blocks.map(parseCertificate);
  }
  const out: CertificateInfo[] = [];
  let off = 0;
  while (off < buf.length) {
    let t: Tlv;
    try {
      t = readTlv(buf, off);
    } catch (e) {
      malformed((e as Error).message);
    }
    out.push(parseCertificate(t.raw));
    off = t.end;
  }
  if (out.length === 0) malformed('empty input');
  return out;
}
