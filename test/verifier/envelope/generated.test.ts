/**
 * Envelopes generated with real keys and certificates (test/support/pki.ts + sign.ts):
 * every supported key size in both formats, and the adversarial tamper matrix.
 */
import * as crypto from 'crypto';
import { KNOWN_CRITICAL_ATTRIBUTES, parseEnvelopeUnverified, verifyEnvelopeIntegrity } from '../../../src/verifier/envelope';
import { CborMap, CborTagged, decodeCbor } from '../../../src/verifier/envelope/cbor';
import { VerificationFailedError } from '../../../src/verifier/errors';
import { encodeCbor } from '../../support/cbor';
import { failure } from '../../support/helpers';
import { Chain, KeyType, makeChain } from '../../support/pki';
import { DEFAULT_TARGET, envelopeMediaType, SignOptions, signEnvelope, Tamper } from '../../support/sign';

type Format = 'jws' | 'cose';
const FORMATS: Format[] = ['jws', 'cose'];

const chains = new Map<string, Chain>();
function chain(keyType: KeyType, length: 1 | 2 | 3 | 4 = 3): Chain {
  const id = `${keyType}/${length}`;
  if (!chains.has(id)) chains.set(id, makeChain({ keyType, length, keySlot: `envelope-${id}` }));
  return chains.get(id)!;
}

function opts(c: Chain, extra: Partial<SignOptions> = {}): SignOptions {
  return { key: c.key, chainDer: c.chainDer, ...extra };
}

function verify(format: Format, bytes: Uint8Array) {
  return verifyEnvelopeIntegrity(envelopeMediaType(format), bytes);
}


