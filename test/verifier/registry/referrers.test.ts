import { VerificationFailedError, VerificationInconclusiveError } from '../../../src/verifier/errors';
import { RemoteRepository, RemoteRepositoryOptions, parseNextLink } from '../../../src/verifier/registry';
import { Descriptor } from '../../../src/verifier/types';
import { caught, collect } from '../../support/helpers';
import { pushImage, pushSignature, remoteTarget } from '../../support/push';
import { ReferrersServer, ReferrersServerOptions, startReferrersServer } from '../../support/registry';

const JWS = 'application/jose+json';

/** Pushes an image with 3 signatures (referrers only) and 1 non-signature referrer (an SBOM-like artifact). */
async function seed(srv: ReferrersServer, repo: string, tagSchema = false): Promise<{ img: Descriptor; sigs: string[] }> {
  const img = await pushImage(srv.url, repo, { tag: 'v1' });
  const sigs: string[] = [];
  for (let i = 0; i < 3; i++) {
    sigs.push((await pushSignature(srv.url, repo, img, Buffer.from(`{"n":${i}}`), JWS, { tagSchema, legacy: i === 2 })).digest);
  }
  await pushSignature(srv.url, repo, img, Buffer.from('sbom'), JWS, {
    tagSchema: false,
    mutate: (m) => {
      m.artifactType = 'application/spdx+json';
    },
  });
  return { img, sigs: sigs.sort() };
}

