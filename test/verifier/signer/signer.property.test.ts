import * as fc from 'fast-check';
import { VerificationFailedError } from '../../../src/verifier/errors';
import { certificateHashes, matchSignerIdentity } from '../../../src/verifier/signer';

describe('signer helpers never throw untyped errors', () => {
  test('certificateHashes on random bytes', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 3 }), (chain) => {
      try {
        certificateHashes(chain);
      } catch (e) {
        expect(e).toBeInstanceOf(VerificationFailedError);
        expect((e as Error).message).toBe('unable to parse certificates in certificate chain.');
      }
    }), { numRuns: 300 });
  });

  test('matchSignerIdentity on random strings is total and only true for signing-profile ARNs', () => {
    const arnish = fc.oneof(fc.string(), fc.constantFrom('arn:aws:signer:us-west-2:000000000000:/signing-profiles/P', 'arn:aws:signer:us-west-2:000000000000:/signing-profiles/P/V'));
    fc.assert(fc.property(arnish, fc.array(arnish, { maxLength: 4 }), (sig, ids) => {
      if (ids.includes('*')) {
        expect(() => matchSignerIdentity(sig, ids)).toThrow(VerificationFailedError);
        return;
      }
      const r = matchSignerIdentity(sig, ids);
      if (r) expect(ids.some((i) => i.startsWith('arn:') && i.includes(':signer:') && i.includes('/signing-profiles/'))).toBe(true);
    }), { numRuns: 500 });
  });
});
