/**
 * Issue 8 item 5: registry credentials stay with the registry origin.
 *
 * A registry with Basic auth redirects the download of a signature envelope to a second (hostile) loopback
 * server, which answers 401 with a challenge of its choosing (Bearer realm on a third recording server, or
 * Basic). The registry's credentials must never reach the hostile host or its realm, the hostile realm is never
 * contacted, no token of theirs ever reaches the registry, and the fetch ends inconclusive AUTHENTICATION.
 * Neighbours: other spellings of loopback (`localhost` vs `127.0.0.1`, the registry's own port under another
 * name), redirect chains, user info in a redirect or realm URL, and the legitimate case of the registry's OWN
 * challenge naming a realm on another host.
 */
import { createHash } from 'node:crypto';
import { VerificationInconclusiveError } from '../../../src/verifier/errors';
import { parseReference } from '../../../src/verifier/reference';
import { RemoteRepository, staticCredentialProvider } from '../../../src/verifier/registry';
import { AuthSessions } from '../../../src/verifier/registry/auth-session';
import { Descriptor } from '../../../src/verifier/types';
import { ImageVerifier } from '../../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../../src/verifier/x509/truststore';
import { caught } from '../../support/helpers';
import { makeChain } from '../../support/pki';
import { pushImage, pushSignature, remoteTarget } from '../../support/push';
import {
  RecordedRequest, RecordingServer, ReferrersServer, startCountingProxy, startRecordingServer, startReferrersServer,
} from '../../support/registry';
import { envelopeMediaType, signEnvelope } from '../../support/sign';

const USER = 'reg-user';
const PASS = 'reg-pass-7';
const BASIC = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
const HOSTILE_TOKEN = 'hostile-token-0123';
const REPO = 'shop/api';

let srv: ReferrersServer;
let hostile: RecordingServer;
let hostile2: RecordingServer;
let realm: RecordingServer;
let image: Descriptor;
let sig: Descriptor;
let envelopeDigest: string;
const chain = makeChain({ length: 2, keyType: 'p256', keySlot: 'cred-host' });

beforeAll(async () => {
  srv = await startReferrersServer({ auth: { type: 'basic', username: USER, password: PASS } });
  const t = remoteTarget(srv.url, REPO, { authorization: BASIC });
  image = await pushImage(t, undefined, { tag: 'v1' });
  const envelope = signEnvelope('jws', { key: chain.key, chainDer: chain.chainDer, targetArtifact: image });
  envelopeDigest = 'sha256:' + createHash('sha256').update(envelope).digest('hex');
  sig = await pushSignature(t, undefined, image, envelope, envelopeMediaType('jws'));
  realm = await startRecordingServer(() => ({ status: 200, body: JSON.stringify({ token: HOSTILE_TOKEN, access_token: HOSTILE_TOKEN }) }));
  hostile = await startRecordingServer();
  hostile2 = await startRecordingServer();
});

afterAll(async () => {
  await Promise.all([srv?.stop(), hostile?.stop(), hostile2?.stop(), realm?.stop()]);
});

beforeEach(() => srv.reset());

/** Requests recorded since the test started (recorders are append-only; remember the offsets). */
function since(s: RecordingServer, from: number): RecordedRequest[] {
  return s.requests().slice(from);
}

const credentials = () => staticCredentialProvider(srv.host, { username: USER, password: PASS });
const repo = () => new RemoteRepository({ registry: srv.host, repository: REPO }, {
  plainHttpRegistries: [srv.host],
  credentials: credentials(),
  authSessions: new AuthSessions(),
  referrersCapability: new Map(),
  retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  requestTimeoutMs: 3000,
});

/** The blob request of the envelope, exactly (redirect targets that come back carry a query and are not matched). */
const envelopeBlob = (_m: string, url: string) => url === `/v2/${REPO}/blobs/${envelopeDigest}`;

function redirectEnvelopeTo(location: string): void {
  srv.addFault({ match: envelopeBlob, status: 307, headers: { Location: location } });
}

