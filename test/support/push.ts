/**
 * Push helpers for tests: small random OCI/Docker images, image indexes and Notation signature manifests,
 * either to a registry over the distribution API (docker-registry or startReferrersServer) or into an OCI
 * image layout directory.
 */
import { createHash, randomBytes } from 'crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { Descriptor, MEDIA_TYPE } from '../../src/verifier/types';

export const EMPTY_CONFIG = Buffer.from('{}');
export const EMPTY_CONFIG_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export function sha256Digest(b: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

/** Anything content can be pushed into. */
export interface ContentTarget {
  putBlob(bytes: Uint8Array): Promise<string>;
  /** Stores a manifest under its digest and, when given, a tag. Returns its digest. */
  putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<string>;
  /** A manifest by tag or digest, or undefined. */
  getManifest(ref: string): Promise<{ bytes: Buffer; mediaType: string } | undefined>;
}

// ---------------------------------------------------------------------------------------------------------
// Remote (distribution API)
// ---------------------------------------------------------------------------------------------------------

export interface RemoteTargetOptions {
  /** Value of the Authorization header for every request (e.g. `Basic ...`). */
  readonly authorization?: string;
}

/** A ContentTarget over the distribution API (`http://127.0.0.1:PORT`, repository name). */
export function remoteTarget(registryUrl: string, repo: string, opts: RemoteTargetOptions = {}): ContentTarget {
  const base = registryUrl.replace(/\/+$/, '');
  const auth: Record<string, string> = opts.authorization ? { Authorization: opts.authorization } : {};
  return {
    async putBlob(bytes) {
      const digest = sha256Digest(bytes);
      const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
      await post.arrayBuffer();
      if (post.status !== 202) throw new Error(`blob upload start failed: ${post.status}`);
      const loc = new URL(post.headers.get('location') ?? '', base + '/');
      loc.searchParams.set('digest', digest);
      const put = await fetch(loc, {
        method: 'PUT',
        headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) },
        body: bytes,
      });
      const text = await put.text();
      if (put.status !== 201) throw new Error(`blob upload failed: ${put.status} ${text}`);
      return digest;
    },
    async putManifest(bytes, mediaType, tag) {
      const digest = sha256Digest(bytes);
      const res = await fetch(`${base}/v2/${repo}/manifests/${tag ?? digest}`, {
        method: 'PUT', headers: { ...auth, 'Content-Type': mediaType }, body: bytes,
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`manifest push failed: ${res.status} ${text}`);
      return digest;
    },
    async getManifest(ref) {
      const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, {
        headers: {
          ...auth,
          Accept: [MEDIA_TYPE.OCI_MANIFEST, MEDIA_TYPE.OCI_INDEX, MEDIA_TYPE.DOCKER_MANIFEST, MEDIA_TYPE.DOCKER_MANIFEST_LIST].join(', '),
        },
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new Error(`manifest fetch failed: ${res.status}`);
      return { bytes, mediaType: (res.headers.get('content-type') ?? '').split(';')[0].trim() };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// OCI image layout
// ---------------------------------------------------------------------------------------------------------

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Array<Descriptor & { platform?: unknown }>;
}

/**
 * Creates an OCI image layout at `dir` (oci-layout + empty index.json), or copies `from` (an existing layout)
 * into `dir`. Returns a ContentTarget writing into it.
 */
export function writeOciLayout(dir: string, opts: { from?: string } = {}): ContentTarget {
  mkdirSync(dir, { recursive: true });
  if (opts.from) {
    cpSync(opts.from, dir, { recursive: true });
    chmodSync(path.join(dir, 'index.json'), 0o644);
  } else {
    writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.OCI_INDEX, manifests: [] }));
  }
  return layoutTarget(dir);
}

