/**
 * Reading the CLI's own input files (trust policy) without blocking on a FIFO or device: only a regular
 * file is read, opened with O_NONBLOCK and checked again on the opened descriptor, with a size limit.
 */
import { closeSync, constants, fstatSync, openSync, readSync, Stats, statSync } from 'node:fs';
import { fileKind } from '../verifier/fs';

// eslint-disable-next-line no-bitwise
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);


/** Reads a regular file (following symlinks) of at most `maxBytes`; throws an Error with a clear message otherwise. */
export function readRegularFile(path: string, maxBytes: number): Buffer {
  const before = statSync(path);
  if (!before.isFile()) throw new Error(`it is ${fileKind(before)}, not a regular file`);
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`it is ${fileKind(st)}, not a regular file`);
    if (st.dev !== before.dev || st.ino !== before.ino) throw new Error('the file was replaced while it was opened');
    if (st.size > maxBytes) throw new Error(`its size ${st.size} exceeds the limit of ${maxBytes} bytes`);
    const buf = Buffer.alloc(st.size + 1);
    let off = 0;
    for (;;) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
      if (off > maxBytes) throw new Error(`it exceeds the limit of ${maxBytes} bytes`);
      if (off === buf.length) throw new Error('the file grew while it was read');
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** undefined when `path` does not exist or is a regular file; otherwise why it must not be opened. */
export function notRegularFile(path: string): string | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  return st.isFile() ? undefined : `it is ${fileKind(st)}, not a regular file`;
}
