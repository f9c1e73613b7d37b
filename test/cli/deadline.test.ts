/** The CLI's deadline: duration parsing, withDeadline, and the hard stop in a real child process. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadlineExceededError, parseDuration, withDeadline } from '../../src/cli/deadline';
import { REPO_ROOT } from '../support/handler-bundle';

jest.setTimeout(30_000);

describe('parseDuration', () => {
  test.each([
    ['90s', 90_000], ['2m', 120_000], ['1m30s', 90_000], ['500ms', 500], ['1h', 3_600_000], ['45', 45_000],
    ['2.5', 2500], ['1.5s', 1500], [' 10s ', 10_000], ['24h', 86_400_000],
  ])('%j = %d ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });
  test.each(['', 's', 'abc', '0', '0s', '-1', '-5s', '1x', '1e3', '25h', 'Infinity', 'NaN', '1 s', '0.0001'])('%j is invalid', (s) => {
    expect(parseDuration(s)).toBeUndefined();
  });
});

describe('withDeadline', () => {
  test('the work finishing first wins; its signal is not aborted', async () => {
    let seen: AbortSignal | undefined;
    await expect(withDeadline(5000, '5s', async (signal) => {
      seen = signal;
      return 42;
    })).resolves.toBe(42);
    expect(seen!.aborted).toBe(false);
  });

  test('work that never ends: DeadlineExceededError, and the signal is aborted', async () => {
    let seen: AbortSignal | undefined;
    const e = await withDeadline(50, '50ms', (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    }).catch((x) => x);
    expect(e).toBeInstanceOf(DeadlineExceededError);
    expect(e.message).toBe('no decision within 50ms (--timeout): the work was stopped');
    expect(seen!.aborted).toBe(true);
  });

  test('a work error passes through', async () => {
    await expect(withDeadline(5000, '5s', async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
  });
});

describe('armHardStop (a real child process)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'csi-hardstop-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function child(script: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: REPO_ROOT, stdio: 'ignore' });
      const guard = setTimeout(() => p.kill('SIGKILL'), 25_000);
      p.on('exit', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal });
      });
    });
  }

  test('something keeping the event loop alive: the process exits with the answer\'s code after the grace period', async () => {
    const r = await child("const { armHardStop } = require('./src/cli/deadline'); setInterval(() => undefined, 1000); process.exitCode = 7; armHardStop(() => 7, 200);");
    expect(r).toEqual({ code: 7, signal: null });
  });

  test('a libuv worker blocked in open() on a FIFO (process.exit alone would hang): the watchdog kills it', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await child(`const { armHardStop } = require('./src/cli/deadline'); require('fs').promises.open(${JSON.stringify(fifo)}, 'r'); armHardStop(() => 7, 200);`);
    expect(r.signal).toBe('SIGKILL');
  });

  test('a process that ends by itself is not disturbed (the timer is unref\'d)', async () => {
    const r = await child("const { armHardStop } = require('./src/cli/deadline'); process.exitCode = 3; armHardStop(() => 9, 5000);");
    expect(r).toEqual({ code: 3, signal: null });
  });
});