/** A ContentTarget writing into an existing OCI image layout directory. */
export function layoutTarget(dir: string): ContentTarget {
  const blobPath = (digest: string) => {
    const [alg, hex] = digest.split(':');
    return path.join(dir, 'blobs', alg, hex);
  };
  const writeBlob = (bytes: Uint8Array) => {
    const digest = sha256Digest(bytes);
    const p = blobPath(digest);
    mkdirSync(path.dirname(p), { recursive: true });
    if (!existsSync(p)) writeFileSync(p, bytes);
    return digest;
  };
  const readIndex = (): LayoutIndex => JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const writeIndex = (idx: LayoutIndex) => writeFileSync(path.join(dir, 'index.json'), JSON.stringify(idx, null, 2));
  return {
    async putBlob(bytes) {
      return writeBlob(bytes);
    },
    async putManifest(bytes, mediaType, tag) {
      const digest = writeBlob(bytes);
      const idx = readIndex();
      let artifactType: string | undefined;
      try {
        const parsed = JSON.parse(Buffer.from(bytes).toString());
        artifactType = parsed.artifactType;
      } catch {
        // not JSON: still stored
      }
      const desc: Descriptor = {
        mediaType,
        digest,
        size: bytes.length,
        ...(artifactType ? { artifactType } : {}),
        ...(tag ? { annotations: { 'org.opencontainers.image.ref.name': tag } } : {}),
      };
      if (tag) {
        // a tag moves: drop it from any other entry
        idx.manifests = idx.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] !== tag);
      } else if (idx.manifests.some((m) => m.digest === digest)) {
        return digest;
      }
      idx.manifests.push(desc);
      writeIndex(idx);
      return digest;
    },
    async getManifest(ref) {
      let digest = ref;
      if (!ref.includes(':')) {
        const hit = readIndex().manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
        if (!hit) return undefined;
        digest = hit.digest;
      }
      const p = blobPath(digest);
      if (!existsSync(p)) return undefined;
      const bytes = readFileSync(p);
      let mediaType = '';
      try {
        mediaType = JSON.parse(bytes.toString()).mediaType ?? '';
      } catch {
        // ignore
      }
      return { bytes, mediaType };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------------------

export interface PushImageOptions {
  /** Number of random layers (default 1). */
  readonly layers?: number;
  readonly tag?: string;
  /** `oci` (default) or `docker` media types. */
  readonly format?: 'oci' | 'docker';
  /** Push an image index of 2 platform manifests (linux/amd64, linux/arm64) instead; returns the index. */
  readonly index?: boolean;
  /** Extra manifest annotations. */
  readonly annotations?: Record<string, string>;
}

function toTarget(t: string | ContentTarget, repo?: string): ContentTarget {
  if (typeof t !== 'string') return t;
  if (repo === undefined) throw new Error('repository required');
  return remoteTarget(t, repo);
}

async function pushSingleImage(target: ContentTarget, opts: PushImageOptions, platform?: { architecture: string; os: string }, tag?: string): Promise<Descriptor> {
  const docker = opts.format === 'docker';
  const config = Buffer.from(JSON.stringify({
    architecture: platform?.architecture ?? 'amd64',
    os: platform?.os ?? 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
    config: {},
    nonce: randomBytes(8).toString('hex'),
  }));
  const configDigest = await target.putBlob(config);
  const layers: Descriptor[] = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    const layer = randomBytes(64 + i);
    layers.push({ mediaType: docker ? DOCKER_LAYER : OCI_LAYER, digest: await target.putBlob(layer), size: layer.length });
  }
  const mediaType = docker ? MEDIA_TYPE.DOCKER_MANIFEST : MEDIA_TYPE.OCI_MANIFEST;
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: configDigest, size: config.length },
    layers,
  };
  if (opts.annotations && !docker) manifest.annotations = opts.annotations;
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = await target.putManifest(bytes, mediaType, tag);
  return { mediaType, digest, size: bytes.length };
}

/**
 * Pushes a small random image (config + `layers` layers + manifest) and returns its manifest descriptor;
 * with `index: true`, pushes an image index over two platform manifests and returns the index descriptor.
 * `target` is a registry URL (then `repo` is required) or a ContentTarget (layout).
 */
export async function pushImage(target: string | ContentTarget, repo: string | undefined, opts: PushImageOptions = {}): Promise<Descriptor> {
  if (opts.index) return (await pushImageIndex(target, repo, opts)).index;
  return pushSingleImage(toTarget(target, repo), opts, undefined, opts.tag);
}

/** Pushes an image index over linux/amd64 + linux/arm64 manifests. */
export async function pushImageIndex(target: string | ContentTarget, repo: string | undefined, opts: PushImageOptions = {}): Promise<{ index: Descriptor; manifests: Descriptor[] }> {
  const t = toTarget(target, repo);
  const docker = opts.format === 'docker';
  const platforms = [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }];
  const manifests: Descriptor[] = [];
  for (const p of platforms) manifests.push(await pushSingleImage(t, opts, p));
  const mediaType = docker ? MEDIA_TYPE.DOCKER_MANIFEST_LIST : MEDIA_TYPE.OCI_INDEX;
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    manifests: manifests.map((m, i) => ({ ...m, platform: platforms[i] })),
  }));
  const digest = await t.putManifest(bytes, mediaType, opts.tag);
  return { index: { mediaType, digest, size: bytes.length }, manifests };
}

