/**
 * OCI distribution client for one repository: resolve, fetch manifests/blobs (digest + size verified, size
 * limited), discover Notation signatures (referrers API with tag-schema fallback), with auth, retries and
 * timeouts. Plain HTTP only for explicitly listed loopback registries.
 */
import { ConfigurationError, VerificationFailedError, VerificationInconclusiveError, VerifierError, isVerifierError } from '../errors';
import { canonicalRegistryHost, digestOf, formatReference, parseDigest, repositoryScope, verifyContent } from '../reference';
import { Descriptor, ImageReference, LIMITS, MEDIA_TYPE } from '../types';
import { linkSignals } from './abort';
import { CredentialProvider, RegistryCredentials, parseChallenge } from './auth';
import { AuthSession, AuthSessions, defaultAuthSessions } from './auth-session';
import { HttpAgents, HttpResponse, TransportError, defaultAgents, header, httpRequest, transportToVerifierError } from './http';
import {
  ArtifactSource, MANIFEST_MEDIA_TYPES, RegistryLogger, ResolvedManifest, SIGNATURE_ARTIFACT_TYPE, SignatureArtifact,
  checkSignatureDescriptor, parseIndexManifests, parseJsonObject, parseSignatureManifest, referrersTag,
} from './source';

export interface RetryOptions {
  /** Total attempts per request, including the first (default 3). */
  readonly maxAttempts?: number;
  /** Base of the exponential backoff (default 200 ms); full jitter. */
  readonly baseDelayMs?: number;
  /** Cap of one backoff delay (default 2000 ms). */
  readonly maxDelayMs?: number;
  /** Cap on a honoured Retry-After (default 5000 ms). */
  readonly maxRetryAfterMs?: number;
}

/** Shared memory of which repositories lack the referrers API (scope => expiry epoch ms). */
export type ReferrersCapabilityCache = Map<string, number>;

const globalReferrersCache: ReferrersCapabilityCache = new Map();

export interface RemoteRepositoryOptions {
  readonly credentials?: CredentialProvider;
  /** Registries (host[:port]) that may be reached over plain HTTP; each must be loopback. */
  readonly plainHttpRegistries?: readonly string[];
  /** Per-request timeout (default 10000 ms). */
  readonly requestTimeoutMs?: number;
  /** Deadline for one operation (resolve / listing page / fetchSignature), retries included (default 30000 ms). */
  readonly operationTimeoutMs?: number;
  /**
   * Aborts everything (the verification's deadline, or the caller giving up, e.g. the handler has answered):
   * in-flight requests stop and no new request is sent; the operation fails inconclusive TIMEOUT.
   */
  readonly signal?: AbortSignal;
  /**
   * Deadline (epoch ms) of the verification this repository serves: no operation runs past it, and a retry whose
   * backoff would end after it is not attempted (the last error is reported instead of a bare TIMEOUT).
   */
  readonly deadline?: number;
  readonly retry?: RetryOptions;
  readonly agents?: HttpAgents;
  readonly logger?: RegistryLogger;
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
  readonly userAgent?: string;
  /** Sleep function (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Where Authorization headers and logins in flight are shared, per (credential provider, registry origin,
   * repository). Default: process-wide, so concurrent verifications of one repository log in once.
   */
  readonly authSessions?: AuthSessions;
}

const ACCEPT_MANIFEST = MANIFEST_MEDIA_TYPES.join(', ');