describe('supported key sizes, both formats', () => {
  const cases: Array<[KeyType, string]> = [
    ['rsa2048', 'PS256'], ['rsa3072', 'PS384'], ['rsa4096', 'PS512'],
    ['p256', 'ES256'], ['p384', 'ES384'], ['p521', 'ES512'],
  ];
  for (const format of FORMATS) {
    test.each(cases)(`${format}: %s leaf -> %s`, (keyType, alg) => {
      const c = chain(keyType);
      const signingTime = new Date('2025-01-02T03:04:05Z');
      const expiry = new Date('2026-01-02T03:04:05Z');
      const target = { ...DEFAULT_TARGET, annotations: { buildId: '42' } };
      const bytes = signEnvelope(format, opts(c, { signingTime, expiry, signingAgent: 'test-agent/1.0', targetArtifact: target }));
      const env = verify(format, bytes);
      expect(env.format).toBe(format);
      expect(env.algorithm).toBe(alg);
      expect(env.signingScheme).toBe('notary.x509');
      expect(env.signingTime?.toISOString()).toBe(signingTime.toISOString());
      expect(env.expiry?.toISOString()).toBe(expiry.toISOString());
      expect(env.targetArtifact).toEqual(target);
      expect(env.signingAgent).toBe('test-agent/1.0');
      expect(env.certificateChain.map((x) => Buffer.from(x).toString('hex'))).toEqual(c.chainDer.map((x) => Buffer.from(x).toString('hex')));
      const ecLen: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132 };
      if (alg.startsWith('ES')) expect(env.signature.length).toBe(ecLen[alg]);
    });
  }

  test.each(FORMATS)('%s: a single self-signed leaf is accepted', (format) => {
    const c = chain('p256', 1);
    expect(verify(format, signEnvelope(format, opts(c))).certificateChain).toHaveLength(1);
  });

  test.each(FORMATS)('%s: signingAuthority scheme', (format) => {
    const c = chain('p384', 4);
    const t = new Date('2025-06-01T00:00:00Z');
    const env = verify(format, signEnvelope(format, opts(c, {
      signingScheme: 'notary.x509.signingAuthority',
      authenticSigningTime: t,
      expiry: new Date('2028-06-01T00:00:00Z'),
      verificationPlugin: 'com.amazonaws.signer.notation.plugin',
      verificationPluginMinVersion: '1.0.298',
      extendedAttributes: [
        { key: 'com.amazonaws.signer.signingProfileVersion', value: 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/p/v1', critical: true },
        { key: 'com.amazonaws.signer.signingJob', value: 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/j', critical: true },
      ],
    })));
    expect(env.signingScheme).toBe('notary.x509.signingAuthority');
    expect(env.authenticSigningTime?.toISOString()).toBe(t.toISOString());
    expect(env.signingTime).toBeUndefined();
    expect(env.verificationPlugin).toBe('com.amazonaws.signer.notation.plugin');
    expect(env.verificationPluginMinVersion).toBe('1.0.298');
    expect(env.extendedAttributes.map((a) => [a.key, a.critical]).sort()).toEqual([
      ['com.amazonaws.signer.signingJob', true], ['com.amazonaws.signer.signingProfileVersion', true],
    ]);
    for (const a of env.extendedAttributes) expect(KNOWN_CRITICAL_ATTRIBUTES).toContain(a.key);
  });

  test.each(FORMATS)('%s: timestamp token is carried through', (format) => {
    const tok = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x07]);
    const env = verify(format, signEnvelope(format, opts(chain('p256'), { timestampToken: tok })));
    expect(Buffer.from(env.timestampToken!).toString('hex')).toBe('3003020107');
  });

  test.each([['rsa1024', /rsa key size 1024 bits is not supported/], ['p224', /ecdsa key size 224 bits is not supported/]] as const)(
    'unsupported leaf key %s -> INVALID_CERTIFICATE_CHAIN', (keyType, re) => {
      for (const format of FORMATS) {
        const c = makeChain({ keyType: 'p256', length: 2, keySlot: `envelope-bad-${keyType}`, leaf: { keyType } });
        const alg = keyType === 'rsa1024' ? 'PS256' : 'ES256';
        const err = failure(() => verify(format, signEnvelope(format, opts(c, { alg }))));
        if (format === 'jws' && keyType === 'p224') {
          // golang-jwt order: ES256 expects a 64-byte r||s, a P-224 key yields 56 bytes -> crypto failure first
          expect([err.code, err.message]).toEqual(['INVALID_SIGNATURE', 'signature is invalid. Error: crypto/ecdsa: verification error']);
          continue;
        }
        expect(err.code).toBe('INVALID_CERTIFICATE_CHAIN');
        expect(err.message).toMatch(re);
      }
    });

  test.each(FORMATS)('%s: chain not issued in order -> INVALID_CERTIFICATE_CHAIN', (format) => {
    const a = chain('p256', 2);
    const b = makeChain({ keyType: 'p256', length: 2, keySlot: 'envelope-other' });
    const err = failure(() => verify(format, signEnvelope(format, { key: a.key, chainDer: [a.chainDer[0], b.chainDer[1]] })));
    expect(err.code).toBe('INVALID_CERTIFICATE_CHAIN');
    expect(err.message).toMatch(/^certificate-chain is invalid, .*certificate with subject .* is not issued by/);
  });

  test.each(FORMATS)('%s: leaf with a TLS EKU -> INVALID_CERTIFICATE_CHAIN', (format) => {
    const c = makeChain({ keyType: 'p256', length: 2, keySlot: 'envelope-eku', leaf: { extKeyUsage: ['serverAuth'] } });
    const err = failure(() => verify(format, signEnvelope(format, opts(c))));
    expect(err.code).toBe('INVALID_CERTIFICATE_CHAIN');
    expect(err.message).toMatch(/^certificate-chain is invalid, /);
  });

  test.each(FORMATS)('%s: malformed leaf certificate', (format) => {
    const c = chain('p256', 2);
    const err = failure(() => verify(format, signEnvelope(format, { key: c.key, chainDer: [Uint8Array.from([0x30, 0x03, 1, 2, 3]), c.chainDer[1]] })));
    expect(err.code).toBe('INVALID_CERTIFICATE_CHAIN');
    expect(err.message).toBe('malformed leaf certificate');
  });
});

interface Expectation { code: string; message: string | RegExp; passes?: false }
type Row = [Tamper, KeyType, Expectation | 'passes'];

