/**
 * Notation trust stores (notary-verification.md §9.1; notation-go `verifier/truststore`).
 * Layout: `<root>/x509/{ca|signingAuthority|tsa}/<name>/*`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError, VerifierError } from '../errors';
import { readRegularFile } from '../fs';
import { CertificateInfo, parseCertificates } from './certificate';
import { goQuote } from '../text/go-quote';
import { TRUST_STORE_NAME_PATTERN, TRUST_STORE_TYPES, TrustStoreTypeName } from '../types';
import { checkTrustStoreCertificate } from './trust-store-rules';

export interface TrustStoreProvider {
  /** Certificates of the named store; throws ConfigurationError('INVALID_TRUST_STORE') if missing/invalid/empty. */
  getCertificates(type: TrustStoreTypeName, name: string): Promise<CertificateInfo[]>;
}

/** A trust-store certificate file larger than this is refused (a PEM bundle of many roots is far smaller). */
const MAX_CERTIFICATE_FILE_BYTES = 8 * 1024 * 1024;

function storeError(message: string, cause?: unknown): never {
  throw new ConfigurationError('INVALID_TRUST_STORE', message, cause === undefined ? undefined : { cause });
}

function checkTypeAndName(type: string, name: string): void {
  if (!(TRUST_STORE_TYPES as readonly string[]).includes(type)) storeError(`unsupported trust store type: ${type}`);
  if (typeof name !== 'string' || !TRUST_STORE_NAME_PATTERN.test(name)) {
    storeError(`trust store name needs to follow [a-zA-Z0-9_.-]+ format, ${name} is invalid`);
  }
}

/** Parses + validates one file's content for store `type:name`. */
function loadFile(content: Uint8Array | string, file: string, type: TrustStoreTypeName, name: string): CertificateInfo[] {
  let certs: CertificateInfo[];
  try {
    certs = parseCertificates(content);
  } catch (e) {
    const inner = e instanceof VerifierError ? e.message : String(e);
    storeError(`failed to read the trusted certificate ${file} in trust store ${name} of type ${type}: ${inner}`, e);
  }
  // notation checks every certificate of the file against the rule for all stores before the tsa rule
  const problems = certs.map((c) => checkTrustStoreCertificate(type, c));
  const notCaOrSelfSigned = problems.find((p) => p?.rule === 'caOrSelfSigned');
  if (notCaOrSelfSigned) {
    storeError(`failed to validate the trusted certificate ${file} in trust store ${name} of type ${type}: ${notCaOrSelfSigned.message}`);
  }
  const notRootCa = problems.find((p) => p !== undefined);
  if (notRootCa) storeError(`trusted certificate ${file} in trust store ${name} of type ${type} is invalid: ${notRootCa.message}`);
  return certs;
}

abstract class CachingTrustStore implements TrustStoreProvider {
  private readonly cache = new Map<string, Promise<CertificateInfo[]>>();

  public getCertificates(type: TrustStoreTypeName, name: string): Promise<CertificateInfo[]> {
    const key = `${type}:${name}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = (async () => {
        checkTypeAndName(type, name);
        return this.load(type, name);
      })();
      this.cache.set(key, hit);
      // failures are not cached (the store may be fixed on disk)
      hit.catch(() => this.cache.delete(key));
    }
    return hit.then((certs) => [...certs]);
  }

  /** Drops cached certificates. */
  public clearCache(): void {
    this.cache.clear();
  }

  protected abstract load(type: TrustStoreTypeName, name: string): Promise<CertificateInfo[]>;
}

/** A notation trust store directory (`<root>/x509/<type>/<name>/*`). */
export class DirectoryTrustStore extends CachingTrustStore {
  public readonly root: string;

  public constructor(root: string) {
    super();
    this.root = root;
  }

  protected async load(type: TrustStoreTypeName, name: string): Promise<CertificateInfo[]> {
    const dir = path.join(this.root, 'x509', type, name);
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') storeError(`the trust store ${goQuote(name)} of type ${goQuote(type)} does not exist`, e);
      storeError(`failed to access the trust store ${goQuote(name)} of type ${goQuote(type)}`, e);
    }
    if (!st.isDirectory() || st.isSymbolicLink()) {
      storeError(`the trust store ${name} of type ${type} with path ${dir} is not a regular directory (symlinks are not supported)`);
    }
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (e) {
      storeError(`failed to access the trust store ${goQuote(name)} of type ${goQuote(type)}`, e);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const out: CertificateInfo[] = [];
    for (const ent of entries) {
      if (!ent.isFile() || ent.isSymbolicLink()) {
        storeError(`trusted certificate ${ent.name} in trust store ${name} of type ${type} is not a regular file (directories or symlinks are not supported)`);
      }
      // Opened non-blocking and checked on the descriptor: a file swapped for a FIFO or a device
      // after the listing is refused, never waited on.
      const content = await readRegularFile(path.join(dir, ent.name), MAX_CERTIFICATE_FILE_BYTES, (why, cause) =>
        new ConfigurationError('INVALID_TRUST_STORE', `failed to read the trusted certificate ${ent.name} in trust store ${name} of type ${type}: ${why}`, cause === undefined ? undefined : { cause }));
      out.push(...loadFile(content, ent.name, type, name));
    }
    if (out.length < 1) storeError(`no x509 certificates were found in trust store ${goQuote(name)} of type ${goQuote(type)}`);
    return out;
  }
}

/**
 * Trust stores given in memory: `{ 'signingAuthority:aws-signer-ts': '<PEM bundle>', 'ca:acme': '...' }`.
 * Same validation as {@link DirectoryTrustStore}; content is parsed lazily and cached.
 */
export class InMemoryTrustStore extends CachingTrustStore {
  private readonly stores: ReadonlyMap<string, string>;

  public constructor(stores: Readonly<Record<string, string>>) {
    super();
    if (stores === null || typeof stores !== 'object') storeError('trust stores must map "type:name" to a PEM bundle');
    const m = new Map<string, string>();
    for (const [key, pem] of Object.entries(stores)) {
      const i = key.indexOf(':');
      if (i < 0) storeError(`trust store key ${goQuote(key)} must be of the form "<ca|signingAuthority|tsa>:<name>"`);
      checkTypeAndName(key.slice(0, i), key.slice(i + 1));
      if (typeof pem !== 'string') storeError(`trust store ${goQuote(key)} must be a PEM string`);
      m.set(key, pem);
    }
    this.stores = m;
  }

  /** Store keys (`type:name`) present. */
  public get keys(): string[] {
    return [...this.stores.keys()];
  }

  protected async load(type: TrustStoreTypeName, name: string): Promise<CertificateInfo[]> {
    const pem = this.stores.get(`${type}:${name}`);
    if (pem === undefined) storeError(`the trust store ${goQuote(name)} of type ${goQuote(type)} does not exist`);
    if (pem.trim() === '') storeError(`no x509 certificates were found in trust store ${goQuote(name)} of type ${goQuote(type)}`);
    return loadFile(pem, `${type}:${name}`, type, name);
  }
}
