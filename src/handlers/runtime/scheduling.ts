/**
 * Scheduling within one invocation: the time budget ({@link Deadline}, from the Lambda's remaining
 * time) and bounded concurrency ({@link mapBounded}), so a handler always answers before its timeout.
 */

/** The part of the Lambda context the handlers use. */
export interface LambdaContext {
  readonly awsRequestId?: string;
  readonly functionName?: string;
  getRemainingTimeInMillis?(): number;
}

/** Time budget of one invocation: the Lambda's remaining time minus a safety margin. */
export class Deadline {
  private readonly at: number;

  public constructor(context: LambdaContext | undefined, marginMs: number, fallbackMs = 60_000) {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : fallbackMs;
    this.at = Date.now() + Math.max(0, remaining - marginMs);
  }

  public remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  public get expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** A promise resolving (to `undefined`) when the budget is spent; `cancel` clears the timer. */
  public timer(): { promise: Promise<undefined>; cancel: () => void } {
    let handle: NodeJS.Timeout | undefined;
    const promise = new Promise<undefined>((resolve) => {
      handle = setTimeout(() => resolve(undefined), this.remainingMs());
    });
    return { promise, cancel: () => handle && clearTimeout(handle) };
  }
}

/** Races `p` against the deadline; `undefined` when the deadline came first. */
export async function beforeDeadline<T>(p: Promise<T>, deadline: Deadline): Promise<T | undefined> {
  const t = deadline.timer();
  try {
    return await Promise.race([p, t.promise]);
  } finally {
    t.cancel();
  }
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. Stops starting new items when the deadline
 * expires or `stop()` returns true. Returns the results of the finished items by index (unfinished
 * ones are `undefined`); never waits past the deadline.
 */
export async function mapBounded<T, R>(
  items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>,
  opts: { deadline?: Deadline; stop?: (r: R) => boolean } = {},
): Promise<Array<R | undefined>> {
  const results: Array<R | undefined> = new Array(items.length).fill(undefined);
  let next = 0;
  let stopped = false;
  let signal: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => {
    signal = resolve;
  });
  const worker = async () => {
    while (!stopped && next < items.length && !(opts.deadline?.expired)) {
      const i = next++;
      const r = await fn(items[i], i);
      results[i] = r;
      if (opts.stop?.(r)) {
        stopped = true;
        signal();
      }
    }
  };
  const workers = Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker)).then(() => undefined);
  const race: Array<Promise<unknown>> = [workers, stopSignal];
  let timer: { promise: Promise<undefined>; cancel: () => void } | undefined;
  if (opts.deadline) {
    timer = opts.deadline.timer();
    race.push(timer.promise);
  }
  try {
    await Promise.race(race);
  } finally {
    timer?.cancel();
    stopped = true;
  }
  return [...results];
}
