/**
 * OCI distribution client for one repository: resolve, fetch manifests/blobs (digest + size verified, size
 * limited), discover Notation signatures (referrers API with tag-schema fallback), with auth, retries and
 * timeouts. Plain HTTP only for explicitly listed loopback registries.
 */
import { ConfigurationError, VerificationFailedError, VerificationInconclusiveError, VerifierError, isVerifierError } from '../errors';
import { digestOf, formatReference, parseDigest, repositoryScope, verifyContent } from '../reference';
import { Descriptor, ImageReference, LIMITS, MEDIA_TYPE } from '../types';
import { CredentialProvider, RegistryCredentials, parseChallenge } from './auth';
import { HttpAgents, HttpResponse, TransportError, defaultAgents, header, httpRequest, transportToVerifierError } from './http';
import {
  ArtifactSource, MANIFEST_MEDIA_TYPES, RegistryLogger, ResolvedManifest, SIGNATURE_ARTIFACT_TYPE, SignatureArtifact,
  checkSignatureDescriptor, parseIndexManifests, parseSignatureManifest, referrersTag,
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
  /** Aborts everything (e.g. the Lambda's remaining time). */
  readonly signal?: AbortSignal;
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

interface Op {
  readonly signal: AbortSignal;
  readonly deadline: number;
  readonly cleanup: () => void;
}

export class RemoteRepository implements ArtifactSource {
  public readonly registry: string;
  public readonly repository: string;
  public readonly scope: string;
  public readonly stats = { requests: 0, retries: 0 };

  private readonly opts: RemoteRepositoryOptions;
  private readonly base: string;
  private readonly agents: HttpAgents;
  private readonly logger?: RegistryLogger;
  private readonly capability: ReferrersCapabilityCache;
  private readonly sleep: (ms: number) => Promise<void>;
  private credentials?: Promise<RegistryCredentials | undefined>;
  /** Current Authorization header value. */
  private authorization?: string;

  public constructor(target: { registry: string; repository: string }, options: RemoteRepositoryOptions = {}) {
    this.registry = target.registry;
    this.repository = target.repository;
    this.scope = repositoryScope({ registry: this.registry, repository: this.repository });
    this.opts = options;
    const plain = (options.plainHttpRegistries ?? []).map((h) => h.toLowerCase());
    for (const h of plain) {
      if (!isLoopbackHost(h)) {
        throw new ConfigurationError('INVALID_OPTIONS', `plain HTTP is only allowed for loopback registries, not ${JSON.stringify(h)}`);
      }
    }
    const usePlain = plain.includes(this.registry.toLowerCase()) && isLoopbackHost(this.registry);
    this.base = `${usePlain ? 'http' : 'https'}://${this.registry}`;
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
        let inner: unknown;
        try {
          inner = JSON.parse(bytes.toString('utf8'))?.mediaType;
        } catch {
          inner = undefined;
        }
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

  public async fetchManifest(desc: Descriptor, maxBytes: number = LIMITS.MANIFEST_BYTES): Promise<Uint8Array> {
    this.checkDeclaredSize(desc, maxBytes, 'manifest');
    return this.withOp(async (op) => {
      const res = await this.readingAtMost(desc, () => this.send(op, `/v2/${this.repository}/manifests/${desc.digest}`, {
        accept: desc.mediaType || ACCEPT_MANIFEST, maxBytes: desc.size, what: 'manifest',
      }));
      this.expectOk(res, `manifest ${desc.digest}`);
      verifyContent(res.body, desc);
      return new Uint8Array(res.body);
    });
  }

  public async fetchBlob(desc: Descriptor, maxBytes: number): Promise<Uint8Array> {
    this.checkDeclaredSize(desc, maxBytes, 'blob');
    return this.withOp(async (op) => {
      const res = await this.readingAtMost(desc, () => this.send(op, `/v2/${this.repository}/blobs/${desc.digest}`, {
        maxBytes: desc.size, what: 'blob', followRedirects: true,
      }));
      this.expectOk(res, `blob ${desc.digest}`);
      verifyContent(res.body, desc);
      return new Uint8Array(res.body);
    });
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
        const result = await this.referrersPage(path);
        if (result === 'unsupported') {
          if (page > 1) {
            throw new VerificationFailedError('INVALID_MANIFEST', `referrers API of ${this.registry} stopped answering mid-listing`);
          }
          useApi = false;
          this.capability.set(this.scope, Date.now() + (this.opts.referrersCapabilityTtlMs ?? 60 * 60 * 1000));
          this.logger?.debug?.(`referrers API not supported by ${this.registry}; using the tag schema`);
          break;
        }
        this.capability.delete(this.scope);
        for (const d of result.descriptors) {
          if (count >= max) return;
          if (emit(d)) yield d;
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
    if (res.status === 404) return;
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
    const bytes = await this.fetchManifest(sigManifest, LIMITS.SIGNATURE_MANIFEST_BYTES);
    const manifest = parseSignatureManifest(bytes, sigManifest.mediaType, {
      checkConfigMediaType: this.opts.checkSignatureConfigMediaType ?? false,
    });
    const envelope = await this.fetchBlob(manifest.envelope, LIMITS.ENVELOPE_BYTES);
    return { manifestDigest: sigManifest.digest, manifest, envelopeMediaType: manifest.envelope.mediaType, envelope };
  }

  // -------------------------------------------------------------------------------------------------------
  // internals
  // -------------------------------------------------------------------------------------------------------

  private async referrersPage(path: string): Promise<'unsupported' | { descriptors: Descriptor[]; next?: string }> {
    const res = await this.withOp((op) => this.send(op, path, {
      accept: MEDIA_TYPE.OCI_INDEX, maxBytes: LIMITS.MANIFEST_BYTES, what: 'referrers listing',
    }));
    if (res.status === 404) {
      if (ociErrorCodes(res.body).includes('NAME_UNKNOWN')) {
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

  private expectOk(res: HttpResponse, what: string): void {
    if (res.status === 200) return;
    if (res.status === 404) throw new VerificationFailedError('NOT_FOUND', `${what} not found in ${this.scope}`);
    if (res.status === 401 || res.status === 403) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${what}: access denied by ${this.registry} (HTTP ${res.status})`);
    }
    if (res.status === 429) throw new VerificationInconclusiveError('THROTTLED', `${what}: throttled by ${this.registry}`);
    if (res.status >= 500) throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${what}: ${this.registry} answered HTTP ${res.status}`);
    throw new VerificationFailedError('INVALID_MANIFEST', `${what}: unexpected HTTP ${res.status} from ${this.registry}`);
  }

  private async withOp<T>(fn: (op: Op) => Promise<T>): Promise<T> {
    const timeoutMs = this.opts.operationTimeoutMs ?? 30000;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    const outer = this.opts.signal;
    const onOuter = () => ctl.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    if (outer?.aborted) ctl.abort();
    const op: Op = {
      signal: ctl.signal,
      deadline: Date.now() + timeoutMs,
      cleanup: () => {
        clearTimeout(timer);
        outer?.removeEventListener('abort', onOuter);
      },
    };
    try {
      return await fn(op);
    } finally {
      op.cleanup();
    }
  }

  /**
   * Sends one logical request with auth and retries. Returns the final response (any status after retries);
   * throws inconclusive errors for transport failures, and throws after retries for 429 / 5xx.
   */
  private async send(op: Op, path: string, o: SendOptions): Promise<HttpResponse> {
    const retry = this.opts.retry ?? {};
    const maxAttempts = Math.max(1, retry.maxAttempts ?? 3);
    const baseDelay = retry.baseDelayMs ?? 200;
    const maxDelay = retry.maxDelayMs ?? 2000;
    const maxRetryAfter = retry.maxRetryAfterMs ?? 5000;
    let authRetried = false;
    let lastError: VerifierError | undefined;
    for (let attempt = 1; ; attempt++) {
      let res: HttpResponse | undefined;
      let retryAfterMs: number | undefined;
      try {
        res = await this.exchange(op, path, o);
        if (res.status === 401 && !authRetried) {
          authRetried = true;
          if (await this.authenticate(op, res)) {
            attempt--; // the auth round-trip is not a retry
            continue;
          }
        }
        if (res.status === 429) {
          lastError = new VerificationInconclusiveError('THROTTLED', `${o.what}: throttled by ${this.registry} (HTTP 429)`);
          retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'), Date.now());
        } else if (res.status >= 500 && res.status !== 501 && res.status !== 505) {
          lastError = new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${o.what}: ${this.registry} answered HTTP ${res.status}`);
        } else {
          return res;
        }
      } catch (e) {
        if (e instanceof TransportError) {
          if (e.kind === 'aborted') {
            throw new VerificationInconclusiveError('TIMEOUT',
              `${o.what}: operation on ${this.registry} did not finish within ${this.opts.operationTimeoutMs ?? 30000} ms`, { cause: e });
          }
          lastError = transportToVerifierError(e);
        } else if (isVerifierError(e)) {
          throw e;
        } else {
          throw new VerificationInconclusiveError('NETWORK', `${o.what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      }
      if (attempt >= maxAttempts) throw lastError!;
      let delay = Math.random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
      if (retryAfterMs !== undefined) delay = Math.min(Math.max(delay, retryAfterMs), maxRetryAfter);
      if (Date.now() + delay >= op.deadline) throw lastError!;
      this.stats.retries++;
      this.logger?.debug?.(`retrying ${o.what} on ${this.registry} in ${Math.round(delay)} ms: ${lastError!.message}`);
      await this.sleepOrAbort(delay, op.signal);
      if (op.signal.aborted) throw lastError!;
    }
  }

  private async sleepOrAbort(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    await Promise.race([
      this.sleep(ms),
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    ]);
  }

  /** One HTTP exchange (following redirects for blobs, without credentials off-origin). */
  private async exchange(op: Op, path: string, o: SendOptions): Promise<HttpResponse> {
    let url = new URL(this.base + path);
    for (let hop = 0; hop <= 5; hop++) {
      const sameOrigin = url.origin === new URL(this.base).origin;
      const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'cdk-signed-images-verifier' };
      if (o.accept) headers.Accept = o.accept;
      if (sameOrigin && this.authorization) headers.Authorization = this.authorization;
      this.stats.requests++;
      const res = await httpRequest(url, {
        headers, maxBytes: o.maxBytes, what: o.what, timeoutMs: this.opts.requestTimeoutMs ?? 10000, signal: op.signal, agents: this.agents,
      });
      if (o.followRedirects && [301, 302, 303, 307, 308].includes(res.status)) {
        const loc = header(res.headers, 'location');
        if (!loc) return res;
        const next = new URL(loc, url);
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && this.base.startsWith('http:') && isLoopbackHost(next.host))) {
          throw new VerificationFailedError('INVALID_MANIFEST', `refusing redirect to ${next.protocol}//${next.host}`);
        }
        url = next;
        continue;
      }
      return res;
    }
    throw new VerificationInconclusiveError('NETWORK', `${o.what}: too many redirects from ${this.registry}`);
  }

  private getCredentials(): Promise<RegistryCredentials | undefined> {
    if (!this.credentials) {
      const p = this.opts.credentials ? this.opts.credentials(this.registry) : Promise.resolve(undefined);
      this.credentials = p;
      p.catch(() => {
        if (this.credentials === p) this.credentials = undefined;
      });
    }
    return this.credentials;
  }

  /** Handles a 401 challenge; returns true when a new Authorization header was obtained. */
  private async authenticate(op: Op, res: HttpResponse): Promise<boolean> {
    const ch = parseChallenge(header(res.headers, 'www-authenticate'));
    if (!ch) return false;
    const creds = await this.getCredentials();
    if (ch.scheme === 'basic') {
      if (!creds || creds.username === undefined) {
        throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry} requires basic authentication and no credentials are configured`);
      }
      const next = 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
      if (next === this.authorization) return false;
      this.authorization = next;
      return true;
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
    const scopes = new Set<string>([`repository:${this.repository}:pull`]);
    if (ch.params.scope) for (const s of ch.params.scope.split(' ')) if (s) scopes.add(s);
    const service = ch.params.service;
    let tokenRes: HttpResponse;
    const common = { maxBytes: 1024 * 1024, what: 'auth token', timeoutMs: this.opts.requestTimeoutMs ?? 10000, signal: op.signal, agents: this.agents };
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
      if (e instanceof TransportError) throw transportToVerifierError(e);
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
    if (typeof token !== 'string' || token.length === 0) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${this.registry}: token response without a token`);
    }
    this.authorization = `Bearer ${token}`;
    return true;
  }
}
