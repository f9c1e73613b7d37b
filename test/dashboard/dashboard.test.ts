/**
 * SignedImagesDashboard: synthesized for an ECS hook + task audit app, every metric of every widget is
 * one the BUNDLED handlers write (names, namespace and dimensions taken from real EMF records they print),
 * the Logs Insights query's fields and filter match the verdict records they print, and the alarms exist.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { App as CdkApp, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as sns from 'aws-cdk-lib/aws-sns';
import { dashboardBody, exampleSketch } from './sketch';
import { AdmissionMode, EcsAdmissionHook, EksAdmissionWebhook, ImageVerifierFunction, SignedImagesDashboard, TaskLaunchAudit } from '../../src';
import { DEFAULT_METRICS_NAMESPACE } from '../../src/handlers/config';
import { admissionReview, pod as eksPod, urlEvent } from '../eks/support';
import { webhookEnv } from '../eks/webhook-env';
import { CLUSTER, context, Harness, hookEvent, REVISION_ARN, startHarness, TASK, taskEvent } from '../handlers/harness';
import { policy, setup } from '../support/construct-fixtures';
import { loadHandler } from '../support/handler-bundle';
import { captureStdout } from '../support/stdout-capture';

interface App {
  readonly template: Template;
  readonly body: any;
  readonly hookFn: string;
  readonly auditFn: string;
}

function synth(opts: { alarms?: boolean; mode?: AdmissionMode } = {}): App {
  const { stack, cluster, service } = setup();
  const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy(), services: [service('Svc')], mode: opts.mode ?? AdmissionMode.ENFORCE });
  const audit = new TaskLaunchAudit(stack, 'Audit', { trustPolicy: policy(), clusters: [cluster] });
  new SignedImagesDashboard(stack, 'Dashboard', {
    admissionHooks: [hook], taskAudits: [audit], alarms: opts.alarms, alarmTopic: opts.alarms ? new sns.Topic(stack, 'Alerts') : undefined,
  });
  const template = Template.fromStack(stack);
  return {
    template,
    body: dashboardBody(template),
    hookFn: `<${stack.getLogicalId(hook.function.node.defaultChild as any)}>`,
    auditFn: `<${stack.getLogicalId(audit.function.node.defaultChild as any)}>`,
  };
}

interface MetricRef { readonly widget: string; readonly namespace: string; readonly name: string; readonly dimensions: Record<string, string> }

/** Every metric line of every graph widget (CloudWatch's array form: namespace, name, key, value, ..., options). */
function metricsOf(body: any): MetricRef[] {
  const out: MetricRef[] = [];
  for (const w of body.widgets) {
    for (const m of w.properties?.metrics ?? []) {
      const fields = m.filter((x: unknown) => typeof x === 'string');
      if (fields.length < 2) continue; // a math expression ({ expression })
      const dimensions: Record<string, string> = {};
      for (let i = 2; i + 1 < fields.length; i += 2) dimensions[fields[i]] = fields[i + 1];
      out.push({ widget: w.properties.title, namespace: fields[0], name: fields[1], dimensions });
    }
  }
  return out;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

/** Runs a bundled handler and returns every JSON line it printed. */
async function run(name: string, event: unknown, config: Record<string, unknown>): Promise<any[]> {
  h.configure({ metricsNamespace: DEFAULT_METRICS_NAMESPACE, ...config });
  const out = captureStdout();
  try {
    await loadHandler(name).handler(event, context());
  } finally {
    out.restore();
  }
  return out.lines;
}

function emfOf(lines: any[]): { namespace: string; dimensions: string[][]; names: Set<string> } {
  const emf = lines.filter((l) => l._aws);
  expect(emf).toHaveLength(1);
  const cw = emf[0]._aws.CloudWatchMetrics[0];
  const names = new Set<string>(cw.Metrics.map((m: any) => m.Name));
  for (const n of names) expect(typeof emf[0][n] === 'number' || Array.isArray(emf[0][n])).toBe(true);
  return { namespace: cw.Namespace, dimensions: cw.Dimensions, names };
}

/** A rejected (unsigned) image and a verified one, through the ENFORCE hook and the task audit. */
async function realRecords(): Promise<{ hook: any[]; audit: any[] }> {
  h.aws.revisions.set(REVISION_ARN, [h.signed, h.unsigned].map((ref, n) => {
    const [name, digest] = ref.split('@');
    return { containerName: `c${n}`, image: `${name}:latest`, imageDigest: digest };
  }));
  const hook = await run('admission-hook', hookEvent(), { mode: 'ENFORCE', signatureWaitSeconds: 0 });
  const audit = await run('task-audit', taskEvent([h.signed, h.unsigned].map((ref) => {
    const [name, digest] = ref.split('@');
    return { image: `${name}:latest`, imageDigest: digest };
  })), { mode: 'AUDIT' });
  return { hook, audit };
}

describe('the synthesized dashboard', () => {
  test('layout: outcomes per function and mode, latency, hook answers, Lambda health, DLQ depth, rejected images', () => {
    const { body } = synth();
    const titles = body.widgets.map((w: any) => w.properties.title ?? w.type);
    expect(titles).toEqual([
      'text',
      'Images: ECS hook Admission (ENFORCE)',
      'Images: Task audit Audit (AUDIT)',
      'Verification latency (VerifyDuration, p50 / p99)',
      'ECS hook answers and signature-wait rounds',
      'Lambda errors, throttles, configuration errors',
      'Lambda duration (p50 / p99 / max)',
      'Task audit dead-letter queue depth',
      'Latest rejected images (verdict records)',
    ]);
    // 24-column grid, no widget outside it, no two widgets overlapping.
    const cells = new Set<string>();
    for (const w of body.widgets) {
      expect(w.x + w.width).toBeLessThanOrEqual(24);
      for (let x = w.x; x < w.x + w.width; x++) {
        for (let y = w.y; y < w.y + w.height; y++) {
          const k = `${x},${y}`;
          expect(cells.has(k)).toBe(false);
          cells.add(k);
        }
      }
    }
  });

  test('each widget metric of a verifier function is one its bundled handler writes (name, namespace, dimension), read from real EMF records', async () => {
    const { body, hookFn, auditFn } = synth();
    const { hook, audit } = await realRecords();
    const emf = { [hookFn]: emfOf(hook), [auditFn]: emfOf(audit) };
    const mine = metricsOf(body).filter((m) => m.namespace !== 'AWS/Lambda' && m.namespace !== 'AWS/SQS');
    expect(mine.length).toBeGreaterThan(10);
    for (const m of mine) {
      const fn = Object.values(m.dimensions)[0];
      const record = emf[fn];
      expect({ widget: m.widget, fn, known: record !== undefined }).toEqual({ widget: m.widget, fn, known: true });
      expect(m.namespace).toBe(record.namespace);
      expect([Object.keys(m.dimensions)]).toEqual(record.dimensions);
      // ConfigurationErrors is written by the config-error path (its own EMF record, same namespace and dimension).
      if (m.name !== 'ConfigurationErrors') expect({ widget: m.widget, name: m.name, emitted: record.names.has(m.name) }).toEqual({ widget: m.widget, name: m.name, emitted: true });
    }
    // Both functions' metrics appear; the hook's answer metrics are on the dashboard and in the hook's record.
    const names = (fn: string) => new Set(mine.filter((m) => Object.values(m.dimensions)[0] === fn).map((m) => m.name));
    expect([...names(hookFn)]).toEqual(expect.arrayContaining(['Verified', 'Rejected', 'Inconclusive', 'Exempt', 'Skipped', 'VerifyDuration', 'HookSucceeded', 'HookFailed', 'HookInProgress', 'SignatureWaitRounds']));
    expect([...names(auditFn)]).toEqual(expect.arrayContaining(['Verified', 'Rejected', 'Inconclusive', 'Exempt', 'Skipped', 'VerifyDuration']));
    expect(names(auditFn).has('HookFailed')).toBe(false);
    // The hook answered FAILED for the unsigned image: exactly that answer counted.
    const hookEmf = hook.find((l) => l._aws);
    expect(hookEmf).toMatchObject({ HookFailed: 1, HookSucceeded: 0, HookInProgress: 0, SignatureWaitRounds: 0, Rejected: 1 });
    expect(audit.find((l) => l._aws).HookFailed).toBeUndefined();
  });

  test('a signature wait round counts in SignatureWaitRounds and HookInProgress', async () => {
    h.aws.revisions.set(REVISION_ARN, [{ containerName: 'c0', image: `${h.unsigned.split('@')[0]}:latest`, imageDigest: h.unsignedDigest }]);
    const lines = await run('admission-hook', hookEvent(), { mode: 'ENFORCE', signatureWaitSeconds: 60 });
    expect(lines.find((l) => l._aws)).toMatchObject({ HookInProgress: 1, HookFailed: 0, HookSucceeded: 0, SignatureWaitRounds: 1 });
  });

  test.each([['ENFORCE', 'HookFailed'], ['AUDIT', 'HookSucceeded']])('an unexpected error inside the %s hook still counts its answer in %s', async (mode, metric) => {
    const hostile = Object.defineProperty(hookEvent(), 'executionDetails', { get: () => { throw new TypeError('boom'); }, enumerable: true });
    const lines = await run('admission-hook', hostile, { mode });
    expect(lines.some((l) => l.message === 'unexpected error in the admission hook')).toBe(true);
    const emf = lines.find((l) => l._aws);
    expect([emf.HookFailed + emf.HookSucceeded + emf.HookInProgress, emf[metric]]).toEqual([1, 1]);
  });

  test('the Logs Insights query reads the log groups of both functions, and its fields and filter match the real verdict records', async () => {
    const { body } = synth();
    const widget = body.widgets.find((w: any) => w.type === 'log');
    const query: string = widget.properties.query;
    expect(query.match(/SOURCE '\/aws\/lambda\/<\w+>'/g)).toHaveLength(2);
    const q = query.slice(query.lastIndexOf("'") + 1).replace(/^\s*\|\s*/, '');
    expect(q).toBe(SignedImagesDashboard.rejectedImagesQuery(20));

    const { hook, audit } = await realRecords();
    const records = [...hook, ...audit];
    // The filter `message = "verdict" and outcome = "rejected"`, evaluated on every printed line.
    const filter = /filter message = "(\w+)" and outcome = "(\w+)"/.exec(q)!;
    const selected = records.filter((r) => r.message === filter[1] && r.outcome === filter[2]);
    expect(selected.map((r) => [r.handler, r.image])).toEqual([['admission-hook', h.unsigned], ['task-audit', h.unsigned]]);
    // Verified images (the audit checks every container; the ENFORCE hook may stop at the rejection) stay out.
    expect(records.filter((r) => r.message === 'verdict' && r.outcome === 'verified').length).toBeGreaterThanOrEqual(1);
    // Each displayed field exists in a rejected record (a.b is b of a; `x as y` shows x), where the image was to run included.
    const fields = /^fields (.*?) \|/.exec(q)![1].split(',').map((f) => f.trim().split(' as ')[0]).filter((f) => !f.startsWith('@'));
    const get = (r: any, f: string) => f.split('.').reduce((v, k) => (v == null ? undefined : v[k]), r);
    const hookRejected = selected.find((r) => r.handler === 'admission-hook');
    const auditRejected = selected.find((r) => r.handler === 'task-audit');
    for (const f of ['image', 'digest', 'failingCheck', 'reasons.0', 'container']) {
      expect({ f, hook: get(hookRejected, f) !== undefined, audit: get(auditRejected, f) !== undefined }).toEqual({ f, hook: true, audit: true });
    }
    expect(get(hookRejected, 'serviceRevision')).toBe(REVISION_ARN);
    expect(get(hookRejected, 'mode')).toBe('ENFORCE');
    expect(get(auditRejected, 'task')).toBe(TASK);
    expect(auditRejected.cluster).toBe(CLUSTER);
    for (const f of fields) expect({ f, seen: records.some((r) => r.message === 'verdict' && get(r, f) !== undefined) || f === 'namespace' || f === 'errorCode' }).toEqual({ f, seen: true });
  });
});

describe('alarms', () => {
  test('none by default (and no custom resource: the log group names are derived, not looked up)', () => {
    const { template } = synth();
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    // Only the task audit's own dead-letter alarm.
    expect(alarms.map((a) => a.Properties.MetricName)).toEqual(['ApproximateNumberOfMessagesVisible']);
    expect(Object.keys(template.findResources('Custom::LogRetention'))).toEqual([]);
  });

  test('ENFORCE rejection, inconclusive rate, errors/throttles per function; all notify the topic; a status widget with them and the audit\'s dead-letter alarm', () => {
    const { template, body } = synth({ alarms: true });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    const own = alarms.filter((a) => /docs\/operations\.md/.test(a.Properties.AlarmDescription));
    expect(own.map((a) => a.Properties.AlarmDescription.match(/"([^"]+)"/)[1]).sort()).toEqual([
      'Errors or throttles', 'Errors or throttles', 'Inconclusive rate', 'Inconclusive rate', 'Rejected in ENFORCE',
    ]);
    for (const a of own) expect(a.Properties.AlarmActions).toHaveLength(1);
    const rejected = own.find((a) => /ENFORCE"/.test(a.Properties.AlarmDescription));
    expect(rejected.Properties).toMatchObject({ MetricName: 'Rejected', Namespace: DEFAULT_METRICS_NAMESPACE, Threshold: 1, TreatMissingData: 'notBreaching' });
    const rate = own.find((a) => /Inconclusive rate/.test(a.Properties.AlarmDescription));
    expect(rate.Properties.Threshold).toBe(5);
    const expr = rate.Properties.Metrics.find((m: any) => m.Expression);
    expect(expr.Expression).toContain('100 * m2');
    const inputs = rate.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, m.MetricStat.Metric.MetricName]);
    expect(inputs).toEqual([['m0', 'Verified'], ['m1', 'Rejected'], ['m2', 'Inconclusive'], ['m3', 'Exempt'], ['m4', 'Skipped']]);
    expect(body.widgets.some((w: any) => w.type === 'alarm' && w.properties.alarms.length === own.length + 1)).toBe(true);
  });

  test('an AUDIT hook gets no rejection alarm', () => {
    const { template } = synth({ alarms: true, mode: AdmissionMode.AUDIT });
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.AlarmDescription);
    expect(descriptions.filter((d) => /Rejected in ENFORCE/.test(d))).toEqual([]);
  });
});

