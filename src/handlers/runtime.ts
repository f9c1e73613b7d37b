/**
 * Shared runtime of the Lambda handlers: configuration, one {@link ImageVerifier} per container
 * (module scope, so the verdict cache survives across invocations), structured JSON logs with one
 * verdict record per image, EMF metrics, exemptions, bounded concurrency and deadline handling.
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { CONFIG_FILE, CONFIG_VERSION, DEFAULT_METRICS_NAMESPACE, ENV, HandlerConfig, METRIC, METRIC_DIMENSION } from './config';
import {
  AWS_SIGNER_ROOTS_DER, canonicalExemption, ConfigurationError, ecrCredentialProvider, errorLogFields, formatReference,
  globToRegExp, ImageReference, ImageVerifier, InMemoryTrustStore, matchExemption, parseStrictJson, pemCertificatesToDer,
  RemoteRepository, sdkEcrTokenProvider, sdkSignerRevocationClient, toVerifierError, Verdict,
} from '../verifier';

/** The part of the Lambda context the handlers use. */
export interface LambdaContext {
  readonly awsRequestId?: string;
  readonly functionName?: string;
  getRemainingTimeInMillis?(): number;
}

// ---------------------------------------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------------------------------------

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** One JSON object per line on stdout (CloudWatch Logs keeps it as a structured event). */
export class JsonLogger {
  public constructor(private readonly base: Record<string, unknown>) {}

  public log(level: LogLevel, message: string, data: Record<string, unknown> = {}): void {
    writeLine({ timestamp: new Date().toISOString(), ...this.base, ...data, level, message });
  }
  public info(message: string, data?: Record<string, unknown>): void {
    this.log('INFO', message, data);
  }
  public warn(message: string, data?: Record<string, unknown>): void {
    this.log('WARN', message, data);
  }
  public error(message: string, data?: Record<string, unknown>): void {
    this.log('ERROR', message, data);
  }
  public child(extra: Record<string, unknown>): JsonLogger {
    return new JsonLogger({ ...this.base, ...extra });
  }
}

function writeLine(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// ---------------------------------------------------------------------------------------------------------
// Metrics (CloudWatch Embedded Metric Format)
// ---------------------------------------------------------------------------------------------------------

/** Counts for one invocation, written as one EMF line by {@link Metrics.flush}. */
export class Metrics {
  private readonly counts = { verified: 0, rejected: 0, exempt: 0, inconclusive: 0 };
  private readonly durations: number[] = [];

  public constructor(private readonly namespace: string, private readonly functionName: string, private readonly handlerName: string) {}

  public count(outcome: Outcome): void {
    switch (outcome) {
      case 'verified': this.counts.verified++; break;
      case 'rejected': this.counts.rejected++; break;
      case 'inconclusive': this.counts.inconclusive++; break;
      case 'exempt': case 'skipped': this.counts.exempt++; break;
    }
  }

  public inconclusive(): void {
    this.counts.inconclusive++;
  }

  /** Counts a final per-image result (its outcome, and its verification time when it was verified). */
  public record(result: ImageResult): void {
    this.count(result.outcome);
    if (result.verdict) this.duration(result.verdict.durationMs);
  }

  public duration(ms: number): void {
    this.durations.push(Math.round(ms * 1000) / 1000);
  }

  /** Writes the EMF record (always, so a zero count is a data point too). */
  public flush(): void {
    const metrics: Array<{ Name: string; Unit: string }> = [
      { Name: METRIC.VERIFIED, Unit: 'Count' },
      { Name: METRIC.REJECTED, Unit: 'Count' },
      { Name: METRIC.EXEMPT, Unit: 'Count' },
      { Name: METRIC.INCONCLUSIVE, Unit: 'Count' },
    ];
    const record: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [[METRIC_DIMENSION]], Metrics: metrics }],
      },
      [METRIC_DIMENSION]: this.functionName,
      handler: this.handlerName,
      [METRIC.VERIFIED]: this.counts.verified,
      [METRIC.REJECTED]: this.counts.rejected,
      [METRIC.EXEMPT]: this.counts.exempt,
      [METRIC.INCONCLUSIVE]: this.counts.inconclusive,
    };
    if (this.durations.length > 0) {
      metrics.push({ Name: METRIC.DURATION, Unit: 'Milliseconds' });
      record[METRIC.DURATION] = this.durations.length === 1 ? this.durations[0] : this.durations;
    }
    writeLine(record);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Configuration and the per-container runtime
