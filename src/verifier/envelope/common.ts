/* eslint-disable no-bitwise */
/**
 * Helpers shared by the JWS and COSE envelope parsers: Go-compatible base64, RFC 3339 times,
 * the algorithm table (notary-verification.md §6) and signature verification with Node crypto.
 */
import { constants, KeyObject, verify as cryptoVerify } from 'crypto';
import { VerificationFailedError } from '../errors';
import { ExtendedAttribute, SigningScheme } from '../types';

export const PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
export const HEADER_SIGNING_SCHEME = 'io.cncf.notary.signingScheme';
export const HEADER_SIGNING_TIME = 'io.cncf.notary.signingTime';
export const HEADER_AUTHENTIC_SIGNING_TIME = 'io.cncf.notary.authenticSigningTime';
export const HEADER_EXPIRY = 'io.cncf.notary.expiry';
export const HEADER_VERIFICATION_PLUGIN = 'io.cncf.notary.verificationPlugin';
export const HEADER_VERIFICATION_PLUGIN_MIN_VERSION = 'io.cncf.notary.verificationPluginMinVersion';
export const HEADER_SIGNING_AGENT = 'io.cncf.notary.signingAgent';
export const HEADER_TIMESTAMP_SIGNATURE = 'io.cncf.notary.timestampSignature';

export const SIGNING_SCHEMES: readonly SigningScheme[] = ['notary.x509', 'notary.x509.signingAuthority'];

export type AlgorithmName = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

export interface AlgorithmInfo {
  readonly name: AlgorithmName;
  readonly kind: 'rsa' | 'ec';
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly hashLength: number;
  readonly coseId: number;
  /** ECDSA: byte length of r (and of s). */
  readonly ecComponentLength?: number;
}

export const ALGORITHMS: Readonly<Record<AlgorithmName, AlgorithmInfo>> = {
  PS256: { name: 'PS256', kind: 'rsa', hash: 'sha256', hashLength: 32, coseId: -37 },
  PS384: { name: 'PS384', kind: 'rsa', hash: 'sha384', hashLength: 48, coseId: -38 },
  PS512: { name: 'PS512', kind: 'rsa', hash: 'sha512', hashLength: 64, coseId: -39 },
  ES256: { name: 'ES256', kind: 'ec', hash: 'sha256', hashLength: 32, coseId: -7, ecComponentLength: 32 },
  ES384: { name: 'ES384', kind: 'ec', hash: 'sha384', hashLength: 48, coseId: -35, ecComponentLength: 48 },
  ES512: { name: 'ES512', kind: 'ec', hash: 'sha512', hashLength: 64, coseId: -36, ecComponentLength: 66 },
};

export function isAlgorithmName(s: unknown): s is AlgorithmName {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ALGORITHMS, s);
}

export function algorithmFromCoseId(id: number): AlgorithmInfo | undefined {
  return Object.values(ALGORITHMS).find((a) => a.coseId === id);
}

export function invalidEnvelope(message: string, cause?: unknown): VerificationFailedError {
  return new VerificationFailedError('INVALID_ENVELOPE', message, cause === undefined ? undefined : { cause });
}

export function invalidSignature(message: string, cause?: unknown): VerificationFailedError {
  return new VerificationFailedError('INVALID_SIGNATURE', message, cause === undefined ? undefined : { cause });
}

export function invalidChain(message: string, cause?: unknown): VerificationFailedError {
  return new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', message, cause === undefined ? undefined : { cause });
}

/** notation-core-go SignatureIntegrityError wording. */
export function integrityError(detail: string, cause?: unknown): VerificationFailedError {
  return invalidSignature(`signature is invalid. Error: ${detail}`, cause);
}

/** Thrown by {@link goBase64Decode}; `index` follows Go's `base64.CorruptInputError`. */
export class Base64Error extends Error {
  public constructor(public readonly index: number) {
    super(`illegal base64 data at input byte ${index}`);
    this.name = 'Base64Error';
  }
}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function decodeMap(alphabet: string): Int16Array {
  const m = new Int16Array(256).fill(-1);
  for (let i = 0; i < alphabet.length; i++) m[alphabet.charCodeAt(i)] = i;
  return m;
}
const STD_MAP = decodeMap(STD);
const URL_MAP = decodeMap(URL);

