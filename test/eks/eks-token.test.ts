/**
 * Units of the webhook-configuration handler (TypeScript sources): the EKS token presigner, checked by
 * the fake API server's independent verifier (@smithy/signature-v4 recomputation); the redactor; the
 * physical id and property parsing.
 */
import { authenticateEksToken, IssuedCredentials } from './kube-fake';
import { parsePhysicalId, physicalId, SECRET_PLACEHOLDER, withSecret } from '../../src/handlers/eks/config-resource';
import { eksToken, presignGetCallerIdentity } from '../../src/handlers/eks/eks-token';
import { redactor } from '../../src/handlers/eks/redact';

const creds: IssuedCredentials = {
  accessKeyId: 'ASIAEXAMPLE0123456789',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEJr//////////wEaDH+session/token==',
  roleArn: 'arn:aws:iam::123456789012:role/shop-kubectl',
};
const issued = new Map([[creds.accessKeyId, creds]]);

describe('EKS token', () => {
  test('k8s-aws-v1. + unpadded base64url of a presigned GetCallerIdentity URL that the independent SigV4 verifier accepts', async () => {
    const token = eksToken('shop', 'us-east-1', creds);
    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    expect(url.host).toBe('sts.us-east-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      'Action': 'GetCallerIdentity',
      'Version': '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': creds.sessionToken,
    });
    await expect(authenticateEksToken(`Bearer ${token}`, 'shop', 'us-east-1', issued)).resolves.toEqual({ roleArn: creds.roleArn });
  });

  test('the verifier can fail: another cluster, another secret key, a tampered field, an old date, another region', async () => {
    const token = eksToken('shop', 'us-east-1', creds);
    expect(await authenticateEksToken(`Bearer ${token}`, 'prod', 'us-east-1', issued)).toEqual({ error: 'signature mismatch' });
    const wrongKey = eksToken('shop', 'us-east-1', { ...creds, secretAccessKey: 'x' + creds.secretAccessKey.slice(1) });
    expect(await authenticateEksToken(`Bearer ${wrongKey}`, 'shop', 'us-east-1', issued)).toEqual({ error: 'signature mismatch' });
    const url = presignGetCallerIdentity('shop', 'us-east-1', creds).replace('X-Amz-Expires=60', 'X-Amz-Expires=59');
    const tampered = `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;
    expect(await authenticateEksToken(`Bearer ${tampered}`, 'shop', 'us-east-1', issued)).toEqual({ error: 'signature mismatch' });
    const old = eksToken('shop', 'us-east-1', creds, new Date(Date.now() - 3600_000));
    expect(await authenticateEksToken(`Bearer ${old}`, 'shop', 'us-east-1', issued)).toEqual({ error: 'token expired' });
    const west = eksToken('shop', 'us-west-2', creds);
    expect((await authenticateEksToken(`Bearer ${west}`, 'shop', 'us-east-1', issued)).error).toMatch(/wrong STS endpoint/);
  });

  test('a malformed region is refused rather than signed into a URL', () => {
    expect(() => eksToken('shop', 'us-east-1.evil.example/', creds)).toThrow(/not an AWS region/);
  });
});

describe('redactor', () => {
  const secret = 'Q9x2'.repeat(12);
  const redact = redactor([secret]);
  test.each([
    [`url https://abc.lambda-url.us-east-1.on.aws/${secret}/mutate: invalid`, 'url <redacted>: invalid'],
    [`{"message":"Invalid value: \\"https:\\/\\/abc.on.aws\\/${secret}\\/validate\\": bad"}`, '{"message":"Invalid value: \\"<redacted>\\": bad"}'],
    [`bare ${secret} and again ${secret}`, 'bare <redacted> and again <redacted>'],
    ['nothing secret here', 'nothing secret here'],
  ])('%s', (input, output) => {
    expect(redact(input)).toBe(output);
    expect(redact(input)).not.toContain(secret);
  });
});

describe('physical id and secret substitution', () => {
  const config = (kind: string, name: string) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name },
    webhooks: [{ name: 'a.b.c', clientConfig: { url: `https://fn.example/${SECRET_PLACEHOLDER}/mutate` } }],
  });
  test('round trip; hostile ids are not ours', () => {
    const id = physicalId('shop', [config('MutatingWebhookConfiguration', 'cdk-a'), config('ValidatingWebhookConfiguration', 'cdk-a')]);
    expect(parsePhysicalId(id)).toEqual({ clusterName: 'shop', objects: [{ kind: 'MutatingWebhookConfiguration', name: 'cdk-a' }, { kind: 'ValidatingWebhookConfiguration', name: 'cdk-a' }] });
    for (const bad of [undefined, '', 'eks-webhook-configurations:shop:Secret/x', 'eks-webhook-configurations:shop:MutatingWebhookConfiguration/../x',
      'eks-webhook-configurations:sh op:MutatingWebhookConfiguration/x', 'eks-webhook-configurations-failed:123']) {
      expect(parsePhysicalId(bad)).toBeUndefined();
    }
  });
  test('the secret replaces the placeholder in the webhook URL only, and must be a URL path segment', () => {
    const c = config('MutatingWebhookConfiguration', 'cdk-a');
    expect(withSecret(c, 'A1'.repeat(20)).webhooks[0].clientConfig.url).toBe(`https://fn.example/${'A1'.repeat(20)}/mutate`);
    expect(c.webhooks[0].clientConfig.url).toContain(SECRET_PLACEHOLDER);
    for (const bad of ['short1', 'a/b'.repeat(12), `${'A'.repeat(40)}?x`]) expect(() => withSecret(c, bad)).toThrow(/32 to 256 letters and digits/);
  });
});
