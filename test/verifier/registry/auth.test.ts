import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerificationInconclusiveError } from '../../../src/verifier/errors';
import { parseReference } from '../../../src/verifier/reference';
import {
  CredentialProvider, RemoteRepository, chainCredentialProviders, dockerConfigCredentials, ecrCredentialProvider, parseChallenge, staticCredentialProvider,
} from '../../../src/verifier/registry';
import { caught } from '../../support/helpers';
import { pushImage, pushSignature, remoteTarget } from '../../support/push';
import { ReferrersServer, ServerAuth, startReferrersServer } from '../../support/registry';

/** Starts an authenticated server and seeds it with an image + signature (pushing with a valid token). */
async function seeded(auth: ServerAuth): Promise<{ srv: ReferrersServer; digest: string }> {
  const srv = await startReferrersServer({ auth });
  let authorization: string;
  if (auth.type === 'basic') {
    authorization = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
  } else {
    // get a token the way a client would
    const res = await fetch(`${srv.url}/token?service=${auth.service ?? 'test-registry'}`, {
      headers: auth.username ? { Authorization: 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } : {},
    });
    const j: any = await res.json();
    authorization = `Bearer ${j.token}`;
  }
  const t = remoteTarget(srv.url, 'app', { authorization });
  const img = await pushImage(t, undefined, { tag: 'v1' });
  await pushSignature(t, undefined, img, Buffer.from('{"sig":1}'), 'application/jose+json');
  return { srv, digest: img.digest };
}

describe('registry authentication', () => {
  const repoFor = (srv: ReferrersServer, credentials?: CredentialProvider) =>
    new RemoteRepository({ registry: srv.host, repository: 'app' }, { plainHttpRegistries: [srv.host], credentials, referrersCapability: new Map() });

  test('basic auth: works with credentials, AUTHENTICATION without or with wrong ones', async () => {
    const { srv, digest } = await seeded({ type: 'basic', username: 'u', password: 'p' });
    try {
      const ok = repoFor(srv, staticCredentialProvider(srv.host, { username: 'u', password: 'p' }));
      const r = await ok.resolve(parseReference(`${srv.host}/app:v1`));
      expect(r.descriptor.digest).toBe(digest);
      const sigs: string[] = [];
      for await (const d of ok.listSignatures(r.descriptor)) sigs.push(d.digest);
      expect(sigs).toHaveLength(1);
      const before = srv.requestCount();
      await ok.resolve(parseReference(`${srv.host}/app:v1`));
      expect(srv.requestCount() - before).toBe(1); // the Authorization header is reused

      const anon = await caught(repoFor(srv).resolve(parseReference(`${srv.host}/app:v1`)));
      expect(anon).toBeInstanceOf(VerificationInconclusiveError);
      expect(anon.code).toBe('AUTHENTICATION');
      const wrong = await caught(repoFor(srv, staticCredentialProvider(srv.host, { username: 'u', password: 'x' })).resolve(parseReference(`${srv.host}/app:v1`)));
      expect(wrong.code).toBe('AUTHENTICATION');
      // credentials for another registry are not sent
      const other = await caught(repoFor(srv, staticCredentialProvider('other.example.com', { username: 'u', password: 'p' })).resolve(parseReference(`${srv.host}/app:v1`)));
      expect(other.code).toBe('AUTHENTICATION');
    } finally {
      await srv.stop();
    }
  });

  test('bearer challenge with username/password', async () => {
    const { srv, digest } = await seeded({ type: 'bearer', username: 'u', password: 'p' });
    try {
      const repo = repoFor(srv, staticCredentialProvider(srv.host, { username: 'u', password: 'p' }));
      expect((await repo.resolve(parseReference(`${srv.host}/app:v1`))).descriptor.digest).toBe(digest);
      const tokenReq = srv.requests().filter((r) => r.startsWith('GET /token'));
      expect(tokenReq.at(-1)).toContain('scope=repository%3Aapp%3Apull');
      expect(tokenReq.at(-1)).toContain('service=test-registry');
      const sig = await repo.fetchSignature((await first(repo.listSignatures({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1 })))!);
      expect(Buffer.from(sig.envelope).toString()).toBe('{"sig":1}');
      const wrong = await caught(repoFor(srv, staticCredentialProvider(srv.host, { username: 'u', password: 'bad' })).resolve(parseReference(`${srv.host}/app:v1`)));
      expect(wrong).toBeInstanceOf(VerificationInconclusiveError);
      expect(wrong.code).toBe('AUTHENTICATION');
    } finally {
      await srv.stop();
    }
  });

  test('bearer challenge with an identity token (refresh_token grant) and anonymous tokens', async () => {
    const { srv, digest } = await seeded({ type: 'bearer', username: 'u', password: 'p', identityToken: 'refresh-me', anonymous: true });
    try {
      const repo = repoFor(srv, staticCredentialProvider(srv.host, { identityToken: 'refresh-me' }));
      expect((await repo.resolve(parseReference(`${srv.host}/app:v1`))).descriptor.digest).toBe(digest);
      expect(srv.requests().some((r) => r.startsWith('POST /token'))).toBe(true);
      const anon = repoFor(srv);
      expect((await anon.resolve(parseReference(`${srv.host}/app:v1`))).descriptor.digest).toBe(digest);
      const bad = await caught(repoFor(srv, staticCredentialProvider(srv.host, { identityToken: 'nope' })).resolve(parseReference(`${srv.host}/app:v1`)));
      expect(bad.code).toBe('AUTHENTICATION');
    } finally {
      await srv.stop();
    }
  });
});

