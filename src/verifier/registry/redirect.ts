/**
 * Which redirects a registry request follows (blob downloads, which registries send to storage): 301, 302, 303,
 * 307 and 308, at most MAX_REDIRECTS hops, only to HTTPS (or loopback plain HTTP from a plain-HTTP registry),
 * never to a URL with user info. Credentials are never sent along: that is the client's origin rule.
 */
import { VerificationInconclusiveError } from '../errors';
import { header, HttpResponse } from './http';
import { schemeAllowed } from './loopback';

/** Hops followed before a request fails inconclusive NETWORK ("too many redirects"). */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308];

/**
 * Where `res` redirects to, or undefined when it is not a redirect to follow (not a redirect status, or no
 * Location: the answer is then classified as it is).
 * @throws VerificationInconclusiveError REGISTRY_UNAVAILABLE for an invalid or refused target
 */
export function redirectTarget(res: HttpResponse, registryIsPlainHttp: boolean, what: string, registry: string): URL | undefined {
  if (!REDIRECT_STATUSES.includes(res.status)) return undefined;
  const loc = header(res.headers, 'location');
  if (!loc) return undefined;
  let next: URL;
  try {
    next = new URL(loc, res.url);
  } catch (e) {
    throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${what}: ${registry} redirected to an invalid URL`, { cause: e });
  }
  if (!schemeAllowed(next, registryIsPlainHttp)) {
    throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${what}: refusing redirect to ${next.protocol}//${next.host}`);
  }
  if (next.username || next.password) {
    // Node would turn the user info into an Authorization header for that host
    throw new VerificationInconclusiveError('REGISTRY_UNAVAILABLE', `${what}: refusing redirect to a URL with user info (${next.host})`);
  }
  return next;
}
