import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_METRICS_NAMESPACE, ENV, HANDLER_NAME } from './handlers/config';
import { ImageVerifierFunction, ImageVerifierFunctionProps } from './image-verifier-function';
import { checkServiceImages, servicesInApp } from './private/scope-check';
import { withInternals } from './private/verifier-internals';
import { SignedImagesValidationError } from './validation-error';

/** Retries of an event, both by EventBridge (delivery) and by Lambda (asynchronous invocation). */
const RETRY_ATTEMPTS = 2;

/**
 * Properties of a `TaskLaunchAudit`: the verifier function's (`ImageVerifierFunctionProps`) plus
 * which clusters to audit and what to do with a rejected task.
 *
 * @example
 * import { TaskLaunchAudit } from 'cdk-signed-images';
 *
 * new TaskLaunchAudit(this, 'Audit', {
 *   trustPolicy,
 *   clusters: [cluster],
 *   topic,
 *   stopTask: true,
 * });
 */
export interface TaskLaunchAuditProps extends ImageVerifierFunctionProps {
  /**
   * Only audit tasks of these clusters.
   * @default - tasks of every cluster in the account and region
   */
  readonly clusters?: ecs.ICluster[];

  /**
   * Topic notified when a running task uses an image that fails verification (`"result": "rejected"`),
   * whose verification is inconclusive (registry or AWS API unavailable, malformed event:
   * `"inconclusive"`) or did not finish in time (`"unfinished"`), and when the function cannot load its
   * configuration (`"configuration-error"`). The dead-letter queue alarm notifies it too.
   * @default - no notification (logs and metrics only)
   */
  readonly topic?: sns.ITopic;

  /**
   * Stop a task that runs a rejected image (`ecs:StopTask`, granted on the tasks of `clusters`,
   * `task/<cluster name>/*`, or on `task/*` of the stack's account and region without `clusters`).
   * Only definitive rejections stop a task (see `stopOnInconclusive`).
   *
   * Best-effort only: the task has already started when the event arrives, and a service's scheduler
   * starts a replacement. Use `EcsAdmissionHook` to block deployments; this setting is for standalone
   * tasks and as a last line of defence.
   * @default false
   */
  readonly stopTask?: boolean;

  /**
   * With `stopTask`, also stop a task whose images could not be verified: an inconclusive verdict
   * (registry or AWS API unavailable), a verification that did not finish before the function's
   * deadline, or a malformed container entry. Requires `stopTask: true`.
   *
   * Off by default because a registry outage would then stop every task that starts during it.
   * @default false - only definitive rejections stop a task
   */
  readonly stopOnInconclusive?: boolean;

