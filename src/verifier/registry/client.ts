/**
 * The HTTP side of one repository of one registry, shared by every OCI operation (reads here, pushes in a push
 * module): the registry's origin and scheme (plain HTTP only for listed loopback registries), per-operation
 * deadlines, authentication (a 401 of the registry's own origin answered through the shared session), bounded
 * retries, redirects, and the classification of answers that are not the expected status.
 *
 * A push module reuses it as it is: `new RegistryClient(target, options, ['pull', 'push'])` (the token scope asks
 * for push; its session is apart from readers'), then within `withOp` `send(op, path, { method: 'PUT', body,
 * headers: { 'Content-Type': mediaType }, maxBytes, what })` and `expectOk(res, what, 'failed', [201, 202])`;
 * the Location of an upload session is `res.headers.location`, checked with `sameOrigin`.
 */
import { VerificationFailedError, VerificationInconclusiveError } from '../errors';
import { repositoryScope } from '../reference';
import { linkSignals } from './abort';
import { CredentialProvider, lookupCredentials } from './auth';
import { answerChallenge, parseChallenge, TokenRequest } from './auth-challenge';
import { AuthSession, AuthSessions, defaultAuthSessions } from './auth-session';
import { HttpAgents, HttpResponse, TransportError, defaultAgents, header, httpRequest, transportToVerifierError } from './http';
import { usesPlainHttp } from './loopback';
import { MAX_REDIRECTS, redirectTarget } from './redirect';
import { Attempt, RetryOptions, retryableAnswer, withRetries } from './retry';
import { RegistryLogger } from './source';

export interface RegistryClientOptions {
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
  readonly userAgent?: string;
  /** Sleep function (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Where Authorization headers and logins in flight are shared, per (credential provider, registry origin,
   * repository). Default: process-wide, so concurrent verifications of one repository log in once.
   */
  readonly authSessions?: AuthSessions;
}

/** One logical request of an operation. */
export interface RegistryRequest {
  /** Default GET. */
  readonly method?: string;
  readonly accept?: string;
  /** More headers (e.g. Content-Type of a push); Authorization and User-Agent are the client's. */
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  readonly maxBytes: number;
  /** What is requested, for messages. */
  readonly what: string;
  readonly followRedirects?: boolean;
}

/** What a 404 for content named by a descriptor means: definitive, or registry inconsistency. */
export type Missing = 'failed' | 'inconclusive';

/** One operation: its signal (caller + its own deadline) and that deadline. */
export interface Operation {
  readonly signal: AbortSignal;
  readonly deadline: number;
}

export class RegistryClient {
  public readonly registry: string;
  public readonly repository: string;
  /** `registry/repository` (the trust-policy scope). */
  public readonly scope: string;
  public readonly stats = { requests: 0, retries: 0, logins: 0 };
  /** Origin of the registry: the only origin that ever receives credentials or tokens, and whose 401s are answered. */
  public readonly origin: string;
  public readonly plainHttp: boolean;

  private readonly opts: RegistryClientOptions;
  private readonly base: string;
  private readonly agents: HttpAgents;
  private readonly session: AuthSession;
  private readonly sleep: (ms: number) => Promise<void>;

