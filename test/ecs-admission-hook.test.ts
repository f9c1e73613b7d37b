import { readFileSync } from 'fs';
import * as path from 'path';
import { Duration, Lazy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AdmissionMode, EcsAdmissionHook, InconclusiveAction, TrustedIdentity, TrustPolicy, TrustPolicyStatement, TrustStore, UnpinnedImageAction, VerificationAction, VerificationLevel } from '../src';
import { assetDir, policy, PROFILE_ARN, setup, stagedConfig, statements } from './support/construct-fixtures';
import { ensureBundled } from './support/handler-bundle';
import { DEFAULT_CALL_BACK_DELAY_SECONDS, DEFAULT_SIGNATURE_WAIT_SECONDS } from '../src/handlers/config';

beforeAll(() => ensureBundled());

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

  test('AdmissionMode and InconclusiveAction are real enums', () => {
    expect(Object.entries(AdmissionMode)).toEqual([['ENFORCE', 'ENFORCE'], ['AUDIT', 'AUDIT']]);
    expect(Object.entries(InconclusiveAction)).toEqual([['REJECT', 'REJECT'], ['ADMIT', 'ADMIT']]);
  });

  // JavaScript callers and the jsii kernel can pass any value where an enum is declared.
  test.each([
    ['mode', { mode: 'audit' }, /^admission mode must be ENFORCE or AUDIT, got "audit"/],
    ['mode', { mode: 'constructor' }, /^admission mode must be ENFORCE or AUDIT, got "constructor"/],
    ['inconclusiveAction', { inconclusiveAction: 'maybe' }, /^inconclusive action must be REJECT or ADMIT, got "maybe"/],
  ])('a %s that is no member is refused', (_name, extra, message) => {
    const { stack } = setup();
    expect(() => new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), ...extra } as any)).toThrow(message);
    expect(() => new EcsAdmissionHook(stack, 'Admission2', { trustPolicy: policy(), ...extra } as any)).toThrow(/\(at Test\/Admission2\)$/);
  });

  test('a callBackDelay out of range is a validation error', () => {
    const { stack } = setup();
    expect(() => new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), callBackDelay: Duration.minutes(20) })).toThrow(/callBackDelay/);
  });

  test('signatureWait: 2 minutes by default, a custom value, 0 disables waiting; all reach config.json', () => {
    const { stack } = setup();
    const hooks = {
      120: new EcsAdmissionHook(stack, 'Default', { trustPolicy: policy() }),
      45: new EcsAdmissionHook(stack, 'Custom', { trustPolicy: policy(), signatureWait: Duration.seconds(45) }),
      0: new EcsAdmissionHook(stack, 'Off', { trustPolicy: policy(), signatureWait: Duration.seconds(0) }),
      3600: new EcsAdmissionHook(stack, 'Hour', { trustPolicy: policy(), signatureWait: Duration.hours(1) }),
    };
    for (const [seconds, hook] of Object.entries(hooks)) {
      expect(stagedConfig(stack, hook.function)).toMatchObject({ signatureWaitSeconds: Number(seconds) });
    }
  });

  test('a signatureWait out of range, not whole seconds, shorter than callBackDelay or a token is a validation error', () => {
    const { stack } = setup();
    const make = (id: string, signatureWait: Duration, callBackDelay?: Duration) =>
      () => new EcsAdmissionHook(stack, id, { trustPolicy: policy(), signatureWait, callBackDelay });
    expect(make('A', Duration.minutes(61))).toThrow(/signatureWait must be whole seconds between 0 and 60 minutes/);
    expect(make('B', Duration.millis(1500))).toThrow(/signatureWait must be whole seconds/);
    expect(make('C', Duration.seconds(10), Duration.seconds(30))).toThrow(/shorter than callBackDelay/);
    expect(make('D', Duration.seconds(Lazy.number({ produce: () => 30 })))).toThrow(/signatureWait must be a literal duration/);
    expect(make('E', Duration.seconds(30), Duration.seconds(30))).not.toThrow();
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

describe('EcsAdmissionHook: unpinned images, AUDIT on configuration errors, shared defaults', () => {
  test('unpinned images are refused by default; VERIFY_CURRENT_DIGEST is an explicit opt-in; both reach config.json', () => {
    const { stack } = setup();
    const byDefault = new EcsAdmissionHook(stack, 'Default', { trustPolicy: policy() });
    const optIn = new EcsAdmissionHook(stack, 'OptIn', { trustPolicy: policy(), unpinnedImages: UnpinnedImageAction.VERIFY_CURRENT_DIGEST });
    expect(stagedConfig(stack, byDefault.function).unpinnedImages).toBe('REJECT');
    expect(stagedConfig(stack, optIn.function).unpinnedImages).toBe('VERIFY_CURRENT_DIGEST');
    expect(() => new EcsAdmissionHook(stack, 'Bad', { trustPolicy: policy(), unpinnedImages: 'verify' as any })).toThrow(/unpinnedImages must be REJECT or VERIFY_CURRENT_DIGEST/);
  });

  test.each([['ENFORCE', AdmissionMode.ENFORCE], ['AUDIT', AdmissionMode.AUDIT]])('the mode (%s) and the metrics namespace are in the environment too', (name, mode) => {
    const { stack } = setup();
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), mode, metricsNamespace: 'Team/Images' });
    const fn = Template.fromStack(stack).findResources('AWS::Lambda::Function')[stack.getLogicalId(hook.function.node.defaultChild as lambda.CfnFunction)];
    expect(fn.Properties.Environment.Variables).toEqual({ ADMISSION_MODE: name, SIGNED_IMAGES_METRICS_NAMESPACE: 'Team/Images' });
  });

  test('configurationErrorAlarm watches ConfigurationErrors of the function in its namespace', () => {
    const { stack } = setup();
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), mode: AdmissionMode.AUDIT, configurationErrorAlarm: true });
    expect(hook.function.configurationErrorAlarm).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConfigurationErrors',
      Namespace: 'SignedImages',
      Threshold: 1,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: stack.getLogicalId(hook.function.node.defaultChild as lambda.CfnFunction) } }],
    });
    const { stack: other } = setup();
    new EcsAdmissionHook(other, 'Admission', { trustPolicy: policy() });
    Template.fromStack(other).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('the defaults are the ones the handler uses (one definition)', () => {
    const { stack } = setup();
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy() });
    expect(stagedConfig(stack, hook.function)).toMatchObject({ callBackDelaySeconds: DEFAULT_CALL_BACK_DELAY_SECONDS, signatureWaitSeconds: DEFAULT_SIGNATURE_WAIT_SECONDS });
    expect([DEFAULT_CALL_BACK_DELAY_SECONDS, DEFAULT_SIGNATURE_WAIT_SECONDS]).toEqual([5, 120]);
  });
});

