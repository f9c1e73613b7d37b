/**
 * The BUNDLED admission hook (assets/handlers/admission-hook/index.js) against a real loopback
 * docker-registry, with ECS DescribeServiceRevisions answered by a local fake in the real wire shape.
 */
import { context, handlerSuite, hookEvent, REVISION_ARN, SIGNER_JOB, SIGNER_PROFILE_VERSION } from './harness';
import { startBlackHole } from '../support/aws-fake';
import { makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { signJws } from '../support/sign';

const s = handlerSuite('admission-hook');

function revision(...images: Array<{ image?: string; imageDigest?: string; containerName?: string }>): void {
  s.h.aws.revisions.set(REVISION_ARN, images.map((i, n) => ({ containerName: `c${n}`, ...i })));
}

/** `host/repo@digest` → ECS's shape: image as written in the task definition (tag) + the pinned digest. */
function pinned(ref: string): { image: string; imageDigest: string } {
  const [name, digest] = ref.split('@');
  return { image: `${name}:latest`, imageDigest: digest };
}

describe('ENFORCE', () => {
  test('a signed image is admitted; one verdict record and an EMF line', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    revision(pinned(s.h.signed));
    const res = await s.handler(hookEvent(), context());
    expect(res).toEqual({ hookStatus: 'SUCCEEDED' });

    const call = s.h.aws.calls.find((c) => c.operation === 'DescribeServiceRevisions');
    expect(call?.input).toEqual({ serviceRevisionArns: [REVISION_ARN] });

    const verdicts = s.out.verdicts();
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]).toMatchObject({
      image: s.h.signed,
      digest: s.h.signedDigest,
      status: 'verified',
      outcome: 'verified',
      policyStatement: 'test-ca',
      container: 'c0',
      handler: 'admission-hook',
    });
    expect(verdicts[0].signer).toContain('CN=Test Leaf');
    expect(verdicts[0].signatureDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(typeof verdicts[0].durationMs).toBe('number');

    const emf = s.out.emf();
    expect(emf).toHaveLength(1);
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'SignedImagesTest', Dimensions: [['FunctionName']] });
    expect(emf[0]._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name)).toEqual(
      expect.arrayContaining(['Verified', 'Rejected', 'Exempt', 'Inconclusive', 'VerifyDuration']));
    expect(emf[0]).toMatchObject({ FunctionName: 'test-verifier', Verified: 1, Rejected: 0, Exempt: 0, Inconclusive: 0 });
  });

  test('an unsigned image is refused: FAILED, rejected verdict naming the reason (no signature wait)', async () => {
    s.h.configure({ mode: 'ENFORCE', signatureWaitSeconds: 0 });
    revision(pinned(s.h.signed), pinned(s.h.unsigned));
    const res = await s.handler(hookEvent(), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
    const rejected = s.out.verdicts().find((v) => v.image === s.h.unsigned);
    expect(rejected).toMatchObject({ outcome: 'rejected', status: 'failed', failingCheck: 'NO_SIGNATURE', level: 'WARN' });
    expect(rejected.reasons.join(' ')).toContain('no signature is associated with');
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1 });
    expect(s.out.lines.find((l) => String(l.message).startsWith('admission decision'))).toMatchObject({ hookStatus: 'FAILED', rejected: [s.h.unsigned] });
  });

  test('registry unreachable → inconclusive → FAILED (fail closed by default)', async () => {
    s.h.configure({ mode: 'ENFORCE', plainHttpRegistries: [s.h.registry.host, '127.0.0.1:9'], registryTimeoutMs: 2000 });
    revision({ image: '127.0.0.1:9/app/gone:1', imageDigest: s.h.signedDigest });
    const res = await s.handler(hookEvent(), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.verdicts().find((v) => v.image.startsWith('127.0.0.1:9/'))).toMatchObject({ outcome: 'inconclusive', status: 'inconclusive' });
    expect(s.out.emf()[0]).toMatchObject({ Inconclusive: 1, Rejected: 0 });
  });

  test('inconclusiveAction ADMIT lets an inconclusive image through', async () => {
    s.h.configure({ mode: 'ENFORCE', inconclusiveAction: 'ADMIT', plainHttpRegistries: [s.h.registry.host, '127.0.0.1:9'] });
    revision({ image: '127.0.0.1:9/app/gone:1', imageDigest: s.h.signedDigest });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.emf()[0]).toMatchObject({ Inconclusive: 1 });
  });

  test('a malformed event is logged and FAILED', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    for (const event of [null, 'x', [], {}, { executionDetails: { targetServiceRevisionArn: 'not-an-arn' } }, { executionDetails: 'x' }]) {
      expect(await s.handler(event, context())).toEqual({ hookStatus: 'FAILED' });
    }
    expect(s.out.lines.filter((l) => l.message === 'malformed lifecycle hook event')).toHaveLength(6);
    expect(s.h.aws.calls).toHaveLength(0);
  });

  test('the older flat event shape is accepted', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    revision(pinned(s.h.signed));
    const flat = { executionId: 'x', lifecycleStage: 'PRE_SCALE_UP', targetServiceRevisionArn: REVISION_ARN };
    expect(await s.handler(flat, context())).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  test('a missing imageDigest is resolved through the registry, with a warning', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    revision({ image: s.h.taggedImage });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.lines.some((l) => l.level === 'WARN' && /imageDigest is missing/.test(l.message))).toBe(true);
    expect(s.out.verdicts().find((v) => v.image === s.h.taggedImage)).toMatchObject({ digest: s.h.taggedDigest, outcome: 'verified', requestId: 'req-1' });
  });

  test('DescribeServiceRevisions failure is inconclusive: FAILED in ENFORCE, SUCCEEDED with ADMIT', async () => {
    s.h.aws.describeError = { type: 'AccessDeniedException', status: 400, message: 'not authorized' };
    s.h.configure({ mode: 'ENFORCE' });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.lines.find((l) => /cannot read the service revision/.test(l.message))?.error).toContain('not authorized');
    s.h.configure({ mode: 'ENFORCE', inconclusiveAction: 'ADMIT' });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  test('an unknown service revision (failures[]) is inconclusive', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.lines.find((l) => /cannot read the service revision/.test(l.message))?.error).toContain('MISSING');
  });

  test('exempt images are admitted without verification, logged and counted', async () => {
    s.h.configure({ mode: 'ENFORCE', exemptions: ['**/app/unsigned'] });
    revision(pinned(s.h.unsigned));
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.verdicts().find((v) => v.image === s.h.unsigned)).toMatchObject({ outcome: 'exempt', exemption: '**/app/unsigned' });
    expect(s.out.emf()[0]).toMatchObject({ Exempt: 1, Verified: 0, Rejected: 0 });
  });

  test('a configuration error fails closed', async () => {
    s.h.configure({ version: 99 });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.lines.find((l) => l.message === 'configuration error')?.error).toContain('version');
  });
});

