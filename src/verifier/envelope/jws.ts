/**
 * JWS envelope (`application/jose+json`), flattened JSON serialization only
 * (notary-verification.md §5.1; notation-core-go `signature/jws`, golang-jwt v4 parser semantics).
 */
import { KeyObject } from 'crypto';
import { VerificationFailedError } from '../errors';
import { parseStrictJson, StrictJsonReason } from '../json';
import { ExtendedAttribute, SigningScheme } from '../types';
import {
  ALGORITHMS,
  AlgorithmName,
  Base64Error,
  cryptoVerifySignature,
  decodeRawBase64Url,
  EnvelopeContent,
  extractPluginHeaders,
  goBase64Decode,
  HEADER_AUTHENTIC_SIGNING_TIME,
  HEADER_EXPIRY,
  HEADER_SIGNING_AGENT,
  HEADER_SIGNING_SCHEME,
  HEADER_SIGNING_TIME,
  HEADER_TIMESTAMP_SIGNATURE,
  integrityError,
  invalidEnvelope,
  invalidSignature,
  isAlgorithmName,
  keyKind,
  parseRfc3339,
  requiredCriticalHeaders,
} from './common';

/** Methods golang-jwt knows (so notation reports "signing method X is invalid" rather than "unavailable"). */
const JWT_KNOWN_METHODS = new Set([
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'none',
]);

/** Header keys with a fixed meaning; every other protected-header key is an extended attribute. */
const SYSTEM_HEADER_KEYS = new Set([
  'alg', 'cty', 'crit', HEADER_EXPIRY, HEADER_SIGNING_TIME, HEADER_SIGNING_SCHEME, HEADER_AUTHENTIC_SIGNING_TIME,
]);

/** The outer structure of a flattened JWS JSON envelope. */
export interface DecodedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
  /** `x5c`, DER, leaf first. */
  readonly certificateChain: Uint8Array[];
  readonly signingAgent?: string;
  readonly timestampToken?: Uint8Array;
}

function parseError(detail: string, cause?: unknown): never {
  throw invalidEnvelope(`unable to parse the digital signature, error : ${detail}`, cause);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stdBase64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string') parseError(`${what} must be a base64 string`);
  try {
    return goBase64Decode(s, 'std');
  } catch (e) {
    if (e instanceof Base64Error) parseError(e.message, e);
    throw e;
  }
}

