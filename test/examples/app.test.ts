/**
 * The example stack: synthesizes, holds the promised resources, has zero unsuppressed cdk-nag
 * AwsSolutions findings (every suppression carries a reason), and matches its snapshot.
 */
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { NagSuppressions } from 'cdk-nag';
import { buildExampleApp } from '../../examples/app';

function synth() {
  const { stack } = buildExampleApp(new App());
  return { stack, template: Template.fromStack(stack) };
}

test('example stack: Signer profile (Notation), ECR repository, one merged signing configuration, PRE_SCALE_UP hook, task audit rule', () => {
  const { template } = synth();
  template.resourceCountIs('AWS::Signer::SigningProfile', 1);
  template.hasResourceProperties('AWS::Signer::SigningProfile', { PlatformId: 'Notation-OCI-SHA384-ECDSA' });
  template.resourceCountIs('AWS::ECR::Repository', 1);
  template.resourceCountIs('AWS::ECR::SigningConfiguration', 1);
  template.hasResourceProperties('AWS::ECR::SigningConfiguration', {
    Rules: [{ SigningProfileArn: Match.anyValue(), RepositoryFilters: [{ Filter: 'shop/api', FilterType: 'WILDCARD_MATCH' }] }],
  });
  template.hasResourceProperties('AWS::ECS::Service', {
    DeploymentConfiguration: Match.objectLike({ LifecycleHooks: [Match.objectLike({ LifecycleStages: ['PRE_SCALE_UP'] })] }),
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: Match.objectLike({ 'source': ['aws.ecs'], 'detail-type': ['ECS Task State Change'] }),
  });
});

test('cdk-nag AwsSolutions: zero unsuppressed findings, and every suppression has a reason', () => {
  const { stack } = synth();
  const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'));
  expect(errors.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 120)}`)).toEqual([]);
  expect(warnings.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 120)}`)).toEqual([]);
  const json = Template.fromStack(stack).toJSON() as any;
  const suppressions = [json, ...Object.values(json.Resources as Record<string, any>)].flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
  expect(suppressions.length).toBeGreaterThan(0);
  for (const s of suppressions) expect(String(s.reason).length).toBeGreaterThan(20);
});

test('least privilege: no ECR action on * except GetAuthorizationToken; * only for actions without resource-level permissions', () => {
  const { stack, template } = synth();
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  const list = (v: any) => (Array.isArray(v) ? v : [v]);
  const onStar = statements.filter((s: any) => list(s.Resource).includes('*'));
  expect(onStar.length).toBeGreaterThan(0);
  for (const s of onStar) expect(list(s.Action).filter((a: string) => !['ecr:GetAuthorizationToken', 'signer:GetRevocationStatus'].includes(a))).toEqual([]);
  // Both verifier roles pull from the registry's repository, by its ARN.
  const repository = Object.keys(template.findResources('AWS::ECR::Repository'))[0];
  const pulls = statements.filter((s: any) => s.Sid === 'PullImagesAndSignatures');
  expect(pulls.map((s: any) => s.Resource)).toEqual([{ 'Fn::GetAtt': [repository, 'Arn'] }, { 'Fn::GetAtt': [repository, 'Arn'] }]);
  expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ecrPullOnAnyRepository'))).toEqual([]);
  // The Resource::* suppression sits on exactly the four policies that need it, not on the stack.
  const json = template.toJSON() as any;
  const stackWide = (json.Metadata?.cdk_nag?.rules_to_suppress ?? []).filter((r: any) => JSON.stringify(r.applies_to ?? []).includes('Resource::*'));
  expect(stackWide).toEqual([]);
  const suppressedOn = Object.entries(json.Resources as Record<string, any>)
    .filter(([, r]) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).some((x: any) => JSON.stringify(x.applies_to ?? []) === '["Resource::*"]'))
    .map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort();
  expect(suppressedOn).toEqual(['AdmissionFunctionServiceRoleDefaultPolicy', 'AuditFunctionServiceRoleDefaultPolicy', 'CiRoleDefaultPolicy', 'TaskExecutionRoleDefaultPolicy']);
});

test('cdk-nag really runs: removing the suppressions surfaces findings', () => {
  const app = new App();
  const { stack } = buildExampleApp(app, { suppress: false });
  expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')).length).toBeGreaterThan(0);
  void NagSuppressions;
});

test('snapshot', () => {
  const { template } = synth();
  const json = template.toJSON();
  // Asset hashes change with every bundle rebuild; the snapshot covers structure, not bytes.
  const text = JSON.stringify(json).replace(/[0-9a-f]{64}(\.zip)?/g, '<asset-hash>');
  expect(JSON.parse(text)).toMatchSnapshot();
});
