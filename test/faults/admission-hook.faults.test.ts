/**
 * DescribeServiceRevisions failing, through the BUNDLED admission hook (assets/handlers/admission-hook)
 * with the real ECS SDK client against the local AWS fake. What test/handlers/admission-hook.test.ts
 * already covers (AccessDenied in ENFORCE and with inconclusiveAction ADMIT) is not repeated here:
 * this adds throttling and server errors, AUDIT mode (admits and logs), and a bound on the answer time.
 */
import { context, handlerSuite, hookEvent, REVISION_ARN } from '../handlers/harness';

const s = handlerSuite('admission-hook');

const FAULTS = [
  { name: 'throttled', error: { type: 'ThrottlingException', status: 400, message: 'Rate exceeded' } },
  { name: 'server error', error: { type: 'ServerException', status: 500, message: 'internal failure' } },
  { name: 'access denied', error: { type: 'AccessDeniedException', status: 400, message: 'not authorized' } },
];

describe.each(FAULTS)('DescribeServiceRevisions $name', ({ error }) => {
  test('ENFORCE fails closed, within the Lambda budget, and says why', async () => {
    s.h.aws.describeError = error;
    s.h.configure({ mode: 'ENFORCE' });
    const t0 = Date.now();
    expect(await s.handler(hookEvent(), context(20_000))).toEqual({ hookStatus: 'FAILED' });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const line = s.out.lines.find((l) => /cannot read the service revision/.test(l.message));
    expect(line?.error).toContain(error.message);
    const calls = s.h.aws.calls.filter((c) => c.operation === 'DescribeServiceRevisions').length;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(3);
  }, 30_000);

  test('AUDIT succeeds and logs the failure', async () => {
    s.h.aws.describeError = error;
    s.h.configure({ mode: 'AUDIT' });
    expect(await s.handler(hookEvent(), context(20_000))).toEqual({ hookStatus: 'SUCCEEDED' });
    const line = s.out.lines.find((l) => /cannot read the service revision/.test(l.message));
    expect(line).toBeDefined();
    expect(line?.error).toContain(error.message);
  }, 30_000);
});

describe('service revisions the hook cannot use', () => {
  const CASES: Array<[string, any[]]> = [
    ['no containerImages', []],
    ['a container without an image', [{ containerName: 'app' }]],
    ['an image that is not a string', [{ containerName: 'app', image: 42, imageDigest: 'sha256:00' }]],
    ['an empty image', [{ containerName: 'app', image: '' }]],
    ['a null entry', [null]],
  ];

  test.each(CASES)('%s: ENFORCE fails closed (inconclusive), AUDIT admits, both say why', async (_name, images) => {
    s.h.aws.revisions.set(REVISION_ARN, images);
    s.h.configure({ mode: 'ENFORCE' });
    expect(await s.handler(hookEvent(), context(20_000))).toEqual({ hookStatus: 'FAILED' });
    s.h.configure({ mode: 'AUDIT' });
    expect(await s.handler(hookEvent(), context(20_000))).toEqual({ hookStatus: 'SUCCEEDED' });
    const said = s.out.lines.filter((l) => /cannot read the service revision|containers without an image/.test(l.message));
    expect(said.length).toBeGreaterThanOrEqual(2);
    expect(s.out.emf().every((e) => e.Inconclusive >= 1)).toBe(true);
  }, 30_000);

  test('a tag-only container next to an unreadable one: ENFORCE names the unpinned container', async () => {
    s.h.aws.revisions.set(REVISION_ARN, [{ containerName: 'app', image: s.h.taggedImage }, { containerName: 'broken' }]);
    s.h.configure({ mode: 'ENFORCE', inconclusiveAction: 'ADMIT' });
    expect(await s.handler(hookEvent(), context(20_000))).toEqual({ hookStatus: 'FAILED' });
    const decision = s.out.lines.find((l) => String(l.message).startsWith('admission decision'));
    expect(decision).toMatchObject({ unpinned: [s.h.taggedImage], malformed: ['broken'] });
  }, 30_000);
});

describe('configuration errors with ADMISSION_MODE', () => {
  afterEach(() => {
    delete process.env.ADMISSION_MODE;
  });

  test('AUDIT answers SUCCEEDED without calling ECS; ENFORCE fails closed', async () => {
    s.h.configure({ version: 1, trustPolicy: { version: '1.0', trustPolicies: 'nope' } });
    process.env.ADMISSION_MODE = 'AUDIT';
    const audit = await s.handler(hookEvent(), context(20_000));
    process.env.ADMISSION_MODE = 'ENFORCE';
    const enforce = await s.handler(hookEvent(), context(20_000));
    expect([audit, enforce]).toEqual([{ hookStatus: 'SUCCEEDED' }, { hookStatus: 'FAILED' }]);
    expect(s.out.emf().map((e) => e.ConfigurationErrors)).toEqual([1, 1]);
  });
});
