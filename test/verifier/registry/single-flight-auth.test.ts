/**
 * Issue 8 item 9: authentication is single-flight per registry and scope.
 *
 * A verification sends its first two requests at once (manifest + signature discovery) and several verifications
 * of one repository run concurrently. Against (a) the real `docker-registry` with htpasswd Basic auth and (b) a
 * token-auth registry, every verification must succeed and the concurrent 401s must share ONE login.
 */
import { join } from 'node:path';
import { VerificationInconclusiveError } from '../../../src/verifier/errors';
import { CredentialProvider, RemoteRepository, RemoteRepositoryOptions } from '../../../src/verifier/registry';
import { AuthSession, AuthSessions } from '../../../src/verifier/registry/auth-session';
import { Descriptor } from '../../../src/verifier/types';
import { ImageVerifier } from '../../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../../src/verifier/x509/truststore';
import { caught } from '../../support/helpers';
import { Chain, makeChain } from '../../support/pki';
import { pushImage, pushSignature, remoteTarget } from '../../support/push';
import { ReferrersServer, TestRegistry, startReferrersServer, startRegistry } from '../../support/registry';
import { envelopeMediaType, signEnvelope } from '../../support/sign';

/** test/fixtures/registry-auth/htpasswd (see PROVENANCE.md). */
const HTPASSWD = join(__dirname, '..', '..', 'fixtures', 'registry-auth', 'htpasswd');
const USER = 'ci-puller';
const PASS = 'pull-secret-9';
const BASIC = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
const N = 8;

const chain: Chain = makeChain({ length: 2, keyType: 'p256', keySlot: 'single-flight' });

async function seed(url: string, repo: string, authorization: string): Promise<Descriptor> {
  const t = remoteTarget(url, repo, { authorization });
  const img = await pushImage(t, undefined, { tag: 'v1' });
  await pushSignature(t, undefined, img, signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: img }), envelopeMediaType('jws'));
  return img;
}

/** A credential provider that counts how often it is asked (one ask per login). */
function countingProvider(host: string): { provider: CredentialProvider; calls: () => number } {
  let n = 0;
  return {
    provider: async (registry) => {
      if (registry !== host) return undefined;
      n++;
      return { username: USER, password: PASS };
    },
    calls: () => n,
  };
}

function verifierFor(host: string, provider: CredentialProvider, sessions: AuthSessions, extra: RemoteRepositoryOptions = {}): ImageVerifier {
  return new ImageVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{ name: 'p', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:p'], trustedIdentities: ['*'] }],
    },
    trustStores: new InMemoryTrustStore({ 'ca:p': chain.rootPem }),
    // every verification gets its own RemoteRepository, as in the handlers
    sourceFor: (ref, ctx) => new RemoteRepository(ref, {
      plainHttpRegistries: [host], credentials: provider, authSessions: sessions, referrersCapability: new Map(), signal: ctx.signal, ...extra,
    }),
    // no verdict cache: every verification really talks to the registry, concurrently
    cacheTtlMs: 0,
  });
}

