/**
 * Fuzz: hook and EventBridge events into the BUNDLED handlers (assets/handlers/<name>/index.js), with
 * the handler harness (real loopback registry, local AWS fake). Pass = the handler never throws and
 * always answers its typed shape: a valid hookStatus (admission hook), a TaskAuditResult (task audit),
 * a VerifyResponse (verify).
 */
import * as fc from 'fast-check';
import { FUZZ_RUNS, fuzzTimeout, params, perturb } from './support';
import { context, Harness, hookEvent, REVISION_ARN, startHarness } from '../handlers/harness';
import { loadHandler } from '../support/handler-bundle';
import { captureStdout, Captured } from '../support/stdout-capture';

type Handler = (event: unknown, ctx?: unknown) => Promise<any>;
let h: Harness;
let hook: Handler;
let audit: Handler;
let verify: Handler;
let out: Captured;

beforeAll(async () => {
  h = await startHarness();
  h.configure({ mode: 'ENFORCE' });
  hook = loadHandler('admission-hook').handler;
  audit = loadHandler('task-audit').handler;
  verify = loadHandler('verify').handler;
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(() => {
  out = captureStdout();
});

afterEach(() => out.restore());

const scalar = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom(REVISION_ARN, 'arn:aws:ecs:us-east-1:1:task/c/abc', 'STOPPED', 'RUNNING', '', '*'));

function taskEvent(): Record<string, unknown> {
  return {
    'version': '0',
    'id': 'e1',
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': '123456789012',
    'time': new Date().toISOString(),
    'region': 'us-east-1',
    'resources': ['arn:aws:ecs:us-east-1:123456789012:task/c/abc'],
    'detail': {
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
      taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/abc',
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      containers: [{ name: 'app', image: h.signed, imageDigest: h.signedDigest }],
    },
  };
}

const runs = Math.min(FUZZ_RUNS, Number(process.env.FUZZ_HANDLER_RUNS ?? FUZZ_RUNS));
const perturbation = fc.tuple(fc.nat(), fc.oneof(scalar, fc.jsonValue({ maxDepth: 2 })), fc.boolean());

describe(`bundled handlers: never throw, always a typed answer (${runs} runs each)`, () => {
  test('admission hook: arbitrary JSON and perturbed lifecycle-hook events', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 3 }), perturbation.map(([p, v, r]) => perturb(hookEvent(), p, v, r))), async (event) => {
      const res = await hook(event, context(10_000));
      expect(['SUCCEEDED', 'FAILED', 'IN_PROGRESS']).toContain(res?.hookStatus);
    }), params({ numRuns: runs, timeout: 15_000 }));
  }, fuzzTimeout(20));

  test('admission hook: no hookDetails content admits an unsigned image in ENFORCE', async () => {
    const [name, digest] = h.unsigned.split('@');
    h.aws.revisions.set(REVISION_ARN, [{ containerName: 'app', image: `${name}:latest`, imageDigest: digest }]);
    const deployment = String(hookEvent().resourceArn);
    const value = fc.oneof(scalar, fc.constantFrom(h.unsigned, name, digest, deployment, new Date().toISOString(), 2, Number.MAX_SAFE_INTEGER), fc.jsonValue({ maxDepth: 2 }));
    const progressLike = fc.record({
      v: fc.oneof(fc.constant(2), value),
      revision: fc.oneof(fc.constant(REVISION_ARN), value),
      deployment: fc.oneof(fc.constant(deployment), value),
      round: fc.oneof(fc.integer(), value),
      signatureWaitStartedAt: fc.oneof(fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())), value),
      admitted: fc.oneof(fc.constant([h.unsigned]), fc.array(value, { maxLength: 3 })),
    }, { requiredKeys: [] });
    const details = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      progressLike.map((p) => ({ cdkSignedImages: p })),
      progressLike.map((p) => JSON.stringify({ cdkSignedImages: p })),
      fc.tuple(fc.constantFrom('CdkSignedImages', 'cdksignedimages', 'cdkSignedImages ', 'admitted'), progressLike).map(([k, p]) => ({ [k]: p })),
    );
    try {
      for (const wait of [0, 60]) {
        h.configure({ mode: 'ENFORCE', signatureWaitSeconds: wait, inconclusiveAction: 'ADMIT' });
        await fc.assert(fc.asyncProperty(details, async (hookDetails) => {
          out.lines.length = 0;
          const res = await hook(hookEvent(REVISION_ARN, { hookDetails }), context(10_000));
          expect(res.hookStatus).not.toBe('SUCCEEDED');
          expect(res.hookStatus).toBe(wait === 0 ? 'FAILED' : res.hookStatus);
          // The image was verified in this round, whatever hookDetails said.
          expect(out.verdicts().some((v) => v.image === h.unsigned && v.errorCode === 'NO_SIGNATURE')).toBe(true);
        }), params({ numRuns: Math.max(1, Math.floor(runs / 2)), timeout: 15_000 }));
      }
    } finally {
      h.aws.revisions.clear();
      h.configure({ mode: 'ENFORCE' });
    }
  }, fuzzTimeout(40));

  test('task audit: arbitrary JSON and perturbed EventBridge task-state events', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 3 }), perturbation.map(([p, v, r]) => perturb(taskEvent(), p, v, r))), async (event) => {
      const res = await audit(event, context(10_000));
      expect(res && typeof res === 'object').toBe(true);
      expect(Array.isArray(res.results)).toBe(true);
      expect(typeof res.notified).toBe('boolean');
      expect(typeof res.stopped).toBe('boolean');
    }), params({ numRuns: runs, timeout: 15_000 }));
  }, fuzzTimeout(20));

  test('verify: arbitrary JSON and perturbed requests', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 3 }), perturbation.map(([p, v, r]) => perturb({ images: [h.signed, h.unsigned] }, p, v, r))), async (event) => {
      const res = await verify(event, context(10_000));
      expect(typeof res?.allowed).toBe('boolean');
      expect(Array.isArray(res.results)).toBe(true);
      if (res.allowed) expect(res.error).toBeUndefined();
    }), params({ numRuns: runs, timeout: 15_000 }));
  }, fuzzTimeout(20));
});
