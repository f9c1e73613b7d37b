import * as fc from 'fast-check';
import { ConfigurationError } from '../../../src/verifier/errors';
import { checkActions, parseTrustPolicy, policyFingerprint, selectStatement } from '../../../src/verifier/policy';

/** Statement-shaped values with random (often wrong) field contents. */
const fieldValue = fc.oneof(
  fc.string(), fc.constantFrom('*', 'strict', 'skip', 'ca:x', 'x509.subject:C=US,ST=WA,O=O', 'example.com/rep', '1.0', 'revocation', 'log'),
  fc.array(fc.oneof(fc.string(), fc.constantFrom('*', 'ca:x', 'example.com/rep', 'x509.subject:C=US,ST=WA,O=O', 'x509.subject:C=US,ST=WA,O=O,CN=a'))),
  fc.dictionary(fc.constantFrom('level', 'override', 'verifyTimestamp', 'expiry', 'revocation', 'integrity'), fc.oneof(fc.string(), fc.constantFrom('strict', 'log', 'skip'))),
  fc.constant(null), fc.integer(), fc.boolean(),
);
const statementish = fc.dictionary(
  fc.constantFrom('name', 'registryScopes', 'signatureVerification', 'trustStores', 'trustedIdentities', 'Name', 'extra'),
  fieldValue,
);
const documentish = fc.oneof(
  fc.jsonValue(),
  fc.record({ version: fc.oneof(fc.constant('1.0'), fc.string()), trustPolicies: fc.array(statementish, { maxLength: 4 }) }),
);

describe('parseTrustPolicy never fails with anything but ConfigurationError', () => {
  test('random JSON-ish documents', () => {
    fc.assert(fc.property(documentish, (doc) => {
      for (const input of [doc, JSON.stringify(doc)]) {
        try {
          const parsed = parseTrustPolicy(input);
          // a valid document is stable under re-parsing and usable by the other helpers
          expect(parseTrustPolicy(parsed)).toEqual(parsed);
          expect(policyFingerprint(parsed)).toMatch(/^[0-9a-f]{64}$/);
          for (const st of parsed.trustPolicies) expect(checkActions(st)).toHaveProperty('integrity');
          try {
            selectStatement(parsed, 'example.com/rep');
          } catch (e) {
            expect((e as { code?: string }).code).toBe('NO_APPLICABLE_TRUST_POLICY');
          }
        } catch (e) {
          if (!(e instanceof ConfigurationError)) throw e;
          expect(e.code).toBe('INVALID_TRUST_POLICY');
        }
      }
    }), { numRuns: 500 });
  });

  test('random text', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      try {
        parseTrustPolicy(s);
      } catch (e) {
        if (!(e instanceof ConfigurationError)) throw e;
      }
    }), { numRuns: 300 });
  });
});
