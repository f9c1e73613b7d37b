/**
 * A strict JSON parser for every document the engine reads that notation (Go `encoding/json`) or a
 * registry also reads: JWS envelopes and protected headers, signature payloads, manifests, indexes,
 * referrers listings and trust policies.
 *
 * Why not `JSON.parse`: Go's decoder matches object keys to struct fields case-insensitively (Unicode
 * simple case folding, so `TargetArtifact`, `TARGETARTIFACT` and `targetArtıfact`-like spellings with
 * the Kelvin sign U+212A or the long s U+017F all land in the same field) and keeps the LAST
 * duplicate, while `JSON.parse` keeps the last exact key and ignores case variants. A document with
 * two spellings of one key is therefore read differently by notation and by this engine. This parser
 * removes the ambiguity instead of copying either reading:
 *
 *  - grammar: RFC 8259 exactly (no BOM, no comments, no trailing commas, no leading zeros, no `NaN`,
 *    only space/tab/CR/LF as whitespace, nothing after the value);
 *  - an object that has two keys equal under case folding (ASCII and Unicode simple folding, a
 *    superset of Go's `bytes.EqualFold` classes) is REJECTED, at any depth; exact duplicates too;
 *  - text must be valid UTF-8 and `\u` escapes must not produce lone surrogates: Go silently replaces
 *    both with U+FFFD, which can merge two keys we would see as distinct (`"\ud800"` and `"\udc00"`),
 *    so such input is rejected rather than read differently;
 *  - numbers that overflow to infinity (Go: "cannot unmarshal number") are rejected;
 *  - nesting deeper than {@link StrictJsonOptions.maxDepth} is rejected (no stack exhaustion).
 *
 * Every rejection is the caller's typed error (see {@link parseStrictJson}); nothing else is thrown.
 */
import { VerifierError } from '../errors';
import { DEFAULT_MAX_DEPTH, foldJsonKey } from './key-folding';

export interface StrictJsonOptions {
  /** Maximum nesting of arrays and objects. @default 512 */
  readonly maxDepth?: number;
}

/** Builds the typed error a caller wants for a rejected document (INVALID_ENVELOPE, INVALID_MANIFEST...). */
export type StrictJsonErrorFactory = (message: string, reason: StrictJsonReason, cause?: unknown) => VerifierError;

/**
 * Why a document was rejected: `syntax` (not RFC 8259 JSON, or nested too deeply), `encoding`
 * (invalid UTF-8 or a lone surrogate), `duplicate-key` (two keys equal under case folding), `number`
 * (a number out of range).
 */
export type StrictJsonReason = 'syntax' | 'encoding' | 'duplicate-key' | 'number';

