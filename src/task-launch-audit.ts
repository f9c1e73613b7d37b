import { Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ImageVerifierFunction, ImageVerifierFunctionProps } from './image-verifier-function';
import { withInternals } from './private/verifier-internals';

/** Properties of a {@link TaskLaunchAudit}. */
export interface TaskLaunchAuditProps extends ImageVerifierFunctionProps {
  /**
   * Only audit tasks of these clusters.
   * @default - tasks of every cluster in the account and region
   */
  readonly clusters?: ecs.ICluster[];

  /**
   * Topic notified when a running task uses an image that fails verification.
   * @default - no notification (logs and metrics only)
   */
  readonly topic?: sns.ITopic;

  /**
   * Stop a task that runs a rejected image (`ecs:StopTask`).
   *
   * Best-effort only: the task has already started when the event arrives, and a service's scheduler
   * starts a replacement. Use `EcsAdmissionHook` to block deployments; this setting is for standalone
   * tasks and as a last line of defence.
   * @default false
   */
  readonly stopTask?: boolean;
}

/**
 * Audits every ECS task that reaches RUNNING: an EventBridge rule on `ECS Task State Change` invokes an
 * {@link ImageVerifierFunction} that verifies the containers' images (pinned to the digest ECS
 * reports), logs one verdict per image, publishes metrics and optionally notifies an SNS topic or
 * stops the task.
 *
 * This detects and alerts; it cannot block a launch (the task is already running).
 */
export class TaskLaunchAudit extends Construct {
  /** The verifier function the rule invokes. */
  public readonly function: ImageVerifierFunction;
  /** The EventBridge rule. */
  public readonly rule: events.Rule;

  public constructor(scope: Construct, id: string, props: TaskLaunchAuditProps) {
    super(scope, id);
    const environment: Record<string, string> = {};
    if (props.topic) environment.SNS_TOPIC_ARN = props.topic.topicArn;
    this.function = new ImageVerifierFunction(this, 'Function', withInternals(props, {
      handlerName: 'task-audit',
      config: { mode: 'AUDIT', stopTask: props.stopTask ?? false },
      environment,
    }));
    const detail: Record<string, unknown> = { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] };
    if (props.clusters && props.clusters.length > 0) detail.clusterArn = props.clusters.map((c) => c.clusterArn);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'cdk-signed-images: verify the images of ECS tasks that start running',
      eventPattern: { source: ['aws.ecs'], detailType: ['ECS Task State Change'], detail },
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    if (props.topic) props.topic.grantPublish(this.function);
    if (props.stopTask) {
      const stack = Stack.of(this);
      const resources = props.clusters && props.clusters.length > 0
        ? props.clusters.map((c) => stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${c.clusterName}/*` }))
        : [stack.formatArn({ service: 'ecs', resource: 'task', resourceName: '*' })];
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:StopTask'], resources }));
    }
  }
}