function hostileChallenges(server: RecordingServer, challenge: string): void {
  server.respondWith(() => ({ status: 401, headers: { 'WWW-Authenticate': challenge }, body: '{"errors":[{"code":"UNAUTHORIZED"}]}' }));
}

/** No recorded request carries anything but `undefined` as Authorization. */
function expectNoAuthorization(reqs: RecordedRequest[]): void {
  expect(reqs.map((r) => r.authorization)).toEqual(reqs.map(() => undefined));
}

function expectRegistryNeverGot(token: string): void {
  expect(srv.exchanges().filter((e) => (e.authorization ?? '').includes(token))).toEqual([]);
}

describe('a redirect target answering 401 gets no credentials and its challenge is not followed', () => {
  test('Bearer realm on a third server: no Basic credentials leave, the realm is never asked, no hostile token reaches the registry', async () => {
    const h0 = hostile.requests().length;
    const r0 = realm.requests().length;
    hostileChallenges(hostile, `Bearer realm="${realm.url}/token",service="evil",scope="repository:${REPO}:pull"`);
    redirectEnvelopeTo(`${hostile.url}/storage/blob?sig=1`);
    const e = await caught(repo().fetchSignature(sig));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('AUTHENTICATION');
    expect(e.message).toContain('only sent to the registry');
    const atHostile = since(hostile, h0);
    expect(atHostile.length).toBeGreaterThanOrEqual(1);
    expectNoAuthorization(atHostile);
    expect(since(realm, r0)).toEqual([]);
    expectRegistryNeverGot(HOSTILE_TOKEN);
    // the registry itself did get its credentials (the signature manifest was read with them)
    expect(srv.exchanges().some((x) => x.authorization === BASIC)).toBe(true);
  });

  test('the same through the engine: the verdict is inconclusive, never verified, and nothing leaks', async () => {
    const h0 = hostile.requests().length;
    const r0 = realm.requests().length;
    hostileChallenges(hostile, `Bearer realm="${realm.url}/token",service="evil"`);
    redirectEnvelopeTo(`${hostile.url}/blob`);
    const creds = credentials();
    const sessions = new AuthSessions();
    const v = new ImageVerifier({
      trustPolicy: {
        version: '1.0',
        trustPolicies: [{ name: 'p', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:p'], trustedIdentities: ['*'] }],
      },
      trustStores: new InMemoryTrustStore({ 'ca:p': chain.rootPem }),
      sourceFor: (ref, ctx) => new RemoteRepository(ref, {
        plainHttpRegistries: [srv.host],
        credentials: creds,
        authSessions: sessions,
        referrersCapability: new Map(),
        signal: ctx.signal,
        retry: { maxAttempts: 1 },
      }),
      cacheTtlMs: 0,
    });
    const verdict = await v.verify(`${srv.host}/${REPO}@${image.digest}`);
    expect(verdict.status).toBe('inconclusive');
    expect(verdict.verified).toBe(false);
    expect(verdict.signatures[0]?.error?.code).toBe('AUTHENTICATION');
    expectNoAuthorization(since(hostile, h0));
    expect(since(realm, r0)).toEqual([]);
    expectRegistryNeverGot(HOSTILE_TOKEN);
    // without the redirect the same verifier verifies: the redirect is the only difference
    srv.clearFaults();
    expect((await v.verify(`${srv.host}/${REPO}@${image.digest}`)).status).toBe('verified');
  });

  test('a Basic challenge from the redirect target is not answered', async () => {
    const h0 = hostile.requests().length;
    hostileChallenges(hostile, 'Basic realm="storage"');
    redirectEnvelopeTo(`${hostile.url}/blob`);
    const e = await caught(repo().fetchSignature(sig));
    expect(e.code).toBe('AUTHENTICATION');
    const atHostile = since(hostile, h0);
    expect(atHostile).toHaveLength(1); // asked once, never again with credentials
    expectNoAuthorization(atHostile);
  });

  test.each([
    ['same host, other port (127.0.0.1)', () => `http://127.0.0.1:${hostile.port}/blob`],
    ['the other loopback name (localhost)', () => `http://localhost:${hostile.port}/blob`],
    ['upper-case host name', () => `http://LOCALHOST:${hostile.port}/blob`],
  ])('redirect target %s is another origin: no credentials', async (_what, location) => {
    const h0 = hostile.requests().length;
    const r0 = realm.requests().length;
    hostileChallenges(hostile, `Bearer realm="${realm.url}/token"`);
    redirectEnvelopeTo(location());
    const e = await caught(repo().fetchSignature(sig));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expectNoAuthorization(since(hostile, h0));
    expect(since(realm, r0)).toEqual([]);
    expectRegistryNeverGot(HOSTILE_TOKEN);
  });

  test('the registry\'s own port under the other loopback name is another origin too', async () => {
    const port = srv.host.split(':')[1];
    redirectEnvelopeTo(`http://localhost:${port}/v2/${REPO}/blobs/${envelopeDigest}?via=localhost`);
    const e = await caught(repo().fetchSignature(sig));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    const viaOtherName = srv.exchanges().filter((x) => x.url.includes('via=localhost'));
    // reached over IPv4 it answered 401 Basic and was not answered; over ::1 nothing listens (NETWORK)
    expect(['AUTHENTICATION', 'NETWORK']).toContain(e.code);
    expectNoAuthorization(viaOtherName);
  });

  test('a redirect chain registry -> A -> B (401, Bearer realm): nobody off-origin gets anything', async () => {
    const h0 = hostile.requests().length;
    const h20 = hostile2.requests().length;
    const r0 = realm.requests().length;
    hostile.respondWith(() => ({ status: 302, headers: { Location: `${hostile2.url}/final` } }));
    hostileChallenges(hostile2, `Bearer realm="${realm.url}/token",service="evil"`);
    redirectEnvelopeTo(`${hostile.url}/hop`);
    const e = await caught(repo().fetchSignature(sig));
    expect(e.code).toBe('AUTHENTICATION');
    expect(e.message).toContain(hostile2.host);
    expectNoAuthorization(since(hostile, h0));
    expectNoAuthorization(since(hostile2, h20));
    expect(since(hostile2, h20).length).toBeGreaterThanOrEqual(1);
    expect(since(realm, r0)).toEqual([]);
    expectRegistryNeverGot(HOSTILE_TOKEN);
  });

  test('a chain that comes back to the registry origin carries the credentials only on the registry hop, and verifies', async () => {
    const h0 = hostile.requests().length;
    hostile.respondWith(() => ({ status: 307, headers: { Location: `${srv.url}/v2/${REPO}/blobs/${envelopeDigest}?back=1` } }));
    redirectEnvelopeTo(`${hostile.url}/hop`);
    const art = await repo().fetchSignature(sig);
    expect(art.manifestDigest).toBe(sig.digest);
    expectNoAuthorization(since(hostile, h0));
    expect(srv.exchanges().filter((x) => x.url.endsWith('?back=1')).map((x) => x.authorization)).toEqual([BASIC]);
  });

  test('a redirect to a URL with user info is refused before any request', async () => {
    const h0 = hostile.requests().length;
    redirectEnvelopeTo(`http://someone:secret@127.0.0.1:${hostile.port}/blob`);
    const e = await caught(repo().fetchSignature(sig));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.message).toContain('user info');
    expect(since(hostile, h0)).toEqual([]);
  });
});

describe('tokens stay with the registry origin', () => {
  test('a bearer registry redirecting a blob: the token is never sent to the redirect target', async () => {
    const bearer = await startReferrersServer({ auth: { type: 'bearer', username: USER, password: PASS } });
    try {
      const tok: any = await (await fetch(`${bearer.url}/token?service=test-registry`, { headers: { Authorization: BASIC } })).json();
      const t = remoteTarget(bearer.url, 'app', { authorization: `Bearer ${tok.token}` });
      const img = await pushImage(t, undefined, { tag: 'v1' });
      const env = Buffer.from('{"sig":"bearer"}');
      const s = await pushSignature(t, undefined, img, env, 'application/jose+json');
      const envDigest = 'sha256:' + createHash('sha256').update(env).digest('hex');
      bearer.reset();
      const h0 = hostile.requests().length;
      hostile.respondWith(() => ({ status: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: env.toString() }));
      bearer.addFault({ match: (_m, url) => url === `/v2/app/blobs/${envDigest}`, status: 307, headers: { Location: `${hostile.url}/storage` } });
      const r = new RemoteRepository({ registry: bearer.host, repository: 'app' }, {
        plainHttpRegistries: [bearer.host], credentials: staticCredentialProvider(bearer.host, { username: USER, password: PASS }), authSessions: new AuthSessions(),
      });
      // storage that serves the right bytes without auth: works, and never saw the token
      const art = await r.fetchSignature(s);
      expect(Buffer.from(art.envelope).toString()).toBe(env.toString());
      const atHostile = since(hostile, h0);
      expect(atHostile).toHaveLength(1);
      expectNoAuthorization(atHostile);
      expect(bearer.exchanges().some((x) => x.authorization?.startsWith('Bearer '))).toBe(true);
    } finally {
      hostile.respondWith(() => ({ status: 404 }));
      await bearer.stop();
    }
  });
});

describe('challenges of the registry itself', () => {
  test('a token realm with user info is refused (nothing is sent to it)', async () => {
    const open = await startReferrersServer();
    try {
      const img = await pushImage(open.url, 'app', { tag: 'v1' });
      const r0 = realm.requests().length;
      open.addFault({ match: '/manifests/', status: 401, headers: { 'WWW-Authenticate': `Bearer realm="http://u:p@${realm.host}/token",service="s"` } });
      const e = await caught(new RemoteRepository({ registry: open.host, repository: 'app' }, {
        plainHttpRegistries: [open.host], credentials: staticCredentialProvider(open.host, { username: USER, password: PASS }), authSessions: new AuthSessions(),
      }).resolve(parseReference(`${open.host}/app@${img.digest}`)));
      expect(e).toBeInstanceOf(VerificationInconclusiveError);
      expect(e.code).toBe('AUTHENTICATION');
      expect(e.message).toContain('user info');
      expect(since(realm, r0)).toEqual([]);
    } finally {
      await open.stop();
    }
  });

  test('a realm on another host named by the registry\'s OWN challenge is legitimate: credentials go to the realm, the token only to the registry', async () => {
    let proxyHost = '';
    const bearer = await startReferrersServer({ auth: { type: 'bearer', username: USER, password: PASS, realm: () => `http://${proxyHost}/token` } });
    const tokenProxy = await startCountingProxy(bearer.host);
    proxyHost = tokenProxy.host;
    try {
      const tok: any = await (await fetch(`${bearer.url}/token?service=test-registry`, { headers: { Authorization: BASIC } })).json();
      const img = await pushImage(remoteTarget(bearer.url, 'app', { authorization: `Bearer ${tok.token}` }), undefined, { tag: 'v1' });
      bearer.reset();
      const r = new RemoteRepository({ registry: bearer.host, repository: 'app' }, {
        plainHttpRegistries: [bearer.host], credentials: staticCredentialProvider(bearer.host, { username: USER, password: PASS }), authSessions: new AuthSessions(),
      });
      expect((await r.resolve(parseReference(`${bearer.host}/app:v1`))).descriptor.digest).toBe(img.digest);
      expect(tokenProxy.requests().filter((l) => l.startsWith('GET /token'))).toHaveLength(1);
      const direct = bearer.exchanges().filter((x) => !x.url.startsWith('/token'));
      expect(direct.length).toBeGreaterThanOrEqual(2);
      // the registry sees no credentials of the user, only the bearer token (and the first anonymous probe)
      expect(direct.every((x) => x.authorization === undefined || x.authorization.startsWith('Bearer '))).toBe(true);
      expect(direct.some((x) => x.authorization?.startsWith('Bearer '))).toBe(true);
    } finally {
      await tokenProxy.stop();
      await bearer.stop();
    }
  });
});
