/**
 * Local files are files: the OCI-layout reader refuses FIFOs, sockets, devices, directories and symlinks
 * leaving the layout BEFORE it could block on them, and re-checks the opened descriptor (a path swapped
 * between the check and the open is refused). Real FIFOs (coreutils `mkfifo`), a real Unix socket, real
 * symlinks. On the reader of the original code every FIFO case blocked forever in open().
 */
import { execFileSync } from 'child_process';
import * as fsNode from 'fs';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { ConfigurationError, VerificationFailedError, VerificationInconclusiveError } from '../../../src/verifier/errors';
import { OciLayoutSource } from '../../../src/verifier/registry/oci-layout';
import { Descriptor } from '../../../src/verifier/types';
import { caught, collect } from '../../support/helpers';
import { pushImage, pushSignature, writeOciLayout } from '../../support/push';

jest.setTimeout(15_000);

let tmp: string;
let layout: string;
let image: Descriptor;
let sig: Descriptor;

const blob = (digest: string, dir = layout) => path.join(dir, 'blobs', ...digest.split(':'));
const mkfifo = (p: string) => execFileSync('mkfifo', [p]);
const replace = (p: string, make: (p: string) => void) => {
  rmSync(p, { recursive: true, force: true });
  make(p);
};
const byDigest = (digest: string) => ({ registry: '', repository: '', digest });
const byTag = (tag: string) => ({ registry: '', repository: '', tag });

