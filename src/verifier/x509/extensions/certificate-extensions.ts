/**
 * One decoder per certificate extension OID (RFC 5280 §4.2), with Go `crypto/x509` semantics, and the
 * table that applies them to a certificate's extension list.
 */
import { TAG, Tlv, bitAt, children, contextTag, decodeBitString, decodeBoolean, decodeInteger, decodeOctetString, decodeOid, parseDer, readTlv, sequence } from '../der';
import { malformedCertificate as malformed } from '../malformed';
import { OID } from '../oids';
import { ExtensionInfo, findExtension } from './list';

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

/** Key usage flag names in bit order. */
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

const NO_KEY_USAGE = Object.fromEntries(KEY_USAGE_NAMES.map((n) => [n, false])) as unknown as KeyUsageFlags;

/** keyUsage (2.5.29.15): a BIT STRING of {@link KEY_USAGE_NAMES}. */
export function decodeKeyUsage(ext: ExtensionInfo | undefined): KeyUsageInfo {
  if (!ext) return { present: false, critical: false, bits: NO_KEY_USAGE };
  const bs = decodeBitString(parseDer(ext.value));
  const bits = Object.fromEntries(KEY_USAGE_NAMES.map((n, i) => [n, bitAt(bs, i)])) as unknown as KeyUsageFlags;
  return { present: true, critical: ext.critical, bits };
}

/** basicConstraints (2.5.29.19): cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..1000000 here) OPTIONAL. */
export function decodeBasicConstraints(ext: ExtensionInfo | undefined): BasicConstraintsInfo {
  if (!ext) return { present: false, critical: false, ca: false };
  const f = sequence(parseDer(ext.value), 'basic constraints');
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
  return { present: true, critical: ext.critical, ca, ...(pathLen !== undefined ? { pathLen } : {}) };
}

/** extKeyUsage (2.5.29.37): KeyPurposeId OIDs in certificate order. */
export function decodeExtKeyUsage(ext: ExtensionInfo): string[] {
  return sequence(parseDer(ext.value), 'extended key usage').map((o) => decodeOid(o));
}

/** subjectKeyIdentifier (2.5.29.14): an OCTET STRING. */
export function decodeSubjectKeyId(ext: ExtensionInfo): Uint8Array {
  return decodeOctetString(parseDer(ext.value));
}

/** authorityKeyIdentifier (2.5.29.35): the [0] keyIdentifier, when present. */
export function decodeAuthorityKeyId(ext: ExtensionInfo): Uint8Array | undefined {
  return sequence(parseDer(ext.value), 'authority key identifier').find((x) => x.tag === 0x80)?.value;
}

/** The uniformResourceIdentifier [6] entries of GeneralNames (IA5String, read byte for byte). */
export function generalNameUris(names: readonly Tlv[]): string[] {
  return names.filter((n) => n.tag === 0x86).map((n) => Buffer.from(n.value).toString('latin1'));
}

/** cRLDistributionPoints (2.5.29.31) and freshestCRL (2.5.29.46): the fullName URIs of every distribution point. */
export function decodeDistributionPoints(value: Uint8Array): string[] {
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

/** authorityInfoAccess (1.3.6.1.5.5.7.1.1): OCSP and caIssuers URIs. */
export function decodeAuthorityInfoAccess(ext: ExtensionInfo): { ocspUrls: string[]; caIssuersUrls: string[] } {
  const ocspUrls: string[] = [];
  const caIssuersUrls: string[] = [];
  for (const ad of sequence(parseDer(ext.value), 'authority information access')) {
    const [m, loc] = sequence(ad, 'access description');
    const method = decodeOid(m);
    if (!loc) malformed('invalid access description');
    const uris = generalNameUris([loc]);
    if (method === OID.AD_OCSP) ocspUrls.push(...uris);
    else if (method === OID.AD_CA_ISSUERS) caIssuersUrls.push(...uris);
  }
  return { ocspUrls, caIssuersUrls };
}

/** What a certificate's extensions say, as {@link CertificateInfo} carries it. */
export interface CertificateExtensionFields {
  readonly keyUsage: KeyUsageInfo;
  readonly basicConstraints: BasicConstraintsInfo;
  readonly extKeyUsage?: readonly string[];
  readonly extKeyUsageCritical: boolean;
  readonly subjectKeyId?: Uint8Array;
  readonly authorityKeyId?: Uint8Array;
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
  readonly crlUrls: readonly string[];
  readonly deltaCrlUrls: readonly string[];
}

/** Applies each extension's decoder (in this order, so the first malformation reported is stable). */
export function decodeCertificateExtensions(list: readonly ExtensionInfo[]): CertificateExtensionFields {
  const ext = (oid: string) => findExtension(list, oid);
  const keyUsage = decodeKeyUsage(ext(OID.EXT_KEY_USAGE));
  const basicConstraints = decodeBasicConstraints(ext(OID.EXT_BASIC_CONSTRAINTS));
  const eku = ext(OID.EXT_EXT_KEY_USAGE);
  const extKeyUsage = eku ? decodeExtKeyUsage(eku) : undefined;
  const aia = ext(OID.EXT_AUTHORITY_INFO_ACCESS);
  const { ocspUrls, caIssuersUrls } = aia ? decodeAuthorityInfoAccess(aia) : { ocspUrls: [], caIssuersUrls: [] };
  const cdp = ext(OID.EXT_CRL_DISTRIBUTION_POINTS);
  const freshest = ext(OID.EXT_FRESHEST_CRL);
  const crlUrls = cdp ? decodeDistributionPoints(cdp.value) : [];
  const deltaCrlUrls = freshest ? decodeDistributionPoints(freshest.value) : [];
  const ski = ext(OID.EXT_SUBJECT_KEY_ID);
  const subjectKeyId = ski ? decodeSubjectKeyId(ski) : undefined;
  const aki = ext(OID.EXT_AUTHORITY_KEY_ID);
  const authorityKeyId = aki ? decodeAuthorityKeyId(aki) : undefined;
  return {
    keyUsage,
    basicConstraints,
    ...(extKeyUsage ? { extKeyUsage } : {}),
    extKeyUsageCritical: eku?.critical ?? false,
    ...(subjectKeyId ? { subjectKeyId } : {}),
    ...(authorityKeyId ? { authorityKeyId } : {}),
    ocspUrls,
    caIssuersUrls,
    crlUrls,
    deltaCrlUrls,
  };
}
