import { ConfigurationError, VerificationFailedError, VerificationInconclusiveError } from '../../../src/verifier/errors';
import { digestOf, parseReference } from '../../../src/verifier/reference';
import { RemoteRepository, RemoteRepositoryOptions, isLoopbackHost } from '../../../src/verifier/registry';
import { LIMITS } from '../../../src/verifier/types';
import { caught, collect } from '../../support/helpers';
import { pushImage, pushImageIndex, pushSignature, remoteTarget } from '../../support/push';
import { startReferrersServer, startRegistry, TestRegistry } from '../../support/registry';

const JWS = 'application/jose+json';
const COSE = 'application/cose';

describe('RemoteRepository against the real docker-registry (no referrers API)', () => {
  let reg: TestRegistry;
  let opts: RemoteRepositoryOptions;
  let warnings: string[];
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });
  beforeEach(() => {
    warnings = [];
    opts = {
      plainHttpRegistries: [reg.host],
      referrersCapability: new Map(),
      retry: { baseDelayMs: 5 },
      logger: { warn: (m) => warnings.push(m) },
    };
  });
  const repoFor = (name: string) => new RemoteRepository({ registry: reg.host, repository: name }, opts);

  test('resolves a tag (with a warning) and a digest to the same descriptor', async () => {
    const img = await pushImage(reg.url, 'team/app', { tag: 'v1' });
    const repo = repoFor('team/app');
    expect(repo.scope).toBe(`${reg.host}/team/app`);
    const byTag = await repo.resolve(parseReference(`${reg.host}/team/app:v1`));
    expect(byTag.descriptor).toEqual({ mediaType: img.mediaType, digest: img.digest, size: img.size });
    expect(digestOf(byTag.bytes)).toBe(img.digest);
    expect(warnings.join('\n')).toMatch(/rather than a tag\(:v1\)/);
    warnings.length = 0;
    const byDigest = await repo.resolve(parseReference(`${reg.host}/team/app@${img.digest}`));
    expect(byDigest.descriptor).toEqual(byTag.descriptor);
    expect(warnings).toEqual([]);
  });

  test('resolves Docker manifests and image indexes with their media types', async () => {
    const docker = await pushImage(reg.url, 'media', { format: 'docker', tag: 'docker' });
    const { index } = await pushImageIndex(reg.url, 'media', { tag: 'multi' });
    const repo = repoFor('media');
    expect((await repo.resolve(parseReference(`${reg.host}/media:docker`))).descriptor.mediaType)
      .toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect((await repo.resolve(parseReference(`${reg.host}/media:multi`))).descriptor).toEqual(index);
    expect(docker.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  test('unknown tag and unknown digest are NOT_FOUND', async () => {
    await pushImage(reg.url, 'nf', { tag: 'v1' });
    const repo = repoFor('nf');
    const e1 = await caught(repo.resolve(parseReference(`${reg.host}/nf:nope`)));
    expect(e1).toBeInstanceOf(VerificationFailedError);
    expect(e1.code).toBe('NOT_FOUND');
    const e2 = await caught(repo.resolve(parseReference(`${reg.host}/nf@sha256:${'0'.repeat(64)}`)));
    expect(e2.code).toBe('NOT_FOUND');
  });

  test('discovers OCI 1.1 and legacy signatures through the tag schema and fetches them', async () => {
    const img = await pushImage(reg.url, 'signed', { tag: 'v1' });
    const env1 = Buffer.from('{"payload":"x","protected":"y","signature":"z"}');
    const env2 = Buffer.from([0xd2, 0x84, 0x01, 0x02]);
    const s1 = await pushSignature(reg.url, 'signed', img, env1, JWS);
    const s2 = await pushSignature(reg.url, 'signed', img, env2, COSE, { legacy: true });
    const repo = repoFor('signed');
    const list = await collect(repo.listSignatures(img));
    expect(list.map((d) => d.digest)).toEqual([s1.digest, s2.digest]);
    const a1 = await repo.fetchSignature(list[0]);
    expect(a1.manifestDigest).toBe(s1.digest);
    expect(a1.envelopeMediaType).toBe(JWS);
    expect(Buffer.from(a1.envelope)).toEqual(env1);
    expect(a1.manifest.artifactType).toBe('application/vnd.cncf.notary.signature');
    expect(a1.manifest.subject?.digest).toBe(img.digest);
    const a2 = await repo.fetchSignature(list[1]);
    expect(a2.envelopeMediaType).toBe(COSE);
    expect(Buffer.from(a2.envelope)).toEqual(env2);
    expect(a2.manifest.artifactType).toBeUndefined();
    expect(a2.manifest.config?.mediaType).toBe('application/vnd.cncf.notary.signature');
  });

  test('remembers that the referrers API is unsupported: the next image costs one request less', async () => {
    const a = await pushImage(reg.url, 'remember', { tag: 'a' });
    const b = await pushImage(reg.url, 'remember', { tag: 'b' });
    await pushSignature(reg.url, 'remember', a, Buffer.from('{}'), JWS);
    await pushSignature(reg.url, 'remember', b, Buffer.from('{}'), JWS);
    const repo = repoFor('remember');
    let before = repo.stats.requests;
    expect(await collect(repo.listSignatures(a))).toHaveLength(1);
    const first = repo.stats.requests - before;
    expect(first).toBe(2); // referrers 404 + tag
    const repo2 = repoFor('remember'); // same shared capability map
    before = repo2.stats.requests;
    expect(await collect(repo2.listSignatures(b))).toHaveLength(1);
    expect(repo2.stats.requests - before).toBe(1);
  });

  test('an image without signatures lists none (tag missing)', async () => {
    const img = await pushImage(reg.url, 'unsigned', { tag: 'v1' });
    expect(await collect(repoFor('unsigned').listSignatures(img))).toEqual([]);
  });

  test('a signature manifest with two layers is rejected with notation\'s message', async () => {
    const img = await pushImage(reg.url, 'twolayers', { tag: 'v1' });
    const sig = await pushSignature(reg.url, 'twolayers', img, Buffer.from('{}'), JWS, {
      extraLayers: [{ bytes: Buffer.from('second'), mediaType: JWS }],
    });
    const e = await caught(repoFor('twolayers').fetchSignature(sig));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.code).toBe('INVALID_MANIFEST');
    expect(e.message).toBe('signature manifest requries exactly one signature envelope blob');
    const sig0 = await pushSignature(reg.url, 'twolayers', img, Buffer.from('{"x":1}'), JWS, { noLayers: true });
    expect((await caught(repoFor('twolayers').fetchSignature(sig0))).message).toMatch(/exactly one signature envelope blob/);
  });

  test('unknown envelope media type is UNSUPPORTED_ENVELOPE', async () => {
    const img = await pushImage(reg.url, 'badenv', { tag: 'v1' });
    const sig = await pushSignature(reg.url, 'badenv', img, Buffer.from('x'), 'application/octet-stream');
    const e = await caught(repoFor('badenv').fetchSignature(sig));
    expect(e.code).toBe('UNSUPPORTED_ENVELOPE');
    expect(e.message).toContain('signature envelope format with media type "application/octet-stream" is not supported');
  });

  test('declared sizes over the limits are rejected before fetching', async () => {
    const img = await pushImage(reg.url, 'limits', { tag: 'v1' });
    const repo = repoFor('limits');
    const before = repo.stats.requests;
    const e1 = await caught(repo.fetchSignature({ ...img, size: LIMITS.SIGNATURE_MANIFEST_BYTES + 1 }));
    expect(e1.code).toBe('SIZE_LIMIT_EXCEEDED');
    const sig = await pushSignature(reg.url, 'limits', img, Buffer.from('{}'), JWS, {
      mutate: (m) => {
        m.layers[0].size = LIMITS.ENVELOPE_BYTES + 1;
      },
    });
    const e2 = await caught(repo.fetchSignature(sig));
    expect(e2.code).toBe('SIZE_LIMIT_EXCEEDED');
    expect(repo.stats.requests - before).toBe(1); // only the signature manifest was fetched
  });

  test('a descriptor whose size or digest does not match the content is DIGEST_MISMATCH', async () => {
    const img = await pushImage(reg.url, 'mismatch', { tag: 'v1' });
    const repo = repoFor('mismatch');
    expect((await caught(repo.fetchManifest({ ...img, size: img.size - 1 }))).code).toBe('DIGEST_MISMATCH');
    expect((await caught(repo.fetchManifest({ ...img, size: img.size + 1 }))).code).toBe('DIGEST_MISMATCH');
    const sig = await pushSignature(reg.url, 'mismatch', img, Buffer.from('{"a":1}'), JWS, {
      mutate: (m) => {
        m.layers[0].size = 3; // smaller than the blob
      },
    });
    expect((await caught(repo.fetchSignature(sig))).code).toBe('DIGEST_MISMATCH');
  });

  test('plain HTTP is refused for non-loopback registries and not used unless listed', async () => {
    expect(() => new RemoteRepository({ registry: 'registry.example.com', repository: 'a' }, { plainHttpRegistries: ['registry.example.com'] }))
      .toThrow(ConfigurationError);
    expect(() => new RemoteRepository({ registry: '10.0.0.1:5000', repository: 'a' }, { plainHttpRegistries: ['10.0.0.1:5000'] }))
      .toThrow(/only allowed for loopback/);
    expect(isLoopbackHost('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackHost('[::1]:5000')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
    // not listed: HTTPS is attempted against the plain-HTTP registry and fails inconclusively
    await pushImage(reg.url, 'tls', { tag: 'v1' });
    const repo = new RemoteRepository({ registry: reg.host, repository: 'tls' }, { retry: { maxAttempts: 1 } });
    const e = await caught(repo.resolve(parseReference(`${reg.host}/tls:v1`)));
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect(e.code).toBe('NETWORK');
  });

  test('a reference from another repository is a configuration error', async () => {
    const e = await caught(repoFor('x').resolve(parseReference(`${reg.host}/y:v1`)));
    expect(e).toBeInstanceOf(ConfigurationError);
  });

  test('pushed manifests round-trip verbatim', async () => {
    const img = await pushImage(reg.url, 'verbatim', { tag: 'v1' });
    const got = await remoteTarget(reg.url, 'verbatim').getManifest(img.digest);
    expect(digestOf(got!.bytes)).toBe(img.digest);
  });
});

describe('RemoteRepository: served content is verified', () => {
  test('wrong bytes for a manifest, a signature manifest and an envelope are DIGEST_MISMATCH', async () => {
    const srv = await startReferrersServer();
    try {
      const img = await pushImage(srv.url, 'app', { tag: 'v1' });
      const sig = await pushSignature(srv.url, 'app', img, Buffer.from('{"env":1}'), JWS);
      const repo = new RemoteRepository({ registry: srv.host, repository: 'app' }, { plainHttpRegistries: [srv.host], referrersCapability: new Map() });
      srv.addFault({ match: `/manifests/${img.digest}`, wrongBytes: true, times: 1 });
      expect((await caught(repo.resolve(parseReference(`${srv.host}/app@${img.digest}`)))).code).toBe('DIGEST_MISMATCH');
      srv.addFault({ match: '/manifests/v1', wrongBytes: true, times: 1 });
      // a tag: the registry's Docker-Content-Digest no longer matches the bytes
      expect((await caught(repo.resolve(parseReference(`${srv.host}/app:v1`)))).code).toBe('DIGEST_MISMATCH');
      srv.addFault({ match: `/manifests/${sig.digest}`, wrongBytes: true, times: 1 });
      expect((await caught(repo.fetchSignature(sig))).code).toBe('DIGEST_MISMATCH');
      srv.addFault({ match: '/blobs/', wrongBytes: true, times: 1 });
      expect((await caught(repo.fetchSignature(sig))).code).toBe('DIGEST_MISMATCH');
      srv.addFault({ match: '/blobs/', extraBytes: 100, times: 1 });
      expect((await caught(repo.fetchSignature(sig))).code).toBe('DIGEST_MISMATCH');
      // and without faults everything verifies
      expect(Buffer.from((await repo.fetchSignature(sig)).envelope).toString()).toBe('{"env":1}');
    } finally {
      await srv.stop();
    }
  });

  test('a served manifest over 4 MiB is SIZE_LIMIT_EXCEEDED without buffering it', async () => {
    const srv = await startReferrersServer();
    try {
      const big = Buffer.alloc(LIMITS.MANIFEST_BYTES + 10, 0x20);
      big.write('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
      srv.putManifest('big', big, 'application/vnd.oci.image.manifest.v1+json', 'v1');
      const repo = new RemoteRepository({ registry: srv.host, repository: 'big' }, { plainHttpRegistries: [srv.host] });
      const e = await caught(repo.resolve(parseReference(`${srv.host}/big:v1`)));
      expect(e.code).toBe('SIZE_LIMIT_EXCEEDED');
    } finally {
      await srv.stop();
    }
  });
});
