/**
 * The HTTP front of the EKS admission webhook: a Lambda function URL, whose event is the API Gateway
 * HTTP API payload format 2.0 (`version: "2.0"`, `rawPath`, `headers`, `requestContext.http.method`,
 * `body`, `isBase64Encoded`) and whose answer is `{ statusCode, headers, body }`.
 *
 * The Kubernetes API server cannot sign its calls, and a webhook URL may not carry a query string,
 * user info or a fragment: the webhook authenticates the API server by a random secret in the URL
 * PATH (`/<secret>/mutate`, `/<secret>/validate`). {@link checkPath} compares it in constant time
 * before anything else is read. Nothing here logs the path or the body.
 */
import { createHash, timingSafeEqual } from 'crypto';

/** Largest request body read (decoded bytes). AdmissionReview carries object and oldObject; etcd objects are at most ~1.5 MiB each. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Shortest secret the handler accepts from its configuration (characters). */
export const MIN_SECRET_LENGTH = 32;

/** The two endpoints of the webhook. */
export type WebhookEndpoint = 'mutate' | 'validate';

/** The function URL answer. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  /** The raw body (not decoded further), or `undefined` when the event had none. */
  readonly body?: string;
  readonly isBase64Encoded: boolean;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** Reads the parts of a payload-format-2.0 event the webhook uses. `{ error }` when it is not one. */
export function parseHttpEvent(event: unknown): HttpRequest | { error: string } {
  if (!event || typeof event !== 'object' || Array.isArray(event)) return { error: 'event is not a JSON object' };
  const e = event as Record<string, any>;
  const http = e.requestContext?.http;
  if (!http || typeof http !== 'object' || typeof http.method !== 'string') return { error: 'event has no requestContext.http.method (not a function URL event)' };
  const path = typeof e.rawPath === 'string' ? e.rawPath : typeof http.path === 'string' ? http.path : undefined;
  if (path === undefined) return { error: 'event has no rawPath' };
  const headers = e.headers && typeof e.headers === 'object' && !Array.isArray(e.headers) ? e.headers as Record<string, unknown> : {};
  const header = (name: string): string | undefined => {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name && typeof v === 'string') return v;
    return undefined;
  };
  if (e.body !== undefined && e.body !== null && typeof e.body !== 'string') return { error: 'event body is not a string' };
  return {
    method: http.method.toUpperCase(),
    path,
    contentType: header('content-type'),
    body: typeof e.body === 'string' ? e.body : undefined,
    isBase64Encoded: e.isBase64Encoded === true,
    sourceIp: typeof http.sourceIp === 'string' ? http.sourceIp : undefined,
    userAgent: typeof http.userAgent === 'string' ? http.userAgent.slice(0, 200) : undefined,
  };
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Checks `/<secret>/<endpoint>` against the expected secret. Constant time in the secret (both sides
 * are hashed to 32 bytes first, so neither length nor content leaks through timing). Returns the
 * endpoint, or `undefined` for anything else (wrong secret, other path, extra segments, trailing slash).
 */
export function checkPath(path: string, secret: string): WebhookEndpoint | undefined {
  const m = /^\/([^/]*)\/(mutate|validate)$/.exec(path);
  // Compare even when the shape is wrong, so a malformed path costs what a wrong secret costs.
  const presented = m ? m[1] : '';
  const ok = timingSafeEqual(sha256(presented), sha256(secret));
  return ok && m && secret.length >= MIN_SECRET_LENGTH ? m[2] as WebhookEndpoint : undefined;
}

/**
 * The body as text, bounded by {@link MAX_BODY_BYTES}. `{ error, status }` for no body, a body too
 * large, or invalid base64/UTF-8.
 */
export function readBody(req: HttpRequest): { text: string } | { error: string; status: number } {
  if (req.body === undefined || req.body.length === 0) return { error: 'the request has no body', status: 400 };
  // Cheap bound before decoding: base64 is 4/3 of the bytes, UTF-16 length ≤ UTF-8 bytes.
  if (req.body.length > Math.ceil(MAX_BODY_BYTES / 3) * 4 + 4) return { error: `the request body is larger than ${MAX_BODY_BYTES} bytes`, status: 413 };
  let bytes: Buffer;
  if (req.isBase64Encoded) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(req.body) || req.body.length % 4 !== 0) return { error: 'the request body is not valid base64', status: 400 };
    bytes = Buffer.from(req.body, 'base64');
  } else {
    bytes = Buffer.from(req.body, 'utf8');
  }
  if (bytes.length > MAX_BODY_BYTES) return { error: `the request body is larger than ${MAX_BODY_BYTES} bytes`, status: 413 };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: 'the request body is not valid UTF-8', status: 400 };
  }
  return { text };
}

/** A JSON answer. */
export function jsonResponse(statusCode: number, body: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
