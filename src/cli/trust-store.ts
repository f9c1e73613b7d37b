/**
 * Trust-store directories (notation's layout, `<dir>/x509/<type>/<name>/<file>`) for the CLI:
 *  - `trust-store add-aws-signer-roots <dir>` writes the bundled AWS Signer roots (commercial and
 *    GovCloud) as `x509/signingAuthority/<store>/<file>.pem`, never overwriting a different file;
 *  - before `verify` touches a registry, the `--trust-store` directory and the stores the applicable
 *    trust-policy statement names are loaded, so a missing or empty store is a configuration error
 *    (exit 2) and not a registry error.
 */
import { lstatSync, mkdirSync, readdirSync, Stats, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AWS_SIGNER_GOVCLOUD_ROOT_PEM, AWS_SIGNER_GOVCLOUD_ROOT_SHA256, AWS_SIGNER_GOVCLOUD_TRUST_STORE, AWS_SIGNER_ROOT_PEM,
  AWS_SIGNER_ROOT_SHA256, AWS_SIGNER_TRUST_STORE, ConfigurationError, fileKind, goQuote, isVerifierError, parseTrustStoreRef,
  readRegularFile, selectStatement, NotationTrustPolicy, TrustStoreProvider, TrustStoreTypeName,
} from '../verifier';

/** One bundled AWS Signer root and where notation's layout puts it. */
export interface AwsSignerRootFile {
  readonly partition: 'aws' | 'aws-us-gov';
  /** Trust store name (type `signingAuthority`), as TrustStore.AWS_SIGNER / AWS_SIGNER_GOVCLOUD name it. */
  readonly store: string;
  /** File name inside the store directory. */
  readonly file: string;
  readonly pem: string;
  readonly sha256: string;
  readonly subject: string;
}

export const AWS_SIGNER_ROOT_FILES: readonly AwsSignerRootFile[] = [
  {
    partition: 'aws',
    store: AWS_SIGNER_TRUST_STORE,
    file: 'aws-signer-notation-root.pem',
    pem: AWS_SIGNER_ROOT_PEM,
    sha256: AWS_SIGNER_ROOT_SHA256,
    subject: 'AWS Signer Code Signing Root CA G1',
  },
  {
    partition: 'aws-us-gov',
    store: AWS_SIGNER_GOVCLOUD_TRUST_STORE,
    file: 'aws-us-gov-signer-notation-root.pem',
    pem: AWS_SIGNER_GOVCLOUD_ROOT_PEM,
    sha256: AWS_SIGNER_GOVCLOUD_ROOT_SHA256,
    subject: 'AWS Signer Code Signing GovCloud (US) Root CA G1',
  },
];

/** The command that writes the AWS Signer roots, for hints in messages. */
export function addRootsHint(dir: string): string {
  return `cdk-signed-images trust-store add-aws-signer-roots ${goQuote(dir)}`;
}

/** What `st` is, for messages (a regular file included). */
const kindOf = (st: Stats) => (st.isFile() ? 'a regular file' : fileKind(st));

const refuse = (message: string, cause?: unknown) =>
  new ConfigurationError('INVALID_TRUST_STORE', message, cause === undefined ? undefined : { cause });

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw refuse(`cannot access ${path}: ${(e as Error).message}`, e);
  }
}

export interface RootWriteResult {
  readonly root: AwsSignerRootFile;
  /** Path of the certificate file, relative to the trust-store directory. */
  readonly relativePath: string;
  readonly status: 'written' | 'unchanged';
  /** Other files in the same store directory (trusted too by every statement naming the store). */
  readonly others: string[];
}

/**
 * Writes the bundled AWS Signer roots of `partitions` into the notation trust-store directory `dir`
 * (created if missing). Everything is checked before anything is written: an existing file of the same
 * name with other content, or a symlink / non-directory on the way, is refused (ConfigurationError
 * `INVALID_TRUST_STORE`) and nothing is written. A byte-identical existing file is left as is.
 */
