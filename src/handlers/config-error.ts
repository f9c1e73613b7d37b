/**
 * What a handler does when it cannot load its configuration: one ERROR log line and one EMF record
 * with the `ConfigurationErrors` metric, in the namespace the construct put in the environment
 * (`ENV.METRICS_NAMESPACE`; the default namespace otherwise), so that an alarm can watch it.
 * Depends on config.ts only, so it works whatever the configuration holds.
 */
import { DEFAULT_METRICS_NAMESPACE, ENV, METRIC, METRIC_DIMENSION } from './config';

export interface ConfigurationErrorReport {
  readonly handler: string;
  readonly error: unknown;
  /** Lambda function name (dimension of the metric). */
  readonly functionName?: string;
  /** Extra fields of the log line (the answer given, the mode…). */
  readonly data?: Record<string, unknown>;
}

/** Writes the ERROR log line and the `ConfigurationErrors` EMF record. Never throws. */
export function reportConfigurationError(r: ConfigurationErrorReport): void {
  const e = r.error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(r.error);
  const namespace = process.env[ENV.METRICS_NAMESPACE] || DEFAULT_METRICS_NAMESPACE;
  const functionName = r.functionName || process.env.AWS_LAMBDA_FUNCTION_NAME || 'local';
  try {
    process.stdout.write(JSON.stringify({
      timestamp: new Date().toISOString(),
      handler: r.handler,
      ...(r.data ?? {}),
      level: 'ERROR',
      message: 'configuration error',
      error: message,
      errorCode: typeof e?.code === 'string' ? e.code : undefined,
    }) + '\n');
    process.stdout.write(JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [[METRIC_DIMENSION]], Metrics: [{ Name: METRIC.CONFIGURATION_ERRORS, Unit: 'Count' }] }],
      },
      [METRIC_DIMENSION]: functionName,
      handler: r.handler,
      [METRIC.CONFIGURATION_ERRORS]: 1,
    }) + '\n');
  } catch {
    // stdout unavailable: nothing else to report to
  }
}
