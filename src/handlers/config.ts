/**
 * The contract between the constructs (which write it at synth time) and the Lambda handlers (which
 * read it at cold start). Plain types and constants only (no imports): the constructs import the
 * shared defaults from here, so construct and handler agree on them by construction.
 *
 * Where it lives: `config.json` next to the bundled `index.js` in the function's asset directory.
 * Values that are deploy-time tokens cannot go in a file, so they travel in environment variables:
 *  - the trust policy, when it holds tokens: `TRUST_POLICY` (see {@link ENV});
 *  - the SNS topic ARN of the task-launch audit: `SNS_TOPIC_ARN`.
 * Trust-store certificates always go in the file, so their size is not bounded by the 4 KB
 * environment limit.
 */

/** Current version of the config file format. */
export const CONFIG_VERSION = 1;

/** File name of the config next to `index.js`. */
export const CONFIG_FILE = 'config.json';

/** Environment variables the handlers read. */
export const ENV = {
  /** Trust policy JSON (used when the policy holds deploy-time tokens; overrides `trustPolicy` in the file). */
  TRUST_POLICY: 'TRUST_POLICY',
  /** SNS topic for rejection notifications (task audit). */
  SNS_TOPIC_ARN: 'SNS_TOPIC_ARN',
  /** Path of the config file (tests and local runs); default `<dir of index.js>/config.json`. */
  CONFIG_PATH: 'VERIFIER_CONFIG_PATH',
  /**
   * Admission hook: its mode (`ENFORCE` / `AUDIT`), also set outside the config file so that the hook
   * can answer by its mode when the config cannot be read (AUDIT never blocks; anything else fails closed).
   */
  ADMISSION_MODE: 'ADMISSION_MODE',
  /** CloudWatch namespace of the `ConfigurationErrors` metric written when the config cannot be read. */
  METRICS_NAMESPACE: 'SIGNED_IMAGES_METRICS_NAMESPACE',
} as const;

/** Bundled handlers (`assets/handlers/<name>/index.js`). */
export const HANDLER_NAME = {
  ADMISSION_HOOK: 'admission-hook',
  TASK_AUDIT: 'task-audit',
  VERIFY: 'verify',
  /** Amazon EKS admission webhook (mutating and validating), behind a Lambda function URL. */
  EKS_WEBHOOK: 'eks-webhook',
} as const;

/** Default of `signatureWaitSeconds` (admission hook, ENFORCE). */
export const DEFAULT_SIGNATURE_WAIT_SECONDS = 120;

/**
 * Default of `signatureWaitSeconds` for the EKS webhook (ENFORCE): it waits inside one call, which
 * the API server bounds by the webhook's `timeoutSeconds` (default 10), so the handler also stops at
 * its deadline, whatever this says.
 */
export const DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS = 8;

/** Default `callBackDelay` of an IN_PROGRESS hook answer, in seconds. */
export const DEFAULT_CALL_BACK_DELAY_SECONDS = 5;

/** Default time kept in reserve before the Lambda timeout, in milliseconds. */
export const DEFAULT_DEADLINE_MARGIN_MS = 3000;

/** Default floor of the IN_PROGRESS rounds of the admission hook. */
export const DEFAULT_MAX_IN_PROGRESS_ROUNDS = 20;

/**
 * ENFORCE admission hook, container whose service-revision entry has no `imageDigest` (ECS version
 * consistency off): `REJECT` refuses it (default); `VERIFY_CURRENT_DIGEST` verifies the digest the
 * tag names now (weaker: tasks started later pull whatever the tag names then).
 */
export type UnpinnedImagePolicy = 'REJECT' | 'VERIFY_CURRENT_DIGEST';

/** `ENFORCE` answers FAILED on rejected images; `AUDIT` always answers SUCCEEDED and reports. */
export type HandlerMode = 'ENFORCE' | 'AUDIT';

/**
 * What the admission hook does with an inconclusive verdict (registry or AWS API unavailable): the wire
 * strings of the construct's `InconclusiveAction` enum (src/private/notation-names.ts maps one to the other).
 */
export type InconclusivePolicy = 'REJECT' | 'ADMIT';

