/**
 * Where registry credentials come from: provider functions (Docker config, static, ECR) and their lookup.
 * Answering a registry's challenge with them is auth-challenge.ts; sharing the result is auth-session.ts.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, VerificationInconclusiveError, isVerifierError } from '../errors';
import { readRegularFile } from '../fs';
import { parseEcrRegistry } from '../reference';

/** `{username,password}` (basic / token-endpoint basic) or `{identityToken}` (OAuth2 refresh token). */
export type RegistryCredentials =
  | { readonly username: string; readonly password: string; readonly identityToken?: undefined }
  | { readonly identityToken: string; readonly username?: undefined; readonly password?: undefined };

/** Returns credentials for a registry host, or undefined for anonymous access. */
export type CredentialProvider = (registry: string) => Promise<RegistryCredentials | undefined>;

/** First provider that returns credentials wins. */
export function chainCredentialProviders(...providers: CredentialProvider[]): CredentialProvider {
  return async (registry) => {
    for (const p of providers) {
      const c = await p(registry);
      if (c) return c;
    }
    return undefined;
  };
}

/** Upper bound of a Docker config file. */
const MAX_DOCKER_CONFIG_BYTES = 1024 * 1024;

export interface DockerConfigOptions {
  /** Told why a config file that exists is not read (not a regular file, too large, unreadable); then anonymous. */
  readonly onIgnored?: (why: string) => void;
}

/**
 * Basic credentials from the Docker config file (`auths.<host>.auth` = base64 "user:password", or
 * `identitytoken`). Read on each lookup with the engine's file reader (a FIFO or device there is never waited
 * on; a symlink is followed, as docker does). An absent file, or one that is not JSON, means anonymous.
 */
export function dockerConfigCredentials(
  path = join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json'), options: DockerConfigOptions = {},
): CredentialProvider {
  return async (host) => {
    let auths: Record<string, { auth?: string; identitytoken?: string }>;
    try {
      const text = await readRegularFile(path, MAX_DOCKER_CONFIG_BYTES, (why, cause) => {
        const code = (cause as NodeJS.ErrnoException | undefined)?.code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') options.onIgnored?.(why);
        return new ConfigurationError('INVALID_OPTIONS', `Docker config ${path}: ${why}`);
      }, { followSymlinks: true });
      auths = JSON.parse(text.toString('utf8')).auths ?? {};
    } catch {
      return undefined;
    }
    const entry = auths[host] ?? auths[`https://${host}`];
    if (entry?.identitytoken) return { identityToken: entry.identitytoken };
    if (!entry?.auth) return undefined;
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i > 0 ? { username: decoded.slice(0, i), password: decoded.slice(i + 1) } : undefined;
  };
}

/** Fixed credentials for one registry host. */
export function staticCredentialProvider(registry: string, creds: RegistryCredentials): CredentialProvider {
  return async (r) => (r === registry ? creds : undefined);
}

/** One answer of `ecr:GetAuthorizationToken`. */
export interface EcrAuthorizationToken {
  /** base64(`AWS:<password>`), usable as HTTP Basic credentials for the registry. */
  readonly authorizationToken: string;
  readonly expiresAt: Date;
}

/**
 * Fetches an ECR authorization token for a registry (account id) in a region. The engine's one definition of
 * this type: `sdkEcrTokenProvider` (signer/aws-sdk.ts) implements it over the AWS SDK.
 */
export type EcrTokenProvider = (registryId: string, region: string) => Promise<EcrAuthorizationToken>;

export interface EcrCredentialProviderOptions {
  /** Refresh this long before expiry (default 5 minutes, at most half the token lifetime). */
  readonly refreshBeforeMs?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

/**
 * Credentials for private ECR registries from `ecr:GetAuthorizationToken` (wired by the caller). Tokens are cached
 * per registry host until shortly before expiry; concurrent callers share one in-flight request. Non-ECR hosts
 * yield undefined.
 */
export function ecrCredentialProvider(getToken: EcrTokenProvider, opts: EcrCredentialProviderOptions = {}): CredentialProvider {
  const now = opts.now ?? Date.now;
  const refreshBefore = opts.refreshBeforeMs ?? 5 * 60 * 1000;
  const cache = new Map<string, { creds: RegistryCredentials; refreshAt: number }>();
  const inflight = new Map<string, Promise<RegistryCredentials>>();
  return async (registry) => {
    const ecr = parseEcrRegistry(registry);
    if (!ecr) return undefined;
    const key = registry.toLowerCase();
    const hit = cache.get(key);
    if (hit && now() < hit.refreshAt) return hit.creds;
    let p = inflight.get(key);
    if (!p) {
      p = (async () => {
        let res: EcrAuthorizationToken;
        try {
          res = await getToken(ecr.accountId, ecr.region);
        } catch (e) {
          if (isVerifierError(e)) throw e;
          throw new VerificationInconclusiveError('AWS_API',
            `ecr:GetAuthorizationToken failed for ${registry}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        const decoded = Buffer.from(String(res?.authorizationToken ?? ''), 'base64').toString('utf8');
        const sep = decoded.indexOf(':');
        if (sep <= 0) {
          throw new VerificationInconclusiveError('AUTHENTICATION', `ECR authorization token for ${registry} is malformed`);
        }
        const creds: RegistryCredentials = { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
        const issued = now();
        const expiresAt = res.expiresAt instanceof Date ? res.expiresAt.getTime() : issued + 60 * 60 * 1000;
        const lifetime = Math.max(0, expiresAt - issued);
        cache.set(key, { creds, refreshAt: expiresAt - Math.min(refreshBefore, lifetime / 2) });
        return creds;
      })();
      inflight.set(key, p);
      p.then(() => inflight.delete(key), () => inflight.delete(key));
    }
    return p;
  };
}

/**
 * The credentials `provider` gives for `registry` (undefined: anonymous). A provider failing with anything but
 * a typed error is inconclusive AUTHENTICATION (the signature was never seen).
 */
export async function lookupCredentials(provider: CredentialProvider | undefined, registry: string): Promise<RegistryCredentials | undefined> {
  if (!provider) return undefined;
  try {
    return await provider(registry);
  } catch (e) {
    if (isVerifierError(e)) throw e;
    throw new VerificationInconclusiveError('AUTHENTICATION',
      `credentials for ${registry} could not be obtained: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
