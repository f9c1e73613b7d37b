/**
 * X.509 certificate parsing for the verifier (RFC 5280), with the fields and Go-compatible string
 * forms notation relies on (notation-core-go / crypto/x509 semantics).
 */
import * as crypto from 'node:crypto';
import { VerificationFailedError } from '../errors';
import {
  Tlv, TAG, bitAt, bytesEqual, children, contextTag, decodeBitString, decodeBoolean, decodeInteger,
  decodeOctetString, decodeOid, decodeString, decodeTime, expectTag, isPrintableString, parseDer, readTlv,
  sequence, toHex,
} from './der';

export const OID = {
  RSA_ENCRYPTION: '1.2.840.113549.1.1.1',
  EC_PUBLIC_KEY: '1.2.840.10045.2.1',
  ED25519: '1.3.101.112',
  MD5_WITH_RSA: '1.2.840.113549.1.1.4',
  SHA1_WITH_RSA: '1.2.840.113549.1.1.5',
  SHA256_WITH_RSA: '1.2.840.113549.1.1.11',
  SHA384_WITH_RSA: '1.2.840.113549.1.1.12',
  SHA512_WITH_RSA: '1.2.840.113549.1.1.13',
  RSA_PSS: '1.2.840.113549.1.1.10',
  MGF1: '1.2.840.113549.1.1.8',
  ECDSA_SHA1: '1.2.840.10045.4.1',
  ECDSA_SHA256: '1.2.840.10045.4.3.2',
  ECDSA_SHA384: '1.2.840.10045.4.3.3',
  ECDSA_SHA512: '1.2.840.10045.4.3.4',
  SHA1: '1.3.14.3.2.26',
  SHA256: '2.16.840.1.101.3.4.2.1',
  SHA384: '2.16.840.1.101.3.4.2.2',
  SHA512: '2.16.840.1.101.3.4.2.3',
  EXT_SUBJECT_KEY_ID: '2.5.29.14',
  EXT_KEY_USAGE: '2.5.29.15',
  EXT_BASIC_CONSTRAINTS: '2.5.29.19',
  EXT_CRL_DISTRIBUTION_POINTS: '2.5.29.31',
  EXT_AUTHORITY_KEY_ID: '2.5.29.35',
  EXT_EXT_KEY_USAGE: '2.5.29.37',
  EXT_FRESHEST_CRL: '2.5.29.46',
  EXT_AUTHORITY_INFO_ACCESS: '1.3.6.1.5.5.7.1.1',
  AD_OCSP: '1.3.6.1.5.5.7.48.1',
  AD_CA_ISSUERS: '1.3.6.1.5.5.7.48.2',
  EKU_ANY: '2.5.29.37.0',
  EKU_SERVER_AUTH: '1.3.6.1.5.5.7.3.1',
  EKU_CLIENT_AUTH: '1.3.6.1.5.5.7.3.2',
  EKU_CODE_SIGNING: '1.3.6.1.5.5.7.3.3',
  EKU_EMAIL_PROTECTION: '1.3.6.1.5.5.7.3.4',
  EKU_TIME_STAMPING: '1.3.6.1.5.5.7.3.8',
  EKU_OCSP_SIGNING: '1.3.6.1.5.5.7.3.9',
} as const;

/** Key usage bits (RFC 5280 §4.2.1.3) as named flags. */
export interface KeyUsageFlags {
  readonly digitalSignature: boolean;
  readonly contentCommitment: boolean;
  readonly keyEncipherment: boolean;
  readonly dataEncipherment: boolean;
  readonly keyAgreement: boolean;
  readonly keyCertSign: boolean;
  readonly cRLSign: boolean;
  readonly encipherOnly: boolean;
  readonly decipherOnly: boolean;
}

export const KEY_USAGE_NAMES: readonly (keyof KeyUsageFlags)[] = [
  'digitalSignature', 'contentCommitment', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
];

export interface KeyUsageInfo {
  readonly present: boolean;
  readonly critical: boolean;
  /** All false when absent. Go treats an all-zero key usage like an absent one. */
  readonly bits: KeyUsageFlags;
}

export interface BasicConstraintsInfo {
  readonly present: boolean;
  readonly critical: boolean;
  readonly ca: boolean;
  /** pathLenConstraint when present. */
  readonly pathLen?: number;
}