  /**
   * @param actions what the token scope asks for (default pull; a push module asks pull and push)
   * @throws ConfigurationError INVALID_OPTIONS when a plain-HTTP registry is not loopback
   */
  public constructor(
    target: { registry: string; repository: string }, options: RegistryClientOptions = {}, private readonly actions: readonly string[] = ['pull'],
  ) {
    this.registry = target.registry;
    this.repository = target.repository;
    this.scope = repositoryScope(target);
    this.opts = options;
    this.plainHttp = usesPlainHttp(this.registry, options.plainHttpRegistries);
    this.base = `${this.plainHttp ? 'http' : 'https'}://${this.registry}`;
    this.origin = new URL(this.base).origin;
    this.session = (options.authSessions ?? defaultAuthSessions).get(options.credentials, this.origin, this.repository, actions);
    this.agents = options.agents ?? defaultAgents();
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Runs one operation under its own deadline (operationTimeoutMs, capped by the verification's deadline). */
  public async withOp<T>(fn: (op: Operation) => Promise<T>): Promise<T> {
    const timeoutMs = this.opts.operationTimeoutMs ?? 30000;
    const deadline = Math.min(Date.now() + timeoutMs, this.opts.deadline ?? Number.POSITIVE_INFINITY);
    const linked = linkSignals([this.opts.signal], deadline);
    try {
      return await fn({ signal: linked.signal, deadline });
    } finally {
      linked.dispose();
    }
  }

  /** The inconclusive TIMEOUT of an aborted operation, saying which limit ended it. */
  public timeoutError(what: string, cause?: unknown): VerificationInconclusiveError {
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
   * of the single login in flight; the request is then retried with it (at most twice; an auth round-trip is not
   * a retry). A 401 from any other origin (a blob redirect target) is never answered with credentials and its
   * challenge is not followed: the request ends inconclusive AUTHENTICATION (the content was never seen, so this
   * says nothing about the signature; a registry that redirects to storage demanding auth is misconfigured or the
   * URL expired).
   */
  public async send(op: Operation, path: string, req: RegistryRequest): Promise<HttpResponse> {
    let authRounds = 0;
    const attempt = async (): Promise<Attempt<HttpResponse>> => {
      for (;;) {
        const sent = this.session.current;
        const res = await this.exchange(op, path, req, sent);
        if (res.status !== 401) return retryableAnswer(res, req.what, this.registry) ?? { done: res };
        if (res.url.origin !== this.origin) {
          throw new VerificationInconclusiveError('AUTHENTICATION',
            `${req.what}: ${res.url.host}, where ${this.registry} redirected the request, demands authentication; `
            + 'registry credentials are only sent to the registry itself');
        }
        if (authRounds >= 2) return { done: res };
        authRounds++;
        const next = await this.session.refresh(sent, (signal) => this.login(res, signal), op.signal, () => this.timeoutError(req.what));
        if (next === undefined || next === sent) return { done: res };
      }
    };
    return withRetries(attempt, {
      options: this.opts.retry,
      deadline: op.deadline,
      signal: op.signal,
      sleep: this.sleep,
      aborted: (cause) => this.timeoutError(req.what, cause),
      callerStopped: () => this.opts.signal?.aborted === true,
      onRetry: (delay, error) => {
        this.stats.retries++;
        this.opts.logger?.debug?.(`retrying ${req.what} on ${this.registry} in ${Math.round(delay)} ms: ${error.message}`);
      },
    });
  }

  /**
   * Classifies an answer that is not `ok`. Only answers that say something about the artifact are verdicts:
   *  - 404 for the subject manifest (image not there) or for content named only by the client-written tag-schema
   *    index: failed NOT_FOUND (`missing` = 'failed', the default); NAME_UNKNOWN of a referrers listing is
   *    handled by its caller (repository not there: failed);
   *  - 404 for content the registry itself listed or references (`missing` = 'inconclusive'): replication lag;
   *  - 401/403: inconclusive AUTHENTICATION; 408: TIMEOUT; 429: THROTTLED;
   *  - anything else (5xx, 3xx that was not followed, 400, 410, other 2xx...): inconclusive REGISTRY_UNAVAILABLE,
   *    because a status of the registry's API says nothing about the signature.
   */
  public expectOk(res: HttpResponse, what: string, missing: Missing = 'failed', ok: readonly number[] = [200]): void {
    const status = res.status;
    if (ok.includes(status)) return;
    const from = res.url.origin === this.origin ? this.registry : `${res.url.host} (redirected from ${this.registry})`;
    if (status === 404) {
      if (missing === 'failed') throw new VerificationFailedError('NOT_FOUND', `${what} not found in ${this.scope}`);
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

  /** `path` (or a Link the registry sent) resolved against the registry; undefined when it leaves the registry's origin. */
  public sameOrigin(link: string, base: URL): URL | undefined {
    const u = new URL(link, base);
    return u.origin === this.origin ? u : undefined;
  }

  /**
   * One HTTP exchange (following redirects when asked). `authorization` is attached only to the registry's own
   * origin; a redirect elsewhere (another host, port or scheme, `localhost` vs `127.0.0.1`) gets no credentials.
   */
  private async exchange(op: Operation, path: string, req: RegistryRequest, authorization: string | undefined): Promise<HttpResponse> {
    let url = new URL(this.base + path);
    // never a caller's Authorization: only the session's, and only to the registry's origin
    const ownHeaders = Object.fromEntries(Object.entries(req.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'authorization'));
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { ...ownHeaders, 'User-Agent': this.opts.userAgent ?? 'cdk-signed-images-verifier' };
      if (req.accept) headers.Accept = req.accept;
      if (url.origin === this.origin && authorization) headers.Authorization = authorization;
      this.stats.requests++;
      const res = await httpRequest(url, {
        method: req.method,
        headers,
        body: req.body,
        maxBytes: req.maxBytes,
        what: req.what,
        timeoutMs: this.opts.requestTimeoutMs ?? 10000,
        signal: op.signal,
        agents: this.agents,
      });
      const next = req.followRedirects ? redirectTarget(res, this.plainHttp, req.what, this.registry) : undefined;
      if (!next) return res;
      url = next;
    }
    throw new VerificationInconclusiveError('NETWORK', `${req.what}: too many redirects from ${this.registry}`);
  }

  /** Answers a 401 challenge of the registry's own origin (the caller checked it); undefined when there is none. */
  private async login(res: HttpResponse, signal: AbortSignal): Promise<string | undefined> {
    const challenge = parseChallenge(header(res.headers, 'www-authenticate'));
    if (!challenge) return undefined;
    this.stats.logins++;
    return answerChallenge(challenge, {
      registry: this.registry,
      repository: this.repository,
      actions: this.actions,
      registryIsPlainHttp: this.plainHttp,
      credentials: () => lookupCredentials(this.opts.credentials, this.registry),
      requestToken: (url, request) => this.requestToken(url, request, signal),
    });
  }

  private async requestToken(url: URL, request: TokenRequest, signal: AbortSignal): Promise<HttpResponse> {
    this.stats.requests++;
    try {
      return await httpRequest(url, {
        ...request, maxBytes: 1024 * 1024, what: 'auth token', timeoutMs: this.opts.requestTimeoutMs ?? 10000, signal, agents: this.agents,
      });
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      if (e.kind === 'aborted') throw this.timeoutError('auth token', e);
      throw transportToVerifierError(e);
    }
  }
}
