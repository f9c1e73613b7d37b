/**
 * The engine's one way to read a local file (trust-store certificates): never blocks on a FIFO or a
 * device, never follows a symlink, bounded in size; each refusal is the caller's typed error.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigurationError } from '../../../src/verifier/errors';
import { readRegularFile } from '../../../src/verifier/fs';
import { DirectoryTrustStore } from '../../../src/verifier/x509/truststore';
import { makeChain } from '../../support/pki';

let dir: string;
const refuse = (why: string, cause?: unknown) => new ConfigurationError('INVALID_TRUST_STORE', `refused: ${why}`, cause === undefined ? undefined : { cause });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'csi-fs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a regular file is read whole', async () => {
  const f = path.join(dir, 'ok.pem');
  writeFileSync(f, 'hello');
  expect((await readRegularFile(f, 10, refuse)).toString()).toBe('hello');
});

test.each([
  ['a FIFO', () => { const p = path.join(dir, 'fifo'); execFileSync('mkfifo', [p]); return p; }, /FIFO/],
  ['a symlink to /dev/zero', () => { const p = path.join(dir, 'zero'); symlinkSync('/dev/zero', p); return p; }, /symbolic link/],
  ['a symlink to a regular file', () => { const p = path.join(dir, 'link'); symlinkSync(path.join(dir, 'ok.pem'), p); return p; }, /symbolic link/],
  ['a directory', () => { const p = path.join(dir, 'sub'); mkdirSync(p); return p; }, /directory/],
  ['a character device', () => '/dev/null', /character device/],
  ['a file over the limit', () => { const p = path.join(dir, 'big'); writeFileSync(p, Buffer.alloc(64)); return p; }, /exceeds the limit/],
  ['a missing file', () => path.join(dir, 'missing'), /ENOENT|no such file/],
])('%s is refused with the caller\'s typed error, without blocking', async (_n, make, why) => {
  const p = make();
  const err = await readRegularFile(p, 10, refuse).catch((e) => e);
  expect(err).toBeInstanceOf(ConfigurationError);
  expect(err.code).toBe('INVALID_TRUST_STORE');
  expect(err.message).toMatch(why);
});

test('a trust-store directory holding a FIFO is refused, not waited on', async () => {
  const root = path.join(dir, 'store');
  const store = path.join(root, 'x509', 'ca', 'corp');
  mkdirSync(store, { recursive: true });
  writeFileSync(path.join(store, 'a.pem'), makeChain({ keySlot: 'fs-store' }).rootPem);
  execFileSync('mkfifo', [path.join(store, 'b.pem')]);
  await expect(new DirectoryTrustStore(root).getCertificates('ca', 'corp')).rejects.toThrow(ConfigurationError);
});

describe('followSymlinks (a file the user names: the Docker config)', () => {
  const follow = { followSymlinks: true };

  test('a symlink to a regular file is read through; the file itself too', async () => {
    const target = path.join(dir, 'cfg.json');
    writeFileSync(target, '{"auths":{}}');
    const link = path.join(dir, 'cfg-link.json');
    symlinkSync(target, link);
    expect((await readRegularFile(link, 64, refuse, follow)).toString()).toBe('{"auths":{}}');
    expect((await readRegularFile(target, 64, refuse, follow)).toString()).toBe('{"auths":{}}');
    // without the option the same link is refused
    await expect(readRegularFile(link, 64, refuse)).rejects.toThrow(/symbolic link/);
  });

  test.each([
    ['a symlink to a FIFO (never opened, so never waited on)', () => { const f = path.join(dir, 'ffifo'); execFileSync('mkfifo', [f]); const p = path.join(dir, 'ffifo-link'); symlinkSync(f, p); return p; }, /FIFO/],
    ['a symlink to /dev/zero', () => { const p = path.join(dir, 'fzero'); symlinkSync('/dev/zero', p); return p; }, /character device/],
    ['a symlink to a directory', () => { const d = path.join(dir, 'fdir'); mkdirSync(d); const p = path.join(dir, 'fdir-link'); symlinkSync(d, p); return p; }, /directory/],
    ['a symlink loop', () => { const a = path.join(dir, 'loop-a'); const b = path.join(dir, 'loop-b'); symlinkSync(b, a); symlinkSync(a, b); return a; }, /symbolic link loop/],
    ['a dangling symlink', () => { const p = path.join(dir, 'dangling'); symlinkSync(path.join(dir, 'nowhere'), p); return p; }, /ENOENT|no such file/],
    ['a symlink to a file over the limit', () => { const f = path.join(dir, 'fbig'); writeFileSync(f, Buffer.alloc(64)); const p = path.join(dir, 'fbig-link'); symlinkSync(f, p); return p; }, /exceeds the limit/],
  ])('%s is refused with the caller\'s typed error', async (_n, make, why) => {
    const err = await readRegularFile(make(), 10, refuse, follow).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(err.message).toMatch(why);
  });
});

describe('problem kinds and checkBeforeOpen (the OCI layout types them apart)', () => {
  const kinds: string[] = [];
  const typed = (why: string, cause?: unknown, problem?: string) => {
    kinds.push(problem ?? '');
    return refuse(why, cause);
  };
  beforeEach(() => {
    kinds.length = 0;
  });

  test.each([
    ['missing', () => path.join(dir, 'nope'), 'missing'],
    ['missing (a file on the way)', () => { const f = path.join(dir, 'plainfile'); writeFileSync(f, 'x'); return path.join(f, 'below'); }, 'missing'],
    ['too large (from stat, before opening)', () => { const p = path.join(dir, 'k-big'); writeFileSync(p, Buffer.alloc(64)); return p; }, 'too-large'],
    ['a FIFO (never opened)', () => { const p = path.join(dir, 'k-fifo'); execFileSync('mkfifo', [p]); return p; }, 'refused'],
    ['a directory', () => { const p = path.join(dir, 'k-dir'); mkdirSync(p); return p; }, 'refused'],
  ])('%s', async (_n, make, kind) => {
    await expect(readRegularFile(make(), 10, typed, { checkBeforeOpen: true })).rejects.toThrow(ConfigurationError);
    expect(kinds).toEqual([kind]);
  });

  test('a symlink that passes the check (stat follows) is still not opened through: the open refuses it', async () => {
    const f = path.join(dir, 'k-target');
    writeFileSync(f, 'x');
    const l = path.join(dir, 'k-link');
    symlinkSync(f, l);
    await expect(readRegularFile(l, 10, typed, { checkBeforeOpen: true })).rejects.toThrow(/changed while it was opened \(ELOOP\)/);
    expect(kinds).toEqual(['refused']);
  });

  test('checkAborted stops before the open and before each read', async () => {
    const f = path.join(dir, 'k-ok');
    writeFileSync(f, 'hello');
    let calls = 0;
    const stop = new ConfigurationError('INVALID_OPTIONS', 'stopped');
    await expect(readRegularFile(f, 10, typed, { checkAborted: () => { calls++; throw stop; } })).rejects.toBe(stop);
    expect(calls).toBe(1);
    calls = 0;
    expect((await readRegularFile(f, 10, typed, { checkAborted: () => { calls++; } })).toString()).toBe('hello');
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