const JWS_MATRIX: Row[] = [
  ['payload', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: crypto/ecdsa: verification error' }],
  ['payload', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: crypto/rsa: verification error' }],
  ['protectedHeader', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: crypto/ecdsa: verification error' }],
  ['protectedHeader', 'rsa3072', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: crypto/rsa: verification error' }],
  ['signature', 'p384', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: crypto/ecdsa: verification error' }],
  ['signature', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: crypto/rsa: verification error' }],
  ['paddedBase64', 'p256', { code: 'INVALID_SIGNATURE', message: /^signature is invalid. Error: illegal base64 data at input byte \d+$/ }],
  ['algNone', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: signing method none is invalid' }],
  ['hs256', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: signing method HS256 is invalid' }],
  ['algKeyMismatch', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'mismatch between signature algorithm derived from signing certificate (PS256) and signing algorithm specified (PS384)' }],
  ['algKeyMismatch', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: crypto/ecdsa: verification error' }],
  ['algFamilyMismatch', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: key is invalid or of invalid type' }],
  ['algFamilyMismatch', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: key is invalid or of invalid type' }],
  ['missingCrit', 'p256', { code: 'INVALID_ENVELOPE', message: 'missing "crit" header' }],
  ['signingSchemeNotCritical', 'p256', { code: 'INVALID_ENVELOPE', message: 'these required headers are not marked as critical: [io.cncf.notary.signingScheme]' }],
  ['expiryNotCritical', 'p256', { code: 'INVALID_ENVELOPE', message: 'these required headers are not marked as critical: [io.cncf.notary.expiry]' }],
  ['extraCrit', 'p256', { code: 'INVALID_ENVELOPE', message: '"io.cncf.notary.nonexistent" header is marked critical but not present' }],
  ['unknownCriticalAttribute', 'p256', 'passes'],
  ['badSigningScheme', 'p256', { code: 'INVALID_ENVELOPE', message: 'unsupported SigningScheme: `notary.x509.unknown`' }],
  ['wrongContentType', 'p256', { code: 'INVALID_ENVELOPE', message: 'payload content type "application/json" not supported' }],
  ['expiryNotAfterSigningTime', 'p256', { code: 'INVALID_ENVELOPE', message: 'expiry cannot be equal or before the signing time' }],
  ['noCertChain', 'p256', { code: 'INVALID_CERTIFICATE_CHAIN', message: 'certificate chain is not present' }],
  ['compact', 'p256', { code: 'INVALID_ENVELOPE', message: /compact serialization is not supported/ }],
  ['general', 'p256', { code: 'INVALID_ENVELOPE', message: /general JSON serialization is not supported/ }],
];

const COSE_MATRIX: Row[] = [
  ['payload', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: verification error' }],
  ['payload', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: verification error' }],
  ['protectedHeader', 'p384', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: verification error' }],
  ['protectedHeader', 'rsa3072', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: verification error' }],
  ['signature', 'p521', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: verification error' }],
  ['signature', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'signature is invalid. Error: verification error' }],
  ['algNone', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature algorithm not supported: none' }],
  ['hs256', 'p256', { code: 'INVALID_SIGNATURE', message: 'signature algorithm not supported: 5' }],
  ['algKeyMismatch', 'rsa2048', { code: 'INVALID_SIGNATURE', message: 'mismatch between signature algorithm derived from signing certificate (PS256) and signing algorithm specified (PS384)' }],
  ['algKeyMismatch', 'p256', { code: 'INVALID_SIGNATURE', message: 'mismatch between signature algorithm derived from signing certificate (ES256) and signing algorithm specified (ES384)' }],
  ['algFamilyMismatch', 'p256', { code: 'INVALID_SIGNATURE', message: 'mismatch between signature algorithm derived from signing certificate (ES256) and signing algorithm specified (PS256)' }],
  ['missingCrit', 'p256', { code: 'INVALID_ENVELOPE', message: 'these required headers are not marked as critical: [io.cncf.notary.signingScheme io.cncf.notary.expiry]' }],
  ['signingSchemeNotCritical', 'p256', { code: 'INVALID_ENVELOPE', message: 'these required headers are not marked as critical: [io.cncf.notary.signingScheme]' }],
  ['expiryNotCritical', 'p256', { code: 'INVALID_ENVELOPE', message: 'these required headers are not marked as critical: [io.cncf.notary.expiry]' }],
  ['extraCrit', 'p256', { code: 'INVALID_ENVELOPE', message: /missing critical header: io.cncf.notary.nonexistent/ }],
  ['unknownCriticalAttribute', 'p256', 'passes'],
  ['badSigningScheme', 'p256', { code: 'INVALID_ENVELOPE', message: 'unsupported signingScheme: notary.x509.unknown' }],
  ['wrongContentType', 'p256', { code: 'INVALID_ENVELOPE', message: 'payload content type "application/json" not supported' }],
  ['expiryNotAfterSigningTime', 'p256', { code: 'INVALID_ENVELOPE', message: 'expiry cannot be equal or before the signing time' }],
  ['noCertChain', 'p256', { code: 'INVALID_CERTIFICATE_CHAIN', message: 'certificate chain is not present' }],
  ['untagged', 'p256', { code: 'INVALID_ENVELOPE', message: /tag 18/ }],
  ['x5chainSingleBstr', 'p256', { code: 'INVALID_CERTIFICATE_CHAIN', message: 'certificate chain is not present' }],
  ['untaggedTime', 'p256', { code: 'INVALID_ENVELOPE', message: 'invalid signingTime: invalid timeValue type' }],
  ['tag0Time', 'p256', { code: 'INVALID_ENVELOPE', message: 'invalid signingTime: only Tag `1` Datetime CBOR object is supported' }],
];

describe.each([['jws', JWS_MATRIX], ['cose', COSE_MATRIX]] as Array<[Format, Row[]]>)('%s tamper matrix', (format, rows) => {
  test.each(rows)(`${format}: %s (%s)`, (tamper, keyType, want) => {
    const c = chain(keyType);
    const bytes = signEnvelope(format, opts(c, { tamper, expiry: new Date(Date.now() + 86400_000) }));
    if (want === 'passes') {
      const env = verify(format, bytes);
      expect(env.extendedAttributes).toContainEqual({ key: 'io.example.unknown', value: 'x', critical: true });
      expect(KNOWN_CRITICAL_ATTRIBUTES).not.toContain('io.example.unknown');
      return;
    }
    const err = failure(() => verify(format, bytes));
    expect(err.code).toBe(want.code);
    if (typeof want.message === 'string') expect(err.message).toBe(want.message);
    else expect(err.message).toMatch(want.message);
    expect(err.kind).toBe('failed');
  });
});

describe('JWS header rules', () => {
  const c = (): Chain => chain('p256');

  test('padded base64url: the reported index is that of the first "="', () => {
    const bytes = signEnvelope('jws', opts(c(), { tamper: 'paddedBase64' }));
    const payload = JSON.parse(Buffer.from(bytes).toString()).payload as string;
    expect(failure(() => verify('jws', bytes)).message).toBe(`signature is invalid. Error: illegal base64 data at input byte ${payload.indexOf('=')}`);
  });

  test('RFC 3339 signing time with a numeric offset', () => {
    const env = verify('jws', signEnvelope('jws', opts(c(), { signingTime: '2023-06-27T13:30:33+08:00' })));
    expect(env.signingTime?.toISOString()).toBe('2023-06-27T05:30:33.000Z');
  });

  test.each(['2023-13-01T00:00:00Z', '1690000000', 'yesterday'])('invalid signing time %j', (t) => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), { signingTime: t }))));
    expect(err.code).toBe('INVALID_ENVELOPE');
    expect(err.message).toMatch(/^jws envelope protected header can't be decoded: /);
  });

  test('signingAuthority with io.cncf.notary.signingTime is rejected', () => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), {
      signingScheme: 'notary.x509.signingAuthority',
      extendedAttributes: [{ key: 'io.cncf.notary.signingTime', value: '2024-01-01T00:00:00Z' }],
    }))));
    expect(err.message).toBe('"io.cncf.notary.signingTime" header must not be present for notary.x509.signingAuthority signing scheme');
  });

  test('notary.x509 with io.cncf.notary.authenticSigningTime is rejected', () => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), {
      extendedAttributes: [{ key: 'io.cncf.notary.authenticSigningTime', value: '2024-01-01T00:00:00Z' }],
    }))));
    expect(err.message).toBe('"io.cncf.notary.authenticSigningTime" header must not be present for notary.x509 signing scheme');
  });

  test('signingAuthority without authenticSigningTime critical', () => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), {
      signingScheme: 'notary.x509.signingAuthority', crit: ['io.cncf.notary.signingScheme'],
    }))));
    expect(err.message).toBe('these required headers are not marked as critical: [io.cncf.notary.authenticSigningTime]');
  });

  test('notation quirk: marking a known header critical is "not present"', () => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), {
      crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.signingTime'],
    }))));
    expect(err.message).toBe('"io.cncf.notary.signingTime" header is marked critical but not present');
  });

  test('non-critical extended attributes are exposed, not rejected', () => {
    const env = verify('jws', signEnvelope('jws', opts(c(), { extendedAttributes: [{ key: 'k', value: 7 }] })));
    expect(env.extendedAttributes).toEqual([{ key: 'k', value: 7, critical: false }]);
  });

  test('plugin header must be critical', () => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), {
      extendedAttributes: [{ key: 'io.cncf.notary.verificationPlugin', value: 'p', critical: false }],
    }))));
    expect(err.message).toBe('io.cncf.notary.verificationPlugin is not a critical Extended attribute');
  });

  test.each([' ', ''])('blank plugin name %j', (name) => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), { verificationPlugin: name }))));
    expect(err.message).toBe('io.cncf.notary.verificationPlugin from extended attribute is an empty string');
  });

  test.each(['1.0', 'v1.0.0', '01.0.0', '1.0.0-'])('plugin min version %j must be SemVer', (v) => {
    const err = failure(() => verify('jws', signEnvelope('jws', opts(c(), { verificationPlugin: 'p', verificationPluginMinVersion: v }))));
    expect(err.code).toBe('INVALID_ENVELOPE');
    expect(err.message).toBe('error while getting plugin minimum version, error: io.cncf.notary.verificationPluginMinVersion from extended attribute is not a valid SemVer');
  });

  test('payload shapes', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['not json', /^failed to unmarshal the payload content/],
      [[], /not a JSON object/],
      [{}, /targetArtifact/],
      [{ targetArtifact: { digest: 'sha256:00', size: 1 } }, /mediaType is missing/],
      [{ targetArtifact: { mediaType: 'm', size: 1 } }, /digest is missing/],
      [{ targetArtifact: { mediaType: 'm', digest: 'sha256:00', size: '1' } }, /size/],
      [{ targetArtifact: { mediaType: 'm', digest: 'sha256:00', size: 1.5 } }, /size/],
      [{ targetArtifact: { mediaType: 'm', digest: 'sha256:00', size: 1, annotations: { a: 1 } } }, /annotations/],
    ];
    for (const [payload, re] of cases) {
      const raw = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload));
      // JWS needs a JSON object payload for golang-jwt; non-objects fail at the crypto step
      for (const format of FORMATS) {
        const err = failure(() => verify(format, signEnvelope(format, opts(c(), { payload: raw }))));
        expect(err.code).toBe(format === 'jws' && (typeof payload === 'string' || Array.isArray(payload)) ? 'INVALID_SIGNATURE' : 'INVALID_ENVELOPE');
        if (err.code === 'INVALID_ENVELOPE') expect(err.message).toMatch(re);
      }
    }
  });

  test('malformed outer JSON and members', () => {
    const good = JSON.parse(Buffer.from(signEnvelope('jws', opts(c()))).toString());
    const cases: Array<[unknown, string, RegExp]> = [
      ['{', 'INVALID_ENVELOPE', /invalid JSON/],
      [[good], 'INVALID_ENVELOPE', /must be a JSON object/],
      [{ ...good, payload: 5 }, 'INVALID_ENVELOPE', /"payload" is missing/],
      [{ ...good, protected: undefined }, 'INVALID_ENVELOPE', /"protected" is missing/],
      [{ ...good, header: [] }, 'INVALID_ENVELOPE', /"header" must be a JSON object/],
      [{ ...good, header: { x5c: 'abc' } }, 'INVALID_ENVELOPE', /"x5c" must be an array/],
      [{ ...good, header: { x5c: ['YQ='] } }, 'INVALID_ENVELOPE', /illegal base64 data at input byte 3/],
      [{ ...good, header: { ...good.header, 'io.cncf.notary.timestampSignature': '***' } }, 'INVALID_ENVELOPE', /illegal base64 data at input byte 0/],
      [{ ...good, signature: '' }, 'INVALID_SIGNATURE', /verification error/],
      [{ ...good, protected: Buffer.from('[1]').toString('base64url') }, 'INVALID_SIGNATURE', /could not JSON decode header/],
    ];
    for (const [doc, code, re] of cases) {
      const raw = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
      const err = failure(() => verify('jws', raw));
      expect([err.code, err.message]).toEqual([code, expect.stringMatching(re)]);
    }
  });

  test('parseEnvelopeUnverified reads a tampered envelope that verification rejects', () => {
    const bytes = signEnvelope('jws', opts(c(), { tamper: 'signature' }));
    expect(failure(() => verify('jws', bytes)).code).toBe('INVALID_SIGNATURE');
    const env = parseEnvelopeUnverified('application/jose+json', bytes);
    expect(env.targetArtifact).toEqual(DEFAULT_TARGET);
    expect(env.algorithm).toBe('ES256');
  });
});

