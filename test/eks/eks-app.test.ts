/**
 * The example EKS app (examples/eks-app.ts): an aws-eks Cluster (kubectl layer), a SignedRegistry and
 * an EksAdmissionWebhook synthesize, and cdk-nag's AwsSolutions pack reports nothing that is not
 * suppressed with a reason.
 */
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildEksExampleApp } from '../../examples/eks-app';

test('the example synthesizes: cluster, registry, webhook; cdk-nag clean with a reason per suppression; without suppressions cdk-nag finds problems', () => {
  const { stack } = buildEksExampleApp(new App());
  const template = Template.fromStack(stack);
  template.resourceCountIs('Custom::AWSCDK-EKS-Cluster', 1);
  template.resourceCountIs('AWS::Lambda::Url', 1);
  // The webhook configurations are applied by the library's own custom resource, not by the kubectl provider.
  const configs = Object.values(template.findResources('Custom::SignedImagesEksWebhookConfigurations')).map((r: any) => JSON.stringify(r.Properties));
  expect(configs).toHaveLength(1);
  expect(configs[0]).toContain('MutatingWebhookConfiguration');
  expect(configs[0]).toContain('ValidatingWebhookConfiguration');
  expect(configs[0]).toContain('{{webhook-secret}}');
  expect(JSON.stringify(template.toJSON())).not.toContain('resolve:secretsmanager');
  const manifests = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).map((r: any) => JSON.stringify(r.Properties.Manifest));
  expect(manifests.filter((m) => m.includes('WebhookConfiguration'))).toEqual([]);
  // The cluster's admin (kubectl) role trusts the configuration function, which may assume only it.
  const resolve = (v: unknown) => stack.resolve(v);
  const configRole = resolve(stack.webhook.configurationFunction.role!.roleArn);
  const adminRole = stack.cluster.adminRole.node.defaultChild as any;
  expect(resolve(adminRole.assumeRolePolicyDocument).Statement).toEqual(expect.arrayContaining([
    { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: configRole } },
  ]));
  template.hasResourceProperties('Custom::SignedImagesEksWebhookConfigurations', { RoleArn: resolve(stack.cluster.adminRole.roleArn) });
  expect(stack.webhook.failurePolicy).toBe('Ignore'); // AUDIT first

  const nag = [
    ...Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ...Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
  ].map((e) => `${e.id}: ${String(e.entry.data).split(':')[0]}`);
  expect(nag).toEqual([]);
  // Every suppression of the webhook's own resources says why.
  const suppressed = JSON.stringify(template.toJSON());
  expect(suppressed).toContain('AwsSolutions-SMG4');

  const bare = buildEksExampleApp(new App(), { suppress: false }).stack;
  expect(Annotations.fromStack(bare).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')).length).toBeGreaterThan(0);
});
