/* eslint-disable no-bitwise */
/**
 * Strict, bounds-checked CBOR decoder (RFC 8949), limited to what COSE_Sign1 needs:
 * unsigned/negative integers, byte strings, text strings, arrays, maps, tags, floats and the
 * simple values false/true/null/undefined. Definite lengths only.
 *
 * Byte strings are returned as views of the input, so the raw protected-header bytes of a
 * COSE message are exactly the bytes that were signed (never re-encoded).
 */
import { VerificationFailedError } from '../errors';

/** Maximum nesting depth of arrays, maps and tags. */
export const CBOR_MAX_DEPTH = 32;

export type CborKey = number | string;

export type CborValue =
  | number
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | CborMap
  | CborTagged;

/** A tagged data item (major type 6). */
export class CborTagged {
  public constructor(public readonly tag: number, public readonly value: CborValue) {}
}

/** A CBOR map with integer or text-string keys, in encoded order, without duplicate keys. */
export class CborMap {
  private readonly items: Map<CborKey, CborValue>;

  public constructor(entries: ReadonlyArray<readonly [CborKey, CborValue]> = []) {
    this.items = new Map();
    for (const [k, v] of entries) this.items.set(k, v);
  }

  public get size(): number {
    return this.items.size;
  }

  public has(key: CborKey): boolean {
    return this.items.has(key);
  }

  public get(key: CborKey): CborValue {
    return this.items.get(key);
  }

  public keys(): CborKey[] {
    return [...this.items.keys()];
  }

  public entries(): Array<[CborKey, CborValue]> {
    return [...this.items.entries()];
  }
}

function fail(detail: string, offset: number): never {
  throw new VerificationFailedError('INVALID_ENVELOPE', `malformed CBOR: ${detail} at offset ${offset}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  public pos = 0;
  private readonly view: DataView;

  public constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  public get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, at: number): void {
    if (n > this.remaining) fail(`truncated input (need ${n} bytes, have ${this.remaining})`, at);
  }

  public byte(): number {
    this.need(1, this.pos);
    return this.buf[this.pos++];
  }

  /** Reads the argument of an initial byte; returns undefined for "indefinite" (31). */
  public argument(info: number, at: number): number {
    if (info < 24) return info;
    switch (info) {
      case 24:
        this.need(1, at);
        return this.buf[this.pos++];
      case 25: {
        this.need(2, at);
        const v = this.view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4, at);
        const v = this.view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8, at);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('integer or length too large', at);
        return Number(v);
      }
      case 31:
        return fail('indefinite-length items are not supported', at);
      default:
        return fail(`reserved additional information ${info}`, at);
    }
  }

  public bytes(n: number, at: number): Uint8Array {
    this.need(n, at);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  public float(info: number, at: number): number {
    if (info === 25) {
      this.need(2, at);
      const h = this.view.getUint16(this.pos);
      this.pos += 2;
      return halfToNumber(h);
    }
    if (info === 26) {
      this.need(4, at);
      const v = this.view.getFloat32(this.pos);
      this.pos += 4;
      return v;
    }
    this.need(8, at);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }
}

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function readText(r: Reader, info: number, at: number): string {
  const raw = r.bytes(r.argument(info, at), at);
  try {
    return utf8.decode(raw);
  } catch {
    return fail('text string is not valid UTF-8', at);
  }
}

function readArray(r: Reader, info: number, at: number, depth: number): CborValue[] {
  const n = r.argument(info, at);
  if (depth >= CBOR_MAX_DEPTH) fail(`nesting deeper than ${CBOR_MAX_DEPTH}`, at);
  // every element takes at least one byte: reject impossible counts before allocating
  if (n > r.remaining) fail(`array length ${n} exceeds the input`, at);
  const out: CborValue[] = [];
  for (let i = 0; i < n; i++) out.push(readItem(r, depth + 1));
  return out;
}

/** A map: integer or text keys only, no duplicates. */
function readMap(r: Reader, info: number, at: number, depth: number): CborMap {
  const n = r.argument(info, at);
  if (depth >= CBOR_MAX_DEPTH) fail(`nesting deeper than ${CBOR_MAX_DEPTH}`, at);
  if (n * 2 > r.remaining) fail(`map length ${n} exceeds the input`, at);
  const entries: Array<[CborKey, CborValue]> = [];
  const seen = new Set<CborKey>();
  for (let i = 0; i < n; i++) {
    const keyAt = r.pos;
    const key = readItem(r, depth + 1);
    if (typeof key !== 'number' && typeof key !== 'string') fail('map key must be an integer or a text string', keyAt);
    if (typeof key === 'number' && !Number.isInteger(key)) fail('map key must be an integer or a text string', keyAt);
    if (seen.has(key)) fail(`duplicate map key ${JSON.stringify(key)}`, keyAt);
    seen.add(key);
    entries.push([key, readItem(r, depth + 1)]);
  }
  return new CborMap(entries);
}

/** Major type 7: simple values and floats. */
function readSimple(r: Reader, info: number, at: number): CborValue {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 23:
      return undefined;
    case 25:
    case 26:
    case 27:
      return r.float(info, at);
    case 31:
      return fail('unexpected "break" / indefinite-length item', at);
    default:
      return fail(`unsupported simple value ${info === 24 ? 'extension' : info}`, at);
  }
}

function readItem(r: Reader, depth: number): CborValue {
  const at = r.pos;
  const initial = r.byte();
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return r.argument(info, at);
    case 1:
      return -1 - r.argument(info, at);
    case 2:
      return r.bytes(r.argument(info, at), at);
    case 3:
      return readText(r, info, at);
    case 4:
      return readArray(r, info, at, depth);
    case 5:
      return readMap(r, info, at, depth);
    case 6: {
      const tag = r.argument(info, at);
      if (depth >= CBOR_MAX_DEPTH) fail(`nesting deeper than ${CBOR_MAX_DEPTH}`, at);
      return new CborTagged(tag, readItem(r, depth + 1));
    }
    default:
      return readSimple(r, info, at);
  }
}

/**
 * Decodes exactly one CBOR data item that must span the whole input.
 * Throws VerificationFailedError('INVALID_ENVELOPE') on any malformed input.
 */
export function decodeCbor(bytes: Uint8Array): CborValue {
  if (!(bytes instanceof Uint8Array)) throw new VerificationFailedError('INVALID_ENVELOPE', 'malformed CBOR: input is not a byte array');
  const r = new Reader(bytes);
  if (bytes.length === 0) fail('empty input', 0);
  const v = readItem(r, 0);
  if (r.remaining !== 0) fail(`${r.remaining} trailing bytes after the data item`, r.pos);
  return v;
}

function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) return [m | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  return [m | 27, (hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff,
    (lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
}

/** Encodes a CBOR byte-string header + content (used for the COSE Sig_structure). */
export function encodeByteString(b: Uint8Array): Uint8Array {
  const h = head(2, b.length);
  const out = new Uint8Array(h.length + b.length);
  out.set(h, 0);
  out.set(b, h.length);
  return out;
}

/** Encodes a CBOR text string. */
export function encodeTextString(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const h = head(3, b.length);
  const out = new Uint8Array(h.length + b.length);
  out.set(h, 0);
  out.set(b, h.length);
  return out;
}

/** Encodes a CBOR array header for n items. */
export function encodeArrayHeader(n: number): Uint8Array {
  return Uint8Array.from(head(4, n));
}