export interface ExtensionInfo {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

export interface NameAttribute {
  readonly oid: string;
  readonly value: string;
  /** Index of the RDN (SET) this attribute belongs to, in DER order. */
  readonly rdn: number;
}

export type SignatureHash = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'none';

export interface SignatureAlgorithmInfo {
  readonly oid: string;
  /** Go-style name, e.g. `SHA256-RSA`, `ECDSA-SHA384`, `SHA256-RSAPSS`, `Ed25519`, or `UnknownSignatureAlgorithm`. */
  readonly name: string;
  readonly keyType: 'rsa' | 'ec' | 'ed25519' | 'unknown';
  readonly hash: SignatureHash | undefined;
  readonly pss: boolean;
  /** Raw AlgorithmIdentifier DER. */
  readonly raw: Uint8Array;
}

export interface CertificateInfo {
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
  /** Raw SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING contents (without the unused-bits byte). */
  readonly publicKeyBits: Uint8Array;
  readonly publicKey: crypto.KeyObject;
  readonly keyType: 'rsa' | 'ec' | 'ed25519' | 'other';
  /** RSA modulus size rounded up to whole bytes (Go `key.Size()*8`), or EC curve size. */
  readonly keySizeBits: number;
  /** `P-256` | `P-384` | `P-521` | other Node curve name. */
  readonly curve?: string;
  readonly keyUsage: KeyUsageInfo;
  readonly basicConstraints: BasicConstraintsInfo;
  /** EKU OIDs in certificate order, undefined when the extension is absent. */
  readonly extKeyUsage?: readonly string[];
  readonly extKeyUsageCritical: boolean;
  readonly extensions: readonly ExtensionInfo[];
  readonly subjectKeyId?: Uint8Array;
  readonly authorityKeyId?: Uint8Array;
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
  readonly crlUrls: readonly string[];
  /** Freshest CRL (delta CRL) distribution points. */
  readonly deltaCrlUrls: readonly string[];
  /** subject == issuer (raw bytes) AND the signature verifies with the certificate's own key. */
  readonly isSelfSigned: boolean;
  /** Lowercase hex SHA-256 of the DER. */
  readonly sha256: string;
}

function malformed(detail: string): never {
  throw new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', `x509: malformed certificate: ${detail}`);
}

const NAME_TYPES: Record<string, string> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};

const NAME_STRING_TAGS = new Set<number>([
  TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.IA5_STRING, TAG.T61_STRING, TAG.BMP_STRING, TAG.NUMERIC_STRING,
]);

/** Parses a Name (SEQUENCE OF SET OF AttributeTypeAndValue). */
export function parseName(t: Tlv): NameAttribute[] {
  const out: NameAttribute[] = [];
  const rdns = sequence(t, 'name');
  rdns.forEach((rdnTlv, i) => {
    const atvs = children(expectTag(rdnTlv, TAG.SET, 'relative distinguished name'));
    if (atvs.length === 0) malformed('empty relative distinguished name');
    for (const atv of atvs) {
      const [type, value, ...rest] = sequence(atv, 'attribute type and value');
      if (!value || rest.length) malformed('invalid attribute type and value');
      const oid = decodeOid(type);
      if (!NAME_STRING_TAGS.has(value.tag)) malformed(`unsupported string type: ${value.tag}`);
      out.push({ oid, value: decodeString(value), rdn: i });
    }
  });
  return out;
}

function goEscape(v: string): string {
  const bytes = Buffer.byteLength(v, 'utf8');
  let out = '';
  let k = 0;
  for (const c of v) {
    let esc = false;
    switch (c) {
      case ',': case '+': case '"': case '\\': case '<': case '>': case ';':
        esc = true; break;
      case ' ':
        esc = k === 0 || k === bytes - 1; break;
      case '#':
        esc = k === 0; break;
      default:
    }
    out += esc ? `\\${c}` : c;
    k += Buffer.byteLength(c, 'utf8');
  }
  return out;
}

