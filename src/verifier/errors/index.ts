/**
 * Error taxonomy of the verification engine.
 *
 * Three families, mirroring notation-go (`errors.go`):
 *  - {@link VerificationFailedError}: the image is definitively not verified (bad signature, untrusted
 *    signer, revoked, digest mismatch...). Safe to cache.
 *  - {@link VerificationInconclusiveError}: a runtime problem prevented a verdict (network, throttling,
 *    timeouts, 5xx). Never cached; ENFORCE mode fails closed on it unless configured otherwise.
 *  - {@link ConfigurationError}: the caller's input is wrong (invalid trust policy, missing trust store,
 *    malformed reference). The CLI exits 2 on it.
 * Every error carries a stable machine-readable `code`.
 */
export type ErrorCode =
  // configuration / usage
  | 'INVALID_REFERENCE'
  | 'INVALID_TRUST_POLICY'
  | 'INVALID_TRUST_STORE'
  | 'NO_APPLICABLE_TRUST_POLICY'
  | 'INVALID_OPTIONS'
  // failed verification
  | 'NO_SIGNATURE'
  | 'INVALID_MANIFEST'
  | 'DIGEST_MISMATCH'
  | 'SIZE_LIMIT_EXCEEDED'
  | 'UNSUPPORTED_ENVELOPE'
  | 'INVALID_ENVELOPE'
  | 'INVALID_SIGNATURE'
  | 'INVALID_CERTIFICATE_CHAIN'
  | 'UNTRUSTED_CERTIFICATE'
  | 'UNTRUSTED_IDENTITY'
  | 'SIGNATURE_EXPIRED'
  | 'CERTIFICATE_NOT_VALID'
  | 'INVALID_TIMESTAMP'
  | 'REVOKED'
  | 'REVOCATION_UNKNOWN'
  | 'TARGET_MISMATCH'
  | 'USER_METADATA_MISMATCH'
  | 'PLUGIN_UNSUPPORTED'
  | 'NOT_FOUND'
  /** An unexpected error inside the engine (a bug, or input that tripped one): failed, never inconclusive. */
  | 'INTERNAL'
  // inconclusive (runtime)
  | 'NETWORK'
  | 'TIMEOUT'
  | 'THROTTLED'
  | 'REGISTRY_UNAVAILABLE'
  | 'AUTHENTICATION'
  | 'AWS_API';

export type ErrorKind = 'failed' | 'inconclusive' | 'configuration';

export abstract class VerifierError extends Error {
  public abstract readonly kind: ErrorKind;
  public readonly code: ErrorCode;
  public constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options as any);
    this.code = code;
    this.name = new.target.name;
  }
  public toJSON(): { kind: ErrorKind; code: ErrorCode; message: string } {
    return { kind: this.kind, code: this.code, message: this.message };
  }
}

/** The artifact is definitively not verified. */
export class VerificationFailedError extends VerifierError {
  public readonly kind = 'failed' as const;
}

/** A runtime problem (network, throttling, timeout, 5xx) prevented a verdict. */
export class VerificationInconclusiveError extends VerifierError {
  public readonly kind = 'inconclusive' as const;
}

/** The caller's configuration or input is invalid (bad policy, missing trust store, bad reference). */
export class ConfigurationError extends VerifierError {
  public readonly kind = 'configuration' as const;
}

export function isVerifierError(e: unknown): e is VerifierError {
  return e instanceof VerifierError;
}

/** Wraps anything thrown into a VerifierError; unknown errors become `failed`/`INVALID_ENVELOPE`-free generic inconclusive. */
export function toVerifierError(e: unknown): VerifierError {
  if (isVerifierError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new VerificationInconclusiveError('NETWORK', `unexpected error: ${message}`, { cause: e });
}
