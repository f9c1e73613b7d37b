/**
 * Abort state of the verifications shared through the verdict cache's single flight, and the early start of
 * a signature listing.
 */
import { LinkedSignal, linkSignals } from '../registry/abort';

/** A joined flight: its signal, its deadline, and how to leave it. */
export interface FlightTicket {
  readonly signal: AbortSignal;
  readonly deadline: number;
  /** Stops waiting; the last one to leave a running flight aborts it. Idempotent. */
  leave(): void;
}

interface Flight {
  readonly linked: LinkedSignal;
  readonly deadline: number;
  waiters: number;
}

/** The abort state of the shared (single-flight) computations in progress, by cache key. */
export class FlightSignals {
  private readonly flights = new Map<string, Flight>();

  public constructor(private readonly timeoutMs: number) {}

  /**
   * Joins (or starts) the abort state of the single flight of `key`: its signal fires at the flight's deadline,
   * or when the last caller waiting on it leaves while it still runs (it is then abandoned).
   */
  public join(key: string): FlightTicket {
    let f = this.flights.get(key);
    if (!f) {
      const deadline = Date.now() + this.timeoutMs;
      f = { linked: linkSignals([], deadline), deadline, waiters: 0 };
      this.flights.set(key, f);
    }
    const flight = f;
    flight.waiters++;
    let left = false;
    return {
      signal: flight.linked.signal,
      deadline: flight.deadline,
      leave: () => {
        if (left) return;
        left = true;
        flight.waiters--;
        if (flight.waiters > 0) return;
        if (this.flights.get(key) === flight) this.flights.delete(key);
        // Nobody waits any more: stop whatever is still in flight (requests of an abandoned verification,
        // or a prefetched listing nobody consumed). Harmless when the work has finished.
        flight.linked.abort();
      },
    };
  }
}

/**
 * Starts an async listing now (its first request goes out immediately) and replays it later. An
 * error of the early request surfaces when the listing is consumed, never as an unhandled rejection.
 */
export function prefetch<T>(listing: AsyncIterable<T>): AsyncIterable<T> {
  const it = listing[Symbol.asyncIterator]();
  const first = it.next();
  first.catch(() => undefined);
  return {
    async *[Symbol.asyncIterator]() {
      let r = await first;
      while (!r.done) {
        yield r.value;
        r = await it.next();
      }
    },
  };
}