// ---------------------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------------------

export interface PushSignatureOptions {
  /** Legacy form: no artifactType, config mediaType application/vnd.cncf.notary.signature. */
  readonly legacy?: boolean;
  /** Also add the signature to the `sha256-<hex>` tag-schema index (default true, like --force-referrers-tag). */
  readonly tagSchema?: boolean;
  /** Put a `subject` field in the manifest (default true). */
  readonly subject?: boolean;
  readonly annotations?: Record<string, string>;
  /** Extra layers after the envelope (negative tests: "exactly one layer"). */
  readonly extraLayers?: ReadonlyArray<{ bytes: Uint8Array; mediaType: string }>;
  /** Push no layers at all (negative tests). */
  readonly noLayers?: boolean;
  /** Final hook to alter the manifest JSON before pushing (negative tests). */
  readonly mutate?: (manifest: Record<string, any>) => void;
}

/**
 * Builds the signature manifest bytes (notation's form) for an envelope blob descriptor.
 */
export function buildSignatureManifest(subject: Descriptor, envelope: Descriptor, opts: PushSignatureOptions = {}, extra: Descriptor[] = []): Buffer {
  const m: Record<string, any> = { schemaVersion: 2, mediaType: MEDIA_TYPE.OCI_MANIFEST };
  if (opts.legacy) {
    m.config = { mediaType: MEDIA_TYPE.NOTARY_SIGNATURE, digest: EMPTY_CONFIG_DIGEST, size: 2 };
  } else {
    m.artifactType = MEDIA_TYPE.NOTARY_SIGNATURE;
    m.config = { mediaType: MEDIA_TYPE.OCI_EMPTY, digest: EMPTY_CONFIG_DIGEST, size: 2 };
  }
  m.layers = opts.noLayers ? [] : [envelope, ...extra];
  if (opts.subject !== false) m.subject = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  m.annotations = { 'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d+Z$/, 'Z'), ...(opts.annotations ?? {}) };
  opts.mutate?.(m);
  return Buffer.from(JSON.stringify(m));
}

/**
 * Pushes a Notation signature for `subject`: the envelope blob, the empty config, the signature manifest
 * and (by default) an updated `sha256-<hex>` tag-schema index. Returns the signature manifest descriptor
 * (with artifactType, as a referrers listing would show it).
 */
export async function pushSignature(
  target: string | ContentTarget,
  repo: string | undefined,
  subject: Descriptor,
  envelope: Uint8Array,
  envelopeMediaType: string,
  opts: PushSignatureOptions = {},
): Promise<Descriptor> {
  const t = toTarget(target, repo);
  await t.putBlob(EMPTY_CONFIG);
  const envDesc: Descriptor = { mediaType: envelopeMediaType, digest: await t.putBlob(envelope), size: envelope.length };
  const extra: Descriptor[] = [];
  for (const l of opts.extraLayers ?? []) extra.push({ mediaType: l.mediaType, digest: await t.putBlob(l.bytes), size: l.bytes.length });
  const bytes = buildSignatureManifest(subject, envDesc, opts, extra);
  const digest = await t.putManifest(bytes, MEDIA_TYPE.OCI_MANIFEST);
  const parsed = JSON.parse(bytes.toString());
  const desc: Descriptor = {
    mediaType: MEDIA_TYPE.OCI_MANIFEST,
    digest,
    size: bytes.length,
    artifactType: parsed.artifactType ?? parsed.config?.mediaType,
    ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
  };
  if (opts.tagSchema !== false) await addToTagSchemaIndex(t, subject.digest, desc);
  return desc;
}

/** The tag-schema tag of a subject digest: `sha256-<hex>`. */
export function tagSchemaTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

/** Appends `desc` to the `<alg>-<hex>` referrers tag index (creating it when missing). */
export async function addToTagSchemaIndex(t: ContentTarget, subjectDigest: string, desc: Descriptor): Promise<Descriptor> {
  const tag = tagSchemaTag(subjectDigest);
  const existing = await t.getManifest(tag);
  const index = existing ? JSON.parse(existing.bytes.toString()) : { schemaVersion: 2, mediaType: MEDIA_TYPE.OCI_INDEX, manifests: [] };
  if (!index.manifests.some((m: Descriptor) => m.digest === desc.digest)) index.manifests.push(desc);
  const bytes = Buffer.from(JSON.stringify(index));
  const digest = await t.putManifest(bytes, MEDIA_TYPE.OCI_INDEX, tag);
  return { mediaType: MEDIA_TYPE.OCI_INDEX, digest, size: bytes.length };
}
