import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AdmissionMode, EcsAdmissionHook, InconclusiveAction, TaskLaunchAudit, TrustedIdentity, TrustPolicy, TrustStore,
} from '../src';
import { ensureBundled } from './support/handler-bundle';

beforeAll(() => ensureBundled());

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release';

function policy(): TrustPolicy {
  return new TrustPolicy({
    statements: [{
      name: 'release',
      registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app'],
      trustStores: [TrustStore.AWS_SIGNER],
      trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
    }],
  });
}

function setup(): { stack: Stack; cluster: ecs.Cluster; service: (id: string) => ecs.FargateService } {
  const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const service = (id: string) => {
    const td = new ecs.FargateTaskDefinition(stack, `${id}Task`);
    td.addContainer('app', { image: ecs.ContainerImage.fromRegistry('111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1') });
    return new ecs.FargateService(stack, id, {
      cluster, taskDefinition: td, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, assignPublicIp: true,
    });
  };
  return { stack, cluster, service };
}

function assetDir(s: Stack, fn: lambda.Function): string {
  const template = Template.fromStack(s).toJSON();
  const logicalId = s.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return path.join((s.node.root as App).outdir, template.Resources[logicalId].Metadata['aws:asset:path']);
}

function stagedConfig(s: Stack, fn: lambda.Function): any {
  return JSON.parse(readFileSync(path.join(assetDir(s, fn), 'config.json'), 'utf8'));
}

function statements(s: Stack): any[] {
  return Object.values(Template.fromStack(s).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('EcsAdmissionHook', () => {
  test('attaches a PRE_SCALE_UP lifecycle hook to the service; ENFORCE + fail closed by default', () => {
    const { stack, service } = setup();
    const svc = service('Svc');
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), services: [svc] });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        LifecycleHooks: [{
          HookTargetArn: { 'Fn::GetAtt': [stack.getLogicalId(hook.function.node.defaultChild as lambda.CfnFunction), 'Arn'] },
          LifecycleStages: ['PRE_SCALE_UP'],
          RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SignedImagesHook'), 'Arn'] },
        }],
      }),
    });
    // The role ECS assumes may invoke the function.
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ecs.amazonaws.com' } })] }),
    });
    expect(statements(stack).some((x) => x.Action === 'lambda:InvokeFunction')).toBe(true);
    const config = stagedConfig(stack, hook.function);
    expect(config).toMatchObject({ mode: 'ENFORCE', inconclusiveAction: 'REJECT', callBackDelaySeconds: 5 });
    expect(hook.mode).toBe(AdmissionMode.ENFORCE);
  });

  test('the function may describe the revisions of attached services only', () => {
    const { stack, service } = setup();
    const svc = service('Svc');
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), services: [svc] });
    const describe = statements(stack).find((s) => s.Action === 'ecs:DescribeServiceRevisions');
    // Scoped to the service's cluster (referencing the service itself would be a dependency cycle:
    // the service needs the function, whose policy would need the service).
    const cluster = { Ref: stack.getLogicalId(svc.cluster.node.defaultChild as ecs.CfnCluster) };
    expect(describe.Resource).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111122223333:service/', cluster, '/*']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111122223333:service-revision/', cluster, '/*/*']] },
    ]);
  });

  test('a literal service name narrows the grant to that service', () => {
    const { stack, cluster } = setup();
    const td = new ecs.FargateTaskDefinition(stack, 'NamedTask');
    td.addContainer('app', { image: ecs.ContainerImage.fromRegistry('111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1') });
    const svc = new ecs.FargateService(stack, 'Named', { cluster, taskDefinition: td, serviceName: 'payments', vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, assignPublicIp: true });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), services: [svc] });
    const describe = statements(stack).find((s) => s.Action === 'ecs:DescribeServiceRevisions');
    const ref = { Ref: stack.getLogicalId(cluster.node.defaultChild as ecs.CfnCluster) };
    expect(describe.Resource).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111122223333:service/', ref, '/payments']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111122223333:service-revision/', ref, '/payments/*']] },
    ]);
  });

  test('attachTo shares one function across services (idempotent per service)', () => {
    const { stack, service } = setup();
    const a = service('A');
    const b = service('B');
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy() });
    hook.attachTo(a);
    hook.attachTo(b);
    hook.attachTo(b);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Function', 1);
    const services = t.findResources('AWS::ECS::Service');
    for (const svc of Object.values(services) as any[]) {
      expect(svc.Properties.DeploymentConfiguration.LifecycleHooks).toHaveLength(1);
      expect(svc.Properties.DeploymentConfiguration.LifecycleHooks[0].LifecycleStages).toEqual(['PRE_SCALE_UP']);
    }
    // Both services are in one cluster: the identical statements are merged.
    expect(statements(stack).filter((s) => s.Action === 'ecs:DescribeServiceRevisions')).toHaveLength(1);
  });

  test('AUDIT mode, inconclusive ADMIT and callBackDelay reach config.json', () => {
    const { stack } = setup();
    const hook = new EcsAdmissionHook(stack, 'Admission', {
      trustPolicy: policy(),
      mode: AdmissionMode.AUDIT,
      inconclusiveAction: InconclusiveAction.ADMIT,
      callBackDelay: Duration.seconds(20),
      exemptions: ['public.ecr.aws/**'],
    });
    expect(stagedConfig(stack, hook.function)).toMatchObject({ mode: 'AUDIT', inconclusiveAction: 'ADMIT', callBackDelaySeconds: 20, exemptions: ['public.ecr.aws/**'] });
    // The asset holds the bundled admission-hook handler next to config.json.
    expect(readFileSync(path.join(assetDir(stack, hook.function), 'index.js'), 'utf8')).toContain('IN_PROGRESS');
  });

  test('enum-like classes validate names', () => {
    expect(AdmissionMode.of('AUDIT').name).toBe('AUDIT');
    expect(InconclusiveAction.of('ADMIT').name).toBe('ADMIT');
    expect(() => AdmissionMode.of('audit')).toThrow(/ENFORCE or AUDIT/);
    expect(() => InconclusiveAction.of('maybe')).toThrow(/REJECT or ADMIT/);
  });

  test('a callBackDelay out of range is a validation error', () => {
    const { stack } = setup();
    expect(() => new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), callBackDelay: Duration.minutes(20) })).toThrow(/callBackDelay/);
  });

  test('a service with another deployment controller is refused by aws-cdk-lib', () => {
    const { stack, cluster } = setup();
    const td = new ecs.FargateTaskDefinition(stack, 'CdTask');
    td.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:1') });
    const svc = new ecs.FargateService(stack, 'Cd', { cluster, taskDefinition: td, deploymentController: { type: ecs.DeploymentControllerType.CODE_DEPLOY } });
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy() });
    expect(() => {
      hook.attachTo(svc);
      Template.fromStack(stack);
    }).toThrow(/ECS deployment controller/);
  });
});

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
