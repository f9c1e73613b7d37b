/**
 * Least privilege by construction: verifier roles get ECR pull only on the repositories the trust
 * policy covers, also when those repositories' URIs are deploy-time tokens (new repositories of the
 * app). `*` only for a `*` scope or a scope that cannot be mapped, and then a synth warning names
 * the `repositories` prop.
 */
import { App, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  AdmissionMode, EcsAdmissionHook, ImageVerifierFunction, SignedRegistry, TaskLaunchAudit, TrustedIdentity, TrustPolicy,
  TrustStore, VerificationLevel,
} from '../src';
import { ensureBundled } from './support/handler-bundle';

beforeAll(() => ensureBundled());

const ENV = { account: '111122223333', region: 'us-east-1' };
const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release';
const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];
/** Actions that have no resource-level permission (the Service Authorization Reference lists none), or whose resources are unknown at synth. */
const STAR_ONLY_ACTIONS = ['ecr:GetAuthorizationToken', 'signer:GetRevocationStatus'];
const WARNING = 'cdk-signed-images:ImageVerifierFunction.ecrPullOnAnyRepository';

function newStack(app = new App(), id = 'Test', env: { account?: string; region?: string } | undefined = ENV): Stack {
  return new Stack(app, id, { env });
}

function statementsOf(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function asList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

/** Every statement that allows an ECR action on `*`, other than GetAuthorizationToken. */
function ecrOnStar(stack: Stack): any[] {
  return statementsOf(stack).filter((s) => asList(s.Resource).includes('*')
    && asList<string>(s.Action).some((a) => a.startsWith('ecr:') && a !== 'ecr:GetAuthorizationToken'));
}

function pullResources(stack: Stack): any[] {
  return statementsOf(stack).filter((s) => s.Sid === 'PullImagesAndSignatures').map((s) => s.Resource);
}

function arnOf(stack: Stack, repository: ecr.IRepository): any {
  return stack.resolve(repository.repositoryArn);
}

function warnings(stack: Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ecrPullOnAnyRepository')).map((w) => String(w.entry.data));
}

/** The README Quick start, with the inputs it names (a CI role, a cluster, a Fargate service). */
function quickStart(stack: Stack): { registry: SignedRegistry; hook: EcsAdmissionHook; audit: TaskLaunchAudit } {
  const ciRole = new iam.Role(stack, 'CiRole', { assumedBy: new iam.AccountRootPrincipal() });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  // --- Quick start ---
  const registry = new SignedRegistry(stack, 'Images', { repositoryName: 'shop/api' });
  registry.grantPushAndSign(ciRole);
  taskDefinition.addContainer('api', { image: ecs.ContainerImage.fromEcrRepository(registry.repositories[0], 'v1') });
  const fargateService = new ecs.FargateService(stack, 'Service', {
    cluster, taskDefinition, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, assignPublicIp: true,
  });
  const trustPolicy = TrustPolicy.fromSigningProfiles(registry);
  const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy, mode: AdmissionMode.ENFORCE });
  hook.attachTo(fargateService);
  const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy, clusters: [cluster] });
  return { registry, hook, audit };
}

