/**
 * The verification engine's entry: {@link ImageVerifier}. A verification is a short pipeline, one concern
 * per module under src/verifier/verify/:
 *
 *   reference -> policy statement (policy/select) -> pin to a digest: a tag is resolved first
 *   (verify/verification) -> discover signatures -> verify each signature (verify/signature: integrity,
 *   authenticity + trusted identity, expiry, authentic timestamp, revocation, target match) -> platforms of
 *   an index when asked -> verdict (verify/pipeline).
 *
 * Mirrors notation-go's order (notary-verification.md §1). `verify()` never throws for a per-image problem:
 * it returns a {@link Verdict} whose `status` is verified / failed / inconclusive / skipped.
 */
import { VerdictCache } from './cache/verdict-cache';
import { ConfigurationError, VerifierError } from './errors';
import { NotationPolicyStatement, NotationTrustPolicy, parseTrustPolicy, policyFingerprint, selectStatement } from './policy';
import { formatReference, parseReference, repositoryScope } from './reference';
import { ImageReference, Verdict } from './types';
import { classifyError, elapsed, errorVerdict, VerifierEnvironment } from './verify/context';
import { ImageVerifierOptions, Logger, VerifyOptions } from './verify/options';
import { FlightSignals } from './verify/single-flight';
import { runVerification, VerifierCore } from './verify/verification';

export type { ImageVerifierOptions, Logger, SourceContext, VerifyOptions } from './verify/options';

const NOOP_LOGGER: Logger = { warn: () => undefined };

export class ImageVerifier {
  public readonly policy: NotationTrustPolicy;
  public readonly fingerprint: string;
  private readonly core: VerifierCore;

  public constructor(options: ImageVerifierOptions) {
    this.policy = parseTrustPolicy(options.trustPolicy);
    const maxSignatures = options.maxSignatures ?? 100;
    if (!Number.isInteger(maxSignatures) || maxSignatures < 1) {
      throw new ConfigurationError('INVALID_OPTIONS', `maxSignatures must be a positive integer, got ${maxSignatures}`);
    }
    this.fingerprint = policyFingerprint(this.policy) + (options.requirePlatformSignatures ? '+platforms' : '')
      + (options.userMetadata ? '+md:' + JSON.stringify(Object.entries(options.userMetadata).sort()) : '');
    const now = options.now ?? (() => new Date());
    const ttl = options.cacheTtlMs ?? 300_000;
    const cache = ttl > 0
      ? new VerdictCache<Verdict>({ ttlMs: ttl, maxEntries: options.cacheMaxEntries ?? 10_000, now: () => now().getTime() })
      : undefined;
    const logger = options.logger ?? NOOP_LOGGER;
    const timeout = options.verificationTimeoutMs ?? 60_000;
    if (!(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
      throw new ConfigurationError('INVALID_OPTIONS', `verificationTimeoutMs must be a positive number, got ${timeout}`);
    }
    const env: VerifierEnvironment = { options, now, logger, maxSignatures, toError: (e, subject) => classifyError(logger, e, subject) };
    this.core = { env, cache, flights: new FlightSignals(timeout), verificationTimeoutMs: timeout, fingerprint: this.fingerprint };
  }

  public get cacheStats() {
    return this.core.cache?.stats;
  }

  /**
   * Verifies one image. Never throws for per-image problems; returns a typed verdict.
   * `opts.signal` aborts the verification's in-flight work (the verdict is then inconclusive).
   */
  public async verify(reference: string, opts: VerifyOptions = {}): Promise<Verdict> {
    const started = performance.now();
    let ref: ImageReference;
    try {
      ref = parseReference(reference);
    } catch (e) {
      return errorVerdict(reference, this.toError(e, reference), started);
    }
    try {
      return await this.verifyReference(ref, reference, started, opts);
    } catch (e) {
      // Nothing should get here; if something does, it is a bug: failed INTERNAL, never a throw or inconclusive.
      return errorVerdict(reference, this.toError(e, reference), started);
    }
  }

  /**
   * Verifies an already-parsed reference. `ref.registry/ref.repository` is the trust-policy scope;
   * for OCI layouts the caller supplies the scope (like `notation verify --oci-layout --scope`).
   */
  public async verifyReference(
    ref: ImageReference, reference: string = formatReference(ref), started = performance.now(), opts: VerifyOptions = {},
  ): Promise<Verdict> {
    let statement: NotationPolicyStatement;
    try {
      statement = selectStatement(this.policy, repositoryScope(ref));
    } catch (e) {
      return errorVerdict(reference, this.toError(e, reference), started);
    }
    const level = statement.signatureVerification.level;
    if (level === 'skip') {
      return { reference, digest: ref.digest, status: 'skipped', verified: true, policyStatement: statement.name, level, signatures: [], reasons: [], durationMs: elapsed(started) };
    }
    if (!ref.digest) {
      this.core.env.logger.warn('reference uses a tag; it is resolved to a digest now and the digest is verified', { reference });
    }
    return runVerification(this.core, { ref, reference, statement, started, opts });
  }

  private toError(e: unknown, subject: string): VerifierError {
    return this.core.env.toError(e, subject);
  }
}
