/**
 * RegistryClient on its own (the HTTP side a push module reuses): a PUT with a body and Content-Type, the token
 * scope a pushing client asks for, sessions kept apart from readers', 201/202 as the expected statuses, and
 * a caller's Authorization header never sent. Against a real loopback HTTP server.
 */
import { RegistryClient, staticCredentialProvider } from '../../../src/verifier/registry';
import { AuthSessions } from '../../../src/verifier/registry/auth-session';
import { RecordingHandler, RecordingServer, startRecordingServer } from '../../support/registry';

let srv: RecordingServer;
let tokens = 0;
afterEach(() => srv.stop());
beforeEach(async () => {
  srv = await startRecordingServer();
  tokens = 0;
  // a registry that wants a bearer token; the token names the scope it was issued for
  srv.respondWith((req): ReturnType<RecordingHandler> => {
    if (req.url.startsWith('/token')) {
      tokens++;
      const scope = new URL(req.url, 'http://x').searchParams.getAll('scope').join(' ');
      return { status: 200, body: JSON.stringify({ token: Buffer.from(scope).toString('base64url') }) };
    }
    const granted = req.authorization?.startsWith('Bearer ') ? Buffer.from(req.authorization.slice(7), 'base64url').toString() : '';
    const wantsPush = req.method !== 'GET';
    if (!granted || (wantsPush && !granted.includes('pull,push'))) {
      return {
        status: 401,
        headers: { 'WWW-Authenticate': `Bearer realm="${srv.url}/token",service="test",scope="repository:team/app:${wantsPush ? 'pull,push' : 'pull'}"` },
      };
    }
    if (req.method === 'PUT') return { status: 201, headers: { Location: '/v2/team/app/manifests/sha256:abc' } };
    return { status: 200, body: '{}' };
  });
});

const opts = (sessions: AuthSessions) => ({
  plainHttpRegistries: [srv.host],
  authSessions: sessions,
  credentials: staticCredentialProvider(srv.host, { username: 'u', password: 'p' }),
  retry: { maxAttempts: 1 },
});

test('a pushing client asks for pull,push, sends method, body and Content-Type, and accepts 201', async () => {
  const sessions = new AuthSessions();
  const client = new RegistryClient({ registry: srv.host, repository: 'team/app' }, opts(sessions), ['pull', 'push']);
  const body = Buffer.from('{"schemaVersion":2}');
  const res = await client.withOp((op) => client.send(op, '/v2/team/app/manifests/v1', {
    method: 'PUT',
    body,
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'authorization': 'Bearer stolen' },
    maxBytes: 1024,
    what: 'manifest push',
  }));
  expect(res.status).toBe(201);
  expect(() => client.expectOk(res, 'manifest push', 'failed', [201, 202])).not.toThrow();
  expect(() => client.expectOk(res, 'manifest push')).toThrow(/unexpected HTTP 201/);
  const token = srv.requests().find((r) => r.url.startsWith('/token'))!;
  expect(new URL(token.url, 'http://x').searchParams.getAll('scope')).toEqual(['repository:team/app:pull,push']);
  const puts = srv.requests().filter((r) => r.method === 'PUT');
  // the caller's Authorization never went out: first the anonymous attempt, then the session's token
  expect(puts.map((r) => r.authorization)).toEqual([undefined, `Bearer ${Buffer.from('repository:team/app:pull,push').toString('base64url')}`]);
  expect(client.stats).toMatchObject({ logins: 1 });
});

test('readers and pushers of one repository keep their own sessions: reads never carry the push token', async () => {
  const sessions = new AuthSessions();
  const reader = new RegistryClient({ registry: srv.host, repository: 'team/app' }, opts(sessions));
  const pusher = new RegistryClient({ registry: srv.host, repository: 'team/app' }, opts(sessions), ['pull', 'push']);
  const get = () => reader.withOp((op) => reader.send(op, '/v2/team/app/manifests/v1', { maxBytes: 1024, what: 'manifest' }));
  const put = () => pusher.withOp((op) => pusher.send(op, '/v2/team/app/manifests/v1', { method: 'PUT', body: Buffer.from('{}'), maxBytes: 1024, what: 'push' }));
  expect((await get()).status).toBe(200);
  expect((await put()).status).toBe(201);
  expect((await get()).status).toBe(200);
  expect((await put()).status).toBe(201);
  // one login each, then each client reuses its own token: reads never carry the push token
  expect(tokens).toBe(2);
  const token = (scope: string) => `Bearer ${Buffer.from(`repository:team/app:${scope}`).toString('base64url')}`;
  const sent = srv.requests().filter((r) => !r.url.startsWith('/token') && r.authorization);
  expect(sent.filter((r) => r.method === 'GET').map((r) => r.authorization)).toEqual([token('pull'), token('pull')]);
  expect(sent.filter((r) => r.method === 'PUT').map((r) => r.authorization)).toEqual([token('pull,push'), token('pull,push')]);
});

test('a plain-HTTP client for a non-loopback registry cannot be built', () => {
  expect(() => new RegistryClient({ registry: 'registry.example.com', repository: 'a' }, { plainHttpRegistries: ['registry.example.com'] }))
    .toThrow(/only allowed for loopback/);
});
