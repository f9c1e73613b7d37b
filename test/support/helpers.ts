/** Small helpers shared by the tests. */
import { VerificationFailedError } from '../../src/verifier/errors';

/** Drains an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The rejection of `p`; fails the test when `p` resolves. */
export async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** The VerificationFailedError `f` throws; fails the test when it throws nothing or something else. */
export function failure(f: () => unknown): VerificationFailedError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VerificationFailedError);
    return e as VerificationFailedError;
  }
  throw new Error('expected a VerificationFailedError');
}
