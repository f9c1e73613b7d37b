/**
 * Issue 8 item 6 for trust policies: keys Go's encoding/json would merge (duplicates, case variants,
 * Kelvin sign / long s spellings) are rejected as INVALID_TRUST_POLICY, in JSON text, UTF-8 bytes and
 * objects handed in directly, at any depth; clean policies still parse.
 */
import { ConfigurationError } from '../../../src/verifier/errors';
import { parseTrustPolicy } from '../../../src/verifier/policy';

const LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';
const MALFORMED = `malformed trust policy. To create a trust policy, see: ${LINK}`;

const STATEMENT = '{"name":"release","registryScopes":["registry.example.com/shop/api"],"signatureVerification":{"level":"strict"},'
  + '"trustStores":["ca:release"],"trustedIdentities":["x509.subject:C=US,ST=WA,O=Shop,CN=Release"]}';
const LAX = '{"name":"ci","registryScopes":["*"],"signatureVerification":{"level":"audit"},"trustStores":["ca:ci"],"trustedIdentities":["*"]}';

function rejection(input: unknown): ConfigurationError {
  try {
    parseTrustPolicy(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    expect((e as ConfigurationError).code).toBe('INVALID_TRUST_POLICY');
    return e as ConfigurationError;
  }
  throw new Error('accepted');
}

test('a clean policy parses (text, bytes, object)', () => {
  const text = `{"version":"1.0","trustPolicies":[${STATEMENT}]}`;
  const doc = parseTrustPolicy(text);
  expect(doc.trustPolicies[0].name).toBe('release');
  expect(parseTrustPolicy(Buffer.from(text))).toEqual(doc);
  expect(parseTrustPolicy(JSON.parse(text))).toEqual(doc);
});

test.each<[string, string]>([
  ['"trustPolicies" then "TrustPolicies" (Go reads the second: an audit-level catch-all)',
    `{"version":"1.0","trustPolicies":[${STATEMENT}],"TrustPolicies":[${LAX}]}`],
  ['exact duplicate "trustPolicies"', `{"version":"1.0","trustPolicies":[${STATEMENT}],"trustPolicies":[${LAX}]}`],
  ['"level" and "LEVEL" in signatureVerification', `{"version":"1.0","trustPolicies":[${STATEMENT.replace('"level":"strict"', '"level":"strict","LEVEL":"skip"')}]}`],
  ['"trustStores" and the long-s "tru\u017ftStores"', `{"version":"1.0","trustPolicies":[${STATEMENT.replace('"trustStores":', '"tru\\u017ftStores":["ca:ci"],"trustStores":')}]}`],
  ['"registryScopes" and "RegistryScopes"', `{"version":"1.0","trustPolicies":[${STATEMENT.replace('"registryScopes":', '"RegistryScopes":["*"],"registryScopes":')}]}`],
  ['override keys that collide', `{"version":"1.0","trustPolicies":[${STATEMENT.replace('"level":"strict"', '"level":"strict","override":{"revocation":"enforce","Revocation":"skip"}}')}]}`.replace('}}}', '}}')],
  ['a Kelvin-sign key colliding in an unknown nested object', `{"version":"1.0","x":{"kind":1,"\u212aind":2},"trustPolicies":[${STATEMENT}]}`],
  ['"version" and "Version"', `{"version":"1.0","Version":"2.0","trustPolicies":[${STATEMENT}]}`],
])('text with %s is INVALID_TRUST_POLICY naming the key', (_n, text) => {
  for (const input of [text, Buffer.from(text)]) {
    const e = rejection(input);
    expect(e.message.startsWith(`${MALFORMED} (invalid JSON: duplicate object key`)).toBe(true);
  }
});

test.each<[string, unknown]>([
  ['top-level case variant', { version: '1.0', trustPolicies: [JSON.parse(STATEMENT)], TrustPolicies: [JSON.parse(LAX)] }],
  ['statement-level case variant', { version: '1.0', trustPolicies: [{ ...JSON.parse(STATEMENT), TrustedIdentities: ['*'] }] }],
  ['long s in a nested object', { version: '1.0', trustPolicies: [{ ...JSON.parse(STATEMENT), signatureVerification: { level: 'strict', override: { revocation: 'enforce', revocationſ: 'x', REVOCATION: 'skip' } } }] }],
])('an object with %s is INVALID_TRUST_POLICY', (_n, obj) => {
  expect(rejection(obj).message).toMatch(/are the same key to Go's encoding\/json/);
});

test('a lone long-s spelling is read as Go reads it (the field), not ignored', () => {
  const text = `{"version":"1.0","trustPolicies":[${STATEMENT.replace('"trustStores":', '"tru\\u017ftStores":')}]}`;
  expect(parseTrustPolicy(text).trustPolicies[0].trustStores).toEqual(['ca:release']);
});

test('invalid UTF-8 and lone surrogates are rejected with the reason; syntax errors keep notation\'s message', () => {
  const bad = Buffer.concat([Buffer.from(`{"version":"1.0","trustPolicies":[${STATEMENT.replace('release"', 'rel\u0000')}`), Buffer.from([0xff]), Buffer.from('"]}')]);
  expect(rejection(bad).message).toMatch(/not valid UTF-8/);
  expect(rejection(`{"version":"1.0","trustPolicies":[${STATEMENT.replace('"name":"release"', '"name":"re\\udc00"')}]}`).message).toMatch(/lone surrogate/);
  expect(rejection('{"version":"1.0",}').message).toBe(MALFORMED);
});