/** A stack with an EKS webhook imported the way the construct needs (endpoint, CA, admin role). */
function eksStack(): { stack: Stack; cluster: eks.ICluster } {
  const app = new CdkApp();
  const stack = new Stack(app, 'Eks', { env: { account: '123456789012', region: 'us-east-1' } });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'shop',
    kubectlRoleArn: 'arn:aws:iam::123456789012:role/shop-kubectl',
    clusterEndpoint: 'https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
    kubectlLayer: new KubectlV34Layer(stack, 'Kubectl'),
  });
  return { stack, cluster };
}

test('an EKS webhook and a plain verifier function: outcome widgets titled with their mode, the webhook\'s answers, a rejection alarm for the ENFORCE webhook, no DLQ widget', () => {
  const { stack, cluster } = eksStack();
  const webhook = new EksAdmissionWebhook(stack, 'Webhook', { cluster, trustPolicy: policy() });
  const verify = new ImageVerifierFunction(stack, 'Verify', { trustPolicy: policy() });
  new SignedImagesDashboard(stack, 'Dashboard', { eksWebhooks: [webhook], functions: [verify], alarms: true });
  const template = Template.fromStack(stack);
  const body = dashboardBody(template);
  const titles = body.widgets.map((w: any) => w.properties.title ?? w.type);
  expect(titles).toEqual(expect.arrayContaining(['Images: EKS webhook Webhook (ENFORCE)', 'Images: Verifier Verify', 'EKS webhook answers and signature-wait rounds']));
  expect(titles.filter((t: string) => /dead-letter/.test(t))).toEqual([]);
  const webhookFn = `<${stack.getLogicalId(webhook.function.node.defaultChild as any)}>`;
  expect(metricsOf(body).filter((m) => m.name === 'Rejected').map((m) => Object.values(m.dimensions)[0])).toContain(webhookFn);
  // The webhook answers at once: HookSucceeded and HookFailed, never HookInProgress; the plain function no answers.
  const answers = metricsOf(body).filter((m) => /answers/.test(m.widget));
  expect(answers.map((m) => [Object.values(m.dimensions)[0], m.name])).toEqual([
    [webhookFn, 'HookSucceeded'], [webhookFn, 'HookFailed'], [webhookFn, 'SignatureWaitRounds'],
  ]);
  const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a: any) => String(a.Properties.AlarmDescription));
  expect(descriptions.filter((d) => /Rejected in ENFORCE/.test(d))).toEqual([expect.stringContaining('EKS webhook Webhook (ENFORCE)')]);
  expect(descriptions.filter((d) => /Inconclusive rate/.test(d))).toHaveLength(2);
});