describe('referrers API discovery', () => {
  const servers: ReferrersServer[] = [];
  const start = async (o: ReferrersServerOptions) => {
    const s = await startReferrersServer(o);
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  const repoOn = (srv: ReferrersServer, name: string, extra: RemoteRepositoryOptions = {}) =>
    new RemoteRepository({ registry: srv.host, repository: name }, {
      plainHttpRegistries: [srv.host], referrersCapability: new Map(), retry: { baseDelayMs: 1 }, ...extra,
    });

  test.each(['header', 'annotation', 'none'] as const)('paginates and filters (server filtering: %s)', async (filtering) => {
    const srv = await start({ pageSize: 1, filtering });
    const { img, sigs } = await seed(srv, 'app');
    const repo = repoOn(srv, 'app');
    const list = await collect(repo.listSignatures(img));
    expect(list.map((d) => d.digest).sort()).toEqual(sigs);
    expect(list.every((d) => d.artifactType === 'application/vnd.cncf.notary.signature')).toBe(true);
    const pages = srv.requests().filter((r) => r.includes('/referrers/'));
    expect(pages.length).toBe(filtering === 'none' ? 4 : 3);
    expect(pages[0]).toContain('?artifactType=application%2Fvnd.cncf.notary.signature');
    expect(srv.requests().some((r) => r.includes('sha256-'))).toBe(false);
    // every listed signature can be fetched
    for (const d of list) expect((await repo.fetchSignature(d)).envelopeMediaType).toBe(JWS);
  });

  test('the page count is bounded', async () => {
    const srv = await start({ pageSize: 1 });
    const { img } = await seed(srv, 'app');
    const warnings: string[] = [];
    const list = await collect(repoOn(srv, 'app', { maxReferrersPages: 2, logger: { warn: (m) => warnings.push(m) } }).listSignatures(img));
    expect(list).toHaveLength(2);
    expect(warnings.join()).toMatch(/more than 2 pages/);
  });

  test('maxSignatures bounds the listing', async () => {
    const srv = await start({});
    const { img } = await seed(srv, 'app');
    expect(await collect(repoOn(srv, 'app', { maxSignatures: 1 }).listSignatures(img))).toHaveLength(1);
  });

  test('signatures only reachable via subject are found; the tag schema is not consulted', async () => {
    const srv = await start({});
    const img = await pushImage(srv.url, 'app', { tag: 'v1' });
    const a = await pushSignature(srv.url, 'app', img, Buffer.from('a'), JWS, { tagSchema: true });
    const b = await pushSignature(srv.url, 'app', img, Buffer.from('b'), JWS, { tagSchema: false });
    const list = await collect(repoOn(srv, 'app').listSignatures(img));
    expect(list.map((d) => d.digest).sort()).toEqual([a.digest, b.digest].sort());
  });

  test.each(['unsupported-404', 'wrong-content-type'] as const)('falls back to the tag schema when unsupported (%s)', async (mode) => {
    const srv = await start({ referrers: mode });
    const img = await pushImage(srv.url, 'app', { tag: 'v1' });
    const a = await pushSignature(srv.url, 'app', img, Buffer.from('a'), JWS);
    await pushSignature(srv.url, 'app', img, Buffer.from('b'), JWS, { tagSchema: false }); // invisible without the API
    const list = await collect(repoOn(srv, 'app').listSignatures(img));
    expect(list.map((d) => d.digest)).toEqual([a.digest]);
    expect(srv.requests().some((r) => r.includes(`/manifests/${img.digest.replace(':', '-')}`))).toBe(true);
  });

  test('404 NAME_UNKNOWN does not fall back: repository not found', async () => {
    const srv = await start({});
    const img = await pushImage(srv.url, 'app', { tag: 'v1' });
    srv.addFault({ match: '/referrers/', status: 404, body: JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] }) });
    const e = await caught(collect(repoOn(srv, 'app').listSignatures(img)));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.code).toBe('NOT_FOUND');
    expect(srv.requests().some((r) => r.includes('sha256-'))).toBe(false);
  });

  test.each([
    [401, 'AUTHENTICATION'], [403, 'AUTHENTICATION'], [500, 'REGISTRY_UNAVAILABLE'], [503, 'REGISTRY_UNAVAILABLE'],
  ])('HTTP %d on the referrers API never triggers the fallback', async (status, code) => {
    const srv = await start({});
    const img = await pushImage(srv.url, 'app', { tag: 'v1' });
    await pushSignature(srv.url, 'app', img, Buffer.from('a'), JWS);
    srv.addFault({ match: '/referrers/', status });
    const repo = repoOn(srv, 'app', { retry: { maxAttempts: 2, baseDelayMs: 1 } });
    const before = srv.requestCount();
    const e = await caught(collect(repo.listSignatures(img)));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe(code);
    const during = srv.requests().slice(before);
    expect(during.every((r) => r.includes('/referrers/'))).toBe(true);
    expect(during.length).toBe(status >= 500 ? 2 : 1);
  });

  test('a Link to another host is refused', async () => {
    const srv = await start({});
    const { img } = await seed(srv, 'app');
    srv.addFault({
      match: '/referrers/',
      status: 200,
      headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Link': '<https://evil.example.com/v2/x>; rel="next"' },
      body: JSON.stringify({ schemaVersion: 2, manifests: [] }),
    });
    const e = await caught(collect(repoOn(srv, 'app').listSignatures(img)));
    expect(e.code).toBe('INVALID_MANIFEST');
  });

  test('a malformed referrers index is INVALID_MANIFEST', async () => {
    const srv = await start({});
    const { img } = await seed(srv, 'app');
    srv.addFault({
      match: '/referrers/', status: 200, headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' }, body: '{"manifests":[{"digest":5}]}',
    });
    expect((await caught(collect(repoOn(srv, 'app').listSignatures(img)))).code).toBe('INVALID_MANIFEST');
  });

  test('test server: push helpers work through remoteTarget', async () => {
    const srv = await start({});
    const img = await pushImage(srv.url, 'app', { tag: 'v1' });
    expect((await remoteTarget(srv.url, 'app').getManifest('v1'))!.bytes.length).toBe(img.size);
  });
});

describe('parseNextLink', () => {
  test.each([
    ['</v2/a/referrers/x?n=1>; rel="next"', '/v2/a/referrers/x?n=1'],
    ['<https://r/x>;rel=next', 'https://r/x'],
    ['<https://r/prev>; rel="prev", <https://r/next>; rel="next"', 'https://r/next'],
    ['<https://r/prev>; rel="prev"', undefined],
    [undefined, undefined],
    ['garbage', undefined],
  ])('%s', (h, expected) => {
    expect(parseNextLink(h)).toBe(expected);
  });
});
