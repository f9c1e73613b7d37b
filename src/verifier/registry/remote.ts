/**
 * OCI distribution reads of one repository: resolve a reference, fetch manifests and blobs (digest and size
 * verified, size limited), discover Notation signatures (referrers API with tag-schema fallback). Everything HTTP
 * (origin and plain-HTTP rule, auth, retries, redirects, deadlines, status classification) is the RegistryClient's
 * (client.ts), which a push module reuses.
 */
import { ConfigurationError, VerificationFailedError, VerificationInconclusiveError } from '../errors';
import { digestOf, formatReference, parseDigest, verifyContent } from '../reference';
import { Descriptor, ImageReference, LIMITS, MEDIA_TYPE } from '../types';
import { Missing, RegistryClient, RegistryClientOptions } from './client';
import { header, HttpResponse } from './http';
import {
  ArtifactSource, MANIFEST_MEDIA_TYPES, RegistryLogger, ResolvedManifest, SIGNATURE_ARTIFACT_TYPE, SignatureArtifact,
  checkSignatureDescriptor, parseIndexManifests, parseJsonObject, parseSignatureManifest, referrersTag,
} from './source';

/** Shared memory of which repositories lack the referrers API (scope => expiry epoch ms). */
export type ReferrersCapabilityCache = Map<string, number>;

const globalReferrersCache: ReferrersCapabilityCache = new Map();

export interface RemoteRepositoryOptions extends RegistryClientOptions {
  /** Max referrers pages followed (default 10). */
  readonly maxReferrersPages?: number;
  /** Max signature descriptors listed (default 1000). */
  readonly maxSignatures?: number;
  /** Where "referrers API unsupported" is remembered (default: a process-wide map). */
  readonly referrersCapability?: ReferrersCapabilityCache;
  /** How long "unsupported" is remembered (default 1 h). */
  readonly referrersCapabilityTtlMs?: number;
  /** Enforce notation-go's config media type rule for signature manifests (default false: registries trust the listing). */
  readonly checkSignatureConfigMediaType?: boolean;
}

const ACCEPT_MANIFEST = MANIFEST_MEDIA_TYPES.join(', ');

function mediaTypeOf(h: HttpResponse): string {
  return (header(h.headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
}

function ociErrorCodes(body: Buffer): string[] {
  try {
    const j = JSON.parse(body.toString('utf8'));
    if (Array.isArray(j?.errors)) return j.errors.map((e: any) => String(e?.code ?? ''));
  } catch {
    // not JSON
  }
  return [];
}

/** Parses `Link: <url>; rel="next"`. */
export function parseNextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*(.*)$/.exec(part);
    if (!m) continue;
    if (/(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2])) return m[1];
  }
  return undefined;
}

export class RemoteRepository implements ArtifactSource {
  public readonly registry: string;
  public readonly repository: string;
  public readonly scope: string;
  /** Requests (HTTP exchanges, token requests included), retries and logins: the client's counters. */
  public readonly stats: RegistryClient['stats'];

  private readonly opts: RemoteRepositoryOptions;
  private readonly client: RegistryClient;
  private readonly logger?: RegistryLogger;
  private readonly capability: ReferrersCapabilityCache;
  /**
   * Signature manifests the registry itself listed through the referrers API. A 404 for one of them (or its
   * envelope) is replication lag: inconclusive. Content named only by the client-written tag-schema index that is
   * missing is a failure: whoever can push could otherwise turn "unsigned" into "inconclusive".
   */
  private readonly listedByRegistry = new Set<string>();

  /** @throws ConfigurationError INVALID_OPTIONS when a plain-HTTP registry is not loopback */
  public constructor(target: { registry: string; repository: string }, options: RemoteRepositoryOptions = {}) {
    this.client = new RegistryClient(target, options);
    this.registry = this.client.registry;
    this.repository = this.client.repository;
    this.scope = this.client.scope;
    this.stats = this.client.stats;
    this.opts = options;
    this.logger = options.logger;
    this.capability = options.referrersCapability ?? globalReferrersCache;
  }

  // -------------------------------------------------------------------------------------------------------
  // ArtifactSource
  // -------------------------------------------------------------------------------------------------------

