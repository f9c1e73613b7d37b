import { VerificationFailedError } from '../../../src/verifier/errors';
import {
  bitAt, children, decodeBitString, decodeBoolean, decodeInteger, decodeOid, decodeString, decodeTime, parseDer, readTlv, TAG,
} from '../../../src/verifier/x509/der';
import { der } from '../../support/pki';

const b = (...x: number[]) => new Uint8Array(x);
const bad = (fn: () => unknown) => expect(fn).toThrow(VerificationFailedError);

describe('DER reader', () => {
  it('reads short and long lengths, nested children', () => {
    const inner = der.octet(new Uint8Array(200));
    const seq = der.seq(der.int(5), inner, der.seq());
    const t = parseDer(seq);
    expect(t.tag).toBe(0x30);
    const kids = children(t);
    expect(kids.map((k) => k.tag)).toEqual([0x02, 0x04, 0x30]);
    expect(kids[1].value.length).toBe(200);
    expect(kids[1].raw.length).toBe(203);
  });
  it('rejects truncation, indefinite and non-minimal lengths, high tags, trailing bytes', () => {
    bad(() => readTlv(b()));
    bad(() => readTlv(b(0x30)));
    bad(() => readTlv(b(0x30, 0x05, 0x01)));
    bad(() => readTlv(b(0x30, 0x80, 0x00, 0x00)));
    bad(() => readTlv(b(0x04, 0x81, 0x05, 1, 2, 3, 4, 5)));
    bad(() => readTlv(b(0x04, 0x82, 0x00, 0x80, ...new Array(128).fill(0))));
    bad(() => readTlv(b(0x04, 0x85, 1, 0, 0, 0, 0)));
    bad(() => readTlv(b(0x1f, 0x81, 0x00)));
    bad(() => parseDer(b(0x05, 0x00, 0x00)));
    bad(() => children(b(0x02, 0x01, 0x01, 0x02)));
    bad(() => children(readTlv(b(0x02, 0x01, 0x01))));
  });
  it('OIDs', () => {
    for (const o of ['1.2.840.113549.1.1.11', '2.5.29.37.0', '1.3.6.1.5.5.7.3.3', '2.999.1', '0.9.2342.19200300.100.1.25', '2.16.840.1.101.3.4.2.1']) {
      expect(decodeOid(readTlv(der.oid(o)))).toBe(o);
    }
    bad(() => decodeOid(readTlv(b(0x06, 0x00))));
    bad(() => decodeOid(readTlv(b(0x06, 0x02, 0x2a, 0x86))));
    bad(() => decodeOid(readTlv(b(0x06, 0x02, 0x80, 0x01))));
    bad(() => decodeOid(readTlv(b(0x02, 0x01, 0x01))));
  });
  it('INTEGER', () => {
    for (const v of [0n, 1n, 127n, 128n, 255n, 256n, -1n, -128n, -129n, 2n ** 100n]) {
      expect(decodeInteger(readTlv(der.int(v)))).toBe(v);
    }
    bad(() => decodeInteger(readTlv(b(0x02, 0x00))));
    bad(() => decodeInteger(readTlv(b(0x02, 0x02, 0x00, 0x01))));
    bad(() => decodeInteger(readTlv(b(0x02, 0x02, 0xff, 0x80))));
  });
  it('BOOLEAN and BIT STRING', () => {
    expect(decodeBoolean(readTlv(der.bool(true)))).toBe(true);
    expect(decodeBoolean(readTlv(der.bool(false)))).toBe(false);
    bad(() => decodeBoolean(readTlv(b(0x01, 0x01, 0x01))));
    bad(() => decodeBoolean(readTlv(b(0x01, 0x02, 0x00, 0x00))));
    const bs = decodeBitString(readTlv(b(0x03, 0x02, 0x05, 0xa0)));
    expect([bitAt(bs, 0), bitAt(bs, 1), bitAt(bs, 2), bitAt(bs, 9)]).toEqual([true, false, true, false]);
    bad(() => decodeBitString(readTlv(b(0x03, 0x00))));
    bad(() => decodeBitString(readTlv(b(0x03, 0x02, 0x08, 0x00))));
    bad(() => decodeBitString(readTlv(b(0x03, 0x02, 0x01, 0x01))));
  });
  it('times', () => {
    expect(decodeTime(readTlv(der.utcTime(new Date('2024-06-18T07:30:31Z')))).toISOString()).toBe('2024-06-18T07:30:31.000Z');
    expect(decodeTime(readTlv(der.utcTime(new Date('1999-12-31T23:59:59Z')))).toISOString()).toBe('1999-12-31T23:59:59.000Z');
    expect(decodeTime(readTlv(der.generalizedTime(new Date('3021-10-31T19:20:03Z')))).toISOString()).toBe('3021-10-31T19:20:03.000Z');
    expect(decodeTime(readTlv(der.generalizedTime(new Date('2024-01-02T03:04:05.123Z'), true))).toISOString()).toBe('2024-01-02T03:04:05.123Z');
    const t = (tag: number, s: string) => readTlv(b(tag, s.length, ...Buffer.from(s)));
    bad(() => decodeTime(t(TAG.UTC_TIME, '2406180730Z')));
    bad(() => decodeTime(t(TAG.UTC_TIME, '240618073031+0100')));
    bad(() => decodeTime(t(TAG.UTC_TIME, '240230073031Z')));
    bad(() => decodeTime(t(TAG.GENERALIZED_TIME, '20241318073031Z')));
    bad(() => decodeTime(t(TAG.GENERALIZED_TIME, '20240618073031.10Z')));
    bad(() => decodeTime(t(TAG.OCTET_STRING, '20240618073031Z')));
  });
  it('strings', () => {
    expect(decodeString(readTlv(der.utf8('café')))).toBe('café');
    expect(decodeString(readTlv(der.printable('Hello World')))).toBe('Hello World');
    expect(decodeString(readTlv(der.ia5('a@b.c')))).toBe('a@b.c');
    expect(decodeString(readTlv(b(0x1e, 0x04, 0x00, 0x41, 0x00, 0xe9)))).toBe('Aé');
    bad(() => decodeString(readTlv(b(0x0c, 0x02, 0xc3, 0x28))));
    bad(() => decodeString(readTlv(b(0x13, 0x01, 0x40))));
    bad(() => decodeString(readTlv(b(0x16, 0x01, 0x80))));
    bad(() => decodeString(readTlv(b(0x02, 0x01, 0x01))));
  });
});