/** DER of a Go string re-marshalled by `asn1.Marshal` (PrintableString when possible, else UTF8String). */
function goMarshalString(v: string): Uint8Array {
  const body = Buffer.from(v, 'utf8');
  const tag = isPrintableString(v) ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING;
  let len: number[];
  if (body.length < 0x80) {
    len = [body.length];
  } else {
    const bs: number[] = [];
    for (let n = body.length; n > 0; n = Math.floor(n / 256)) bs.unshift(n % 256);
    len = [0x80 | bs.length, ...bs];
  }
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

/**
 * Formats name attributes exactly like Go's `pkix.Name.String()` on a parsed certificate: the known
 * attributes are regrouped (C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER; several values of
 * one type become one multi-valued RDN), other attributes come first as single RDNs, then the whole
 * sequence is printed in reverse with Go's escaping; unknown types print as `oid=#hex`.
 */
export function formatGoName(attrs: readonly NameAttribute[]): string {
  const rdns: { oid: string; value: string }[][] = [];
  const std = new Set(['2.5.4.3', '2.5.4.5', '2.5.4.6', '2.5.4.7', '2.5.4.8', '2.5.4.9', '2.5.4.10', '2.5.4.11', '2.5.4.17']);
  for (const a of attrs) {
    if (!std.has(a.oid)) rdns.push([{ oid: a.oid, value: a.value }]);
  }
  const multi = (oid: string) => {
    const vals = attrs.filter((a) => a.oid === oid).map((a) => ({ oid, value: a.value }));
    if (vals.length) rdns.push(vals);
  };
  multi('2.5.4.6');
  multi('2.5.4.8');
  multi('2.5.4.7');
  multi('2.5.4.9');
  multi('2.5.4.17');
  multi('2.5.4.10');
  multi('2.5.4.11');
  const last = (oid: string) => {
    const vals = attrs.filter((a) => a.oid === oid);
    const v = vals.length ? vals[vals.length - 1].value : '';
    if (v.length > 0) rdns.push([{ oid, value: v }]);
  };
  last('2.5.4.3');
  last('2.5.4.5');
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    parts.push(rdns[i].map((tv) => {
      const name = NAME_TYPES[tv.oid];
      if (!name) return `${tv.oid}=#${toHex(goMarshalString(tv.value))}`;
      return `${name}=${goEscape(tv.value)}`;
    }).join('+'));
  }
  return parts.join(',');
}

/** Parses a signature AlgorithmIdentifier (certificates, CRLs, OCSP, CMS). */
export function parseAlgorithm(t: Tlv): SignatureAlgorithmInfo {
  const [oidTlv, params] = sequence(t, 'algorithm identifier');
  const oid = decodeOid(oidTlv);
  const base = { oid, raw: t.raw, pss: false };
  switch (oid) {
    case OID.SHA256_WITH_RSA: return { ...base, name: 'SHA256-RSA', keyType: 'rsa', hash: 'sha256' };
    case OID.SHA384_WITH_RSA: return { ...base, name: 'SHA384-RSA', keyType: 'rsa', hash: 'sha384' };
    case OID.SHA512_WITH_RSA: return { ...base, name: 'SHA512-RSA', keyType: 'rsa', hash: 'sha512' };
    case OID.SHA1_WITH_RSA: return { ...base, name: 'SHA1-RSA', keyType: 'rsa', hash: 'sha1' };
    case OID.MD5_WITH_RSA: return { ...base, name: 'MD5-RSA', keyType: 'rsa', hash: 'md5' };
    case OID.ECDSA_SHA1: return { ...base, name: 'ECDSA-SHA1', keyType: 'ec', hash: 'sha1' };
    case OID.ECDSA_SHA256: return { ...base, name: 'ECDSA-SHA256', keyType: 'ec', hash: 'sha256' };
    case OID.ECDSA_SHA384: return { ...base, name: 'ECDSA-SHA384', keyType: 'ec', hash: 'sha384' };
    case OID.ECDSA_SHA512: return { ...base, name: 'ECDSA-SHA512', keyType: 'ec', hash: 'sha512' };
    case OID.ED25519: return { ...base, name: 'Ed25519', keyType: 'ed25519', hash: 'none' };
    case OID.RSA_PSS: {
      // Only the Go-supported profile: hash SHA-256/384/512, MGF1 with the same hash, salt = hash length.
      let hash: SignatureHash | undefined;
      try {
        const fields = params ? sequence(params, 'RSASSA-PSS params') : [];
        let hashOid = OID.SHA1 as string;
        let mgfHash = OID.SHA1 as string;
        let salt = 20;
        for (const f of fields) {
          const inner = children(f)[0];
          if (f.tag === contextTag(0, true)) {hashOid = decodeOid(sequence(inner, 'hash')[0]);} else if (f.tag === contextTag(1, true)) {
            const [mgfOid, mgfParams] = sequence(inner, 'mgf');
            if (decodeOid(mgfOid) !== OID.MGF1) throw new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', 'unsupported RSASSA-PSS mask generation function');
            mgfHash = decodeOid(sequence(mgfParams, 'mgf hash')[0]);
          } else if (f.tag === contextTag(2, true)) {salt = Number(decodeInteger(inner));} else if (f.tag === contextTag(3, true)) {
            if (decodeInteger(inner) !== 1n) throw new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', 'unsupported RSASSA-PSS trailer field');
          }
        }
        const map: Record<string, [SignatureHash, number]> = {
          [OID.SHA256]: ['sha256', 32], [OID.SHA384]: ['sha384', 48], [OID.SHA512]: ['sha512', 64],
        };
        const h = map[hashOid];
        if (h && mgfHash === hashOid && salt === h[1]) hash = h[0];
      } catch {
        hash = undefined;
      }
      if (!hash) return { ...base, name: 'UnknownSignatureAlgorithm', keyType: 'unknown', hash: undefined };
      return { ...base, pss: true, name: `${hash.toUpperCase()}-RSAPSS`, keyType: 'rsa', hash };
    }
    default:
      return { ...base, name: 'UnknownSignatureAlgorithm', keyType: 'unknown', hash: undefined };
  }
}

