/**
 * EksAdmissionWebhook rules shared with EcsAdmissionHook: the signature wait (`signatureWait`, written
 * into the handler's config, validated against `webhookTimeout`) and the synth-time check of trust
 * policy statements that do not enforce authenticity (one module, src/private/enforcing-statements.ts:
 * same prop, same warning and error text for both constructs).
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import {
  AdmissionMode, EcsAdmissionHook, EksAdmissionWebhook, EksAdmissionWebhookProps, TrustedIdentity, TrustPolicy, TrustPolicyStatement, TrustStore,
  VerificationAction, VerificationLevel,
} from '../../src';
import { DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS, HANDLER_NAME } from '../../src/handlers/config';
import { assetDir, PROFILE_ARN, stagedConfig } from '../support/construct-fixtures';
import { bundlePath, ensureBundled } from '../support/handler-bundle';

beforeAll(() => ensureBundled());

function stackWithCluster(): { stack: Stack; cluster: eks.ICluster } {
  const stack = new Stack(new App({ context: { 'aws:cdk:enable-asset-metadata': true } }), 'Eks', { env: { account: '123456789012', region: 'us-east-1' } });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'shop',
    kubectlRoleArn: 'arn:aws:iam::123456789012:role/shop-kubectl',
    clusterEndpoint: 'https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
  });
  return { stack, cluster };
}

const release: TrustPolicyStatement = {
  name: 'release',
  registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app'],
  trustStores: [TrustStore.AWS_SIGNER],
  trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
};
const enforcingPolicy = () => new TrustPolicy({ statements: [release] });

function webhook(props: Partial<EksAdmissionWebhookProps> = {}): { stack: Stack; webhook: EksAdmissionWebhook } {
  const { stack, cluster } = stackWithCluster();
  const w = new EksAdmissionWebhook(stack, 'Admission', { cluster, trustPolicy: enforcingPolicy(), ...props });
  return { stack, webhook: w };
}

describe('signatureWait', () => {
  test.each([
    ['default webhookTimeout (10 s)', {}, DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS],
    ['webhookTimeout 5 s: the default leaves 2 s', { webhookTimeout: Duration.seconds(5) }, 3],
    ['webhookTimeout 2 s: no default wait', { webhookTimeout: Duration.seconds(2) }, 0],
    ['webhookTimeout 1 s: no default wait', { webhookTimeout: Duration.seconds(1) }, 0],
    ['explicit 0 disables', { signatureWait: Duration.seconds(0) }, 0],
    ['explicit 5 s', { signatureWait: Duration.seconds(5) }, 5],
    ['29 s under a 30 s webhookTimeout', { webhookTimeout: Duration.seconds(30), signatureWait: Duration.seconds(29) }, 29],
    ['AUDIT: written too (the handler never waits in AUDIT)', { mode: AdmissionMode.AUDIT }, DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS],
  ])('%s → signatureWaitSeconds %p in the handler config', (_name, props, seconds) => {
    const { stack, webhook: w } = webhook(props as Partial<EksAdmissionWebhookProps>);
    expect(stagedConfig(stack, w.function)).toMatchObject({ signatureWaitSeconds: seconds });
  });

  test('the webhook function runs the bundled eks-webhook handler (HANDLER_NAME.EKS_WEBHOOK)', () => {
    const { stack, webhook: w } = webhook();
    expect(HANDLER_NAME.EKS_WEBHOOK).toBe('eks-webhook');
    expect(readFileSync(path.join(assetDir(stack, w.function), 'index.js'))).toEqual(readFileSync(bundlePath(HANDLER_NAME.EKS_WEBHOOK)));
  });

  test.each([
    ['equal to webhookTimeout', { signatureWait: Duration.seconds(10) }, /less than webhookTimeout \(10 s\)/],
    ['longer than webhookTimeout', { webhookTimeout: Duration.seconds(5), signatureWait: Duration.seconds(8) }, /less than webhookTimeout \(5 s\)/],
    ['a fraction of a second', { signatureWait: Duration.millis(1500) }, /whole seconds/],
    ['a deploy-time token', { signatureWait: Duration.seconds(Lazy.number({ produce: () => 3 })) }, /literal duration/],
  ])('%s is refused at synth', (_name, props, message) => {
    expect(() => webhook(props as Partial<EksAdmissionWebhookProps>)).toThrow(message);
  });
});

describe('statements that do not enforce authenticity: the ECS hook\'s rule, shared', () => {
  const scoped = (name: string, extra: Partial<TrustPolicyStatement>): TrustPolicyStatement => ({
    ...release, name, registryScopes: [`111122223333.dkr.ecr.us-east-1.amazonaws.com/team/${name}`], ...extra,
  });
  const NON_ENFORCING: Array<[string, TrustPolicyStatement, RegExp]> = [
    ['level audit', scoped('audited', { level: VerificationLevel.AUDIT }), /statement "audited" is at level "audit"/],
    ['level skip', { name: 'skipped', registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/skipped'], level: VerificationLevel.SKIP }, /statement "skipped" is at level "skip"/],
    ['authenticity log', scoped('logged', { overrides: { authenticity: VerificationAction.LOG } }), /statement "logged" overrides authenticity with "log"/],
    ['permissive, authenticity log', scoped('lenient', { level: VerificationLevel.PERMISSIVE, overrides: { authenticity: VerificationAction.LOG } }), /statement "lenient" overrides authenticity with "log"/],
  ];
  const warningsOf = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ENFORCE admission hook'));

  test.each(NON_ENFORCING)('%s: the webhook warns at synth with the same text as the ECS hook', (_name, statement, message) => {
    const { stack, cluster } = stackWithCluster();
    const trustPolicy = new TrustPolicy({ statements: [release, statement] });
    new EksAdmissionWebhook(stack, 'Webhook', { cluster, trustPolicy });
    new EcsAdmissionHook(stack, 'Hook', { trustPolicy });
    const warnings = warningsOf(stack);
    expect(warnings.map((w) => w.id)).toEqual(['/Eks/Webhook', '/Eks/Hook']);
    const [eksText, ecsText] = warnings.map((w) => String(w.entry.data));
    expect(eksText).toMatch(message);
    expect(eksText).not.toContain('"release"');
    expect(eksText).toBe(ecsText);
  });

  test.each(NON_ENFORCING)('%s with failOnNonEnforcingStatements: a ValidationError with the ECS hook\'s message', (_name, statement, message) => {
    const trustPolicy = new TrustPolicy({ statements: [release, statement] });
    const errorOf = (make: () => unknown): Error => {
      try {
        make();
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    };
    const eksError = errorOf(() => {
      const { stack, cluster } = stackWithCluster();
      new EksAdmissionWebhook(stack, 'Webhook', { cluster, trustPolicy, failOnNonEnforcingStatements: true });
    });
    const ecsError = errorOf(() => new EcsAdmissionHook(stackWithCluster().stack, 'Hook', { trustPolicy, failOnNonEnforcingStatements: true }));
    expect(eksError.name).toBe('ValidationError');
    expect(eksError.message).toMatch(message);
    expect(eksError.message).toMatch(/failOnNonEnforcingStatements/);
    // The same text, but for the construct path ValidationError appends.
    expect(eksError.message.replace('(at Eks/Webhook)', '(at <path>)')).toBe(ecsError.message.replace('(at Eks/Hook)', '(at <path>)'));
  });

  test('no warning for enforcing statements, nor in AUDIT mode', () => {
    const { stack, cluster } = stackWithCluster();
    new EksAdmissionWebhook(stack, 'Enforce', { cluster, trustPolicy: enforcingPolicy(), failOnNonEnforcingStatements: true });
    new EksAdmissionWebhook(stack, 'Audit', {
      cluster, trustPolicy: new TrustPolicy({ statements: [release, NON_ENFORCING[0][1]] }), mode: AdmissionMode.AUDIT, failOnNonEnforcingStatements: true,
    });
    expect(warningsOf(stack)).toHaveLength(0);
  });
});
