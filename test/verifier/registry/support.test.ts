import { pushImage, pushImageIndex, pushSignature, remoteTarget, tagSchemaTag } from '../../support/push';
import { startReferrersServer, startRegistry, TestRegistry } from '../../support/registry';

describe('test support: docker-registry + push helpers', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ countRequests: true });
  });
  afterAll(async () => {
    await reg?.stop();
  });

  test('GET /v2/ answers 200 and the registry has no referrers API', async () => {
    expect((await fetch(`${reg.url}/v2/`)).status).toBe(200);
    const res = await fetch(`${reg.url}/v2/x/referrers/sha256:${'a'.repeat(64)}`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('404 page not found');
    expect(reg.requestCount!()).toBeGreaterThanOrEqual(2);
  });

  test('pushImage, pushImageIndex and pushSignature round-trip', async () => {
    const img = await pushImage(reg.url, 'team/app', { tag: 'v1' });
    expect(img.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const t = remoteTarget(reg.url, 'team/app');
    expect((await t.getManifest('v1'))!.bytes.length).toBe(img.size);
    const docker = await pushImage(reg.url, 'team/app', { format: 'docker', tag: 'd' });
    expect((await t.getManifest(docker.digest))!.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const idx = await pushImageIndex(reg.url, 'team/app', { tag: 'multi' });
    expect(idx.manifests).toHaveLength(2);
    const sig = await pushSignature(reg.url, 'team/app', img, Buffer.from('{"fake":"jws"}'), 'application/jose+json');
    const sig2 = await pushSignature(reg.url, 'team/app', img, Buffer.from('{"fake":"legacy"}'), 'application/jose+json', { legacy: true });
    const tagIndex = await t.getManifest(tagSchemaTag(img.digest));
    expect(tagIndex!.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const parsed = JSON.parse(tagIndex!.bytes.toString());
    expect(parsed.manifests.map((m: any) => m.digest)).toEqual([sig.digest, sig2.digest]);
    expect(parsed.manifests.every((m: any) => m.artifactType === 'application/vnd.cncf.notary.signature')).toBe(true);
  });
});

describe('test support: referrers server', () => {
  test('lists referrers with pagination', async () => {
    const srv = await startReferrersServer({ pageSize: 1 });
    try {
      const img = await pushImage(srv.url, 'app', { tag: 'v1' });
      await pushSignature(srv.url, 'app', img, Buffer.from('a'), 'application/jose+json', { tagSchema: false });
      await pushSignature(srv.url, 'app', img, Buffer.from('b'), 'application/cose', { tagSchema: false });
      const res = await fetch(`${srv.url}/v2/app/referrers/${img.digest}`);
      expect(res.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
      expect(res.headers.get('link')).toMatch(/rel="next"/);
      expect(((await res.json()) as any).manifests).toHaveLength(1);
    } finally {
      await srv.stop();
    }
  });
});