// ---------------------------------------------------------------------------------------------------------

// Exemption globs are engine logic (the constructs' synth-time scope check uses them too).
export { canonicalExemption, globToRegExp, matchExemption };

/** Reads and validates the config (file + environment). */
export function loadConfig(): { config: HandlerConfig; key: string } {
  const path = process.env[ENV.CONFIG_PATH] || join(__dirname, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigurationError('INVALID_OPTIONS', `cannot read the handler configuration "${path}": ${(e as Error).message}`);
  }
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigurationError('INVALID_OPTIONS', `the handler configuration "${path}" is not valid JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigurationError('INVALID_OPTIONS', `the handler configuration "${path}" must be a JSON object`);
  }
  if (raw.version !== CONFIG_VERSION) {
    throw new ConfigurationError('INVALID_OPTIONS', `unsupported handler configuration version ${JSON.stringify(raw.version)} (expected ${CONFIG_VERSION})`);
  }
  const envPolicy = process.env[ENV.TRUST_POLICY];
  let trustPolicy = raw.trustPolicy;
  if (envPolicy) {
    try {
      // Strict (src/verifier/json): keys Go's decoder would merge are rejected, not silently dropped.
      trustPolicy = parseStrictJson(envPolicy, (m) => new ConfigurationError('INVALID_TRUST_POLICY', m));
    } catch (e) {
      throw new ConfigurationError('INVALID_TRUST_POLICY', `${ENV.TRUST_POLICY} is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (trustPolicy === undefined) {
    throw new ConfigurationError('INVALID_TRUST_POLICY', `no trust policy: set "trustPolicy" in ${CONFIG_FILE} or the ${ENV.TRUST_POLICY} environment variable`);
  }
  const stores = raw.trustStores ?? {};
  if (typeof stores !== 'object' || Array.isArray(stores) || Object.values(stores).some((v) => typeof v !== 'string')) {
    throw new ConfigurationError('INVALID_TRUST_STORE', 'trustStores must map "type:name" to a PEM bundle');
  }
  for (const list of ['plainHttpRegistries', 'exemptions'] as const) {
    if (raw[list] !== undefined && (!Array.isArray(raw[list]) || raw[list].some((v: unknown) => typeof v !== 'string'))) {
      throw new ConfigurationError('INVALID_OPTIONS', `${list} must be an array of strings`);
    }
  }
  if (raw.mode !== undefined && raw.mode !== 'ENFORCE' && raw.mode !== 'AUDIT') {
    throw new ConfigurationError('INVALID_OPTIONS', `mode must be ENFORCE or AUDIT, got ${JSON.stringify(raw.mode)}`);
  }
  if (raw.inconclusiveAction !== undefined && raw.inconclusiveAction !== 'REJECT' && raw.inconclusiveAction !== 'ADMIT') {
    throw new ConfigurationError('INVALID_OPTIONS', `inconclusiveAction must be REJECT or ADMIT, got ${JSON.stringify(raw.inconclusiveAction)}`);
  }
  if (raw.extraAwsSignerRootsPem !== undefined
    && (typeof raw.extraAwsSignerRootsPem !== 'string' || pemCertificatesToDer(raw.extraAwsSignerRootsPem).length === 0)) {
    throw new ConfigurationError('INVALID_TRUST_STORE', 'extraAwsSignerRootsPem must be a PEM bundle of certificates');
  }
  const wait = raw.signatureWaitSeconds;
  if (wait !== undefined && !(typeof wait === 'number' && Number.isFinite(wait) && wait >= 0)) {
    throw new ConfigurationError('INVALID_OPTIONS', `signatureWaitSeconds must be a non-negative number, got ${JSON.stringify(wait)}`);
  }
  const config: HandlerConfig = { ...raw, trustPolicy, trustStores: stores };
  const key = createHash('sha256').update(path).update('\0').update(text).update('\0').update(envPolicy ?? '').digest('hex');
  return { config, key };
}

/** What happened to one image. */
export type Outcome = 'verified' | 'rejected' | 'inconclusive' | 'exempt' | 'skipped';

export interface ImageResult {
  /** The image as given (container image string, possibly pinned with its digest). */
  readonly image: string;
  readonly outcome: Outcome;
  readonly verdict?: Verdict;
  /** Exemption pattern that admitted the image. */
  readonly exemption?: string;
  readonly durationMs: number;
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
    const plainHttpRegistries = config.plainHttpRegistries ?? [];
    const registryTimeoutMs = config.registryTimeoutMs;
    const ecrTokens = sdkEcrTokenProvider();
    const logger = this.logger;
    // One provider for the container: it caches ECR tokens (valid 12 h) per registry.
    const ecrCredentials = ecrCredentialProvider(ecrTokens);
    this.verifier = new ImageVerifier({
      trustPolicy: config.trustPolicy,
      trustStores: new InMemoryTrustStore(config.trustStores),
      // ctx.signal: the verification's deadline, or every caller gone (the handler answered): requests stop.
      sourceFor: (ref: ImageReference, ctx) => {
        return new RemoteRepository(ref, {
          credentials: ecrCredentials,
          plainHttpRegistries,
          requestTimeoutMs: registryTimeoutMs,
          signal: ctx.signal,
          deadline: ctx.deadline,
          logger: { warn: (m: string) => logger.warn(m, { image: formatReference(ref) }) },
        });
      },
      signerClient: sdkSignerRevocationClient(),
      // Tests / partition overrides only (HandlerConfig.extraAwsSignerRootsPem); unset: the bundled roots.
      ...(config.extraAwsSignerRootsPem ? { awsSignerRoots: [...AWS_SIGNER_ROOTS_DER, ...pemCertificatesToDer(config.extraAwsSignerRootsPem)] } : {}),
      // The construct's registryTimeout bounds AWS API calls too (GetRevocationStatus).
      awsApiTimeoutMs: registryTimeoutMs,
      maxSignatures: config.maxSignatures,
      requirePlatformSignatures: config.requirePlatformSignatures,
      cacheTtlMs: config.cacheTtlMs,
      logger: { warn: (m, d) => logger.warn(m, d), info: (m, d) => logger.info(m, d) },
    });
  }

  public get mode(): 'ENFORCE' | 'AUDIT' {
    return this.config.mode ?? 'ENFORCE';
  }

  public get inconclusiveAction(): 'REJECT' | 'ADMIT' {
    return this.config.inconclusiveAction ?? 'REJECT';
  }

  public get concurrency(): number {
    const c = this.config.concurrency ?? 4;
    return Number.isInteger(c) && c > 0 ? c : 4;
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
      // verify() is documented never to throw per image; if it does, that is a bug: a failed INTERNAL
      // verdict (never inconclusive, so inconclusiveAction ADMIT cannot admit it), logged with its stack.
      const err = toVerifierError(e);
      this.logger.error('internal error while verifying an image: rejected (INTERNAL)', { image, ...extra, error: errorLogFields(e) });
      verdict = {
        reference: image,
        status: err.kind === 'inconclusive' ? 'inconclusive' : 'failed',
        verified: false,
        signatures: [],
        reasons: [err.message],
        error: err.toJSON(),
        durationMs: performance.now() - started,
      };
    }
    const outcome = outcomeOf(verdict);
    const result: ImageResult = { image, outcome, verdict, durationMs: verdict.durationMs };
    const record = { ...verdictRecord(result), ...extra };
    if (outcome === 'verified' || outcome === 'skipped') this.logger.info('verdict', record);
    else this.logger.warn('verdict', record);
    return result;
  }
}