/** True for 127.0.0.0/8, ::1 and localhost (with or without port). */
export function isLoopbackHost(hostPort: string): boolean {
  let host = hostPort;
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (v6) host = v6[1];
  else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  host = host.toLowerCase();
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

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

function parseRetryAfter(v: string | undefined, now: number): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

interface SendOptions {
  readonly accept?: string;
  readonly maxBytes: number;
  readonly what: string;
  readonly followRedirects?: boolean;
}

/** What a 404 for content named by a descriptor means: definitive, or registry inconsistency. */
type Missing = 'failed' | 'inconclusive';

interface Op {
  readonly signal: AbortSignal;
  readonly deadline: number;
  readonly cleanup: () => void;
}

export class RemoteRepository implements ArtifactSource {
  public readonly registry: string;
  public readonly repository: string;
  public readonly scope: string;
  public readonly stats = { requests: 0, retries: 0, logins: 0 };

  private readonly opts: RemoteRepositoryOptions;
  private readonly base: string;
  private readonly agents: HttpAgents;
  private readonly logger?: RegistryLogger;
  private readonly capability: ReferrersCapabilityCache;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Origin of the registry: the only origin that ever receives credentials or tokens, and whose 401s are answered. */
  private readonly origin: string;
  private readonly session: AuthSession;
  /**
   * Signature manifests the registry itself listed through the referrers API. A 404 for one of them (or its
   * envelope) is replication lag: inconclusive. Content named only by the client-written tag-schema index that is
   * missing is a failure: whoever can push could otherwise turn "unsigned" into "inconclusive".
   */
  private readonly listedByRegistry = new Set<string>();

  public constructor(target: { registry: string; repository: string }, options: RemoteRepositoryOptions = {}) {
    this.registry = target.registry;
    this.repository = target.repository;
    this.scope = repositoryScope({ registry: this.registry, repository: this.repository });
    this.opts = options;
    // Both sides in canonical form: a listed `LOCALHOST:5000` or `127.1:5000` names the same registry
    // as a reference spelled either way (the reference's host is canonical already).
    const canonical = (h: string): string => {
      try {
        return canonicalRegistryHost(h);
      } catch {
        return h.toLowerCase();
      }
    };
    const plain = (options.plainHttpRegistries ?? []).map(canonical);
    for (const h of plain) {
      if (!isLoopbackHost(h)) {
        throw new ConfigurationError('INVALID_OPTIONS', `plain HTTP is only allowed for loopback registries, not ${JSON.stringify(h)}`);
      }
    }
    const usePlain = plain.includes(canonical(this.registry)) && isLoopbackHost(canonical(this.registry));
    this.base = `${usePlain ? 'http' : 'https'}://${this.registry}`;
    this.origin = new URL(this.base).origin;
    this.session = (options.authSessions ?? defaultAuthSessions).get(options.credentials, this.origin, this.repository);
    this.agents = options.agents ?? defaultAgents();
    this.logger = options.logger;
    this.capability = options.referrersCapability ?? globalReferrersCache;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
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
    return this.withOp(async (op) => {
      const res = await this.send(op, `/v2/${this.repository}/manifests/${ref}`, {
        accept: ACCEPT_MANIFEST, maxBytes: LIMITS.MANIFEST_BYTES, what: 'manifest',
      });
      this.expectOk(res, `manifest ${formatReference(reference)}`);
      const bytes = res.body;
      let mediaType = mediaTypeOf(res);
      if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
        // fall back on the manifest's own mediaType field
        // Strict parse (src/verifier/json): "mediaType" next to "MediaType" is INVALID_MANIFEST, not a guess.
        const inner: unknown = parseJsonObject(bytes, `manifest ${formatReference(reference)}`).mediaType;
        if (typeof inner !== 'string' || !MANIFEST_MEDIA_TYPES.includes(inner)) {
          throw new VerificationFailedError('INVALID_MANIFEST',
            `${formatReference(reference)}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
        }
        mediaType = inner;
      }
      let digest: string;
      if (reference.digest) {
        verifyContent(bytes, { digest: reference.digest });
        digest = reference.digest;
      } else {
        digest = digestOf(bytes);
        const claimed = header(res.headers, 'docker-content-digest');
        if (claimed) {
          let alg: 'sha256' | 'sha384' | 'sha512' | undefined;
          try {
            alg = parseDigest(claimed).algorithm;
          } catch {
            alg = undefined;
          }
          if (!alg || digestOf(bytes, alg) !== claimed) {
            throw new VerificationFailedError('DIGEST_MISMATCH',
              `registry claims digest ${claimed} for ${formatReference(reference)} but the content hashes to ${digest}`);
          }
          digest = claimed;
        }
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
    return this.fetchManifestAs(desc, maxBytes, 'inconclusive');
  }

  public async fetchBlob(desc: Descriptor, maxBytes: number): Promise<Uint8Array> {
    return this.fetchBlobAs(desc, maxBytes, 'inconclusive');
  }

  public async *listSignatures(subject: Descriptor): AsyncIterable<Descriptor> {
    const max = this.opts.maxSignatures ?? 1000;
    const seen = new Set<string>();
    let count = 0;
    const emit = (d: Descriptor): boolean => {
      if (seen.has(d.digest)) return false;
      seen.add(d.digest);
      count++;
      return true;
    };
    const unsupportedUntil = this.capability.get(this.scope);
    let useApi = unsupportedUntil === undefined || unsupportedUntil <= Date.now();
    if (useApi) {
      const maxPages = this.opts.maxReferrersPages ?? 10;
      let path: string | undefined = `/v2/${this.repository}/referrers/${subject.digest}?artifactType=${encodeURIComponent(SIGNATURE_ARTIFACT_TYPE)}`;
      let page = 0;
      while (path) {
        if (page >= maxPages) {
          this.logger?.warn(`referrers listing of ${this.scope}@${subject.digest} has more than ${maxPages} pages; ignoring the rest`);
          break;
        }
        page++;
        const result = await this.referrersPage(path, page);
        if (result === 'unsupported') {
          if (page > 1) {
            // the API answered page 1: a 404 now says nothing about the signatures (registry trouble)
            throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `referrers API of ${this.registry} stopped answering mid-listing`);
          }
          useApi = false;
          this.capability.set(this.scope, Date.now() + (this.opts.referrersCapabilityTtlMs ?? 60 * 60 * 1000));
          this.logger?.debug?.(`referrers API not supported by ${this.registry}; using the tag schema`);
          break;
        }
        this.capability.delete(this.scope);
        for (const d of result.descriptors) {
          if (count >= max) return;
          if (emit(d)) {
            this.listedByRegistry.add(d.digest);
            yield d;
          }
        }
        path = result.next;
      }
      if (useApi) return;
    }
    // tag schema fallback
    const tag = referrersTag(subject.digest);
    const res = await this.withOp((op) => this.send(op, `/v2/${this.repository}/manifests/${tag}`, {
      accept: MEDIA_TYPE.OCI_INDEX, maxBytes: LIMITS.MANIFEST_BYTES, what: 'referrers tag index',
    }));
    if (res.status === 404) return; // no tag: no signatures (definitive)
    this.expectOk(res, `referrers tag ${tag}`);
    const mt = mediaTypeOf(res);
    if (mt !== MEDIA_TYPE.OCI_INDEX) {
      throw new VerificationFailedError('INVALID_MANIFEST', `referrers tag ${tag} is not an OCI image index (got ${JSON.stringify(mt)})`);
    }
    const { manifests } = parseIndexManifests(res.body, `referrers tag ${tag}`);
    for (const d of manifests) {
      if (d.artifactType !== SIGNATURE_ARTIFACT_TYPE) continue;
      if (count >= max) return;
      if (emit(d)) yield d;
    }
  }

  public async fetchSignature(sigManifest: Descriptor): Promise<SignatureArtifact> {
    checkSignatureDescriptor(sigManifest);
    // Listed by the registry's referrers API but missing now: replication lag, inconclusive. Named only by the
    // client-written tag-schema index (or by the caller): missing content is a failure (see listedByRegistry).
    const missing = this.listedByRegistry.has(sigManifest.digest) ? 'inconclusive' : 'failed';
    const bytes = await this.fetchManifestAs(sigManifest, LIMITS.SIGNATURE_MANIFEST_BYTES, missing);
    const manifest = parseSignatureManifest(bytes, sigManifest.mediaType, {
      checkConfigMediaType: this.opts.checkSignatureConfigMediaType ?? false,
    });
    const envelope = await this.fetchBlobAs(manifest.envelope, LIMITS.ENVELOPE_BYTES, missing);
    return { manifestDigest: sigManifest.digest, manifest, envelopeMediaType: manifest.envelope.mediaType, envelope };
  }

  // -------------------------------------------------------------------------------------------------------
  // internals
  // -------------------------------------------------------------------------------------------------------

  private async fetchManifestAs(desc: Descriptor, maxBytes: number, missing: Missing): Promise<Uint8Array> {
    this.checkDeclaredSize(desc, maxBytes, 'manifest');
    return this.withOp(async (op) => {
      const res = await this.readingAtMost(desc, () => this.send(op, `/v2/${this.repository}/manifests/${desc.digest}`, {
        accept: desc.mediaType || ACCEPT_MANIFEST, maxBytes: desc.size, what: 'manifest',
      }));
      this.expectOk(res, `manifest ${desc.digest}`, missing);
      verifyContent(res.body, desc);
      return new Uint8Array(res.body);
    });
  }

  private async fetchBlobAs(desc: Descriptor, maxBytes: number, missing: Missing): Promise<Uint8Array> {
    this.checkDeclaredSize(desc, maxBytes, 'blob');
    return this.withOp(async (op) => {
      const res = await this.readingAtMost(desc, () => this.send(op, `/v2/${this.repository}/blobs/${desc.digest}`, {
        maxBytes: desc.size, what: 'blob', followRedirects: true,
      }));
      this.expectOk(res, `blob ${desc.digest}`, missing);
      verifyContent(res.body, desc);
      return new Uint8Array(res.body);
    });
  }

  private async referrersPage(path: string, page: number): Promise<'unsupported' | { descriptors: Descriptor[]; next?: string }> {
    const res = await this.withOp((op) => this.send(op, path, {
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
    this.expectOk(res, 'referrers listing');
    if (mediaTypeOf(res) !== MEDIA_TYPE.OCI_INDEX) return 'unsupported';
    const { manifests, annotations } = parseIndexManifests(res.body, 'referrers listing');
    const applied = (header(res.headers, 'oci-filters-applied') ?? '')
      + ',' + (annotations['org.opencontainers.image.referrers.filtersApplied'] ?? '');
    const filtered = applied.split(',').map((s) => s.trim()).includes('artifactType');
    const descriptors = filtered ? manifests : manifests.filter((d) => d.artifactType === SIGNATURE_ARTIFACT_TYPE);
    let next = parseNextLink(header(res.headers, 'link'));
    if (next !== undefined) {
      const u = new URL(next, res.url);
      if (u.origin !== new URL(this.base).origin) {
        throw new VerificationFailedError('INVALID_MANIFEST', `referrers Link points to another host: ${u.origin}`);
      }
      next = u.pathname + u.search;
    }
    return { descriptors, next };
  }

  /** Runs a read capped at the descriptor size: more bytes than declared is a content mismatch. */
  private async readingAtMost(desc: Descriptor, fn: () => Promise<HttpResponse>): Promise<HttpResponse> {
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

  private checkDeclaredSize(desc: Descriptor, maxBytes: number, what: string): void {
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

  /**
   * Classifies a non-200 answer. Only answers that say something about the artifact are verdicts:
   *  - 404 for the subject manifest (image not there) or for content named only by the client-written tag-schema
   *    index: failed NOT_FOUND (`missing` = 'failed', the default); NAME_UNKNOWN of a referrers listing is
   *    handled by its caller (repository not there: failed);
   *  - 404 for content the registry itself listed or references (`missing` = 'inconclusive'): replication lag;
   *  - 401/403: inconclusive AUTHENTICATION; 408: TIMEOUT; 429: THROTTLED;
   *  - anything else (5xx, 3xx that was not followed, 400, 410, other 2xx...): inconclusive REGISTRY_UNAVAILABLE,
   *    because a status of the registry's API says nothing about the signature.
   */
  private expectOk(res: HttpResponse, what: string, missing: Missing = 'failed'): void {
    const status = res.status;
    if (status === 200) return;
    const from = res.url.origin === this.origin ? this.registry : `${res.url.host} (redirected from ${this.registry})`;
    if (status === 404) {
      if (missing === 'failed') {
        throw new VerificationFailedError('NOT_FOUND', `${what} not found in ${this.scope}`);
      }
      throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE',
        `${what} is referenced in ${this.scope} but ${from} answered HTTP 404 (replication lag?)`);
    }
    if (status === 401 || status === 403) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${what}: access denied by ${from} (HTTP ${status})`);
    }
    if (status === 408) throw new VerificationInconclusiveError('TIMEOUT', `${what}: ${from} answered HTTP 408`);
    if (status === 429) throw new VerificationInconclusiveError('THROTTLED', `${what}: throttled by ${from}`);
    throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${what}: unexpected HTTP ${status} from ${from}`);
  }

  private async withOp<T>(fn: (op: Op) => Promise<T>): Promise<T> {
    const timeoutMs = this.opts.operationTimeoutMs ?? 30000;
    const deadline = Math.min(Date.now() + timeoutMs, this.opts.deadline ?? Number.POSITIVE_INFINITY);
    const linked = linkSignals([this.opts.signal], deadline);
    const op: Op = { signal: linked.signal, deadline, cleanup: linked.dispose };
    try {
      return await fn(op);
    } finally {
      op.cleanup();
    }
  }

  /** The inconclusive TIMEOUT of an aborted operation, saying which limit ended it. */
  private timeoutError(what: string, cause?: unknown): VerificationInconclusiveError {
    const message = this.opts.signal?.aborted || (this.opts.deadline !== undefined && Date.now() >= this.opts.deadline)
      ? `${what}: stopped, the verification was aborted or reached its deadline`
      : `${what}: operation on ${this.registry} did not finish within ${this.opts.operationTimeoutMs ?? 30000} ms`;
    return new VerificationInconclusiveError('TIMEOUT', message, { cause });
  }

  /**
   * Sends one logical request with auth and retries. Returns the final response (any status after retries);
   * throws inconclusive errors for transport failures, and throws after retries for 408 / 429 / 5xx.
   *
   * Authentication: only a 401 from the registry's own origin is answered. The request's Authorization header (as
   * sent) goes to the shared session, which returns a newer header another request already obtained or the result
   * of the single login in flight; the request is then retried with it (at most twice). A 401 from any other
   * origin (a blob redirect target) is never answered with credentials and its challenge is not followed: the
   * request ends inconclusive AUTHENTICATION (the content was never seen, so this says nothing about the
   * signature; a registry that redirects to storage demanding auth is misconfigured or the URL expired).
   */
  private async send(op: Op, path: string, o: SendOptions): Promise<HttpResponse> {
    const retry = this.opts.retry ?? {};
    const maxAttempts = Math.max(1, retry.maxAttempts ?? 3);
    const baseDelay = retry.baseDelayMs ?? 200;
    const maxDelay = retry.maxDelayMs ?? 2000;
    const maxRetryAfter = retry.maxRetryAfterMs ?? 5000;
    let authRounds = 0;
    let lastError: VerifierError | undefined;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse | undefined;
      let retryAfterMs: number | undefined;
      try {
        const sent = this.session.current;
        res = await this.exchange(op, path, o, sent);
        if (res.status === 401) {
          if (res.url.origin !== this.origin) {
            throw new VerificationInconclusiveError('AUTHENTICATION',
              `${o.what}: ${res.url.host}, where ${this.registry} redirected the request, demands authentication; `
              + 'registry credentials are only sent to the registry itself');
          }
          if (authRounds < 2) {
            authRounds++;
            const challenge = res;
            const next = await this.session.refresh(sent, (signal) => this.login(challenge, signal), op.signal,
              () => this.timeoutError(o.what));
            if (next !== undefined && next !== sent) {
              attempt--; // the auth round-trip is not a retry
              continue;
            }
          }
          return res;
        }
        if (res.status === 429) {
          lastError = new VerificationInconclusiveError('THROTTLED', `${o.what}: throttled by ${this.registry} (HTTP 429)`);
          retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'), Date.now());
        } else if (res.status === 408) {
          lastError = new VerificationInconclusiveError('TIMEOUT', `${o.what}: ${this.registry} answered HTTP 408`);
        } else if (res.status >= 500 && res.status !== 501 && res.status !== 505) {
          lastError = new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${o.what}: ${this.registry} answered HTTP ${res.status}`);
        } else {
          return res;
        }
      } catch (e) {
        if (e instanceof TransportError) {
          if (e.kind === 'aborted') throw this.timeoutError(o.what, e);
          lastError = transportToVerifierError(e);
        } else {
          // typed errors as they are; anything else is a bug, which the engine turns into failed INTERNAL (never
          // an inconclusive "network" error that inconclusiveAction ADMIT could admit)
          throw e;
        }
      }
      if (attempt >= maxAttempts) throw lastError!;
      let delay = Math.random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
      if (retryAfterMs !== undefined) delay = Math.min(Math.max(delay, retryAfterMs), maxRetryAfter);
      if (Date.now() + delay >= op.deadline) throw lastError!;
      this.stats.retries++;
      this.logger?.debug?.(`retrying ${o.what} on ${this.registry} in ${Math.round(delay)} ms: ${lastError!.message}`);
      await this.sleepOrAbort(delay, op.signal);
      if (op.signal.aborted) throw this.opts.signal?.aborted ? this.timeoutError(o.what) : lastError!;
    }
  }

  private async sleepOrAbort(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    let onAbort: () => void = () => undefined;
    await Promise.race([
      this.sleep(ms),
      new Promise<void>((resolve) => {
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    signal.removeEventListener('abort', onAbort);
  }

  /**
   * One HTTP exchange (following redirects for blobs). `authorization` is attached only to the registry's own
   * origin; a redirect elsewhere (another host, port or scheme, `localhost` vs `127.0.0.1`) gets no credentials.
   */
  private async exchange(op: Op, path: string, o: SendOptions, authorization: string | undefined): Promise<HttpResponse> {
    let url = new URL(this.base + path);
    for (let hop = 0; hop <= 5; hop++) {
      const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'cdk-signed-images-verifier' };
      if (o.accept) headers.Accept = o.accept;
      if (url.origin === this.origin && authorization) headers.Authorization = authorization;
      this.stats.requests++;
      const res = await httpRequest(url, {
        headers, maxBytes: o.maxBytes, what: o.what, timeoutMs: this.opts.requestTimeoutMs ?? 10000, signal: op.signal, agents: this.agents,
      });
      if (o.followRedirects && [301, 302, 303, 307, 308].includes(res.status)) {
        const loc = header(res.headers, 'location');
        if (!loc) return res;
        let next: URL;
        try {
          next = new URL(loc, url);
        } catch (e) {
          throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${o.what}: ${this.registry} redirected to an invalid URL`, { cause: e });
        }
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && this.base.startsWith('http:') && isLoopbackHost(next.host))) {
          throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${o.what}: refusing redirect to ${next.protocol}//${next.host}`);
        }
        if (next.username || next.password) {
          // Node would turn the user info into an Authorization header for that host
          throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${o.what}: refusing redirect to a URL with user info (${next.host})`);
        }
        url = next;
        continue;
      }
      return res;
    }
    throw new VerificationInconclusiveError('NETWORK', `${o.what}: too many redirects from ${this.registry}`);
  }

  private async credentialsFor(): Promise<RegistryCredentials | undefined> {
    if (!this.opts.credentials) return undefined;
    try {
      return await this.opts.credentials(this.registry);
    } catch (e) {
      if (isVerifierError(e)) throw e;
      throw new VerificationInconclusiveError('AUTHENTICATION',
        `credentials for ${this.registry} could not be obtained: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /**
   * Answers a 401 challenge of the registry's own origin (the caller checked it); returns the new Authorization
   * header, or undefined when the challenge cannot be answered. A token realm on another https host is legitimate
   * (it is named by the registry itself); the token obtained there is only ever sent to the registry origin.
   */
  private async login(res: HttpResponse, signal: AbortSignal): Promise<string | undefined> {
    const ch = parseChallenge(header(res.headers, 'www-authenticate'));
    if (!ch) return undefined;
    this.stats.logins++;
    const creds = await this.credentialsFor();
    if (ch.scheme === 'basic') {
      if (!creds || creds.username === undefined) {
        throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry} requires basic authentication and no credentials are configured`);
      }
      return 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
    }
    if (ch.scheme !== 'bearer') {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: unsupported authentication scheme ${JSON.stringify(ch.scheme)}`);
    }
    const realm = ch.params.realm;
    if (!realm) throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: bearer challenge without realm`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch (e) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: invalid token realm ${JSON.stringify(realm)}`, { cause: e });
    }
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && this.base.startsWith('http:') && isLoopbackHost(realmUrl.host))) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: refusing token realm ${realmUrl.protocol}//${realmUrl.host} (HTTPS required)`);
    }
    if (realmUrl.username || realmUrl.password) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: refusing token realm with user info (${realmUrl.host})`);
    }
    const scopes = new Set<string>([`repository:${this.repository}:pull`]);
    if (ch.params.scope) for (const s of ch.params.scope.split(' ')) if (s) scopes.add(s);
    const service = ch.params.service;
    let tokenRes: HttpResponse;
    const common = { maxBytes: 1024 * 1024, what: 'auth token', timeoutMs: this.opts.requestTimeoutMs ?? 10000, signal, agents: this.agents };
    try {
      this.stats.requests++;
      if (creds?.identityToken !== undefined) {
        const form = new URLSearchParams();
        form.set('grant_type', 'refresh_token');
        form.set('refresh_token', creds.identityToken);
        if (service) form.set('service', service);
        form.set('scope', [...scopes].join(' '));
        form.set('client_id', 'cdk-signed-images');
        tokenRes = await httpRequest(realmUrl, {
          ...common, method: 'POST', body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        });
      } else {
        const u = new URL(realmUrl);
        if (service) u.searchParams.set('service', service);
        for (const s of scopes) u.searchParams.append('scope', s);
        const headers: Record<string, string> = {};
        if (creds?.username !== undefined) headers.Authorization = 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
        tokenRes = await httpRequest(u, { ...common, headers });
      }
    } catch (e) {
      if (e instanceof TransportError) {
        if (e.kind === 'aborted') throw this.timeoutError('auth token', e);
        throw transportToVerifierError(e);
      }
      throw e;
    }
    if (tokenRes.status !== 200) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: token request failed with HTTP ${tokenRes.status}`);
    }
    let token: unknown;
    try {
      const j = JSON.parse(tokenRes.body.toString('utf8'));
      token = j.access_token ?? j.token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token.length === 0 || /[\r\n]/.test(token)) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: token response without a usable token`);
    }
    return `Bearer ${token}`;
  }
}
