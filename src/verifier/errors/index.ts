/**
 * Error taxonomy of the verification engine.
 *
 * Three families, mirroring notation-go (`errors.go`):
 *  - {@link VerificationFailedError}: the image is definitively not verified (bad signature, untrusted
 *    signer, revoked, digest mismatch...). Safe to cache.
 *  - {@link VerificationInconclusiveError}: a runtime problem prevented a verdict (network, throttling,
 *    timeouts, 5xx, an unavailable AWS API). Never cached; ENFORCE mode fails closed on it unless
 *    configured otherwise (`inconclusiveAction: ADMIT`). Only transport-level problems are thrown as
 *    this class, at the place they happen; nothing else may become inconclusive.
 *  - Anything else thrown inside the engine (a `TypeError` from a parser bug...) is a failure with code
 *    `INTERNAL` ({@link toVerifierError}), never inconclusive, so `ADMIT` can never admit it.
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

/**
 * Wraps anything thrown into a VerifierError. A VerifierError passes through unchanged. Anything else
 * (a `TypeError` from a parser bug, a plain `Error` nobody classified) is an unexpected error inside
 * the engine and becomes a *failure* with code `INTERNAL`: it is never inconclusive, so
 * `inconclusiveAction: ADMIT` can never admit an image whose signature tripped a bug. Transport
 * failures, timeouts, throttling, 5xx and unavailable AWS APIs are classified where they happen (the
 * registry client, the revocation fetchers, the AWS adapters) as {@link VerificationInconclusiveError}.
 * The original error is kept as `cause` (with its stack) for logging; see {@link errorLogFields}.
 */
export function toVerifierError(e: unknown): VerifierError {
  if (isVerifierError(e)) return e;
  return new VerificationFailedError('INTERNAL', `internal error: ${describeUnknown(e)}`, { cause: e });
}

/** True when `e` is not a VerifierError, i.e. {@link toVerifierError} turns it into an `INTERNAL` failure. */
export function isUnexpectedError(e: unknown): boolean {
  return !isVerifierError(e);
}

function describeUnknown(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/**
 * Fields for a log line about an error: name, kind, code, message and the stack, plus the same for its
 * `cause` chain (at most 3 levels). For log lines only: a verdict's error JSON ({@link VerifierError.toJSON})
 * never carries a stack.
 */
export function errorLogFields(e: unknown): Record<string, unknown> {
  const one = (x: unknown): Record<string, unknown> => {
    if (x instanceof Error) {
      return {
        name: x.name,
        ...(isVerifierError(x) ? { kind: x.kind, code: x.code } : {}),
        message: x.message,
        ...(x.stack ? { stack: x.stack } : {}),
      };
    }
    return { value: describeUnknown(x) };
  };
  const out = one(e);
  let cur: unknown = e;
  let target = out;
  for (let depth = 0; depth < 3 && cur instanceof Error && (cur as { cause?: unknown }).cause !== undefined; depth++) {
    cur = (cur as { cause?: unknown }).cause;
    const next = one(cur);
    target.cause = next;
    target = next;
  }
  return out;
}
