import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AdmissionMode, EcsAdmissionHook } from './ecs-admission-hook';
import { EksAdmissionWebhook } from './eks-admission-webhook';
import { METRIC, METRIC_DIMENSION } from './handlers/config';
import { ImageVerifierFunction } from './image-verifier-function';
import { TaskLaunchAudit } from './task-launch-audit';
import { SignedImagesValidationError as ValidationError } from './validation-error';

/**
 * Properties of a `SignedImagesDashboard`.
 *
 * @example
 * import { EcsAdmissionHook, SignedImagesDashboardProps, TaskLaunchAudit } from 'cdk-signed-images';
 *
 * declare const hook: EcsAdmissionHook;
 * declare const audit: TaskLaunchAudit;
 * const props: SignedImagesDashboardProps = {
 *   admissionHooks: [hook],
 *   taskAudits: [audit],
 *   alarms: true,
 *   alarmTopic: topic,
 *   inconclusiveRateThreshold: 10,
 * };
 */
export interface SignedImagesDashboardProps {
  /**
   * Name of the CloudWatch dashboard.
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * ECS admission hooks to show (counts per outcome, hook answers, signature-wait rounds, latency).
   * @default - none
   */
  readonly admissionHooks?: EcsAdmissionHook[];
  /**
   * Task-launch audits to show (counts per outcome, latency, dead-letter queue depth).
   * @default - none
   */
  readonly taskAudits?: TaskLaunchAudit[];
  /**
   * EKS admission webhooks to show (counts per outcome, answers, signature-wait rounds, latency).
   * @default - none
   */
  readonly eksWebhooks?: EksAdmissionWebhook[];
  /**
   * Further verifier functions (for example a plain `ImageVerifierFunction` running the verify handler).
   * @default - none
   */
  readonly functions?: ImageVerifierFunction[];
  /**
   * Period of every metric on the dashboard and of the alarms.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
  /**
   * Create the alarms (docs/operations.md says what each means and what to do): a rejection by an
   * ENFORCE admission hook or webhook; an inconclusive rate above `inconclusiveRateThreshold` for any
   * function; Lambda errors or throttles of any function. A task audit has its own alarm on a dead-letter
   * queue that is not empty (`deadLetterAlarm`, notifying the audit's topic); the dashboard shows its state.
   * The rejection alarm does the job of a function's own `rejectionAlarm`: set only one of them.
   * @default false
   */
  readonly alarms?: boolean;
  /**
   * Inconclusive alarm threshold: the percentage of images (of all images a function handled in one
   * period) whose verification was inconclusive (registry or AWS Signer trouble). Between 0 and 100.
   * @default 5
   */
  readonly inconclusiveRateThreshold?: number;
  /**
   * SNS topic every alarm notifies (on ALARM).
   * @default - no alarm action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Rows of the Logs Insights widget listing the latest rejected images.
   * @default 20
   */
  readonly rejectedImagesLimit?: number;
}

/**
 * The log group a function writes to: the one given to it (`logGroup` prop, in its logging config),
 * else Lambda's default. Not `fn.logGroup`: that getter adds a LogRetention custom resource.
 */
function logGroupNameOf(fn: lambda.Function): string {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const config = cfn.loggingConfig;
  const given = config && !Token.isUnresolved(config) ? (config as lambda.CfnFunction.LoggingConfigProperty).logGroup : undefined;
  return given ?? `/aws/lambda/${fn.functionName}`;
}

/** One verifier function on the dashboard. */
interface Entry {
  readonly label: string;
  readonly fn: ImageVerifierFunction;
  /** ENFORCE / AUDIT, when the construct has a mode. */
  readonly mode?: string;
  readonly hook: boolean;
  /** The `Hook*` answer metrics it writes (ECS hook: also `HookInProgress`; the EKS webhook answers at once). */
  readonly answers?: readonly string[];
  readonly enforcing: boolean;
  readonly deadLetterQueue?: sqs.IQueue;
  readonly deadLetterAlarm?: cloudwatch.Alarm;
}

