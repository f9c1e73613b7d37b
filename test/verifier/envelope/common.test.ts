import * as fc from 'fast-check';
import { Base64Error, decodeRawBase64Url, goBase64Decode, goBase64DecodeStepwise, parseRfc3339 } from '../../../src/verifier/envelope/common';

function b64Index(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof Base64Error) return e.index;
    throw e;
  }
  return undefined;
}

describe('Go-compatible base64', () => {
  test.each([
    ['', ''], ['YQ==', 'a'], ['YWI=', 'ab'], ['YWJj', 'abc'], ['YW\nJj', 'abc'], ['YQ=\r\n=', 'a'],
  ])('std %j decodes', (s, want) => {
    expect(Buffer.from(goBase64Decode(s, 'std')).toString()).toBe(want);
  });

  test.each([
    ['YQ=', 3], // not enough padding
    ['Y===', 1], // padding after one symbol
    ['YQ', 0], // missing padding: Go reports si - j
    ['YQ==YQ==', 4], // data after padding
    ['YQ*=', 2], // illegal character
    ['YWJj-A==', 4], // URL alphabet in std
  ])('std %j fails at byte %d', (s, idx) => {
    expect(b64Index(() => goBase64Decode(s, 'std'))).toBe(idx);
  });

  test.each([
    ['YQ', 'a'], ['YWI', 'ab'], ['_-8', Buffer.from([0xff, 0xef]).toString('latin1')],
  ])('rawurl %j decodes', (s, want) => {
    expect(Buffer.from(decodeRawBase64Url(s)).toString('latin1')).toBe(want);
  });

  test.each([
    ['YQ==', 2], // padding is illegal in RawURLEncoding
    ['abc=', 3],
    ['a', 0], // a single trailing symbol
    ['abcde', 4],
    ['ab+c', 2], // std alphabet
    ['ab\nc', 2], // strict: no whitespace
  ])('rawurl %j fails at byte %d', (s, idx) => {
    expect(b64Index(() => decodeRawBase64Url(s))).toBe(idx);
  });

  /** The decoder's answer as data: bytes (hex) or the Go error index. */
  function outcome(f: () => Uint8Array): string {
    try {
      return Buffer.from(f()).toString('hex');
    } catch (e) {
      if (e instanceof Base64Error) return `error@${e.index}`;
      throw e;
    }
  }

  // The native fast path for canonical input must give exactly Go's step-by-step answer, on every input.
  const symbols = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=\r\n*'.split('');
  test.each(['std', 'rawurl'] as const)('%s: the fast path and the stepwise decoder agree on arbitrary strings and on encodings of arbitrary bytes', (variant) => {
    fc.assert(fc.property(
      fc.oneof(
        fc.array(fc.constantFrom(...symbols), { maxLength: 40 }).map((a) => a.join('')),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString(variant === 'std' ? 'base64' : 'base64url')),
        // last quantum with unused low bits set (Go's non-strict encodings ignore them)
        fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => {
          const e = Buffer.from(b).toString(variant === 'std' ? 'base64' : 'base64url');
          const i = e.replace(/=+$/, '').length - 1;
          return e.slice(0, i) + (variant === 'std' ? '/' : '_') + e.slice(i + 1);
        }),
      ),
      (s) => {
        expect(outcome(() => goBase64Decode(s, variant))).toBe(outcome(() => goBase64DecodeStepwise(s, variant)));
      },
    ), { numRuns: 3000 });
  });

  test('message matches Go', () => {
    expect(new Base64Error(242).message).toBe('illegal base64 data at input byte 242');
  });
});

describe('RFC 3339 times', () => {
  test.each([
    ['2020-11-09T07:00:00Z', '2020-11-09T07:00:00.000Z'],
    ['2023-01-19T00:21:36-08:00', '2023-01-19T08:21:36.000Z'],
    ['2023-06-27T13:30:33+08:00', '2023-06-27T05:30:33.000Z'],
    ['2024-02-29T23:59:59.123456789+00:00', '2024-02-29T23:59:59.123Z'],
  ])('%s', (s, iso) => {
    expect(parseRfc3339(s)?.toISOString()).toBe(iso);
  });

  test.each([
    '2023-13-01T00:00:00Z', '2023-02-29T00:00:00Z', '2023-01-01T24:00:00Z', '2023-01-01 00:00:00Z',
    '2023-01-01T00:00:00', '2023-01-01T00:00:00+0800', 'Mon, 02 Jan 2006 15:04:05 MST', '', '2023-01-01T00:00:60Z',
  ])('rejects %j', (s) => {
    expect(parseRfc3339(s)).toBeUndefined();
  });
});
