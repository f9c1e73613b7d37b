/**
 * Small abort-signal tools for deadlines and shared work: a signal that fires when any input fires or a
 * deadline passes, a race of a promise against a signal, and a "shared flight" whose work is aborted only when
 * every party waiting on it has gone.
 */

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Why it fired: a deadline or one of the inputs. */
  reason(): 'deadline' | 'aborted' | undefined;
  /** Removes the timer and listeners (the signal keeps its state). */
  dispose(): void;
  /** Aborts it now (reason 'aborted' unless it already fired). */
  abort(): void;
}

/**
 * A signal that aborts when any of `signals` aborts or at the epoch-ms `deadline` (if given). The timer never keeps
 * the process alive.
 */
export function linkSignals(signals: ReadonlyArray<AbortSignal | undefined>, deadline?: number): LinkedSignal {
  const ctl = new AbortController();
  let why: 'deadline' | 'aborted' | undefined;
  const inputs = signals.filter((s): s is AbortSignal => s !== undefined);
  const onAbort = () => {
    if (!why) why = 'aborted';
    ctl.abort();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const dispose = () => {
    if (timer) clearTimeout(timer);
    for (const s of inputs) s.removeEventListener('abort', onAbort);
  };
  for (const s of inputs) {
    if (s.aborted) {
      onAbort();
      break;
    }
    s.addEventListener('abort', onAbort, { once: true });
  }
  if (deadline !== undefined && !ctl.signal.aborted) {
    const ms = Math.max(0, deadline - Date.now());
    timer = setTimeout(() => {
      if (!why) why = 'deadline';
      ctl.abort();
    }, ms);
    timer.unref?.();
  }
  ctl.signal.addEventListener('abort', dispose, { once: true });
  return { signal: ctl.signal, reason: () => why, dispose, abort: onAbort };
}

/** Resolves like `promise`, or resolves with `onAbort()` as soon as `signal` aborts (the promise keeps running). */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => T): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => resolve(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}

/** Rejects with `onAbort()` as soon as `signal` aborts. */
export function rejectOnAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => unknown): Promise<T> {
  if (!signal) return promise;
  return raceSignal<Promise<T> | T>(promise, signal, () => Promise.reject(onAbort())) as Promise<T>;
}

/**
 * Work shared by several waiters. It runs with its own signal, which aborts only when every waiter that joined
 * has stopped waiting (its own signal aborted) while the work is still running. One waiter giving up never
 * aborts the work for the others.
 */
export class SharedFlight<T> {
  public readonly promise: Promise<T>;
  private readonly ctl = new AbortController();
  private waiters = 0;
  private done = false;

  public constructor(work: (signal: AbortSignal) => Promise<T>) {
    this.promise = Promise.resolve().then(() => work(this.ctl.signal));
    this.promise.then(() => {
      this.done = true;
    }, () => {
      this.done = true;
    });
  }

  /** True once every waiter has left before the work ended (the work was told to stop). */
  public get abandoned(): boolean {
    return this.ctl.signal.aborted;
  }

  /** Waits for the work; `signal` ends only this wait (rejecting with `onAbort()`). */
  public async wait(signal: AbortSignal | undefined, onAbort: () => unknown): Promise<T> {
    this.waiters++;
    try {
      return await rejectOnAbort(this.promise, signal, onAbort);
    } finally {
      this.waiters--;
      if (this.waiters === 0 && !this.done) this.ctl.abort();
    }
  }
}
