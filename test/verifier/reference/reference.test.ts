import { ConfigurationError, VerificationFailedError } from '../../../src/verifier/errors';
import {
  digestOf, formatReference, parseDigest, parseEcrRegistry, parseReference, repositoryScope, verifyContent,
} from '../../../src/verifier/reference';

const D256 = 'sha256:' + 'a'.repeat(64);
const D384 = 'sha384:' + 'b'.repeat(96);
const D512 = 'sha512:' + 'c'.repeat(128);

describe('parseReference: valid', () => {
  const table: Array<[string, { registry: string; repository: string; tag?: string; digest?: string }]> = [
    ['localhost:5000/app:v1', { registry: 'localhost:5000', repository: 'app', tag: 'v1' }],
    ['localhost/app@' + D256, { registry: 'localhost', repository: 'app', digest: D256 }],
    ['127.0.0.1:5000/team/app:latest', { registry: '127.0.0.1:5000', repository: 'team/app', tag: 'latest' }],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@' + D256,
      { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com', repository: 'team/app', digest: D256 }],
    ['registry.example.com/a/b/c:1.0.0-rc_1@' + D384,
      { registry: 'registry.example.com', repository: 'a/b/c', tag: '1.0.0-rc_1', digest: D384 }],
    ['registry.example.com./app:v', { registry: 'registry.example.com', repository: 'app', tag: 'v' }],
    ['reg.io/my_app.x__y---z:T_1.2-3', { registry: 'reg.io', repository: 'my_app.x__y---z', tag: 'T_1.2-3' }],
    ['reg.io/app@' + D512, { registry: 'reg.io', repository: 'app', digest: D512 }],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
    ['reg.io/app:' + 'x'.repeat(128), { registry: 'reg.io', repository: 'app', tag: 'x'.repeat(128) }],
  ];
  test.each(table)('%s', (s, expected) => {
    const ref = parseReference(s);
    expect(ref).toEqual(expected);
    expect(formatReference(ref)).toBe(s.replace('.com./', '.com/'));
    expect(repositoryScope(ref)).toBe(`${expected.registry}/${expected.repository}`);
  });
});

describe('parseReference: invalid', () => {
  const table: Array<[string, string]> = [
    ['', 'empty'],
    ['alpine:3', 'docker hub shorthand'],
    ['library/alpine:3', 'no registry host'],
    ['alpine', 'bare name'],
    ['reg.io/app', 'no tag or digest'],
    ['reg.io/App:v1', 'uppercase repository'],
    ['reg.io/app:', 'empty tag'],
    ['reg.io/app:.v1', 'tag starts with dot'],
    ['reg.io/app:' + 'x'.repeat(129), 'tag too long'],
    ['reg.io/app@sha256:abc', 'short digest'],
    ['reg.io/app@sha256:' + 'A'.repeat(64), 'uppercase hex'],
    ['reg.io/app@sha384:' + 'a'.repeat(64), 'sha384 wrong length'],
    ['reg.io/app@md5:' + 'a'.repeat(32), 'unsupported algorithm'],
    ['reg.io/app@' + D256 + '@' + D256, 'two digests'],
    ['reg.io//app:v1', 'empty path component'],
    ['reg.io/app/:v1', 'trailing slash'],
    ['reg.io/-app:v1', 'leading separator'],
    ['reg.io/app-:v1', 'trailing separator'],
    ['reg.io/a..b:v1', 'double dot'],
    ['-reg.io/app:v1', 'bad host'],
    ['reg.io:99999/app:v1', 'bad port'],
    ['reg.io:/app:v1', 'empty port'],
    [' reg.io/app:v1', 'whitespace'],
    ['reg.io/app:v1 ', 'trailing whitespace'],
    ['reg.io/' + 'a'.repeat(260) + ':v1', 'name too long'],
  ];
  test.each(table)('%s (%s)', (s) => {
    let err: unknown;
    try {
      parseReference(s);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).code).toBe('INVALID_REFERENCE');
  });
  test('non-string input is a typed error', () => {
    expect(() => parseReference(undefined as unknown as string)).toThrow(ConfigurationError);
  });
});

describe('digests', () => {
  test('parseDigest', () => {
    expect(parseDigest(D256)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
    expect(parseDigest(D512).algorithm).toBe('sha512');
    expect(() => parseDigest('sha256')).toThrow(ConfigurationError);
  });
  test('digestOf matches known values', () => {
    const empty = new Uint8Array(0);
    expect(digestOf(empty)).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(digestOf(Buffer.from('{}'))).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    expect(digestOf(empty, 'sha384')).toMatch(/^sha384:38b060a751ac9638/);
    expect(digestOf(empty, 'sha512')).toMatch(/^sha512:cf83e1357eefb8bd/);
  });
  test('verifyContent', () => {
    const b = Buffer.from('{}');
    expect(() => verifyContent(b, { digest: digestOf(b), size: 2 })).not.toThrow();
    expect(() => verifyContent(b, { digest: digestOf(b), size: 3 })).toThrow(VerificationFailedError);
    expect(() => verifyContent(b, { digest: D256, size: 2 })).toThrow(/digest mismatch/);
    expect(() => verifyContent(b, { digest: 'garbage' })).toThrow(VerificationFailedError);
  });
});

describe('parseEcrRegistry', () => {
  test.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', { accountId: '123456789012', region: 'us-east-1', dnsSuffix: 'amazonaws.com', partition: 'aws', fips: false, dualStack: false }],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', { accountId: '123456789012', region: 'us-gov-west-1', dnsSuffix: 'amazonaws.com', partition: 'aws-us-gov', fips: true, dualStack: false }],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', { accountId: '123456789012', region: 'cn-north-1', dnsSuffix: 'amazonaws.com.cn', partition: 'aws-cn', fips: false, dualStack: false }],
    ['123456789012.dkr-ecr.eu-west-1.on.aws', { accountId: '123456789012', region: 'eu-west-1', dnsSuffix: 'amazonaws.com', partition: 'aws', fips: false, dualStack: true }],
  ])('%s', (host, expected) => {
    expect(parseEcrRegistry(host)).toEqual(expected);
  });
  test.each([
    'public.ecr.aws', 'localhost:5000', '12345678901.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com:443', '123456789012.dkr.ecr.us-east-1.example.com',
    'evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com',
  ])('not ECR: %s', (host) => {
    expect(parseEcrRegistry(host)).toBeUndefined();
  });
});
