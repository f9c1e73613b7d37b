/** The CLI's one escaping function, over every code point. */
import { escapeDeep, escapeLines, escapeText, safeJson } from '../../src/cli/escape';

/** What must never be printed raw. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;

function allCodePoints(from: number, to: number): string {
  let s = '';
  for (let cp = from; cp <= to; cp++) if (cp < 0xd800 || cp > 0xdfff) s += String.fromCodePoint(cp);
  return s;
}

describe('escapeText', () => {
  test.each([
    ['\u001b[2K\rVERIFIED', '\\x1b[2K\\x0dVERIFIED'],
    ['a\u0000b\u0008c\u007f', 'a\\x00b\\x08c\\x7f'],
    ['\u009b31m\u0085', '\\x9b31m\\x85'],
    ['\u202eevil\u202c', '\\u202eevil\\u202c'],
    ['\u2066x\u2069\u200e\u200f\u061c', '\\u2066x\\u2069\\u200e\\u200f\\u061c'],
    ['\u2028\u2029', '\\u2028\\u2029'],
    ['\ufeff\u200b', '\\ufeff\\u200b'],
    ['tag\u{e0041}', 'tag\\u{e0041}'],
    ['lone \ud800 surrogate', 'lone \\ud800 surrogate'],
    ['line\nbreak\ttab', 'line\\x0abreak\\x09tab'],
  ])('%j -> %s', (input, expected) => {
    expect(escapeText(input)).toBe(expected);
  });

  test('leaves printable text alone: DN escapes, non-Latin scripts, emoji', () => {
    const s = 'CN=Ünïcødé Leaf\\, Inc,O=株式会社,L=Zürich 🚀 ,ST=WA,C=US';
    expect(escapeText(s)).toBe(s);
  });

  test('every code point: the output has nothing unsafe, and safe characters are kept', () => {
    const all = allCodePoints(0, 0x10ffff);
    const out = escapeText(all);
    expect(UNSAFE.test(out)).toBe(false);
    const kept = [...all].filter((c) => !UNSAFE.test(c)).join('');
    expect(out.replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]{5}\})/g, '')).toBe(kept);
  });

  test('escapeLines keeps the line breaks and escapes the rest', () => {
    expect(escapeLines('a\u001b\nb\r\nc')).toBe('a\\x1b\nb\\x0d\nc');
  });
});

describe('safeJson', () => {
  test('escapes what JSON.stringify leaves raw (DEL, C1, format, U+2028/2029) and parses back to the same value', () => {
    const value = { subject: 'CN=\u001b[2K\r\u009b\u202e\u2028\u2029\u007f\u{e0041}', list: ['\u0085', 1, null, true], nested: { '\u202ekey': 'v' } };
    const out = safeJson(value);
    expect(out).toContain('\\u009b\\u202e\\u2028\\u2029\\u007f\\udb40\\udc41');
    expect(UNSAFE.test(out.replace(/\n/g, ''))).toBe(false);
    expect(JSON.parse(out)).toEqual(value);
  });

  test('every code point round-trips and nothing unsafe is left but the indentation\'s line breaks', () => {
    const all = allCodePoints(0, 0x10ffff) + '\ud800\udfff\udc00';
    const out = safeJson({ all });
    expect(UNSAFE.test(out.replace(/\n/g, ''))).toBe(false);
    expect(JSON.parse(out).all).toBe(all);
  });

  test('is still pretty-printed', () => {
    expect(safeJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
  });
});

describe('escapeDeep', () => {
  test('escapes every string of a structure, keys included, keeps numbers and booleans', () => {
    expect(escapeDeep({ 'k\u001b': ['\u202e', 3, false, { e: new Error('\u009bboom') }] })).toEqual({
      'k\\x1b': ['\\u202e', 3, false, { e: { name: 'Error', message: '\\x9bboom' } }],
    });
  });
});