describe('the EKS webhook\'s widget metrics are the ones its bundled handler writes', () => {
  const env = webhookEnv();

  const review = (images: string[]) => urlEvent(`/${env.sm.secret}/mutate`, JSON.stringify(admissionReview(eksPod({ containers: images }))));

  test('ECS hook and EKS webhook on one dashboard: one answers widget; every webhook metric (name, namespace, dimension) is in its real EMF record', async () => {
    const { stack, cluster } = eksStack();
    const webhook = new EksAdmissionWebhook(stack, 'Webhook', { cluster, trustPolicy: policy() });
    const hook = new EcsAdmissionHook(stack, 'Hook', { trustPolicy: policy() });
    new SignedImagesDashboard(stack, 'Dashboard', { admissionHooks: [hook], eksWebhooks: [webhook] });
    const body = dashboardBody(Template.fromStack(stack));
    const titles = body.widgets.map((w: any) => w.properties.title ?? w.type);
    expect(titles.filter((t: string) => /answers/.test(t))).toEqual(['ECS hook and EKS webhook answers and signature-wait rounds']);
    const webhookFn = `<${stack.getLogicalId(webhook.function.node.defaultChild as any)}>`;
    const mine = metricsOf(body).filter((m) => m.namespace !== 'AWS/Lambda' && Object.values(m.dimensions)[0] === webhookFn);

    // A refusal (unsigned image, no wait) and an admission (signed image) through the bundled webhook.
    const refused = emfOf(await run('eks-webhook', review([h.unsigned]), { mode: 'ENFORCE', signatureWaitSeconds: 0 }));
    const allowedLines = await run('eks-webhook', review([h.signed]), { mode: 'ENFORCE', signatureWaitSeconds: 0 });
    const admitted = emfOf(allowedLines);
    for (const record of [refused, admitted]) {
      for (const m of mine) {
        expect(m.namespace).toBe(record.namespace);
        expect([Object.keys(m.dimensions)]).toEqual(record.dimensions);
        if (m.name !== 'ConfigurationErrors') expect({ widget: m.widget, name: m.name, emitted: record.names.has(m.name) }).toEqual({ widget: m.widget, name: m.name, emitted: true });
      }
    }
    expect(new Set(mine.map((m) => m.name))).toEqual(new Set([
      'Verified', 'Rejected', 'Inconclusive', 'Exempt', 'Skipped', 'VerifyDuration', 'ConfigurationErrors', 'HookSucceeded', 'HookFailed', 'SignatureWaitRounds',
    ]));
    expect(allowedLines.find((l) => l._aws)).toMatchObject({ handler: 'eks-webhook', HookSucceeded: 1, HookFailed: 0, SignatureWaitRounds: 0, Verified: 1 });
  });

  test('the webhook\'s refusal after a signature wait counts HookFailed and its rounds in SignatureWaitRounds', async () => {
    process.env.WEBHOOK_TIMEOUT_SECONDS = '3';
    try {
      const lines = await run('eks-webhook', review([h.unsigned]), { mode: 'ENFORCE', signatureWaitSeconds: 2 });
      const wait = lines.find((l) => String(l.message).startsWith('signature wait'));
      expect(wait.rounds).toBeGreaterThanOrEqual(1);
      expect(lines.find((l) => l._aws)).toMatchObject({ HookFailed: 1, HookSucceeded: 0, HookInProgress: 0, SignatureWaitRounds: wait.rounds, Rejected: 1 });
    } finally {
      process.env.WEBHOOK_TIMEOUT_SECONDS = '10';
    }
  });
});