  /**
   * Queue that receives the events the audit could not process: events EventBridge could not deliver
   * to the function (the original event as the message body), and invocations that still failed after
   * Lambda's retries (a Lambda on-failure destination record, the original event in `requestPayload`).
   * An alarm fires when it holds messages. A queue encrypted with a customer managed KMS key needs a key
   * policy that lets `events.amazonaws.com` and the function's role use the key.
   * @default - a new queue: SQS-managed encryption, TLS enforced, 14-day retention
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * Audits every ECS task that reaches RUNNING: an EventBridge rule on `ECS Task State Change` invokes an
 * `ImageVerifierFunction` that verifies the containers' images (pinned to the digest ECS
 * reports), logs one verdict per image, publishes metrics and optionally notifies an SNS topic or
 * stops the task.
 *
 * Nothing is lost silently: malformed events and containers are logged and counted as inconclusive,
 * configuration errors are logged and counted (`ConfigurationErrors`), and events that still cannot be
 * processed end in an encrypted SQS dead-letter queue with an alarm on its depth.
 *
 * This detects and alerts; it cannot block a launch (the task is already running).
 *
 * @example
 * import { TaskLaunchAudit, TrustPolicy } from 'cdk-signed-images';
 *
 * const audit = new TaskLaunchAudit(this, 'Audit', {
 *   trustPolicy: TrustPolicy.fromSigningProfiles(registry),
 *   clusters: [cluster],
 *   topic,
 * });
 * audit.function.metricRejected().createAlarm(this, 'RejectedTasks', { threshold: 1, evaluationPeriods: 1 });
 */
export class TaskLaunchAudit extends Construct {
  /** The verifier function the rule invokes. */
  public readonly function: ImageVerifierFunction;
  /** The EventBridge rule. */
  public readonly rule: events.Rule;
  /** Events the audit could not process (EventBridge target DLQ and Lambda on-failure destination). */
  public readonly deadLetterQueue: sqs.IQueue;
  /** Fires when the dead-letter queue holds messages (`ApproximateNumberOfMessagesVisible > 0`). */
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  /**
   * @param scope the parent construct
   * @param id the construct id
   * @param props the trust policy, clusters, notification and function settings
   */
  public constructor(scope: Construct, id: string, props: TaskLaunchAuditProps) {
    super(scope, id);
    if (props.stopOnInconclusive && !props.stopTask) {
      throw new SignedImagesValidationError('stopOnInconclusive requires stopTask: true', this);
    }
    const environment: Record<string, string> = {
      // The `ConfigurationErrors` metric is written even when the config file cannot be read.
      [ENV.METRICS_NAMESPACE]: props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
    };
    if (props.topic) environment.SNS_TOPIC_ARN = props.topic.topicArn;
    this.function = new ImageVerifierFunction(this, 'Function', withInternals(props, {
      handlerName: HANDLER_NAME.TASK_AUDIT,
      config: { mode: 'AUDIT', stopTask: props.stopTask ?? false, stopTaskOnInconclusive: props.stopOnInconclusive ?? false },
      environment,
    }));

    this.deadLetterQueue = props.deadLetterQueue ?? this.newDeadLetterQueue();
    // Invocations that fail (after Lambda's retries) or age out: the original event in `requestPayload`.
    this.function.configureAsyncInvoke({
      retryAttempts: RETRY_ATTEMPTS,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    const detail: Record<string, unknown> = { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] };
    if (props.clusters && props.clusters.length > 0) detail.clusterArn = props.clusters.map((c) => c.clusterArn);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'cdk-signed-images: verify the images of ECS tasks that start running',
      eventPattern: { source: ['aws.ecs'], detailType: ['ECS Task State Change'], detail },
      // Events EventBridge cannot hand to Lambda (throttling, permissions): the original event as the body.
      targets: [new targets.LambdaFunction(this.function, {
        retryAttempts: RETRY_ATTEMPTS,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: this.deadLetterQueue,
      })],
    });

    this.deadLetterAlarm = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(5),
    }).createAlarm(this, 'DeadLetterAlarm', {
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'cdk-signed-images task audit: events that could not be processed are waiting in the dead-letter queue (see docs/runtime-enforcement.md to replay them)',
    });

    if (props.topic) {
      props.topic.grantPublish(this.function);
      this.deadLetterAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.topic));
    }
    if (props.stopTask) {
      const stack = Stack.of(this);
      const resources = props.clusters && props.clusters.length > 0
        ? props.clusters.map((c) => stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${c.clusterName}/*` }))
        : [stack.formatArn({ service: 'ecs', resource: 'task', resourceName: '*' })];
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:StopTask'], resources }));
    }

    // Synth-time scope check of the services in the app whose tasks this audit sees (its clusters, or
    // every cluster): a warning when stopTask would stop their tasks, else an info note.
    let checked = false;
    this.node.addValidation({
      validate: () => {
        if (checked) return [];
        checked = true;
        const statements = props.trustPolicy.statements;
        const exemptions = [...(props.exemptions ?? [])];
        for (const service of servicesInApp(this, props.clusters)) {
          checkServiceImages(service, {
            owner: `task launch audit ${this.node.path}`,
            severity: props.stopTask ? 'refuse' : 'report',
            consequence: props.stopTask
              ? 'its tasks will be reported as Rejected and stopped (stopTask)'
              : 'its tasks will be reported as Rejected',
            refuseUnpinned: false,
            statements,
            exemptions,
          });
        }
        return [];
      },
    });
  }

  private newDeadLetterQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // cdk-nag's SQS3 only recognises SQS redrive targets as dead-letter queues; this one is the
    // dead-letter queue of an EventBridge target and a Lambda on-failure destination.
    (queue.node.defaultChild as sqs.CfnQueue).addMetadata('cdk_nag', {
      rules_to_suppress: [{
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the task audit (EventBridge target DLQ and Lambda on-failure destination).',
      }],
    });
    return queue;
  }
}
