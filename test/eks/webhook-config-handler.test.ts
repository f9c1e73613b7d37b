/**
 * The BUNDLED webhook-configuration custom resource (assets/handlers/eks-webhook-config/index.js),
 * invoked with realistic CloudFormation Create/Update/Delete events whose properties come from a
 * synthesized EksAdmissionWebhook, against: a Kubernetes API server over HTTPS that authenticates EKS
 * tokens by recomputing their SigV4 signature (kube-fake.ts), STS AssumeRole and Secrets Manager
 * fakes (wire protocols), and a ResponseURL endpoint recording the answer. The secret must reach the
 * cluster, in the webhook URLs, and nothing else: not the logs (stdout, stderr, console), not the
 * CloudFormation answer, not the template, on success and on every failure path.
 */
import { randomUUID } from 'crypto';
import * as net from 'net';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import { evaluateIntrinsics } from './cfn-eval';
import { describeErrors, kubernetesValidator } from './k8s-schema';
import { EksFake, KubeFake, ResponseRecorder, serverPki, startEksFake, startKubeFake, startResponseRecorder, startStsFake, StsFake } from './kube-fake';
import { SecretsFake, startSecretsFake } from './support';
import { EksAdmissionWebhook, SignedRegistry, TrustPolicy } from '../../src';
import { context } from '../handlers/harness';
import { loadHandler } from '../support/handler-bundle';

const REGION = 'us-east-1';
const CLUSTER = 'shop';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/shop-kubectl';
const FUNCTION_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/';
const CONFIG_TYPE = 'Custom::SignedImagesEksWebhookConfigurations';
const ENV = ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL_EKS', 'WEBHOOK_CONFIG_RETRY_MS'];
const saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));

let sm: SecretsFake;
let sts: StsFake;
let eksApi: EksFake;
let kube: KubeFake;
let stranger: KubeFake;
let cfn: ResponseRecorder;
let handler: (event: unknown, ctx?: unknown) => Promise<void>;
/** The synthesized template (JSON) and the custom resource's properties as CloudFormation passes them. */
let templateJson: string;
let synthesized: Record<string, any>;
let logicalId: string;
const validate = kubernetesValidator();

/** Synthesizes the construct for an imported cluster and evaluates its custom resource's properties. */
function synthesize(secretArn: string): void {
  const stack = new Stack(new App(), 'Eks', { env: { account: '123456789012', region: REGION } });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: CLUSTER,
    kubectlRoleArn: ROLE_ARN,
    clusterEndpoint: 'https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: Buffer.from('placeholder').toString('base64'),
  });
  const registry = new SignedRegistry(stack, 'Images', { repositoryName: 'shop/api', signingProfileName: 'shop_release' });
  new EksAdmissionWebhook(stack, 'Admission', { cluster, trustPolicy: TrustPolicy.fromSigningProfiles(registry) });
  const template = Template.fromStack(stack);
  templateJson = JSON.stringify(template.toJSON());
  const [[id, res]] = Object.entries(template.findResources(CONFIG_TYPE));
  logicalId = id;
  const url = Object.keys(template.findResources('AWS::Lambda::Url'))[0];
  const secret = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0];
  const fn = Object.keys(template.findResources('AWS::Lambda::Function')).find((i) => i.startsWith('AdmissionConfigurationFunction'))!;
  synthesized = evaluateIntrinsics((res as any).Properties, {
    attributes: { [`${url}.FunctionUrl`]: FUNCTION_URL, [`${fn}.Arn`]: `arn:aws:lambda:${REGION}:123456789012:function:Eks-AdmissionConfigurationFunction` },
    refs: { [secret]: secretArn },
  });
}

/** The properties pointed at a fake cluster. */
function props(target: KubeFake = kube, overrides: Record<string, unknown> = {}): Record<string, any> {
  return { ...synthesized, Endpoint: target.endpoint, CertificateAuthorityData: Buffer.from(kube.pki.caPem).toString('base64'), ...overrides };
}