  public async resolve(reference: ImageReference): Promise<ResolvedManifest> {
    if (reference.registry !== this.registry || reference.repository !== this.repository) {
      throw new ConfigurationError('INVALID_REFERENCE', `reference ${formatReference(reference)} is not in repository ${this.scope}`);
    }
    const ref = reference.digest ?? reference.tag;
    if (!ref) throw new ConfigurationError('INVALID_REFERENCE', `reference ${formatReference(reference)} has neither tag nor digest`);
    return this.client.withOp(async (op) => {
      const res = await this.client.send(op, `/v2/${this.repository}/manifests/${ref}`, {
        accept: ACCEPT_MANIFEST, maxBytes: LIMITS.MANIFEST_BYTES, what: 'manifest',
      });
      this.client.expectOk(res, `manifest ${formatReference(reference)}`);
      const bytes = res.body;
      const mediaType = resolvedMediaType(res, reference);
      let digest: string;
      if (reference.digest) {
        verifyContent(bytes, { digest: reference.digest });
        digest = reference.digest;
      } else {
        digest = claimedDigest(res, reference);
        this.logger?.warn(`Always verify the artifact using digest(@sha256:...) rather than a tag(:${reference.tag}) because resolved digest may not point to the same signed artifact, as tags are mutable.`);
      }
      return { descriptor: { mediaType, digest, size: bytes.length }, bytes: new Uint8Array(bytes) };
    });
  }

  /**
   * Fetches a manifest named by a descriptor of content the registry holds (a platform manifest of an index):
   * a 404 is a registry inconsistency (inconclusive), not a statement about signatures.
   */
  public async fetchManifest(desc: Descriptor, maxBytes: number = LIMITS.MANIFEST_BYTES): Promise<Uint8Array> {
    return this.fetchContent('manifest', desc, maxBytes, 'inconclusive');
  }

  public async fetchBlob(desc: Descriptor, maxBytes: number): Promise<Uint8Array> {
    return this.fetchContent('blob', desc, maxBytes, 'inconclusive');
  }

  public async *listSignatures(subject: Descriptor): AsyncIterable<Descriptor> {
    const max = this.opts.maxSignatures ?? 1000;
    const seen = new Set<string>();
    const fresh = (d: Descriptor): boolean => {
      if (seen.has(d.digest)) return false;
      seen.add(d.digest);
      return true;
    };
    // Pages are fetched as the caller reads on: a caller that stops early sends no more requests.
    const pages = this.referrerPages(subject);
    for (;;) {
      const page = await pages.next();
      if (page.done && page.value !== 'unsupported') return;
      if (page.done) break;
      for (const d of page.value) {
        if (seen.size >= max) return;
        if (fresh(d)) {
          this.listedByRegistry.add(d.digest);
          yield d;
        }
      }
    }
    for (const d of await this.listTagSchema(subject)) {
      if (seen.size >= max) return;
      if (fresh(d)) yield d;
    }
  }

  public async fetchSignature(sigManifest: Descriptor): Promise<SignatureArtifact> {
    checkSignatureDescriptor(sigManifest);
    // Listed by the registry's referrers API but missing now: replication lag, inconclusive. Named only by the
    // client-written tag-schema index (or by the caller): missing content is a failure (see listedByRegistry).
    const missing = this.listedByRegistry.has(sigManifest.digest) ? 'inconclusive' : 'failed';
    const bytes = await this.fetchContent('manifest', sigManifest, LIMITS.SIGNATURE_MANIFEST_BYTES, missing);
    const manifest = parseSignatureManifest(bytes, sigManifest.mediaType, {
      checkConfigMediaType: this.opts.checkSignatureConfigMediaType ?? false,
    });
    const envelope = await this.fetchContent('blob', manifest.envelope, LIMITS.ENVELOPE_BYTES, missing);
    return { manifestDigest: sigManifest.digest, manifest, envelopeMediaType: manifest.envelope.mediaType, envelope };
  }

  // -------------------------------------------------------------------------------------------------------
  // discovery
  // -------------------------------------------------------------------------------------------------------