export async function addAwsSignerRoots(
  dir: string, partitions: ReadonlyArray<AwsSignerRootFile['partition']> = ['aws', 'aws-us-gov'],
): Promise<RootWriteResult[]> {
  const roots = AWS_SIGNER_ROOT_FILES.filter((r) => partitions.includes(r.partition));
  // the directory itself may be a symlink to a directory (the verifier follows it too)
  let top: Stats | undefined;
  try {
    top = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw refuse(`cannot access the trust-store directory ${goQuote(dir)}: ${(e as Error).message}`, e);
  }
  if (top && !top.isDirectory()) throw refuse(`the trust-store directory ${goQuote(dir)} is ${kindOf(top)}, not a directory`);

  const plan: Array<{ root: AwsSignerRootFile; rel: string; path: string; exists: boolean; others: string[] }> = [];
  for (const root of roots) {
    const relDirs = ['x509', join('x509', 'signingAuthority'), join('x509', 'signingAuthority', root.store)];
    for (const rel of relDirs) {
      const st = lstatOrUndefined(join(dir, rel));
      if (!st) continue;
      // the store directory must not be a symlink (the verifier refuses one); x509/ and x509/signingAuthority/ may be
      const isStore = rel === relDirs[2];
      const ok = st.isDirectory() || (!isStore && st.isSymbolicLink() && safeIsDirectory(join(dir, rel)));
      if (!ok) throw refuse(`cannot write the AWS Signer root: ${join(dir, rel)} is ${kindOf(st)}, not a directory${isStore ? ' (symlinks are not supported for a trust store)' : ''}`);
    }
    const rel = join('x509', 'signingAuthority', root.store, root.file);
    const path = join(dir, rel);
    const st = lstatOrUndefined(path);
    if (st) {
      if (!st.isFile()) throw refuse(`refusing to replace ${path}: it is ${kindOf(st)}, not a regular file`);
      const existing = await readRegularFile(path, 1024 * 1024, (why, cause) => refuse(`refusing to replace ${path}: ${why}`, cause));
      if (!existing.equals(Buffer.from(root.pem, 'utf8'))) {
        throw refuse(`refusing to overwrite ${path}: it differs from the bundled ${root.subject} (SHA-256 ${root.sha256}); remove it or choose another directory. Nothing was written`);
      }
    }
    const storeDir = join(dir, 'x509', 'signingAuthority', root.store);
    const others = lstatOrUndefined(storeDir) ? readdirSync(storeDir).filter((f) => f !== root.file).sort() : [];
    plan.push({ root, rel, path, exists: !!st, others });
  }

  const results: RootWriteResult[] = [];
  for (const p of plan) {
    if (!p.exists) {
      try {
        mkdirSync(join(dir, 'x509', 'signingAuthority', p.root.store), { recursive: true, mode: 0o755 });
        // 'wx': never replaces a file that appeared since the check
        writeFileSync(p.path, p.root.pem, { flag: 'wx', mode: 0o644 });
      } catch (e) {
        throw refuse(`cannot write ${p.path}: ${(e as Error).message}`, e);
      }
    }
    results.push({ root: p.root, relativePath: p.rel, status: p.exists ? 'unchanged' : 'written', others: p.others });
  }
  return results;
}

function safeIsDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Checks the `--trust-store` directory before any registry access: it must exist and be a directory;
 * when the policy names trust stores it must hold some (`x509/`); every store the statement applying
 * to `scope` names must load (exist, hold valid certificates). Stores named only by other statements are
 * loaded too; a failure there is a warning (images in those scopes would not verify).
 * @throws ConfigurationError
 */
export async function checkTrustStores(
  dir: string, doc: NotationTrustPolicy, scope: string, stores: TrustStoreProvider, warn: (m: string) => void,
): Promise<void> {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw refuse(`the --trust-store directory ${goQuote(dir)} does not exist. A notation trust-store directory holds x509/<type>/<name>/<certificate files>; for the AWS Signer roots run: ${addRootsHint(dir)}`, e);
    }
    throw refuse(`cannot access the --trust-store directory ${goQuote(dir)}: ${(e as Error).message}`, e);
  }
  if (!st.isDirectory()) throw refuse(`the --trust-store ${goQuote(dir)} is ${kindOf(st)}, not a directory`);

  const named = new Map<string, { type: TrustStoreTypeName; name: string; statements: string[] }>();
  for (const s of doc.trustPolicies) {
    for (const ref of s.trustStores ?? []) {
      const { type, name } = parseTrustStoreRef(ref);
      const key = `${type}:${name}`;
      const entry = named.get(key) ?? { type, name, statements: [] };
      entry.statements.push(s.name);
      named.set(key, entry);
    }
  }
  if (named.size === 0) return;

  const x509 = join(dir, 'x509');
  let x509Entries: string[] | undefined;
  try {
    x509Entries = readdirSync(x509);
  } catch {
    x509Entries = undefined;
  }
  let applicable: string[] = [];
  let applies = false;
  try {
    applicable = selectStatement(doc, scope).trustStores ?? [];
    applies = true;
  } catch {
    // no statement applies: the verifier answers that (NO_APPLICABLE_TRUST_POLICY)
  }
  const wanted = new Set(applicable.map((r) => { const { type, name } = parseTrustStoreRef(r); return `${type}:${name}`; }));
  // an empty directory is an error unless the statement that applies needs no store (skip)
  if ((!x509Entries || x509Entries.length === 0) && (wanted.size > 0 || !applies)) {
    const what = readdirSync(dir).length === 0 ? 'is empty' : 'holds no trust stores (no x509/<type>/<name>/ directories)';
    throw refuse(`the --trust-store directory ${goQuote(dir)} ${what}, but the trust policy names ${[...named.keys()].map(goQuote).join(', ')}; for the AWS Signer roots run: ${addRootsHint(dir)}`);
  }

  for (const [key, s] of named) {
    try {
      await stores.getCertificates(s.type, s.name);
    } catch (e) {
      const message = isVerifierError(e) ? e.message : String(e);
      const hint = s.type === 'signingAuthority' && AWS_SIGNER_ROOT_FILES.some((r) => r.store === s.name)
        ? `; to write the AWS Signer roots run: ${addRootsHint(dir)}` : '';
      if (wanted.has(key)) throw refuse(`${message} (--trust-store ${goQuote(dir)})${hint}`, e);
      warn(`trust store ${goQuote(key)} (named by ${s.statements.map(goQuote).join(', ')}) cannot be loaded: ${message}; images in those statements' scopes will not verify${hint}`);
    }
  }
}
