/**
 * What the steps of one verification share: the verifier's environment (options, clock, logger, error
 * classification) and the verification's own context (reference, statement, source, abort signal), plus
 * the small helpers that turn an error into a verdict.
 */
import { errorLogFields, isUnexpectedError, toVerifierError, VerifierError } from '../errors';
import { NotationPolicyStatement } from '../policy';
import { ArtifactSource } from '../registry/source';
import { CheckAction, CheckName, Descriptor, SignatureOutcome, Verdict, VerdictStatus } from '../types';
import { ImageVerifierOptions, Logger } from './options';

/** The verifier-wide services every step may use. */
export interface VerifierEnvironment {
  readonly options: ImageVerifierOptions;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Maximum signatures tried per image. */
  readonly maxSignatures: number;
  /** Classifies anything caught (see {@link classifyError}). */
  toError(e: unknown, subject: string): VerifierError;
}

/** One verification of one image (or one platform manifest of it) under one statement. */
export interface VerificationContext {
  readonly env: VerifierEnvironment;
  /** The reference as the caller wrote it; verdicts carry it. */
  readonly reference: string;
  readonly statement: NotationPolicyStatement;
  readonly source: ArtifactSource;
  /** `performance.now()` when the verification started (verdicts report the time since). */
  readonly started: number;
  /** Aborts at the verification's deadline, or when every caller waiting on it gave up. */
  readonly signal?: AbortSignal;
}

/** What the checks of one signature need: the statement, its per-check actions and the artifact signed. */
export interface SignatureCheckContext {
  readonly env: VerifierEnvironment;
  readonly statement: NotationPolicyStatement;
  readonly actions: Record<CheckName, CheckAction>;
  readonly target: Descriptor;
}

/**
 * Classifies anything caught: VerifierErrors pass through; anything else is a bug (or input that
 * tripped one) and becomes a failed `INTERNAL` error, logged with its stack.
 */
export function classifyError(logger: Logger, e: unknown, subject: string): VerifierError {
  const err = toVerifierError(e);
  if (isUnexpectedError(e)) {
    logger.warn('internal error in the verification engine: the result is failed (INTERNAL), never inconclusive', { subject, error: errorLogFields(e) });
  }
  return err;
}

/** The verdict of a verification that ended with `err` before any signature was tried. */
export function errorVerdict(reference: string, err: VerifierError, started: number): Verdict {
  const status: VerdictStatus = err.kind === 'inconclusive' ? 'inconclusive' : 'failed';
  return { reference, status, verified: false, signatures: [], reasons: [err.message], error: err.toJSON(), durationMs: elapsed(started) };
}

/** Milliseconds since `started` (`performance.now()`), to the microsecond. */
export function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/** One reason per failed signature, plus `extra` unless a signature already said it. */
export function reasonsOf(sigs: readonly SignatureOutcome[], extra?: VerifierError): string[] {
  const out = sigs.filter((s) => s.error).map((s) => `signature ${s.signatureDigest}: ${s.error!.message}`);
  if (extra && !out.some((r) => r.endsWith(extra.message))) out.push(extra.message);
  return out;
}