describe('AWS Signer signatures', () => {
  afterEach(() => {
    s.h.aws.revoked = [];
  });

  test('revocation is checked with GetRevocationStatus at AWS_ENDPOINT_URL_SIGNER; a good signature is admitted', async () => {
    s.h.configure({ mode: 'ENFORCE', cacheTtlMs: 0 });
    revision(pinned(s.h.signerSigned));
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    const call = s.h.aws.calls.find((c) => c.operation === 'GetRevocationStatus');
    expect(call?.input).toMatchObject({ platformId: 'Notation-OCI-SHA384-ECDSA', profileVersionArn: SIGNER_PROFILE_VERSION, jobArn: SIGNER_JOB });
    expect(call?.input.certificateHashes.length).toBeGreaterThan(0);
    expect(s.out.verdicts().find((v) => v.image === s.h.signerSigned)).toMatchObject({ outcome: 'verified', signer: SIGNER_PROFILE_VERSION, policyStatement: 'aws-signer' });
  });

  test('a revoked signing job is refused', async () => {
    s.h.aws.revoked = [SIGNER_JOB];
    s.h.configure({ mode: 'ENFORCE', cacheTtlMs: 0 });
    revision(pinned(s.h.signerSigned));
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.verdicts().find((v) => v.image === s.h.signerSigned)).toMatchObject({ outcome: 'rejected', failingCheck: 'revocation' });
  });
});