async function first<T>(it: AsyncIterable<T>): Promise<T | undefined> {
  for await (const x of it) return x;
  return undefined;
}

describe('ecrCredentialProvider', () => {
  const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
  const token = (pw: string) => Buffer.from(`AWS:${pw}`).toString('base64');

  test('decodes AWS:password, caches per host until shortly before expiry', async () => {
    let now = 1_000_000;
    const calls: Array<[string, string]> = [];
    const provider = ecrCredentialProvider(async (id, region) => {
      calls.push([id, region]);
      return { authorizationToken: token(`pw${calls.length}`), expiresAt: new Date(now + 12 * 3600 * 1000) };
    }, { now: () => now });
    expect(await provider(host)).toEqual({ username: 'AWS', password: 'pw1' });
    expect(calls).toEqual([['123456789012', 'eu-west-1']]);
    now += 11 * 3600 * 1000;
    expect(await provider(host)).toEqual({ username: 'AWS', password: 'pw1' });
    expect(calls).toHaveLength(1);
    now += 56 * 60 * 1000; // 4 minutes before expiry: refresh
    expect(await provider(host)).toEqual({ username: 'AWS', password: 'pw2' });
    expect(calls).toHaveLength(2);
    // another registry host is cached separately
    await provider('210987654321.dkr.ecr.us-east-1.amazonaws.com');
    expect(calls.at(-1)).toEqual(['210987654321', 'us-east-1']);
  });

  test('non-ECR hosts get no credentials; concurrent callers share one call; failures are typed', async () => {
    let n = 0;
    const provider = ecrCredentialProvider(async () => {
      n++;
      await new Promise((r) => setTimeout(r, 10));
      return { authorizationToken: token('x'), expiresAt: new Date(Date.now() + 3600_000) };
    });
    expect(await provider('registry.example.com')).toBeUndefined();
    await Promise.all([provider(host), provider(host), provider(host)]);
    expect(n).toBe(1);
    const failing = ecrCredentialProvider(async () => {
      throw new Error('AccessDeniedException');
    });
    const e = await caught(failing(host));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('AWS_API');
    const malformed = ecrCredentialProvider(async () => ({ authorizationToken: 'bm9jb2xvbg', expiresAt: new Date() }));
    expect((await caught(malformed(host))).code).toBe('AUTHENTICATION');
  });

  test('chainCredentialProviders returns the first hit', async () => {
    const ecr = ecrCredentialProvider(async () => ({ authorizationToken: token('e'), expiresAt: new Date(Date.now() + 3600_000) }));
    const chain = chainCredentialProviders(ecr, staticCredentialProvider('localhost:5000', { username: 'a', password: 'b' }));
    expect(await chain(host)).toEqual({ username: 'AWS', password: 'e' });
    expect(await chain('localhost:5000')).toEqual({ username: 'a', password: 'b' });
    expect(await chain('other:5000')).toBeUndefined();
  });
});

describe('parseChallenge', () => {
  test('bearer with quoted params', () => {
    expect(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
    });
  });
  test('basic and garbage', () => {
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'basic', params: { realm: 'x' } });
    expect(parseChallenge(undefined)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
  });
});

describe('dockerConfigCredentials', () => {
  test('basic auth and identity tokens from ~/.docker/config.json; absent or broken file means anonymous', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csi-docker-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({
        auths: {
          'registry.example.com': { auth: Buffer.from('alice:s3cr:et').toString('base64') },
          'https://tokens.example.com': { identitytoken: 'refresh-token' },
          'broken.example.com': { auth: Buffer.from('no-colon').toString('base64') },
        },
      }));
      const provider = dockerConfigCredentials(file);
      expect(await provider('registry.example.com')).toEqual({ username: 'alice', password: 's3cr:et' });
      expect(await provider('tokens.example.com')).toEqual({ identityToken: 'refresh-token' });
      expect(await provider('broken.example.com')).toBeUndefined();
      expect(await provider('other.example.com')).toBeUndefined();
      writeFileSync(file, '{not json');
      expect(await provider('registry.example.com')).toBeUndefined();
      expect(await dockerConfigCredentials(join(dir, 'missing.json'))('registry.example.com')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
