/**
 * The inputs README.md's Quick start names, built with real aws-cdk-lib constructs, as a user's app
 * already has them: a CI role, a cluster in a VPC, and a Fargate service on the ECS deployment
 * controller whose image comes from an existing repository. Kept in a module of its own so that the
 * Quick start block sees exactly the names the README declares (quick-start.test.ts), not `vpc` & co.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';

/** Builders by input name; quick-start.test.ts checks the README names exactly these. */
export const QUICK_START_INPUTS = {
  ciRole: (scope: Stack): iam.IRole => new iam.Role(scope, 'CiRole', { assumedBy: new iam.AccountRootPrincipal() }),
  cluster: (scope: Stack): ecs.ICluster => clusterOf(scope),
  fargateService: (scope: Stack): ecs.FargateService => {
    const taskDefinition = new ecs.FargateTaskDefinition(scope, 'Task');
    taskDefinition.addContainer('api', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
    return new ecs.FargateService(scope, 'Service', {
      cluster: clusterOf(scope),
      taskDefinition,
      deploymentController: { type: ecs.DeploymentControllerType.ECS },
    });
  },
};

/** One cluster per stack, shared by the `cluster` and `fargateService` inputs. */
function clusterOf(scope: Stack): ecs.Cluster {
  const existing = scope.node.tryFindChild('Cluster');
  if (existing) return existing as ecs.Cluster;
  const vpc = new ec2.Vpc(scope, 'Vpc', { maxAzs: 2, natGateways: 1 });
  return new ecs.Cluster(scope, 'Cluster', { vpc });
}

export type QuickStartInputName = keyof typeof QUICK_START_INPUTS;

/** Builds the named inputs in `scope` (the Quick start wrapper calls this). */
export function buildQuickStartInputs(scope: Stack, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const build = (QUICK_START_INPUTS as Record<string, (s: Stack) => unknown>)[name];
    if (!build) throw new Error(`README Quick start names an input "${name}" that quick-start-inputs.ts cannot build`);
    out[name] = build(scope);
  }
  return out;
}
