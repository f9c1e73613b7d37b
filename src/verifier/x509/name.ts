/**
 * X.509 Names (RFC 5280 §4.1.2.4) and their Go string forms: the attributes of a Name in DER order, and
 * Go's `pkix.Name.String()` rendering that notation prints and matches trusted identities against.
 */
import { TAG, Tlv, children, decodeOid, decodeString, encodeTlv, expectTag, isPrintableString, sequence, toHex } from './der';
import { malformedCertificate as malformed } from './malformed';

export interface NameAttribute {
  readonly oid: string;
  readonly value: string;
  /** Index of the RDN (SET) this attribute belongs to, in DER order. */
  readonly rdn: number;
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
  return encodeTlv(isPrintableString(v) ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, Buffer.from(v, 'utf8'));
}

/**
 * Formats name attributes exactly like Go's `pkix.Name.String()` on a parsed certificate: the known
 * attributes are regrouped (C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER; several values of
 * one type become one multi-valued RDN), other attributes come first as single RDNs, then the whole
 * sequence is printed in reverse with Go's escaping; unknown types print as `oid=#hex`.
 */
export function formatGoName(attrs: readonly NameAttribute[]): string {
  const rdns: { oid: string; value: string }[][] = [];
  for (const a of attrs) {
    if (NAME_TYPES[a.oid] === undefined) rdns.push([{ oid: a.oid, value: a.value }]);
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
