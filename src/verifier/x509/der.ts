/**
 * A small, strict, bounds-checked DER reader (ITU-T X.690), shared by the certificate, CMS/RFC 3161,
 * OCSP and CRL parsers. Definite lengths only, minimal length encodings, no trailing garbage unless
 * the caller asks for it. Every malformation throws a {@link VerificationFailedError}.
 */
import { ErrorCode, VerificationFailedError } from '../errors';

/** Universal tag numbers (with class/constructed bits, as they appear in the identifier octet). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One decoded TLV. `value` and `raw` are views into the input buffer (no copies). */
export interface Tlv {
  /** The identifier octet (class | constructed | tag number); high tag numbers are rejected. */
  readonly tag: number;
  readonly constructed: boolean;
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly tagClass: number;
  /** The tag number (low 5 bits). */
  readonly tagNumber: number;
  /** Contents octets. */
  readonly value: Uint8Array;
  /** Whole TLV (identifier + length + contents). */
  readonly raw: Uint8Array;
  /** Offset of the TLV within the buffer passed to {@link readTlv}. */
  readonly offset: number;
  /** Offset just past the TLV. */
  readonly end: number;
}

/** Error code used by the reader; callers parsing e.g. timestamps may remap it. */
export class DerError extends VerificationFailedError {
  public constructor(message: string, code: ErrorCode = 'INVALID_CERTIFICATE_CHAIN') {
    super(code, message);
  }
}

function fail(msg: string, code?: ErrorCode): never {
  throw new DerError(`malformed DER: ${msg}`, code);
}

/**
 * Reads one TLV at `offset` of `buf`. Throws on truncation, indefinite length, non-minimal length,
 * lengths beyond 2^32 and high-tag-number form.
 */
export function readTlv(buf: Uint8Array, offset = 0, code?: ErrorCode): Tlv {
  if (!(buf instanceof Uint8Array)) fail('input is not a byte array', code);
  if (offset < 0 || offset >= buf.length) fail('unexpected end of data (tag)', code);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) fail('high tag numbers are not supported', code);
  let p = offset + 1;
  if (p >= buf.length) fail('unexpected end of data (length)', code);
  const first = buf[p++];
  let len: number;
  if (first < 0x80) {
    len = first;
  } else if (first === 0x80) {
    fail('indefinite length is not allowed in DER', code);
  } else {
    const n = first & 0x7f;
    if (n > 4) fail('length too large', code);
    if (p + n > buf.length) fail('unexpected end of data (long length)', code);
    if (buf[p] === 0) fail('non-minimal length encoding', code);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
    if (len < 0x80) fail('non-minimal length encoding', code);
  }
  const end = p + len;
  if (end > buf.length) fail(`length ${len} exceeds the available ${buf.length - p} bytes`, code);
  return {
    tag,
    constructed: (tag & 0x20) !== 0,
    tagClass: tag >> 6,
    tagNumber: tag & 0x1f,
    value: buf.subarray(p, end),
    raw: buf.subarray(offset, end),
    offset,
    end,
  };
}

/** Parses exactly one TLV spanning the whole buffer (no trailing bytes). */
export function parseDer(buf: Uint8Array, code?: ErrorCode): Tlv {
  const t = readTlv(buf, 0, code);
  if (t.end !== buf.length) fail(`${buf.length - t.end} trailing bytes after the top-level element`, code);
  return t;
}

/** The child TLVs of a constructed TLV (or of any byte string), in order. Must tile the content exactly. */
export function children(t: Tlv | Uint8Array, code?: ErrorCode): Tlv[] {
  let content: Uint8Array;
  if (t instanceof Uint8Array) {
    content = t;
  } else {
    if (!t.constructed) fail(`element with tag 0x${t.tag.toString(16)} is not constructed`, code);
    content = t.value;
  }
  const out: Tlv[] = [];
  let off = 0;
  while (off < content.length) {
    const c = readTlv(content, off, code);
    out.push(c);
    off = c.end;
  }
  return out;
}

