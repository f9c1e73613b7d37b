/**
 * Shared data types of the verification engine. Plain TypeScript; never import aws-cdk-lib here.
 */

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
}

export const MEDIA_TYPE = {
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  OCI_ARTIFACT_MANIFEST: 'application/vnd.oci.artifact.manifest.v1+json',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  OCI_EMPTY: 'application/vnd.oci.empty.v1+json',
  NOTARY_SIGNATURE: 'application/vnd.cncf.notary.signature',
  NOTARY_PAYLOAD: 'application/vnd.cncf.notary.payload.v1+json',
  JWS: 'application/jose+json',
  COSE: 'application/cose',
} as const;

export const LIMITS = {
  /** Maximum signature manifest size (notation-go). */
  SIGNATURE_MANIFEST_BYTES: 4 * 1024 * 1024,
  /** Maximum signature envelope size (notation-go). */
  ENVELOPE_BYTES: 32 * 1024 * 1024,
  /** Maximum size of any image manifest / index we fetch. */
  MANIFEST_BYTES: 4 * 1024 * 1024,
} as const;

/** A parsed image reference. Exactly one of tag/digest may be absent; both may be present. */
export interface ImageReference {
  /** Registry host[:port], e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com` or `localhost:5000`. */
  readonly registry: string;
  /** Repository path, e.g. `team/app`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

export interface ExtendedAttribute {
  readonly key: string;
  readonly value: unknown;
  readonly critical: boolean;
}

/**
 * A signature envelope whose integrity has been verified: crypto signature with the leaf key,
 * header rules, certificate-chain rules and algorithm/key match (notary-verification.md §1 step 2, §5-§7).
 */
export interface VerifiedEnvelope {
  readonly format: 'jws' | 'cose';
  readonly mediaType: string;
  /** `targetArtifact` of the payload. */
  readonly targetArtifact: Descriptor;
  readonly payloadContentType: string;
  readonly signingScheme: SigningScheme;
  readonly signingTime?: Date;
  readonly authenticSigningTime?: Date;
  readonly expiry?: Date;
  readonly verificationPlugin?: string;
  readonly verificationPluginMinVersion?: string;
  readonly extendedAttributes: readonly ExtendedAttribute[];
  /** DER certificates, leaf first. */
  readonly certificateChain: readonly Uint8Array[];
  readonly signingAgent?: string;
  /** RFC 3161 TimeStampToken (DER), when present. */
  readonly timestampToken?: Uint8Array;
  /** Raw signature bytes (for the timestamp message imprint). */
  readonly signature: Uint8Array;
  /** e.g. `ES384`. */
  readonly algorithm: string;
}

/**
 * A trust store's type as notation spells it in a trust policy (`<type>:<name>`) and on disk
 * (`x509/<type>/<name>/`). The one definition of these wire strings: the construct's `TrustStoreType`
 * enum maps onto it.
 */
export type TrustStoreTypeName = 'ca' | 'signingAuthority' | 'tsa';
export const TRUST_STORE_TYPES: readonly TrustStoreTypeName[] = ['ca', 'signingAuthority', 'tsa'];
/** What a trust store's name may be (notation: `[a-zA-Z0-9_.-]+`); the construct and the CLI use it too. */
export const TRUST_STORE_NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;

export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';
export type CheckName = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type CheckAction = 'enforce' | 'log' | 'skip';

export interface CheckResult {
  readonly check: CheckName;
  readonly action: CheckAction;
  readonly passed: boolean;
  /** Why it failed (notation's wording where one exists). */
  readonly reason?: string;
  readonly code?: string;
}

export interface SignatureOutcome {
  /** Digest of the signature manifest. */
  readonly signatureDigest: string;
  readonly envelopeMediaType?: string;
  readonly verified: boolean;
  readonly checks: readonly CheckResult[];
  /** The signer: AWS Signer profile-version ARN, or the leaf subject DN. */
  readonly signer?: string;
  readonly signingScheme?: SigningScheme;
  readonly signingTime?: string;
  /** Set when this signature failed definitively (first enforced failure) or inconclusively. */
  readonly error?: { readonly kind: string; readonly code: string; readonly message: string };
}

export type VerdictStatus = 'verified' | 'failed' | 'inconclusive' | 'skipped';

/** The typed verdict for one image. */
export interface Verdict {
  readonly reference: string;
  readonly digest?: string;
  readonly mediaType?: string;
  readonly status: VerdictStatus;
  readonly verified: boolean;
  /** Name of the trust-policy statement that applied. */
  readonly policyStatement?: string;
  readonly level?: VerificationLevelName;
  readonly signer?: string;
  readonly signatureDigest?: string;
  /** Per signature tried, in order. */
  readonly signatures: readonly SignatureOutcome[];
  /** Platform manifests of an image index, when `requirePlatformSignatures` is on. */
  readonly platforms?: readonly Verdict[];
  /** Human-readable reasons (empty when verified). */
  readonly reasons: readonly string[];
  readonly error?: { readonly kind: string; readonly code: string; readonly message: string };
  readonly durationMs: number;
  readonly cached?: boolean;
}
