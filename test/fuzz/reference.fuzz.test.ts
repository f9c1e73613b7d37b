/** Fuzz: image references (the outside input of every verification) and digests. */
import * as fc from 'fast-check';
import { FUZZ_RUNS, fuzzTimeout, params, typedOnly } from './support';
import { ConfigurationError, VerifierError } from '../../src/verifier/errors';
import { formatReference, parseDigest, parseReference } from '../../src/verifier/reference';

const VALID = [
  '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:' + 'a'.repeat(64),
  'localhost:5000/app:v1',
  'registry.example.com/a/b/c:tag@sha256:' + '0'.repeat(64),
  '[::1]:5000/x@sha512:' + 'f'.repeat(128),
];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789ABCZ-_.:/@+[]%\u00e9\u0000 '.split('');

describe(`parseReference: only ConfigurationError (${FUZZ_RUNS} runs each)`, () => {
  const check = (s: string) => {
    const r = typedOnly(() => parseReference(s));
    if (r instanceof VerifierError) {
      expect(r).toBeInstanceOf(ConfigurationError);
      return;
    }
    // a parsed reference formats and re-parses to itself
    expect(parseReference(formatReference(r))).toEqual(r);
  };

  test('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), check), params());
  }, fuzzTimeout());

  test('strings over the reference alphabet', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 120 }).map((a) => a.join('')), check), params());
  }, fuzzTimeout());

  test('mutated valid references', () => {
    fc.assert(fc.property(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...ALPHABET), fc.boolean()), { minLength: 1, maxLength: 5 }), (base, edits) => {
      let s = base;
      for (const [at, ch, insert] of edits) {
        const i = at % (s.length + 1);
        s = insert ? s.slice(0, i) + ch + s.slice(i) : s.slice(0, i) + ch + s.slice(i + 1);
      }
      check(s);
    }), params());
  }, fuzzTimeout());

  test('very long inputs are rejected quickly, not hung', () => {
    fc.assert(fc.property(fc.constantFrom('a', '/', 'a/', ':', '@', 'a.'), fc.integer({ min: 1000, max: 100_000 }), (unit, n) => {
      check('r.example/' + unit.repeat(n));
    }), params({ numRuns: Math.min(FUZZ_RUNS, 500) }));
  }, fuzzTimeout());

  test('parseDigest on arbitrary strings', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.constantFrom('sha256:', 'sha384:', 'sha512:').chain((p) => fc.string().map((s) => p + s))), (s) => {
      typedOnly(() => parseDigest(s));
    }), params());
  }, fuzzTimeout());
});