/** Asserts the tag of `t`, returning it. */
export function expectTag(t: Tlv | undefined, tag: number, what: string, code?: ErrorCode): Tlv {
  if (!t) fail(`missing ${what}`, code);
  if (t.tag !== tag) fail(`${what}: expected tag 0x${tag.toString(16)} but found 0x${t.tag.toString(16)}`, code);
  return t;
}

/** Children of a SEQUENCE, asserting the tag. */
export function sequence(t: Tlv | undefined, what: string, code?: ErrorCode): Tlv[] {
  return children(expectTag(t, TAG.SEQUENCE, what, code), code);
}

/** Context-specific tag byte: `[n]` constructed (explicit) or primitive (implicit). */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** Decodes an OBJECT IDENTIFIER's contents (or TLV) to dotted form. */
export function decodeOid(t: Tlv | Uint8Array, code?: ErrorCode): string {
  let v: Uint8Array;
  if (t instanceof Uint8Array) {
    v = t;
  } else {
    expectTag(t, TAG.OID, 'object identifier', code);
    v = t.value;
  }
  if (v.length === 0) fail('empty object identifier', code);
  const arcs: bigint[] = [];
  let cur = 0n;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i];
    if (!started && b === 0x80) fail('non-minimal object identifier arc', code);
    started = true;
    cur = (cur << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(cur);
      cur = 0n;
      started = false;
    } else if (i === v.length - 1) {
      fail('truncated object identifier', code);
    }
  }
  const first = arcs[0];
  const parts: string[] = [];
  if (first < 40n) parts.push('0', first.toString());
  else if (first < 80n) parts.push('1', (first - 40n).toString());
  else parts.push('2', (first - 80n).toString());
  for (let i = 1; i < arcs.length; i++) parts.push(arcs[i].toString());
  return parts.join('.');
}

/** Decodes an INTEGER (minimal two's complement) to a bigint. */
export function decodeInteger(t: Tlv, code?: ErrorCode, tag: number = TAG.INTEGER): bigint {
  expectTag(t, tag, 'integer', code);
  const v = t.value;
  if (v.length === 0) fail('empty integer', code);
  if (v.length > 1 && ((v[0] === 0x00 && (v[1] & 0x80) === 0) || (v[0] === 0xff && (v[1] & 0x80) !== 0))) {
    fail('non-minimal integer encoding', code);
  }
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if (v[0] & 0x80) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** INTEGER as a JS number; fails if it does not fit a safe integer. */
export function decodeSmallInteger(t: Tlv, code?: ErrorCode, tag: number = TAG.INTEGER): number {
  const n = decodeInteger(t, code, tag);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) fail('integer too large', code);
  return Number(n);
}

/** BOOLEAN (DER: 0x00 or 0xff only). */
export function decodeBoolean(t: Tlv, code?: ErrorCode): boolean {
  expectTag(t, TAG.BOOLEAN, 'boolean', code);
  if (t.value.length !== 1) fail('boolean must be one byte', code);
  if (t.value[0] === 0) return false;
  if (t.value[0] === 0xff) return true;
  fail('boolean must be 0x00 or 0xff in DER', code);
}

/** NULL. */
export function decodeNull(t: Tlv, code?: ErrorCode): null {
  expectTag(t, TAG.NULL, 'null', code);
  if (t.value.length !== 0) fail('null must be empty', code);
  return null;
}

export interface BitString {
  readonly unusedBits: number;
  readonly bytes: Uint8Array;
}

/** BIT STRING contents. */
export function decodeBitString(t: Tlv, code?: ErrorCode, tag: number = TAG.BIT_STRING): BitString {
  expectTag(t, tag, 'bit string', code);
  const v = t.value;
  if (v.length === 0) fail('empty bit string', code);
  const unused = v[0];
  if (unused > 7 || (v.length === 1 && unused !== 0)) fail('invalid bit string padding', code);
  if (unused > 0 && (v[v.length - 1] & ((1 << unused) - 1)) !== 0) fail('bit string padding bits are not zero', code);
  return { unusedBits: unused, bytes: v.subarray(1) };
}

