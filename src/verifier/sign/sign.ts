/**
 * Signs an image without the notation binary: resolve the reference, build the Notary payload, have AWS Signer
 * sign it (`SignPayload`), check the returned envelope, then push it exactly as notation does: the empty config
 * and the envelope blob first, the signature manifest (with `subject`) last, then (registries without the
 * referrers API) the `sha256-<hex>` tag-schema index. Until the manifest is pushed no verifier can see anything;
 * a failure after that leaves a complete signature that is listed by the referrers API or not yet by the tag index.
 */
import { ConfigurationError } from '../errors';
import { formatReference } from '../reference';
import { RegistryClientOptions } from '../registry/client';
import { RegistryPusher } from '../registry/push';
import { RemoteRepository } from '../registry/remote';
import { Descriptor, ImageReference, LIMITS, MEDIA_TYPE } from '../types';
import { buildNotaryPayload, checkReturnedEnvelope, parseSigningProfileArn, THUMBPRINT_ANNOTATION } from './payload';
import { SignPayloadClient } from './signer-client';

/** `{}`: the empty config of an OCI 1.1 artifact manifest. */
export const EMPTY_CONFIG_BYTES: Uint8Array = new Uint8Array(Buffer.from('{}'));

export interface SignImageOptions extends RegistryClientOptions {
  /** `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`. */
  readonly signingProfileArn: string;
  /** Added to the payload's `targetArtifact.annotations` (what `verify --user-metadata` checks). */
  readonly userMetadata?: Readonly<Record<string, string>>;
  readonly signer: SignPayloadClient;
}

export interface SignResult {
  /** The reference as given. */
  readonly reference: string;
  /** The signed manifest (a tag is resolved to it). */
  readonly subject: Descriptor;
  /** `registry/repository@<subject digest>`. */
  readonly signedReference: string;
  /** The signature manifest. */
  readonly signature: Descriptor;
  readonly envelope: Descriptor;
  /** How verifiers find it: the registry's referrers API, or the tag-schema index. */
  readonly discovery: 'referrers-api' | 'tag-schema';
  /** The tag-schema index as written (discovery `tag-schema`). */
  readonly tagSchemaIndex?: Descriptor;
  readonly signingProfileArn: string;
  readonly jobId?: string;
  /** Lowercase SHA-256 thumbprints of the envelope's certificate chain, leaf first. */
  readonly thumbprints: readonly string[];
}

/**
 * The signature manifest notation writes (OCI 1.1 image manifest, field order as notation's): artifactType
 * `application/vnd.cncf.notary.signature`, the empty config, the envelope as the only layer, `subject`, and the
 * thumbprint and creation-time annotations.
 */
export function buildSignatureManifest(subject: Descriptor, envelope: Descriptor, thumbprints: readonly string[], created: Date): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.OCI_MANIFEST,
    artifactType: MEDIA_TYPE.NOTARY_SIGNATURE,
    config: { mediaType: MEDIA_TYPE.OCI_EMPTY, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
    layers: [{ mediaType: envelope.mediaType, digest: envelope.digest, size: envelope.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      [THUMBPRINT_ANNOTATION]: JSON.stringify(thumbprints),
      'org.opencontainers.image.created': created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
  return new Uint8Array(Buffer.from(JSON.stringify(manifest)));
}

/**
 * Signs `reference` with AWS Signer and pushes the signature.
 * @throws ConfigurationError (bad ARN, metadata, options), VerificationFailedError (Signer or registry refused, an
 *   envelope over another payload), VerificationInconclusiveError (throttling, 5xx, network, timeouts)
 */
export async function signImage(reference: ImageReference, options: SignImageOptions): Promise<SignResult> {
  const profile = parseSigningProfileArn(options.signingProfileArn);
  if (!reference.digest && !reference.tag) {
    throw new ConfigurationError('INVALID_REFERENCE', `reference ${formatReference(reference)} has neither tag nor digest`);
  }
  const source = new RemoteRepository(reference, options);
  const pusher = new RegistryPusher(reference, options);
  const { descriptor: subject } = await source.resolve(reference);
  const payload = buildNotaryPayload(subject, options.userMetadata);

  const signed = await options.signer.signPayload(profile, payload, options.signal);
  // nothing is pushed unless the envelope signs exactly this payload and passes the envelope checks
  const checked = checkReturnedEnvelope(signed.signature, payload);

  await pusher.pushBlob(EMPTY_CONFIG_BYTES, MEDIA_TYPE.OCI_EMPTY, LIMITS.SIGNATURE_MANIFEST_BYTES);
  const envelope = await pusher.pushBlob(signed.signature, MEDIA_TYPE.JWS, LIMITS.ENVELOPE_BYTES);
  const created = checked.envelope.authenticSigningTime ?? checked.envelope.signingTime ?? new Date();
  const manifestBytes = buildSignatureManifest(subject, envelope, checked.thumbprints, created);
  const pushed = await pusher.pushManifest(manifestBytes, MEDIA_TYPE.OCI_MANIFEST);
  const manifestJson = JSON.parse(Buffer.from(manifestBytes).toString('utf8'));
  const signature: Descriptor = { ...pushed.descriptor, artifactType: MEDIA_TYPE.NOTARY_SIGNATURE, annotations: manifestJson.annotations };

  let discovery: SignResult['discovery'] = 'referrers-api';
  let tagSchemaIndex: Descriptor | undefined;
  if (pushed.ociSubject !== subject.digest && !(await pusher.referrersApiSupported(subject))) {
    discovery = 'tag-schema';
    tagSchemaIndex = await pusher.mergeIntoTagSchemaIndex(subject, signature);
  }
  return {
    reference: formatReference(reference),
    subject,
    signedReference: `${reference.registry}/${reference.repository}@${subject.digest}`,
    signature,
    envelope,
    discovery,
    tagSchemaIndex,
    signingProfileArn: profile.arn,
    jobId: signed.jobId,
    thumbprints: checked.thumbprints,
  };
}
