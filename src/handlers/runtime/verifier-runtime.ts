/**
 * The per-container runtime: one {@link ImageVerifier} built from the config and kept at module scope
 * (so the verdict cache and ECR tokens survive across invocations), the exemption globs, the handler
 * settings with their defaults, and {@link Runtime.verifyImage}, which verifies one image and logs ONE
 * verdict record.
 */
import { loadConfig } from './config-loader';
import { JsonLogger } from './logger';
import { Metrics } from './metrics';
import { LambdaContext } from './scheduling';
import { ImageResult, outcomeOf, verdictRecord } from './verdict-record';
import {
  AWS_SIGNER_ROOTS_DER, canonicalExemption, ecrCredentialProvider, errorLogFields, formatReference, globToRegExp, ImageReference,
  ImageVerifier, InMemoryTrustStore, matchExemption, pemCertificatesToDer, RemoteRepository, sdkEcrTokenProvider,
  sdkSignerRevocationClient, toVerifierError, Verdict,
} from '../../verifier';
import { DEFAULT_METRICS_NAMESPACE, HandlerConfig } from '../config';

/** Default of `HandlerConfig.concurrency`. */
const DEFAULT_CONCURRENCY = 4;

function buildVerifier(config: HandlerConfig, logger: JsonLogger): ImageVerifier {
  const plainHttpRegistries = config.plainHttpRegistries ?? [];
  const registryTimeoutMs = config.registryTimeoutMs;
  // One provider for the container: it caches ECR tokens (valid 12 h) per registry.
  const ecrCredentials = ecrCredentialProvider(sdkEcrTokenProvider());
  return new ImageVerifier({
    trustPolicy: config.trustPolicy,
    trustStores: new InMemoryTrustStore(config.trustStores),
    // ctx.signal: the verification's deadline, or every caller gone (the handler answered): requests stop.
    sourceFor: (ref: ImageReference, ctx) => new RemoteRepository(ref, {
      credentials: ecrCredentials,
      plainHttpRegistries,
      requestTimeoutMs: registryTimeoutMs,
      signal: ctx.signal,
      deadline: ctx.deadline,
      logger: { warn: (m: string) => logger.warn(m, { image: formatReference(ref) }) },
    }),
    signerClient: sdkSignerRevocationClient(),
    // Tests / partition overrides only (HandlerConfig.extraAwsSignerRootsPem); unset: the bundled roots.
    ...(config.extraAwsSignerRootsPem ? { awsSignerRoots: [...AWS_SIGNER_ROOTS_DER, ...pemCertificatesToDer(config.extraAwsSignerRootsPem)] } : {}),
    // AWS API calls (GetRevocationStatus): their own bound; configs without one use the registry's.
    awsApiTimeoutMs: config.awsApiTimeoutMs ?? registryTimeoutMs,
    maxSignatures: config.maxSignatures,
    requirePlatformSignatures: config.requirePlatformSignatures,
    cacheTtlMs: config.cacheTtlMs,
    logger: { warn: (m, d) => logger.warn(m, d), info: (m, d) => logger.info(m, d) },
  });
}

/** Everything built from the config, kept at module scope between invocations. */
export class Runtime {
  public readonly verifier: ImageVerifier;
  public readonly logger: JsonLogger;
  private readonly exemptionPatterns: RegExp[];
  private readonly exemptionSources: string[];

  public constructor(public readonly config: HandlerConfig, public readonly handlerName: string) {
    this.logger = new JsonLogger({ handler: handlerName });
    this.exemptionSources = [...(config.exemptions ?? [])];
    this.exemptionPatterns = this.exemptionSources.map((g) => globToRegExp(canonicalExemption(g)));
    this.verifier = buildVerifier(config, this.logger);
  }

  public get mode(): 'ENFORCE' | 'AUDIT' {
    return this.config.mode ?? 'ENFORCE';
  }

  public get inconclusiveAction(): 'REJECT' | 'ADMIT' {
    return this.config.inconclusiveAction ?? 'REJECT';
  }

  public get concurrency(): number {
    const c = this.config.concurrency ?? DEFAULT_CONCURRENCY;
    return Number.isInteger(c) && c > 0 ? c : DEFAULT_CONCURRENCY;
  }

  public newMetrics(context?: LambdaContext): Metrics {
    const fn = context?.functionName || process.env.AWS_LAMBDA_FUNCTION_NAME || 'local';
    return new Metrics(this.config.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE, fn, this.handlerName);
  }

  /** Runs one invocation with its metrics record, which is written (EMF) however `fn` ends. */
  public async withMetrics<T>(context: LambdaContext | undefined, fn: (metrics: Metrics) => Promise<T>): Promise<T> {
    const metrics = this.newMetrics(context);
    try {
      return await fn(metrics);
    } finally {
      metrics.flush();
    }
  }

  /** The exemption pattern matching `image`, if any. */
  public exemptionFor(image: string): string | undefined {
    return matchExemption(this.exemptionPatterns, this.exemptionSources, image);
  }

  /**
   * Verifies one image (or admits it by exemption) and logs ONE verdict record. Never throws.
   * Counting is the caller's: `Metrics.record(result)` once the handler knows the result is final.
   */
  public async verifyImage(image: string, extra: Record<string, unknown> = {}, opts: { signal?: AbortSignal } = {}): Promise<ImageResult> {
    const started = performance.now();
    const exemption = this.exemptionFor(image);
    if (exemption !== undefined) {
      const result: ImageResult = { image, outcome: 'exempt', exemption, durationMs: 0 };
      this.logger.info('verdict', { ...verdictRecord(result), ...extra });
      return result;
    }
    let verdict: Verdict;
    try {
      verdict = await this.verifier.verify(image, opts);
    } catch (e) {
      verdict = this.internalErrorVerdict(image, e, extra, started);
    }
    const outcome = outcomeOf(verdict);
    const result: ImageResult = { image, outcome, verdict, durationMs: verdict.durationMs };
    const record = { ...verdictRecord(result), ...extra };
    if (outcome === 'verified' || outcome === 'skipped') this.logger.info('verdict', record);
    else this.logger.warn('verdict', record);
    return result;
  }

  /**
   * verify() is documented never to throw per image; if it does, that is a bug: a failed INTERNAL
   * verdict (never inconclusive, so inconclusiveAction ADMIT cannot admit it), logged with its stack.
   */
  private internalErrorVerdict(image: string, e: unknown, extra: Record<string, unknown>, started: number): Verdict {
    const err = toVerifierError(e);
    this.logger.error('internal error while verifying an image: rejected (INTERNAL)', { image, ...extra, error: errorLogFields(e) });
    return {
      reference: image,
      status: err.kind === 'inconclusive' ? 'inconclusive' : 'failed',
      verified: false,
      signatures: [],
      reasons: [err.message],
      error: err.toJSON(),
      durationMs: performance.now() - started,
    };
  }
}

let current: { key: string; runtime: Runtime } | undefined;

/**
 * The runtime for the current config, built once per container and reused while the config (file
 * content + `TRUST_POLICY`) stays the same, so the verdict cache and ECR tokens are reused.
 */
export function getRuntime(handlerName: string): Runtime {
  const { config, key } = loadConfig();
  const k = `${handlerName}|${key}`;
  if (!current || current.key !== k) current = { key: k, runtime: new Runtime(config, handlerName) };
  return current.runtime;
}
