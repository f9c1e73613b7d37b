/**
 * The CLI's overall deadline (`--timeout`): one timer for the whole command. When it fires, the work's
 * AbortSignal is aborted (registry requests and OCI-layout reads stop) and the command answers at once
 * with "no decision"; {@link armHardStop} then ends the process if anything still keeps it alive.
 */
import { spawn } from 'node:child_process';

export const DEFAULT_TIMEOUT = '5m';
/** How long the process may take to wind down after it has answered before it is stopped hard. */
export const HARD_STOP_GRACE_MS = 2000;
/** If even `process.exit` cannot finish (a libuv worker blocked in a system call), a watchdog kills the process. */
export const WATCHDOG_MS = 2000;
const MAX_TIMEOUT_MS = 24 * 3600_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000 };

/** Parses `90s`, `2m`, `1m30s`, `500ms`, `1h` or plain seconds (`45`, `2.5`) into milliseconds; undefined if invalid. */
export function parseDuration(s: string): number | undefined {
  const text = s.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
    ms = 0;
    for (const [, n, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNITS[unit];
  } else {
    return undefined;
  }
  ms = Math.round(ms);
  return Number.isFinite(ms) && ms >= 1 && ms <= MAX_TIMEOUT_MS ? ms : undefined;
}

/** Thrown (by {@link withDeadline}) when the deadline passed before the work finished. */
export class DeadlineExceededError extends Error {
  public constructor(public readonly timeout: string) {
    super(`no decision within ${timeout} (--timeout): the work was stopped`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Runs `work` with an AbortSignal; rejects with {@link DeadlineExceededError} after `ms` (then aborts the
 * signal), whether or not the work honours it.
 */
export async function withDeadline<T>(ms: number, label: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new DeadlineExceededError(label);
      reject(e);
      ctl.abort(e);
    }, ms);
  });
  try {
    return await Promise.race([work(ctl.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After the command has answered: if the process has not exited by itself within the grace period
 * (a socket, timer or file operation still alive), exit with `code`. A detached watchdog SIGKILLs the
 * process if `process.exit` itself cannot complete (Node joins its worker threads at exit, and a worker
 * blocked in a system call, e.g. a DNS lookup, would hold it).
 */
export function armHardStop(code: () => number, graceMs = HARD_STOP_GRACE_MS): void {
  setTimeout(() => {
    try {
      const pid = process.pid;
      spawn(process.execPath, ['-e', `setTimeout(() => { if (process.ppid === ${pid}) try { process.kill(${pid}, 'SIGKILL'); } catch {} }, ${WATCHDOG_MS});`], {
        detached: true, stdio: 'ignore',
      }).unref();
    } catch {
      // no watchdog: process.exit below still ends the process in every case but a blocked worker
    }
    process.exit(code());
  }, graceMs).unref();
}