  /**
   * Signature descriptors from the referrers API, one page per step (at most maxReferrersPages); returns
   * 'unsupported' when the registry has no referrers API (remembered per scope for referrersCapabilityTtlMs).
   */
  private async *referrerPages(subject: Descriptor): AsyncGenerator<Descriptor[], 'unsupported' | undefined> {
    const unsupportedUntil = this.capability.get(this.scope);
    if (unsupportedUntil !== undefined && unsupportedUntil > Date.now()) return 'unsupported';
    const maxPages = this.opts.maxReferrersPages ?? 10;
    let path: string | undefined = `/v2/${this.repository}/referrers/${subject.digest}?artifactType=${encodeURIComponent(SIGNATURE_ARTIFACT_TYPE)}`;
    for (let page = 1; path; page++) {
      if (page > maxPages) {
        this.logger?.warn(`referrers listing of ${this.scope}@${subject.digest} has more than ${maxPages} pages; ignoring the rest`);
        return undefined;
      }
      const result = await this.referrersPage(path, page);
      if (result === 'unsupported') {
        if (page > 1) {
          // the API answered page 1: a 404 now says nothing about the signatures (registry trouble)
          throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `referrers API of ${this.registry} stopped answering mid-listing`);
        }
        this.capability.set(this.scope, Date.now() + (this.opts.referrersCapabilityTtlMs ?? 60 * 60 * 1000));
        this.logger?.debug?.(`referrers API not supported by ${this.registry}; using the tag schema`);
        return 'unsupported';
      }
      this.capability.delete(this.scope);
      yield result.descriptors;
      path = result.next;
    }
    return undefined;
  }

  private async referrersPage(path: string, page: number): Promise<'unsupported' | { descriptors: Descriptor[]; next?: string }> {
    const res = await this.client.withOp((op) => this.client.send(op, path, {
      accept: MEDIA_TYPE.OCI_INDEX, maxBytes: LIMITS.MANIFEST_BYTES, what: 'referrers listing',
    }));
    if (res.status === 404) {
      if (ociErrorCodes(res.body).includes('NAME_UNKNOWN')) {
        // page 1: the repository is not there (definitive); later pages: it was there a moment ago (registry trouble)
        if (page > 1) throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `referrers API of ${this.registry} lost repository ${this.scope} mid-listing`);
        throw new VerificationFailedError('NOT_FOUND', `repository ${this.scope} not found: name unknown to registry`);
      }
      return 'unsupported';
    }
    this.client.expectOk(res, 'referrers listing');
    if (mediaTypeOf(res) !== MEDIA_TYPE.OCI_INDEX) return 'unsupported';
    const { manifests, annotations } = parseIndexManifests(res.body, 'referrers listing');
    const applied = (header(res.headers, 'oci-filters-applied') ?? '')
      + ',' + (annotations['org.opencontainers.image.referrers.filtersApplied'] ?? '');
    const filtered = applied.split(',').map((s) => s.trim()).includes('artifactType');
    const descriptors = filtered ? manifests : manifests.filter((d) => d.artifactType === SIGNATURE_ARTIFACT_TYPE);
    const link = parseNextLink(header(res.headers, 'link'));
    if (link === undefined) return { descriptors };
    const next = this.client.sameOrigin(link, res.url);
    if (!next) throw new VerificationFailedError('INVALID_MANIFEST', `referrers Link points to another host: ${new URL(link, res.url).origin}`);
    return { descriptors, next: next.pathname + next.search };
  }

  /** Signature descriptors of the tag-schema index `<alg>-<hex>`; none when the tag does not exist (definitive). */
  private async listTagSchema(subject: Descriptor): Promise<Descriptor[]> {
    const tag = referrersTag(subject.digest);
    const res = await this.client.withOp((op) => this.client.send(op, `/v2/${this.repository}/manifests/${tag}`, {
      accept: MEDIA_TYPE.OCI_INDEX, maxBytes: LIMITS.MANIFEST_BYTES, what: 'referrers tag index',
    }));
    if (res.status === 404) return [];
    this.client.expectOk(res, `referrers tag ${tag}`);
    const mt = mediaTypeOf(res);
    if (mt !== MEDIA_TYPE.OCI_INDEX) {
      throw new VerificationFailedError('INVALID_MANIFEST', `referrers tag ${tag} is not an OCI image index (got ${JSON.stringify(mt)})`);
    }
    return parseIndexManifests(res.body, `referrers tag ${tag}`).manifests.filter((d) => d.artifactType === SIGNATURE_ARTIFACT_TYPE);
  }

  // -------------------------------------------------------------------------------------------------------
  // content
  // -------------------------------------------------------------------------------------------------------

  /** Fetches a manifest or blob by descriptor: declared size checked first, read capped at it, digest verified. */
  private async fetchContent(kind: 'manifest' | 'blob', desc: Descriptor, maxBytes: number, missing: Missing): Promise<Uint8Array> {
    checkDeclaredSize(desc, maxBytes, kind);
    return this.client.withOp(async (op) => {
      const res = await readingAtMost(desc, () => this.client.send(op, `/v2/${this.repository}/${kind}s/${desc.digest}`, kind === 'manifest'
        ? { accept: desc.mediaType || ACCEPT_MANIFEST, maxBytes: desc.size, what: 'manifest' }
        : { maxBytes: desc.size, what: 'blob', followRedirects: true }));
      this.client.expectOk(res, `${kind} ${desc.digest}`, missing);
      verifyContent(res.body, desc);
      return new Uint8Array(res.body);
    });
  }
}

