/**
 * How revocation data is fetched (over the engine's one HTTP client, `registry/http.ts`) and how the
 * problems met are classified: a transport failure (unreachable, timeout, non-200, OCSP tryLater) may
 * go away when asked again; an invalid or definitive answer will not.
 */
import { VerificationFailedError, VerificationInconclusiveError, VerifierError, isVerifierError } from '../errors';
import { TransportError, defaultAgents, httpRequest, transportToVerifierError } from '../registry/http';

export interface FetchResponse {
  readonly status: number;
  readonly body: Uint8Array;
}

export interface FetchRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  /** Milliseconds. */
  readonly timeoutMs: number;
  /** Maximum response size in bytes. */
  readonly maxBytes: number;
}

/** Injectable HTTP client. Must reject on network errors/timeouts. */
export type RevocationFetch = (url: string, req: FetchRequest) => Promise<FetchResponse>;

/** An invalid or definitive answer of an OCSP responder / CRL (not a transport failure). */
export function invalidAnswer(message: string): VerificationFailedError {
  return new VerificationFailedError('REVOCATION_UNKNOWN', message);
}

/** A transport-level failure: unreachable, non-200, or a responder asking to try later. */
export function unavailable(message: string): VerificationInconclusiveError {
  return new VerificationInconclusiveError('REVOCATION_UNKNOWN', message);
}

/**
 * Node refuses to send some requests synchronously (its `ERR_…` argument checks, e.g. a character it
 * will not put in a request line): the certificate's URL is unusable, which is not a transport failure.
 * Socket errors carry `E…` codes and HTTP parser errors `HPE_…` codes.
 */
function refusedByNode(e: TransportError): boolean {
  const code = (e.cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_');
}

/**
 * Default client: the engine's HTTP client (`registry/http.ts`: shared keep-alive agents, per-request
 * timeout, no redirects followed, a 200 body over `maxBytes` aborted early with SIZE_LIMIT_EXCEEDED, any
 * other body capped at 64 KiB); http URLs only.
 */
export const httpFetch: RevocationFetch = async (url, req) => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VerificationFailedError('REVOCATION_UNKNOWN', `invalid URL ${url}`);
  }
  if (u.protocol !== 'http:') throw new VerificationFailedError('REVOCATION_UNKNOWN', `unsupported protocol ${u.protocol.replace(/:$/, '')}`);
  try {
    const res = await httpRequest(u, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      timeoutMs: req.timeoutMs,
      maxBytes: req.maxBytes,
      what: `response from ${url}`,
      agents: defaultAgents(),
    });
    return { status: res.status, body: new Uint8Array(res.body) };
  } catch (e) {
    if (!(e instanceof TransportError)) throw e;
    if (refusedByNode(e)) throw new VerificationFailedError('REVOCATION_UNKNOWN', `invalid request to ${url}: ${e.message}`, { cause: e });
    throw transportToVerifierError(e);
  }
};

/** A socket/HTTP error as an inconclusive error (typed errors, e.g. our own timeout, pass through). */
function transportError(url: string, e: unknown): VerifierError {
  if (isVerifierError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new VerificationInconclusiveError('NETWORK', message || `request to ${url} failed`, { cause: e });
}

/**
 * Calls the (possibly injected) fetch. Its rejections are transport failures (its contract: reject on
 * network errors and timeouts) unless it rejects with a typed error, whose kind is kept.
 */
export async function fetchRevocationData(fetch: RevocationFetch, url: string, req: FetchRequest): Promise<FetchResponse> {
  try {
    return await fetch(url, req);
  } catch (e) {
    throw transportError(url, e);
  }
}

/** Per-server problems of one certificate and whether any was definitive (not a transport failure). */
export interface Problems {
  readonly errors: string[];
  definitive: boolean;
}

export function note(p: Problems, where: string, e: unknown): void {
  p.errors.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  if (!(e instanceof VerificationInconclusiveError)) p.definitive = true;
}
