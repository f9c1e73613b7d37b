import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
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
});