/** The media type of a resolved manifest: the Content-Type, or else the manifest's own strict-JSON mediaType. */
function resolvedMediaType(res: HttpResponse, reference: ImageReference): string {
  const mediaType = mediaTypeOf(res);
  if (MANIFEST_MEDIA_TYPES.includes(mediaType)) return mediaType;
  // Strict parse (src/verifier/json): "mediaType" next to "MediaType" is INVALID_MANIFEST, not a guess.
  const inner: unknown = parseJsonObject(res.body, `manifest ${formatReference(reference)}`).mediaType;
  if (typeof inner !== 'string' || !MANIFEST_MEDIA_TYPES.includes(inner)) {
    throw new VerificationFailedError('INVALID_MANIFEST',
      `${formatReference(reference)}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
  }
  return inner;
}

/** The digest of a manifest resolved by tag: its hash, which a Docker-Content-Digest claim must match. */
function claimedDigest(res: HttpResponse, reference: ImageReference): string {
  const digest = digestOf(res.body);
  const claimed = header(res.headers, 'docker-content-digest');
  if (!claimed) return digest;
  let alg: 'sha256' | 'sha384' | 'sha512' | undefined;
  try {
    alg = parseDigest(claimed).algorithm;
  } catch {
    alg = undefined;
  }
  if (!alg || digestOf(res.body, alg) !== claimed) {
    throw new VerificationFailedError('DIGEST_MISMATCH',
      `registry claims digest ${claimed} for ${formatReference(reference)} but the content hashes to ${digest}`);
  }
  return claimed;
}

/** Runs a read capped at the descriptor size: more bytes than declared is a content mismatch. */
async function readingAtMost(desc: Descriptor, fn: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof VerificationFailedError && e.code === 'SIZE_LIMIT_EXCEEDED') {
      throw new VerificationFailedError('DIGEST_MISMATCH',
        `content of ${desc.digest} is larger than its descriptor size ${desc.size}`, { cause: e });
    }
    throw e;
  }
}

function checkDeclaredSize(desc: Descriptor, maxBytes: number, what: string): void {
  if (typeof desc.size !== 'number' || !Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new VerificationFailedError('INVALID_MANIFEST', `${what} descriptor ${desc.digest} has an invalid size`);
  }
  if (desc.size > maxBytes) {
    throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `${what} ${desc.digest} size ${desc.size} exceeds the limit of ${maxBytes} bytes`);
  }
  try {
    parseDigest(desc.digest);
  } catch (e) {
    throw new VerificationFailedError('INVALID_MANIFEST', `${what} descriptor has an invalid digest ${JSON.stringify(desc.digest)}`, { cause: e });
  }
}
