import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { TaskLaunchAudit } from '../src';
import { policy, setup, stagedConfig, statements } from './support/construct-fixtures';
import { ensureBundled } from './support/handler-bundle';

beforeAll(() => ensureBundled());

describe('TaskLaunchAudit', () => {
  test('EventBridge rule on ECS Task State Change, RUNNING, filtered by cluster', () => {
    const { stack, cluster } = setup();
    const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), clusters: [cluster] });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        'detail': { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'], clusterArn: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Arn'] }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [stack.getLogicalId(audit.function.node.defaultChild as lambda.CfnFunction), 'Arn'] } })],
    });
    t.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', Action: 'lambda:InvokeFunction' });
    expect(stagedConfig(stack, audit.function)).toMatchObject({ stopTask: false });
    expect(statements(stack).some((s) => s.Action === 'ecs:StopTask')).toBe(false);
  });

  test('without clusters the rule matches every cluster', () => {
    const { stack } = setup();
    new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy() });
    const rule = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'))[0] as any;
    expect(rule.Properties.EventPattern.detail).toEqual({ lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] });
  });

  test('SNS topic: ARN in the environment, publish granted', () => {
    const { stack } = setup();
    const topic = new sns.Topic(stack, 'Alerts');
    new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), topic });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { SNS_TOPIC_ARN: { Ref: Match.stringLikeRegexp('^Alerts') } } } });
    expect(statements(stack)).toEqual(expect.arrayContaining([expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) } })]));
  });

  test('stopTask is opt-in: config flag + ecs:StopTask on the clusters\' tasks', () => {
    const { stack, cluster } = setup();
    const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), clusters: [cluster], stopTask: true });
    expect(stagedConfig(stack, audit.function)).toMatchObject({ stopTask: true });
    const stop = statements(stack).find((s) => s.Action === 'ecs:StopTask');
    expect(JSON.stringify(stop.Resource)).toContain(':task/');
  });

  test('stopOnInconclusive renders stopTaskOnInconclusive; off by default', () => {
    const { stack, cluster } = setup();
    const on = new TaskLaunchAudit(stack, 'On', { trustPolicy: policy(), clusters: [cluster], stopTask: true, stopOnInconclusive: true });
    const off = new TaskLaunchAudit(stack, 'Off', { trustPolicy: policy(), clusters: [cluster], stopTask: true });
    expect(stagedConfig(stack, on.function)).toMatchObject({ stopTask: true, stopTaskOnInconclusive: true });
    expect(stagedConfig(stack, off.function)).toMatchObject({ stopTask: true, stopTaskOnInconclusive: false });
  });

  test('stopOnInconclusive without stopTask is a synth error', () => {
    const { stack } = setup();
    expect(() => new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), stopOnInconclusive: true })).toThrow(/stopOnInconclusive requires stopTask/);
  });

  test('the ConfigurationErrors namespace travels in the environment (readable without the config file)', () => {
    const { stack } = setup();
    new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), metricsNamespace: 'Shop/Audit' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SIGNED_IMAGES_METRICS_NAMESPACE: 'Shop/Audit' }) },
    });
  });

  test('configurationErrorAlarm watches the audit\'s ConfigurationErrors metric in its namespace', () => {
    const { stack } = setup();
    const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), metricsNamespace: 'Shop/Audit', configurationErrorAlarm: true });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Shop/Audit',
      MetricName: 'ConfigurationErrors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: stack.getLogicalId(audit.function.node.defaultChild as lambda.CfnFunction) } }],
    });
  });

  describe('dead-letter queue', () => {
    const ref = (stack: any, c: any) => stack.getLogicalId(c.node.defaultChild);

    test('default: SQS-managed encryption, TLS enforced, 14 days; EventBridge target DLQ and Lambda on-failure destination', () => {
      const { stack, cluster } = setup();
      const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), clusters: [cluster] });
      const t = Template.fromStack(stack);
      const queueId = ref(stack, audit.deadLetterQueue);
      t.resourceCountIs('AWS::SQS::Queue', 1);
      t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      // cdk-nag SQS3 ("not a DLQ and has no DLQ") does not know EventBridge/Lambda dead-letter queues: suppressed with a reason
      t.hasResource('AWS::SQS::Queue', {
        Metadata: Match.objectLike({ cdk_nag: { rules_to_suppress: [{ id: 'AwsSolutions-SQS3', reason: Match.stringLikeRegexp('dead-letter queue') }] } }),
      });
      // TLS only
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          })]),
        },
      });
      // EventBridge may deliver failed events to it, only for this rule
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ref(stack, audit.rule), 'Arn'] } } },
          })]),
        },
      });
      // the rule target keeps the original event for delivery failures
      t.hasResourceProperties('AWS::Events::Rule', {
        Targets: [Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        })],
      });
      // failed asynchronous invocations: on-failure destination (the original event in requestPayload)
      t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: ref(stack, audit.function) },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      });
      expect(statements(stack)).toEqual(expect.arrayContaining([expect.objectContaining({
        Action: expect.arrayContaining(['sqs:SendMessage']), Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
      })]));
    });

    test('an alarm fires when the queue holds a message', () => {
      const { stack } = setup();
      const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy() });
      Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ref(stack, audit.deadLetterQueue), 'QueueName'] } }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(audit.deadLetterAlarm).toBeDefined();
    });

    test('with a topic, the alarm notifies it', () => {
      const { stack } = setup();
      const topic = new sns.Topic(stack, 'Alerts');
      new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), topic });
      Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }],
      });
    });

    test('a queue of your own replaces the default one', () => {
      const { stack } = setup();
      const mine = new sqs.Queue(stack, 'Mine', { encryption: sqs.QueueEncryption.SQS_MANAGED });
      const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), deadLetterQueue: mine });
      expect(audit.deadLetterQueue).toBe(mine);
      const t = Template.fromStack(stack);
      t.resourceCountIs('AWS::SQS::Queue', 1);
      const mineArn = { 'Fn::GetAtt': [stack.getLogicalId(mine.node.defaultChild as sqs.CfnQueue), 'Arn'] };
      t.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ DeadLetterConfig: { Arn: mineArn } })] });
      t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { DestinationConfig: { OnFailure: { Destination: mineArn } } });
    });
  });
});