/** Bit `i` (0 = most significant bit of the first byte) of a BIT STRING. */
export function bitAt(bs: BitString, i: number): boolean {
  const byte = i >> 3;
  if (byte >= bs.bytes.length) return false;
  return (bs.bytes[byte] & (0x80 >> (i & 7))) !== 0;
}

/** OCTET STRING contents. */
export function decodeOctetString(t: Tlv, code?: ErrorCode, tag: number = TAG.OCTET_STRING): Uint8Array {
  expectTag(t, tag, 'octet string', code);
  return t.value;
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Decodes any of the ASN.1 character string types used in certificates. */
export function decodeString(t: Tlv, code?: ErrorCode): string {
  const v = t.value;
  switch (t.tag) {
    case TAG.UTF8_STRING: {
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(v);
      } catch {
        fail('invalid UTF-8 string', code);
      }
    }
    case TAG.PRINTABLE_STRING: {
      const s = Buffer.from(v).toString('latin1');
      // Go accepts '*' and '&' in PrintableString for compatibility; do the same.
      if (!/^[A-Za-z0-9 '()+,\-./:=?*&]*$/.test(s)) fail('invalid PrintableString', code);
      return s;
    }
    case TAG.IA5_STRING: {
      for (const b of v) if (b > 0x7f) fail('invalid IA5String', code);
      return Buffer.from(v).toString('latin1');
    }
    case TAG.NUMERIC_STRING: {
      const s = Buffer.from(v).toString('latin1');
      if (!/^[0-9 ]*$/.test(s)) fail('invalid NumericString', code);
      return s;
    }
    case TAG.T61_STRING:
      return Buffer.from(v).toString('latin1');
    case TAG.BMP_STRING: {
      if (v.length % 2 !== 0) fail('invalid BMPString length', code);
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i] << 8) | v[i + 1]);
      return s;
    }
    case TAG.UNIVERSAL_STRING: {
      if (v.length % 4 !== 0) fail('invalid UniversalString length', code);
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0;
        if (cp > 0x10ffff) fail('invalid UniversalString code point', code);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      fail(`tag 0x${t.tag.toString(16)} is not a string type`, code);
  }
}

/** True if `s` only uses the PrintableString alphabet (as Go's asn1.Marshal decides). */
export function isPrintableString(s: string): boolean {
  return PRINTABLE.test(s);
}

/** Decodes UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z) to a Date. */
export function decodeTime(t: Tlv, code?: ErrorCode): Date {
  const s = Buffer.from(t.value).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  let ms = 0;
  if (t.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) fail(`invalid UTCTime ${JSON.stringify(s)}`, code);
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/.exec(s);
    if (!m) fail(`invalid GeneralizedTime ${JSON.stringify(s)}`, code);
    year = Number(m[1]);
    if (m[7]) ms = Math.floor(Number(`0.${m[7]}`) * 1000);
  } else {
    fail(`tag 0x${t.tag.toString(16)} is not a time type`, code);
  }
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    fail(`invalid time value ${JSON.stringify(s)}`, code);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  if (d.getUTCDate() !== day) fail(`invalid date ${JSON.stringify(s)}`, code);
  return d;
}

/**
 * Precise GeneralizedTime fraction (for RFC 3161 genTime): returns the Date and the fractional seconds
 * as a string of digits (may be longer than milliseconds).
 */
export function decodeGeneralizedTimeFraction(t: Tlv, code?: ErrorCode): { date: Date; fraction: string } {
  const d = decodeTime(t, code);
  const m = /\.(\d+)Z$/.exec(Buffer.from(t.value).toString('latin1'));
  return { date: d, fraction: m ? m[1] : '' };
}

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** DER encoding of one TLV with a low tag number (definite length, minimal length octets). */
export function encodeTlv(tag: number, body: Uint8Array): Uint8Array {
  const len: number[] = [];
  if (body.length < 0x80) {
    len.push(body.length);
  } else {
    for (let n = body.length; n > 0; n = Math.floor(n / 256)) len.unshift(n % 256);
    len.unshift(0x80 | len.length);
  }
  const out = new Uint8Array(1 + len.length + body.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}
