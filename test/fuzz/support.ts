/**
 * Shared pieces of the fuzz suite: run counts from FUZZ_RUNS (default 200 so the normal test run stays
 * fast; `npx projen fuzz` sets 100000), byte mutators, and the "only typed errors" assertion.
 */
import * as fc from 'fast-check';
import { VerifierError } from '../../src/verifier/errors';

export const FUZZ_RUNS = Math.max(1, Number(process.env.FUZZ_RUNS ?? 200) || 200);

/** Jest timeout for a fuzz test: generous, scaled with the run count. */
export function fuzzTimeout(msPerRun = 2): number {
  return Math.max(60_000, FUZZ_RUNS * msPerRun * 3);
}

export function params<T>(extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return { numRuns: FUZZ_RUNS, ...extra };
}

/** Rethrows anything that is not a VerifierError as an "untyped error" failure; returns typed ones. */
function typedError(e: unknown): VerifierError {
  if (!(e instanceof VerifierError)) {
    throw new Error(`untyped error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  return e;
}

/** Runs `fn`; anything thrown must be a VerifierError. Returns the value or the error. */
export function typedOnly<T>(fn: () => T): T | VerifierError {
  try {
    return fn();
  } catch (e) {
    return typedError(e);
  }
}

export async function typedOnlyAsync<T>(fn: () => Promise<T>): Promise<T | VerifierError> {
  try {
    return await fn();
  } catch (e) {
    return typedError(e);
  }
}

/** A copy of JSON `doc` with its `pick`-th node (in walk order) replaced by `value`, or deleted (`remove`, object members only). */
export function perturb(doc: unknown, pick: number, value: unknown, remove = false): unknown {
  const nodes: Array<{ parent: any; key: string | number }> = [];
  const walk = (v: any) => {
    if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        nodes.push({ parent: v, key: Array.isArray(v) ? Number(k) : k });
        walk(v[k]);
      }
    }
  };
  const copy = JSON.parse(JSON.stringify(doc));
  walk(copy);
  if (nodes.length === 0) return value;
  const n = nodes[pick % nodes.length];
  if (remove && !Array.isArray(n.parent)) delete n.parent[n.key];
  else n.parent[n.key] = value;
  return copy;
}

export type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'delete'; at: number; len: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; len: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x30, 0x81, 0x82, 0x84, 0xa0, 0xbf, 0x22, 0x7b, 0x7d, 0x2e) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
);

/** Applies mutations (positions taken modulo the current length). */
export function mutate(input: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(input);
  for (const m of ms) {
    const n = b.length;
    const at = n === 0 ? 0 : m.at % n;
    switch (m.op) {
      case 'flip':
        if (n) b[at] ^= 1 << m.bit;
        break;
      case 'set':
        if (n) b[at] = m.byte;
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
        break;
    }
  }
  return new Uint8Array(b);
}

export const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 4 });