describe('AUDIT', () => {
  test('an unsigned image is admitted but reported', async () => {
    s.h.configure({ mode: 'AUDIT' });
    revision(pinned(s.h.unsigned));
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.verdicts().find((v) => v.image === s.h.unsigned)).toMatchObject({ outcome: 'rejected', mode: 'AUDIT' });
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1 });
  });

  test('inconclusive and malformed events are admitted', async () => {
    s.h.configure({ mode: 'AUDIT', plainHttpRegistries: [s.h.registry.host, '127.0.0.1:9'] });
    revision({ image: '127.0.0.1:9/app/gone:1', imageDigest: s.h.signedDigest });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(await s.handler({ nope: true }, context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.lines.some((l) => l.message === 'malformed lifecycle hook event')).toBe(true);
  });
});

describe('deadline', () => {
  test('answers IN_PROGRESS with progress in hookDetails when the budget runs out, then finishes', async () => {
    const hole = await startBlackHole();
    try {
      s.h.configure({
        mode: 'ENFORCE',
        plainHttpRegistries: [s.h.registry.host, hole.host],
        registryTimeoutMs: 30_000,
        deadlineMarginMs: 1000,
        callBackDelaySeconds: 7,
        concurrency: 2,
      });
      const slow = `${hole.host}/app/slow@${s.h.unsignedDigest}`;
      revision(pinned(s.h.signed), { image: slow.split('@')[0] + ':1', imageDigest: s.h.unsignedDigest });
      // 1 s margin of a 4 s remaining time leaves a 3 s budget: the signed image finishes, the hung registry does not.
      const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: { team: 'payments' } }), context(4000));
      expect(res.hookStatus).toBe('IN_PROGRESS');
      expect(res.callBackDelay).toBe(7);
      expect(res.hookDetails).toEqual({ team: 'payments', cdkSignedImages: { admitted: [s.h.signed], round: 1 } });

      // Next round: ECS passes the hookDetails back; the signed image is not verified again.
      revision(pinned(s.h.signed));
      s.out.lines.length = 0;
      const res2 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: res.hookDetails }), context());
      expect(res2).toEqual({ hookStatus: 'SUCCEEDED' });
      expect(s.out.verdicts()).toHaveLength(0);
      expect(s.out.lines.some((l) => l.message === 'image admitted in an earlier round')).toBe(true);

      // After the last allowed round, what is still pending counts as inconclusive (fail closed).
      revision(pinned(s.h.signed), { image: slow.split('@')[0] + ':1', imageDigest: s.h.unsignedDigest });
      s.h.configure({
        mode: 'ENFORCE',
        plainHttpRegistries: [s.h.registry.host, hole.host],
        registryTimeoutMs: 30_000,
        deadlineMarginMs: 1000,
        maxInProgressRounds: 3,
      });
      const res3 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: { cdkSignedImages: { admitted: [], round: 3 } } }), context(3000));
      expect(res3).toEqual({ hookStatus: 'FAILED' });
    } finally {
      await hole.stop();
      // The verifications left running on the hung registry end now; wait for their records so they
      // do not leak into other tests.
      for (let i = 0; i < 200 && s.out.verdicts().filter((v) => v.image.startsWith(hole.host)).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
});