/**
 * A CloudWatch dashboard (and optional alarms) for the library's verifier functions: images verified,
 * rejected, inconclusive, exempt and skipped per function and mode; verification latency p50/p99;
 * the admission hooks' and webhooks' answers and signature-wait rounds; the task audits' dead-letter queue depth;
 * Lambda errors, throttles and duration; and the latest rejected images from the verdict records.
 *
 * Every metric name comes from the constants the handlers write their EMF records with.
 *
 * @example
 * import { EcsAdmissionHook, SignedImagesDashboard, TaskLaunchAudit } from 'cdk-signed-images';
 *
 * declare const hook: EcsAdmissionHook;
 * declare const audit: TaskLaunchAudit;
 * new SignedImagesDashboard(this, 'Dashboard', {
 *   admissionHooks: [hook],
 *   taskAudits: [audit],
 *   alarms: true,
 *   alarmTopic: topic,
 * });
 */
export class SignedImagesDashboard extends Construct {
  /**
   * The Logs Insights query of the "latest rejected images" widget: it reads the handlers' `verdict`
   * records (outcome `rejected`), newest first, with the image, digest, first failing check or error
   * code, first reason, and where the image was to run (ECS service revision, task, or Kubernetes namespace).
   * @param limit the number of rows
   */
  public static rejectedImagesQuery(limit: number): string {
    return [
      'fields @timestamp, image, digest, failingCheck, errorCode, reasons.0 as reason, serviceRevision, task, namespace, container, mode, @log',
      'filter message = "verdict" and outcome = "rejected"',
      'sort @timestamp desc',
      `limit ${limit}`,
    ].join(' | ');
  }

  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The alarms this construct created (empty unless `alarms` is set; the task audits' dead-letter alarms are theirs). */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly period: Duration;

  /**
   * @param scope the parent construct
   * @param id the construct id
   * @param props the verifier functions to show and the alarm settings
   */
  public constructor(scope: Construct, id: string, props: SignedImagesDashboardProps) {
    super(scope, id);
    this.period = props.period ?? Duration.minutes(5);
    const threshold = props.inconclusiveRateThreshold ?? 5;
    if (!Token.isUnresolved(threshold) && !(threshold >= 0 && threshold <= 100)) {
      throw new ValidationError(`inconclusiveRateThreshold must be a percentage between 0 and 100, got ${threshold}`, this);
    }
    const limit = props.rejectedImagesLimit ?? 20;
    if (!Token.isUnresolved(limit) && !(Number.isInteger(limit) && limit >= 1 && limit <= 10000)) {
      throw new ValidationError(`rejectedImagesLimit must be an integer between 1 and 10000, got ${limit}`, this);
    }
    if (!this.period.toSeconds() || this.period.toSeconds() % 60 !== 0) {
      throw new ValidationError(`period must be a whole number of minutes, got ${this.period.toHumanString()}`, this);
    }

    const entries: Entry[] = [
      ...(props.admissionHooks ?? []).map((h) => ({
        label: `ECS hook ${h.node.id}`, fn: h.function, mode: h.mode, hook: true, enforcing: h.mode === AdmissionMode.ENFORCE,
      })),
      ...(props.eksWebhooks ?? []).map((w) => ({
        label: `EKS webhook ${w.node.id}`, fn: w.function, mode: w.mode, hook: true, answers: [METRIC.HOOK_SUCCEEDED, METRIC.HOOK_FAILED], enforcing: w.mode === AdmissionMode.ENFORCE,
      })),
      ...(props.taskAudits ?? []).map((a) => ({
        label: `Task audit ${a.node.id}`, fn: a.function, mode: 'AUDIT', hook: false, enforcing: false, deadLetterQueue: a.deadLetterQueue, deadLetterAlarm: a.deadLetterAlarm,
      })),
      ...(props.functions ?? []).map((f) => ({ label: `Verifier ${f.node.id}`, fn: f, hook: false, enforcing: false })),
    ];
    if (entries.length === 0) {
      throw new ValidationError('SignedImagesDashboard needs at least one verifier function (admissionHooks, taskAudits, eksWebhooks or functions)', this);
    }
    const seen = new Set<ImageVerifierFunction>();
    for (const e of entries) {
      if (seen.has(e.fn)) throw new ValidationError(`the function of ${e.label} is listed twice`, this);
      seen.add(e.fn);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', { dashboardName: props.dashboardName });
    this.dashboard.addWidgets(new cloudwatch.TextWidget({
      width: 24,
      height: 2,
      markdown: '# Signed container images\nOutcomes per verifier function and mode, hook answers, latency, Lambda health and the latest rejected images. '
        + 'What each alarm means and what to do: [the runbook](https://github.com/cdk-signed-images/cdk-signed-images/blob/main/docs/operations.md).',
    }));
    this.dashboard.addWidgets(...entries.map((e) => this.outcomeWidget(e)));
    this.dashboard.addWidgets(this.latencyWidget(entries), ...this.hookWidgets(entries));
    this.dashboard.addWidgets(...this.healthWidgets(entries));
    this.dashboard.addWidgets(new cloudwatch.LogQueryWidget({
      title: 'Latest rejected images (verdict records)',
      width: 24,
      height: 8,
      logGroupNames: entries.map((e) => logGroupNameOf(e.fn)),
      queryString: SignedImagesDashboard.rejectedImagesQuery(limit),
      view: cloudwatch.LogQueryVisualizationType.TABLE,
    }));

    if (props.alarms) {
      this.createAlarms(entries, threshold);
      if (props.alarmTopic) {
        const action = new cloudwatchActions.SnsAction(props.alarmTopic);
        for (const a of this.alarms) a.addAlarmAction(action);
      }
      // The task audits' own dead-letter alarms (they notify the audit's topic) join the status widget.
      const deadLetter = entries.flatMap((e) => (e.deadLetterAlarm ? [e.deadLetterAlarm] : []));
      this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms (docs/operations.md)', width: 24, height: 3, alarms: [...this.alarms, ...deadLetter] }));
    }
  }

  private metric(e: Entry, name: string, statistic: string, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: e.fn.metricsNamespace,
      metricName: name,
      dimensionsMap: { [METRIC_DIMENSION]: e.fn.functionName },
      statistic,
      period: this.period,
      label,
    });
  }

