/**
 * The BUNDLED task-launch audit and direct-invoke verify handlers against the real loopback
 * docker-registry; ECS StopTask and SNS Publish answered by the local AWS fake.
 */
import { context, Harness, startHarness } from './harness';
import { loadHandler } from '../support/handler-bundle';
import { captureStdout, Captured } from '../support/stdout-capture';

let h: Harness;
let audit: (event: unknown, ctx?: unknown) => Promise<any>;
let verify: (event: unknown, ctx?: unknown) => Promise<any>;
let out: Captured;

const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/demo-cluster/0f2e7a55a2a54a33b0c1b1f5ff3f1d8e';
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/demo-cluster';

function taskEvent(containers: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    'version': '0',
    'id': '3317b2af-7005-947d-b652-f55e762e571a',
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': '123456789012',
    'time': '2026-01-01T00:00:00Z',
    'region': 'us-east-1',
    'resources': [TASK],
    'detail': {
      clusterArn: CLUSTER,
      taskArn: TASK,
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/demo:3',
      group: 'service:demo-service',
      launchType: 'FARGATE',
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      version: 3,
      containers: containers.map((c, i) => ({
        containerArn: `arn:aws:ecs:us-east-1:123456789012:container/demo-cluster/x/${i}`,
        name: `c${i}`,
        lastStatus: 'RUNNING',
        taskArn: TASK,
        ...c,
      })),
    },
  };
}

function split(ref: string): { image: string; imageDigest: string } {
  const [name, digest] = ref.split('@');
  return { image: `${name}:latest`, imageDigest: digest };
}

beforeAll(async () => {
  h = await startHarness();
  audit = loadHandler('task-audit').handler;
  verify = loadHandler('verify').handler;
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  h.aws.calls.length = 0;
  delete process.env.SNS_TOPIC_ARN;
  out = captureStdout();
});

afterEach(() => out.restore());

describe('task audit', () => {
  test('verifies every container (pinned to imageDigest), logs and counts; no StopTask by default', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit(taskEvent([split(h.signed), split(h.unsigned)]), context());
    expect(res.task).toBe(TASK);
    expect(res.results).toEqual([
      expect.objectContaining({ image: h.signed, container: 'c0', outcome: 'verified' }),
      expect.objectContaining({ image: h.unsigned, container: 'c1', outcome: 'rejected' }),
    ]);
    expect(res.stopped).toBe(false);
    expect(res.notified).toBe(false);
    expect(h.aws.calls.filter((c) => c.operation === 'StopTask')).toHaveLength(0);
    const verdicts = out.verdicts();
    expect(verdicts.find((v) => v.image === h.unsigned)).toMatchObject({ task: TASK, cluster: CLUSTER, handler: 'task-audit', outcome: 'rejected' });
    expect(out.emf()[0]).toMatchObject({ Verified: 1, Rejected: 1 });
    expect(out.lines.some((l) => l.message === 'task runs images that failed verification')).toBe(true);
  });

  test('stopTask (opt-in) stops a task running a rejected image through ECS StopTask', async () => {
    h.configure({ mode: 'AUDIT', stopTask: true });
    const res = await audit(taskEvent([split(h.unsigned)]), context());
    expect(res.stopped).toBe(true);
    const stop = h.aws.calls.find((c) => c.operation === 'StopTask');
    expect(stop?.input).toMatchObject({ task: TASK, cluster: CLUSTER });
    expect(stop?.input.reason).toContain('failed signature verification');
  });

  test('stopTask leaves tasks with verified images alone', async () => {
    h.configure({ mode: 'AUDIT', stopTask: true });
    const res = await audit(taskEvent([split(h.signed)]), context());
    expect(res.stopped).toBe(false);
    expect(h.aws.calls.filter((c) => c.operation === 'StopTask')).toHaveLength(0);
  });

  test('a container without imageDigest is resolved by tag, with a warning', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit(taskEvent([{ image: h.taggedImage }]), context());
    expect(res.results[0]).toMatchObject({ image: h.taggedImage, outcome: 'verified' });
    expect(out.lines.some((l) => l.level === 'WARN' && /no imageDigest/.test(l.message))).toBe(true);
  });

  test('a rejected image is published to the SNS topic (real SNS client, awsQuery wire shape)', async () => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:alerts';
    const res = await audit(taskEvent([split(h.signed), split(h.unsigned)]), context());
    expect(res.notified).toBe(true);
    const publishes = h.aws.calls.filter((c) => c.service === 'sns' && c.operation === 'Publish');
    expect(publishes).toHaveLength(1);
    expect(publishes[0].input.TopicArn).toBe('arn:aws:sns:us-east-1:123456789012:alerts');
    const message = JSON.parse(publishes[0].input.Message);
    expect(JSON.stringify(message.rejected)).toContain(h.unsignedDigest);
    expect(JSON.stringify(message.rejected)).not.toContain(h.signedDigest);
  });

  test('no rejection, no notification', async () => {
    h.configure({ mode: 'AUDIT' });
    process.env.SNS_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:alerts';
    const res = await audit(taskEvent([split(h.signed)]), context());
    expect(res.notified).toBe(false);
    expect(h.aws.calls.filter((c) => c.service === 'sns')).toHaveLength(0);
  });

  test('other events are ignored', async () => {
    h.configure({ mode: 'AUDIT' });
    const res = await audit({ 'detail-type': 'ECS Container Instance State Change', 'detail': {} }, context());
    expect(res.ignored).toBeDefined();
    expect(out.verdicts()).toHaveLength(0);
  });

  test('exempt images are counted as exempt', async () => {
    h.configure({ mode: 'AUDIT', exemptions: [`${h.registry.host}/app/uns*`] });
    const res = await audit(taskEvent([split(h.unsigned)]), context());
    expect(res.results[0].outcome).toBe('exempt');
    expect(out.emf()[0]).toMatchObject({ Exempt: 1, Rejected: 0 });
  });
});

describe('verify (direct invoke)', () => {
  test('returns one verdict per image', async () => {
    h.configure({});
    const res = await verify({ images: [h.signed, h.unsigned] }, context());
    expect(res.allowed).toBe(false);
    expect(res.results.map((r: any) => r.outcome)).toEqual(['verified', 'rejected']);
    expect(res.results[0].verdict).toMatchObject({ status: 'verified', digest: h.signedDigest, policyStatement: 'test-ca' });
    expect(res.results[1].verdict.reasons.join(' ')).toContain('no signature');
  });

  test('all verified → allowed', async () => {
    h.configure({});
    expect((await verify({ images: [h.signed] }, context())).allowed).toBe(true);
  });

  test('malformed requests are answered with an error', async () => {
    h.configure({});
    for (const bad of [{}, { images: [] }, { images: [1] }, null]) {
      const res = await verify(bad, context());
      expect(res.allowed).toBe(false);
      expect(res.error).toContain('images');
    }
  });

  test('a trust policy in TRUST_POLICY overrides the file (deploy-time tokens path)', async () => {
    h.configure({});
    process.env.TRUST_POLICY = JSON.stringify({
      version: '1.0',
      trustPolicies: [{ name: 'from-env', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
    });
    try {
      const res = await verify({ images: [h.unsigned] }, context());
      expect(res.results[0]).toMatchObject({ outcome: 'skipped' });
      expect(res.allowed).toBe(true);
    } finally {
      delete process.env.TRUST_POLICY;
    }
  });
});
