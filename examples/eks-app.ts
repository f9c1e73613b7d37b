/**
 * Example CDK app for Amazon EKS: a cluster whose Pods and workloads may only run images from a
 * SignedRegistry (ECR + AWS Signer + managed signing), verified at admission by an
 * EksAdmissionWebhook (AUDIT first; switch to ENFORCE once the warnings are gone), each verified image
 * pinned to its digest. test/eks/eks-app.test.ts synthesizes it and runs cdk-nag on it.
 *
 * The webhook itself needs no kubectl layer (it applies its configurations through the Kubernetes API
 * with the cluster's kubectlRole); aws-cdk-lib's Cluster requires one for its own kubectl provider.
 */
import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { App, Aspects, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { AdmissionMode, EksAdmissionWebhook, SignedRegistry, TrustPolicy } from '../src';

export interface SignedImagesEksExampleProps extends StackProps {
  /** @default AdmissionMode.AUDIT */
  readonly mode?: AdmissionMode;
}

export class SignedImagesEksExampleStack extends Stack {
  public readonly webhook: EksAdmissionWebhook;
  public readonly cluster: eks.Cluster;

  public constructor(scope: Construct, id: string, props: SignedImagesEksExampleProps = {}) {
    super(scope, id, props);

    const registry = new SignedRegistry(this, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
    const ci = new iam.Role(this, 'CiRole', { assumedBy: new iam.AccountRootPrincipal(), description: 'CI pipeline that pushes (and thereby signs) images' });
    registry.grantPushAndSign(ci);

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1, flowLogs: { all: {} } });
    this.cluster = new eks.Cluster(this, 'Cluster', {
      vpc,
      version: eks.KubernetesVersion.V1_34,
      kubectlLayer: new KubectlV34Layer(this, 'Kubectl'),
      defaultCapacity: 2,
      clusterLogging: [eks.ClusterLoggingTypes.API, eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER, eks.ClusterLoggingTypes.SCHEDULER],
    });

    const trustPolicy = TrustPolicy.fromSigningProfiles(registry);
    this.webhook = new EksAdmissionWebhook(this, 'Admission', {
      cluster: this.cluster,
      trustPolicy,
      mode: props.mode ?? AdmissionMode.AUDIT,
      excludedNamespaces: ['amazon-cloudwatch'],
      rejectionAlarm: true,
    });
  }
}

export function buildEksExampleApp(app: App = new App(), opts: { suppress?: boolean; mode?: AdmissionMode } = {}): { app: App; stack: SignedImagesEksExampleStack } {
  const stack = new SignedImagesEksExampleStack(app, 'SignedImagesEksExample', { env: { account: '123456789012', region: 'us-east-1' }, mode: opts.mode });
  Aspects.of(stack).add(new AwsSolutionsChecks());
  if (opts.suppress !== false) suppress(stack);
  return { app, stack };
}

/** One reason per suppression; each is scoped to the resources it is about. */
function suppress(stack: SignedImagesEksExampleStack): void {
  const p = `/${stack.stackName}`;
  // The webhook itself.
  NagSuppressions.addResourceSuppressionsByPath(stack, `${p}/Admission/PathSecret/Resource`, [{
    id: 'AwsSolutions-SMG4',
    reason: 'The secret is the URL path of the webhook configurations; rotating it means re-applying them (a stack update), which automatic rotation cannot do. docs/eks.md describes manual rotation.',
  }]);
  NagSuppressions.addResourceSuppressionsByPath(stack, `${p}/Admission/Function/ServiceRole/DefaultPolicy/Resource`, [{
    id: 'AwsSolutions-IAM5',
    reason: 'ecr:GetAuthorizationToken has no resource-level permission, and signer:GetRevocationStatus is checked against the signing job and profile of each signature (known only when an image is verified): both are granted on "*". ECR pull is on the registry\'s repository.',
    appliesTo: ['Resource::*'],
  }]);
  NagSuppressions.addResourceSuppressionsByPath(stack, `${p}/CiRole/DefaultPolicy/Resource`, [{
    id: 'AwsSolutions-IAM5', reason: 'ecr:GetAuthorizationToken has no resource-level permission, so it is granted on "*".', appliesTo: ['Resource::*'],
  }]);
  NagSuppressions.addStackSuppressions(stack, [
    { id: 'AwsSolutions-IAM4', reason: 'AWSLambdaBasicExecutionRole (functions) and the EKS-managed policies of the cluster and node roles are the AWS-managed minimum for those services.' },
    { id: 'AwsSolutions-L1', reason: 'The verifier and the webhook-configuration function use Node.js 22 (the runtime their bundles are tested on); the kubectl provider and custom-resource runtimes are chosen by aws-cdk-lib.' },
  ]);
  // The example cluster (aws-cdk-lib's Cluster construct and its kubectl provider), not this library.
  NagSuppressions.addResourceSuppressionsByPath(stack, `${p}/Cluster/Resource`, [{
    id: 'AwsSolutions-EKS1',
    reason: 'Example cluster: the public API endpoint keeps the example deployable without a bastion; restrict it with endpointAccess in production. The webhook needs no in-cluster endpoint either way.',
  }], true);
  NagSuppressions.addResourceSuppressionsByPath(stack, [
    `${p}/Cluster`,
    `${p}/@aws-cdk--aws-eks.ClusterResourceProvider`,
    `${p}/@aws-cdk--aws-eks.KubectlProvider`,
  ], [
    { id: 'AwsSolutions-IAM4', reason: 'aws-cdk-lib\'s EKS provider functions (nested stacks) use the AWS-managed Lambda execution policies aws-cdk-lib chose.' },
    { id: 'AwsSolutions-IAM5', reason: 'aws-cdk-lib\'s EKS cluster-resource and kubectl providers: their policies are generated by aws-cdk-lib (cluster ARN wildcards, Lambda versions), not by this library.' },
    { id: 'AwsSolutions-L1', reason: 'aws-cdk-lib\'s kubectl provider runtime is fixed by aws-cdk-lib (it must match the kubectl layer).' },
    { id: 'AwsSolutions-SF1', reason: 'aws-cdk-lib\'s provider-framework state machine (waiter); not configurable.' },
    { id: 'AwsSolutions-SF2', reason: 'aws-cdk-lib\'s provider-framework state machine (waiter); not configurable.' },
    { id: 'AwsSolutions-EC23', reason: 'aws-cdk-lib\'s cluster security group rules.' },
  ], true);
}

if (require.main === module) {
  buildEksExampleApp().app.synth();
}