  private title(e: Entry): string {
    return e.mode ? `${e.label} (${e.mode})` : e.label;
  }

  private outcomeWidget(e: Entry): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({
      title: `Images: ${this.title(e)}`,
      width: 12,
      height: 6,
      left: [METRIC.VERIFIED, METRIC.REJECTED, METRIC.INCONCLUSIVE, METRIC.EXEMPT, METRIC.SKIPPED].map((m) => this.metric(e, m, 'Sum', m)),
      leftYAxis: { min: 0, label: 'images' },
    });
  }

  private latencyWidget(entries: readonly Entry[]): cloudwatch.GraphWidget {
    return new cloudwatch.GraphWidget({
      title: `Verification latency (${METRIC.DURATION}, p50 / p99)`,
      width: 12,
      height: 6,
      left: entries.flatMap((e) => ['p50', 'p99'].map((s) => this.metric(e, METRIC.DURATION, s, `${e.label} ${s}`))),
      leftYAxis: { min: 0, label: 'ms' },
    });
  }

  private hookWidgets(entries: readonly Entry[]): cloudwatch.IWidget[] {
    const hooks = entries.filter((e) => e.hook);
    if (hooks.length === 0) return [];
    const ecs = hooks.some((e) => e.answers === undefined);
    const eks = hooks.some((e) => e.answers !== undefined);
    return [new cloudwatch.GraphWidget({
      title: `${ecs && eks ? 'ECS hook and EKS webhook' : ecs ? 'ECS hook' : 'EKS webhook'} answers and signature-wait rounds`,
      width: 12,
      height: 6,
      left: hooks.flatMap((e) => (e.answers ?? [METRIC.HOOK_SUCCEEDED, METRIC.HOOK_FAILED, METRIC.HOOK_IN_PROGRESS]).map((m) => this.metric(e, m, 'Sum', `${e.label} ${m}`))),
      right: hooks.map((e) => this.metric(e, METRIC.SIGNATURE_WAIT_ROUNDS, 'Sum', `${e.label} ${METRIC.SIGNATURE_WAIT_ROUNDS}`)),
      leftYAxis: { min: 0, label: 'answers' },
      rightYAxis: { min: 0, label: 'wait rounds' },
    })];
  }

  private healthWidgets(entries: readonly Entry[]): cloudwatch.IWidget[] {
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: 'Lambda errors, throttles, configuration errors',
        width: 8,
        height: 6,
        left: entries.flatMap((e) => [
          e.fn.metricErrors({ period: this.period, label: `${e.label} Errors` }),
          e.fn.metricThrottles({ period: this.period, label: `${e.label} Throttles` }),
          this.metric(e, METRIC.CONFIGURATION_ERRORS, 'Sum', `${e.label} ${METRIC.CONFIGURATION_ERRORS}`),
        ]),
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration (p50 / p99 / max)',
        width: 8,
        height: 6,
        left: entries.flatMap((e) => ['p50', 'p99', 'Maximum'].map((s) => e.fn.metricDuration({ period: this.period, statistic: s, label: `${e.label} ${s}` }))),
        leftYAxis: { min: 0, label: 'ms' },
      }),
    ];
    const queues = entries.filter((e) => e.deadLetterQueue);
    if (queues.length > 0) {
      widgets.push(new cloudwatch.GraphWidget({
        title: 'Task audit dead-letter queue depth',
        width: 8,
        height: 6,
        left: queues.map((e) => e.deadLetterQueue!.metricApproximateNumberOfMessagesVisible({ period: this.period, statistic: 'Maximum', label: `${e.label} DLQ` })),
        leftYAxis: { min: 0, label: 'messages' },
      }));
    }
    return widgets;
  }

  private createAlarms(entries: readonly Entry[], threshold: number): void {
    const common = { evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING };
    entries.forEach((e, i) => {
      const id = `F${i}`;
      if (e.enforcing) {
        this.alarms.push(this.metric(e, METRIC.REJECTED, 'Sum').createAlarm(this, `${id}RejectedAlarm`, {
          ...common,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          alarmDescription: `cdk-signed-images: ${this.title(e)} refused an image (ENFORCE). docs/operations.md "Rejected in ENFORCE".`,
        }));
      }
      const counted = [METRIC.VERIFIED, METRIC.REJECTED, METRIC.INCONCLUSIVE, METRIC.EXEMPT, METRIC.SKIPPED];
      const usingMetrics: Record<string, cloudwatch.IMetric> = {};
      counted.forEach((m, k) => { usingMetrics[`m${k}`] = this.metric(e, m, 'Sum'); });
      const rate = new cloudwatch.MathExpression({
        expression: 'IF((m0+m1+m2+m3+m4) > 0, 100 * m2 / (m0+m1+m2+m3+m4), 0)',
        usingMetrics,
        period: this.period,
        label: `${e.label} inconclusive %`,
      });
      this.alarms.push(rate.createAlarm(this, `${id}InconclusiveRateAlarm`, {
        ...common,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        alarmDescription: `cdk-signed-images: more than ${threshold}% of the images ${this.title(e)} handled were inconclusive (registry or AWS Signer trouble). docs/operations.md "Inconclusive rate".`,
      }));
      const errors = new cloudwatch.MathExpression({
        expression: 'e + t',
        usingMetrics: { e: e.fn.metricErrors({ period: this.period }), t: e.fn.metricThrottles({ period: this.period }) },
        period: this.period,
        label: `${e.label} errors + throttles`,
      });
      this.alarms.push(errors.createAlarm(this, `${id}ErrorsAlarm`, {
        ...common,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        alarmDescription: `cdk-signed-images: ${this.title(e)} had Lambda errors or throttles. docs/operations.md "Errors or throttles".`,
      }));
    });
  }
}