describe('real docker-registry with htpasswd Basic auth', () => {
  let reg: TestRegistry;
  let img: Descriptor;
  beforeAll(async () => {
    reg = await startRegistry({ htpasswdPath: HTPASSWD });
    img = await seed(reg.url, 'team/app', BASIC);
  }, 30_000);
  afterAll(async () => {
    await reg?.stop();
  });

  test('the fixture is what the registry checks: 401 without, 200 with the credentials', async () => {
    expect((await fetch(`${reg.url}/v2/`)).status).toBe(401);
    expect((await fetch(`${reg.url}/v2/`, { headers: { Authorization: BASIC } })).status).toBe(200);
    expect((await fetch(`${reg.url}/v2/`, { headers: { Authorization: 'Basic ' + Buffer.from(`${USER}:wrong`).toString('base64') } })).status).toBe(401);
  });

  test('ONE verification (manifest + discovery racing into two 401s) is verified, not "access denied"', async () => {
    const { provider, calls } = countingProvider(reg.host);
    const v = verifierFor(reg.host, provider, new AuthSessions());
    const verdict = await v.verify(`${reg.host}/team/app@${img.digest}`);
    expect(verdict.error).toBeUndefined();
    expect(verdict.status).toBe('verified');
    expect(calls()).toBe(1);
  });

  test(`${N} concurrent verifications of the repository: all verified, one login`, async () => {
    const { provider, calls } = countingProvider(reg.host);
    const sessions = new AuthSessions();
    const v = verifierFor(reg.host, provider, sessions);
    const verdicts = await Promise.all(Array.from({ length: N }, () => v.verify(`${reg.host}/team/app@${img.digest}`)));
    expect(verdicts.map((x) => x.status)).toEqual(Array(N).fill('verified'));
    expect(calls()).toBe(1);
    expect(sessions.get(provider, `http://${reg.host}`, 'team/app').logins).toBe(1);
    // a later verification reuses the header: no new login
    expect((await v.verify(`${reg.host}/team/app:v1`)).status).toBe('verified');
    expect(calls()).toBe(1);
  });

  test('wrong credentials: inconclusive AUTHENTICATION for everyone, bounded re-checks, no loop', async () => {
    const wrong: CredentialProvider = async () => ({ username: USER, password: 'not-it' });
    const sessions = new AuthSessions();
    const v = verifierFor(reg.host, wrong, sessions, { retry: { maxAttempts: 1 } });
    const verdicts = await Promise.all(Array.from({ length: 3 }, () => v.verify(`${reg.host}/team/app@${img.digest}`)));
    for (const x of verdicts) {
      expect(x.status).toBe('inconclusive');
      expect(x.error?.code).toBe('AUTHENTICATION');
    }
    // the first 401s share one login; a request whose (new) header is rejected again may re-check once (an ECR
    // token may have rotated), never more: at most one extra login per request (3 verifications x 2 requests)
    const logins = sessions.get(wrong, `http://${reg.host}`, 'team/app').logins;
    expect(logins).toBeGreaterThanOrEqual(1);
    expect(logins).toBeLessThanOrEqual(1 + 3 * 2);
  });
});

