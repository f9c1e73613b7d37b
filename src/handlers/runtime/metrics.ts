/**
 * The handlers' CloudWatch metrics, in Embedded Metric Format: one EMF line per invocation with a
 * count per outcome and the verification times. Metric names live in ../config.ts (`METRIC`), which
 * the constructs' alarms and `metric*()` methods use too.
 */
import { writeLine } from './logger';
import { Outcome } from './verdict-record';
import { METRIC, METRIC_DIMENSION } from '../config';

type CountedMetric = typeof METRIC.VERIFIED | typeof METRIC.REJECTED | typeof METRIC.INCONCLUSIVE | typeof METRIC.EXEMPT | typeof METRIC.SKIPPED;

/** The metric each outcome counts in: out of time (`unfinished`) counts as Inconclusive. */
export const METRIC_OF_OUTCOME: Readonly<Record<Outcome, CountedMetric>> = {
  verified: METRIC.VERIFIED,
  rejected: METRIC.REJECTED,
  inconclusive: METRIC.INCONCLUSIVE,
  unfinished: METRIC.INCONCLUSIVE,
  exempt: METRIC.EXEMPT,
  skipped: METRIC.SKIPPED,
};

/** An admission hook answer (`hookStatus`). */
export type HookAnswer = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';

/** The metric each admission hook answer counts in. */
export const METRIC_OF_HOOK_ANSWER: Readonly<Record<HookAnswer, string>> = {
  SUCCEEDED: METRIC.HOOK_SUCCEEDED,
  FAILED: METRIC.HOOK_FAILED,
  IN_PROGRESS: METRIC.HOOK_IN_PROGRESS,
};

const COUNTED: readonly CountedMetric[] = [METRIC.VERIFIED, METRIC.REJECTED, METRIC.EXEMPT, METRIC.SKIPPED, METRIC.INCONCLUSIVE];

/** Counts for one invocation, written as one EMF line by {@link Metrics.flush}. */
export class Metrics {
  private readonly counts = new Map<CountedMetric, number>(COUNTED.map((m) => [m, 0]));
  private readonly durations: number[] = [];
  private hook?: { readonly status: HookAnswer; readonly waitRounds: number };

  public constructor(private readonly namespace: string, private readonly functionName: string, private readonly handlerName: string) {}

  public count(outcome: Outcome): void {
    const metric = METRIC_OF_OUTCOME[outcome];
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + 1);
  }

  /** Counts one image that could not be verified (malformed entry, unreadable revision, out of time). */
  public inconclusive(): void {
    this.count('inconclusive');
  }

  /** Counts a final per-image result (its outcome, and its verification time when it was verified). */
  public record(result: { readonly outcome: Outcome; readonly verdict?: { readonly durationMs: number } }): void {
    this.count(result.outcome);
    if (result.verdict) this.duration(result.verdict.durationMs);
  }

  public duration(ms: number): void {
    this.durations.push(Math.round(ms * 1000) / 1000);
  }

  /**
   * Records the admission hook's answer: the record then carries all three `Hook*` counts (1 for this
   * answer, 0 for the others) and `SignatureWaitRounds` (1 when this IN_PROGRESS answer waits for a signature).
   */
  public hookAnswer(status: HookAnswer, waitingForSignature = false): void {
    this.hook = { status, waitRounds: status === 'IN_PROGRESS' && waitingForSignature ? 1 : 0 };
  }

  /**
   * Records the EKS webhook's answer in the same `Hook*` metrics (allowed: `HookSucceeded`, refused:
   * `HookFailed`; it never answers "in progress"), with `SignatureWaitRounds` the re-verification
   * rounds it spent, inside the call, waiting for a signature to appear.
   */
  public webhookAnswer(allowed: boolean, signatureWaitRounds = 0): void {
    this.hook = { status: allowed ? 'SUCCEEDED' : 'FAILED', waitRounds: Number.isSafeInteger(signatureWaitRounds) && signatureWaitRounds > 0 ? signatureWaitRounds : 0 };
  }

  /** Writes the EMF record (always, so a zero count is a data point too). */
  public flush(): void {
    const metrics: Array<{ Name: string; Unit: string }> = COUNTED.map((Name) => ({ Name, Unit: 'Count' }));
    const record: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [[METRIC_DIMENSION]], Metrics: metrics }],
      },
      [METRIC_DIMENSION]: this.functionName,
      handler: this.handlerName,
    };
    for (const m of COUNTED) record[m] = this.counts.get(m);
    if (this.hook) {
      for (const [status, name] of Object.entries(METRIC_OF_HOOK_ANSWER) as Array<[HookAnswer, string]>) {
        metrics.push({ Name: name, Unit: 'Count' });
        record[name] = this.hook.status === status ? 1 : 0;
      }
      metrics.push({ Name: METRIC.SIGNATURE_WAIT_ROUNDS, Unit: 'Count' });
      record[METRIC.SIGNATURE_WAIT_ROUNDS] = this.hook.waitRounds;
    }
    if (this.durations.length > 0) {
      metrics.push({ Name: METRIC.DURATION, Unit: 'Milliseconds' });
      record[METRIC.DURATION] = this.durations.length === 1 ? this.durations[0] : this.durations;
    }
    writeLine(record);
  }
}
