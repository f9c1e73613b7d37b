/**
 * One plain-HTTP rule (src/verifier/registry/loopback.ts) for the engine and the construct: every spelling the
 * runtime accepts in plainHttpRegistries, synth accepts, and every spelling it refuses, synth refuses.
 */
import { App, Stack } from 'aws-cdk-lib';
import { ImageVerifierFunction, TrustedIdentity, TrustPolicy, TrustStore, VerificationLevel } from '../../../src';
import { ConfigurationError } from '../../../src/verifier/errors';
import { isLoopbackHost, RemoteRepository, schemeAllowed, usesPlainHttp } from '../../../src/verifier/registry';
import { ensureBundled } from '../../support/handler-bundle';

const LOOPBACK = [
  'localhost', 'localhost:5000', 'LOCALHOST:5000', 'localhost.:5000', '127.0.0.1', '127.0.0.1:5000', '127.1:5000',
  '2130706433:5000', '0x7f.0.0.1:5000', '127.255.255.254:65535', '[::1]', '[::1]:5000', '[0:0:0:0:0:0:0:1]:5000',
];
const NOT_LOOPBACK = [
  '', 'registry.example.com', '10.0.0.1:5000', '128.0.0.1', '0.0.0.0:5000', '127.0.0.1.nip.io', 'localhost.example.com',
  'mylocalhost:5000', '::1', '[::ffff:127.0.0.1]:5000', '[::2]', 'localhost:abc', 'localhost:99999', 'user@localhost:5000',
  'localhost:5000/path', 'localhost:5000?x', 'http://localhost:5000',
];

describe('isLoopbackHost', () => {
  test.each(LOOPBACK)('%s is loopback', (h) => expect(isLoopbackHost(h)).toBe(true));
  test.each(NOT_LOOPBACK)('%j is not loopback', (h) => expect(isLoopbackHost(h)).toBe(false));
});

describe('usesPlainHttp', () => {
  test('a listed loopback registry, in any spelling on either side', () => {
    expect(usesPlainHttp('127.0.0.1:5000', ['127.1:5000'])).toBe(true);
    expect(usesPlainHttp('localhost:5000', ['LOCALHOST:5000'])).toBe(true);
    expect(usesPlainHttp('[::1]:5000', ['[0:0:0:0:0:0:0:1]:5000'])).toBe(true);
  });
  test('not listed, or another port or name: HTTPS', () => {
    expect(usesPlainHttp('127.0.0.1:5000', [])).toBe(false);
    expect(usesPlainHttp('127.0.0.1:5000')).toBe(false);
    expect(usesPlainHttp('127.0.0.1:5001', ['127.0.0.1:5000'])).toBe(false);
    // names are not resolved: localhost and 127.0.0.1 are two registries
    expect(usesPlainHttp('127.0.0.1:5000', ['localhost:5000'])).toBe(false);
  });
  test.each(NOT_LOOPBACK.filter((h) => h !== ''))('listing %j is a configuration error', (h) => {
    expect(() => usesPlainHttp('127.0.0.1:5000', [h])).toThrow(ConfigurationError);
    expect(() => usesPlainHttp('127.0.0.1:5000', [h])).toThrow(/plain HTTP is only allowed for loopback registries/);
  });
});

describe('schemeAllowed (redirect targets and token realms)', () => {
  test('HTTPS anywhere; plain HTTP only to loopback and only from a plain-HTTP registry', () => {
    expect(schemeAllowed(new URL('https://storage.example.com/x'), false)).toBe(true);
    expect(schemeAllowed(new URL('https://storage.example.com/x'), true)).toBe(true);
    expect(schemeAllowed(new URL('http://127.0.0.1:9000/x'), true)).toBe(true);
    expect(schemeAllowed(new URL('http://127.0.0.1:9000/x'), false)).toBe(false);
    expect(schemeAllowed(new URL('http://storage.example.com/x'), true)).toBe(false);
    expect(schemeAllowed(new URL('ftp://127.0.0.1/x'), true)).toBe(false);
    expect(schemeAllowed(new URL('file:///etc/passwd'), true)).toBe(false);
  });
});

describe('synth and runtime agree', () => {
  beforeAll(() => ensureBundled());

  const policy = () => new TrustPolicy({
    statements: [{
      name: 'release',
      registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app'],
      level: VerificationLevel.STRICT,
      trustStores: [TrustStore.AWS_SIGNER],
      trustedIdentities: [TrustedIdentity.fromArn('arn:aws:signer:us-east-1:111122223333:/signing-profiles/release')],
    }],
  });
  const synthAccepts = (h: string): boolean => {
    const s = new Stack(new App(), 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
    try {
      new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy(), plainHttpRegistries: [h] });
      return true;
    } catch (e) {
      expect(String(e)).toMatch(/plainHttpRegistries accepts loopback registries only/);
      return false;
    }
  };
  const runtimeAccepts = (h: string): boolean => {
    try {
      new RemoteRepository({ registry: '127.0.0.1:5000', repository: 'app' }, { plainHttpRegistries: [h] });
      return true;
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigurationError);
      return false;
    }
  };

  test.each([...LOOPBACK, ...NOT_LOOPBACK.filter((h) => h !== '')])('%j', (h) => {
    const expected = isLoopbackHost(h);
    expect(synthAccepts(h)).toBe(expected);
    expect(runtimeAccepts(h)).toBe(expected);
  });
});
