import { goQuote, goQuoteList } from '../../../src/verifier/text/go-quote';
import { goUtcString, rfc1123z } from '../../../src/verifier/text/go-time';

/**
 * Expected values are what Go's strconv.Quote (fmt `%q`) prints for the same runes (Go 1.22
 * strconv/quote.go appendEscapedRune; strconv.IsPrint = categories L, M, N, P, S plus U+0020).
 */
describe('goQuote: Go strconv.Quote', () => {
  test.each<[string, string, string]>([
    ['plain ASCII', 'CN=Notation Test,O=Notary', '"CN=Notation Test,O=Notary"'],
    ['quote and backslash', 'a"b\\c', '"a\\"b\\\\c"'],
    ['bell', '\u0007', '"\\a"'],
    ['backspace', '\b', '"\\b"'],
    ['form feed', '\f', '"\\f"'],
    ['newline', '\n', '"\\n"'],
    ['carriage return', '\r', '"\\r"'],
    ['tab', '\t', '"\\t"'],
    ['vertical tab', '\v', '"\\v"'],
    ['NUL and other C0 controls', '\u0000\u0001\u001b\u001f', '"\\x00\\x01\\x1b\\x1f"'],
    ['DEL', '\u007f', '"\\x7f"'],
    ['first C1 control', '\u0080', '"\\u0080"'],
    ['CSI (C1)', '\u009b31m', '"\\u009b31m"'],
    ['last C1 control', '\u009f', '"\\u009f"'],
    ['no-break space (not ASCII space)', 'a\u00a0b', '"a\\u00a0b"'],
    ['soft hyphen (format)', '\u00ad', '"\\u00ad"'],
    ['Latin-1 letters kept', 'Zürich é', '"Zürich é"'],
    ['zero width space', '\u200b', '"\\u200b"'],
    ['line separator', '\u2028', '"\\u2028"'],
    ['paragraph separator', '\u2029', '"\\u2029"'],
    ['byte order mark', '\ufeff', '"\\ufeff"'],
    ['private use', '\ue000', '"\\ue000"'],
    ['replacement character is printable', '\ufffd', '"\ufffd"'],
    ['lone high surrogate becomes U+FFFD', 'x\ud800y', '"x\ufffdy"'],
    ['lone low surrogate becomes U+FFFD', '\udc00', '"\ufffd"'],
    ['astral symbol kept', 'Cheers!🍺', '"Cheers!🍺"'],
    ['astral format character', '\u{e0001}', '"\\U000e0001"'],
    ['astral private use', '\u{f0000}', '"\\U000f0000"'],
    ['CJK kept', '署名', '"署名"'],
    ['empty', '', '""'],
  ])('%s', (_name, input, expected) => {
    expect(goQuote(input)).toBe(expected);
  });

  test('a list prints like %q of a []string', () => {
    expect(goQuoteList(['a', 'b\u0007'])).toBe('["a" "b\\a"]');
    expect(goQuoteList([])).toBe('[]');
  });
});

describe('Go time layouts', () => {
  test('RFC1123Z in UTC and with an offset', () => {
    expect(rfc1123z(new Date('2022-07-29T23:59:00Z'))).toBe('Fri, 29 Jul 2022 23:59:00 +0000');
    expect(rfc1123z(new Date('2022-07-29T23:59:00Z'), -330)).toBe('Fri, 29 Jul 2022 18:29:00 -0530');
    expect(rfc1123z(new Date('2022-07-29T23:59:00Z'), 120)).toBe('Sat, 30 Jul 2022 01:59:00 +0200');
  });

  test('time.Time.String() of a UTC time trims trailing zeros of the fraction', () => {
    expect(goUtcString(new Date('2021-07-07T20:48:42.500Z'))).toBe('2021-07-07 20:48:42.5 +0000 UTC');
    expect(goUtcString(new Date('0999-01-02T03:04:05Z'))).toBe('0999-01-02 03:04:05 +0000 UTC');
  });
});
