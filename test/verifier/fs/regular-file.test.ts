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