describe('waiting for an asynchronous signature (signatureWaitSeconds)', () => {
  // A CA of its own, so that each test can push a fresh image and sign it later (like ECR managed
  // signing does a few seconds after the push).
  const late = makeChain({ keySlot: 'handler-late-signing' });
  const stranger = makeChain({ keySlot: 'handler-untrusted' });

  function configureWait(overrides: Record<string, unknown> = {}): void {
    s.h.configure({
      mode: 'ENFORCE',
      trustPolicy: {
        version: '1.0',
        trustPolicies: [{ name: 'late', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test', 'ca:late'], trustedIdentities: ['*'] }],
      },
      trustStores: { 'ca:test': s.h.rootPem, 'ca:late': late.rootPem },
      signatureWaitSeconds: 60,
      callBackDelaySeconds: 4,
      ...overrides,
    });
  }

  async function freshImage(repo: string): Promise<{ ref: string; desc: any }> {
    const desc = await pushImage(s.h.registry.url, repo, { tag: `t${Date.now()}` });
    return { ref: `${s.h.registry.host}/${repo}@${desc.digest}`, desc };
  }

  async function sign(repo: string, desc: any, chain = late): Promise<void> {
    await pushSignature(s.h.registry.url, repo, desc, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: desc }), 'application/jose+json');
  }

  test('an image without a signature yet: IN_PROGRESS with the wait start, then SUCCEEDED once it is signed', async () => {
    configureWait();
    const { ref, desc } = await freshImage('app/pushed-now');
    revision(pinned(s.h.signed), pinned(ref));
    const before = Date.now();
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: { team: 'payments' } }), context());
    expect(res.hookStatus).toBe('IN_PROGRESS');
    expect(res.callBackDelay).toBe(4);
    const progress = res.hookDetails.cdkSignedImages;
    expect(res.hookDetails.team).toBe('payments');
    expect(progress).toMatchObject({ admitted: [s.h.signed], round: 1 });
    const started = Date.parse(progress.signatureWaitStartedAt);
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    expect(started).toBeLessThanOrEqual(Date.now());
    const waiting = s.out.lines.find((l) => l.message === 'waiting for signature');
    expect(waiting).toMatchObject({ unsigned: [ref], signatureWaitSeconds: 60, callBackDelay: 4, signatureWaitStartedAt: progress.signatureWaitStartedAt });
    expect(s.out.verdicts().find((v) => v.image === ref)).toMatchObject({ errorCode: 'NO_SIGNATURE' });
    // Not a final rejection: the Rejected metric (and its alarm) stays at zero.
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 0, Verified: 1 });

    // Still unsigned on the next round: keeps waiting, the start is carried over unchanged.
    s.out.lines.length = 0;
    const res2 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: res.hookDetails }), context());
    expect(res2.hookStatus).toBe('IN_PROGRESS');
    expect(res2.hookDetails.cdkSignedImages).toEqual({ admitted: [s.h.signed], round: 2, signatureWaitStartedAt: progress.signatureWaitStartedAt });

    // ECR managed signing finishes; ECS passes the hookDetails back: only the pending image is verified.
    await sign('app/pushed-now', desc);
    s.out.lines.length = 0;
    const res3 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: res2.hookDetails }), context());
    expect(res3).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.verdicts().map((v) => v.image)).toEqual([ref]);
    expect(s.out.verdicts()[0]).toMatchObject({ outcome: 'verified', policyStatement: 'late' });
    expect(s.out.verdicts()[0].cached).toBeUndefined(); // the earlier "no signature" verdicts were not cached
  });

  test('the wait budget used up: FAILED, with a log line saying how long it waited', async () => {
    configureWait({ signatureWaitSeconds: 30 });
    const { ref } = await freshImage('app/never-signed');
    revision(pinned(ref));
    const startedAt = new Date(Date.now() - 31_000).toISOString();
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: { cdkSignedImages: { admitted: [], round: 6, signatureWaitStartedAt: startedAt } } }), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
    const gaveUp = s.out.lines.find((l) => /^no signature appeared: waited \d+ s/.test(String(l.message)));
    expect(gaveUp).toMatchObject({ level: 'WARN', unsigned: [ref], signatureWaitStartedAt: startedAt, signatureWaitSeconds: 30 });
    expect(gaveUp.waitedSeconds).toBeGreaterThanOrEqual(31);
    expect(gaveUp.message).toContain(`waited ${gaveUp.waitedSeconds} s`);
    expect(s.out.lines.some((l) => l.message === 'waiting for signature')).toBe(false);
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1 });
  });

  test('never waits past the budget: no IN_PROGRESS when the next call-back would come after it', async () => {
    configureWait({ signatureWaitSeconds: 30, callBackDelaySeconds: 10 });
    const { ref } = await freshImage('app/almost-late');
    revision(pinned(ref));
    const startedAt = new Date(Date.now() - 25_000).toISOString();
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: { cdkSignedImages: { admitted: [], round: 3, signatureWaitStartedAt: startedAt } } }), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
  });

  test('the maxInProgressRounds guard ends the wait', async () => {
    configureWait({ maxInProgressRounds: 2 });
    const { ref } = await freshImage('app/rounds');
    revision(pinned(ref));
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: { cdkSignedImages: { admitted: [], round: 2, signatureWaitStartedAt: new Date().toISOString() } } }), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.lines.find((l) => /IN_PROGRESS rounds exhausted \(2\)/.test(String(l.message)))).toBeDefined();
  });

  test('an untrusted signature fails at once even while waiting is enabled, and is not held up by an unsigned image', async () => {
    configureWait();
    const bad = await freshImage('app/untrusted');
    await sign('app/untrusted', bad.desc, stranger);
    const unsigned = await freshImage('app/unsigned-too');
    revision(pinned(unsigned.ref), pinned(bad.ref));
    const res = await s.handler(hookEvent(), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
    const rejected = s.out.verdicts().find((v) => v.image === bad.ref);
    expect(rejected).toMatchObject({ outcome: 'rejected', status: 'failed' });
    expect(rejected.errorCode).not.toBe('NO_SIGNATURE');
    expect(s.out.lines.some((l) => l.message === 'waiting for signature')).toBe(false);
  });

  test('a revoked AWS Signer job fails at once even while waiting is enabled', async () => {
    s.h.aws.revoked = [SIGNER_JOB];
    try {
      s.h.configure({ mode: 'ENFORCE', cacheTtlMs: 0, signatureWaitSeconds: 60 });
      revision(pinned(s.h.signerSigned));
      expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
      expect(s.out.lines.some((l) => l.message === 'waiting for signature')).toBe(false);
    } finally {
      s.h.aws.revoked = [];
    }
  });

  test('AUDIT does not wait: SUCCEEDED at once', async () => {
    configureWait({ mode: 'AUDIT' });
    const { ref } = await freshImage('app/audit-unsigned');
    revision(pinned(ref));
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.lines.some((l) => l.message === 'waiting for signature')).toBe(false);
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1 });
  });

  test('signatureWaitSeconds 0: FAILED at once (the behaviour without waiting)', async () => {
    configureWait({ signatureWaitSeconds: 0 });
    const { ref } = await freshImage('app/no-wait');
    revision(pinned(ref));
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.lines.some((l) => l.message === 'waiting for signature')).toBe(false);
  });

  test('the default waits (120 s): IN_PROGRESS without signatureWaitSeconds in the config', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    revision(pinned(s.h.unsigned));
    const res = await s.handler(hookEvent(), context());
    expect(res.hookStatus).toBe('IN_PROGRESS');
    expect(res.callBackDelay).toBe(5);
    expect(s.out.lines.find((l) => l.message === 'waiting for signature')).toMatchObject({ signatureWaitSeconds: 120 });
  });

  test('an invalid signatureWaitSeconds is a configuration error (fail closed)', async () => {
    s.h.configure({ mode: 'ENFORCE', signatureWaitSeconds: -1 });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.lines.find((l) => l.message === 'configuration error')?.error).toContain('signatureWaitSeconds');
  });
});
