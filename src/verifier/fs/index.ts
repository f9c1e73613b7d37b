/**
 * Reading local files without ever blocking on something that is not a file: a FIFO opened for
 * reading waits for a writer forever, a character device (`/dev/zero`) never ends. Every local read of
 * the engine and the CLI (OCI layouts, trust-store directories, the trust policy, the Docker config) opens
 * with O_NONBLOCK (and O_NOFOLLOW, unless the caller follows a file the user named) and checks the OPENED
 * descriptor (fstat), so a path swapped between a directory listing and the open is refused too.
 */
import { constants as fsConstants, promises as fs, Stats } from 'node:fs';
import { VerifierError } from '../errors';

/** O_NONBLOCK: opening a FIFO never waits for a writer. O_NOFOLLOW: the last component must not be a symlink. */
// eslint-disable-next-line no-bitwise
export const SAFE_OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0) | (fsConstants.O_NOFOLLOW ?? 0);

/** What `st` is, for messages ("a FIFO (named pipe)", "a character device", ...). */
export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export interface ReadRegularFileOptions {
  /**
   * Follow a symbolic link at the last component (default false: refused). Only for a file the user names
   * (the CLI's Docker config): what it points to is checked like the file itself (stat first, so a FIFO or
   * device behind the link is never opened) and the opened file must be that very file (same device and inode).
   */
  readonly followSymlinks?: boolean;
}

/** O_NONBLOCK without O_NOFOLLOW, for `followSymlinks`. */
// eslint-disable-next-line no-bitwise
const FOLLOW_OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/**
 * Reads `file` when it is a regular file (not through a symlink, unless `followSymlinks`) of at most `maxBytes`.
 * The engine's one local-file reader: trust-store certificates, the CLI's trust policy and package manifest,
 * the Docker config file. Never blocks on a FIFO or device, never reads more than `maxBytes` (+1).
 * @param refuse builds the caller's typed error (why, cause) for anything else, including I/O errors
 */
export async function readRegularFile(
  file: string, maxBytes: number, refuse: (why: string, cause?: unknown) => VerifierError, options: ReadRegularFileOptions = {},
): Promise<Buffer> {
  const before = options.followSymlinks ? await statTarget(file, refuse) : undefined;
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, before ? FOLLOW_OPEN_FLAGS : SAFE_OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw refuse(before ? 'a symbolic link loop' : 'it is a symbolic link', e);
    if (code === 'ENXIO') throw refuse('it is a socket or a device', e);
    throw refuse((e as Error).message, e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuse(`it is ${fileKind(st)}, not a regular file`);
    if (before && (st.dev !== before.dev || st.ino !== before.ino)) throw refuse('the file was replaced while it was opened');
    if (st.size > maxBytes) throw refuse(`its size ${st.size} exceeds the limit of ${maxBytes} bytes`);
    const buf = Buffer.alloc(st.size + 1);
    let off = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
      if (off === buf.length) throw refuse('it grew while it was read');
    }
    return buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}

/** What `file` points to, when it is a regular file (nothing else is opened at all). */
async function statTarget(file: string, refuse: (why: string, cause?: unknown) => VerifierError): Promise<Stats> {
  let st: Stats;
  try {
    st = await fs.stat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw refuse('a symbolic link loop', e);
    throw refuse((e as Error).message, e);
  }
  if (!st.isFile()) throw refuse(`it is ${fileKind(st)}, not a regular file`);
  return st;
}
