/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as an artifact source.
 * Signatures are the manifests reachable from index.json whose `subject` is the target, plus the entries of
 * the `<alg>-<hex>` tag-schema index.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { ConfigurationError, VerificationFailedError, VerificationInconclusiveError, VerifierError } from '../errors';
import { readRegularFile } from '../fs';
import { formatReference, parseDigest, verifyContent } from '../reference';
import { Descriptor, ImageReference, LIMITS, MEDIA_TYPE } from '../types';
import {
  ArtifactSource, MANIFEST_MEDIA_TYPES, RegistryLogger, ResolvedManifest, SIGNATURE_ARTIFACT_TYPE, SignatureArtifact,
  checkSignatureDescriptor, parseIndexManifests, parseJsonObject, parseSignatureManifest, referrersTag,
} from './source';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface OciLayoutSourceOptions {
  /** Trust-policy scope (default: the layout directory path, as notation uses it). */
  readonly scope?: string;
  readonly logger?: RegistryLogger;
  /** Bound on manifests scanned for signatures (default 10000). */
  readonly maxScannedManifests?: number;
  /** Aborts reading (e.g. the CLI's deadline): every later read fails as inconclusive `TIMEOUT`. */
  readonly signal?: AbortSignal;
}

const INDEX_TYPES: readonly string[] = [MEDIA_TYPE.OCI_INDEX, MEDIA_TYPE.DOCKER_MANIFEST_LIST];

export class OciLayoutSource implements ArtifactSource {
  public readonly scope: string;
  public readonly stats = { requests: 0 };
  private readonly dir: string;
  private readonly opts: OciLayoutSourceOptions;
  private checkedLayout = false;
  private rootReal?: string;

  public constructor(dir: string, options: OciLayoutSourceOptions = {}) {
    this.dir = path.resolve(dir);
    this.scope = options.scope ?? dir;
    this.opts = options;
  }