/**
 * Canonical input, for which Go's decoder and Node's native one give the same bytes: only the
 * variant's alphabet, no CR/LF; `std` padded to a multiple of 4 with at most two `=` at the end;
 * `rawurl` unpadded and not one character past a whole quantum. (Both decoders ignore the unused
 * low bits of the last quantum, as Go's non-strict encodings do.)
 */
const CANONICAL_STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CANONICAL_RAWURL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$/;

/**
 * Decodes base64 like Go's `encoding/base64` (non-strict): `StdEncoding` (padded) or `RawURLEncoding`
 * (unpadded). CR/LF are skipped as Go does; any other illegal byte throws {@link Base64Error} with
 * the same index Go reports. Canonical input (certificate chains, signatures: nearly everything)
 * takes Node's native decoder; anything else, Go's algorithm step by step ({@link goBase64DecodeStepwise}).
 */
export function goBase64Decode(s: string, variant: 'std' | 'rawurl'): Uint8Array {
  if ((variant === 'std' ? CANONICAL_STD : CANONICAL_RAWURL).test(s)) {
    return new Uint8Array(Buffer.from(s, variant === 'std' ? 'base64' : 'base64url'));
  }
  return goBase64DecodeStepwise(s, variant);
}

/** Go's `encoding/base64` decoding loop, quantum by quantum (every input; errors at Go's byte index). */
export function goBase64DecodeStepwise(s: string, variant: 'std' | 'rawurl'): Uint8Array {
  const map = variant === 'std' ? STD_MAP : URL_MAP;
  const padded = variant === 'std';
  const out: number[] = [];
  let si = 0;
  const n = s.length;
  const isNl = (c: number): boolean => c === 0x0a || c === 0x0d;
  for (;;) {
    const q = [0, 0, 0, 0];
    let j = 0;
    let dlen = 4;
    let done = false;
    for (; j < 4; j++) {
      if (si === n) {
        if (j === 0) return Uint8Array.from(out);
        if (j === 1 || padded) throw new Base64Error(si - j);
        dlen = j;
        done = true;
        break;
      }
      const c = s.charCodeAt(si);
      si++;
      const v = c < 256 ? map[c] : -1;
      if (v >= 0) {
        q[j] = v;
        continue;
      }
      if (isNl(c)) {
        j--;
        continue;
      }
      if (!padded || c !== 0x3d /* = */) throw new Base64Error(si - 1);
      // padding
      if (j === 0 || j === 1) throw new Base64Error(si - 1);
      if (j === 2) {
        while (si < n && isNl(s.charCodeAt(si))) si++;
        if (si === n) throw new Base64Error(n);
        if (s.charCodeAt(si) !== 0x3d) throw new Base64Error(si - 1);
        si++;
      }
      while (si < n && isNl(s.charCodeAt(si))) si++;
      if (si < n) throw new Base64Error(si);
      dlen = j;
      done = true;
      break;
    }
    const val = (q[0] << 18) | (q[1] << 12) | (q[2] << 6) | q[3];
    if (dlen >= 2) out.push((val >> 16) & 0xff);
    if (dlen >= 3) out.push((val >> 8) & 0xff);
    if (dlen >= 4) out.push(val & 0xff);
    if (done) return Uint8Array.from(out);
  }
}

/**
 * Strict unpadded base64url (JWS `protected`/`payload`/`signature`): only `[A-Za-z0-9_-]`
 * (no padding, no whitespace). Error text = Go's `illegal base64 data at input byte N`.
 */
export function decodeRawBase64Url(s: string): Uint8Array {
  const bad = s.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) throw new Base64Error(bad);
  return goBase64Decode(s, 'rawurl');
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 date-time (with `Z` or a numeric offset); undefined when invalid. */
export function parseRfc3339(s: string): Date | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((x) => parseInt(x, 10));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const dim = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > dim) return undefined;
  let offsetMin = 0;
  if (m[8] !== 'Z') {
    const oh = parseInt(m[8].slice(1, 3), 10);
    const om = parseInt(m[8].slice(4, 6), 10);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] ? Math.floor(parseFloat(`0${m[7]}`) * 1000) : 0;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const d = new Date(t - offsetMin * 60_000);
  // Date.UTC maps years 0-99 to 1900-1999
  if (year < 100) d.setUTCFullYear(d.getUTCFullYear() - 1900);
  return d;
}