describe('COSE structure rules', () => {
  const c = (): Chain => chain('p256');

  function rebuild(bytes: Uint8Array, edit: (parts: unknown[]) => unknown): Uint8Array {
    const top = decodeCbor(bytes) as CborTagged;
    return encodeCbor(edit([...(top.value as unknown[])]) as any);
  }

  test('detached payload (nil) is rejected', () => {
    const bytes = rebuild(signEnvelope('cose', opts(c())), (p) => new CborTagged(18, [p[0], p[1], null, p[3]] as any));
    expect(failure(() => verify('cose', bytes)).message).toMatch(/detached payload/);
  });

  test('wrong tag and wrong arity are rejected', () => {
    const b1 = rebuild(signEnvelope('cose', opts(c())), (p) => new CborTagged(98, p as any));
    expect(failure(() => verify('cose', b1)).message).toMatch(/tag 18/);
    const b2 = rebuild(signEnvelope('cose', opts(c())), (p) => new CborTagged(18, p.slice(0, 3) as any));
    expect(failure(() => verify('cose', b2)).message).toMatch(/array of 4/);
  });

  test('header label in both buckets is rejected', () => {
    const bytes = rebuild(signEnvelope('cose', opts(c())), (p) => {
      const u = p[1] as CborMap;
      return new CborTagged(18, [p[0], new CborMap([...u.entries(), [3, 'x']]), p[2], p[3]] as any);
    });
    expect(failure(() => verify('cose', bytes)).message).toMatch(/both the protected and unprotected/);
  });

  test('trailing bytes after the message are rejected', () => {
    const bytes = Buffer.concat([Buffer.from(signEnvelope('cose', opts(c()))), Buffer.from([0])]);
    expect(failure(() => verify('cose', bytes)).message).toMatch(/trailing/);
  });

  test('x5chain with a non-bstr element', () => {
    const bytes = rebuild(signEnvelope('cose', opts(c())), (p) =>
      new CborTagged(18, [p[0], new CborMap([[33, [c().chainDer[0], 'x']]]), p[2], p[3]] as any));
    const err = failure(() => verify('cose', bytes));
    expect(err.code).toBe('INVALID_CERTIFICATE_CHAIN');
    expect(err.message).toBe('certificate chain is not present');
  });

  test('float epoch time inside tag 1 is accepted', () => {
    // re-sign a protected header whose signing time is a float
    const key = c().key;
    const prot = encodeCbor(new Map<number | string, any>([
      [1, -7], [2, ['io.cncf.notary.signingScheme']], [3, 'application/vnd.cncf.notary.payload.v1+json'],
      ['io.cncf.notary.signingScheme', 'notary.x509'], ['io.cncf.notary.signingTime', new CborTagged(1, 1700000000.5)],
    ]));
    const payload = Buffer.from(JSON.stringify({ targetArtifact: DEFAULT_TARGET }));
    const tbs = encodeCbor(['Signature1', prot, new Uint8Array(0), payload]);
    const sig = crypto.sign('sha256', tbs, { key, dsaEncoding: 'ieee-p1363' });
    const bytes = encodeCbor(new CborTagged(18, [prot, new Map([[33, c().chainDer]]), payload, sig] as any));
    expect(verify('cose', bytes).signingTime?.toISOString()).toBe('2023-11-14T22:13:20.500Z');
  });

  test('RSA-PSS with a salt other than the hash length fails COSE (go-cose) but passes JWS (golang-jwt auto)', () => {
    const rc = chain('rsa2048');
    const prot = encodeCbor(new Map<number | string, any>([
      [1, -37], [2, ['io.cncf.notary.signingScheme']], [3, 'application/vnd.cncf.notary.payload.v1+json'],
      ['io.cncf.notary.signingScheme', 'notary.x509'], ['io.cncf.notary.signingTime', new CborTagged(1, 1700000000)],
    ]));
    const payload = Buffer.from(JSON.stringify({ targetArtifact: DEFAULT_TARGET }));
    const tbs = encodeCbor(['Signature1', prot, new Uint8Array(0), payload]);
    const sig = crypto.sign('sha256', tbs, { key: rc.key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 });
    const bytes = encodeCbor(new CborTagged(18, [prot, new Map([[33, rc.chainDer]]), payload, sig] as any));
    expect(failure(() => verify('cose', bytes)).message).toBe('signature is invalid. Error: verification error');

    const good = JSON.parse(Buffer.from(signEnvelope('jws', opts(rc))).toString());
    const input = Buffer.from(`${good.protected}.${good.payload}`);
    good.signature = crypto.sign('sha256', input, { key: rc.key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 }).toString('base64url');
    expect(verify('jws', Buffer.from(JSON.stringify(good))).algorithm).toBe('PS256');
  });
});

