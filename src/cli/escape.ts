/**
 * Everything the CLI prints may come from a signature or a registry (certificate subjects, annotations,
 * media types, error messages quoting them). A hostile value must not reach the terminal raw: ANSI/C0
 * escapes (ESC, CR, backspace, NUL...), DEL, C1 controls (U+0080–U+009F, e.g. the 8-bit CSI U+009B),
 * format characters (bidi overrides and isolates U+202A–U+202E / U+2066–U+2069, U+200E/F, zero-width
 * characters, U+FEFF...), line/paragraph separators (U+2028/U+2029) and lone surrogates are escaped.
 *
 * One character class, two spellings: `\xHH` / `\uHHHH` / `\u{HHHHH}` in text output, `\uHHHH` in JSON
 * output (JSON.stringify escapes C0 controls but not DEL, C1, format characters or U+2028/2029; the
 * escaped JSON still parses to the original value).
 */

/** Unicode categories Cc (controls), Cf (format), Cs (surrogates), Zl and Zp (line/paragraph separators). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** Escapes every unsafe character of `s` for a terminal (`\x1b`, `\u202e`, `\u{e0001}`). */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (ch) => {
    const cp = ch.codePointAt(0)!;
    if (cp <= 0xff) return `\\x${hex(cp, 2)}`;
    if (cp <= 0xffff) return `\\u${hex(cp, 4)}`;
    return `\\u{${hex(cp, 5)}}`;
  });
}

/** Escapes unsafe characters of text made of lines: the `\n` separators stay, everything else is escaped. */
export function escapeLines(s: string): string {
  return s.split('\n').map(escapeText).join('\n');
}

/** `JSON.stringify` whose output contains no raw unsafe character (they become `\uXXXX` escapes). */
export function safeJson(value: unknown): string {
  const json = JSON.stringify(value, null, 2) ?? 'null';
  // Unsafe characters can only occur inside JSON string literals here (the syntax is ASCII), where
  // a \uXXXX escape (a surrogate pair for astral characters) denotes the same character.
  return json.replace(UNSAFE, (ch) => {
    if (ch === '\n') return ch; // the indentation's line breaks (a \n inside a string is already "\n")
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${hex(ch.charCodeAt(i), 4)}`;
    return out;
  });
}

/** A deep copy of `value` with every string (keys included) passed through {@link escapeText}. */
export function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeText(value) as unknown as T;
  if (value instanceof Error) return escapeDeep({ ...value, name: value.name, message: value.message }) as unknown as T;
  if (Array.isArray(value)) return value.map((v) => escapeDeep(v)) as unknown as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[escapeText(k)] = escapeDeep(v);
    return out as T;
  }
  return value;
}