function generalNameUris(names: Tlv[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n.tag === 0x86) out.push(Buffer.from(n.value).toString('latin1'));
  }
  return out;
}

function parseDistributionPoints(value: Uint8Array): string[] {
  const urls: string[] = [];
  for (const dp of sequence(parseDer(value), 'CRL distribution points')) {
    for (const f of sequence(dp, 'distribution point')) {
      if (f.tag !== contextTag(0, true)) continue;
      const dpn = readTlv(f.value);
      if (dpn.tag === contextTag(0, true)) urls.push(...generalNameUris(children(dpn)));
    }
  }
  return urls;
}

const CURVES: Record<string, [string, number]> = {
  prime256v1: ['P-256', 256],
  secp384r1: ['P-384', 384],
  secp521r1: ['P-521', 521],
  secp224r1: ['P-224', 224],
  secp256k1: ['secp256k1', 256],
};

/** Parses a DER X.509 certificate. Throws VerificationFailedError('INVALID_CERTIFICATE_CHAIN') if malformed. */
/**
 * Parsed certificates by content (SHA-256 of the DER). Parsing is deterministic and the result is
 * read-only, and the same intermediates and roots (and, for a while, the same leaf) sign every image
 * of a publisher, so a small LRU saves most of the per-verification parsing. Failures are not cached.
 */
const PARSE_CACHE = new Map<string, CertificateInfo>();
const PARSE_CACHE_MAX = 512;

/** Counters of the parse cache (read by tests and benchmarks). */
export const certificateParseStats = { parsed: 0, cacheHits: 0 };

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

function parseCertificateUncached(der: Uint8Array): CertificateInfo {
  certificateParseStats.parsed++;
  const raw = new Uint8Array(der);
  try {
    return parseCertificateInner(raw);
  } catch (e) {
    if (e instanceof VerificationFailedError) {
      if (e.message.startsWith('x509: malformed certificate')) throw e;
      malformed(e.message);
    }
    malformed(e instanceof Error ? e.message : String(e));
  }
}