  public async resolve(reference: ImageReference): Promise<ResolvedManifest> {
    const index = await this.readIndex();
    let entry: Descriptor | undefined;
    if (reference.digest) {
      parseDigestOrFail(reference.digest);
      entry = index.find((d) => d.digest === reference.digest);
      const bytes = await this.readBlob(reference.digest, LIMITS.MANIFEST_BYTES, 'manifest');
      verifyContent(bytes, { digest: reference.digest });
      const mediaType = manifestMediaType(bytes, entry?.mediaType);
      return { descriptor: { mediaType, digest: reference.digest, size: bytes.length }, bytes };
    }
    if (!reference.tag) throw new ConfigurationError('INVALID_REFERENCE', 'a tag or digest is required');
    for (const d of index) if (d.annotations?.[REF_NAME_ANNOTATION] === reference.tag) entry = d;
    if (!entry) {
      throw new VerificationFailedError('NOT_FOUND', `${formatLayoutRef(this.scope, reference)}: tag not found in the OCI layout`);
    }
    if (entry.size > LIMITS.MANIFEST_BYTES) {
      throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `manifest ${entry.digest} size ${entry.size} exceeds the limit of ${LIMITS.MANIFEST_BYTES} bytes`);
    }
    const bytes = await this.readBlob(entry.digest, LIMITS.MANIFEST_BYTES, 'manifest');
    verifyContent(bytes, entry);
    this.opts.logger?.warn(`Always verify the artifact using digest(@sha256:...) rather than a tag(:${reference.tag}) because resolved digest may not point to the same signed artifact, as tags are mutable.`);
    const mediaType = manifestMediaType(bytes, entry.mediaType);
    return { descriptor: { mediaType, digest: entry.digest, size: bytes.length }, bytes };
  }

  public async fetchManifest(desc: Descriptor, maxBytes: number = LIMITS.MANIFEST_BYTES): Promise<Uint8Array> {
    if (desc.size > maxBytes) {
      throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `manifest ${desc.digest} size ${desc.size} exceeds the limit of ${maxBytes} bytes`);
    }
    const bytes = await this.readBlob(desc.digest, maxBytes, 'manifest');
    verifyContent(bytes, desc);
    return bytes;
  }

  public async *listSignatures(subject: Descriptor): AsyncIterable<Descriptor> {
    const seen = new Set<string>();
    const fresh = (d: Descriptor): boolean => {
      if (seen.has(d.digest)) return false;
      seen.add(d.digest);
      return true;
    };
    for await (const d of this.scanForSignatures(subject)) if (fresh(d)) yield d;
    for (const d of await this.tagSchemaSignatures(subject)) if (fresh(d)) yield d;
  }

  /** Signature manifests of `subject` among the manifests reachable from index.json (at most maxScannedManifests). */
  private async *scanForSignatures(subject: Descriptor): AsyncIterable<Descriptor> {
    const max = this.opts.maxScannedManifests ?? 10000;
    let scanned = 0;
    const queue: Descriptor[] = [...(await this.readIndex())];
    const visited = new Set<string>();
    while (queue.length > 0) {
      const d = queue.shift()!;
      if (visited.has(d.digest)) continue;
      visited.add(d.digest);
      if (++scanned > max) {
        this.opts.logger?.warn(`OCI layout ${this.scope}: more than ${max} manifests; signature scan stopped`);
        break;
      }
      const scannedManifest = await this.readScanned(d);
      if (!scannedManifest) continue;
      if (INDEX_TYPES.includes(d.mediaType)) {
        try {
          queue.push(...parseIndexManifests(scannedManifest.bytes, `index ${d.digest}`).manifests);
        } catch {
          // malformed nested index: ignore
        }
        continue;
      }
      const sig = signatureOf(d, scannedManifest.json, subject);
      if (sig) yield sig;
    }
  }

  /** A manifest met while scanning, read and parsed; undefined (skipped, logged) when it cannot be. */
  private async readScanned(d: Descriptor): Promise<{ bytes: Uint8Array; json: Record<string, any> } | undefined> {
    if (d.size > LIMITS.MANIFEST_BYTES) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = await this.readBlob(d.digest, LIMITS.MANIFEST_BYTES, 'manifest');
      verifyContent(bytes, d);
    } catch (e) {
      this.opts.logger?.debug?.(`OCI layout ${this.scope}: skipping ${d.digest}: ${(e as Error).message}`);
      return undefined;
    }
    try {
      return { bytes, json: parseJsonObject(bytes, 'manifest') };
    } catch {
      return undefined;
    }
  }

  /** The entries of the tag-schema index `<alg>-<hex>` that are signatures (none when there is no such tag). */
  private async tagSchemaSignatures(subject: Descriptor): Promise<Descriptor[]> {
    const tag = referrersTag(subject.digest);
    const entry = (await this.readIndex()).filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === tag).pop();
    if (!entry || entry.mediaType !== MEDIA_TYPE.OCI_INDEX) return [];
    const bytes = await this.fetchManifest(entry);
    return parseIndexManifests(bytes, `referrers tag ${tag}`).manifests.filter((d) => d.artifactType === SIGNATURE_ARTIFACT_TYPE);
  }

  public async fetchSignature(sigManifest: Descriptor): Promise<SignatureArtifact> {
    checkSignatureDescriptor(sigManifest);
    const bytes = await this.fetchManifest(sigManifest, LIMITS.SIGNATURE_MANIFEST_BYTES);
    const manifest = parseSignatureManifest(bytes, sigManifest.mediaType, { checkConfigMediaType: true });
    const env = manifest.envelope;
    const envelope = await this.readBlob(env.digest, LIMITS.ENVELOPE_BYTES, 'signature envelope');
    verifyContent(envelope, env);
    return { manifestDigest: sigManifest.digest, manifest, envelopeMediaType: env.mediaType, envelope };
  }

  // -------------------------------------------------------------------------------------------------------

  private async readIndex(): Promise<Descriptor[]> {
    if (!this.checkedLayout) {
      let layout: Record<string, any>;
      try {
        layout = parseJsonObject(await this.readFileLimited(path.join(this.dir, 'oci-layout'), 4096, 'oci-layout', true), 'oci-layout');
      } catch (e) {
        if (e instanceof VerificationFailedError && e.code === 'NOT_FOUND') {
          throw new ConfigurationError('INVALID_REFERENCE', `${this.dir} is not an OCI image layout (no oci-layout file)`);
        }
        throw e;
      }
      if (layout.imageLayoutVersion !== '1.0.0') {
        throw new ConfigurationError('INVALID_REFERENCE', `${this.dir}: unsupported imageLayoutVersion ${JSON.stringify(layout.imageLayoutVersion)}`);
      }
      this.checkedLayout = true;
    }
    const bytes = await this.readFileLimited(path.join(this.dir, 'index.json'), LIMITS.MANIFEST_BYTES, 'index.json', true);
    return parseIndexManifests(bytes, 'index.json').manifests;
  }

  private async readBlob(digest: string, maxBytes: number, what: string): Promise<Uint8Array> {
    const { algorithm, hex } = parseDigestOrFail(digest);
    return this.readFileLimited(path.join(this.dir, 'blobs', algorithm, hex), maxBytes, `${what} ${digest}`);
  }

  /** The layout root with every symlink resolved (once); files must resolve inside it. */
  private async realRoot(): Promise<string> {
    if (!this.rootReal) {
      try {
        this.rootReal = await fs.realpath(this.dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          throw new ConfigurationError('INVALID_REFERENCE', `${this.dir} is not an OCI image layout (the directory does not exist)`, { cause: e });
        }
        throw new ConfigurationError('INVALID_REFERENCE', `cannot resolve the OCI layout directory ${this.dir}: ${errnoText(e)}`, { cause: e });
      }
    }
    return this.rootReal;
  }

  /**
   * Reads a file of the layout with the engine's file reader (src/verifier/fs) without ever buffering more than
   * `maxBytes` (+1). Only regular files inside the layout are read, and nothing is opened that could block: the
   * path is resolved (realpath) and must stay inside the layout root; the reader then checks it is a regular file
   * (no FIFO, socket, device or directory) before opening it with O_NONBLOCK|O_NOFOLLOW, and that the opened
   * descriptor is the very file checked (same device and inode), so a path swapped between the check and the
   * open is refused too. `metadata` files (oci-layout, index.json) are the caller's input: problems there are
   * configuration errors.
   */
  private async readFileLimited(file: string, maxBytes: number, what: string, metadata = false): Promise<Uint8Array> {
    this.stats.requests++;
    this.throwIfAborted(what);
    const refuse = (why: string, cause?: unknown): VerifierError => {
      const message = `${what} in the OCI layout ${this.dir} is refused: ${why}`;
      return metadata
        ? new ConfigurationError('INVALID_REFERENCE', message, cause ? { cause } : undefined)
        : new VerificationFailedError('NOT_FOUND', message, cause ? { cause } : undefined);
    };
    const real = await this.resolveInside(file, what, refuse);
    const bytes = await readRegularFile(real, maxBytes, (why, cause, problem) => {
      if (problem === 'missing') return new VerificationFailedError('NOT_FOUND', `${what} not found in the OCI layout`, { cause });
      if (problem === 'io') return new VerificationInconclusiveError('NETWORK', `cannot read ${what}: ${errnoText(cause)}`, { cause });
      if (problem === 'too-large') return new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `${what}: ${why}`);
      return refuse(why, cause);
    }, { checkBeforeOpen: true, checkAborted: () => this.throwIfAborted(what) });
    return new Uint8Array(bytes);
  }

  /** `file` with every symlink resolved, when it stays inside the layout root. */
  private async resolveInside(file: string, what: string, refuse: (why: string, cause?: unknown) => VerifierError): Promise<string> {
    const root = await this.realRoot();
    let real: string;
    try {
      real = await fs.realpath(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new VerificationFailedError('NOT_FOUND', `${what} not found in the OCI layout`, { cause: e });
      if (code === 'ELOOP') throw refuse('a symbolic link loop', e);
      throw new VerificationInconclusiveError('NETWORK', `cannot read ${what}: ${errnoText(e)}`, { cause: e });
    }
    if (real !== root && !real.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) {
      throw refuse('it is a symbolic link to a file outside the layout directory');
    }
    return real;
  }

  private throwIfAborted(what: string): void {
    if (this.opts.signal?.aborted) {
      throw new VerificationInconclusiveError('TIMEOUT', `reading ${what} from the OCI layout was aborted (deadline reached)`);
    }
  }
}


