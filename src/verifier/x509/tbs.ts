/**
 * The outer Certificate structure and the TBSCertificate body walk (RFC 5280 §4.1), with Go's
 * structural rules: exactly three elements, version 1-3, unique identifiers only from v2, extensions only
 * in v3, inner and outer signature algorithms identical, no unused bits in the signature.
 */
import { TAG, Tlv, bytesEqual, children, contextTag, decodeBitString, decodeInteger, expectTag, parseDer, sequence } from './der';
import { malformedCertificate as malformed } from './malformed';

export interface CertificateParts {
  readonly tbs: Tlv;
  /** The outer signatureAlgorithm. */
  readonly signatureAlgorithm: Tlv;
  /** The signature BIT STRING (see {@link signatureBits}). */
  readonly signature: Tlv;
  /** 1, 2 or 3. */
  readonly version: number;
  readonly serial: Tlv;
  readonly serialNumber: bigint;
  readonly issuer: Tlv;
  readonly notBefore: Tlv;
  readonly notAfter: Tlv;
  readonly subject: Tlv;
  readonly spki: Tlv;
  /** The [3] extensions wrapper, when present (see {@link extensionList}). */
  readonly extensions?: Tlv;
}

function readVersion(field: Tlv | undefined): number | undefined {
  if (field?.tag !== contextTag(0, true)) return undefined;
  const vs = children(field);
  if (vs.length !== 1) malformed('invalid version');
  const v = Number(decodeInteger(vs[0]));
  if (v < 0 || v > 2) malformed('invalid version');
  return v + 1;
}

/** issuerUniqueID / subjectUniqueID (skipped) and the [3] extensions wrapper after the SPKI. */
function readTrailingFields(fields: readonly Tlv[], version: number): Tlv | undefined {
  let wrapper: Tlv | undefined;
  for (const f of fields) {
    if (f.tag === 0x81 || f.tag === 0x82 || f.tag === 0xa1 || f.tag === 0xa2) {
      if (version < 2) malformed('unique identifiers require version 2 or 3');
      continue;
    }
    if (f.tag === contextTag(3, true) && !wrapper) {
      if (version !== 3) malformed('extensions require version 3');
      wrapper = f;
      continue;
    }
    malformed(`unexpected element with tag 0x${f.tag.toString(16)} in TBSCertificate`);
  }
  return wrapper;
}

/** The SEQUENCE OF Extension inside the [3] wrapper. */
export function extensionList(wrapper: Tlv): Tlv {
  const list = children(wrapper);
  if (list.length !== 1) malformed('invalid extensions wrapper');
  return list[0];
}

/** Splits a DER certificate into its parts (no field decoding beyond structure). */
export function splitCertificate(raw: Uint8Array): CertificateParts {
  const [tbs, signatureAlgorithm, sigTlv, ...extra] = sequence(parseDer(raw), 'certificate');
  if (!sigTlv || extra.length) malformed('certificate must have exactly 3 elements');
  const fields = sequence(tbs, 'TBSCertificate');
  const explicitVersion = readVersion(fields[0]);
  let i = explicitVersion === undefined ? 0 : 1;
  const version = explicitVersion ?? 1;
  const serial = expectTag(fields[i++], TAG.INTEGER, 'serial number');
  const serialNumber = decodeInteger(serial);
  const innerAlg = expectTag(fields[i++], TAG.SEQUENCE, 'signature algorithm');
  const issuer = expectTag(fields[i++], TAG.SEQUENCE, 'issuer');
  const validity = sequence(fields[i++], 'validity');
  if (validity.length !== 2) malformed('invalid validity');
  const subject = expectTag(fields[i++], TAG.SEQUENCE, 'subject');
  const spki = expectTag(fields[i++], TAG.SEQUENCE, 'subject public key info');
  const extensions = readTrailingFields(fields.slice(i), version);
  if (!bytesEqual(innerAlg.raw, signatureAlgorithm.raw)) malformed("inner and outer signature algorithm identifiers don't match");
  return {
    tbs,
    signatureAlgorithm,
    version,
    serial,
    serialNumber,
    issuer,
    notBefore: validity[0],
    notAfter: validity[1],
    subject,
    spki,
    ...(extensions ? { extensions } : {}),
    signature: sigTlv,
  };
}

/** The signature BIT STRING contents (Go refuses unused bits). */
export function signatureBits(t: Tlv): Uint8Array {
  const bits = decodeBitString(t);
  if (bits.unusedBits !== 0) malformed('signature bit string has unused bits');
  return bits.bytes;
}
