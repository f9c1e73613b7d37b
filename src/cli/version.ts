/**
 * The CLI's version: the `version` of the package.json two directories above the bundle. The bundle is
 * `assets/cli/cli.js` both in the repository and in the installed package
 * (`node_modules/cdk-signed-images/assets/cli/cli.js`), so `../../package.json` is the package's own
 * manifest in both layouts (and, from the TypeScript source `src/cli/`, the repository's).
 */
import { join } from 'node:path';
import { readInputFile } from './files';

export const PACKAGE_NAME = 'cdk-signed-images';
const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;

/** The package version, or an Error saying why it cannot be told. */
export async function packageVersion(baseDir: string = __dirname): Promise<string | Error> {
  const path = join(baseDir, '..', '..', 'package.json');
  let manifest: unknown;
  try {
    manifest = JSON.parse((await readInputFile(path, MAX_PACKAGE_JSON_BYTES)).toString('utf8'));
  } catch (e) {
    return new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  const m = (manifest ?? {}) as { name?: unknown; version?: unknown };
  if (m.name !== PACKAGE_NAME) return new Error(`${path} is not the manifest of ${PACKAGE_NAME} (its name is ${JSON.stringify(m.name ?? null)})`);
  if (typeof m.version !== 'string' || !/^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$/.test(m.version)) {
    return new Error(`${path} has no valid version (${JSON.stringify(m.version ?? null)})`);
  }
  return m.version;
}
