/**
 * Failure paths of the foreign-language kernel test's own parts, so that a broken network or a broken
 * kernel shows up as a clear error instead of a hang:
 * - scripts/fetch-jsii-runtime.mjs with the registry refusing connections, and with a registry that
 *   accepts the connection and never answers (the hard timeout must fire); a cache entry whose integrity
 *   marker does not match the pinned sha512 is not used.
 * - the Python client (jsii_kernel.py) against fake kernels that exit, stay silent, print garbage, speak
 *   something other than the protocol, die mid-request, or call back for an object the host never made.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FETCH = join(ROOT, 'scripts', 'fetch-jsii-runtime.mjs');
const PYTHON = process.env.JSII_KERNEL_TEST_PYTHON ?? '/usr/bin/python3';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'jsii-kernel-faults-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the fetch script asynchronously (the event loop must stay free for the blackhole server). */
function fetchRuntime(cacheDir: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string; seconds: number }> {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FETCH, '--cache-dir', cacheDir], {
      env: { ...process.env, npm_config_cache: join(work, 'npm-cache'), npm_config_prefer_online: 'true', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(guard);
      resolve({ status, stdout, stderr, seconds: (Date.now() - start) / 1000 });
    });
  });
}

test('fetch-jsii-runtime: a registry that refuses connections is a clear exit 1, and a cache entry with a wrong integrity marker is not used', async () => {
  const cache = join(work, 'refused');
  // A cached runtime whose marker does not match the pinned sha512 (tampered, or from another version).
  const stale = join(cache, 'runtime-1.140.0');
  mkdirSync(join(stale, 'webpack', 'bin'), { recursive: true });
  writeFileSync(join(stale, 'webpack', 'bin', 'jsii-runtime.js'), 'process.exit(0)\n');
  writeFileSync(join(stale, '.integrity'), 'sha512-bogus\n');

  const r = await fetchRuntime(cache, { npm_config_registry: 'http://127.0.0.1:9/' });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^fetch-jsii-runtime: npm pack @jsii\/runtime@1\.140\.0 failed .*ECONNREFUSED/);
}, 90_000);

test('fetch-jsii-runtime: a registry that never answers hits the hard timeout instead of hanging', async () => {
  const sockets: Socket[] = [];
  const blackhole: Server = createServer((s) => { sockets.push(s); });
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  const port = (blackhole.address() as { port: number }).port;
  try {
    const r = await fetchRuntime(join(work, 'blackhole'), { npm_config_registry: `http://127.0.0.1:${port}/`, JSII_RUNTIME_FETCH_TIMEOUT_MS: '10000' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('did not finish within 10 s (is the npm registry reachable?)');
    expect(sockets.length).toBeGreaterThan(0); // npm really was waiting on our silent server (10 s: npm's start-up is slow on a loaded machine)
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => blackhole.close(resolve));
  }
}, 90_000);

test('the Python client turns every kernel misbehaviour into a clear error within its deadline', () => {
  const r = spawnSync(PYTHON, [join(__dirname, 'client_faults.py'), '--node', process.execPath], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
  expect(r.stderr).not.toMatch(/Traceback/);
  expect(r.status).toBe(0);
  const cases = Object.fromEntries(r.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((c) => [c.case, c]));
  expect(cases['no hello']).toMatchObject({ raised: 'KernelFailure', message: expect.stringMatching(/^the kernel process exited \(code 3\)/) });
  expect(cases.silent).toMatchObject({ raised: 'KernelFailure', message: 'no answer from the kernel within 1 s' });
  expect(cases.garbage).toMatchObject({ raised: 'KernelFailure', message: expect.stringContaining('not a JSON line from the kernel') });
  expect(cases['unknown message']).toMatchObject({ raised: 'KernelFailure', message: expect.stringContaining('unexpected message from the kernel') });
  expect(cases['dies mid-request']).toMatchObject({ raised: 'KernelFailure', message: expect.stringMatching(/^the kernel process exited \(code 7\)/) });
  // The host refuses the callback with an error the (fake) kernel hands back: nothing is served for an unknown object.
  expect(cases['callback for a foreign object']).toMatchObject({ raised: 'KernelError', message: 'host said: KernelFailure: callback for an object the host did not create: Object@999' });
  expect(Object.keys(cases)).toHaveLength(6);
}, 150_000);