function event(requestType: 'Create' | 'Update' | 'Delete', resourceProperties: Record<string, any>, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    RequestType: requestType,
    ServiceToken: resourceProperties.ServiceToken,
    ResponseURL: `${cfn.url}/cloudformation-custom-resource-response-useast1/${randomUUID()}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123abcd`,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Eks/5b6f9a10-0000-11ef-8000-0a1b2c3d4e5f',
    RequestId: randomUUID(),
    LogicalResourceId: logicalId,
    ResourceType: CONFIG_TYPE,
    ResourceProperties: resourceProperties,
    ...extra,
  };
}

interface Invocation {
  /** The body CloudFormation received. */
  readonly response: any;
  readonly rawResponse: string;
  /** Everything written to stdout, stderr and the console. */
  readonly output: string;
  readonly logs: any[];
}

/** Runs the bundled handler, capturing every byte it writes, and returns what CloudFormation got. */
async function invoke(ev: Record<string, any>): Promise<Invocation> {
  const chunks: string[] = [];
  const write = (chunk: any, ...rest: any[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    rest.find((r) => typeof r === 'function')?.();
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(write as any),
    jest.spyOn(process.stderr, 'write').mockImplementation(write as any),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...a: unknown[]) => {
      chunks.push(a.map((x) => (x instanceof Error ? `${x.stack}` : typeof x === 'string' ? x : JSON.stringify(x))).join(' ') + '\n');
    })),
  ];
  const before = cfn.puts.length;
  try {
    await handler(ev, context(300_000));
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  const path = new URL(ev.ResponseURL).pathname;
  const puts = cfn.puts.slice(before).filter((p) => p.path.startsWith(path));
  expect(puts).toHaveLength(1);
  const output = chunks.join('');
  const logs = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  return { response: JSON.parse(puts[0].body), rawResponse: puts[0].body, output, logs };
}

/** The secret (and the URLs holding it) appear nowhere but in the cluster. */
function expectNoSecret(inv: Invocation): void {
  expect(sm.secret).toMatch(/^[A-Za-z0-9]{32,}$/);
  for (const text of [inv.output, inv.rawResponse, templateJson, JSON.stringify(synthesized)]) {
    expect(text).not.toContain(sm.secret);
    expect(text).not.toContain(`${FUNCTION_URL}${sm.secret}`);
  }
}

function expectCfnFields(inv: Invocation, ev: Record<string, any>, status: 'SUCCESS' | 'FAILED'): void {
  expect(inv.response).toMatchObject({ Status: status, StackId: ev.StackId, RequestId: ev.RequestId, LogicalResourceId: ev.LogicalResourceId });
  expect(typeof inv.response.PhysicalResourceId).toBe('string');
}

const mutatingKey = () => `mutatingwebhookconfigurations/${JSON.parse(synthesized.Manifest)[0].metadata.name}`;
const validatingKey = () => `validatingwebhookconfigurations/${JSON.parse(synthesized.Manifest)[1].metadata.name}`;
const physicalIdFor = (name: string) => `eks-webhook-configurations:${CLUSTER}:MutatingWebhookConfiguration/${name},ValidatingWebhookConfiguration/${name}`;

beforeAll(async () => {
  sm = await startSecretsFake();
  sts = await startStsFake();
  eksApi = await startEksFake();
  kube = await startKubeFake({ clusterName: CLUSTER, region: REGION, sts, pki: serverPki('cluster') });
  stranger = await startKubeFake({ clusterName: CLUSTER, region: REGION, sts, pki: serverPki('stranger') });
  kube.admins.add(ROLE_ARN);
  stranger.admins.add(ROLE_ARN);
  cfn = await startResponseRecorder();
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    AWS_ENDPOINT_URL_EKS: eksApi.url,
    WEBHOOK_CONFIG_RETRY_MS: '800',
  });
  delete process.env.AWS_SESSION_TOKEN;
  synthesize(sm.arn);
  handler = loadHandler('eks-webhook-config').handler;
});