/** Internal signal; converted to the caller's typed error by {@link parseStrictJson}. */
class StrictJsonProblem {
  public constructor(public readonly message: string, public readonly reason: StrictJsonReason) {}
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/** Characters that need the character-by-character string path. */
// eslint-disable-next-line no-control-regex
const SLOW_STRING = /[\\\u0000-\u001f\ud800-\udfff]/;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function describe(text: string, pos: number): string {
  if (pos >= text.length) return 'unexpected end of JSON input';
  const cp = text.codePointAt(pos)!;
  const shown = cp >= 0x20 && cp < 0x7f ? `'${String.fromCharCode(cp)}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `invalid character ${shown} at offset ${pos}`;
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

class Parser {
  private pos = 0;
  public constructor(private readonly text: string, private readonly maxDepth: number) {}

  public parseDocument(): unknown {
    this.skipWs();
    const v = this.value(0);
    this.skipWs();
    if (this.pos !== this.text.length) this.fail(`${describe(this.text, this.pos)} after top-level value`);
    return v;
  }

  private fail(message: string, reason: StrictJsonReason = 'syntax'): never {
    throw new StrictJsonProblem(message, reason);
  }

  private skipWs(): void {
    const t = this.text;
    while (this.pos < t.length && isWs(t.charCodeAt(this.pos))) this.pos++;
  }

  private value(depth: number): unknown {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: return this.object(depth + 1); // {
      case 0x5b: return this.array(depth + 1); // [
      case 0x22: return this.string(); // "
      case 0x74: return this.literal('true', true);
      case 0x66: return this.literal('false', false);
      case 0x6e: return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(`${describe(t, this.pos)} looking for beginning of value`);
    }
  }

  private literal<T>(word: string, v: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return v;
    }
    return this.fail(`${describe(this.text, this.pos)} in literal`);
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) this.fail(`exceeded max depth of ${this.maxDepth}`);
    const t = this.text;
    const obj: Record<string, unknown> = {};
    this.pos++; // {
    this.skipWs();
    if (t.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    // Folded keys seen so far: a linear scan while the object is small (the common case), a Set beyond.
    const seen: string[] = [];
    let seenSet: Set<string> | undefined;
    for (;;) {
      if (t.charCodeAt(this.pos) !== 0x22) this.fail(`${describe(t, this.pos)} looking for beginning of object key string`);
      const keyAt = this.pos;
      const key = this.string();
      const f = foldJsonKey(key);
      let dup: boolean;
      if (seenSet) {
        dup = seenSet.has(f);
        seenSet.add(f);
      } else {
        dup = seen.includes(f);
        seen.push(f);
        if (seen.length > 16) seenSet = new Set(seen);
      }
      if (dup) {
        this.fail(`duplicate object key ${JSON.stringify(key)} at offset ${keyAt} (keys are compared case-insensitively, as Go's encoding/json matches them)`, 'duplicate-key');
      }
      this.skipWs();
      if (t.charCodeAt(this.pos) !== 0x3a) this.fail(`${describe(t, this.pos)} after object key`);
      this.pos++;
      this.skipWs();
      setKey(obj, key, this.value(depth));
      this.skipWs();
      const c = t.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWs();
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        return obj;
      }
      this.fail(`${describe(t, this.pos)} after object key:value pair`);
    }
  }

  private array(depth: number): unknown[] {
    if (depth > this.maxDepth) this.fail(`exceeded max depth of ${this.maxDepth}`);
    const t = this.text;
    const out: unknown[] = [];
    this.pos++; // [
    this.skipWs();
    if (t.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.skipWs();
      const c = t.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipWs();
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return out;
      }
      this.fail(`${describe(t, this.pos)} after array element`);
    }
  }

  private string(): string {
    const t = this.text;
    const n = t.length;
    this.pos++; // opening quote
    // Fast path: no escape, control character or surrogate before the closing quote (native scans).
    const close = t.indexOf('"', this.pos);
    if (close >= 0) {
      const seg = t.slice(this.pos, close);
      if (!SLOW_STRING.test(seg)) {
        this.pos = close + 1;
        return seg;
      }
    }
    let start = this.pos;
    let out = '';
    for (;;) {
      if (this.pos >= n) this.fail('unexpected end of JSON input in string literal');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += t.slice(start, this.pos);
        out += this.escape();
        start = this.pos;
        continue;
      }
      if (c < 0x20) this.fail(`${describe(t, this.pos)} in string literal`);
      if (c >= 0xd800 && c <= 0xdfff) {
        // Only reachable for text given as a JS string (decoded UTF-8 cannot hold surrogates).
        const next = t.charCodeAt(this.pos + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) this.fail(`lone surrogate U+${c.toString(16).toUpperCase()} in string literal at offset ${this.pos}`, 'encoding');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
  }

  private hex4(at: number): number {
    const t = this.text;
    if (at + 4 > t.length) this.fail('unexpected end of JSON input in \\u escape');
    let v = 0;
    for (let i = at; i < at + 4; i++) {
      const c = t.charCodeAt(i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else return this.fail(`${describe(t, i)} in \\u hexadecimal character escape`);
      v = v * 16 + d;
    }
    return v;
  }

  /** Decodes one escape at `pos` (the backslash); advances past it. */
  private escape(): string {
    const t = this.text;
    const c = t.charCodeAt(this.pos + 1);
    this.pos += 2;
    switch (c) {
      case 0x22: return '"';
      case 0x5c: return '\\';
      case 0x2f: return '/';
      case 0x62: return '\b';
      case 0x66: return '\f';
      case 0x6e: return '\n';
      case 0x72: return '\r';
      case 0x74: return '\t';
      case 0x75: {
        const at = this.pos - 2;
        const u = this.hex4(this.pos);
        this.pos += 4;
        if (u < 0xd800 || u > 0xdfff) return String.fromCharCode(u);
        if (u <= 0xdbff && t.charCodeAt(this.pos) === 0x5c && t.charCodeAt(this.pos + 1) === 0x75) {
          const lo = this.hex4(this.pos + 2);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            this.pos += 6;
            return String.fromCharCode(u, lo);
          }
        }
        return this.fail(`lone surrogate \\u${u.toString(16)} at offset ${at} (Go would read it as U+FFFD)`, 'encoding');
      }
      default:
        this.pos -= 1;
        return this.fail(`${describe(t, this.pos)} in string escape code`);
    }
  }

  private number(): number {
    const t = this.text;
    const start = this.pos;
    let p = this.pos;
    const digit = (i: number): boolean => { const c = t.charCodeAt(i); return c >= 0x30 && c <= 0x39; };
    if (t.charCodeAt(p) === 0x2d) p++;
    if (t.charCodeAt(p) === 0x30) {
      p++;
    } else if (digit(p)) {
      while (digit(p)) p++;
    } else {
      this.pos = p;
      return this.fail(`${describe(t, p)} in numeric literal`);
    }
    if (t.charCodeAt(p) === 0x2e) {
      p++;
      if (!digit(p)) { this.pos = p; return this.fail(`${describe(t, p)} after decimal point in numeric literal`); }
      while (digit(p)) p++;
    }
    const e = t.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const s = t.charCodeAt(p);
      if (s === 0x2b || s === 0x2d) p++;
      if (!digit(p)) { this.pos = p; return this.fail(`${describe(t, p)} in exponent of numeric literal`); }
      while (digit(p)) p++;
    }
    this.pos = p;
    const v = Number(t.slice(start, p));
    if (!Number.isFinite(v)) this.fail(`number ${t.slice(start, p)} at offset ${start} is out of range`, 'number');
    return v;
  }
}

/**
 * Parses JSON text (UTF-8 bytes or a string) under the rules in this module's header.
 * @param input the document; bytes must be valid UTF-8 without a byte-order mark
 * @param fail builds the caller's typed error from a message (e.g. `INVALID_ENVELOPE`)
 * @throws whatever `fail` returns; nothing else
 */
export function parseStrictJson(input: Uint8Array | string, fail: StrictJsonErrorFactory, options: StrictJsonOptions = {}): unknown {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = UTF8.decode(input);
    } catch (e) {
      throw fail('invalid JSON: the document is not valid UTF-8', 'encoding', e);
    }
  }
  try {
    return new Parser(text, options.maxDepth ?? DEFAULT_MAX_DEPTH).parseDocument();
  } catch (e) {
    if (e instanceof StrictJsonProblem) throw fail(`invalid JSON: ${e.message}`, e.reason);
    if (e instanceof RangeError) throw fail('invalid JSON: document too deeply nested', 'syntax', e);
    throw fail(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`, 'syntax', e);
  }
}
