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

  const { name, digest } = splitDigest(s);
  const slash = name.indexOf('/');
  if (slash < 0) throw invalid(s, 'missing registry host (Docker Hub shorthand is not supported)');
  const registry = name.slice(0, slash);
  if (!looksLikeRegistryHost(registry)) {
    throw invalid(s, `missing registry host: ${JSON.stringify(registry)} is not a registry host`);
  }
  const hostErr = checkHost(stripTrailingDot(registry));
  if (hostErr) throw invalid(s, hostErr);
  const { path, tag } = splitTag(s, name.slice(slash + 1));
  if (registry.length + 1 + path.length > NAME_MAX) throw invalid(s, `repository name longer than ${NAME_MAX} characters`);
  if (tag === undefined && digest === undefined) {
    // notation requires a tag or digest; a bare name is not an artifact reference.
    throw invalid(s, 'a tag or digest is required');
  }
  let canonical: string;
  try {
    canonical = canonicalRegistryHost(registry);
  } catch (e) {
    throw invalid(s, (e as Error).message);
  }
  const ref: { registry: string; repository: string; tag?: string; digest?: string } = { registry: canonical, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `name@digest` into the name and the (validated) digest. */
function splitDigest(s: string): { name: string; digest?: string } {
  const at = s.indexOf('@');
  if (at < 0) return { name: s };
  const digest = s.slice(at + 1);
  if (digest.includes('@')) throw invalid(s, 'more than one "@"');
  parseDigest(digest);
  return { name: s.slice(0, at), digest };
}

/** `repository[:tag]` (after the registry) into the validated repository path and tag; `s` is the whole reference. */
function splitTag(s: string, rest: string): { path: string; tag?: string } {
  let path = rest;
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
  return { path, tag };
}

/** `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/**
 * `registry/repository`: the trust-policy registry scope of a reference, in its canonical form
 * ({@link scopeRegistry} of the host). Statement selection, exemptions and verdict-cache keys all use
 * this form, so no spelling of one registry can pick another statement.
 */
export function repositoryScope(ref: ImageReference): string {
  return `${scopeRegistry(ref.registry)}/${ref.repository}`;
}

/** `host.` → `host`, `host.:5000` → `host:5000` (one trailing dot of the host name; not for IPv6 literals). */
function stripTrailingDot(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort;
  return hostPort.replace(/([^.:])\.(:[0-9]*)?$/, '$1$2');
}

/**
 * The network-equivalent canonical form of a registry `host[:port]`: the one spelling every other
 * spelling of the same address is turned into before it meets configuration.
 *
 * - the host is lower-cased (DNS names are case-insensitive: `LOCALHOST:5000` is `localhost:5000`);
 * - one trailing dot is removed (`registry.example.com.` is `registry.example.com`);
 * - IPv4 addresses in any form a resolver accepts (`127.1`, `0x7f.0.0.1`, `2130706433`) become
 *   dotted-decimal (`127.0.0.1`); IPv6 literals are compressed (`[0:0:0:0:0:0:0:1]` → `[::1]`);
 * - the HTTPS default port is dropped (`host:443` is `host`), leading zeros of a port too
 *   (`host:05000` is `host:5000`). Every remote registry is reached over HTTPS; `host:80` stays
 *   distinct from `host` (plain HTTP is for listed loopback registries only, always with their port).
 *
 * Names are NOT resolved: `localhost` and `127.0.0.1` are two registries, as are a registry's DNS
 * name and its IP address (as in notation; a scope names what the reference says).
 * @throws ConfigurationError INVALID_REFERENCE when the host is not a valid address
 */
export function canonicalRegistryHost(hostPort: string): string {
  const stripped = stripTrailingDot(hostPort);
  let url: URL;
  try {
    url = new URL(`https://${stripped}/`);
  } catch {
    throw new ConfigurationError('INVALID_REFERENCE', `invalid registry host ${JSON.stringify(hostPort)}`);
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigurationError('INVALID_REFERENCE', `invalid registry host ${JSON.stringify(hostPort)}`);
  }
  return url.port ? `${url.hostname}:${url.port}` : url.hostname;
}

/**
 * The registry part of a trust-policy scope: {@link canonicalRegistryHost}, and for a private ECR
 * registry reached through one of its other endpoint names (FIPS `dkr.ecr-fips`, dual-stack
 * `dkr-ecr[-fips].<region>.on.aws`) its standard name `<account>.dkr.ecr.<region>.<dnsSuffix>`:
 * they are one registry, so they select one statement. Hosts that are not valid addresses are only
 * lower-cased (policy validation reports them).
 */
export function scopeRegistry(hostPort: string): string {
  let host: string;
  try {
    host = canonicalRegistryHost(hostPort);
  } catch {
    return hostPort.toLowerCase();
  }
  const ecr = parseEcrRegistry(host);
  return ecr ? `${ecr.accountId}.dkr.ecr.${ecr.region}.${ecr.dnsSuffix}` : host;
}

/** The canonical form of a trust-policy registry scope (`*` stays `*`). */
export function canonicalScope(scope: string): string {
  if (scope === '*') return scope;
  const slash = scope.indexOf('/');
  if (slash < 0) return scope.toLowerCase();
  return `${scopeRegistry(scope.slice(0, slash))}${scope.slice(slash)}`;
}

/** A reference pinned to `digest` (tag dropped). */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

export interface EcrRegistry {
  /** 12-digit AWS account id (the ECR registry id). */
  readonly accountId: string;
  readonly region: string;
  /**
   * DNS suffix of the registry's standard endpoint name: `amazonaws.com`, `amazonaws.com.cn`,
   * `c2s.ic.gov`, `sc2s.sgov.gov` (a dual-stack `on.aws` name has the standard suffix `amazonaws.com`).
   */
  readonly dnsSuffix: string;
  readonly partition: 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b';
  readonly fips: boolean;
  /** Reached through the dual-stack (IPv4 + IPv6) endpoint name `<account>.dkr-ecr[-fips].<region>.on.aws`. */
  readonly dualStack: boolean;
}

const ECR_RE = /^([0-9]{12})\.dkr\.ecr(-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.(amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov)$/;
const ECR_DUALSTACK_RE = /^([0-9]{12})\.dkr-ecr(-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.on\.aws$/;

/**
 * Recognises a private ECR registry host, by any of its endpoint names (standard, FIPS, dual-stack),
 * in any letter case and with or without one trailing dot; undefined for anything else (including
 * host:port forms).
 */
export function parseEcrRegistry(host: string): EcrRegistry | undefined {
  if (typeof host !== 'string') return undefined;
  const h = host.toLowerCase().replace(/\.$/, '');
  const d = ECR_DUALSTACK_RE.exec(h);
  if (d) return { accountId: d[1], region: d[3], dnsSuffix: 'amazonaws.com', partition: 'aws', fips: d[2] !== undefined, dualStack: true };
  const m = ECR_RE.exec(h);
  if (!m) return undefined;
  const dnsSuffix = m[4];
  const partition = dnsSuffix === 'amazonaws.com.cn' ? 'aws-cn'
    : dnsSuffix === 'c2s.ic.gov' ? 'aws-iso'
      : dnsSuffix === 'sc2s.sgov.gov' ? 'aws-iso-b'
        : m[3].startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return { accountId: m[1], region: m[3], dnsSuffix, partition, fips: m[2] !== undefined, dualStack: false };
}
