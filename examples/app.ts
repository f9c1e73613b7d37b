/**
 * Example CDK app: a Fargate service whose images come from a SignedRegistry (ECR + AWS Signer +
 * managed signing), admitted by an EcsAdmissionHook in ENFORCE mode, with every task launch audited,
 * and a SignedImagesDashboard with its alarms.
 * `npx projen demo` synthesizes it; test/examples/app.test.ts snapshots it and runs cdk-nag on it, and
 * test/examples/quick-start.test.ts checks that no ECR action but GetAuthorizationToken is granted on `*`.
 * It imports ../src, so it is not in the npm package: the README links it by its GitHub URL.
 */
import { App, Aspects, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { AdmissionMode, EcsAdmissionHook, SignedImagesDashboard, SignedRegistry, TaskLaunchAudit, TrustPolicy } from '../src';

export class SignedImagesExampleStack extends Stack {
  public constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const registry = new SignedRegistry(this, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
    const ci = new iam.Role(this, 'CiRole', { assumedBy: new iam.AccountRootPrincipal(), description: 'CI pipeline that pushes (and thereby signs) images' });
    registry.grantPushAndSign(ci);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1, flowLogs: { all: {} } });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskDef = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 256, memoryLimitMiB: 512 });
    taskDef.addContainer('api', {
      image: ecs.ContainerImage.fromEcrRepository(registry.repositories[0], 'v1'),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'api' }),
      portMappings: [{ containerPort: 8080 }],
    });
    const service = new ecs.FargateService(this, 'Service', { cluster, taskDefinition: taskDef, desiredCount: 2 });

    const trustPolicy = TrustPolicy.fromSigningProfiles(registry);
    // No rejectionAlarm here: the dashboard's alarms below include a rejection alarm for ENFORCE hooks.
    const hook = new EcsAdmissionHook(this, 'Admission', { trustPolicy, mode: AdmissionMode.ENFORCE });
    hook.attachTo(service);

    const alerts = new sns.Topic(this, 'Alerts', { enforceSSL: true });
    const audit = new TaskLaunchAudit(this, 'Audit', { trustPolicy, clusters: [cluster], topic: alerts });

    // One dashboard for both, with the alarms docs/operations.md explains, notifying the same topic.
    new SignedImagesDashboard(this, 'Operations', { admissionHooks: [hook], taskAudits: [audit], alarms: true, alarmTopic: alerts });
  }
}

export function buildExampleApp(app: App = new App(), opts: { suppress?: boolean } = {}): { app: App; stack: SignedImagesExampleStack } {
  const stack = new SignedImagesExampleStack(app, 'SignedImagesExample', { env: { account: '123456789012', region: 'us-east-1' } });
  Aspects.of(stack).add(new AwsSolutionsChecks());
  if (opts.suppress !== false) {
    NagSuppressions.addStackSuppressions(stack, [
      { id: 'AwsSolutions-IAM4', reason: 'AWSLambdaBasicExecutionRole is the AWS-managed minimum policy for Lambda logging.' },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'aws-cdk-lib grantInvoke on the hook role also covers the function versions (<arn>:*) ECS may invoke.',
        appliesTo: [{ regex: '/^Resource::<Admission.*\\.Arn>:\\*$/' }],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: 'ecs:DescribeServiceRevisions is granted on the services of the attached service\'s cluster: the service\'s generated name exists only once the service does, and the service depends on the hook function, so naming it would be a dependency cycle (a literal serviceName narrows it); revision ids are only known at deployment time.',
        appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:ecs:us-east-1:123456789012:service(-revision)?\\/<Cluster.*>\\/\\*(\\/\\*)?$/' }],
      },
      { id: 'AwsSolutions-L1', reason: 'The verifier functions default to Node.js 22 (the runtime the bundles are tested on); override with the runtime prop.' },
    ]);
    // `*` only where IAM offers nothing narrower, on exactly the policies that need it. ECR pull of
    // the verifiers is on the registry's repository (the trust policy carries it), never on `*`.
    const tokenOnly = 'ecr:GetAuthorizationToken has no resource-level permission (the Service Authorization Reference lists no resource type), so it is granted on "*"; every other ECR action of this role is on a repository ARN.';
    const verifier = `${tokenOnly} signer:GetRevocationStatus is checked against the signing job and profile of each signature, which are known only when an image is verified, so it is granted on "*" too.`;
    for (const [path, reason] of [
      ['/SignedImagesExample/CiRole/DefaultPolicy/Resource', tokenOnly],
      ['/SignedImagesExample/Task/ExecutionRole/DefaultPolicy/Resource', tokenOnly],
      ['/SignedImagesExample/Admission/Function/ServiceRole/DefaultPolicy/Resource', verifier],
      ['/SignedImagesExample/Audit/Function/ServiceRole/DefaultPolicy/Resource', verifier],
    ]) {
      NagSuppressions.addResourceSuppressionsByPath(stack, path, [{ id: 'AwsSolutions-IAM5', reason, appliesTo: ['Resource::*'] }]);
    }
  }
  return { app, stack };
}

if (require.main === module) {
  buildExampleApp().app.synth();
}