/** Verifies a raw signature with Node crypto. RSA-PSS salt: 'auto' (JWS) or exactly the hash length (COSE). */
export function cryptoVerifySignature(
  alg: AlgorithmInfo,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
  pssSalt: 'auto' | 'hash',
): boolean {
  try {
    if (alg.kind === 'rsa') {
      return cryptoVerify(alg.hash, data, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: pssSalt === 'auto' ? constants.RSA_PSS_SALTLEN_AUTO : alg.hashLength,
      }, signature);
    }
    if (signature.length !== 2 * (alg.ecComponentLength ?? 0)) return false;
    return cryptoVerify(alg.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** Key kind of a public key as the algorithm table names it, or undefined. */
export function keyKind(key: KeyObject): 'rsa' | 'ec' | undefined {
  const t = key.asymmetricKeyType;
  if (t === 'rsa') return 'rsa';
  if (t === 'ec') return 'ec';
  return undefined;
}

/**
 * The envelope-independent content of a parsed signature envelope (headers validated per §5).
 */
export interface EnvelopeContent {
  readonly algorithm: AlgorithmName;
  readonly contentType: string;
  readonly signingScheme: SigningScheme;
  readonly signingTime?: Date;
  readonly authenticSigningTime?: Date;
  readonly expiry?: Date;
  /** All extended attributes except the two plugin headers. */
  readonly extendedAttributes: ExtendedAttribute[];
  readonly verificationPlugin?: string;
  readonly verificationPluginMinVersion?: string;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly certificateChain: Uint8Array[];
  readonly signingAgent?: string;
  readonly timestampToken?: Uint8Array;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/**
 * Splits the plugin headers out of the extended attributes (notation-go `getVerificationPlugin`,
 * `getVerificationPluginMinVersion`).
 */
export function extractPluginHeaders(attrs: ExtendedAttribute[]): {
  rest: ExtendedAttribute[];
  verificationPlugin?: string;
  verificationPluginMinVersion?: string;
} {
  const find = (key: string): ExtendedAttribute | undefined => attrs.find((a) => a.key === key);
  const rest = attrs.filter((a) => a.key !== HEADER_VERIFICATION_PLUGIN && a.key !== HEADER_VERIFICATION_PLUGIN_MIN_VERSION);
  const criticalString = (a: ExtendedAttribute): string => {
    if (!a.critical) throw invalidEnvelope(`${a.key} is not a critical Extended attribute`);
    if (typeof a.value !== 'string') throw invalidEnvelope(`${a.key} from extended attribute is not a string`);
    if (a.value.trim() === '') throw invalidEnvelope(`${a.key} from extended attribute is an empty string`);
    return a.value;
  };
  const p = find(HEADER_VERIFICATION_PLUGIN);
  if (!p) return { rest };
  const verificationPlugin = criticalString(p);
  const v = find(HEADER_VERIFICATION_PLUGIN_MIN_VERSION);
  if (!v) return { rest, verificationPlugin };
  let verificationPluginMinVersion: string;
  try {
    verificationPluginMinVersion = criticalString(v);
  } catch (e) {
    throw invalidEnvelope(`error while getting plugin minimum version, error: ${(e as Error).message}`);
  }
  if (!SEMVER.test(verificationPluginMinVersion)) {
    throw invalidEnvelope(`error while getting plugin minimum version, error: ${HEADER_VERIFICATION_PLUGIN_MIN_VERSION} from extended attribute is not a valid SemVer`);
  }
  return { rest, verificationPlugin, verificationPluginMinVersion };
}

/** notation-core-go `validateSigningAndExpiryTime` on the effective signing time. */
export function validateTimes(signingTime: Date | undefined, expiry: Date | undefined): void {
  if (!signingTime) throw invalidEnvelope('signing-time not present');
  if (expiry && expiry.getTime() <= signingTime.getTime()) {
    throw invalidEnvelope('expiry cannot be equal or before the signing time');
  }
}

/**
 * The headers notation requires to be marked critical (`validateCriticalHeaders` / `validateCritHeaders`):
 * the signing scheme; the authentic signing time under `notary.x509.signingAuthority`; the expiry when set.
 */
export function requiredCriticalHeaders(signingScheme: unknown, hasExpiry: boolean): string[] {
  const out: string[] = [HEADER_SIGNING_SCHEME];
  if (signingScheme === 'notary.x509.signingAuthority') out.push(HEADER_AUTHENTIC_SIGNING_TIME);
  if (hasExpiry) out.push(HEADER_EXPIRY);
  return out;
}
