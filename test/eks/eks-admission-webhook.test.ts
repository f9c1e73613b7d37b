/**
 * EksAdmissionWebhook synthesis: the webhook configurations (rendered from the template and validated
 * against the Kubernetes OpenAPI schema), the function URL endpoint, the secret, IAM and ordering.
 * The cluster is imported (fromClusterAttributes + a kubectl layer), which is what the construct
 * needs: a kubectl provider.
 */
import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import { describeErrors, kubernetesValidator } from './k8s-schema';
import { AdmissionMode, EksAdmissionWebhook, EksAdmissionWebhookProps, InconclusiveAction, SignedRegistry, TrustPolicy, UnpinnedImageAction } from '../../src';

const FUNCTION_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/';
const SECRET_SAMPLE = 'Q9x2'.repeat(12);

interface Built {
  readonly stack: Stack;
  readonly template: Template;
  readonly webhook: EksAdmissionWebhook;
}

function build(props: Partial<EksAdmissionWebhookProps> = {}): Built {
  const app = new App();
  const stack = new Stack(app, 'Eks', { env: { account: '123456789012', region: 'us-east-1' } });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'shop',
    kubectlRoleArn: 'arn:aws:iam::123456789012:role/shop-kubectl',
    kubectlLayer: new KubectlV34Layer(stack, 'Kubectl'),
  });
  const registry = new SignedRegistry(stack, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
  const trustPolicy = TrustPolicy.fromSigningProfiles(registry);
  const webhook = new EksAdmissionWebhook(stack, 'Admission', { cluster, trustPolicy, ...props });
  return { stack, template: Template.fromStack(stack), webhook };
}

/** Evaluates the intrinsic functions CDK emits in a manifest string (Fn::Join of literals, Ref, Fn::GetAtt). */
function evaluate(value: any, ids: { url: string; secret: string }): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) return value['Fn::Join'][1].map((v: any) => evaluate(v, ids)).join(value['Fn::Join'][0]);
  if (value['Fn::GetAtt']?.[0] === ids.url && value['Fn::GetAtt'][1] === 'FunctionUrl') return FUNCTION_URL;
  if (value.Ref === ids.secret) return `arn:aws:secretsmanager:us-east-1:123456789012:secret:${ids.secret}-AbCdEf`;
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`);
}

function logicalIds(t: Template): { url: string; secret: string; manifest: string } {
  const one = (type: string) => {
    const ids = Object.keys(t.findResources(type));
    expect(ids).toHaveLength(1);
    return ids[0];
  };
  return { url: one('AWS::Lambda::Url'), secret: one('AWS::SecretsManager::Secret'), manifest: one('Custom::AWSCDK-EKS-KubernetesResource') };
}

/** The manifest as the kubectl provider receives it, with the secret's dynamic reference still unresolved. */
function manifest(b: Built): any[] {
  const ids = logicalIds(b.template);
  const res = b.template.findResources('Custom::AWSCDK-EKS-KubernetesResource')[ids.manifest];
  return JSON.parse(evaluate(res.Properties.Manifest, ids));
}

/** The manifest as CloudFormation resolves it (a sample secret in place of the dynamic reference). */
function resolved(b: Built): any[] {
  return JSON.parse(JSON.stringify(manifest(b)).replace(/\{\{resolve:secretsmanager:[^}]+\}\}/g, SECRET_SAMPLE));
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
  test('the manifest carries a Secrets Manager dynamic reference to a generated secret, resolved by CloudFormation at deploy time', () => {
    const b = build();
    const ids = logicalIds(b.template);
    const urls = manifest(b).map((m) => m.webhooks[0].clientConfig.url);
    const ref = `{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:${ids.secret}-AbCdEf:SecretString:::}}`;
    expect(urls).toEqual([`${FUNCTION_URL}${ref}/mutate`, `${FUNCTION_URL}${ref}/validate`]);
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

  test('the webhook configurations are applied (kubectl apply, overwrite) after the function, its URL, its permissions and the secret exist', () => {
    const b = build();
    const ids = logicalIds(b.template);
    const res = b.template.findResources('Custom::AWSCDK-EKS-KubernetesResource')[ids.manifest];
    expect(res.Properties.Overwrite).toBe(true);
    const deps: string[] = res.DependsOn ?? [];
    const idOf = (type: string) => Object.keys(b.template.findResources(type));
    for (const id of [...idOf('AWS::Lambda::Function').filter((i) => i.startsWith('AdmissionFunction')), ids.url, ids.secret, ...idOf('AWS::Lambda::Permission'), ...idOf('AWS::IAM::Policy').filter((i) => i.startsWith('AdmissionFunction'))]) {
      expect(deps).toContain(id);
    }
  });
});
