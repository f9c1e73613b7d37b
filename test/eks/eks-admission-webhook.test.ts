/**
 * EksAdmissionWebhook synthesis: the webhook configurations (rendered from the template and validated
 * against the Kubernetes OpenAPI schema), the function URL endpoint, the secret, IAM and ordering.
 * The cluster is imported (fromClusterAttributes with endpoint, CA and kubectl role; no kubectl
 * layer), which is what the construct needs: its own custom resource applies the configurations.
 */
import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import { evaluateIntrinsics } from './cfn-eval';
import { describeErrors, kubernetesValidator } from './k8s-schema';
import { AdmissionMode, EksAdmissionWebhook, EksAdmissionWebhookProps, InconclusiveAction, SignedRegistry, TrustPolicy, UnpinnedImageAction } from '../../src';

const FUNCTION_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/';
const SECRET_SAMPLE = 'Q9x2'.repeat(12);

interface Built {
  readonly stack: Stack;
  readonly template: Template;
  readonly webhook: EksAdmissionWebhook;
}

const ENDPOINT = 'https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com';
const CA_DATA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
const KUBECTL_ROLE = 'arn:aws:iam::123456789012:role/shop-kubectl';
const CONFIG_TYPE = 'Custom::SignedImagesEksWebhookConfigurations';

function build(props: Partial<EksAdmissionWebhookProps> = {}, attrs: Partial<eks.ClusterAttributes> = {}): Built {
  const app = new App();
  const stack = new Stack(app, 'Eks', { env: { account: '123456789012', region: 'us-east-1' } });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'shop',
    kubectlRoleArn: KUBECTL_ROLE,
    clusterEndpoint: ENDPOINT,
    clusterCertificateAuthorityData: CA_DATA,
    ...attrs,
  });
  const registry = new SignedRegistry(stack, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
  const trustPolicy = TrustPolicy.fromSigningProfiles(registry);
  const webhook = new EksAdmissionWebhook(stack, 'Admission', { cluster, trustPolicy, ...props });
  return { stack, template: Template.fromStack(stack), webhook };
}