afterAll(async () => {
  await Promise.all([sm?.stop(), sts?.stop(), eksApi?.stop(), kube?.stop(), stranger?.stop(), cfn?.stop()]);
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

beforeEach(() => {
  kube.objects.clear();
  kube.requests.length = 0;
  kube.queued.length = 0;
  kube.invalid = false;
  stranger.requests.length = 0;
  stranger.connections = 0;
  sts.deny = false;
  sts.calls.length = 0;
  eksApi.clusters.clear();
  eksApi.calls.length = 0;
  sm.failWith = undefined;
  sm.calls.length = 0;
});

describe('Create and Update', () => {
  test('Create: reads the secret, assumes the kubectl role, server-side applies both configurations (schema-valid, secret in the URLs only) and answers SUCCESS', async () => {
    const ev = event('Create', props());
    const inv = await invoke(ev);
    expectCfnFields(inv, ev, 'SUCCESS');
    const name = JSON.parse(synthesized.Manifest)[0].metadata.name;
    expect(inv.response.PhysicalResourceId).toBe(physicalIdFor(name));
    expect(inv.response.Data).toEqual({ MutatingWebhookConfiguration: name, ValidatingWebhookConfiguration: name });
    expect(sm.calls.map((c) => c.target)).toEqual(['secretsmanager.GetSecretValue']);
    expect(sts.calls).toEqual([expect.objectContaining({ Action: 'AssumeRole', RoleArn: ROLE_ARN })]);

    const mutating = kube.objects.get(mutatingKey());
    const validating = kube.objects.get(validatingKey());
    expect(describeErrors(validate('io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration', mutating))).toEqual([]);
    expect(describeErrors(validate('io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration', validating))).toEqual([]);
    expect(mutating.webhooks[0].clientConfig.url).toBe(`${FUNCTION_URL}${sm.secret}/mutate`);
    expect(validating.webhooks[0].clientConfig.url).toBe(`${FUNCTION_URL}${sm.secret}/validate`);
    // Everything the construct renders is kept.
    expect(mutating.webhooks[0]).toMatchObject({ failurePolicy: 'Fail', timeoutSeconds: 10, sideEffects: 'None', reinvocationPolicy: 'IfNeeded', matchPolicy: 'Equivalent' });
    expect(mutating.webhooks[0].namespaceSelector.matchExpressions[0].values).toEqual(['kube-system']);
    expect(mutating.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk-signed-images' });

    expect(kube.requests.map((r) => [r.method, r.path, r.contentType, r.status, r.authError])).toEqual([
      ['PATCH', `/apis/admissionregistration.k8s.io/v1/${mutatingKey()}?fieldManager=cdk-signed-images&force=true`, 'application/apply-patch+yaml', 201, undefined],
      ['PATCH', `/apis/admissionregistration.k8s.io/v1/${validatingKey()}?fieldManager=cdk-signed-images&force=true`, 'application/apply-patch+yaml', 201, undefined],
    ]);
    expectNoSecret(inv);
    // Logs name objects, statuses and attempts.
    expect(inv.logs.filter((l) => l.message === 'applied').map((l) => [l.kind, l.status, l.attempts])).toEqual([['MutatingWebhookConfiguration', 201, 1], ['ValidatingWebhookConfiguration', 201, 1]]);
  });

  test('Update with the same names re-applies (200) under the same physical id; a rotated secret reaches the cluster', async () => {
    const first = await invoke(event('Create', props()));
    const old = sm.secret;
    sm.secret = 'R0tated'.repeat(6);
    try {
      const ev = event('Update', props(), { PhysicalResourceId: first.response.PhysicalResourceId, OldResourceProperties: props() });
      const inv = await invoke(ev);
      expectCfnFields(inv, ev, 'SUCCESS');
      expect(inv.response.PhysicalResourceId).toBe(first.response.PhysicalResourceId);
      expect(kube.requests.slice(2).map((r) => r.status)).toEqual([200, 200]);
      expect(kube.objects.get(mutatingKey()).webhooks[0].clientConfig.url).toBe(`${FUNCTION_URL}${sm.secret}/mutate`);
      expectNoSecret(inv);
      expect(inv.output).not.toContain(old);
    } finally {
      sm.secret = old;
    }
  });

  test('Update with a new name applies the new objects under a new physical id; the Delete of the old id (old properties) removes only the old ones', async () => {
    const first = await invoke(event('Create', props()));
    const oldName = JSON.parse(synthesized.Manifest)[0].metadata.name;
    const renamed = { ...props(), Manifest: synthesized.Manifest.split(oldName).join('cdk-signed-images-renamed') };
    const update = await invoke(event('Update', renamed, { PhysicalResourceId: first.response.PhysicalResourceId, OldResourceProperties: props() }));
    expect(update.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalIdFor('cdk-signed-images-renamed') });
    expect([...kube.objects.keys()].sort()).toEqual([
      mutatingKey(), 'mutatingwebhookconfigurations/cdk-signed-images-renamed', validatingKey(), 'validatingwebhookconfigurations/cdk-signed-images-renamed',
    ].sort());
    // CloudFormation then deletes the old physical resource, with the old properties.
    const cleanup = await invoke(event('Delete', props(), { PhysicalResourceId: first.response.PhysicalResourceId }));
    expect(cleanup.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: first.response.PhysicalResourceId });
    expect([...kube.objects.keys()].sort()).toEqual(['mutatingwebhookconfigurations/cdk-signed-images-renamed', 'validatingwebhookconfigurations/cdk-signed-images-renamed']);
    expectNoSecret(update);
    expectNoSecret(cleanup);
  });

  test('access not yet propagated (401, 403), throttling (429) and a 503 are retried with backoff until the apply succeeds', async () => {
    kube.queued.push(401, 403, 429, 503);
    const inv = await invoke(event('Create', props()));
    expect(inv.response.Status).toBe('SUCCESS');
    expect(kube.requests.map((r) => r.status)).toEqual([401, 403, 429, 503, 201, 201]);
    expect(inv.logs.filter((l) => l.message === 'apply: retrying').map((l) => l.why)).toEqual(['HTTP 401', 'HTTP 403', 'HTTP 429', 'HTTP 503']);
    expect(inv.logs.find((l) => l.message === 'applied')).toMatchObject({ attempts: 5 });
    expectNoSecret(inv);
  });
});

describe('failure paths answer FAILED and never reveal the secret', () => {
  test('a 422 whose message echoes the webhook URL (as the API server\'s validation does): the Reason and logs carry <redacted>', async () => {
    kube.invalid = true;
    const ev = event('Create', props());
    const inv = await invoke(ev);
    expectCfnFields(inv, ev, 'FAILED');
    // The fake did echo the secret URL back: the redactor is what keeps it out.
    expect(kube.requests[0]).toMatchObject({ status: 422 });
    expect(inv.response.Reason).toMatch(/applying MutatingWebhookConfiguration \S+ failed: HTTP 422 after 1 attempt\(s\): Invalid: .*clientConfig\.url: Invalid value: "<redacted>"/);
    expect(inv.logs.find((l) => l.message === 'failed').reason).toContain('<redacted>');
    expectNoSecret(inv);
    // A failed Create names the objects, so CloudFormation's rollback Delete removes whatever was applied.
    expect(inv.response.PhysicalResourceId).toBe(physicalIdFor(JSON.parse(synthesized.Manifest)[0].metadata.name));
  });

  test('a server whose certificate comes from another CA: FAILED at the TLS handshake, no retry, and that server never received a request', async () => {
    const ev = event('Create', props(stranger));
    const inv = await invoke(ev);
    expectCfnFields(inv, ev, 'FAILED');
    expect(inv.response.Reason).toMatch(/TLS: the server did not prove the cluster CA/);
    expect(stranger.connections).toBe(1);
    expect(stranger.requests).toEqual([]);
    expectNoSecret(inv);
  });

  test('the token is bound to the cluster: properties naming another cluster get tokens the API server refuses (signature recomputed), FAILED after bounded retries', async () => {
    const ev = event('Create', props(kube, { ClusterName: 'other' }));
    const inv = await invoke(ev);
    expectCfnFields(inv, ev, 'FAILED');
    expect(kube.requests.length).toBeGreaterThan(1);
    expect(new Set(kube.requests.map((r) => r.authError))).toEqual(new Set(['signature mismatch']));
    expect(inv.response.Reason).toMatch(/HTTP 401 after \d+ attempt\(s\): Unauthorized/);
    expect(kube.objects.size).toBe(0);
    expectNoSecret(inv);
  });

  test('AssumeRole denied: FAILED, naming the role; the cluster is never called', async () => {
    sts.deny = true;
    const inv = await invoke(event('Create', props()));
    expect(inv.response).toMatchObject({ Status: 'FAILED', Reason: `AssumeRole into ${ROLE_ARN} failed: AccessDenied` });
    expect(kube.requests).toEqual([]);
    expectNoSecret(inv);
  });

  test('the secret cannot be read: FAILED before AssumeRole and before any cluster call', async () => {
    sm.failWith = 400;
    const inv = await invoke(event('Create', props()));
    expect(inv.response.Status).toBe('FAILED');
    expect(inv.response.Reason).toContain(`GetSecretValue failed for ${sm.arn}`);
    expect(sts.calls).toEqual([]);
    expect(kube.requests).toEqual([]);
    expectNoSecret(inv);
  });

  test.each([
    ['a webhook URL that is not under the function URL', (p: any) => ({ ...p, Manifest: p.Manifest.split(FUNCTION_URL).join('https://attacker.example/') }), /each webhook URL must be the function URL/],
    ['an endpoint over plain HTTP', (p: any) => ({ ...p, Endpoint: 'http://127.0.0.1:1' }), /Endpoint must be https/],
    ['a CA that is not a PEM certificate', (p: any) => ({ ...p, CertificateAuthorityData: Buffer.from('nope').toString('base64') }), /CertificateAuthorityData is not a base64 PEM certificate/],
    ['an object name that is not a DNS subdomain', (p: any) => ({ ...p, Manifest: p.Manifest.replace(/"name":"cdk-signed-images-[0-9a-f]+"/, '"name":"../../namespaces"') }), /metadata.name is not a DNS subdomain/],
    ['a Manifest that is not JSON', (p: any) => ({ ...p, Manifest: '[{' }), /Manifest is not JSON/],
    ['a role that is not an IAM role ARN', (p: any) => ({ ...p, RoleArn: 'arn:aws:iam::123456789012:user/admin' }), /RoleArn is malformed/],
  ])('hostile properties: %s is FAILED with a clear reason, nothing read or applied', async (_name, mutate, reason) => {
    const inv = await invoke(event('Create', mutate(props())));
    expect(inv.response.Status).toBe('FAILED');
    expect(inv.response.Reason).toMatch(reason);
    expect(kube.requests).toEqual([]);
    expectNoSecret(inv);
  });
});

describe('a cluster imported without endpoint and CA', () => {
  /** The properties the construct renders then: no Endpoint, no CertificateAuthorityData. */
  const bare = () => {
    const p = props();
    delete p.Endpoint;
    delete p.CertificateAuthorityData;
    return p;
  };

  test('Create reads endpoint and CA with DescribeCluster, then applies over TLS trusting that CA only; no secret anywhere', async () => {
    eksApi.clusters.set(CLUSTER, { endpoint: kube.endpoint, caData: Buffer.from(kube.pki.caPem).toString('base64') });
    const ev = event('Create', bare());
    const inv = await invoke(ev);
    expectCfnFields(inv, ev, 'SUCCESS');
    expect(eksApi.calls).toEqual([CLUSTER]);
    expect([...kube.objects.keys()].sort()).toEqual([mutatingKey(), validatingKey()].sort());
    expectNoSecret(inv);
  });

  test('DescribeCluster returns another CA than the server\'s: FAILED at the TLS handshake, that server never got a request', async () => {
    eksApi.clusters.set(CLUSTER, { endpoint: stranger.endpoint, caData: Buffer.from(kube.pki.caPem).toString('base64') });
    const inv = await invoke(event('Create', bare()));
    expect(inv.response.Status).toBe('FAILED');
    expect(stranger.requests).toEqual([]);
    expectNoSecret(inv);
  });

  test.each([
    ['an unknown cluster (ResourceNotFoundException)', undefined, /DescribeCluster shop failed: ResourceNotFoundException/],
    ['an endpoint over plain HTTP', { endpoint: 'http://127.0.0.1:1', caData: Buffer.from('x').toString('base64') }, /DescribeCluster shop: Endpoint must be https/],
    ['CA data that is not a PEM certificate', { endpoint: 'https://127.0.0.1:1', caData: Buffer.from('nope').toString('base64') }, /DescribeCluster shop: CertificateAuthorityData is not a base64 PEM certificate/],
  ])('DescribeCluster gives %s: FAILED with a clear reason, before AssumeRole and any cluster call', async (_name, answer, reason) => {
    if (answer) eksApi.clusters.set(CLUSTER, answer);
    const inv = await invoke(event('Create', bare()));
    expect(inv.response.Status).toBe('FAILED');
    expect(inv.response.Reason).toMatch(reason);
    expect(sts.calls).toEqual([]);
    expect(kube.requests).toEqual([]);
    expectNoSecret(inv);
  });

  test('Endpoint without CertificateAuthorityData (or the reverse) is a property error, nothing read', async () => {
    for (const drop of ['Endpoint', 'CertificateAuthorityData']) {
      const p = props();
      delete p[drop];
      const inv = await invoke(event('Create', p));
      expect(inv.response.Status).toBe('FAILED');
      expect(inv.response.Reason).toMatch(/properties Endpoint and CertificateAuthorityData go together/);
      expect(sm.calls).toEqual([]);
      expect(eksApi.calls).toEqual([]);
    }
  });
});

describe('Delete', () => {
  test('Delete removes both configurations; a second Delete (404: already absent) succeeds too', async () => {
    const created = await invoke(event('Create', props()));
    const id = created.response.PhysicalResourceId;
    const first = await invoke(event('Delete', props(), { PhysicalResourceId: id }));
    expect(first.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(kube.objects.size).toBe(0);
    expect(kube.requests.slice(2).map((r) => [r.method, r.status])).toEqual([['DELETE', 200], ['DELETE', 200]]);
    expect(sm.calls).toHaveLength(1); // Delete does not read the secret
    const again = await invoke(event('Delete', props(), { PhysicalResourceId: id }));
    expect(again.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(kube.requests.slice(4).map((r) => r.status)).toEqual([404, 404]);
    expect(again.logs.filter((l) => l.message === 'already absent')).toHaveLength(2);
  });

  test('an unreachable cluster does not block stack deletion: SUCCESS with a warning after bounded retries', async () => {
    const closed = await new Promise<number>((resolve) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const id = physicalIdFor('cdk-signed-images-gone');
    const inv = await invoke(event('Delete', { ...props(), Endpoint: `https://127.0.0.1:${closed}` }, { PhysicalResourceId: id }));
    expect(inv.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(inv.response.Reason).toMatch(/deleting MutatingWebhookConfiguration cdk-signed-images-gone failed: .*gave up after \d+ attempt\(s\): connection failed \(ECONNREFUSED\)/);
    expect(inv.logs.filter((l) => l.message === 'delete: retrying').length).toBeGreaterThanOrEqual(2);
  });

  test('a role that can no longer be assumed (deleted with the cluster) does not block deletion either', async () => {
    sts.deny = true;
    const id = physicalIdFor('cdk-signed-images-gone');
    const inv = await invoke(event('Delete', props(), { PhysicalResourceId: id }));
    expect(inv.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(inv.response.Reason).toMatch(/cannot reach cluster shop .*AccessDenied.*delete them by hand/);
    expect(kube.requests).toEqual([]);
  });

  test('the rollback Delete of a Create that failed before naming anything is a no-op SUCCESS', async () => {
    const id = `eks-webhook-configurations-failed:${randomUUID()}`;
    const inv = await invoke(event('Delete', { ...props(), Manifest: '[{' }, { PhysicalResourceId: id }));
    expect(inv.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: id });
    expect(sts.calls).toEqual([]);
    expect(kube.requests).toEqual([]);
  });
});
