/**
 * Reading local files without ever blocking on something that is not a file: a FIFO opened for
 * reading waits for a writer forever, a character device (`/dev/zero`) never ends. Every local read of
 * the engine (OCI layouts, trust-store directories) opens with O_NONBLOCK | O_NOFOLLOW and checks the
 * OPENED descriptor (fstat), so a path swapped between a directory listing and the open is refused too.
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

/**
 * Reads `file` when it is a regular file (not through a symlink) of at most `maxBytes`.
 * @param refuse builds the caller's typed error (why, cause) for anything else, including I/O errors
 */
export async function readRegularFile(file: string, maxBytes: number, refuse: (why: string, cause?: unknown) => VerifierError): Promise<Buffer> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, SAFE_OPEN_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw refuse('it is a symbolic link', e);
    if (code === 'ENXIO') throw refuse('it is a socket or a device', e);
    throw refuse((e as Error).message, e);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw refuse(`it is ${fileKind(st)}, not a regular file`);
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
