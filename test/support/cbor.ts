/**
 * Minimal CBOR encoder for building COSE messages in tests (definite lengths, shortest heads).
 * Maps are encoded in insertion order. Use {@link CborRaw} to splice pre-encoded (possibly malformed) bytes.
 */
import { CborMap, CborTagged } from '../../src/verifier/envelope/cbor';

export { CborMap, CborTagged };

/** Pre-encoded CBOR bytes inserted verbatim. */
export class CborRaw {
  public constructor(public readonly bytes: Uint8Array) {}
}

/** A float always encoded as float64. */
export class CborFloat {
  public constructor(public readonly value: number) {}
}

export type EncodableKey = number | string;
export type Encodable =
  | number
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborRaw
  | CborFloat
  | CborTagged
  | CborMap
  | Map<EncodableKey, Encodable>
  | Encodable[];

export function head(major: number, n: number | bigint): number[] {
  const m = major << 5;
  const v = BigInt(n);
  if (v < 24n) return [m | Number(v)];
  if (v < 0x100n) return [m | 24, Number(v)];
  if (v < 0x10000n) return [m | 25, Number(v >> 8n), Number(v & 0xffn)];
  if (v < 0x100000000n) return [m | 26, ...[24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn))];
  return [m | 27, ...[56n, 48n, 40n, 32n, 24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn))];
}

function enc(v: Encodable | unknown, out: number[]): void {
  if (v instanceof CborRaw) {
    out.push(...v.bytes);
  } else if (v instanceof CborFloat) {
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(v.value, 1);
    out.push(...b);
  } else if (typeof v === 'number') {
    if (!Number.isInteger(v)) {
      enc(new CborFloat(v), out);
    } else if (v >= 0) {
      out.push(...head(0, v));
    } else {
      out.push(...head(1, -1 - v));
    }
  } else if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    out.push(...head(3, b.length), ...b);
  } else if (v === false) {
    out.push(0xf4);
  } else if (v === true) {
    out.push(0xf5);
  } else if (v === null) {
    out.push(0xf6);
  } else if (v === undefined) {
    out.push(0xf7);
  } else if (v instanceof Uint8Array) {
    out.push(...head(2, v.length), ...v);
  } else if (v instanceof CborTagged) {
    out.push(...head(6, v.tag));
    enc(v.value, out);
  } else if (Array.isArray(v)) {
    out.push(...head(4, v.length));
    for (const x of v) enc(x, out);
  } else if (v instanceof CborMap) {
    const entries = v.entries();
    out.push(...head(5, entries.length));
    for (const [k, x] of entries) {
      enc(k, out);
      enc(x, out);
    }
  } else if (v instanceof Map) {
    out.push(...head(5, v.size));
    for (const [k, x] of v) {
      enc(k, out);
      enc(x, out);
    }
  } else {
    throw new Error(`cannot CBOR-encode ${String(v)}`);
  }
}

export function encodeCbor(v: Encodable): Uint8Array {
  const out: number[] = [];
  enc(v, out);
  return Uint8Array.from(out);
}

export function tag(n: number, value: Encodable): CborTagged {
  return new CborTagged(n, value as any);
}
