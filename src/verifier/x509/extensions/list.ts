/**
 * The Extensions SEQUENCE of certificates, CRLs, CRL entries and OCSP responses (RFC 5280 §4.1;
 * RFC 6960 §4.2.1): OID, criticality, OCTET STRING value.
 */
import { TAG, Tlv, decodeBoolean, decodeOctetString, decodeOid, sequence } from '../der';

export interface ExtensionInfo {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** Throws the caller's typed error for a malformation. */
export type Malformed = (detail: string) => never;

/**
 * Parses `Extensions ::= SEQUENCE OF Extension`. `fail` reports an ill-formed extension; with
 * `rejectDuplicates`, a repeated OID is an error too (`certificate contains duplicate extensions`).
 */
export function parseExtensionList(t: Tlv, fail: Malformed, opts: { rejectDuplicates?: boolean } = {}): ExtensionInfo[] {
  const seen = new Set<string>();
  return sequence(t, 'extensions').map((e) => {
    const f = sequence(e, 'extension');
    const oid = decodeOid(f[0]);
    let critical = false;
    let valueIndex = 1;
    if (f[1]?.tag === TAG.BOOLEAN) {
      critical = decodeBoolean(f[1]);
      valueIndex = 2;
    }
    if (f.length !== valueIndex + 1) fail('invalid extension');
    const value = decodeOctetString(f[valueIndex]);
    if (opts.rejectDuplicates) {
      if (seen.has(oid)) fail('certificate contains duplicate extensions');
      seen.add(oid);
    }
    return { oid, critical, value };
  });
}

/** The first extension with `oid`. */
export function findExtension(list: readonly ExtensionInfo[], oid: string): ExtensionInfo | undefined {
  return list.find((e) => e.oid === oid);
}
