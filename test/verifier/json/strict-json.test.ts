/**
 * The strict JSON parser (src/verifier/json): RFC 8259 grammar, Go-style case-insensitive key
 * collisions rejected at any depth, invalid UTF-8 and lone surrogates rejected, and the same values
 * as JSON.parse for every document it accepts.
 */
import { ConfigurationError, VerificationFailedError } from '../../../src/verifier/errors';
import { findFoldedKeyCollision, foldJsonKey, jsonKeysCollide, parseStrictJson, StrictJsonReason } from '../../../src/verifier/json';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function parse(input: string | Uint8Array): unknown {
  return parseStrictJson(input, (m, reason) => new VerificationFailedError('INVALID_MANIFEST', `${reason}: ${m}`));
}

function reject(input: string | Uint8Array): { reason: StrictJsonReason; message: string } {
  let got: { reason: StrictJsonReason; message: string } | undefined;
  try {
    parseStrictJson(input, (message, reason) => {
      got = { reason, message };
      return new ConfigurationError('INVALID_TRUST_POLICY', message);
    });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    expect((e as ConfigurationError).code).toBe('INVALID_TRUST_POLICY');
    return got!;
  }
  throw new Error(`accepted: ${typeof input === 'string' ? input : Buffer.from(input).toString('hex')}`);
}

describe('valid documents read as JSON.parse reads them', () => {
  test.each([
    '{}', '[]', '0', '-0', '1.5e10', '-1.25E-3', '"x"', 'true', 'false', 'null', ' \t\r\n{ "a" : [ 1 , 2 ] } \n',
    '{"a":{"b":{"c":[{"d":null}]}}}', '"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00"', '"é😀 literal"',
    '{"a":1,"b":2,"A_":3,"a-":4}', '[1e308,-1e-320,123456789012345678901234567890]', '{"":1,"k":2}',
    '{"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2,"annotations":{"x":"y"}}',
  ])('%s', (text) => {
    expect(parse(text)).toEqual(JSON.parse(text));
    expect(parse(enc(text))).toEqual(JSON.parse(text));
  });

  test('a "__proto__" key is an own property, not a prototype', () => {
    const v = parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(({} as any).polluted).toBeUndefined();
    expect((v as any).polluted).toBeUndefined();
  });

  test('random documents without key collisions parse exactly as JSON.parse does', () => {
    let seed = 12345;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const keys = ['a', 'b', 'digest', 'size', 'mediaType', 'é', 'ß', '😀', '', ' ', 'x\n'];
    const gen = (d: number): unknown => {
      const k = rnd(d > 4 ? 4 : 7);
      if (k === 0) return rnd(1000) - 500;
      if (k === 1) return 'str' + '\u0000\u001f"\\/é😀'.slice(0, rnd(8));
      if (k === 2) return rnd(2) === 0;
      if (k === 3) return null;
      if (k === 4) return (rnd(1e6) - 5e5) / 1024;
      if (k === 5) return Array.from({ length: rnd(4) }, () => gen(d + 1));
      const o: Record<string, unknown> = {};
      for (const key of keys) if (rnd(3) === 0) o[key] = gen(d + 1);
      return o;
    };
    for (let i = 0; i < 500; i++) {
      const text = JSON.stringify(gen(0), null, rnd(2) === 0 ? 2 : undefined);
      expect(parse(enc(text))).toEqual(JSON.parse(text));
    }
  });
});

describe('keys Go would merge are rejected', () => {
  test.each([
    ['exact duplicate', '{"digest":"a","digest":"b"}'],
    ['case variant', '{"targetArtifact":{},"TargetArtifact":{}}'],
    ['upper case variant', '{"digest":"a","DIGEST":"b"}'],
    ['Kelvin sign K (U+212A) for k', '{"kind":1,"\u212aind":2}'],
    ['Kelvin sign escaped', '{"kind":1,"\\u212aind":2}'],
    ['long s (U+017F) for s', '{"size":1,"\u017fize":2}'],
    ['long s escaped, both sides non-ASCII', '{"\u017fize":1,"SIZE":2}'],
    ['escaped ASCII spelling', '{"digest":1,"\\u0064igest":2}'],
    ['Greek sigma forms', '{"\u03a3":1,"\u03c2":2}'],
    ['micro sign and mu', '{"\u00b5":1,"\u039c":2}'],
    ['angstrom sign and a-ring', '{"\u212b":1,"\u00e5":2}'],
    ['sharp s forms', '{"\u00df":1,"\u1e9e":2}'],
    ['titlecase digraph', '{"\u01c4":1,"\u01c5":2}'],
    ['Cherokee', '{"\u13a0":1,"\uab70":2}'],
    ['Deseret (astral)', '{"\ud801\udc00":1,"\ud801\udc28":2}'],
    ['nested in an array', '[1,{"a":{"b":[{"x":1,"X":2}]}}]'],
    ['nested deep in objects', '{"a":{"b":{"c":{"d":{"e":1,"E":1}}}}}'],
    ['not adjacent', '{"a":1,"b":2,"c":3,"A":4}'],
    ['escaped capital against the plain spelling', '{"targetArtifact":1,"\\u0054argetArtifact":2}'],
    ['escaped surrogate pair against the raw character', '{"\ud83d\ude00":1,"\\ud83d\\ude00":2}'],
    ['a wide object (Set path)', `{${Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',')},"K39":0}`],
  ])('%s', (_n, text) => {
    expect(reject(text).reason).toBe('duplicate-key');
    expect(reject(enc(text)).reason).toBe('duplicate-key');
  });

  test('distinct keys that only look alike are kept', () => {
    expect(parse('{"a":1,"a_":2,"a-":3,"\u0430":4}')).toEqual({ 'a': 1, 'a_': 2, 'a-': 3, '\u0430': 4 });
  });

  test('folding classes', () => {
    expect(foldJsonKey('TargetArtifact')).toBe('targetartifact');
    expect(jsonKeysCollide('\u212a', 'k')).toBe(true);
    expect(jsonKeysCollide('\u017f', 'S')).toBe(true);
    expect(jsonKeysCollide('\u0130', 'i')).toBe(false); // İ has no simple fold to i (Go agrees)
    expect(jsonKeysCollide('a', 'b')).toBe(false);
  });

  test('objects handed in directly are checked too', () => {
    expect(findFoldedKeyCollision({ a: [{ b: 1, B: 2 }] })).toMatch(/\$\.a\[0\].*"b" and "B"/);
    expect(findFoldedKeyCollision({ a: [{ b: 1, c: 2 }], d: null })).toBeUndefined();
  });
});