export function outcomeOf(v: Verdict): Outcome {
  switch (v.status) {
    case 'verified': return 'verified';
    case 'skipped': return 'skipped';
    case 'inconclusive': return 'inconclusive';
    default: return 'rejected';
  }
}

/** The first failing check of a verdict: `check` name, else the error code. */
export function failingCheck(v: Verdict): string | undefined {
  if (v.status === 'verified' || v.status === 'skipped') return undefined;
  for (const s of v.signatures) {
    const c = s.checks.find((x) => !x.passed && x.action === 'enforce');
    if (c) return c.check;
  }
  return v.error?.code;
}

/** The structured log record of one image. */
export function verdictRecord(r: ImageResult): Record<string, unknown> {
  const v = r.verdict;
  return {
    image: r.image,
    digest: v?.digest,
    outcome: r.outcome,
    status: v?.status ?? r.outcome,
    policyStatement: v?.policyStatement,
    verificationLevel: v?.level,
    signer: v?.signer,
    signatureDigest: v?.signatureDigest,
    failingCheck: v ? failingCheck(v) : undefined,
    errorCode: v?.error?.code,
    reasons: v && v.reasons.length > 0 ? v.reasons : undefined,
    exemption: r.exemption,
    cached: v?.cached,
    signaturesTried: v?.signatures.length,
    durationMs: r.durationMs,
  };
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

// ---------------------------------------------------------------------------------------------------------
// Deadlines and bounded concurrency
// ---------------------------------------------------------------------------------------------------------

/** Time budget of one invocation: the Lambda's remaining time minus a safety margin. */
export class Deadline {
  private readonly at: number;

  public constructor(context: LambdaContext | undefined, marginMs: number, fallbackMs = 60_000) {
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : fallbackMs;
    this.at = Date.now() + Math.max(0, remaining - marginMs);
  }

  public remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  public get expired(): boolean {
    return this.remainingMs() <= 0;
  }

  /** A promise resolving (to `undefined`) when the budget is spent; `cancel` clears the timer. */
  public timer(): { promise: Promise<undefined>; cancel: () => void } {
    let handle: NodeJS.Timeout | undefined;
    const promise = new Promise<undefined>((resolve) => {
      handle = setTimeout(() => resolve(undefined), this.remainingMs());
    });
    return { promise, cancel: () => handle && clearTimeout(handle) };
  }
}

/** Races `p` against the deadline; `undefined` when the deadline came first. */
export async function beforeDeadline<T>(p: Promise<T>, deadline: Deadline): Promise<T | undefined> {
  const t = deadline.timer();
  try {
    return await Promise.race([p, t.promise]);
  } finally {
    t.cancel();
  }
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. Stops starting new items when the deadline
 * expires or `stop()` returns true. Returns the results of the finished items by index (unfinished
 * ones are `undefined`); never waits past the deadline.
 */
export async function mapBounded<T, R>(
  items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>,
  opts: { deadline?: Deadline; stop?: (r: R) => boolean } = {},
): Promise<Array<R | undefined>> {
  const results: Array<R | undefined> = new Array(items.length).fill(undefined);
  let next = 0;
  let stopped = false;
  let signal: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => {
    signal = resolve;
  });
  const worker = async () => {
    while (!stopped && next < items.length && !(opts.deadline?.expired)) {
      const i = next++;
      const r = await fn(items[i], i);
      results[i] = r;
      if (opts.stop?.(r)) {
        stopped = true;
        signal();
      }
    }
  };
  const workers = Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker)).then(() => undefined);
  const race: Array<Promise<unknown>> = [workers, stopSignal];
  let timer: { promise: Promise<undefined>; cancel: () => void } | undefined;
  if (opts.deadline) {
    timer = opts.deadline.timer();
    race.push(timer.promise);
  }
  try {
    await Promise.race(race);
  } finally {
    timer?.cancel();
    stopped = true;
  }
  return [...results];
}

