/**
 * A minimal Kubernetes API client for the webhook-configuration custom resource: HTTPS requests to
 * the cluster endpoint that trust ONLY the cluster's certificate authority (never the system roots,
 * never an unverified server), with retries and backoff for what heals by itself (connection errors,
 * 401/403 while EKS access propagates, 429, 5xx).
 *
 * A request body is written only after the TLS handshake has proven the server holds a certificate
 * from that CA: node's `https` does not send application data before the handshake completes.
 */
import * as https from 'https';

/** Where and how to reach one cluster's API server. */
export interface KubeTarget {
  /** `https://<host>[:port]` (the EKS cluster endpoint). */
  readonly endpoint: string;
  /** PEM of the cluster CA (the only trust anchor). */
  readonly caPem: string;
  /** Returns a fresh bearer token per attempt (EKS tokens are short-lived). */
  readonly token: () => string;
}

export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

/** A request that failed below HTTP (connection, TLS, timeout). `retryable` is false for certificate failures. */
export class KubeConnectionError extends Error {
  public constructor(message: string, public readonly code: string, public readonly retryable: boolean) {
    super(message);
    this.name = 'KubeConnectionError';
  }
}

/** TLS verification failures: retrying does not help, and the server is not the cluster. */
const CERTIFICATE_ERRORS = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|ERR_SSL_|ERR_TLS_)/;

/** Largest response body kept (error bodies are logged, redacted, and truncated). */
const MAX_BODY = 64 * 1024;

/** Parses and checks an EKS endpoint: HTTPS, a host, nothing else. */
export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error('Endpoint is not a URL');
  }
  if (url.protocol !== 'https:' || !url.hostname || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new Error('Endpoint must be https://<host>[:port] without path, query or credentials');
  }
  return url;
}

/** One HTTPS request to the API server. Rejects with {@link KubeConnectionError} below HTTP. */
export function kubeRequest(target: KubeTarget, method: string, path: string,
  opts: { body?: string; contentType?: string; timeoutMs: number }): Promise<KubeResponse> {
  const url = parseEndpoint(target.endpoint);
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body, 'utf8');
  return new Promise<KubeResponse>((resolve, reject) => {
    const req = https.request({
      method,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : 443,
      path,
      // The cluster CA only; no agent reuse across clusters; hostname checked by node's default checkServerIdentity.
      ca: target.caPem,
      agent: false,
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      headers: {
        'accept': 'application/json',
        'authorization': `Bearer ${target.token()}`,
        'user-agent': 'cdk-signed-images-webhook-config',
        ...(body ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': String(body.length) } : {}),
      },
      timeout: opts.timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8') }));
      res.on('error', (e) => reject(new KubeConnectionError(`response error: ${e.message}`, (e as any).code ?? 'ERESPONSE', true)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'ECONNECTION';
      const certificate = CERTIFICATE_ERRORS.test(code);
      reject(new KubeConnectionError(certificate ? `TLS: the server did not prove the cluster CA (${code})` : `connection failed (${code})`, code, !certificate));
    });
    req.end(body);
  });
}

/** Retry schedule: exponential backoff from `baseMs`, capped at `maxDelayMs`, until `deadline` (epoch ms). */
export interface RetryPolicy {
  readonly deadline: number;
  readonly baseMs: number;
  readonly maxDelayMs: number;
  /** Per-attempt timeout cap. */
  readonly attemptTimeoutMs: number;
}

/** Statuses worth retrying: access not yet propagated (401/403), throttling, server errors. */
export function retryableStatus(status: number): boolean {
  return status === 401 || status === 403 || status === 429 || status >= 500;
}

export interface RetriedResponse extends KubeResponse {
  readonly attempts: number;
}

/**
 * Sends the request until it gets a non-retryable answer or the deadline passes. Resolves with the
 * last HTTP answer (which may be a retryable status when time ran out); rejects with the last
 * {@link KubeConnectionError} when no attempt got an HTTP answer, or at once for certificate errors.
 */
export async function kubeRequestWithRetries(target: KubeTarget, method: string, path: string, policy: RetryPolicy,
  opts: { body?: string; contentType?: string; onRetry?: (attempt: number, why: string, delayMs: number) => void } = {}): Promise<RetriedResponse> {
  let attempt = 0;
  for (;;) {
    attempt++;
    const left = policy.deadline - Date.now();
    let why: string;
    let lastResponse: KubeResponse | undefined;
    try {
      const res = await kubeRequest(target, method, path, { ...opts, timeoutMs: Math.max(1, Math.min(policy.attemptTimeoutMs, left)) });
      if (!retryableStatus(res.status)) return { ...res, attempts: attempt };
      lastResponse = res;
      why = `HTTP ${res.status}`;
    } catch (e) {
      if (!(e instanceof KubeConnectionError) || !e.retryable) throw e;
      why = e.message;
      if (policy.deadline - Date.now() <= 0) throw Object.assign(e, { attempts: attempt });
    }
    const delay = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (attempt - 1));
    if (Date.now() + delay >= policy.deadline) {
      if (lastResponse) return { ...lastResponse, attempts: attempt };
      throw new KubeConnectionError(`gave up after ${attempt} attempt(s): ${why}`, 'EGAVEUP', true);
    }
    opts.onRetry?.(attempt, why, delay);
    await new Promise((r) => setTimeout(r, delay));
  }
}
