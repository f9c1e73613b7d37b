/**
 * Go's `strconv.Quote` (what `%q` prints for a string), the quoting notation uses in its messages.
 *
 * Rules (Go `strconv.appendEscapedRune`): `"` and `\` are backslashed; printable runes (Go `strconv.IsPrint`:
 * letters, marks, numbers, punctuation, symbols and the ASCII space) are kept; `\a \b \f \n \r \t \v` use their
 * short escapes; other runes below U+0020 and U+007F print as `\xhh`; other non-printable runes (C1 controls,
 * format characters, line/paragraph separators, non-ASCII spaces, private use, unassigned) as `\uhhhh` or
 * `\Uhhhhhhhh`. Hex digits are lowercase.
 *
 * A JavaScript string may hold a lone UTF-16 surrogate, which no Go string can: Go's decoders (encoding/json
 * for `"\ud800"`, asn1 BMPString via utf16.Decode) turn it into U+FFFD, which is printable, so it prints as
 * the replacement character itself.
 */

/** Go `strconv.IsPrint` (category L, M, N, P or S, or the ASCII space), with Node's Unicode tables. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"', '\\': '\\\\', '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
};

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0');
}

/** One code point as Go's `%q` writes it inside the quotes. */
function quoteRune(ch: string): string {
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) return short;
  const cp = ch.codePointAt(0)!;
  if (cp >= 0xd800 && cp <= 0xdfff) return '\ufffd'; // lone surrogate: U+FFFD in Go, printable
  if (PRINTABLE.test(ch)) return ch;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/** Go `strconv.Quote(s)` / `fmt.Sprintf("%q", s)`. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch);
  return `${out}"`;
}

/** `%q` of a Go string slice: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}
