/**
 * Where images and their Notation signatures come from: a remote OCI registry or an OCI image layout.
 */
import { VerificationFailedError } from '../errors';
import { parseStrictJson } from '../json';
import { Descriptor, ImageReference, LIMITS, MEDIA_TYPE } from '../types';

/** The `artifactType` of Notation signatures (and the legacy config media type). */
export const SIGNATURE_ARTIFACT_TYPE = MEDIA_TYPE.NOTARY_SIGNATURE;

/** Envelope media types notation understands. */
export const ENVELOPE_MEDIA_TYPES: readonly string[] = [MEDIA_TYPE.JWS, MEDIA_TYPE.COSE];

/** Manifest media types accepted when resolving an image. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPE.OCI_MANIFEST,
  MEDIA_TYPE.OCI_INDEX,
  MEDIA_TYPE.DOCKER_MANIFEST,
  MEDIA_TYPE.DOCKER_MANIFEST_LIST,
  MEDIA_TYPE.OCI_ARTIFACT_MANIFEST,
];

export interface RegistryLogger {
  warn(message: string): void;
  debug?(message: string): void;
}

/** An image manifest as resolved: its descriptor (mediaType, digest, size from the exact bytes) and the bytes. */
export interface ResolvedManifest {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

/** A parsed signature manifest (OCI image manifest, or the legacy OCI artifact manifest). */
export interface SignatureManifest {
  readonly mediaType: string;
  readonly artifactType?: string;
  readonly config?: Descriptor;
  /** The envelope descriptor (`layers[0]`, or `blobs[0]` of an artifact manifest). */
  readonly envelope: Descriptor;
  readonly subject?: Descriptor;
  readonly annotations: Record<string, string>;
}

export interface SignatureArtifact {
  /** Digest of the signature manifest. */
  readonly manifestDigest: string;
  readonly manifest: SignatureManifest;
  readonly envelopeMediaType: string;
  readonly envelope: Uint8Array;
}

export interface ArtifactSource {
  /** `registry/repository` (the trust-policy scope). */
  readonly scope: string;
  /** Requests made (HTTP exchanges, or file reads for layouts). */
  readonly stats: { requests: number };
  /** Resolves a tag or digest reference to the manifest descriptor. A digest must resolve to itself. */
  resolve(reference: ImageReference): Promise<ResolvedManifest>;
  /** Fetches a manifest by descriptor (digest and size verified). */
  fetchManifest(desc: Descriptor, maxBytes?: number): Promise<Uint8Array>;
  /** Signature manifest descriptors for `subject`, in discovery order. */
  listSignatures(subject: Descriptor): AsyncIterable<Descriptor>;
  /** Fetches and validates one signature manifest and its envelope blob. */
  fetchSignature(sigManifest: Descriptor): Promise<SignatureArtifact>;
}

function invalidManifest(message: string): VerificationFailedError {
  return new VerificationFailedError('INVALID_MANIFEST', message);
}

function isRecord(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a JSON value as a descriptor; throws INVALID_MANIFEST. */
export function parseDescriptor(v: unknown, where: string): Descriptor {
  if (!isRecord(v)) throw invalidManifest(`${where}: descriptor must be an object`);
  const { mediaType, digest, size, artifactType, annotations } = v;
  if (typeof mediaType !== 'string' || mediaType.length === 0) throw invalidManifest(`${where}: descriptor mediaType missing`);
  if (typeof digest !== 'string' || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
    throw invalidManifest(`${where}: invalid descriptor digest`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalidManifest(`${where}: invalid descriptor size`);
  const out: { -readonly [K in keyof Descriptor]: Descriptor[K] } = { mediaType, digest, size };
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string') throw invalidManifest(`${where}: invalid artifactType`);
    out.artifactType = artifactType;
  }
  if (annotations !== undefined) out.annotations = parseAnnotations(annotations, where);
  return out;
}

function parseAnnotations(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw invalidManifest(`${where}: annotations must be an object`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalidManifest(`${where}: annotation ${JSON.stringify(k)} must be a string`);
    out[k] = val;
  }
  return out;
}

/**
 * Parses JSON bytes into an object with the strict parser (src/verifier/json: RFC 8259, valid UTF-8,
 * no duplicate or case-variant keys at any depth); INVALID_MANIFEST otherwise.
 */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, any> {
  const v = parseStrictJson(bytes, (message, _reason, cause) =>
    new VerificationFailedError('INVALID_MANIFEST', `${what} is not valid JSON: ${message}`, cause === undefined ? undefined : { cause }));
  if (!isRecord(v)) throw invalidManifest(`${what} is not a JSON object`);
  return v;
}

export interface ParseSignatureManifestOptions {
  /**
   * Enforce the config media type rule (notation-go's OCI-layout path): with `artifactType` the config must be
   * `application/vnd.oci.empty.v1+json`; without it, `application/vnd.cncf.notary.signature`.
   */
  readonly checkConfigMediaType?: boolean;
}

/**
 * Parses and validates a signature manifest. `mediaType` is the descriptor media type it was fetched under.
 * @throws VerificationFailedError INVALID_MANIFEST / UNSUPPORTED_ENVELOPE / SIZE_LIMIT_EXCEEDED
 */
export function parseSignatureManifest(bytes: Uint8Array, mediaType: string, opts: ParseSignatureManifestOptions = {}): SignatureManifest {
  if (bytes.length > LIMITS.SIGNATURE_MANIFEST_BYTES) {
    throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED',
      `signature manifest size ${bytes.length} exceeds the limit of ${LIMITS.SIGNATURE_MANIFEST_BYTES} bytes`);
  }
  const m = parseJsonObject(bytes, 'signature manifest');
  if (m.mediaType !== undefined && m.mediaType !== mediaType) {
    throw invalidManifest(`signature manifest mediaType ${JSON.stringify(m.mediaType)} does not match descriptor mediaType ${JSON.stringify(mediaType)}`);
  }
  let artifactType: string | undefined;
  let config: Descriptor | undefined;
  let blobs: unknown;
  if (mediaType === MEDIA_TYPE.OCI_MANIFEST) {
    if (m.schemaVersion !== 2) throw invalidManifest('signature manifest schemaVersion must be 2');
    config = parseDescriptor(m.config, 'signature manifest config');
    if (m.artifactType !== undefined) {
      if (typeof m.artifactType !== 'string') throw invalidManifest('signature manifest artifactType must be a string');
      artifactType = m.artifactType;
    }
    const effectiveType = artifactType ?? config.mediaType;
    if (effectiveType !== SIGNATURE_ARTIFACT_TYPE) {
      throw invalidManifest(`artifact type ${JSON.stringify(effectiveType)} is not a Notary signature (${SIGNATURE_ARTIFACT_TYPE})`);
    }
    if (opts.checkConfigMediaType) {
      if (artifactType !== undefined && config.mediaType !== MEDIA_TYPE.OCI_EMPTY) {
        throw invalidManifest(`signature manifest with artifactType must have config mediaType ${MEDIA_TYPE.OCI_EMPTY}, got ${JSON.stringify(config.mediaType)}`);
      }
      if (artifactType === undefined && config.mediaType !== SIGNATURE_ARTIFACT_TYPE) {
        throw invalidManifest(`signature manifest without artifactType must have config mediaType ${SIGNATURE_ARTIFACT_TYPE}`);
      }
    }
    blobs = m.layers;
  } else if (mediaType === MEDIA_TYPE.OCI_ARTIFACT_MANIFEST) {
    if (m.artifactType !== SIGNATURE_ARTIFACT_TYPE) {
      throw invalidManifest(`artifact type ${JSON.stringify(m.artifactType)} is not a Notary signature (${SIGNATURE_ARTIFACT_TYPE})`);
    }
    artifactType = m.artifactType;
    blobs = m.blobs;
  } else {
    throw invalidManifest(`signature manifest media type ${JSON.stringify(mediaType)} is not supported`);
  }
  if (!Array.isArray(blobs) || blobs.length !== 1) {
    throw invalidManifest('signature manifest requries exactly one signature envelope blob');
  }
  const envelope = parseDescriptor(blobs[0], 'signature envelope');
  if (!ENVELOPE_MEDIA_TYPES.includes(envelope.mediaType)) {
    throw new VerificationFailedError('UNSUPPORTED_ENVELOPE',
      `signature envelope format with media type ${JSON.stringify(envelope.mediaType)} is not supported`);
  }
  if (envelope.size > LIMITS.ENVELOPE_BYTES) {
    throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED',
      `signature envelope size ${envelope.size} exceeds the limit of ${LIMITS.ENVELOPE_BYTES} bytes`);
  }
  const out: { -readonly [K in keyof SignatureManifest]: SignatureManifest[K] } = {
    mediaType,
    envelope,
    annotations: parseAnnotations(m.annotations, 'signature manifest'),
  };
  if (artifactType !== undefined) out.artifactType = artifactType;
  if (config !== undefined) out.config = config;
  if (m.subject !== undefined) out.subject = parseDescriptor(m.subject, 'signature manifest subject');
  return out;
}

/** Referrer descriptors that may be signature manifests. */
export function isSignatureManifestMediaType(mt: string): boolean {
  return mt === MEDIA_TYPE.OCI_MANIFEST || mt === MEDIA_TYPE.OCI_ARTIFACT_MANIFEST;
}

/** Checks a signature descriptor before fetching it. */
export function checkSignatureDescriptor(desc: Descriptor): void {
  if (!isSignatureManifestMediaType(desc.mediaType)) {
    throw invalidManifest(`signature manifest media type ${JSON.stringify(desc.mediaType)} is not supported`);
  }
  if (desc.size > LIMITS.SIGNATURE_MANIFEST_BYTES) {
    throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED',
      `signature manifest size ${desc.size} exceeds the limit of ${LIMITS.SIGNATURE_MANIFEST_BYTES} bytes`);
  }
}

/** Tag-schema tag for a subject digest: `<alg>-<hex>`. */
export function referrersTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

/** Parses an OCI image index (referrers listing / tag-schema index) into its descriptors. */
export function parseIndexManifests(bytes: Uint8Array, what: string): { manifests: Descriptor[]; annotations: Record<string, string> } {
  const idx = parseJsonObject(bytes, what);
  const list = idx.manifests ?? [];
  if (!Array.isArray(list)) throw invalidManifest(`${what}: manifests must be an array`);
  return {
    manifests: list.map((d: unknown, i: number) => parseDescriptor(d, `${what} manifests[${i}]`)),
    annotations: parseAnnotations(idx.annotations, what),
  };
}
