import { Computed, VerdictCache } from '../../../src/verifier/cache/verdict-cache';
import { ConfigurationError } from '../../../src/verifier/errors';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

const definitive = <V>(value: V): Computed<V> => ({ value, cacheable: true });

/** A promise settled from outside, so the test controls exactly when a computation finishes. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

describe('VerdictCache', () => {
  test('key combines manifest digest and policy fingerprint', () => {
    expect(VerdictCache.key('sha256:abc', 'fp1')).toBe('sha256:abc|fp1');
    expect(VerdictCache.key('sha256:abc', 'fp1')).not.toBe(VerdictCache.key('sha256:abc', 'fp2'));
  });

  test('miss computes, hit reuses', async () => {
    const c = new VerdictCache<string>({ ttlMs: 1000 });
    let n = 0;
    const fn = async () => definitive(`v${++n}`);
    await expect(c.getOrCompute('k', fn)).resolves.toEqual({ value: 'v1', fromCache: false, joined: false });
    await expect(c.getOrCompute('k', fn)).resolves.toEqual({ value: 'v1', fromCache: true, joined: false });
    expect(n).toBe(1);
    expect(c.stats).toMatchObject({ hits: 1, misses: 1, inflightJoins: 0, computations: 1 });
  });

  test('entries expire after the TTL (injected clock)', async () => {
    const t = clock();
    const c = new VerdictCache<number>({ ttlMs: 1000, now: t.now });
    let n = 0;
    const fn = async () => definitive(++n);
    await c.getOrCompute('k', fn);
    t.advance(999);
    expect((await c.getOrCompute('k', fn)).value).toBe(1);
    t.advance(1); // exactly ttl after the store
    const r = await c.getOrCompute('k', fn);
    expect(r).toEqual({ value: 2, fromCache: false, joined: false });
    expect(c.stats.expirations).toBe(1);
    expect(c.stats.computations).toBe(2);
  });

  test('LRU: the least recently used entry is evicted at maxEntries', async () => {
    const c = new VerdictCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    await c.getOrCompute('a', async () => definitive('A'));
    await c.getOrCompute('b', async () => definitive('B'));
    await c.getOrCompute('a', async () => definitive('A2')); // hit: a becomes most recent
    await c.getOrCompute('c', async () => definitive('C')); // evicts b
    expect(c.size).toBe(2);
    expect(c.stats.evictions).toBe(1);
    expect(c.peek('b')).toBeUndefined();
    expect(c.peek('a')).toBe('A');
    expect(c.peek('c')).toBe('C');
    const r = await c.getOrCompute('b', async () => definitive('B2'));
    expect(r.fromCache).toBe(false);
    expect(r.value).toBe('B2');
  });

  test('non-cacheable (inconclusive) outcomes are returned but not stored', async () => {
    const c = new VerdictCache<string>({ ttlMs: 60_000 });
    let n = 0;
    const fn = async (): Promise<Computed<string>> => ({ value: `inconclusive${++n}`, cacheable: false });
    expect((await c.getOrCompute('k', fn)).value).toBe('inconclusive1');
    expect((await c.getOrCompute('k', fn)).value).toBe('inconclusive2');
    expect(c.size).toBe(0);
    expect(c.stats.computations).toBe(2);
  });

  test('single-flight: 100 concurrent calls for one key => one computation', async () => {
    const c = new VerdictCache<string>({ ttlMs: 60_000 });
    const gate = deferred<void>();
    let computations = 0;
    const fn = async () => {
      computations++;
      await gate.promise;
      return definitive('verdict');
    };
    const calls = Array.from({ length: 100 }, () => c.getOrCompute('k', fn));
    gate.resolve();
    const results = await Promise.all(calls);
    expect(computations).toBe(1);
    expect(results.every((r) => r.value === 'verdict' && !r.fromCache)).toBe(true);
    expect(results.filter((r) => r.joined)).toHaveLength(99);
    expect(c.stats).toMatchObject({ computations: 1, misses: 100, inflightJoins: 99, hits: 0 });
    expect((await c.getOrCompute('k', fn)).fromCache).toBe(true);
  });

  test('single-flight is per key', async () => {
    const c = new VerdictCache<string>({ ttlMs: 60_000 });
    let n = 0;
    const fn = (v: string) => async () => { n++; return definitive(v); };
    const r = await Promise.all([c.getOrCompute('a', fn('A')), c.getOrCompute('b', fn('B')), c.getOrCompute('a', fn('X'))]);
    expect(r.map((x) => x.value)).toEqual(['A', 'B', 'A']);
    expect(n).toBe(2);
  });

  test('a non-cacheable result is still shared by concurrent callers', async () => {
    const c = new VerdictCache<string>({ ttlMs: 60_000 });
    const gate = deferred<void>();
    let n = 0;
    const fn = async (): Promise<Computed<string>> => { n++; await gate.promise; return { value: 'net-error', cacheable: false }; };
    const p = Promise.all([c.getOrCompute('k', fn), c.getOrCompute('k', fn)]);
    gate.resolve();
    expect((await p).map((r) => r.value)).toEqual(['net-error', 'net-error']);
    expect(n).toBe(1);
    expect(c.size).toBe(0);
  });

  test('errors are not cached; every joined caller gets the rejection; the next call recomputes', async () => {
    const c = new VerdictCache<string>({ ttlMs: 60_000 });
    const gate = deferred<void>();
    let n = 0;
    const failing = async (): Promise<Computed<string>> => { n++; await gate.promise; throw new Error('boom'); };
    const calls = [c.getOrCompute('k', failing), c.getOrCompute('k', failing), c.getOrCompute('k', failing)];
    gate.resolve();
    const settled = await Promise.allSettled(calls);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'boom')).toBe(true);
    expect(n).toBe(1);
    expect(c.size).toBe(0);
    const r = await c.getOrCompute('k', async () => definitive('ok'));
    expect(r).toEqual({ value: 'ok', fromCache: false, joined: false });
  });

  test('a computation that throws synchronously does not wedge the key', async () => {
    const c = new VerdictCache<string>({ ttlMs: 60_000 });
    const sync = (() => { throw new Error('sync'); }) as unknown as () => Promise<Computed<string>>;
    await expect(c.getOrCompute('k', sync)).rejects.toThrow('sync');
    await expect(c.getOrCompute('k', async () => definitive('ok'))).resolves.toMatchObject({ value: 'ok' });
  });

  test('set / peek / delete / clear', () => {
    const t = clock();
    const c = new VerdictCache<number>({ ttlMs: 10, now: t.now });
    c.set('x', 1);
    expect(c.peek('x')).toBe(1);
    expect(c.delete('x')).toBe(true);
    expect(c.peek('x')).toBeUndefined();
    c.set('y', 2);
    t.advance(10);
    expect(c.peek('y')).toBeUndefined();
    c.set('z', 3);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.stats.hits).toBe(0);
  });

  test.each([
    [{ ttlMs: 0 }],
    [{ ttlMs: -1 }],
    [{ ttlMs: Number.NaN }],
    [{ ttlMs: Infinity }],
    [{ ttlMs: 10, maxEntries: 0 }],
    [{ ttlMs: 10, maxEntries: 1.5 }],
  ])('invalid options %j => ConfigurationError', (opts) => {
    expect(() => new VerdictCache(opts)).toThrow(ConfigurationError);
  });
});
