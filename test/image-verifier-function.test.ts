import { readFileSync } from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as signer from 'aws-cdk-lib/aws-signer';
import { ImageVerifierFunction, TrustedIdentity, TrustPolicy, TrustStore, VerificationLevel } from '../src';
import { ensureBundled } from './support/handler-bundle';

beforeAll(() => ensureBundled());

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release';
const REPO_URI = '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app';

function literalPolicy(scopes: string[] = [REPO_URI]): TrustPolicy {
  return new TrustPolicy({
    statements: [{
      name: 'release',
      registryScopes: scopes,
      level: VerificationLevel.STRICT,
      trustStores: [TrustStore.AWS_SIGNER],
      trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
    }],
  });
}

function stack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:enable-asset-metadata': true } }), 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
}

/** The staged asset directory of a function (cdk.out copy of the asset). */
function stagedConfig(s: Stack, fn: lambda.Function): any {
  const template = Template.fromStack(s).toJSON();
  const logicalId = s.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  const assetPath = template.Resources[logicalId].Metadata['aws:asset:path'];
  const outdir = (s.node.root as App).outdir;
  return JSON.parse(readFileSync(path.join(outdir, assetPath, 'config.json'), 'utf8'));
}

function policyStatements(s: Stack): any[] {
  const policies = Template.fromStack(s).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('ImageVerifierFunction', () => {
  test('defaults: Node.js 22, bundled verify handler, config.json with the policy and trust stores', () => {
    const s = stack();
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: literalPolicy() });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x', Handler: 'index.handler', Timeout: 60, MemorySize: 256,
    });
    const fnProps = Object.values(t.findResources('AWS::Lambda::Function'))[0] as any;
    expect(fnProps.Properties.Environment).toBeUndefined();
    const config = stagedConfig(s, fn);
    expect(config).toMatchObject({
      version: 1,
      metricsNamespace: 'SignedImages',
      trustPolicy: {
        version: '1.0',
        trustPolicies: [expect.objectContaining({ name: 'release', registryScopes: [REPO_URI], trustedIdentities: [PROFILE_ARN] })],
      },
    });
    expect(Object.keys(config.trustStores)).toEqual(['signingAuthority:aws-signer-ts']);
    expect(config.trustStores['signingAuthority:aws-signer-ts']).toContain('-----BEGIN CERTIFICATE-----');
    expect(config.mode).toBeUndefined();
  });

  test('every option reaches config.json', () => {
    const s = stack();
    const fn = new ImageVerifierFunction(s, 'Verifier', {
      trustPolicy: literalPolicy(),
      maxSignatures: 7,
      verdictCacheTtl: Duration.seconds(30),
      registryTimeout: Duration.seconds(4),
      awsApiTimeout: Duration.seconds(2),
      requirePlatformSignatures: true,
      plainHttpRegistries: ['127.0.0.1:5000', 'localhost:5001'],
      exemptions: ['public.ecr.aws/**'],
      metricsNamespace: 'Custom/NS',
      concurrency: 8,
      runtime: lambda.Runtime.NODEJS_24_X,
      timeout: Duration.minutes(3),
      memorySize: 1024,
    });
    expect(stagedConfig(s, fn)).toMatchObject({
      maxSignatures: 7,
      cacheTtlMs: 30000,
      registryTimeoutMs: 4000,
      awsApiTimeoutMs: 2000,
      requirePlatformSignatures: true,
      plainHttpRegistries: ['127.0.0.1:5000', 'localhost:5001'],
      exemptions: ['public.ecr.aws/**'],
      metricsNamespace: 'Custom/NS',
      concurrency: 8,
    });
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Timeout: 180, MemorySize: 1024 });
  });

  test('awsApiTimeout is its own setting: unset it is left to the handler (registryTimeout, else 5 s); zero is refused', () => {
    const s = stack();
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: literalPolicy(), registryTimeout: Duration.seconds(4) });
    expect(stagedConfig(s, fn).awsApiTimeoutMs).toBeUndefined();
    expect(() => new ImageVerifierFunction(stack(), 'Bad', { trustPolicy: literalPolicy(), awsApiTimeout: Duration.seconds(0) })).toThrow(/awsApiTimeout must be positive/);
  });

  test('metricSkipped is the Skipped metric the handlers emit for skip-level statements', () => {
    const s = stack();
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: literalPolicy() });
    expect(fn.metricSkipped().metricName).toBe('Skipped');
    expect(fn.metricSkipped().namespace).toBe(fn.metricsNamespace);
  });

  test('IAM: ECR pull scoped to the policy repositories, token and revocation on *', () => {
    const s = stack();
    new ImageVerifierFunction(s, 'Verifier', { trustPolicy: literalPolicy() });
    const statements = policyStatements(s);
    expect(statements).toEqual(expect.arrayContaining([
      {
        Sid: 'PullImagesAndSignatures',
        Effect: 'Allow',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:us-east-1:111122223333:repository/team/app']] },
      },
      { Sid: 'EcrAuthorizationToken', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      { Sid: 'SignerRevocationStatus', Effect: 'Allow', Action: 'signer:GetRevocationStatus', Resource: '*' },
    ]));
    expect(statements).toHaveLength(3);
  });

  test('IAM: scopes are mapped in canonical form (letter case, :443, FIPS and dual-stack ECR names)', () => {
    const s = stack();
    new ImageVerifierFunction(s, 'Spellings', {
      trustPolicy: literalPolicy([
        '111122223333.DKR.ECR.US-EAST-1.AMAZONAWS.COM/team/app',
        '111122223333.dkr.ecr-fips.us-east-1.amazonaws.com:443/team/fips',
        '111122223333.dkr-ecr.eu-west-1.on.aws/team/v6',
      ]),
    });
    const resources = policyStatements(s).find((x) => x.Sid === 'PullImagesAndSignatures').Resource;
    const arn = (region: string, repo: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecr:${region}:111122223333:repository/${repo}`]] });
    expect(resources).toEqual([arn('us-east-1', 'team/app'), arn('us-east-1', 'team/fips'), arn('eu-west-1', 'team/v6')]);
  });

  test('IAM: a * scope grants ECR pull on *; given repositories win', () => {
    const s = stack();
    new ImageVerifierFunction(s, 'Wild', { trustPolicy: literalPolicy(['*']) });
    expect(policyStatements(s).find((x) => x.Sid === 'PullImagesAndSignatures').Resource).toBe('*');

    const s2 = stack();
    const repo = new ecr.Repository(s2, 'Repo');
    new ImageVerifierFunction(s2, 'Scoped', { trustPolicy: literalPolicy(['*']), repositories: [repo] });
    expect(policyStatements(s2).find((x) => x.Sid === 'PullImagesAndSignatures').Resource).toEqual({ 'Fn::GetAtt': [s2.getLogicalId(repo.node.defaultChild as ecr.CfnRepository), 'Arn'] });
  });

  test('IAM: non-ECR scopes need no ECR pull statement', () => {
    const s = stack();
    new ImageVerifierFunction(s, 'Verifier', { trustPolicy: literalPolicy(['ghcr.io/acme/app']) });
    expect(policyStatements(s).map((x) => x.Sid)).toEqual(['EcrAuthorizationToken', 'SignerRevocationStatus']);
  });

  test('a policy with deploy-time tokens goes to TRUST_POLICY (resolved by CloudFormation); stores stay in config.json', () => {
    const s = stack();
    const profile = new signer.SigningProfile(s, 'Profile', { platform: signer.Platform.NOTATION_OCI_SHA384_ECDSA });
    const repo = new ecr.Repository(s, 'Repo');
    const policy = new TrustPolicy({
      statements: [{
        name: 'tokens',
        registryScopes: [repo.repositoryUri],
        trustStores: [TrustStore.AWS_SIGNER],
        trustedIdentities: [TrustedIdentity.fromSigningProfile({ signingProfileArn: profile.signingProfileArn } as any)],
      }],
    });
    const fn = new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy });
    const config = stagedConfig(s, fn);
    expect(config.trustPolicy).toBeUndefined();
    expect(Object.keys(config.trustStores)).toEqual(['signingAuthority:aws-signer-ts']);
    const env = (Object.values(Template.fromStack(s).findResources('AWS::Lambda::Function'))[0] as any).Properties.Environment.Variables;
    expect(env.TRUST_POLICY).toEqual({ 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [expect.stringMatching(/^Profile/), 'Arn'] }])] });
    // Token scope: the repositories cannot be known at synth, so ECR pull is on *.
    expect(policyStatements(s).find((x) => x.Sid === 'PullImagesAndSignatures').Resource).toBe('*');
  });

  test('a token-valued policy too large for the 4 KB environment is a validation error', () => {
    const s = stack();
    const profile = new signer.SigningProfile(s, 'Profile', { platform: signer.Platform.NOTATION_OCI_SHA384_ECDSA });
    const identities = [TrustedIdentity.fromArn(profile.signingProfileArn)];
    for (let i = 0; i < 60; i++) identities.push(TrustedIdentity.fromArn(`arn:aws:signer:us-east-1:111122223333:/signing-profiles/profile_number_${i}`));
    const policy = new TrustPolicy({ statements: [{ name: 'big', registryScopes: ['*'], trustStores: [TrustStore.AWS_SIGNER], trustedIdentities: identities }] });
    expect(() => new ImageVerifierFunction(s, 'Verifier', { trustPolicy: policy })).toThrow(/4 KB environment limit/);
  });

  test('validation: plain HTTP only for loopback, sane numbers', () => {
    const s = stack();
    expect(() => new ImageVerifierFunction(s, 'A', { trustPolicy: literalPolicy(), plainHttpRegistries: ['registry.example.com'] }))
      .toThrow(/loopback registries only/);
    expect(() => new ImageVerifierFunction(s, 'B', { trustPolicy: literalPolicy(), maxSignatures: 0 })).toThrow(/maxSignatures/);
    expect(() => new ImageVerifierFunction(s, 'C', { trustPolicy: literalPolicy(), concurrency: 1000 })).toThrow(/concurrency/);
    expect(() => new ImageVerifierFunction(s, 'D', { trustPolicy: literalPolicy(), exemptions: [' '] })).toThrow(/exemptions/);
  });

  test('alarms are opt-in and watch the EMF metrics of this function', () => {
    const s = stack();
    new ImageVerifierFunction(s, 'Quiet', { trustPolicy: literalPolicy() });
    Template.fromStack(s).resourceCountIs('AWS::CloudWatch::Alarm', 0);

    const s2 = stack();
    const fn = new ImageVerifierFunction(s2, 'Loud', { trustPolicy: literalPolicy(), rejectionAlarm: true, inconclusiveAlarm: true, metricsNamespace: 'Ns' });
    const t = Template.fromStack(s2);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    for (const name of ['Rejected', 'Inconclusive']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Ns',
        MetricName: name,
        Statistic: 'Sum',
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Loud') } }],
      });
    }
    expect(fn.rejectionAlarm).toBeDefined();
    expect(fn.inconclusiveAlarm).toBeDefined();
    expect(fn.metricVerifyDuration().statistic).toBe('Average');
  });
});

describe('ImageVerifierFunction architecture', () => {
  test('default arm64; X86_64 on request', () => {
    const s = stack();
    const arm = new ImageVerifierFunction(s, 'Arm', { trustPolicy: literalPolicy() });
    const x86 = new ImageVerifierFunction(s, 'X86', { trustPolicy: literalPolicy(), architecture: lambda.Architecture.X86_64 });
    const resources = Template.fromStack(s).toJSON().Resources;
    expect(resources[s.getLogicalId(arm.node.defaultChild as lambda.CfnFunction)].Properties.Architectures).toEqual(['arm64']);
    expect(resources[s.getLogicalId(x86.node.defaultChild as lambda.CfnFunction)].Properties.Architectures).toEqual(['x86_64']);
    expect(arm.architecture).toBe(lambda.Architecture.ARM_64);
  });

  test('an architecture Lambda does not run is a validation error', () => {
    const s = stack();
    for (const name of ['riscv64', 'ARM64', 'x86-64', '']) {
      expect(() => new ImageVerifierFunction(s, `Bad${name}`, { trustPolicy: literalPolicy(), architecture: lambda.Architecture.custom(name) }))
        .toThrow(/architecture must be ARM_64 or X86_64/);
    }
    // A custom object naming a real architecture is accepted.
    expect(() => new ImageVerifierFunction(s, 'Custom', { trustPolicy: literalPolicy(), architecture: lambda.Architecture.custom('arm64') })).not.toThrow();
  });

  test('the bundled handlers hold no native code, so arm64 and x86_64 run the same bundle', () => {
    const root = path.join(__dirname, '..', 'assets', 'handlers');
    const builtins = new Set(builtinModules);
    for (const name of ['verify', 'admission-hook', 'task-audit']) {
      const code = readFileSync(path.join(root, name, 'index.js'), 'utf8');
      const required = [...code.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
      expect(required.length).toBeGreaterThan(0);
      for (const mod of required) {
        // Node.js built-ins and the AWS SDK v3 clients the Lambda runtime provides (pure JavaScript).
        const ok = builtins.has(mod.replace(/^node:/, '')) || /^@aws-sdk\/client-[a-z0-9-]+$/.test(mod);
        expect(`${name}: ${mod} ${ok ? 'ok' : 'not a built-in or runtime SDK client'}`).toBe(`${name}: ${mod} ok`);
      }
      // No native addon loading of any kind.
      expect(code).not.toMatch(/process\.dlopen|\.node["'`]\)|node-gyp-build|require\(["'`]bindings["'`]\)/);
    }
  });
});
