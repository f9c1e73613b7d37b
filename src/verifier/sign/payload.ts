/**
 * The Notary payload a signature covers, the AWS Signer signing-profile ARN it is sent under, and the check of
 * the envelope Signer returns (its payload must be exactly the bytes sent, its signature valid) before anything
 * is pushed.
 */
import { createHash } from 'node:crypto';
import { verifyEnvelopeIntegrity } from '../envelope';
import { decodeJws } from '../envelope/jws';
import { ConfigurationError, VerificationFailedError } from '../errors';
import { Descriptor, MEDIA_TYPE, VerifiedEnvelope } from '../types';

/** The only `payloadFormat` Signer accepts for Notary signatures. */
export const NOTARY_PAYLOAD_FORMAT = MEDIA_TYPE.NOTARY_PAYLOAD;

/** The signature manifest annotation listing the SHA-256 thumbprints of the envelope's certificate chain. */
export const THUMBPRINT_ANNOTATION = 'io.cncf.notary.x509chain.thumbprint#S256';

/**
 * `{"targetArtifact":{mediaType,digest,size[,annotations]}}`: the descriptor of the signed manifest, with the
 * user metadata (if any) as its annotations, serialised once; these exact bytes go to Signer.
 * @throws ConfigurationError INVALID_OPTIONS for an empty metadata key
 */
export function buildNotaryPayload(target: Descriptor, userMetadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const keys = Object.keys(userMetadata);
  for (const k of keys) {
    if (k.length === 0) throw new ConfigurationError('INVALID_OPTIONS', 'user metadata keys must not be empty');
  }
  const targetArtifact: Record<string, unknown> = { mediaType: target.mediaType, digest: target.digest, size: target.size };
  if (keys.length) targetArtifact.annotations = Object.fromEntries(keys.sort().map((k) => [k, userMetadata[k]]));
  return new Uint8Array(Buffer.from(JSON.stringify({ targetArtifact }), 'utf8'));
}

/** A signing-profile ARN split into what `SignPayload` takes. */
export interface SigningProfile {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  /** The account that owns the profile (`profileOwner`). */
  readonly owner: string;
  /** `profileName`. */
  readonly name: string;
}

/**
 * Parses `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>` (a profile, not a profile version).
 * @throws ConfigurationError INVALID_OPTIONS otherwise
 */
export function parseSigningProfileArn(arn: string): SigningProfile {
  const m = /^arn:(aws(?:-[a-z]+)*):signer:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):\/signing-profiles\/([A-Za-z0-9_]{2,64})$/.exec(arn);
  if (!m) {
    const hint = /\/signing-profiles\/[^/]+\/[^/]+$/.test(arn)
      ? ' (this looks like a profile VERSION ARN; give the profile ARN without the version)'
      : '';
    throw new ConfigurationError('INVALID_OPTIONS',
      `--signing-profile must be a signing profile ARN such as arn:aws:signer:us-east-1:123456789012:/signing-profiles/MyProfile, got ${JSON.stringify(arn)}${hint}`);
  }
  return { arn, partition: m[1], region: m[2], owner: m[3], name: m[4] };
}

/** What the returned envelope was checked to be. */
export interface CheckedEnvelope {
  readonly envelope: VerifiedEnvelope;
  /** Lowercase SHA-256 hex of each certificate of the chain, leaf first. */
  readonly thumbprints: readonly string[];
}

/**
 * Checks the envelope Signer returned BEFORE it is pushed: a JWS whose payload is exactly `sentPayload` (byte for
 * byte), whose signature verifies with its leaf certificate and whose headers and chain follow the Notary rules.
 * @throws VerificationFailedError TARGET_MISMATCH for an envelope over another payload; INVALID_ENVELOPE /
 *   INVALID_SIGNATURE / INVALID_CERTIFICATE_CHAIN ... from the envelope checks
 */
export function checkReturnedEnvelope(envelopeBytes: Uint8Array, sentPayload: Uint8Array): CheckedEnvelope {
  const decoded = decodeJws(envelopeBytes);
  const signed = /^[A-Za-z0-9_-]*$/.test(decoded.payload) ? Buffer.from(decoded.payload, 'base64url') : undefined;
  if (!signed || !Buffer.from(sentPayload).equals(signed)) {
    throw new VerificationFailedError('TARGET_MISMATCH',
      'the envelope AWS Signer returned signs another payload than the one sent; nothing was pushed');
  }
  const envelope = verifyEnvelopeIntegrity(MEDIA_TYPE.JWS, envelopeBytes);
  const thumbprints = envelope.certificateChain.map((der) => createHash('sha256').update(der).digest('hex'));
  return { envelope, thumbprints };
}
