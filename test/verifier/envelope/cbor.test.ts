import * as fs from 'fs';
import * as path from 'path';
import { CBOR_MAX_DEPTH, CborMap, CborTagged, decodeCbor, encodeByteString } from '../../../src/verifier/envelope/cbor';
import { VerificationFailedError } from '../../../src/verifier/errors';
import { CborRaw, encodeCbor, head } from '../../support/cbor';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function expectCborError(bytes: Uint8Array, re: RegExp): void {
  let err: unknown;
  try {
    decodeCbor(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VerificationFailedError);
  expect((err as VerificationFailedError).code).toBe('INVALID_ENVELOPE');
  expect((err as Error).message).toMatch(re);
}

describe('decodeCbor: well-formed items (RFC 8949 Appendix A values)', () => {
  test.each([
    ['00', 0], ['17', 23], ['1818', 24], ['18ff', 255], ['190100', 256], ['1a00010000', 65536],
    ['1b0000000100000000', 4294967296], ['1b001fffffffffffff', Number.MAX_SAFE_INTEGER],
    ['20', -1], ['3818', -25], ['3901f3', -500],
    ['f4', false], ['f5', true], ['f6', null], ['f7', undefined],
    ['f93e00', 1.5], ['f97c00', Infinity], ['fa47c35000', 100000], ['fb3ff199999999999a', 1.1],
    ['60', ''], ['6449455446', 'IETF'], ['62c3bc', '\u00fc'],
  ])('%s', (h, want) => {
    expect(decodeCbor(hex(h))).toEqual(want);
  });

  test('byte strings are views of the input (never re-encoded)', () => {
    const input = hex('4401020304');
    const v = decodeCbor(input) as Uint8Array;
    expect(Buffer.from(v).toString('hex')).toBe('01020304');
    expect(v.buffer).toBe(input.buffer);
  });

  test('arrays, maps, tags', () => {
    expect(decodeCbor(hex('8301820203820405'))).toEqual([1, [2, 3], [4, 5]]);
    const m = decodeCbor(hex('a201020326')) as CborMap;
    expect(m).toBeInstanceOf(CborMap);
    expect(m.get(1)).toBe(2);
    expect(m.get(3)).toBe(-7);
    expect(m.keys()).toEqual([1, 3]);
    const s = decodeCbor(hex('a26161016162820203')) as CborMap;
    expect(s.get('a')).toBe(1);
    expect(s.get('b')).toEqual([2, 3]);
    const t = decodeCbor(hex('c11a514b67b0')) as CborTagged;
    expect(t).toBeInstanceOf(CborTagged);
    expect(t.tag).toBe(1);
    expect(t.value).toBe(1363896240);
  });

  test('nesting up to the limit is accepted', () => {
    const ok = new Uint8Array(CBOR_MAX_DEPTH + 1).fill(0x81);
    ok[CBOR_MAX_DEPTH] = 0x00;
    let v: unknown = decodeCbor(ok);
    for (let i = 0; i < CBOR_MAX_DEPTH; i++) v = (v as unknown[])[0];
    expect(v).toBe(0);
  });

  test('encodeByteString (Sig_structure helper) uses shortest heads', () => {
    expect(Buffer.from(encodeByteString(new Uint8Array(0))).toString('hex')).toBe('40');
    expect(Buffer.from(encodeByteString(new Uint8Array(24))).subarray(0, 2).toString('hex')).toBe('5818');
    expect(Buffer.from(encodeByteString(new Uint8Array(300))).subarray(0, 3).toString('hex')).toBe('59012c');
  });
});

describe('decodeCbor: notation-core-go COSE conformance vector', () => {
  const conf = JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/notation-core-go/conformance/cose-conformance.json'), 'utf8'));

  test('COSE_Sign1_Tagged decodes; protected bstr is byte-identical to the expected header encoding', () => {
    const top = decodeCbor(hex(conf.expectedOutput.cborHex)) as CborTagged;
    expect(top.tag).toBe(18);
    const [prot, unprot, payload, sig] = top.value as [Uint8Array, CborMap, Uint8Array, Uint8Array];
    expect(Buffer.from(prot).toString('hex').toUpperCase()).toBe(conf.protectedHeaders.cborHex);
    expect(Buffer.from(payload).toString()).toBe('hello COSE');
    expect(sig.length).toBe(384);
    expect(unprot.get('io.cncf.notary.signingAgent')).toBe('NotationConformanceTest/1.0.0');

    const p = decodeCbor(prot) as CborMap;
    expect(p.get(1)).toBe(-38);
    expect(p.get(2)).toEqual(['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry', 'signedCritKey1']);
    expect(p.get(3)).toBe('application/vnd.cncf.notary.payload.v1+json');
    expect(p.get('io.cncf.notary.signingTime')).toEqual(new CborTagged(1, conf.signingTime));
    expect(p.get('io.cncf.notary.expiry')).toEqual(new CborTagged(1, conf.expiry));
    expect(p.get('signedCritKey1')).toBe('signedCritValue1');
  });

  test('the test encoder reproduces the conformance protected header byte for byte', () => {
    const m = new Map<number | string, any>([
      [1, -38],
      [2, ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry', 'signedCritKey1']],
      [3, 'application/vnd.cncf.notary.payload.v1+json'],
      ['signedKey1', 'signedValue1'],
      ['signedCritKey1', 'signedCritValue1'],
      ['io.cncf.notary.expiry', new CborTagged(1, conf.expiry)],
      ['io.cncf.notary.signingTime', new CborTagged(1, conf.signingTime)],
      ['io.cncf.notary.signingScheme', 'notary.x509'],
    ]);
    expect(Buffer.from(encodeCbor(m)).toString('hex').toUpperCase()).toBe(conf.protectedHeaders.cborHex);
  });
});

describe('decodeCbor: malformed input -> INVALID_ENVELOPE', () => {
  test.each([
    ['empty input', '', /empty input/],
    ['truncated uint argument', '19 01', /truncated/],
    ['truncated byte string', '45 0102', /truncated/],
    ['truncated text string', '63 6161', /truncated/],
    ['truncated array', '83 01 02', /exceeds the input/],
    ['truncated map value', 'a1 01', /exceeds the input/],
    ['truncated tag content', 'c1', /truncated/],
    ['truncated float', 'fb 3ff1', /truncated/],
    ['byte string length beyond buffer', '5a ffffffff 00', /truncated/],
    ['64-bit length beyond safe range', '5b ffffffffffffffff', /too large/],
    ['array count beyond buffer', '9b 0000000100000000 00', /exceeds the input/],
    ['map count beyond buffer', 'ba 7fffffff 00', /exceeds the input/],
    ['indefinite byte string', '5f 41 00 ff', /indefinite/],
    ['indefinite text string', '7f 61 61 ff', /indefinite/],
    ['indefinite array', '9f 01 ff', /indefinite/],
    ['indefinite map', 'bf 01 02 ff', /indefinite/],
    ['lone break', 'ff', /break/],
    ['reserved additional info 28', '1c', /reserved/],
    ['reserved additional info 30 in array head', '9e', /reserved/],
    ['unassigned simple value', 'f0', /simple value/],
    ['one-byte simple value', 'f8 20', /simple value/],
    ['invalid UTF-8 text', '62 c328', /UTF-8/],
    ['trailing bytes', '01 02', /trailing/],
    ['duplicate map key', 'a2 01 02 01 03', /duplicate map key/],
    ['byte-string map key', 'a1 41 00 01', /map key/],
    ['float map key', 'a1 f93e00 01', /map key/],
  ])('%s', (_name, h, re) => {
    expectCborError(hex(h), re);
  });

  test('nesting deeper than the limit (arrays, maps, tags)', () => {
    const arrays = new Uint8Array(CBOR_MAX_DEPTH + 2).fill(0x81);
    arrays[CBOR_MAX_DEPTH + 1] = 0x00;
    expectCborError(arrays, /nesting deeper than 32/);
    const maps: number[] = [];
    for (let i = 0; i < 40; i++) maps.push(0xa1, 0x01);
    maps.push(0x00);
    expectCborError(Uint8Array.from(maps), /nesting deeper than 32/);
    const tags = new Uint8Array(41).fill(0xc1);
    tags[40] = 0x00;
    expectCborError(tags, /nesting deeper than 32/);
  });

  test('a million nested arrays fail fast without stack overflow', () => {
    expectCborError(new Uint8Array(1_000_000).fill(0x81), /nesting deeper than 32/);
  });

  test('a huge declared length fails before allocating', () => {
    const b = Uint8Array.from([...head(2, 2 ** 40), 1, 2, 3]);
    expectCborError(b, /truncated/);
  });

  test('non-Uint8Array input', () => {
    expect(() => decodeCbor('a' as any)).toThrow(VerificationFailedError);
  });

  test('random byte strings never produce anything but a typed error or a value', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 3000; i++) {
      const len = rnd() % 40;
      const b = new Uint8Array(len);
      for (let j = 0; j < len; j++) b[j] = rnd() & 0xff;
      try {
        decodeCbor(b);
      } catch (e) {
        expect(e).toBeInstanceOf(VerificationFailedError);
      }
    }
  });

  test('spliced raw bytes inside a valid structure are still bounds-checked', () => {
    const b = encodeCbor([1, new CborRaw(hex('5a 00010000')), 2]);
    expectCborError(b, /truncated/);
  });
});