/** Parses the outer JSON (no cryptography). Compact and general serializations are rejected. */
export function decodeJws(bytes: Uint8Array): DecodedJws {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (e) {
    return parseError('envelope is not valid UTF-8', e);
  }
  if (/^\s*[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\s*$/.test(text)) {
    parseError('JWS compact serialization is not supported, only flattened JSON serialization');
  }
  // Strict: duplicate or case-variant keys ("payload" and "Payload") are rejected, since Go's decoder
  // matches struct fields case-insensitively and keeps the last one (src/verifier/json).
  const doc = parseStrictJson(text, (message, _reason, cause) => invalidEnvelope(`unable to parse the digital signature, error : ${message}`, cause));
  if (!isPlainObject(doc)) return parseError('JWS envelope must be a JSON object');
  if ('signatures' in doc) parseError('JWS general JSON serialization is not supported, only flattened JSON serialization');
  for (const k of ['payload', 'protected', 'signature'] as const) {
    if (typeof doc[k] !== 'string') parseError(`JWS envelope member "${k}" is missing or not a string`);
  }
  const header = doc.header ?? {};
  if (!isPlainObject(header)) return parseError('JWS unprotected "header" must be a JSON object');

  const certificateChain: Uint8Array[] = [];
  const x5c = header.x5c;
  if (x5c !== undefined && x5c !== null) {
    if (!Array.isArray(x5c)) parseError('"x5c" must be an array of base64 strings');
    x5c.forEach((c, i) => certificateChain.push(stdBase64(c, `x5c[${i}]`)));
  }
  let signingAgent: string | undefined;
  if (header[HEADER_SIGNING_AGENT] !== undefined && header[HEADER_SIGNING_AGENT] !== null) {
    if (typeof header[HEADER_SIGNING_AGENT] !== 'string') parseError(`"${HEADER_SIGNING_AGENT}" must be a string`);
    signingAgent = header[HEADER_SIGNING_AGENT] as string;
  }
  let timestampToken: Uint8Array | undefined;
  const ts = header[HEADER_TIMESTAMP_SIGNATURE];
  if (ts !== undefined && ts !== null) {
    timestampToken = stdBase64(ts, `"${HEADER_TIMESTAMP_SIGNATURE}"`);
    if (timestampToken.length === 0) timestampToken = undefined;
  }
  return {
    protected: doc.protected as string,
    payload: doc.payload as string,
    signature: doc.signature as string,
    certificateChain,
    signingAgent,
    timestampToken,
  };
}

function jwtSegment(s: string): Uint8Array {
  try {
    return decodeRawBase64Url(s);
  } catch (e) {
    if (e instanceof Base64Error) throw integrityError(e.message, e);
    throw e;
  }
}

/**
 * Syntax errors keep golang-jwt's integrity-error wording; what Go would have decoded but this engine
 * refuses (duplicate or case-variant keys, invalid UTF-8, lone surrogates) is an INVALID_ENVELOPE.
 */
function jwtJsonError(what: string): (message: string, reason: StrictJsonReason, cause?: unknown) => VerificationFailedError {
  return (message, reason, cause) => (reason === 'syntax'
    ? integrityError(`could not JSON decode ${what}: ${message}`, cause)
    : invalidEnvelope(`jws envelope ${what} rejected: ${message}`, cause));
}

function jwtJsonObject(b: Uint8Array, what: string): Record<string, unknown> {
  const v = parseStrictJson(b, jwtJsonError(what));
  if (!isPlainObject(v)) throw integrityError(`could not JSON decode ${what}: not a JSON object`);
  return v;
}

/**
 * Verifies the JWS signature with the leaf public key like golang-jwt `Parser.Parse` with
 * `WithValidMethods([PS256..ES512])`: signing input = `protected + "." + payload` as stored,
 * RSA-PSS with any salt length, ECDSA raw r||s. Returns the verified algorithm.
 */
export function verifyJwsSignature(d: DecodedJws, key: KeyObject): AlgorithmName {
  const header = jwtJsonObject(jwtSegment(d.protected), 'header');
  jwtJsonObject(jwtSegment(d.payload), 'claims');
  const alg = header.alg;
  if (typeof alg !== 'string') throw integrityError('signing method (alg) is unspecified.');
  if (!JWT_KNOWN_METHODS.has(alg)) throw integrityError('signing method (alg) is unavailable.');
  if (!isAlgorithmName(alg)) throw integrityError(`signing method ${alg} is invalid`);
  const info = ALGORITHMS[alg];
  const sig = jwtSegment(d.signature);
  if (keyKind(key) !== info.kind) throw integrityError('key is invalid or of invalid type');
  const input = Buffer.from(`${d.protected}.${d.payload}`, 'ascii');
  if (!cryptoVerifySignature(info, key, input, sig, 'auto')) {
    throw integrityError(info.kind === 'rsa' ? 'crypto/rsa: verification error' : 'crypto/ecdsa: verification error');
  }
  return alg;
}

function headerError(detail: string): never {
  throw invalidEnvelope(`jws envelope protected header can't be decoded: ${detail}`);
}

function optString(h: Record<string, unknown>, key: string): string | undefined {
  const v = h[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') headerError(`"${key}" must be a string`);
  return v;
}

function optTime(h: Record<string, unknown>, key: string): Date | undefined {
  const v = optString(h, key);
  if (v === undefined) return undefined;
  const d = parseRfc3339(v);
  if (!d) headerError(`"${key}" is not an RFC 3339 time: ${JSON.stringify(v)}`);
  return d;
}

/** The protected header fields notation reads (`parseProtectedHeaders`). */
interface JwsHeader {
  readonly h: Record<string, unknown>;
  readonly alg: string;
  readonly contentType: string;
  readonly crit: string[];
  readonly expiry?: Date;
  readonly signingScheme: string;
  readonly signingTime?: Date;
  readonly authenticSigningTime?: Date;
  /** Keys other than the system headers, in document order. */
  readonly extended: string[];
}

function parseJwsHeader(d: DecodedJws): JwsHeader {
  let raw: Uint8Array;
  try {
    raw = decodeRawBase64Url(d.protected);
  } catch (e) {
    return headerError((e as Error).message);
  }
  const h = parseStrictJson(raw, (message, _reason, cause) => invalidEnvelope(`jws envelope protected header can't be decoded: ${message}`, cause));
  if (!isPlainObject(h)) return headerError('not a JSON object');
  const alg = optString(h, 'alg') ?? '';
  const contentType = optString(h, 'cty') ?? '';
  let crit: string[] = [];
  if (h.crit !== undefined && h.crit !== null) {
    if (!Array.isArray(h.crit) || h.crit.some((c) => typeof c !== 'string')) headerError('"crit" must be an array of strings');
    crit = h.crit as string[];
  }
  const expiry = optTime(h, HEADER_EXPIRY);
  const signingScheme = optString(h, HEADER_SIGNING_SCHEME) ?? '';
  const signingTime = optTime(h, HEADER_SIGNING_TIME);
  const authenticSigningTime = optTime(h, HEADER_AUTHENTIC_SIGNING_TIME);
  const extended = Object.keys(h).filter((k) => !SYSTEM_HEADER_KEYS.has(k));
  return { h, alg, contentType, crit, expiry, signingScheme, signingTime, authenticSigningTime, extended };
}

/** notation-core-go `validateProtectedHeaders`: the signing scheme and its time header. */
function validateJwsScheme(hd: JwsHeader): void {
  if (hd.signingScheme === 'notary.x509') {
    if (hd.authenticSigningTime) {
      throw invalidEnvelope(`"${HEADER_AUTHENTIC_SIGNING_TIME}" header must not be present for notary.x509 signing scheme`);
    }
  } else if (hd.signingScheme === 'notary.x509.signingAuthority') {
    if (hd.signingTime) {
      throw invalidEnvelope(`"${HEADER_SIGNING_TIME}" header must not be present for notary.x509.signingAuthority signing scheme`);
    }
    if (!hd.authenticSigningTime) {
      throw invalidEnvelope(`"${HEADER_AUTHENTIC_SIGNING_TIME}" header must be present for notary.x509.signingAuthority signing scheme`);
    }
  } else {
    throw invalidEnvelope(`unsupported SigningScheme: \`${hd.signingScheme}\``);
  }
}

/** notation-core-go `validateCriticalHeaders`: every required header critical, every critical header present. */
function validateJwsCritical(hd: JwsHeader): void {
  if (hd.crit.length === 0) throw invalidEnvelope('missing "crit" header');
  const mustBeCritical = requiredCriticalHeaders(hd.signingScheme, hd.expiry !== undefined);
  const pending = new Set(mustBeCritical);
  for (const c of hd.crit) {
    if (pending.has(c)) {
      pending.delete(c);
    } else if (!hd.extended.includes(c)) {
      throw invalidEnvelope(`"${c}" header is marked critical but not present`);
    }
  }
  if (pending.size) {
    throw invalidEnvelope(`these required headers are not marked as critical: [${mustBeCritical.filter((k) => pending.has(k)).join(' ')}]`);
  }
}

function decodePayloadAndSignature(d: DecodedJws): { payload: Uint8Array; signature: Uint8Array } {
  let payload: Uint8Array;
  try {
    payload = decodeRawBase64Url(d.payload);
  } catch (e) {
    throw invalidEnvelope(`payload error: ${(e as Error).message}`);
  }
  let signature: Uint8Array;
  try {
    signature = decodeRawBase64Url(d.signature);
  } catch (e) {
    throw invalidSignature((e as Error).message);
  }
  if (signature.length === 0) throw invalidSignature('signature missing in jws-json envelope');
  return { payload, signature };
}

/**
 * Validates the protected header (notation-core-go `parseProtectedHeaders`, `validateProtectedHeaders`,
 * `validateCriticalHeaders`, `populateProtectedHeaders`) and returns the envelope content.
 * Does not verify the signature.
 */
export function jwsContent(d: DecodedJws): EnvelopeContent {
  const hd = parseJwsHeader(d);
  validateJwsScheme(hd);
  validateJwsCritical(hd);
  const alg = hd.alg;
  if (!isAlgorithmName(alg)) throw invalidSignature(`signature algorithm "${alg}" is not supported`);
  const attrs: ExtendedAttribute[] = hd.extended.map((key) => ({ key, value: hd.h[key], critical: hd.crit.includes(key) }));
  const plugin = extractPluginHeaders(attrs);
  const { payload, signature } = decodePayloadAndSignature(d);
  return {
    algorithm: alg,
    contentType: hd.contentType,
    signingScheme: hd.signingScheme as SigningScheme,
    signingTime: hd.signingScheme === 'notary.x509' ? hd.signingTime : undefined,
    authenticSigningTime: hd.signingScheme === 'notary.x509.signingAuthority' ? hd.authenticSigningTime : undefined,
    expiry: hd.expiry,
    extendedAttributes: plugin.rest,
    verificationPlugin: plugin.verificationPlugin,
    verificationPluginMinVersion: plugin.verificationPluginMinVersion,
    payload,
    signature,
    certificateChain: d.certificateChain,
    signingAgent: d.signingAgent,
    timestampToken: d.timestampToken,
  };
}
