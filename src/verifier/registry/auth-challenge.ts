/**
 * Answering a registry's `WWW-Authenticate` challenge: Basic (the credentials themselves) or Bearer (a token
 * from the realm the registry names, exchanged with the credentials or anonymously). The result is the
 * Authorization header to send; where it may be sent is the client's rule (registry origin only).
 */
import { VerificationInconclusiveError } from '../errors';
import { RegistryCredentials } from './auth';
import { HttpResponse } from './http';
import { schemeAllowed } from './loopback';

export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Record<string, string>;
}

/** Parses a WWW-Authenticate header (one challenge; `scheme k="v", k2=v2`). */
export function parseChallenge(header: string | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9._-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z][A-Za-z0-9._-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  const rest = m[2];
  let pm: RegExpExecArray | null;
  re.lastIndex = 0;
  while (re.lastIndex < rest.length && (pm = re.exec(rest)) !== null) {
    params[pm[1].toLowerCase()] = pm[2] !== undefined ? pm[2].replace(/\\(.)/g, '$1') : pm[3];
    if (pm[0].length === 0) break;
  }
  return { scheme, params };
}

/** The one request a Bearer login sends to the token realm. */
export interface TokenRequest {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** What answering a challenge needs from the client that met it. */
export interface ChallengeContext {
  /** The registry (`host[:port]`) that sent the challenge. */
  readonly registry: string;
  readonly repository: string;
  /** Actions asked for in the token scope `repository:<name>:<actions>` (default pull; a push asks pull,push). */
  readonly actions?: readonly string[];
  /** The registry is reached over plain HTTP (then a loopback token realm may be plain HTTP too). */
  readonly registryIsPlainHttp: boolean;
  /** The credentials to answer with (undefined: anonymous). */
  credentials(): Promise<RegistryCredentials | undefined>;
  /** Sends the token request with the client's agents, timeouts and abort signal; transport errors typed. */
  requestToken(url: URL, request: TokenRequest): Promise<HttpResponse>;
}

const basicHeader = (c: { username: string; password: string }): string =>
  'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');

/**
 * The Authorization header answering `challenge`. A token realm on another https host is legitimate (the
 * registry itself names it); the token obtained there is only ever sent to the registry origin (the caller's rule).
 * @throws VerificationInconclusiveError AUTHENTICATION when the challenge cannot be answered
 */
export async function answerChallenge(challenge: AuthChallenge, ctx: ChallengeContext): Promise<string> {
  const creds = await ctx.credentials();
  if (challenge.scheme === 'basic') {
    if (!creds || creds.username === undefined) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `${ctx.registry} requires basic authentication and no credentials are configured`);
    }
    return basicHeader(creds);
  }
  if (challenge.scheme !== 'bearer') {
    throw new VerificationInconclusiveError('AUTHENTICATION', `${ctx.registry}: unsupported authentication scheme ${JSON.stringify(challenge.scheme)}`);
  }
  const realm = tokenRealm(challenge, ctx);
  const scopes = new Set<string>([`repository:${ctx.repository}:${(ctx.actions ?? ['pull']).join(',')}`]);
  if (challenge.params.scope) for (const s of challenge.params.scope.split(' ')) if (s) scopes.add(s);
  const service = challenge.params.service;
  let tokenRes: HttpResponse;
  if (creds?.identityToken !== undefined) {
    const form = new URLSearchParams();
    form.set('grant_type', 'refresh_token');
    form.set('refresh_token', creds.identityToken);
    if (service) form.set('service', service);
    form.set('scope', [...scopes].join(' '));
    form.set('client_id', 'cdk-signed-images');
    tokenRes = await ctx.requestToken(realm, {
      method: 'POST', body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
  } else {
    const u = new URL(realm);
    if (service) u.searchParams.set('service', service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (creds?.username !== undefined) headers.Authorization = basicHeader(creds);
    tokenRes = await ctx.requestToken(u, { method: 'GET', headers });
  }
  return `Bearer ${tokenOf(tokenRes, ctx.registry)}`;
}

/** The realm URL of a Bearer challenge: HTTPS (or loopback plain HTTP for a plain-HTTP registry), no user info. */
function tokenRealm(challenge: AuthChallenge, ctx: ChallengeContext): URL {
  const realm = challenge.params.realm;
  if (!realm) throw new VerificationInconclusiveError('AUTHENTICATION', `${ctx.registry}: bearer challenge without realm`);
  let realmUrl: URL;
  try {
    realmUrl = new URL(realm);
  } catch (e) {
    throw new VerificationInconclusiveError('AUTHENTICATION', `${ctx.registry}: invalid token realm ${JSON.stringify(realm)}`, { cause: e });
  }
  if (!schemeAllowed(realmUrl, ctx.registryIsPlainHttp)) {
    throw new VerificationInconclusiveError('AUTHENTICATION', `${ctx.registry}: refusing token realm ${realmUrl.protocol}//${realmUrl.host} (HTTPS required)`);
  }
  if (realmUrl.username || realmUrl.password) {
    throw new VerificationInconclusiveError('AUTHENTICATION', `${ctx.registry}: refusing token realm with user info (${realmUrl.host})`);
  }
  return realmUrl;
}

/** The token of a token endpoint's answer (`access_token` or `token`); one that could split a header is refused. */
function tokenOf(res: HttpResponse, registry: string): string {
  if (res.status !== 200) {
    throw new VerificationInconclusiveError('AUTHENTICATION', `${registry}: token request failed with HTTP ${res.status}`);
  }
  let token: unknown;
  try {
    const j = JSON.parse(res.body.toString('utf8'));
    token = j.access_token ?? j.token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token.length === 0 || /[\r\n]/.test(token)) {
    throw new VerificationInconclusiveError('AUTHENTICATION', `${registry}: token response without a usable token`);
  }
  return token;
}