/** Pins `image` to `digest`: `host/repo:tag` + `sha256:..` → `host/repo@sha256:..`. */
export function pinImage(image: string, digest?: string): string {
  if (!digest) return image;
  const at = image.indexOf('@');
  let name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return `${name}@${digest}`;
}

/** Region of an ARN, or the Lambda's region. */
export function regionOf(arn: string | undefined): string | undefined {
  const parts = (arn ?? '').split(':');
  return (parts.length > 3 && parts[0] === 'arn' && parts[3]) ? parts[3] : (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
}

// ---------------------------------------------------------------------------------------------------------
// AWS clients shared by the handlers
// ---------------------------------------------------------------------------------------------------------

/* eslint-disable @typescript-eslint/no-require-imports */
/** Lazy `require` (not `await import()`, which Jest's CommonJS VM rejects); the SDK loads on first use. */
export const loadEcs = (): Promise<typeof import('@aws-sdk/client-ecs')> => Promise.resolve().then(() => require('@aws-sdk/client-ecs'));
/* eslint-enable @typescript-eslint/no-require-imports */

const ecsClients = new Map<string, any>();

/** One ECS client per region for the container (DescribeServiceRevisions, StopTask). */
export async function ecsClient(region: string | undefined): Promise<any> {
  const key = region ?? '';
  let c = ecsClients.get(key);
  if (!c) {
    const { ECSClient } = await loadEcs();
    c = new ECSClient(region ? { region } : {});
    ecsClients.set(key, c);
  }
  return c;
}
