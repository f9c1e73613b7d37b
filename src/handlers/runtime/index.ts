/**
 * The Lambda handlers' shared runtime, one concern per module:
 *  - verifier-runtime.ts: the per-container {@link Runtime} (one ImageVerifier, exemptions, settings,
 *    `verifyImage`) and {@link getRuntime};
 *  - config-loader.ts: reading and validating `config.json` + `TRUST_POLICY` (contract: ../config.ts);
 *  - verdict-record.ts: the per-image {@link Outcome} vocabulary, its mapping from the engine's verdict
 *    status, and the structured verdict log record;
 *  - logger.ts: JSON log lines; metrics.ts: the EMF metrics;
 *  - scheduling.ts: the invocation's deadline and bounded concurrency;
 *  - images.ts: container image strings (pinning); aws-clients.ts: ECS client and ARN regions;
 *  - values.ts: errors and event fields as text and objects.
 * Handlers import from './runtime' (this file).
 */
export { ecsClient, loadEcs, regionOf } from './aws-clients';
export { loadConfig } from './config-loader';
export { pinImage, pinnedDigestOf } from './images';
export { JsonLogger } from './logger';
export type { LogLevel } from './logger';
export { METRIC_OF_OUTCOME, Metrics } from './metrics';
export { beforeDeadline, Deadline, mapBounded } from './scheduling';
export type { LambdaContext } from './scheduling';
export { failingCheck, isAdmitted, OUTCOME_OF_STATUS, outcomeOf, verdictRecord } from './verdict-record';
export type { ImageResult, Outcome } from './verdict-record';
export { errorText, isObject } from './values';
export { getRuntime, Runtime } from './verifier-runtime';