function parseCertificateInner(raw: Uint8Array): CertificateInfo {
  const top = parseDer(raw);
  const [tbsTlv, sigAlgTlv, sigTlv, ...extra] = sequence(top, 'certificate');
  if (!sigTlv || extra.length) malformed('certificate must have exactly 3 elements');
  const tbsFields = sequence(tbsTlv, 'TBSCertificate');
  let i = 0;
  let version = 1;
  if (tbsFields[i]?.tag === contextTag(0, true)) {
    const vs = children(tbsFields[i]);
    if (vs.length !== 1) malformed('invalid version');
    const v = Number(decodeInteger(vs[0]));
    if (v < 0 || v > 2) malformed('invalid version');
    version = v + 1;
    i++;
  }
  const serialTlv = expectTag(tbsFields[i++], TAG.INTEGER, 'serial number');
  const serial = decodeInteger(serialTlv);
  const innerAlg = expectTag(tbsFields[i++], TAG.SEQUENCE, 'signature algorithm');
  const issuerTlv = expectTag(tbsFields[i++], TAG.SEQUENCE, 'issuer');
  const validity = sequence(tbsFields[i++], 'validity');
  if (validity.length !== 2) malformed('invalid validity');
  const subjectTlv = expectTag(tbsFields[i++], TAG.SEQUENCE, 'subject');
  const spkiTlv = expectTag(tbsFields[i++], TAG.SEQUENCE, 'subject public key info');
  let extsTlv: Tlv | undefined;
  for (; i < tbsFields.length; i++) {
    const f = tbsFields[i];
    if (f.tag === 0x81 || f.tag === 0x82 || f.tag === 0xa1 || f.tag === 0xa2) {
      if (version < 2) malformed('unique identifiers require version 2 or 3');
      continue;
    }
    if (f.tag === contextTag(3, true) && !extsTlv) {
      if (version !== 3) malformed('extensions require version 3');
      extsTlv = f;
      continue;
    }
    malformed(`unexpected element with tag 0x${f.tag.toString(16)} in TBSCertificate`);
  }
  if (!bytesEqual(innerAlg.raw, sigAlgTlv.raw)) malformed("inner and outer signature algorithm identifiers don't match");
  const signatureAlgorithm = parseAlgorithm(sigAlgTlv);
  const sigBits = decodeBitString(sigTlv);
  if (sigBits.unusedBits !== 0) malformed('signature bit string has unused bits');

  const issuerAttributes = parseName(issuerTlv);
  const subjectAttributes = parseName(subjectTlv);
  const notBefore = decodeTime(validity[0]);
  const notAfter = decodeTime(validity[1]);

  // Public key
  const [spkiAlg, spkiKey] = sequence(spkiTlv, 'subject public key info');
  const keyAlgOid = decodeOid(sequence(spkiAlg, 'public key algorithm')[0]);
  const keyBits = decodeBitString(spkiKey);
  let publicKey: crypto.KeyObject;
  try {
    publicKey = crypto.createPublicKey({ key: Buffer.from(spkiTlv.raw), format: 'der', type: 'spki' });
  } catch (e) {
    malformed(`unsupported or invalid public key: ${(e as Error).message}`);
  }
  let keyType: CertificateInfo['keyType'] = 'other';
  let keySizeBits = 0;
  let curve: string | undefined;
  const details = publicKey.asymmetricKeyDetails ?? {};
  if (keyAlgOid === OID.RSA_ENCRYPTION && publicKey.asymmetricKeyType === 'rsa') {
    keyType = 'rsa';
    keySizeBits = Math.ceil((details.modulusLength ?? 0) / 8) * 8;
  } else if (keyAlgOid === OID.EC_PUBLIC_KEY && publicKey.asymmetricKeyType === 'ec') {
    keyType = 'ec';
    const c = CURVES[details.namedCurve ?? ''];
    curve = c ? c[0] : details.namedCurve;
    keySizeBits = c ? c[1] : 0;
  } else if (publicKey.asymmetricKeyType === 'ed25519') {
    keyType = 'ed25519';
    keySizeBits = 256;
  }

  // Extensions
  const extensions: ExtensionInfo[] = [];
  if (extsTlv) {
    const list = children(extsTlv);
    if (list.length !== 1) malformed('invalid extensions wrapper');
    const seen = new Set<string>();
    for (const e of sequence(list[0], 'extensions')) {
      const f = sequence(e, 'extension');
      const oid = decodeOid(f[0]);
      let critical = false;
      let valIdx = 1;
      if (f[1]?.tag === TAG.BOOLEAN) {
        critical = decodeBoolean(f[1]);
        valIdx = 2;
      }
      if (f.length !== valIdx + 1) malformed('invalid extension');
      const value = decodeOctetString(f[valIdx]);
      if (seen.has(oid)) malformed('certificate contains duplicate extensions');
      seen.add(oid);
      extensions.push({ oid, critical, value });
    }
  }
  const ext = (oid: string) => extensions.find((e) => e.oid === oid);

  const noBits: KeyUsageFlags = {
    digitalSignature: false,
    contentCommitment: false,
    keyEncipherment: false,
    dataEncipherment: false,
    keyAgreement: false,
    keyCertSign: false,
    cRLSign: false,
    encipherOnly: false,
    decipherOnly: false,
  };
  let keyUsage: KeyUsageInfo = { present: false, critical: false, bits: noBits };
  const kuExt = ext(OID.EXT_KEY_USAGE);
  if (kuExt) {
    const bs = decodeBitString(parseDer(kuExt.value));
    const bits: Record<string, boolean> = {};
    KEY_USAGE_NAMES.forEach((n, idx) => { bits[n] = bitAt(bs, idx); });
    keyUsage = { present: true, critical: kuExt.critical, bits: bits as unknown as KeyUsageFlags };
  }

  let basicConstraints: BasicConstraintsInfo = { present: false, critical: false, ca: false };
  const bcExt = ext(OID.EXT_BASIC_CONSTRAINTS);
  if (bcExt) {
    const f = sequence(parseDer(bcExt.value), 'basic constraints');
    let ca = false;
    let pathLen: number | undefined;
    let j = 0;
    if (f[j]?.tag === TAG.BOOLEAN) ca = decodeBoolean(f[j++]);
    if (f[j]?.tag === TAG.INTEGER) {
      const n = decodeInteger(f[j++]);
      if (n < 0n || n > 1000000n) malformed('invalid path length constraint');
      pathLen = Number(n);
    }
    if (j !== f.length) malformed('invalid basic constraints');
    basicConstraints = { present: true, critical: bcExt.critical, ca, ...(pathLen !== undefined ? { pathLen } : {}) };
  }

  let extKeyUsage: string[] | undefined;
  const ekuExt = ext(OID.EXT_EXT_KEY_USAGE);
  if (ekuExt) extKeyUsage = sequence(parseDer(ekuExt.value), 'extended key usage').map((o) => decodeOid(o));

  const ocspUrls: string[] = [];
  const caIssuersUrls: string[] = [];
  const aiaExt = ext(OID.EXT_AUTHORITY_INFO_ACCESS);
  if (aiaExt) {
    for (const ad of sequence(parseDer(aiaExt.value), 'authority information access')) {
      const [m, loc] = sequence(ad, 'access description');
      const method = decodeOid(m);
      if (!loc) malformed('invalid access description');
      const uris = generalNameUris([loc]);
      if (method === OID.AD_OCSP) ocspUrls.push(...uris);
      else if (method === OID.AD_CA_ISSUERS) caIssuersUrls.push(...uris);
    }
  }
  const cdpExt = ext(OID.EXT_CRL_DISTRIBUTION_POINTS);
  const crlUrls = cdpExt ? parseDistributionPoints(cdpExt.value) : [];
  const fcExt = ext(OID.EXT_FRESHEST_CRL);
  const deltaCrlUrls = fcExt ? parseDistributionPoints(fcExt.value) : [];

  let subjectKeyId: Uint8Array | undefined;
  const skiExt = ext(OID.EXT_SUBJECT_KEY_ID);
  if (skiExt) subjectKeyId = decodeOctetString(parseDer(skiExt.value));
  let authorityKeyId: Uint8Array | undefined;
  const akiExt = ext(OID.EXT_AUTHORITY_KEY_ID);
  if (akiExt) {
    const k = sequence(parseDer(akiExt.value), 'authority key identifier').find((x) => x.tag === 0x80);
    if (k) authorityKeyId = k.value;
  }

  const partial = {
    raw,
    tbs: tbsTlv.raw,
    version,
    serialNumber: serial < 0n ? `-${(-serial).toString(16)}` : serial.toString(16),
    serialRaw: serialTlv.value,
    signatureAlgorithm,
    signature: sigBits.bytes,
    subjectRaw: subjectTlv.raw,
    issuerRaw: issuerTlv.raw,
    subject: formatGoName(subjectAttributes),
    issuer: formatGoName(issuerAttributes),
    subjectString: formatGoName(subjectAttributes),
    issuerString: formatGoName(issuerAttributes),
    subjectAttributes,
    issuerAttributes,
    notBefore,
    notAfter,
    spki: spkiTlv.raw,
    publicKeyBits: keyBits.bytes,
    publicKey,
    keyType,
    keySizeBits,
    ...(curve ? { curve } : {}),
    keyUsage,
    basicConstraints,
    ...(extKeyUsage ? { extKeyUsage } : {}),
    extKeyUsageCritical: ekuExt?.critical ?? false,
    extensions,
    ...(subjectKeyId ? { subjectKeyId } : {}),
    ...(authorityKeyId ? { authorityKeyId } : {}),
    ocspUrls,
    caIssuersUrls,
    crlUrls,
    deltaCrlUrls,
    sha256: crypto.createHash('sha256').update(raw).digest('hex'),
    isSelfSigned: false,
  };
  const selfSigned = bytesEqual(partial.subjectRaw, partial.issuerRaw)
    && checkSignature(partial, partial.signatureAlgorithm, partial.tbs, partial.signature, true) === undefined;
  return { ...partial, isSelfSigned: selfSigned };
}

