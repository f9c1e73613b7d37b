/** Pure helpers of the handler runtime (the bundled handlers are tested end to end elsewhere). */
import { METRIC } from '../../src/handlers/config';
import { Deadline, mapBounded, METRIC_OF_OUTCOME, OUTCOME_OF_STATUS, Outcome, pinImage, pinnedDigestOf, regionOf } from '../../src/handlers/runtime';
import { globToRegExp, matchExemption } from '../../src/verifier/policy/exemptions';

describe('exemption globs', () => {
  test.each([
    ['public.ecr.aws/**', 'public.ecr.aws/nginx/nginx', true],
    ['public.ecr.aws/*', 'public.ecr.aws/nginx/nginx', false],
    ['public.ecr.aws/*/*', 'public.ecr.aws/nginx/nginx', true],
    ['123456789012.dkr.ecr.*.amazonaws.com/base/*', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/base/node', true],
    ['registry.example.com/app?', 'registry.example.com/app1', true],
    ['registry.example.com/app?', 'registry.example.com/app/', false],
    ['a.b/c', 'aXb/c', false],
  ])('%s vs %s → %s', (glob, value, expected) => {
    expect(globToRegExp(glob).test(value)).toBe(expected);
  });

  test('matched against the repository and the full reference', () => {
    const patterns = ['**/base/*', 'ghcr.io/acme/tool:v1'];
    const res = patterns.map(globToRegExp);
    expect(matchExemption(res, patterns, `123456789012.dkr.ecr.us-east-1.amazonaws.com/base/node@sha256:${'a'.repeat(64)}`)).toBe('**/base/*');
    expect(matchExemption(res, patterns, 'ghcr.io/acme/tool:v1')).toBe('ghcr.io/acme/tool:v1');
    expect(matchExemption(res, patterns, 'ghcr.io/acme/tool:v2')).toBeUndefined();
    expect(matchExemption(res, patterns, 'not a reference')).toBeUndefined();
  });
});

describe('pinImage', () => {
  const d = `sha256:${'b'.repeat(64)}`;
  test.each([
    ['host/repo:tag', `host/repo@${d}`],
    ['host:5000/repo:tag', `host:5000/repo@${d}`],
    ['host:5000/repo', `host:5000/repo@${d}`],
    [`host/repo@sha256:${'c'.repeat(64)}`, `host/repo@${d}`],
    [`host/repo:tag@sha256:${'c'.repeat(64)}`, `host/repo@${d}`],
  ])('%s', (image, expected) => {
    expect(pinImage(image, d)).toBe(expected);
  });
  test('no digest: unchanged', () => {
    expect(pinImage('host/repo:tag')).toBe('host/repo:tag');
  });
});

test('regionOf reads the ARN, else the Lambda region', () => {
  expect(regionOf('arn:aws:ecs:eu-west-3:123456789012:service-revision/c/s/1')).toBe('eu-west-3');
  const saved = process.env.AWS_REGION;
  process.env.AWS_REGION = 'ap-south-1';
  try {
    expect(regionOf(undefined)).toBe('ap-south-1');
  } finally {
    if (saved === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = saved;
  }
});

describe('mapBounded', () => {
  test('never runs more than the limit at once and keeps result order', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return n * 10;
    });
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  test('stop() ends early: unstarted items stay undefined', async () => {
    const started: number[] = [];
    const results = await mapBounded([1, 2, 3, 4], 1, async (n) => {
      started.push(n);
      return n;
    }, { stop: (r) => r === 2 });
    expect(results).toEqual([1, 2, undefined, undefined]);
    expect(started).toEqual([1, 2]);
  });

  test('an expired deadline returns without waiting for unfinished items', async () => {
    const deadline = new Deadline({ getRemainingTimeInMillis: () => 0 }, 0);
    const never = new Promise<number>(() => undefined);
    const results = await mapBounded([1, 2], 2, () => never, { deadline });
    expect(results).toEqual([undefined, undefined]);
  });
});

describe('pinnedDigestOf (an image string, not content: the engine\'s digestOf hashes bytes)', () => {
  test.each([
    ['r.example/app@sha256:' + 'a'.repeat(64), 'sha256:' + 'a'.repeat(64)],
    ['r.example/app:v1', undefined],
    ['r.example:5000/app:v1@sha256:' + 'b'.repeat(64), 'sha256:' + 'b'.repeat(64)],
    ['', undefined],
  ])('%s', (image, digest) => {
    expect(pinnedDigestOf(image)).toBe(digest);
  });
});

describe('outcome vocabulary', () => {
  test("the engine's statuses map to the handlers' outcomes in one table (failed -> rejected)", () => {
    expect(OUTCOME_OF_STATUS).toEqual({ verified: 'verified', failed: 'rejected', inconclusive: 'inconclusive', skipped: 'skipped' });
  });
  test('every outcome counts in exactly one metric; unfinished counts as Inconclusive, skipped apart from Exempt', () => {
    const outcomes: Outcome[] = ['verified', 'rejected', 'inconclusive', 'skipped', 'exempt', 'unfinished'];
    expect(Object.keys(METRIC_OF_OUTCOME).sort()).toEqual([...outcomes].sort());
    expect(METRIC_OF_OUTCOME.unfinished).toBe(METRIC.INCONCLUSIVE);
    expect(METRIC_OF_OUTCOME.skipped).toBe(METRIC.SKIPPED);
    expect(METRIC_OF_OUTCOME.exempt).toBe(METRIC.EXEMPT);
    expect(METRIC_OF_OUTCOME.rejected).toBe(METRIC.REJECTED);
  });
});
