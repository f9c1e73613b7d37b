/**
 * In-memory verdict cache keyed by (manifest digest, policy fingerprint): TTL with an injectable
 * clock, LRU bound on the number of entries, only definitive outcomes stored (the caller says which),
 * and single-flight: concurrent lookups of one key share one computation.
 */
import { ConfigurationError } from '../errors';

export interface VerdictCacheOptions {
  /** Time to live of an entry in milliseconds (> 0). */
  readonly ttlMs: number;
  /** Maximum number of entries; the least recently used is evicted first. @default 10000 */
  readonly maxEntries?: number;
  /** Clock in milliseconds. @default Date.now */
  readonly now?: () => number;
}

export interface VerdictCacheStats {
  /** Lookups answered from a stored entry. */
  hits: number;
  /** Lookups with no (live) stored entry, including those that joined a computation in flight. */
  misses: number;
  /** Misses that shared a computation already in flight. */
  inflightJoins: number;
  /** Computations started. */
  computations: number;
  /** Entries dropped to respect `maxEntries`. */
  evictions: number;
  /** Entries found expired. */
  expirations: number;
}

/** What a computation returns: the value and whether it may be stored (definitive outcomes only). */
export interface Computed<V> {
  readonly value: V;
  readonly cacheable: boolean;
  /** Time to live of this entry, when it differs from the cache's (e.g. shorter for negative verdicts). */
  readonly ttlMs?: number;
}

export interface CacheLookup<V> {
  readonly value: V;
  /** True when answered from a stored entry. */
  readonly fromCache: boolean;
  /** True when this call shared a computation started by a concurrent call. */
  readonly joined: boolean;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

export class VerdictCache<V> {
  /** The cache key of a (manifest digest, policy fingerprint) pair. */
  public static key(manifestDigest: string, policyFingerprint: string): string {
    return `${manifestDigest}|${policyFingerprint}`;
  }

  public readonly stats: VerdictCacheStats = { hits: 0, misses: 0, inflightJoins: 0, computations: 0, evictions: 0, expirations: 0 };
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Map iteration order = recency order (oldest first). */
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inflight = new Map<string, Promise<Computed<V>>>();

  public constructor(options: VerdictCacheOptions) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!(typeof options.ttlMs === 'number' && options.ttlMs > 0 && Number.isFinite(options.ttlMs))) {
      throw new ConfigurationError('INVALID_OPTIONS', `cache ttlMs must be a positive number, got ${options.ttlMs}`);
    }
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new ConfigurationError('INVALID_OPTIONS', `cache maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.ttlMs = options.ttlMs;
    this.maxEntries = maxEntries;
    this.now = options.now ?? Date.now;
  }

  /** Number of stored entries (expired ones may still be counted until touched). */
  public get size(): number {
    return this.entries.size;
  }

  /** Stored live value for `key` (marks it most recently used), without touching the stats. */
  public peek(key: string): V | undefined {
    return this.lookup(key)?.value;
  }

  /** Stored live value for `key`, counted as a hit when found (a miss is not counted: callers fall back on getOrCompute). */
  public hit(key: string): V | undefined {
    const e = this.lookup(key);
    if (e) this.stats.hits++;
    return e?.value;
  }

  /** Stores a value (definitive outcomes only; the caller decides), optionally with its own TTL. */
  public set(key: string, value: V, ttlMs: number = this.ttlMs): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.stats.evictions++;
    }
  }

  public delete(key: string): boolean {
    return this.entries.delete(key);
  }

  public clear(): void {
    this.entries.clear();
  }

  /**
   * Returns the stored value for `key`, or runs `compute` once for all concurrent callers of that key
   * and stores its value if `cacheable`. A rejected computation is not stored and every caller that
   * shared it gets the rejection.
   */
  public async getOrCompute(key: string, compute: () => Promise<Computed<V>>): Promise<CacheLookup<V>> {
    const stored = this.lookup(key);
    if (stored) {
      this.stats.hits++;
      return { value: stored.value, fromCache: true, joined: false };
    }
    this.stats.misses++;
    const running = this.inflight.get(key);
    if (running) {
      this.stats.inflightJoins++;
      const r = await running;
      return { value: r.value, fromCache: false, joined: true };
    }
    this.stats.computations++;
    // compute() starts in a microtask, after the in-flight slot is registered (even if it throws synchronously)
    const p = Promise.resolve()
      .then(() => compute())
      .then((r) => {
        if (r.cacheable) this.set(key, r.value, r.ttlMs);
        return r;
      })
      .finally(() => {
        this.inflight.delete(key);
      });
    this.inflight.set(key, p);
    const r = await p;
    return { value: r.value, fromCache: false, joined: false };
  }

  private lookup(key: string): Entry<V> | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.entries.delete(key);
      this.stats.expirations++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }
}
