/**
 * The CLI's own input files (the trust policy, the package manifest) through the engine's one local-file
 * reader (src/verifier/fs): only a regular file is read (never a FIFO or device, which would hold up the
 * deadline), opened with O_NONBLOCK | O_NOFOLLOW and checked again on the opened descriptor, with a size limit.
 *
 * A symbolic link is NOT followed: one rule for every trust input (trust-store certificates are refused as
 * links by the verifier too), and the file read is the file named, not whatever a link points to at the time.
 * Name the file the link points to. (The Docker config, credentials and not trust, is read through a link, as
 * docker does; see sources.ts.)
 */
import { ConfigurationError, readRegularFile } from '../verifier';

/**
 * Reads a regular file of at most `maxBytes`.
 * @throws ConfigurationError INVALID_OPTIONS whose message says why the file is not read
 */
export async function readInputFile(path: string, maxBytes: number): Promise<Buffer> {
  return readRegularFile(path, maxBytes, (why, cause) => new ConfigurationError('INVALID_OPTIONS',
    why === 'it is a symbolic link' ? `${why} (symbolic links are not followed: name the file it points to)` : why,
    cause === undefined ? undefined : { cause }));
}