describe('token auth (Bearer realm, token endpoint)', () => {
  let srv: ReferrersServer;
  let img: Descriptor;
  const tokenRequests = () => srv.requests().filter((l) => l.startsWith('GET /token')).length;
  beforeAll(async () => {
    srv = await startReferrersServer({ auth: { type: 'bearer', username: USER, password: PASS } });
    const tok: any = await (await fetch(`${srv.url}/token?service=test-registry`, { headers: { Authorization: BASIC } })).json();
    img = await seed(srv.url, 'team/app', `Bearer ${tok.token}`);
  });
  afterAll(async () => {
    await srv?.stop();
  });
  beforeEach(() => srv.reset());

  test(`${N} concurrent verifications: all verified with ONE token exchange`, async () => {
    const { provider, calls } = countingProvider(srv.host);
    const v = verifierFor(srv.host, provider, new AuthSessions());
    const verdicts = await Promise.all(Array.from({ length: N }, () => v.verify(`${srv.host}/team/app@${img.digest}`)));
    expect(verdicts.map((x) => x.status)).toEqual(Array(N).fill('verified'));
    expect(tokenRequests()).toBe(1);
    expect(calls()).toBe(1);
  });

  test('an expired token (401 to the header that was sent) is renewed once for all concurrent requests', async () => {
    const { provider } = countingProvider(srv.host);
    const v = verifierFor(srv.host, provider, new AuthSessions());
    expect((await v.verify(`${srv.host}/team/app@${img.digest}`)).status).toBe('verified');
    expect(tokenRequests()).toBe(1);
    srv.revokeTokens();
    const verdicts = await Promise.all(Array.from({ length: N }, () => v.verify(`${srv.host}/team/app@${img.digest}`)));
    expect(verdicts.map((x) => x.status)).toEqual(Array(N).fill('verified'));
    expect(tokenRequests()).toBe(2);
  });

  test('two providers (two identities) never share a token', async () => {
    const a = countingProvider(srv.host);
    const b = countingProvider(srv.host);
    const sessions = new AuthSessions();
    await Promise.all([
      verifierFor(srv.host, a.provider, sessions).verify(`${srv.host}/team/app@${img.digest}`),
      verifierFor(srv.host, b.provider, sessions).verify(`${srv.host}/team/app@${img.digest}`),
    ]);
    expect(a.calls()).toBe(1);
    expect(b.calls()).toBe(1);
    expect(tokenRequests()).toBe(2);
  });

  test('a token endpoint that fails: every concurrent request gets inconclusive AUTHENTICATION from the one shared attempt', async () => {
    srv.addFault({ match: 'GET /token', status: 401 });
    const { provider } = countingProvider(srv.host);
    const shared = new AuthSessions();
    const same = Array.from({ length: 4 }, () => new RemoteRepository({ registry: srv.host, repository: 'team/app' }, {
      plainHttpRegistries: [srv.host], credentials: provider, authSessions: shared, retry: { maxAttempts: 1 },
    }));
    const errs = await Promise.all(same.map((r) => caught(r.resolve({ registry: srv.host, repository: 'team/app', digest: img.digest }))));
    for (const e of errs) {
      expect(e).toBeInstanceOf(VerificationInconclusiveError);
      expect(e.code).toBe('AUTHENTICATION');
    }
    // four repositories, two requests each (manifest), one shared login, which may be retried once by a request
    expect(tokenRequests()).toBeGreaterThanOrEqual(1);
    expect(tokenRequests()).toBeLessThanOrEqual(2);
  });
});

describe('AuthSession (unit)', () => {
  const never = () => new Error('aborted');

  test('concurrent refreshes share one login; a request that sent an old header picks up the newer one', async () => {
    const s = new AuthSession();
    let logins = 0;
    const login = async () => {
      logins++;
      await new Promise((r) => setTimeout(r, 20));
      return `Basic h${logins}`;
    };
    const got = await Promise.all(Array.from({ length: 5 }, () => s.refresh(undefined, login, undefined, never)));
    expect(got).toEqual(Array(5).fill('Basic h1'));
    expect(logins).toBe(1);
    // sent nothing while h1 is current: h1, no login
    expect(await s.refresh(undefined, login, undefined, never)).toBe('Basic h1');
    // h1 was rejected: one new login
    expect(await s.refresh('Basic h1', login, undefined, never)).toBe('Basic h2');
    expect(logins).toBe(2);
  });

  test('one waiter giving up does not abort the login for the others; all giving up aborts it', async () => {
    const s = new AuthSession();
    let seen: AbortSignal | undefined;
    const slow = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => resolve('Bearer t'), 80);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('login aborted'));
        });
      });
    };
    const a = new AbortController();
    const pa = caught(s.refresh(undefined, slow, a.signal, () => new VerificationInconclusiveError('TIMEOUT', 'a gave up')));
    const pb = s.refresh(undefined, slow, undefined, never);
    await new Promise((r) => setTimeout(r, 10));
    a.abort();
    expect((await pa).code).toBe('TIMEOUT');
    expect(await pb).toBe('Bearer t');
    expect(seen?.aborted).toBe(false);

    const s2 = new AuthSession();
    const c = new AbortController();
    const pc = caught(s2.refresh(undefined, slow, c.signal, () => new VerificationInconclusiveError('TIMEOUT', 'c gave up')));
    await new Promise((r) => setTimeout(r, 10));
    c.abort();
    expect((await pc).code).toBe('TIMEOUT');
    expect(seen?.aborted).toBe(true);
    expect(s2.current).toBeUndefined();
  });
});
