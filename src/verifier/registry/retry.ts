/**
 * Bounded retries of one registry request: which answers are worth another attempt (408, 429, 5xx but 501/505,
 * transport failures), exponential backoff with full jitter, a honoured but capped `Retry-After`, and never a
 * wait that would end past the operation's deadline.
 */
import { VerificationInconclusiveError, VerifierError } from '../errors';
import { header, HttpResponse, TransportError, transportToVerifierError } from './http';

export interface RetryOptions {
  /** Total attempts per request, including the first (default 3). */
  readonly maxAttempts?: number;
  /** Base of the exponential backoff (default 200 ms); full jitter. */
  readonly baseDelayMs?: number;
  /** Cap of one backoff delay (default 2000 ms). */
  readonly maxDelayMs?: number;
  /** Cap on a honoured Retry-After (default 5000 ms). */
  readonly maxRetryAfterMs?: number;
}

/** One attempt's outcome: done, or an error worth another attempt (with the server's Retry-After, if any). */
export type Attempt<T> = { readonly done: T } | { readonly retry: VerifierError; readonly retryAfterMs?: number };

/** Everything a retried request runs within. */
export interface RetryRun {
  readonly options?: RetryOptions;
  /** Epoch ms: no backoff that would end after it is started (the last error is reported instead). */
  readonly deadline: number;
  /** Stops requests and waits (the operation's signal). */
  readonly signal: AbortSignal;
  readonly sleep: (ms: number) => Promise<void>;
  /** The error for a request or wait the signal stopped. */
  aborted(cause?: unknown): VerifierError;
  /** True when the caller stopped the work (a stopped wait then reports `aborted()`, otherwise the last error). */
  callerStopped(): boolean;
  /** Called before each wait (stats, logs). */
  onRetry?(delayMs: number, error: VerifierError): void;
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date), undefined when absent or unreadable. */
export function parseRetryAfter(v: string | undefined, now: number): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** The retryable error an answer stands for (408, 429, 5xx but 501 and 505), or undefined when it is final. */
export function retryableAnswer(res: HttpResponse, what: string, registry: string): Exclude<Attempt<never>, { done: never }> | undefined {
  if (res.status === 429) {
    return {
      retry: new VerificationInconclusiveError('THROTTLED', `${what}: throttled by ${registry} (HTTP 429)`),
      retryAfterMs: parseRetryAfter(header(res.headers, 'retry-after'), Date.now()),
    };
  }
  if (res.status === 408) return { retry: new VerificationInconclusiveError('TIMEOUT', `${what}: ${registry} answered HTTP 408`) };
  if (res.status >= 500 && res.status !== 501 && res.status !== 505) {
    return { retry: new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${what}: ${registry} answered HTTP ${res.status}`) };
  }
  return undefined;
}

/** The wait before attempt `attempt + 1`: full jitter under an exponential cap; a Retry-After raises it (capped). */
export function backoffDelay(attempt: number, options: RetryOptions = {}, retryAfterMs?: number): number {
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 2000;
  let delay = Math.random() * Math.min(max, base * 2 ** (attempt - 1));
  if (retryAfterMs !== undefined) delay = Math.min(Math.max(delay, retryAfterMs), options.maxRetryAfterMs ?? 5000);
  return delay;
}

/**
 * Runs `attempt` until it is done, at most `maxAttempts` times. A TransportError is retried (typed as NETWORK or
 * TIMEOUT), except an abort, which ends at once with `run.aborted()`. Any other error ends at once as it is: a
 * bug must stay a bug, never become an inconclusive "network" error that an ADMIT action could admit.
 */
export async function withRetries<T>(attempt: () => Promise<Attempt<T>>, run: RetryRun): Promise<T> {
  const maxAttempts = Math.max(1, run.options?.maxAttempts ?? 3);
  for (let n = 1; ; n++) {
    let outcome: Attempt<T>;
    try {
      outcome = await attempt();
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      if (e.kind === 'aborted') throw run.aborted(e);
      outcome = { retry: transportToVerifierError(e) };
    }
    if ('done' in outcome) return outcome.done;
    const error = outcome.retry;
    if (n >= maxAttempts) throw error;
    const delay = backoffDelay(n, run.options, outcome.retryAfterMs);
    if (Date.now() + delay >= run.deadline) throw error;
    run.onRetry?.(delay, error);
    await sleepOrAbort(run.sleep, delay, run.signal);
    if (run.signal.aborted) throw run.callerStopped() ? run.aborted() : error;
  }
}

/** Waits `ms` with `sleep`, or until `signal` aborts. */
export async function sleepOrAbort(sleep: (ms: number) => Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: () => void = () => undefined;
  // the listener first: a signal that aborts while `sleep` starts still ends the wait
  await Promise.race([
    new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    }),
    sleep(ms),
  ]);
  signal.removeEventListener('abort', onAbort);
}
