/**
 * An ArtifactSource over in-memory content, for vectors that come as bare envelopes (notation-go's
 * mock envelopes have no registry around them). It serves one target descriptor and its signatures.
 */
import { createHash } from 'node:crypto';
import { VerificationFailedError } from '../../src/verifier/errors';
import { ArtifactSource, ResolvedManifest, SignatureArtifact } from '../../src/verifier/registry/source';
import { Descriptor, ImageReference, MEDIA_TYPE } from '../../src/verifier/types';

export class FixtureSource implements ArtifactSource {
  public readonly stats = { requests: 0 };
  private readonly sigs: Array<{ desc: Descriptor; mediaType: string; envelope: Uint8Array }>;

  public constructor(
    public readonly scope: string,
    private readonly target: Descriptor,
    signatures: Array<{ mediaType: string; envelope: Uint8Array }>,
  ) {
    this.sigs = signatures.map((s) => ({
      ...s,
      desc: { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + createHash('sha256').update(s.envelope).digest('hex'), size: s.envelope.length, artifactType: MEDIA_TYPE.NOTARY_SIGNATURE },
    }));
  }

  public async resolve(ref: ImageReference): Promise<ResolvedManifest> {
    this.stats.requests++;
    if (ref.digest && ref.digest !== this.target.digest) throw new VerificationFailedError('NOT_FOUND', `${ref.digest}: not found`);
    return { descriptor: this.target, bytes: new Uint8Array() };
  }

  public async fetchManifest(): Promise<Uint8Array> {
    throw new VerificationFailedError('NOT_FOUND', 'no manifests in a fixture source');
  }

  public async *listSignatures(subject: Descriptor): AsyncIterable<Descriptor> {
    this.stats.requests++;
    if (subject.digest !== this.target.digest) return;
    for (const s of this.sigs) yield s.desc;
  }

  public async fetchSignature(desc: Descriptor): Promise<SignatureArtifact> {
    this.stats.requests++;
    const s = this.sigs.find((x) => x.desc.digest === desc.digest)!;
    return {
      manifestDigest: desc.digest,
      manifest: { mediaType: MEDIA_TYPE.OCI_MANIFEST, artifactType: MEDIA_TYPE.NOTARY_SIGNATURE, envelope: { mediaType: s.mediaType, digest: desc.digest, size: desc.size }, annotations: {} },
      envelopeMediaType: s.mediaType,
      envelope: s.envelope,
    };
  }
}