describe('least privilege by construction', () => {
  test('README Quick start: both verifier roles pull from the registry repository only; no ECR action on * (explicit env)', () => {
    const stack = newStack();
    const { registry, hook, audit } = quickStart(stack);
    expect(ecrOnStar(stack)).toEqual([]);
    const repositoryArn = arnOf(stack, registry.repositories[0]);
    // One pull statement per verifier role (hook and audit), each on exactly the repository.
    expect(pullResources(stack)).toEqual([repositoryArn, repositoryArn]);
    for (const fn of [hook.function, audit.function]) {
      const roleRef = stack.resolve((fn.role as iam.Role).roleName);
      const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
        .filter((p: any) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]));
      const own = policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(own.find((s: any) => s.Sid === 'PullImagesAndSignatures')).toMatchObject({ Action: PULL_ACTIONS, Resource: repositoryArn });
      // Whatever is on * is an action without resource-level permissions.
      for (const s of own.filter((x: any) => asList(x.Resource).includes('*'))) {
        expect(asList<string>(s.Action).every((a) => STAR_ONLY_ACTIONS.includes(a))).toBe(true);
      }
    }
    expect(warnings(stack)).toEqual([]);
  });

  test('README Quick start in an env-agnostic stack: still no ECR action on *', () => {
    const stack = newStack(new App(), 'Agnostic', undefined);
    const { registry } = quickStart(stack);
    expect(ecrOnStar(stack)).toEqual([]);
    expect(pullResources(stack)).toEqual([arnOf(stack, registry.repositories[0]), arnOf(stack, registry.repositories[0])]);
    expect(warnings(stack)).toEqual([]);
  });

  test('the policy carries the registries\' repositories: several registries, existing and imported repositories', () => {
    const stack = newStack();
    const created = new SignedRegistry(stack, 'Created', { repositoryName: 'team/created', signingProfileName: 'created' });
    const existing = new ecr.Repository(stack, 'Existing');
    const imported = ecr.Repository.fromRepositoryName(stack, 'Imported', 'team/imported');
    const other = new SignedRegistry(stack, 'Other', { repositories: [existing, imported], signingProfileName: 'other' });
    const policy = TrustPolicy.fromSigningProfiles(created, other);
    expect(policy.statements[0].repositories).toEqual([created.repositories[0], existing, imported]);
    new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: policy });
    expect(pullResources(stack)).toEqual([[created.repositories[0], existing, imported].map((r) => arnOf(stack, r))]);
    expect(ecrOnStar(stack)).toEqual([]);
    // The repositories never reach the trust policy document.
    expect(JSON.stringify(stack.resolve(policy.render(stack)))).not.toMatch(/repositories/);
  });

  test('a registry in another stack of the app: the pull grant references its ARN (cross-stack), not *', () => {
    const app = new App();
    const images = newStack(app, 'Images');
    const runtime = newStack(app, 'Runtime');
    const registry = new SignedRegistry(images, 'Registry', { repositoryName: 'shop/api' });
    new ImageVerifierFunction(runtime, 'Verifier', { trustPolicy: TrustPolicy.fromSigningProfiles(registry) });
    expect(ecrOnStar(runtime)).toEqual([]);
    const [resource] = pullResources(runtime);
    expect(resource).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Images:ExportsOutputFnGetAtt.*Arn/) });
    expect(warnings(runtime)).toEqual([]);
  });

  test('a hand-written statement with repositories: token scopes that are their URIs are mapped', () => {
    const stack = newStack();
    const a = new ecr.Repository(stack, 'A');
    const b = new ecr.Repository(stack, 'B');
    const policy = new TrustPolicy({
      statements: [{
        name: 'release',
        registryScopes: [a.repositoryUri, b.repositoryUri],
        trustStores: [TrustStore.AWS_SIGNER],
        trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
        repositories: [a, b],
      }],
    });
    new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: policy });
    expect(pullResources(stack)).toEqual([[arnOf(stack, a), arnOf(stack, b)]]);
    expect(warnings(stack)).toEqual([]);
  });

  test('repositories plus literal ECR scopes: both are granted, nothing else', () => {
    const stack = newStack();
    const a = new ecr.Repository(stack, 'A');
    const policy = new TrustPolicy({
      statements: [{
        name: 'release',
        registryScopes: [a.repositoryUri, '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/literal', 'ghcr.io/acme/app'],
        trustStores: [TrustStore.AWS_SIGNER],
        trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
        repositories: [a],
      }],
    });
    new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: policy });
    expect(pullResources(stack)).toEqual([[
      arnOf(stack, a),
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:us-east-1:111122223333:repository/team/literal']] },
    ]]);
  });

  describe('* only when a scope cannot be mapped, with a warning naming the repositories prop', () => {
    function tokenPolicy(scopes: string[], repositories?: ecr.IRepository[]): TrustPolicy {
      return new TrustPolicy({
        statements: [{
          name: 'release',
          registryScopes: scopes,
          trustStores: [TrustStore.AWS_SIGNER],
          trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
          repositories,
        }],
      });
    }

    test('a token scope of no repository (an imported value) grants * and warns', () => {
      const stack = newStack();
      new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: tokenPolicy([Fn.importValue('RepoUri')]) });
      expect(pullResources(stack)).toEqual(['*']);
      const [w, ...rest] = warnings(stack);
      expect(rest).toEqual([]);
      expect(w).toMatch(/every repository \("\*"\) because a registry scope of trust policy statement "release" is a deploy-time token/);
      expect(w).toMatch(/Set the `repositories` prop/);
      Annotations.fromStack(stack).hasWarning('/Test/Verifier', Match.stringLikeRegexp(WARNING));
    });

    test('a token scope that is the URI of a repository the statement does not carry grants * and warns', () => {
      const stack = newStack();
      const a = new ecr.Repository(stack, 'A');
      const b = new ecr.Repository(stack, 'B');
      new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: tokenPolicy([a.repositoryUri, b.repositoryUri], [a]) });
      expect(pullResources(stack)).toEqual(['*']);
      expect(warnings(stack)).toHaveLength(1);
    });

    test('a * scope grants * and warns', () => {
      const stack = newStack();
      new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: tokenPolicy(['*']) });
      expect(pullResources(stack)).toEqual(['*']);
      expect(warnings(stack)[0]).toMatch(/statement "release" has the scope "\*"/);
    });

    test('fromSigningProfiles with a plain profile source (no repositories): scope *, pull on *, warning', () => {
      const stack = newStack();
      const registry = new SignedRegistry(stack, 'Registry', { repositoryName: 'shop/api' });
      const policy = TrustPolicy.fromSigningProfiles(registry, { signingProfileArn: PROFILE_ARN });
      expect(policy.statements[0].registryScopes).toEqual(['*']);
      new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: policy });
      expect(pullResources(stack)).toEqual(['*']);
      expect(warnings(stack)).toHaveLength(1);
    });

    test('the repositories prop replaces the derived set: no *, no warning', () => {
      const stack = newStack();
      const a = new ecr.Repository(stack, 'A');
      new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: tokenPolicy(['*']), repositories: [a] });
      expect(pullResources(stack)).toEqual([arnOf(stack, a)]);
      expect(warnings(stack)).toEqual([]);
    });

    test('a skip statement needs no pull: its token scope neither grants * nor warns', () => {
      const stack = newStack();
      const a = new ecr.Repository(stack, 'A');
      const policy = new TrustPolicy({
        statements: [
          { name: 'sidecars', registryScopes: [Fn.importValue('SidecarUri')], level: VerificationLevel.SKIP },
          { name: 'release', registryScopes: [a.repositoryUri], trustStores: [TrustStore.AWS_SIGNER], trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)], repositories: [a] },
        ],
      });
      new ImageVerifierFunction(stack, 'Verifier', { trustPolicy: policy });
      expect(pullResources(stack)).toEqual([arnOf(stack, a)]);
      expect(warnings(stack)).toEqual([]);
    });

    test('an EcsAdmissionHook and a TaskLaunchAudit warn on their own function', () => {
      const stack = newStack();
      new EcsAdmissionHook(stack, 'Admission', { trustPolicy: tokenPolicy(['*']), mode: AdmissionMode.AUDIT });
      new TaskLaunchAudit(stack, 'Audit', { trustPolicy: tokenPolicy(['*']) });
      Annotations.fromStack(stack).hasWarning('/Test/Admission/Function', Match.stringLikeRegexp('Set the `repositories` prop'));
      Annotations.fromStack(stack).hasWarning('/Test/Audit/Function', Match.stringLikeRegexp('Set the `repositories` prop'));
    });
  });

  test('attachTo: DescribeServiceRevisions on the cluster\'s services for a generated service name, because naming the service is a dependency cycle', () => {
    const build = () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
      const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
      const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
      taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1') });
      const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, assignPublicIp: true });
      const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: TrustPolicy.fromSigningProfiles({ signingProfileArn: PROFILE_ARN }), services: [service] });
      return { stack, cluster, service, hook };
    };
    const { stack, cluster } = build();
    const describe = statementsOf(stack).find((s) => s.Action === 'ecs:DescribeServiceRevisions');
    const clusterRef = stack.resolve(cluster.clusterName);
    expect(describe.Resource).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111122223333:service/', clusterRef, '/*']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111122223333:service-revision/', clusterRef, '/*/*']] },
    ]);
    // What the narrower grant would do: the service needs the function (hook target), the function
    // its policy, and that policy the service's name.
    const other = build();
    other.hook.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeServiceRevisions'],
      resources: [other.stack.formatArn({ service: 'ecs', resource: 'service-revision', resourceName: `${other.cluster.clusterName}/${other.service.serviceName}/*` })],
    }));
    expect(() => Template.fromStack(other.stack)).toThrow(/dependency cycle: Service.* -> AdmissionFunction.* -> AdmissionFunctionServiceRoleDefaultPolicy.* -> Service/);
  });
});