export interface HandlerConfig {
  /** Format version ({@link CONFIG_VERSION}). */
  readonly version: number;
  /** The notation trust policy document, when it has no deploy-time tokens (else `TRUST_POLICY` env). */
  readonly trustPolicy?: unknown;
  /** Trust-store certificates: `{ 'type:name': PEM bundle }`. */
  readonly trustStores: Record<string, string>;
  /** Maximum signatures tried per image. */
  readonly maxSignatures?: number;
  /** Verdict cache TTL in milliseconds (0 disables the cache). */
  readonly cacheTtlMs?: number;
  /** Timeout of each registry HTTP request, in milliseconds. */
  readonly registryTimeoutMs?: number;
  /**
   * Timeout of each AWS API call the engine makes (AWS Signer `GetRevocationStatus`), in milliseconds.
   * Default: `registryTimeoutMs` (configs written before this field existed bound both with it).
   */
  readonly awsApiTimeoutMs?: number;
  /** Require every platform manifest of an image index to be signed. */
  readonly requirePlatformSignatures?: boolean;
  /** Registries (`host:port`) reached over plain HTTP: loopback tests and demos only. */
  readonly plainHttpRegistries?: string[];
  /**
   * PEM root certificates treated as AWS Signer roots IN ADDITION to the bundled ones: an AWS Signer
   * profile ARN in `trustedIdentities` only matches a chain that ends in an AWS Signer root. For tests
   * (a locally generated "AWS-Signer-shaped" chain) and partition overrides only; the constructs never set it.
   */
  readonly extraAwsSignerRootsPem?: string;
  /**
   * Images admitted without verification: glob patterns matched against the repository
   * (`registry/repository`) and the full reference. `*` matches any run of characters
   * except `/`, `**` matches anything, `?` one character.
   */
  readonly exemptions?: string[];
  /** Admission mode (admission hook and task audit). Default ENFORCE. */
  readonly mode?: HandlerMode;
  /** Inconclusive verdicts in ENFORCE mode. Default REJECT (fail closed). */
  readonly inconclusiveAction?: InconclusivePolicy;
  /** CloudWatch namespace of the EMF metrics. Default `SignedImages`. */
  readonly metricsNamespace?: string;
  /** Images verified at the same time. Default 4. */
  readonly concurrency?: number;
  /** Time kept in reserve before the Lambda timeout, in milliseconds. Default {@link DEFAULT_DEADLINE_MARGIN_MS}. */
  readonly deadlineMarginMs?: number;
  /** `callBackDelay` (seconds) of an IN_PROGRESS hook answer. Default 5. */
  readonly callBackDelaySeconds?: number;
  /**
   * Maximum IN_PROGRESS rounds (out-of-time rounds and signature-wait rounds together) before the
   * admission hook stops answering IN_PROGRESS. Default 20, raised when needed so that
   * `signatureWaitSeconds` can be spent at `callBackDelaySeconds` per round.
   */
  readonly maxInProgressRounds?: number;
  /**
   * ENFORCE admission hook: how long (seconds, from the first invocation that found the image
   * unsigned) it keeps answering IN_PROGRESS while an image has no signature yet, re-verifying it
   * each round. ECR managed signing signs asynchronously after the push. Only a `NO_SIGNATURE`
   * verdict is waited for; any other rejection fails at once. 0 disables waiting. Default 120.
   * The EKS webhook cannot answer "in progress": it re-verifies such an image inside the call, about
   * once a second, for at most this long and never past its deadline (`timeoutSeconds` minus a
   * margin). Default for the webhook: {@link DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS}.
   */
  readonly signatureWaitSeconds?: number;
  /** Admission hook: containers without `imageDigest` in the service revision. Default REJECT. */
  readonly unpinnedImages?: UnpinnedImagePolicy;
  /** Task audit: stop tasks running a rejected image (best-effort, opt-in). Default false. */
  readonly stopTask?: boolean;
  /**
   * Task audit, with `stopTask`: also stop tasks whose images could not be verified (inconclusive,
   * unfinished before the deadline, or malformed in the event). Default false: only definitive
   * rejections stop a task.
   */
  readonly stopTaskOnInconclusive?: boolean;
}

/** Default CloudWatch namespace of the EMF metrics (`metricsNamespace`). */
export const DEFAULT_METRICS_NAMESPACE = 'SignedImages';

/**
 * Names of the EMF metrics: the handlers write them (src/handlers/runtime/metrics.ts maps each per-image
 * outcome to one of them) and the constructs' alarms and `metric*()` methods read them.
 */
export const METRIC = {
  /** Images verified. */
  VERIFIED: 'Verified',
  /** Images whose verification failed (verdict status `failed`), or refused without it (unpinned, ENFORCE). */
  REJECTED: 'Rejected',
  /** Images admitted by an exemption glob, without verification. */
  EXEMPT: 'Exempt',
  /** Images whose policy statement has the `skip` verification level. */
  SKIPPED: 'Skipped',
  /** Images that could not be verified: inconclusive verdicts, malformed entries, out of time (`unfinished`). */
  INCONCLUSIVE: 'Inconclusive',
  DURATION: 'VerifyDuration',
  /** Invocations that could not load their configuration (logged at ERROR; the handlers never throw for it). */
  CONFIGURATION_ERRORS: 'ConfigurationErrors',
  /**
   * Admission hook answers `SUCCEEDED` (one EMF record per answered invocation counts 1 in exactly one `Hook*` metric);
   * EKS webhook: AdmissionReview answers `allowed: true` (dry runs not counted).
   */
  HOOK_SUCCEEDED: 'HookSucceeded',
  /** Admission hook answers `FAILED` (the deployment rolls back); EKS webhook: answers `allowed: false`. */
  HOOK_FAILED: 'HookFailed',
  /** Admission hook answers `IN_PROGRESS` (ECS calls it again after `callBackDelay`). */
  HOOK_IN_PROGRESS: 'HookInProgress',
  /**
   * Admission hook `IN_PROGRESS` answers given while waiting for an image's signature to appear
   * (`signatureWaitSeconds`); EKS webhook: re-verification rounds inside the call while waiting for one.
   */
  SIGNATURE_WAIT_ROUNDS: 'SignatureWaitRounds',
} as const;

/** The single metric dimension. */
export const METRIC_DIMENSION = 'FunctionName';
