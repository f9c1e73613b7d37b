/**
 * Image reference parsing (distribution's reference grammar, as used by notation).
 *
 * Grammar (distribution/reference):
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := domain "/" path-component ( "/" path-component )*
 *   domain     := host [ ":" port ]          (a DNS name, an IPv4 address, `localhost` or `[IPv6]`)
 *   path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" hex
 *
 * Docker Hub shorthand (`alpine:3`, `library/alpine`) is NOT expanded, as in notation: the first path
 * component must be a registry host (contains `.` or `:`, is `localhost` or a bracketed IPv6 address).
 */
import { createHash } from 'crypto';
import { ConfigurationError, VerificationFailedError } from '../errors';
import { ImageReference } from '../types';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** Hex length of each supported digest algorithm. */
export const DIGEST_HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = {
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::([0-9]+))?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;
/** distribution's NameTotalLengthMax. */
const NAME_MAX = 255;

function invalid(s: string, why: string): ConfigurationError {
  return new ConfigurationError('INVALID_REFERENCE', `invalid reference ${JSON.stringify(s)}: ${why}`);
}

/** True when `s` looks like a registry host (distribution's domain detection). */
function looksLikeRegistryHost(s: string): boolean {
  return s.includes('.') || s.includes(':') || s === 'localhost' || s.startsWith('[');
}

/** Validates a registry host[:port]; returns an error reason or undefined. */
function checkHost(host: string): string | undefined {
  const m = HOST_RE.exec(host);
  if (!m) return 'invalid registry host';
  if (m[1] !== undefined) {
    const port = Number(m[1]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return 'invalid registry port';
  }
  return undefined;
}

/**
 * Parses and validates a digest string `algorithm:hex`. Only sha256, sha384 and sha512 are supported,
 * with lowercase hex of the exact length.
 * @throws ConfigurationError INVALID_REFERENCE
 */
export function parseDigest(d: string): { algorithm: DigestAlgorithm; hex: string } {
  if (typeof d !== 'string') throw invalid(String(d), 'digest must be a string');
  const m = DIGEST_RE.exec(d);
  if (!m) throw invalid(d, 'invalid digest format');
  const algorithm = m[1];
  const hex = m[2];
  if (!Object.prototype.hasOwnProperty.call(DIGEST_HEX_LENGTH, algorithm)) {
    throw invalid(d, `unsupported digest algorithm ${JSON.stringify(algorithm)}`);
  }
  const len = DIGEST_HEX_LENGTH[algorithm as DigestAlgorithm];
  if (hex.length !== len || !/^[a-f0-9]+$/.test(hex)) {
    throw invalid(d, `${algorithm} digest must be ${len} lowercase hex characters`);
  }
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

/** True when `d` is a valid supported digest. */
export function isDigest(d: string): boolean {
  try {
    parseDigest(d);
    return true;
  } catch {
    return false;
  }
}

/** `algorithm:hex` of `bytes`. */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Checks `bytes` against a descriptor's digest and size.
 * @throws VerificationFailedError DIGEST_MISMATCH
 */
export function verifyContent(bytes: Uint8Array, expected: { digest: string; size?: number }): void {
  if (expected.size !== undefined && bytes.length !== expected.size) {
    throw new VerificationFailedError('DIGEST_MISMATCH',
      `content size mismatch for ${expected.digest}: expected ${expected.size} bytes, got ${bytes.length}`);
  }
  let algorithm: DigestAlgorithm;
  try {
    algorithm = parseDigest(expected.digest).algorithm;
  } catch (e) {
    throw new VerificationFailedError('DIGEST_MISMATCH', `invalid digest ${JSON.stringify(expected.digest)}`, { cause: e });
  }
  const actual = digestOf(bytes, algorithm);
  if (actual !== expected.digest) {
    throw new VerificationFailedError('DIGEST_MISMATCH',
      `content digest mismatch: expected ${expected.digest}, got ${actual}`);
  }
}

/**
 * Parses an image reference `registry/repository[:tag][@digest]`.
 * @throws ConfigurationError INVALID_REFERENCE
 */
export function parseReference(s: string): ImageReference {
  if (typeof s !== 'string') throw invalid(String(s), 'reference must be a string');
  if (s.length === 0) throw invalid(s, 'empty reference');
  if (s !== s.trim() || /\s/.test(s)) throw invalid(s, 'whitespace is not allowed');

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digest.includes('@')) throw invalid(s, 'more than one "@"');
    parseDigest(digest);
  }

  const slash = rest.indexOf('/');
  if (slash < 0) throw invalid(s, 'missing registry host (Docker Hub shorthand is not supported)');
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  if (!looksLikeRegistryHost(registry)) {
    throw invalid(s, `missing registry host: ${JSON.stringify(registry)} is not a registry host`);
  }
  const hostErr = checkHost(registry);
  if (hostErr) throw invalid(s, hostErr);

  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(s, `invalid tag ${JSON.stringify(tag)}`);
  }
  if (path.length === 0) throw invalid(s, 'missing repository');
  for (const comp of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(comp)) {
      throw invalid(s, `invalid repository path component ${JSON.stringify(comp)} (lowercase letters, digits and separators only)`);
    }
  }
  if (registry.length + 1 + path.length > NAME_MAX) throw invalid(s, `repository name longer than ${NAME_MAX} characters`);
  if (tag === undefined && digest === undefined) {
    // notation requires a tag or digest; a bare name is not an artifact reference.
    throw invalid(s, 'a tag or digest is required');
  }
  const ref: { registry: string; repository: string; tag?: string; digest?: string } = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** `registry/repository`: the trust-policy registry scope of a reference. */
export function repositoryScope(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** A reference pinned to `digest` (tag dropped). */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

export interface EcrRegistry {
  /** 12-digit AWS account id (the ECR registry id). */
  readonly accountId: string;
  readonly region: string;
  /** `amazonaws.com`, `amazonaws.com.cn`, `c2s.ic.gov`, `sc2s.sgov.gov`. */
  readonly dnsSuffix: string;
  readonly partition: 'aws' | 'aws-cn' | 'aws-iso' | 'aws-iso-b';
  readonly fips: boolean;
}

const ECR_RE = /^([0-9]{12})\.dkr\.ecr(-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.(amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov)$/;

/** Recognises a private ECR registry host; undefined for anything else (including host:port forms). */
export function parseEcrRegistry(host: string): EcrRegistry | undefined {
  if (typeof host !== 'string') return undefined;
  const m = ECR_RE.exec(host.toLowerCase());
  if (!m) return undefined;
  const dnsSuffix = m[4];
  const partition = dnsSuffix === 'amazonaws.com.cn' ? 'aws-cn'
    : dnsSuffix === 'c2s.ic.gov' ? 'aws-iso'
      : dnsSuffix === 'sc2s.sgov.gov' ? 'aws-iso-b' : 'aws';
  return { accountId: m[1], region: m[3], dnsSuffix, partition, fips: m[2] !== undefined };
}
