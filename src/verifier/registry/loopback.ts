/**
 * The one rule for plain HTTP: only to a loopback registry the configuration lists, and from there only to
 * loopback hosts (a blob redirect or a token realm). Everything else is HTTPS. The engine's repository, its
 * auth and redirect policies, and the construct's validation of `plainHttpRegistries` all use these functions.
 */
import { ConfigurationError } from '../errors';
import { canonicalRegistryHost } from '../reference';

/** `hostPort` in canonical form, or undefined when it is not a valid `host[:port]`. */
function canonicalOrUndefined(hostPort: string): string | undefined {
  try {
    return canonicalRegistryHost(hostPort);
  } catch {
    return undefined;
  }
}

/**
 * True when `hostPort` (`host` or `host:port`) names a loopback address: `localhost`, `127.0.0.0/8` or `[::1]`,
 * in any spelling a resolver accepts (`LOCALHOST`, `127.1`, `[0:0:0:0:0:0:0:1]`; see canonicalRegistryHost).
 * Names are not resolved: `127.0.0.1.nip.io` is not loopback. An invalid host or port is not loopback.
 */
export function isLoopbackHost(hostPort: string): boolean {
  const canonical = canonicalOrUndefined(hostPort);
  if (canonical === undefined) return false;
  const host = canonical.startsWith('[') ? canonical.slice(0, canonical.indexOf(']') + 1) : canonical.split(':')[0];
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether `registry` is reached over plain HTTP: it is listed in `plainHttpRegistries` (both compared in
 * canonical form, so `LOCALHOST:5000` and `127.1:5000` name what a reference spells either way).
 * @throws ConfigurationError INVALID_OPTIONS when a listed registry is not loopback
 */
export function usesPlainHttp(registry: string, plainHttpRegistries: readonly string[] = []): boolean {
  const canonical = (h: string): string => canonicalOrUndefined(h) ?? h.toLowerCase();
  const plain = plainHttpRegistries.map(canonical);
  for (const h of plain) {
    if (!isLoopbackHost(h)) {
      throw new ConfigurationError('INVALID_OPTIONS', `plain HTTP is only allowed for loopback registries, not ${JSON.stringify(h)}`);
    }
  }
  return plain.includes(canonical(registry)) && isLoopbackHost(registry);
}

/**
 * Whether a URL the registry named (a redirect target, a token realm) may be requested: HTTPS always; plain
 * HTTP only when the registry itself is reached over plain HTTP and the URL's host is loopback.
 */
export function schemeAllowed(url: URL, registryIsPlainHttp: boolean): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && registryIsPlainHttp && isLoopbackHost(url.host);
}
