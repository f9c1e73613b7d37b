import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ConfigurationError, VerificationFailedError } from '../../../src/verifier/errors';
import { OciLayoutSource } from '../../../src/verifier/registry';
import { Descriptor } from '../../../src/verifier/types';
import { caught, collect } from '../../support/helpers';
import { layoutTarget, pushImage, pushSignature, writeOciLayout } from '../../support/push';

const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'notation-go', 'oci-layout-signed');
const TARGET: Descriptor = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
  size: 481,
};
const JWS_SIG = readFileSync(path.join(FIXTURE, 'jws_signature.sig'));
const COSE_SIG = readFileSync(path.join(FIXTURE, 'cose_signature.sig'));

describe('OciLayoutSource on the notation-go vector layout', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'csi-layout-'));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  test('resolves tag v2 and the digest to the signed manifest descriptor', async () => {
    const warnings: string[] = [];
    const src = new OciLayoutSource(FIXTURE, { logger: { warn: (m) => warnings.push(m) } });
    const byTag = await src.resolve({ registry: '', repository: '', tag: 'v2' });
    expect(byTag.descriptor).toEqual(TARGET);
    expect(warnings).toHaveLength(1);
    const byDigest = await src.resolve({ registry: '', repository: '', digest: TARGET.digest });
    expect(byDigest.descriptor).toEqual(TARGET);
    expect(Buffer.from(byDigest.bytes)).toEqual(Buffer.from(byTag.bytes));
    // the payload of the vector's JWS signature names exactly this descriptor
    const payload = JSON.parse(Buffer.from(JSON.parse(JWS_SIG.toString()).payload, 'base64url').toString());
    expect(payload.targetArtifact).toEqual(byTag.descriptor);
  });

  test('the vector layout itself holds no signature manifests', async () => {
    expect(await collect(new OciLayoutSource(FIXTURE).listSignatures(TARGET))).toEqual([]);
  });

  test('signatures written into a copy are discovered via subject and the tag schema, and fetched', async () => {
    writeOciLayout(tmp, { from: FIXTURE });
    const t = layoutTarget(tmp);
    const s1 = await pushSignature(t, undefined, TARGET, JWS_SIG, 'application/jose+json', { tagSchema: false });
    const s2 = await pushSignature(t, undefined, TARGET, COSE_SIG, 'application/cose', { legacy: true });
    // a third one only in the tag-schema index (no subject field)
    const s3 = await pushSignature(t, undefined, TARGET, Buffer.from('{"x":3}'), 'application/jose+json', { subject: false });
    const src = new OciLayoutSource(tmp);
    const list = await collect(src.listSignatures(TARGET));
    expect(list.map((d) => d.digest)).toEqual([s1.digest, s2.digest, s3.digest]);
    const a1 = await src.fetchSignature(list[0]);
    expect(a1.envelopeMediaType).toBe('application/jose+json');
    expect(Buffer.from(a1.envelope)).toEqual(JWS_SIG);
    const a2 = await src.fetchSignature(list[1]);
    expect(a2.envelopeMediaType).toBe('application/cose');
    expect(Buffer.from(a2.envelope)).toEqual(COSE_SIG);
    // other subjects see nothing
    const other = await pushImage(t, undefined, { tag: 'other' });
    expect(await collect(src.listSignatures(other))).toEqual([]);
  });

  test('the config media type rule is enforced for layouts', async () => {
    writeOciLayout(tmp, { from: FIXTURE });
    const t = layoutTarget(tmp);
    const bad11 = await pushSignature(t, undefined, TARGET, JWS_SIG, 'application/jose+json', {
      tagSchema: false,
      mutate: (m) => {
        m.config.mediaType = 'application/vnd.cncf.notary.signature';
      },
    });
    const e1 = await caught(new OciLayoutSource(tmp).fetchSignature(bad11));
    expect(e1).toBeInstanceOf(VerificationFailedError);
    expect(e1.code).toBe('INVALID_MANIFEST');
    const badLegacy = await pushSignature(t, undefined, TARGET, JWS_SIG, 'application/jose+json', {
      tagSchema: false,
      mutate: (m) => {
        delete m.artifactType;
        m.config.mediaType = 'application/vnd.oci.empty.v1+json';
      },
    });
    // not a notary signature at all: not listed
    const listed = (await collect(new OciLayoutSource(tmp).listSignatures(TARGET))).map((d) => d.digest);
    expect(listed).toEqual([bad11.digest]);
    expect((await caught(new OciLayoutSource(tmp).fetchSignature({ ...badLegacy, artifactType: undefined }))).code).toBe('INVALID_MANIFEST');
  });

  test('two layers are rejected', async () => {
    writeOciLayout(tmp, { from: FIXTURE });
    const sig = await pushSignature(layoutTarget(tmp), undefined, TARGET, JWS_SIG, 'application/jose+json', {
      extraLayers: [{ bytes: COSE_SIG, mediaType: 'application/cose' }],
    });
    expect((await caught(new OciLayoutSource(tmp).fetchSignature(sig))).message)
      .toBe('signature manifest requries exactly one signature envelope blob');
  });

  test('tampered blobs are DIGEST_MISMATCH', async () => {
    writeOciLayout(tmp, { from: FIXTURE });
    const sig = await pushSignature(layoutTarget(tmp), undefined, TARGET, JWS_SIG, 'application/jose+json');
    const src = new OciLayoutSource(tmp);
    const a = await src.fetchSignature(sig);
    const envPath = path.join(tmp, 'blobs', 'sha256', a.manifest.envelope.digest.split(':')[1]);
    const tampered = Buffer.from(JWS_SIG);
    tampered[10] ^= 1;
    writeFileSync(envPath, tampered);
    expect((await caught(src.fetchSignature(sig))).code).toBe('DIGEST_MISMATCH');
    const manifestPath = path.join(tmp, 'blobs', 'sha256', TARGET.digest.split(':')[1]);
    writeFileSync(manifestPath, Buffer.concat([readFileSync(manifestPath), Buffer.from(' ')]));
    expect((await caught(src.resolve({ registry: '', repository: '', tag: 'v2' }))).code).toBe('DIGEST_MISMATCH');
    expect((await caught(src.resolve({ registry: '', repository: '', digest: TARGET.digest }))).code).toBe('DIGEST_MISMATCH');
  });

  test('missing tag, missing blob and non-layout directories', async () => {
    const src = new OciLayoutSource(FIXTURE);
    expect((await caught(src.resolve({ registry: '', repository: '', tag: 'nope' }))).code).toBe('NOT_FOUND');
    expect((await caught(src.resolve({ registry: '', repository: '', digest: 'sha256:' + '0'.repeat(64) }))).code).toBe('NOT_FOUND');
    expect(await caught(new OciLayoutSource(tmp).resolve({ registry: '', repository: '', tag: 'v2' }))).toBeInstanceOf(ConfigurationError);
    expect((await caught(src.fetchManifest({ ...TARGET, size: 5 * 1024 * 1024 }))).code).toBe('SIZE_LIMIT_EXCEEDED');
    expect((await caught(src.fetchManifest({ ...TARGET, digest: 'sha256:../../etc' }))).code).toBe('INVALID_MANIFEST');
  });

  test('layout images pushed by the helpers resolve (index and docker formats)', async () => {
    const t = writeOciLayout(tmp);
    const img = await pushImage(t, undefined, { tag: 'a', format: 'docker' });
    const idx = await pushImage(t, undefined, { tag: 'b', index: true });
    const src = new OciLayoutSource(tmp);
    expect((await src.resolve({ registry: '', repository: '', tag: 'a' })).descriptor).toEqual(img);
    expect((await src.resolve({ registry: '', repository: '', tag: 'b' })).descriptor).toEqual(idx);
  });
});