describe('input Go would read differently (or not at all) is rejected', () => {
  test.each([
    ['lone high surrogate escape', '"\\ud800"'],
    ['lone low surrogate escape', '"\\udc00"'],
    ['high surrogate then non-surrogate escape', '"\\ud800\\u0041"'],
    ['reversed pair', '"\\udc00\\ud800"'],
    ['lone surrogates that Go would merge into one key', '{"\\ud800":1,"\\udbff":2}'],
  ])('%s', (_n, text) => {
    expect(reject(text).reason).toBe('encoding');
  });

  test.each([
    ['invalid UTF-8 byte', [0x22, 0xff, 0x22]],
    ['truncated sequence', [0x22, 0xc3, 0x22]],
    ['overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
  ])('%s', (_n, bytes) => {
    expect(reject(Uint8Array.from(bytes)).reason).toBe('encoding');
  });

  test('other encodings are not JSON text: UTF-16 (with or without BOM), UTF-32', () => {
    const text = '{"a":1}';
    expect(reject(Buffer.from('\ufeff' + text, 'utf16le')).reason).not.toBe('duplicate-key');
    expect(reject(Buffer.from(text, 'utf16le')).reason).toBe('syntax');
    const utf32 = Buffer.alloc(text.length * 4);
    for (let i = 0; i < text.length; i++) utf32.writeUInt32LE(text.charCodeAt(i), i * 4);
    expect(reject(utf32).reason).toBe('syntax');
    expect(reject(Buffer.from('\ufeff' + text, 'utf8')).reason).toBe('syntax'); // UTF-8 BOM: Go rejects it too
  });

  test('a raw lone surrogate in a JS string is rejected', () => {
    expect(reject('{"a":"\ud800"}').reason).toBe('encoding');
  });

  test.each([
    ['BOM', '\ufeff{}'], ['empty', ''], ['whitespace only', ' '], ['trailing comma in object', '{"a":1,}'],
    ['trailing comma in array', '[1,]'], ['single quotes', "{'a':1}"], ['unquoted key', '{a:1}'], ['comment', '{} // x'],
    ['leading zero', '01'], ['plus sign', '+1'], ['bare dot', '1.'], ['dot first', '.5'], ['NaN', 'NaN'], ['Infinity', 'Infinity'],
    ['hex', '0x10'], ['control char in string', '"a\u0001b"'], ['raw newline in string', '"a\nb"'], ['bad escape', '"\\x41"'],
    ['short unicode escape', '"\\u12"'], ['two values', '{} {}'], ['unterminated string', '"abc'], ['unterminated object', '{"a":1'],
    ['non-breaking space as whitespace', '\u00a0{}'], ['vertical tab as whitespace', '\u000b{}'], ['missing colon', '{"a" 1}'],
    ['truncated literal', 'tru'], ['capitalised literal', 'True'], ['exponent without digits', '1e'],
  ])('syntax: %s', (_n, text) => {
    expect(reject(text).reason).toBe('syntax');
  });

  test('a number that overflows is rejected (Go: cannot unmarshal)', () => {
    expect(reject('1e400').reason).toBe('number');
    expect(reject('[-1e999]').reason).toBe('number');
  });

  test('nesting is bounded (no stack exhaustion)', () => {
    expect(reject('['.repeat(600) + ']'.repeat(600)).reason).toBe('syntax');
    expect(reject('{"a":'.repeat(100_000)).reason).toBe('syntax');
    expect(parse('['.repeat(500) + ']'.repeat(500))).toBeDefined();
  });
});
