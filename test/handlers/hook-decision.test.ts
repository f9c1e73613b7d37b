/**
 * The admission hook's decision (src/handlers/hook-decision.ts) as a table: every row names its
 * expected answer. Settings for every row: signature wait 120 s, call-back delay 5 s, 10 rounds.
 * Rounds: first = 0, middle = 5, last = 10 (no IN_PROGRESS round left). Wait: running = started
 * 10 s ago, expired = started 200 s ago.
 */
import { decide, HookProgress, ImageState, maxRoundsFor, PROGRESS_KEY, PROGRESS_VERSION, readProgress } from '../../src/handlers/hook-decision';

const NOW = Date.parse('2026-12-02T01:00:00.000Z');
const REVISION = 'arn:aws:ecs:us-east-1:123456789012:service-revision/c/s/1';
const DEPLOYMENT = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/abc';
const ROUND = { first: 0, middle: 5, last: 10 } as const;
const WAIT = { running: 10_000, expired: 200_000 } as const;

type Row = [mode: 'ENFORCE' | 'AUDIT', state: ImageState | 'malformed', round: keyof typeof ROUND, wait: keyof typeof WAIT, expected: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS'];

function run(mode: 'ENFORCE' | 'AUDIT', state: ImageState | 'malformed', round: keyof typeof ROUND, wait: keyof typeof WAIT, inconclusiveAction: 'REJECT' | 'ADMIT' = 'REJECT') {
  const progress: HookProgress = {
    v: PROGRESS_VERSION,
    revision: REVISION,
    deployment: DEPLOYMENT,
    round: ROUND[round],
    signatureWaitStartedAt: new Date(NOW - WAIT[wait]).toISOString(),
  };
  return decide({
    mode,
    inconclusiveAction,
    signatureWaitSeconds: 120,
    callBackDelaySeconds: 5,
    maxRounds: 10,
    progress,
    now: NOW,
    images: [
      { image: 'r.example/app/ok@sha256:aa', container: 'web', state: 'verified' },
      ...(state === 'malformed' ? [] : [{ image: 'r.example/app/x@sha256:bb', container: 'side', state }]),
    ],
    malformed: state === 'malformed' ? ['broken'] : [],
  });
}

// prettier-ignore
const TABLE: Row[] = [
  // ENFORCE (inconclusiveAction REJECT)
  ['ENFORCE', 'verified', 'first', 'running', 'SUCCEEDED'],
  ['ENFORCE', 'verified', 'first', 'expired', 'SUCCEEDED'],
  ['ENFORCE', 'verified', 'middle', 'running', 'SUCCEEDED'],
  ['ENFORCE', 'verified', 'middle', 'expired', 'SUCCEEDED'],
  ['ENFORCE', 'verified', 'last', 'running', 'SUCCEEDED'],
  ['ENFORCE', 'verified', 'last', 'expired', 'SUCCEEDED'],
  ['ENFORCE', 'rejected', 'first', 'running', 'FAILED'],
  ['ENFORCE', 'rejected', 'first', 'expired', 'FAILED'],
  ['ENFORCE', 'rejected', 'middle', 'running', 'FAILED'],
  ['ENFORCE', 'rejected', 'middle', 'expired', 'FAILED'],
  ['ENFORCE', 'rejected', 'last', 'running', 'FAILED'],
  ['ENFORCE', 'rejected', 'last', 'expired', 'FAILED'],
  ['ENFORCE', 'no-signature-yet', 'first', 'running', 'IN_PROGRESS'],
  ['ENFORCE', 'no-signature-yet', 'first', 'expired', 'FAILED'],
  ['ENFORCE', 'no-signature-yet', 'middle', 'running', 'IN_PROGRESS'],
  ['ENFORCE', 'no-signature-yet', 'middle', 'expired', 'FAILED'],
  ['ENFORCE', 'no-signature-yet', 'last', 'running', 'FAILED'],
  ['ENFORCE', 'no-signature-yet', 'last', 'expired', 'FAILED'],
  ['ENFORCE', 'inconclusive', 'first', 'running', 'FAILED'],
  ['ENFORCE', 'inconclusive', 'first', 'expired', 'FAILED'],
  ['ENFORCE', 'inconclusive', 'middle', 'running', 'FAILED'],
  ['ENFORCE', 'inconclusive', 'middle', 'expired', 'FAILED'],
  ['ENFORCE', 'inconclusive', 'last', 'running', 'FAILED'],
  ['ENFORCE', 'inconclusive', 'last', 'expired', 'FAILED'],
  ['ENFORCE', 'unfinished', 'first', 'running', 'IN_PROGRESS'],
  ['ENFORCE', 'unfinished', 'first', 'expired', 'IN_PROGRESS'],
  ['ENFORCE', 'unfinished', 'middle', 'running', 'IN_PROGRESS'],
  ['ENFORCE', 'unfinished', 'middle', 'expired', 'IN_PROGRESS'],
  ['ENFORCE', 'unfinished', 'last', 'running', 'FAILED'],
  ['ENFORCE', 'unfinished', 'last', 'expired', 'FAILED'],
  ['ENFORCE', 'malformed', 'first', 'running', 'FAILED'],
  ['ENFORCE', 'malformed', 'first', 'expired', 'FAILED'],
  ['ENFORCE', 'malformed', 'middle', 'running', 'FAILED'],
  ['ENFORCE', 'malformed', 'middle', 'expired', 'FAILED'],
  ['ENFORCE', 'malformed', 'last', 'running', 'FAILED'],
  ['ENFORCE', 'malformed', 'last', 'expired', 'FAILED'],
  ['ENFORCE', 'unpinned', 'first', 'running', 'FAILED'],
  ['ENFORCE', 'unpinned', 'first', 'expired', 'FAILED'],
  ['ENFORCE', 'unpinned', 'middle', 'running', 'FAILED'],
  ['ENFORCE', 'unpinned', 'middle', 'expired', 'FAILED'],
  ['ENFORCE', 'unpinned', 'last', 'running', 'FAILED'],
  ['ENFORCE', 'unpinned', 'last', 'expired', 'FAILED'],
  ['ENFORCE', 'exempt', 'first', 'running', 'SUCCEEDED'],
  ['ENFORCE', 'skipped', 'last', 'expired', 'SUCCEEDED'],
  // AUDIT never blocks; it takes more rounds only to finish verifying.
  ['AUDIT', 'verified', 'first', 'running', 'SUCCEEDED'],
  ['AUDIT', 'verified', 'first', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'verified', 'middle', 'running', 'SUCCEEDED'],
  ['AUDIT', 'verified', 'middle', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'verified', 'last', 'running', 'SUCCEEDED'],
  ['AUDIT', 'verified', 'last', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'rejected', 'first', 'running', 'SUCCEEDED'],
  ['AUDIT', 'rejected', 'first', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'rejected', 'middle', 'running', 'SUCCEEDED'],
  ['AUDIT', 'rejected', 'middle', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'rejected', 'last', 'running', 'SUCCEEDED'],
  ['AUDIT', 'rejected', 'last', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'no-signature-yet', 'first', 'running', 'SUCCEEDED'],
  ['AUDIT', 'no-signature-yet', 'first', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'no-signature-yet', 'middle', 'running', 'SUCCEEDED'],
  ['AUDIT', 'no-signature-yet', 'middle', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'no-signature-yet', 'last', 'running', 'SUCCEEDED'],
  ['AUDIT', 'no-signature-yet', 'last', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'inconclusive', 'first', 'running', 'SUCCEEDED'],
  ['AUDIT', 'inconclusive', 'first', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'inconclusive', 'middle', 'running', 'SUCCEEDED'],
  ['AUDIT', 'inconclusive', 'middle', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'inconclusive', 'last', 'running', 'SUCCEEDED'],
  ['AUDIT', 'inconclusive', 'last', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'unfinished', 'first', 'running', 'IN_PROGRESS'],
  ['AUDIT', 'unfinished', 'first', 'expired', 'IN_PROGRESS'],
  ['AUDIT', 'unfinished', 'middle', 'running', 'IN_PROGRESS'],
  ['AUDIT', 'unfinished', 'middle', 'expired', 'IN_PROGRESS'],
  ['AUDIT', 'unfinished', 'last', 'running', 'SUCCEEDED'],
  ['AUDIT', 'unfinished', 'last', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'malformed', 'first', 'running', 'SUCCEEDED'],
  ['AUDIT', 'malformed', 'first', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'malformed', 'middle', 'running', 'SUCCEEDED'],
  ['AUDIT', 'malformed', 'middle', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'malformed', 'last', 'running', 'SUCCEEDED'],
  ['AUDIT', 'malformed', 'last', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'unpinned', 'first', 'running', 'SUCCEEDED'],
  ['AUDIT', 'unpinned', 'first', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'unpinned', 'middle', 'running', 'SUCCEEDED'],
  ['AUDIT', 'unpinned', 'middle', 'expired', 'SUCCEEDED'],
  ['AUDIT', 'unpinned', 'last', 'running', 'SUCCEEDED'],
  ['AUDIT', 'unpinned', 'last', 'expired', 'SUCCEEDED'],
];

describe('decide(): inconclusiveAction REJECT', () => {
  test.each(TABLE)('%s, one image %s, %s round, wait %s → %s', (mode, state, round, wait, expected) => {
    const d = run(mode, state, round, wait);
    expect(d.response.hookStatus).toBe(expected);
    expect(d.final).toBe(expected !== 'IN_PROGRESS');
    expect(d.reasons.length).toBeGreaterThan(0);
    if (expected === 'IN_PROGRESS') {
      expect(d.response.callBackDelay).toBe(5);
      expect(d.next).toMatchObject({ v: PROGRESS_VERSION, revision: REVISION, deployment: DEPLOYMENT, round: ROUND[round] + 1 });
      expect(d.response.hookDetails?.[PROGRESS_KEY]).toEqual(d.next);
    } else {
      expect(d.response).toEqual({ hookStatus: expected });
      expect(d.next).toBeUndefined();
    }
  });
});

// prettier-ignore
const ADMIT_TABLE: Row[] = [
  ['ENFORCE', 'inconclusive', 'first', 'running', 'SUCCEEDED'],
  ['ENFORCE', 'inconclusive', 'last', 'expired', 'SUCCEEDED'],
  ['ENFORCE', 'malformed', 'middle', 'running', 'SUCCEEDED'],
  ['ENFORCE', 'malformed', 'last', 'expired', 'SUCCEEDED'],
  // An image nobody verified is never admitted by ADMIT (a forged round counter could otherwise end the rounds early).
  ['ENFORCE', 'unfinished', 'first', 'running', 'IN_PROGRESS'],
  ['ENFORCE', 'unfinished', 'last', 'running', 'FAILED'],
  ['ENFORCE', 'unfinished', 'last', 'expired', 'FAILED'],
  ['ENFORCE', 'rejected', 'first', 'running', 'FAILED'],
  ['ENFORCE', 'unpinned', 'first', 'running', 'FAILED'],
  ['ENFORCE', 'no-signature-yet', 'middle', 'running', 'IN_PROGRESS'],
  ['ENFORCE', 'no-signature-yet', 'middle', 'expired', 'FAILED'],
  ['AUDIT', 'unfinished', 'last', 'running', 'SUCCEEDED'],
];

describe('decide(): inconclusiveAction ADMIT', () => {
  test.each(ADMIT_TABLE)('%s, one image %s, %s round, wait %s → %s', (mode, state, round, wait, expected) => {
    expect(run(mode, state, round, wait, 'ADMIT').response.hookStatus).toBe(expected);
  });
});

describe('decide(): the details', () => {
  const fresh: HookProgress = { v: PROGRESS_VERSION, revision: REVISION, deployment: DEPLOYMENT, round: 0 };
  const base = { mode: 'ENFORCE' as const, inconclusiveAction: 'REJECT' as const, signatureWaitSeconds: 120, callBackDelaySeconds: 5, maxRounds: 10, now: NOW, malformed: [] };

  test('a signature wait starts now on the first round that finds no signature, and is carried over', () => {
    const d = decide({ ...base, progress: fresh, images: [{ image: 'a@sha256:1', state: 'no-signature-yet' }] });
    expect(d.next).toEqual({ ...fresh, round: 1, signatureWaitStartedAt: new Date(NOW).toISOString() });
    expect(d.wait).toMatchObject({ mayWait: true, waitedSeconds: 0, signatureWaitSeconds: 120 });
  });

  test('never waits past the budget: no IN_PROGRESS when the next call-back would come after it', () => {
    const progress = { ...fresh, round: 3, signatureWaitStartedAt: new Date(NOW - 116_000).toISOString() };
    const d = decide({ ...base, progress, images: [{ image: 'a@sha256:1', state: 'no-signature-yet' }] });
    expect(d.response).toEqual({ hookStatus: 'FAILED' });
    expect(d.reasons.join(' ')).toContain('no signature appeared: waited 116 s (signatureWaitSeconds 120)');
  });

  test('signature wait 0: FAILED at once', () => {
    const d = decide({ ...base, signatureWaitSeconds: 0, progress: fresh, images: [{ image: 'a@sha256:1', state: 'no-signature-yet' }] });
    expect(d.response).toEqual({ hookStatus: 'FAILED' });
    expect(d.reasons.join(' ')).toContain('signature wait disabled');
  });

  test('a definitive rejection is not held up by an image waiting for its signature', () => {
    const d = decide({ ...base, progress: fresh, images: [{ image: 'a@sha256:1', state: 'no-signature-yet' }, { image: 'b@sha256:2', state: 'rejected' }] });
    expect(d.response).toEqual({ hookStatus: 'FAILED' });
  });

  test('the revision unreadable is inconclusive; out of time reading it is unfinished', () => {
    expect(decide({ ...base, progress: fresh, revision: 'unreadable', images: [] }).response).toEqual({ hookStatus: 'FAILED' });
    expect(decide({ ...base, inconclusiveAction: 'ADMIT', progress: fresh, revision: 'unreadable', images: [] }).response).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(decide({ ...base, progress: fresh, revision: 'out-of-time', images: [] }).response.hookStatus).toBe('IN_PROGRESS');
    expect(decide({ ...base, inconclusiveAction: 'ADMIT', progress: { ...fresh, round: 10 }, revision: 'out-of-time', images: [] }).response).toEqual({ hookStatus: 'FAILED' });
    expect(decide({ ...base, mode: 'AUDIT', progress: fresh, revision: 'unreadable', images: [] }).response).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  test('IN_PROGRESS passes the other hookDetails entries back unchanged', () => {
    const d = decide({ ...base, progress: fresh, passThrough: { team: 'payments' }, images: [{ image: 'a@sha256:1', state: 'unfinished' }] });
    expect(d.response.hookDetails).toEqual({ team: 'payments', [PROGRESS_KEY]: { ...fresh, round: 1 } });
  });

  test('maxRoundsFor: explicit, else 20 or what the wait needs', () => {
    expect(maxRoundsFor(3, 120, 5, 20)).toBe(3);
    expect(maxRoundsFor(undefined, 120, 5, 20)).toBe(25);
    expect(maxRoundsFor(undefined, 30, 5, 20)).toBe(20);
    expect(maxRoundsFor(undefined, 0, 5, 20)).toBe(20);
  });
});

describe('readProgress(): only what this hook wrote for this revision and deployment counts', () => {
  const binding = { revision: REVISION, deployment: DEPLOYMENT };
  const fresh = { v: PROGRESS_VERSION, revision: REVISION, deployment: DEPLOYMENT, round: 0 };
  const good = { v: PROGRESS_VERSION, revision: REVISION, deployment: DEPLOYMENT, round: 4, signatureWaitStartedAt: new Date(NOW - 30_000).toISOString() };

  test('the hook\'s own progress is read back', () => {
    expect(readProgress({ team: 'x', [PROGRESS_KEY]: good }, binding, NOW, 10)).toEqual({ progress: good, passThrough: { team: 'x' } });
  });

  test('no hookDetails, or no progress key: a fresh progress, nothing ignored', () => {
    expect(readProgress(undefined, binding, NOW, 10)).toEqual({ progress: fresh, passThrough: {} });
    expect(readProgress(null, binding, NOW, 10)).toEqual({ progress: fresh, passThrough: {} });
    expect(readProgress({ team: 'x' }, binding, NOW, 10)).toEqual({ progress: fresh, passThrough: { team: 'x' } });
  });

  // prettier-ignore
  const IGNORED: Array<[string, unknown, RegExp]> = [
    ['the version-1 shape with "admitted"', { [PROGRESS_KEY]: { admitted: ['r/app@sha256:1'], round: 1 } }, /never honours/],
    ['"admitted" added to a valid progress', { [PROGRESS_KEY]: { ...good, admitted: ['r/app@sha256:1'] } }, /unknown fields \(admitted\)/],
    ['hookDetails as a JSON string', JSON.stringify({ [PROGRESS_KEY]: good }), /not a JSON object \(string\)/],
    ['progress as a JSON string', { [PROGRESS_KEY]: JSON.stringify(good) }, /progress is not a JSON object \(string\)/],
    ['hookDetails as an array', [{ [PROGRESS_KEY]: good }], /not a JSON object \(array\)/],
    ['hookDetails as a number', 7, /not a JSON object \(number\)/],
    ['progress null', { [PROGRESS_KEY]: null }, /\(null\)/],
    ['another revision', { [PROGRESS_KEY]: { ...good, revision: `${REVISION}0` } }, /another service revision/],
    ['no revision', { [PROGRESS_KEY]: { ...good, revision: undefined } }, /another service revision/],
    ['another deployment', { [PROGRESS_KEY]: { ...good, deployment: `${DEPLOYMENT}x` } }, /another deployment/],
    ['no deployment', { [PROGRESS_KEY]: { ...good, deployment: undefined } }, /another deployment/],
    ['a round as a string', { [PROGRESS_KEY]: { ...good, round: '3' } }, /round "3"/],
    ['a negative round', { [PROGRESS_KEY]: { ...good, round: -1 } }, /round -1/],
    ['a fractional round', { [PROGRESS_KEY]: { ...good, round: 1.5 } }, /round 1.5/],
    ['a wait start that is not a time', { [PROGRESS_KEY]: { ...good, signatureWaitStartedAt: 'yesterday' } }, /not a time/],
    ['a wait start as a number', { [PROGRESS_KEY]: { ...good, signatureWaitStartedAt: NOW } }, /not a time/],
    ['a wait start in the future', { [PROGRESS_KEY]: { ...good, signatureWaitStartedAt: new Date(NOW + 3_600_000).toISOString() } }, /in the future/],
    ['a case-variant key', { CdkSignedImages: good }, /"CdkSignedImages" is not the progress key/],
    ['an unknown version', { [PROGRESS_KEY]: { ...good, v: 3 } }, /version 3/],
  ];

  test.each(IGNORED)('ignored: %s', (_name, hookDetails, why) => {
    const r = readProgress(hookDetails, binding, NOW, 10);
    expect(r.progress).toEqual(fresh);
    expect(r.ignored).toMatch(why);
    expect(JSON.stringify(r.passThrough)).not.toMatch(/cdkSignedImages/i);
  });

  test('a huge round is clamped to the last round (stricter), a far-past wait start is kept (stricter)', () => {
    expect(readProgress({ [PROGRESS_KEY]: { ...good, round: 1e9 } }, binding, NOW, 10).progress.round).toBe(10);
    const past = new Date(NOW - 86_400_000).toISOString();
    expect(readProgress({ [PROGRESS_KEY]: { ...good, signatureWaitStartedAt: past } }, binding, NOW, 10).progress.signatureWaitStartedAt).toBe(past);
  });

  test('a wait start within the clock skew is read as now', () => {
    const r = readProgress({ [PROGRESS_KEY]: { ...good, signatureWaitStartedAt: new Date(NOW + 2000).toISOString() } }, binding, NOW, 10);
    expect(r.ignored).toBeUndefined();
    expect(r.progress.signatureWaitStartedAt).toBe(new Date(NOW).toISOString());
  });

  test('an event without a deployment binds to the revision alone', () => {
    const noDeployment = { v: PROGRESS_VERSION, revision: REVISION, round: 2 };
    expect(readProgress({ [PROGRESS_KEY]: noDeployment }, { revision: REVISION }, NOW, 10)).toEqual({ progress: noDeployment, passThrough: {} });
    expect(readProgress({ [PROGRESS_KEY]: good }, { revision: REVISION }, NOW, 10).ignored).toMatch(/another deployment/);
  });
});
