#!/usr/bin/env node
// Fetches the jsii kernel process (@jsii/runtime) that the Python, Java, .NET and Go bindings start
// underneath, and prints the path of its self-contained entry point (webpack/bin/jsii-runtime.js).
//
// Why not `npm install @jsii/runtime`: the runtime depends on @jsii/kernel ^<same version>, but the npm
// registry only has @jsii/kernel 1.22.0, so the install fails. The runtime's tarball carries a webpack
// bundle with the kernel inside; that bundle is all we need. So: `npm pack` the pinned version, check the
// tarball against the pinned sha512 (npm's `dist.integrity`), unpack it into the cache, reuse it after.
//
// Usage: node scripts/fetch-jsii-runtime.mjs [--cache-dir DIR]   (default node_modules/.cache/jsii-runtime)
// Exit 0 and one line on stdout (the path); exit 1 with a one-line reason on stderr (no network, bad
// integrity, timeout). Never waits longer than FETCH_TIMEOUT_MS (90 s) for the registry.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned: bump both together (`npm view @jsii/runtime@<v> dist.integrity`). */
export const JSII_RUNTIME_VERSION = '1.140.0';
export const JSII_RUNTIME_INTEGRITY = 'sha512-AG5KdT3O6Ng1nbeOKmOX9M8WSzdDV0IiAqwNgyEY2eGga8tAaL+6w9T4NOYAy98MULilCnG05c71PuUfZExpmQ==';
/** Hard limit for the whole registry fetch (JSII_RUNTIME_FETCH_TIMEOUT_MS overrides it). */
const FETCH_TIMEOUT_MS = Number(process.env.JSII_RUNTIME_FETCH_TIMEOUT_MS) > 0 ? Number(process.env.JSII_RUNTIME_FETCH_TIMEOUT_MS) : 90_000;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`fetch-jsii-runtime: ${message}\n`);
  process.exit(1);
}

/** npm's integrity string for a file's bytes. */
function integrityOf(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

export function fetchJsiiRuntime(cacheDir) {
  const target = join(cacheDir, `runtime-${JSII_RUNTIME_VERSION}`);
  const entry = join(target, 'webpack', 'bin', 'jsii-runtime.js');
  const marker = join(target, '.integrity');
  if (existsSync(entry) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === JSII_RUNTIME_INTEGRITY) return entry;

  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, '.fetch-'));
  try {
    const spec = `@jsii/runtime@${JSII_RUNTIME_VERSION}`;
    const packed = spawnSync('npm', ['pack', spec, '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: work,
      encoding: 'utf8',
      timeout: FETCH_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: {
        ...process.env,
        npm_config_fetch_retries: '1',
        npm_config_fetch_timeout: '30000',
        npm_config_fetch_retry_mintimeout: '2000',
        npm_config_fetch_retry_maxtimeout: '10000',
        npm_config_update_notifier: 'false',
        npm_config_fund: 'false',
        npm_config_audit: 'false',
      },
    });
    if (packed.error?.code === 'ETIMEDOUT' || packed.signal) fail(`npm pack ${spec} did not finish within ${FETCH_TIMEOUT_MS / 1000} s (is the npm registry reachable?)`);
    if (packed.error) fail(`cannot run npm: ${packed.error.message}`);
    if (packed.status !== 0) {
      const why = (packed.stderr || '').split('\n').filter((l) => /npm (error|ERR!)/.test(l)).slice(0, 3).join(' | ') || `exit ${packed.status}`;
      fail(`npm pack ${spec} failed (the npm registry is needed once; the result is cached in ${cacheDir}): ${why}`);
    }
    let filename;
    try {
      filename = JSON.parse(packed.stdout)[0].filename;
    } catch {
      fail(`npm pack ${spec} printed no JSON result`);
    }
    const tarball = join(work, filename.replace(/^@/, '').replace(/\//g, '-'));
    if (!existsSync(tarball)) fail(`npm pack reported ${filename} but ${tarball} does not exist`);
    const actual = integrityOf(tarball);
    if (actual !== JSII_RUNTIME_INTEGRITY) fail(`integrity mismatch for ${spec}: expected ${JSII_RUNTIME_INTEGRITY}, got ${actual}`);

    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1', '--no-same-owner',
      'package/webpack', 'package/package.json', 'package/LICENSE', 'package/NOTICE'], { encoding: 'utf8', timeout: 60_000 });
    if (tar.status !== 0) fail(`cannot unpack ${tarball}: ${(tar.stderr || tar.error?.message || '').trim()}`);
    if (!existsSync(join(unpacked, 'webpack', 'bin', 'jsii-runtime.js'))) fail(`${spec} has no webpack/bin/jsii-runtime.js`);
    writeFileSync(join(unpacked, '.integrity'), `${JSII_RUNTIME_INTEGRITY}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(unpacked, target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return entry;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--cache-dir');
  const cacheDir = i > 0 ? resolve(process.argv[i + 1] ?? fail('--cache-dir needs a directory')) : join(ROOT, 'node_modules', '.cache', 'jsii-runtime');
  process.stdout.write(`${fetchJsiiRuntime(cacheDir)}\n`);
}