beforeEach(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'csi-layout-hard-'));
  layout = path.join(tmp, 'layout');
  const t = writeOciLayout(layout);
  image = await pushImage(t, undefined, { tag: 'v1' });
  sig = await pushSignature(t, undefined, image, Buffer.from('{"not":"checked here"}'), 'application/jose+json', { tagSchema: false });
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('non-regular files are refused before they are opened', () => {
  test('a FIFO at the manifest blob: failed NOT_FOUND naming the FIFO, promptly', async () => {
    replace(blob(image.digest), mkfifo);
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toMatch(/manifest sha256:[0-9a-f]{64} .* refused: it is a FIFO \(named pipe\), not a regular file/);
  });

  test('a FIFO at the manifest blob resolved by tag', async () => {
    replace(blob(image.digest), mkfifo);
    const e = await caught(new OciLayoutSource(layout).resolve(byTag('v1')));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.message).toMatch(/FIFO/);
  });

  test.each(['index.json', 'oci-layout'])('a FIFO as %s: configuration error (the layout is the caller\'s input)', async (name) => {
    replace(path.join(layout, name), mkfifo);
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(ConfigurationError);
    expect(e.code).toBe('INVALID_REFERENCE');
    expect(e.message).toContain(`${name} in the OCI layout`);
    expect(e.message).toMatch(/FIFO/);
  });

  test.each(['index.json', 'oci-layout'])('a directory as %s: configuration error', async (name) => {
    replace(path.join(layout, name), (p) => mkdirSync(p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(ConfigurationError);
    expect(e.message).toMatch(/a directory, not a regular file/);
  });

  test('a FIFO at the signature envelope blob: fetchSignature fails, promptly', async () => {
    const src = new OciLayoutSource(layout);
    const [listed] = await collect(src.listSignatures(image));
    expect(listed.digest).toBe(sig.digest);
    const manifest = JSON.parse(readFileSync(blob(sig.digest), 'utf8'));
    replace(blob(manifest.layers[0].digest), mkfifo);
    const e = await caught(src.fetchSignature(listed));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.message).toMatch(/signature envelope .* FIFO/);
  });

  test('a FIFO at a signature manifest blob: the scan skips it and ends', async () => {
    replace(blob(sig.digest), mkfifo);
    const debug: string[] = [];
    const src = new OciLayoutSource(layout, { logger: { warn: () => undefined, debug: (m) => debug.push(m) } });
    expect(await collect(src.listSignatures(image))).toEqual([]);
    expect(debug.join('\n')).toMatch(/FIFO/);
  });

  test('a directory at the manifest blob', async () => {
    replace(blob(image.digest), (p) => mkdirSync(p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.message).toMatch(/a directory, not a regular file/);
  });

  test('a Unix socket at the manifest blob', async () => {
    // socket paths are limited to ~108 bytes: bind in a short directory and link the blob to it
    const server = net.createServer();
    const sock = path.join(layout, 's.sock');
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      replace(blob(image.digest), (p) => symlinkSync(sock, p));
      const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
      expect(e).toBeInstanceOf(VerificationFailedError);
      expect(e.message).toMatch(/a socket, not a regular file/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test.each(['/dev/zero', '/dev/null', '/dev/stdin', '/dev/urandom'])('a symlink to %s at the manifest blob', async (device) => {
    replace(blob(image.digest), (p) => symlinkSync(device, p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.code).toBe('NOT_FOUND');
  });

  test('a symlink to /dev/zero as index.json: configuration error', async () => {
    replace(path.join(layout, 'index.json'), (p) => symlinkSync('/dev/zero', p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(ConfigurationError);
    expect(e.message).toMatch(/outside the layout directory/);
  });
});

describe('symlinks stay inside the layout', () => {
  test('a blob symlinked to a byte-identical file OUTSIDE the layout is refused (it was read before)', async () => {
    const outside = path.join(tmp, 'outside-manifest');
    writeFileSync(outside, readFileSync(blob(image.digest)));
    replace(blob(image.digest), (p) => symlinkSync(outside, p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.message).toMatch(/symbolic link to a file outside the layout directory/);
  });

  test('a relative symlink climbing out with ../ is refused', async () => {
    const outside = path.join(tmp, 'outside-manifest');
    writeFileSync(outside, readFileSync(blob(image.digest)));
    replace(blob(image.digest), (p) => symlinkSync(path.relative(path.dirname(p), outside), p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e.message).toMatch(/outside the layout directory/);
  });

  test('a sibling directory sharing the layout name as prefix is outside (layout-evil/...)', async () => {
    const evil = `${layout}-evil`;
    mkdirSync(evil);
    writeFileSync(path.join(evil, 'm'), readFileSync(blob(image.digest)));
    replace(blob(image.digest), (p) => symlinkSync(path.join(evil, 'm'), p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e.message).toMatch(/outside the layout directory/);
  });

  test('a symlinked blobs/ directory pointing outside is refused', async () => {
    const moved = path.join(tmp, 'blobs-elsewhere');
    fsNode.renameSync(path.join(layout, 'blobs'), moved);
    symlinkSync(moved, path.join(layout, 'blobs'));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e.message).toMatch(/outside the layout directory/);
  });

  test('a symlink loop is refused', async () => {
    replace(blob(image.digest), (p) => symlinkSync(p, p));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.message).toMatch(/symbolic link loop/);
  });

  test('symlinks INSIDE the layout still work, and so does a layout reached through a symlink', async () => {
    const copy = path.join(layout, 'copy-of-manifest');
    writeFileSync(copy, readFileSync(blob(image.digest)));
    replace(blob(image.digest), (p) => symlinkSync(copy, p));
    expect((await new OciLayoutSource(layout).resolve(byDigest(image.digest))).descriptor.digest).toBe(image.digest);
    const link = path.join(tmp, 'link-to-layout');
    symlinkSync(layout, link);
    expect((await new OciLayoutSource(link).resolve(byTag('v1'))).descriptor.digest).toBe(image.digest);
  });

  test('a layout directory that does not exist: configuration error', async () => {
    const e = await caught(new OciLayoutSource(path.join(tmp, 'nope')).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(ConfigurationError);
    expect(e.message).toMatch(/not an OCI image layout/);
  });
});

describe('the opened descriptor is checked again (TOCTOU)', () => {
  test('a blob replaced by a FIFO between the check and the open is refused, without blocking', async () => {
    const target = blob(image.digest);
    const realStat = fsNode.promises.stat;
    const spy = jest.spyOn(fsNode.promises, 'stat').mockImplementation(async (p: any, o?: any) => {
      const st = await realStat(p, o);
      if (p === target) replace(target, mkfifo); // the attacker swaps the file right after the check
      return st as any;
    });
    try {
      const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
      expect(e).toBeInstanceOf(VerificationFailedError);
      expect(e.message).toMatch(/FIFO/);
    } finally {
      spy.mockRestore();
    }
  });

  test('a blob replaced by another regular file between the check and the open is refused (inode changed)', async () => {
    const target = blob(image.digest);
    const bytes = readFileSync(target);
    const realStat = fsNode.promises.stat;
    const spy = jest.spyOn(fsNode.promises, 'stat').mockImplementation(async (p: any, o?: any) => {
      const st = await realStat(p, o);
      if (p === target) {
        // a new file renamed over the checked one (a new inode while the old one still exists)
        writeFileSync(`${target}.new`, bytes);
        fsNode.renameSync(`${target}.new`, target);
      }
      return st as any;
    });
    try {
      const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
      expect(e).toBeInstanceOf(VerificationFailedError);
      expect(e.message).toMatch(/replaced while it was opened/);
    } finally {
      spy.mockRestore();
    }
  });

  test('a blob replaced by a symlink between the check and the open is refused (O_NOFOLLOW)', async () => {
    const target = blob(image.digest);
    const outside = path.join(tmp, 'outside-manifest');
    writeFileSync(outside, readFileSync(target));
    const realStat = fsNode.promises.stat;
    const spy = jest.spyOn(fsNode.promises, 'stat').mockImplementation(async (p: any, o?: any) => {
      const st = await realStat(p, o);
      if (p === target) replace(target, (q) => symlinkSync(outside, q));
      return st as any;
    });
    try {
      const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
      expect(e).toBeInstanceOf(VerificationFailedError);
      expect(e.message).toMatch(/changed while it was opened \(ELOOP\)/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('limits and abort', () => {
  test('an oversized blob is refused from its size, before reading', async () => {
    writeFileSync(blob(image.digest), Buffer.alloc(5 * 1024 * 1024, 0x20));
    const e = await caught(new OciLayoutSource(layout).resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.code).toBe('SIZE_LIMIT_EXCEEDED');
  });

  test('an aborted signal stops every read as inconclusive TIMEOUT', async () => {
    const ctl = new AbortController();
    const src = new OciLayoutSource(layout, { signal: ctl.signal });
    expect((await src.resolve(byDigest(image.digest))).descriptor.digest).toBe(image.digest);
    ctl.abort();
    const e = await caught(src.resolve(byDigest(image.digest)));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('TIMEOUT');
  });
});
