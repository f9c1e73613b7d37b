/**
 * DescribeServiceRevisions failing, through the BUNDLED admission hook (assets/handlers/admission-hook)
 * with the real ECS SDK client against the local AWS fake. What test/handlers/admission-hook.test.ts
 * already covers (AccessDenied in ENFORCE and with inconclusiveAction ADMIT) is not repeated here:
 * this adds throttling and server errors, AUDIT mode (admits and logs), and a bound on the answer time.
 */
import { context, handlerSuite, hookEvent } from '../handlers/harness';

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