/** `d` as a signature descriptor when its manifest `m` is a Notary signature of `subject`. */
function signatureOf(d: Descriptor, m: Record<string, any>, subject: Descriptor): Descriptor | undefined {
  if (d.mediaType !== MEDIA_TYPE.OCI_MANIFEST && d.mediaType !== MEDIA_TYPE.OCI_ARTIFACT_MANIFEST) return undefined;
  if (m.subject?.digest !== subject.digest) return undefined;
  const artifactType = typeof m.artifactType === 'string' ? m.artifactType : m.config?.mediaType;
  if (artifactType !== SIGNATURE_ARTIFACT_TYPE) return undefined;
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    artifactType,
    ...(m.annotations && typeof m.annotations === 'object' ? { annotations: m.annotations } : {}),
  };
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code ?? (e instanceof Error ? e.message : String(e));
}

function parseDigestOrFail(d: string): { algorithm: string; hex: string } {
  try {
    return parseDigest(d);
  } catch (e) {
    throw new VerificationFailedError('INVALID_MANIFEST', `invalid digest ${JSON.stringify(d)}`, { cause: e });
  }
}

function manifestMediaType(bytes: Uint8Array, listed: string | undefined): string {
  if (listed && MANIFEST_MEDIA_TYPES.includes(listed)) return listed;
  // Strict JSON (no duplicate or case-variant keys): the media type is read as notation would.
  const inner: unknown = parseJsonObject(bytes, 'manifest').mediaType;
  if (typeof inner === 'string' && MANIFEST_MEDIA_TYPES.includes(inner)) return inner;
  throw new VerificationFailedError('INVALID_MANIFEST', `unsupported manifest media type ${JSON.stringify(listed ?? inner)}`);
}

function formatLayoutRef(scope: string, ref: ImageReference): string {
  if (ref.registry && ref.repository) return formatReference(ref);
  return `${scope}${ref.tag ? ':' + ref.tag : ''}${ref.digest ? '@' + ref.digest : ''}`;
}