const GO_KEY_TYPE: Record<string, string> = { rsa: '*rsa.PublicKey', ec: '*ecdsa.PublicKey', ed25519: 'ed25519.PublicKey', other: 'unknown' };
const GO_ALG_KEY: Record<string, string> = { rsa: 'RSA', ec: 'ECDSA', ed25519: 'Ed25519' };

/**
 * Verifies `signature` over `signed` with `signer`'s public key, like Go's `checkSignature`. Returns
 * undefined on success, else Go's error string (`crypto/rsa: verification error`,
 * `x509: ECDSA verification failure`, `x509: cannot verify signature: insecure algorithm SHA1-RSA`, ...).
 */
export function checkSignature(
  signer: Pick<CertificateInfo, 'publicKey' | 'keyType'>,
  alg: SignatureAlgorithmInfo,
  signed: Uint8Array,
  signature: Uint8Array,
  allowSha1: boolean,
): string | undefined {
  if (alg.keyType === 'unknown' || alg.hash === undefined) return 'x509: cannot verify signature: algorithm unimplemented';
  if (alg.hash === 'md5' || (alg.hash === 'sha1' && !allowSha1)) {
    return `x509: cannot verify signature: insecure algorithm ${alg.name}`;
  }
  if (alg.keyType !== signer.keyType) {
    return `x509: signature algorithm specifies an ${GO_ALG_KEY[alg.keyType]} public key, but have public key of type ${GO_KEY_TYPE[signer.keyType]}`;
  }
  let ok = false;
  try {
    if (alg.keyType === 'ed25519') {
      ok = crypto.verify(null, signed, signer.publicKey, signature);
    } else if (alg.keyType === 'rsa') {
      ok = crypto.verify(alg.hash, signed, alg.pss
        ? { key: signer.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }
        : { key: signer.publicKey, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
    } else {
      ok = crypto.verify(alg.hash, signed, { key: signer.publicKey, dsaEncoding: 'der' }, signature);
    }
  } catch {
    ok = false;
  }
  if (ok) return undefined;
  if (alg.keyType === 'rsa') return 'crypto/rsa: verification error';
  if (alg.keyType === 'ec') return 'x509: ECDSA verification failure';
  return 'x509: Ed25519 verification failure';
}

/**
 * Go's `child.CheckSignatureFrom(parent)`: the parent must be allowed to sign certificates (v3 parent
 * needs basicConstraints cA=true; keyUsage, when non-empty, needs keyCertSign); SHA-1/MD5 rejected.
 * Returns undefined on success or Go's error string.
 */
export function checkSignatureFrom(child: CertificateInfo, parent: CertificateInfo): string | undefined {
  const kuNonZero = KEY_USAGE_NAMES.some((n) => parent.keyUsage.bits[n]);
  if ((parent.version === 3 && !parent.basicConstraints.present)
    || (parent.basicConstraints.present && !parent.basicConstraints.ca)
    || (kuNonZero && !parent.keyUsage.bits.keyCertSign)) {
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  }
  if (parent.keyType === 'other') return 'x509: cannot verify signature: algorithm unimplemented';
  return checkSignature(parent, child.signatureAlgorithm, child.tbs, child.signature, false);
}

/** Go's `isIssuedBy`: signature from parent (CheckSignatureFrom) and issuer bytes == parent subject bytes. */
export function isIssuedBy(child: CertificateInfo, parent: CertificateInfo): { issued: boolean; error?: string } {
  const err = checkSignatureFrom(child, parent);
  if (err) return { issued: false, error: err };
  return { issued: bytesEqual(parent.subjectRaw, child.issuerRaw) };
}

/** Splits a PEM bundle into DER blocks of the given label (default CERTIFICATE). */
export function pemBlocks(pem: string, label = 'CERTIFICATE'): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out: Uint8Array[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(pem)) !== null) {
    const body = m[1].replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) malformed('invalid PEM base64');
    out.push(new Uint8Array(Buffer.from(body, 'base64')));
  }
  return out;
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

/** PEM-encodes a DER certificate. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