describe('EcsAdmissionHook: statements that verify nothing, in ENFORCE (issue 8, item 8)', () => {
  const release: TrustPolicyStatement = {
    name: 'release',
    registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app'],
    trustStores: [TrustStore.AWS_SIGNER],
    trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
  };
  const scoped = (name: string, extra: Partial<TrustPolicyStatement>): TrustPolicyStatement => ({
    ...release, name, registryScopes: [`111122223333.dkr.ecr.us-east-1.amazonaws.com/team/${name}`], ...extra,
  });

  const NON_ENFORCING: Array<[string, TrustPolicyStatement, RegExp]> = [
    ['level audit', scoped('audited', { level: VerificationLevel.AUDIT }), /statement "audited" is at level "audit"/],
    ['level skip', { name: 'skipped', registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/skipped'], level: VerificationLevel.SKIP }, /statement "skipped" is at level "skip": it verifies nothing by design/],
    ['strict, authenticity log', scoped('logged', { overrides: { authenticity: VerificationAction.LOG } }), /statement "logged" overrides authenticity with "log"/],
    ['permissive, authenticity log', scoped('lenient', { level: VerificationLevel.PERMISSIVE, overrides: { authenticity: VerificationAction.LOG } }), /statement "lenient" overrides authenticity with "log"/],
  ];

  test.each(NON_ENFORCING)('%s: a synth-time warning naming the statement', (_name, statement, message) => {
    const { stack } = setup();
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: new TrustPolicy({ statements: [release, statement] }) });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ENFORCE admission hook'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toMatch(message);
    expect(String(warnings[0].entry.data)).not.toContain('"release"');
  });

  test.each(NON_ENFORCING)('%s with failOnNonEnforcingStatements: a ValidationError', (_name, statement, message) => {
    const make = () => new EcsAdmissionHook(setup().stack, 'Admission', { trustPolicy: new TrustPolicy({ statements: [release, statement] }), failOnNonEnforcingStatements: true });
    expect(make).toThrow(message);
    try {
      make();
    } catch (e) {
      expect((e as Error).name).toBe('ValidationError');
    }
  });

  test('every non-enforcing statement is named', () => {
    const { stack } = setup();
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: new TrustPolicy({ statements: [release, ...NON_ENFORCING.map(([, st]) => st)] }) });
    const text = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ENFORCE admission hook')).map((w) => String(w.entry.data)).join('\n');
    for (const name of ['audited', 'skipped', 'logged', 'lenient']) expect(text).toContain(`statement "${name}"`);
  });

  test('no warning for enforcing statements (strict, permissive, other overrides logged), or in AUDIT mode', () => {
    const { stack } = setup();
    const enforcing = new TrustPolicy({
      statements: [
        release,
        scoped('permissive', { level: VerificationLevel.PERMISSIVE }),
        scoped('revocation-logged', { overrides: { revocation: VerificationAction.LOG, expiry: VerificationAction.LOG } }),
        scoped('authenticity-enforced', { level: VerificationLevel.AUDIT, overrides: { authenticity: VerificationAction.ENFORCE } }),
      ],
    });
    new EcsAdmissionHook(stack, 'Enforce', { trustPolicy: enforcing, failOnNonEnforcingStatements: true });
    new EcsAdmissionHook(stack, 'Audit', { trustPolicy: new TrustPolicy({ statements: [release, NON_ENFORCING[0][1]] }), mode: AdmissionMode.AUDIT, failOnNonEnforcingStatements: true });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ENFORCE admission hook'))).toHaveLength(0);
  });
});
