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

/** Why a file is not read, for callers that type the problems apart (an OCI layout: missing is NOT_FOUND...). */
export type ReadProblem = 'missing' | 'refused' | 'too-large' | 'io';

/** Builds the caller's typed error: why (a sentence part), the cause, and the kind of problem. */
export type RefuseRead = (why: string, cause?: unknown, problem?: ReadProblem) => VerifierError;

export interface ReadRegularFileOptions {
  /**
   * Follow a symbolic link at the last component (default false: refused). Only for a file the user names
   * (the CLI's Docker config). Implies `checkBeforeOpen`.
   */
  readonly followSymlinks?: boolean;
  /**
   * Check the file (stat) before opening it, so that nothing but a regular file is ever opened (not even with
   * O_NONBLOCK), and require the opened file to be that very file (same device and inode). Without
   * `followSymlinks` the open still refuses a symlink: a file swapped for one after the check is refused.
   */
  readonly checkBeforeOpen?: boolean;
  /** Called before the open and before each read; throws to stop (a deadline that has passed). */
  readonly checkAborted?: () => void;
}

/** O_NONBLOCK without O_NOFOLLOW, for `followSymlinks`. */
// eslint-disable-next-line no-bitwise
const FOLLOW_OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

const isMissing = (e: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException)?.code ?? '');

/**
 * Reads `file` when it is a regular file (not through a symlink, unless `followSymlinks`) of at most `maxBytes`.
 * The engine's one local-file reader: OCI layouts, trust-store certificates, the CLI's trust policy and package
 * manifest, the Docker config file. Never blocks on a FIFO or device, never reads more than `maxBytes` (+1).
 * @param refuse builds the caller's typed error for anything else, including I/O errors
 */
export async function readRegularFile(file: string, maxBytes: number, refuse: RefuseRead, options: ReadRegularFileOptions = {}): Promise<Buffer> {
  const before = options.followSymlinks || options.checkBeforeOpen ? await statTarget(file, maxBytes, refuse) : undefined;
  options.checkAborted?.();
  const fh = await openFile(file, before, options.followSymlinks === true, refuse);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuse(`it is ${fileKind(st)}, not a regular file`, undefined, 'refused');
    if (before && (st.dev !== before.dev || st.ino !== before.ino)) throw refuse('the file was replaced while it was opened', undefined, 'refused');
    if (st.size > maxBytes) throw refuse(`its size ${st.size} exceeds the limit of ${maxBytes} bytes`, undefined, 'too-large');
    const buf = Buffer.alloc(st.size + 1);
    let off = 0;
    for (;;) {
      options.checkAborted?.();
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
      if (off === buf.length) throw refuse('it grew while it was read', undefined, 'refused');
    }
    return buf.subarray(0, off);
  } finally {
    await fh.close();
  }
}

/** Opens `file` non-blocking; `before` (the checked file) turns a changed file into "changed while opened". */
async function openFile(file: string, before: Stats | undefined, follow: boolean, refuse: RefuseRead): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, follow ? FOLLOW_OPEN_FLAGS : SAFE_OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (isMissing(e)) throw refuse((e as Error).message, e, 'missing');
    // checked a moment ago: a symlink (ELOOP), socket/device (ENXIO) or directory now means it was swapped
    if (before && (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR')) {
      throw refuse(follow && code === 'ELOOP' ? 'a symbolic link loop' : `the file changed while it was opened (${code})`, e, 'refused');
    }
    if (code === 'ELOOP') throw refuse('it is a symbolic link', e, 'refused');
    if (code === 'ENXIO') throw refuse('it is a socket or a device', e, 'refused');
    throw refuse((e as Error).message, e, 'io');
  }
}

/** What `file` points to, when it is a regular file within `maxBytes` (nothing else is opened at all). */
async function statTarget(file: string, maxBytes: number, refuse: RefuseRead): Promise<Stats> {
  let st: Stats;
  try {
    st = await fs.stat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw refuse('a symbolic link loop', e, 'refused');
    throw refuse((e as Error).message, e, isMissing(e) ? 'missing' : 'io');
  }
  if (!st.isFile()) throw refuse(`it is ${fileKind(st)}, not a regular file`, undefined, 'refused');
  if (st.size > maxBytes) throw refuse(`its size ${st.size} exceeds the limit of ${maxBytes} bytes`, undefined, 'too-large');
  return st;
}