/** Evaluates a property as CloudFormation would (function URL and secret ARN as deployed). */
function evaluate(value: any, ids: { url: string; secret: string }): any {
  return evaluateIntrinsics(value, {
    attributes: { [`${ids.url}.FunctionUrl`]: FUNCTION_URL },
    refs: { [ids.secret]: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${ids.secret}-AbCdEf` },
  });
}

function logicalIds(t: Template): { url: string; secret: string; configurations: string } {
  const one = (type: string) => {
    const ids = Object.keys(t.findResources(type));
    expect(ids).toHaveLength(1);
    return ids[0];
  };
  return { url: one('AWS::Lambda::Url'), secret: one('AWS::SecretsManager::Secret'), configurations: one(CONFIG_TYPE) };
}

/** The custom resource that applies the configurations (its template entry). */
function configResource(b: Built): any {
  return b.template.findResources(CONFIG_TYPE)[logicalIds(b.template).configurations];
}

/** The configurations as the configuration function receives them: a placeholder where the secret goes. */
function manifest(b: Built): any[] {
  return JSON.parse(evaluate(configResource(b).Properties.Manifest, logicalIds(b.template)));
}

/** The configurations as the function applies them (a sample secret in place of the placeholder). */
function resolved(b: Built): any[] {
  return JSON.parse(JSON.stringify(manifest(b)).split('{{webhook-secret}}').join(SECRET_SAMPLE));
}

const validate = kubernetesValidator();

describe('webhook configurations', () => {
  test('a MutatingWebhookConfiguration and a ValidatingWebhookConfiguration, each valid against the Kubernetes OpenAPI schema', () => {
    const b = build();
    const [mutating, validating] = resolved(b);
    expect(mutating).toMatchObject({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration' });
    expect(validating).toMatchObject({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration' });
    expect(describeErrors(validate('io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration', mutating))).toEqual([]);
    expect(describeErrors(validate('io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration', validating))).toEqual([]);
    expect(mutating.metadata.name).toBe(b.webhook.configurationName);
    expect(validating.metadata.name).toBe(b.webhook.configurationName);
  });

  test('a misspelt or mistyped field fails schema validation (the check can fail)', () => {
    const [mutating, validating] = resolved(build());
    const typo = JSON.parse(JSON.stringify(mutating));
    typo.webhooks[0].sideEffect = typo.webhooks[0].sideEffects;
    delete typo.webhooks[0].sideEffects;
    expect(describeErrors(validate('io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration', typo))).toEqual(expect.arrayContaining([
      '/webhooks/0 must have required property \'sideEffects\'',
      '/webhooks/0 must NOT have additional properties (sideEffect)',
    ]));
    const nested = JSON.parse(JSON.stringify(validating));
    nested.webhooks[0].clientConfig.uri = nested.webhooks[0].clientConfig.url;
    expect(describeErrors(validate('io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration', nested))).toEqual(['/webhooks/0/clientConfig must NOT have additional properties (uri)']);
    const wrongType = JSON.parse(JSON.stringify(validating));
    wrongType.webhooks[0].timeoutSeconds = '10';
    expect(validate('io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration', wrongType)).not.toEqual([]);
    // reinvocationPolicy exists on mutating webhooks only.
    const misplaced = JSON.parse(JSON.stringify(validating));
    misplaced.webhooks[0].reinvocationPolicy = 'IfNeeded';
    expect(describeErrors(validate('io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration', misplaced))).toEqual(['/webhooks/0 must NOT have additional properties (reinvocationPolicy)']);
  });

  test('defaults: v1 reviews, no side effects, failurePolicy Fail, 10 s, kube-system excluded, CREATE/UPDATE of Pods (and ephemeral containers) and of every pod-template workload', () => {
    const [mutating, validating] = resolved(build());
    for (const hook of [mutating.webhooks[0], validating.webhooks[0]]) {
      expect(hook).toMatchObject({
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        matchPolicy: 'Equivalent',
        namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
      });
      expect(hook.rules).toEqual([
        { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'pods/ephemeralcontainers'], scope: 'Namespaced' },
        { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], scope: 'Namespaced' },
        { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs', 'cronjobs'], scope: 'Namespaced' },
      ]);
    }
    expect(mutating.webhooks[0]).toMatchObject({ name: 'pin.images.cdk-signed-images.io', reinvocationPolicy: 'IfNeeded', clientConfig: { url: `${FUNCTION_URL}${SECRET_SAMPLE}/mutate` } });
    expect(validating.webhooks[0]).toMatchObject({ name: 'verify.images.cdk-signed-images.io', clientConfig: { url: `${FUNCTION_URL}${SECRET_SAMPLE}/validate` } });
  });

  test.each([
    [AdmissionMode.ENFORCE, InconclusiveAction.REJECT, 'Fail'],
    [AdmissionMode.ENFORCE, InconclusiveAction.ADMIT, 'Ignore'],
    [AdmissionMode.AUDIT, InconclusiveAction.REJECT, 'Ignore'],
  ])('mode %s, inconclusiveAction %s → failurePolicy %s', (mode, inconclusiveAction, policy) => {
    const b = build({ mode, inconclusiveAction });
    expect(b.webhook.failurePolicy).toBe(policy);
    expect(resolved(b).map((m) => m.webhooks[0].failurePolicy)).toEqual([policy, policy]);
  });

  test('timeout and excluded namespaces', () => {
    const b = build({ webhookTimeout: Duration.seconds(25), excludedNamespaces: ['monitoring', 'kube-system', 'istio-system'] });
    for (const m of resolved(b)) {
      expect(m.webhooks[0].timeoutSeconds).toBe(25);
      expect(m.webhooks[0].namespaceSelector.matchExpressions[0].values).toEqual(['kube-system', 'monitoring', 'istio-system']);
    }
    b.template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 30, Environment: { Variables: Match.objectLike({ WEBHOOK_TIMEOUT_SECONDS: '25' }) } });
    // The inherited `timeout` stays the Lambda timeout.
    build({ timeout: Duration.seconds(40) }).template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 40, Environment: { Variables: Match.objectLike({ WEBHOOK_TIMEOUT_SECONDS: '10' }) } });
  });

  test.each([
    ['webhookTimeout over 30 s', { webhookTimeout: Duration.seconds(31) }, /webhookTimeout must be whole seconds between 1 and 30/],
    ['webhookTimeout not whole seconds', { webhookTimeout: Duration.millis(1500) }, /webhookTimeout must be whole seconds/],
    ['webhookTimeout 0', { webhookTimeout: Duration.seconds(0) }, /webhookTimeout must be whole seconds/],
    ['an invalid namespace name', { excludedNamespaces: ['Kube_System'] }, /not a namespace name/],
    ['reservedConcurrency 0', { reservedConcurrency: 0 }, /reservedConcurrency must be a positive integer/],
    ['an unknown unpinnedImages', { unpinnedImages: 'SOMETIMES' as UnpinnedImageAction }, /unpinnedImages must be REJECT or VERIFY_CURRENT_DIGEST/],
  ])('%s is a synth error', (_name, props, message) => {
    expect(() => build(props as Partial<EksAdmissionWebhookProps>)).toThrow(message);
  });
});

describe('the secret never appears in the template', () => {
  test('the configurations carry a placeholder, not the secret nor a dynamic reference (CloudFormation would resolve it into the event); the secret is generated at deploy time', () => {
    const b = build();
    const ids = logicalIds(b.template);
    const urls = manifest(b).map((m) => m.webhooks[0].clientConfig.url);
    expect(urls).toEqual([`${FUNCTION_URL}{{webhook-secret}}/mutate`, `${FUNCTION_URL}{{webhook-secret}}/validate`]);
    const template = JSON.stringify(b.template.toJSON());
    expect(template).not.toContain('resolve:secretsmanager');
    expect(template).not.toContain('"SecretString"');
    // Every property of the custom resource, none secret.
    expect(Object.keys(configResource(b).Properties).sort()).toEqual(
      ['CertificateAuthorityData', 'ClusterName', 'Endpoint', 'FunctionUrl', 'Manifest', 'RoleArn', 'SecretArn', 'ServiceToken']);
    expect(configResource(b).Properties).toMatchObject({
      ClusterName: 'shop',
      Endpoint: ENDPOINT,
      CertificateAuthorityData: CA_DATA,
      RoleArn: KUBECTL_ROLE,
      SecretArn: { Ref: ids.secret },
      FunctionUrl: { 'Fn::GetAtt': [ids.url, 'FunctionUrl'] },
    });
    b.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true },
    });
    expect(b.template.findResources('AWS::SecretsManager::Secret')[ids.secret].Properties.SecretString).toBeUndefined();
  });

  test('the function gets the secret\'s ARN, never its value, and may read only that secret', () => {
    const b = build();
    const ids = logicalIds(b.template);
    const fn = Object.values(b.template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }))[0] as any;
    expect(fn.Properties.Environment.Variables.WEBHOOK_SECRET_ARN).toEqual({ Ref: ids.secret });
    expect(JSON.stringify(fn)).not.toContain('resolve:secretsmanager');
    b.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: ids.secret } })]) },
    });
  });
});

describe('endpoint, IAM and ordering', () => {
  test('a function URL without IAM auth (the API server cannot sign) in front of a verifier with reserved concurrency', () => {
    const b = build();
    b.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    b.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 20,
      Timeout: 15,
      Environment: { Variables: Match.objectLike({ ADMISSION_MODE: 'ENFORCE', WEBHOOK_TIMEOUT_SECONDS: '10' }) },
    });
    b.template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' });
    expect(build({ reservedConcurrency: 5 }).template.findResources('AWS::Lambda::Function', { Properties: { ReservedConcurrentExecutions: 5 } })).not.toEqual({});
  });

  test('IAM: ECR pull on the trust policy\'s repository, signer:GetRevocationStatus; no OIDC provider, no service account', () => {
    const b = build();
    const statements = Object.entries(b.template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('AdmissionFunction'))
      .flatMap(([, p]: [string, any]) => p.Properties.PolicyDocument.Statement);
    const pull = statements.find((st: any) => [].concat(st.Action).includes('ecr:BatchGetImage' as never));
    expect(pull.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ImagesRepository/), 'Arn'] });
    expect(statements.find((st: any) => [].concat(st.Action).includes('signer:GetRevocationStatus' as never))).toBeDefined();
    expect(b.template.findResources('Custom::AWSCDKOpenIdConnectProvider')).toEqual({});
    expect(manifest(b).map((m) => m.kind)).toEqual(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);
  });

  test('the webhook configurations are applied by the library\'s own function, after the verifier, its URL, its permissions, the secret and the configuration function\'s permissions exist', () => {
    const b = build();
    const ids = logicalIds(b.template);
    const res = configResource(b);
    const deps: string[] = res.DependsOn ?? [];
    const idOf = (type: string, prefix: string) => Object.keys(b.template.findResources(type)).filter((i) => i.startsWith(prefix));
    expect(res.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [idOf('AWS::Lambda::Function', 'AdmissionConfigurationFunction')[0], 'Arn'] });
    for (const id of [...idOf('AWS::Lambda::Function', 'AdmissionFunction'), ids.url, ids.secret, ...idOf('AWS::Lambda::Permission', 'Admission'),
      ...idOf('AWS::IAM::Policy', 'AdmissionFunction'), ...idOf('AWS::IAM::Policy', 'AdmissionConfigurationFunction')]) {
      expect(deps).toContain(id);
    }
    // No kubectl provider, no kubectl layer: nothing else gets the resolved configurations.
    expect(b.template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).toEqual({});
    expect(JSON.stringify(b.template.toJSON())).not.toMatch(/KubectlProvider|kubectl-handler/i);
  });
});

describe('the configuration function', () => {
  const policyOf = (b: Built) => Object.entries(b.template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('AdmissionConfigurationFunction'))
    .flatMap(([, p]: [string, any]) => p.Properties.PolicyDocument.Statement);

  test('IAM: GetSecretValue on the webhook secret and AssumeRole into the kubectl role, nothing else; Node.js 22, 5 minutes', () => {
    const b = build();
    const ids = logicalIds(b.template);
    expect(policyOf(b)).toEqual([
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: { Ref: ids.secret } },
      { Action: 'sts:AssumeRole', Effect: 'Allow', Resource: KUBECTL_ROLE },
    ]);
    const fn = b.template.findResources('AWS::Lambda::Function');
    const config = Object.entries(fn).find(([id]) => id.startsWith('AdmissionConfigurationFunction'))![1] as any;
    expect(config.Properties).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', Timeout: 300 });
    expect(config.Properties.VpcConfig).toBeUndefined();
    expect(config.Properties.Environment).toBeUndefined();
  });

  test('clusterAdminRole replaces the kubectl role (property and IAM)', () => {
    const app = new App();
    const stack = new Stack(app, 'Eks', { env: { account: '123456789012', region: 'us-east-1' } });
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'shop', clusterEndpoint: ENDPOINT, clusterCertificateAuthorityData: CA_DATA });
    const admin = iam.Role.fromRoleArn(stack, 'Admin', 'arn:aws:iam::123456789012:role/eks-admin');
    const registry = new SignedRegistry(stack, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
    new EksAdmissionWebhook(stack, 'Admission', { cluster, trustPolicy: TrustPolicy.fromSigningProfiles(registry), clusterAdminRole: admin });
    const t = Template.fromStack(stack);
    t.hasResourceProperties(CONFIG_TYPE, { RoleArn: 'arn:aws:iam::123456789012:role/eks-admin' });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([{ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: 'arn:aws:iam::123456789012:role/eks-admin' }]) } });
  });

  test('an imported cluster with no kubectl role and no clusterAdminRole is a synth error naming the attribute', () => {
    expect(() => build({}, { kubectlRoleArn: undefined })).toThrow(/no kubectlRole and no clusterAdminRole/);
  });

  test.each([
    ['only a name and a kubectl role', { clusterEndpoint: undefined, clusterCertificateAuthorityData: undefined }],
    ['no endpoint', { clusterEndpoint: undefined }],
    ['no certificate authority data', { clusterCertificateAuthorityData: undefined }],
  ])('an imported cluster with %s: no Endpoint/CA properties (the function reads both with DescribeCluster), eks:DescribeCluster on that cluster only', (_name, attrs) => {
    const b = build({}, attrs as Partial<eks.ClusterAttributes>);
    const properties = configResource(b).Properties;
    expect(properties.Endpoint).toBeUndefined();
    expect(properties.CertificateAuthorityData).toBeUndefined();
    const statements = Object.values(b.template.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('eks:')));
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('eks:DescribeCluster');
    expect(JSON.stringify(b.stack.resolve(statements[0].Resource))).toContain(':cluster/shop');
  });

  test('cluster in one stack, webhook in another: no dependency cycle; the cluster\'s admin role trusts exactly the configuration function\'s named role (account principal + aws:PrincipalArn), with no reference back to the webhook\'s stack', () => {
    const app = new App();
    const env = { account: '123456789012', region: 'us-east-1' };
    const clusterStack = new Stack(app, 'ClusterStack', { env });
    const cluster = new eks.Cluster(clusterStack, 'Cluster', {
      version: eks.KubernetesVersion.V1_34,
      kubectlLayer: new KubectlV34Layer(clusterStack, 'Kubectl'),
      defaultCapacity: 0,
    });
    const appStack = new Stack(app, 'AppStack', { env });
    const registry = new SignedRegistry(appStack, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
    const webhook = new EksAdmissionWebhook(appStack, 'Admission', { cluster, trustPolicy: TrustPolicy.fromSigningProfiles(registry) });
    const assembly = app.synth(); // throws on a dependency cycle
    expect(assembly.getStackByName('ClusterStack').dependencies.map((d) => d.id)).not.toContain('AppStack');

    const clusterTemplate = Template.fromStack(clusterStack);
    expect(JSON.stringify(clusterTemplate.toJSON())).not.toContain('Fn::ImportValue');
    const appTemplate = Template.fromStack(appStack);
    const [roleId, role] = Object.entries(appTemplate.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('AdmissionConfigurationRole'))!;
    const roleName = (role as any).Properties.RoleName;
    expect(roleName).toMatch(/^cdk-signed-images-eks-[0-9a-f]{24}$/);
    expect(appStack.resolve((webhook.configurationFunction.role as iam.Role).roleArn)).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });

    const creationRole = cluster.adminRole;
    const trust = clusterStack.resolve((creationRole.node.defaultChild as iam.CfnRole).assumeRolePolicyDocument).Statement;
    const ours = trust.filter((st: any) => st.Condition);
    expect(ours).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] } },
      Condition: { ArnEquals: { 'aws:PrincipalArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:role/${roleName}`]] } } },
    }]);
    // The configuration function may assume that role, and only that one.
    const assume = Object.values(appTemplate.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Action === 'sts:AssumeRole');
    expect(assume).toHaveLength(1);
    expect(JSON.stringify(assume[0].Resource)).toContain('Fn::ImportValue');
  });

  test('a cluster with endpoint and CA gets no eks: permission at all', () => {
    const b = build();
    const eksActions = Object.values(b.template.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .flatMap((st: any) => [st.Action].flat())
      .filter((a: string) => a.startsWith('eks:'));
    expect(eksActions).toEqual([]);
  });

  test('a cluster whose kubectl runs in private subnets: the function runs in the cluster VPC, on those subnets, with the kubectl security group', () => {
    const app = new App();
    const stack = new Stack(app, 'Eks', { env: { account: '123456789012', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const sg = new ec2.SecurityGroup(stack, 'KubectlSg', { vpc });
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
      clusterName: 'shop',
      kubectlRoleArn: KUBECTL_ROLE,
      clusterEndpoint: ENDPOINT,
      clusterCertificateAuthorityData: CA_DATA,
      vpc,
      kubectlPrivateSubnetIds: vpc.privateSubnets.map((s) => s.subnetId),
      kubectlSecurityGroupId: sg.securityGroupId,
    });
    const registry = new SignedRegistry(stack, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
    new EksAdmissionWebhook(stack, 'Admission', { cluster, trustPolicy: TrustPolicy.fromSigningProfiles(registry) });
    const t = Template.fromStack(stack);
    const fns = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('AdmissionConfigurationFunction'));
    expect(fns).toHaveLength(1);
    const vpcConfig = (fns[0][1] as any).Properties.VpcConfig;
    expect(vpcConfig.SubnetIds).toEqual(vpc.privateSubnets.map((s) => stack.resolve(s.subnetId)));
    expect(vpcConfig.SecurityGroupIds).toEqual([stack.resolve(sg.securityGroupId)]);
  });
});