describe('dispatch and robustness', () => {
  test.each(['application/json', 'application/jose', 'application/cose; charset=x', ''])('media type %j -> UNSUPPORTED_ENVELOPE', (mt) => {
    const err = failure(() => verifyEnvelopeIntegrity(mt, Buffer.from('{}')));
    expect(err.code).toBe('UNSUPPORTED_ENVELOPE');
    expect(failure(() => parseEnvelopeUnverified(mt, Buffer.from('{}'))).code).toBe('UNSUPPORTED_ENVELOPE');
  });

  test.each(['application/jose+json', 'application/cose'])('%s: empty envelope', (mt) => {
    expect(failure(() => verifyEnvelopeIntegrity(mt, new Uint8Array(0))).code).toBe('INVALID_ENVELOPE');
  });

  test('envelopes over 32 MiB are refused before parsing', () => {
    const err = failure(() => verifyEnvelopeIntegrity('application/jose+json', new Uint8Array(32 * 1024 * 1024 + 1)));
    expect(err.code).toBe('SIZE_LIMIT_EXCEEDED');
  });

  test('a UTF-8 byte-order mark before the JWS JSON is rejected (Go json rejects it too)', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(signEnvelope('jws', opts(chain('p256'))))]);
    expect(failure(() => verify('jws', bytes)).code).toBe('INVALID_ENVELOPE');
  });

  test('random mutations of valid envelopes only ever yield typed failures', () => {
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const format of FORMATS) {
      const base = Buffer.from(signEnvelope(format, opts(chain('p256'))));
      for (let i = 0; i < 300; i++) {
        const b = Buffer.from(base);
        const edits = 1 + rnd(3);
        for (let k = 0; k < edits; k++) b[rnd(b.length)] = rnd(256);
        const cut = rnd(4) === 0 ? b.subarray(0, rnd(b.length)) : b;
        try {
          verify(format, cut);
        } catch (e) {
          expect(e).toBeInstanceOf(VerificationFailedError);
        }
      }
    }
  });
});