describe('bad props', () => {
  test.each([
    [{ inconclusiveRateThreshold: 101 }, /inconclusiveRateThreshold/],
    [{ inconclusiveRateThreshold: -1 }, /inconclusiveRateThreshold/],
    [{ inconclusiveRateThreshold: NaN }, /inconclusiveRateThreshold/],
    [{ rejectedImagesLimit: 0 }, /rejectedImagesLimit/],
    [{ rejectedImagesLimit: 2.5 }, /rejectedImagesLimit/],
    [{ period: Duration.seconds(90) }, /whole number of minutes/],
  ])('%p is refused', (extra, message) => {
    const { stack } = setup();
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy() });
    expect(() => new SignedImagesDashboard(stack, 'D', { admissionHooks: [hook], ...extra })).toThrow(message);
  });

  test('no function, or one function twice, is refused', () => {
    const { stack } = setup();
    expect(() => new SignedImagesDashboard(stack, 'D', {})).toThrow(/at least one verifier function/);
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy() });
    expect(() => new SignedImagesDashboard(stack, 'D2', { admissionHooks: [hook], functions: [hook.function] })).toThrow(/listed twice/);
  });
});

test('README "Operating it" shows the example app\'s dashboard as sketched from its synthesized body', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Operating it'));
  expect(section.startsWith('## Operating it')).toBe(true);
  const block = /```text\n([\s\S]*?)\n```/.exec(section)![1];
  expect(block).toBe(exampleSketch());
});
