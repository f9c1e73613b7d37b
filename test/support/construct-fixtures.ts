/** Shared fixtures for the runtime construct tests: a stack with a VPC, a cluster and Fargate services. */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { TrustedIdentity, TrustPolicy, TrustStore } from '../../src';

export const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release';

export function policy(): TrustPolicy {
  return new TrustPolicy({
    statements: [{
      name: 'release',
      registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app'],
      trustStores: [TrustStore.AWS_SIGNER],
      trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
    }],
  });
}

export function setup(): { stack: Stack; cluster: ecs.Cluster; service: (id: string) => ecs.FargateService } {
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

export function assetDir(s: Stack, fn: lambda.Function): string {
  const template = Template.fromStack(s).toJSON();
  const logicalId = s.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return path.join((s.node.root as App).outdir, template.Resources[logicalId].Metadata['aws:asset:path']);
}

export function stagedConfig(s: Stack, fn: lambda.Function): any {
  return JSON.parse(readFileSync(path.join(assetDir(s, fn), 'config.json'), 'utf8'));
}

export function statements(s: Stack): any[] {
  return Object.values(Template.fromStack(s).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}
