/**
 * A small HTTP client over node:http / node:https with a connection-bounded keep-alive agent,
 * per-request timeouts and early-abort body size limits.
 */
import * as http from 'http';
import * as https from 'https';
import { VerificationFailedError, VerificationInconclusiveError } from '../errors';

export interface HttpAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  /** Closes idle sockets. */
  destroy(): void;
}

export interface BoundedAgentOptions {
  /** Maximum concurrent sockets per host (default 16). */
  readonly maxSocketsPerHost?: number;
  /** Maximum idle sockets kept per host (default = maxSocketsPerHost). */
  readonly maxFreeSockets?: number;
  /** Keep-alive (default true). */
  readonly keepAlive?: boolean;
  /** Idle socket timeout in ms (default 30000). */
  readonly idleTimeoutMs?: number;
}

/** A keep-alive agent pair whose sockets per host are bounded: extra requests queue instead of opening sockets. */
export function createBoundedAgents(opts: BoundedAgentOptions = {}): HttpAgents {
  const maxSockets = Math.max(1, opts.maxSocketsPerHost ?? 16);
  const common = {
    keepAlive: opts.keepAlive ?? true,
    maxSockets,
    maxTotalSockets: Math.max(maxSockets, 256),
    maxFreeSockets: opts.maxFreeSockets ?? maxSockets,
    timeout: opts.idleTimeoutMs ?? 30000,
    scheduling: 'lifo' as const,
  };
  const h = new http.Agent(common);
  const s = new https.Agent(common);
  return {
    http: h,
    https: s,
    destroy: () => {
      h.destroy();
      s.destroy();
    },
  };
}

let sharedAgents: HttpAgents | undefined;
/** Process-wide default agents (16 sockets per host). */
export function defaultAgents(): HttpAgents {
  if (!sharedAgents) sharedAgents = createBoundedAgents();
  return sharedAgents;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly url: URL;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
  /** Abort reading once the body exceeds this many bytes (SIZE_LIMIT_EXCEEDED). */
  readonly maxBytes?: number;
  /** What is being read (for messages). */
  readonly what?: string;
  /** Per-request timeout. */
  readonly timeoutMs: number;
  /** Aborts the request (operation deadline / caller). */
  readonly signal?: AbortSignal;
  readonly agents: HttpAgents;
}

/** Thrown for transport-level failures; classified by the caller. */
export class TransportError extends Error {
  public constructor(public readonly kind: 'timeout' | 'aborted' | 'network', message: string, options?: { cause?: unknown }) {
    super(message, options as any);
    this.name = 'TransportError';
  }
}

/** Headers may come as string arrays; take the first. */
export function header(h: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  if (Array.isArray(v)) return v[0];
  return v;
}

/**
 * One HTTP exchange. Resolves with the (size-limited) body for every status; rejects with TransportError on
 * network problems/timeouts and with VerificationFailedError SIZE_LIMIT_EXCEEDED when the body is too large.
 */
export function httpRequest(url: URL, opts: HttpRequestOptions): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const mod = isHttps ? https : http;
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let req: http.ClientRequest | undefined;
    const finish = (err: unknown, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = () => {
      finish(new TransportError('aborted', `request to ${url.host} aborted`));
      req?.destroy();
    };
    if (opts.signal?.aborted) {
      finish(new TransportError('aborted', `request to ${url.host} aborted`));
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      finish(new TransportError('timeout', `request to ${url.host}${url.pathname} timed out after ${opts.timeoutMs} ms`));
      req?.destroy();
    }, opts.timeoutMs);

    const body = opts.body === undefined ? undefined : Buffer.from(opts.body as any);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (body) headers['Content-Length'] = String(body.length);
    try {
      req = mod.request(url, {
        method: opts.method ?? 'GET',
        headers,
        agent: isHttps ? opts.agents.https : opts.agents.http,
      }, (res) => {
        const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
        const what = opts.what ?? 'response';
        const declared = Number(header(res.headers, 'content-length'));
        const status = res.statusCode ?? 0;
        // Only 200 bodies are content (every caller wants exactly 200); any other body is capped quietly and the
        // status is classified by the caller (a 204/206 with a long body is not "content too large").
        const limitErrors = status === 200;
        const cap = limitErrors ? max : Math.min(max, 64 * 1024);
        if (limitErrors && Number.isFinite(declared) && declared > max) {
          finish(new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `${what} size ${declared} exceeds the limit of ${max} bytes`));
          res.destroy();
          req?.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          total += c.length;
          if (total > cap) {
            if (limitErrors) {
              finish(new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `${what} exceeds the limit of ${max} bytes`));
              res.destroy();
              req?.destroy();
              return;
            }
            // error body: keep what we have and stop
            finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), url });
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          if (!res.complete) {
            finish(new TransportError('network', `connection to ${url.host} closed before the response was complete`));
            return;
          }
          finish(undefined, { status, headers: res.headers, body: Buffer.concat(chunks), url });
        });
        res.on('aborted', () => finish(new TransportError('network', `response from ${url.host} aborted`)));
        res.on('error', (e) => finish(new TransportError('network', `response from ${url.host} failed: ${e.message}`, { cause: e })));
        res.on('close', () => {
          if (!settled) finish(new TransportError('network', `connection to ${url.host} closed before the response was complete`));
        });
      });
    } catch (e) {
      finish(new TransportError('network', `request to ${url.host} failed: ${(e as Error).message}`, { cause: e }));
      return;
    }
    req.on('error', (e: NodeJS.ErrnoException) => {
      finish(new TransportError('network', `request to ${url.host} failed: ${e.code ?? e.message}`, { cause: e }));
    });
    req.end(body);
  });
}

/** Converts a TransportError into the engine's inconclusive error. */
export function transportToVerifierError(e: TransportError): VerificationInconclusiveError {
  if (e.kind === 'timeout' || e.kind === 'aborted') return new VerificationInconclusiveError('TIMEOUT', e.message, { cause: e });
  return new VerificationInconclusiveError('NETWORK', e.message, { cause: e });
}
