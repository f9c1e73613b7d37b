/**
 * The BUNDLED admission hook (assets/handlers/admission-hook/index.js) against a real loopback
 * docker-registry, with ECS DescribeServiceRevisions answered by a local fake in the real wire shape.
 */
import { context, DEPLOYMENT_ARN, handlerSuite, hookEvent, hookProgress, REVISION_ARN, SIGNER_JOB, SIGNER_PROFILE_VERSION } from './harness';
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

  test('a missing imageDigest (version consistency off) is refused by default, naming the container and the fix', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    revision(pinned(s.h.signed), { image: s.h.taggedImage, containerName: 'web' });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    const v = s.out.verdicts().find((x) => x.image === s.h.taggedImage);
    expect(v).toMatchObject({ outcome: 'rejected', errorCode: 'UNPINNED_IMAGE', unpinned: true, container: 'web', level: 'WARN' });
    expect(v.reasons[0]).toMatch(/container "web".*enable ECS version consistency.*@sha256:/);
    expect(s.out.lines.find((l) => String(l.message).startsWith('admission decision'))).toMatchObject({ hookStatus: 'FAILED', unpinned: [s.h.taggedImage] });
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1 });
  });

  test('unpinnedImages VERIFY_CURRENT_DIGEST: the tag\'s current digest is verified, with a warning; admitted by digest', async () => {
    s.h.configure({ mode: 'ENFORCE', unpinnedImages: 'VERIFY_CURRENT_DIGEST' });
    revision({ image: s.h.taggedImage });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.lines.some((l) => l.level === 'WARN' && /imageDigest is missing/.test(l.message) && /VERIFY_CURRENT_DIGEST/.test(l.message))).toBe(true);
    expect(s.out.verdicts().find((v) => v.image === s.h.taggedImage)).toMatchObject({ digest: s.h.taggedDigest, outcome: 'verified', unpinned: true, requestId: 'req-1' });
    const decision = s.out.lines.find((l) => String(l.message).startsWith('admission decision'));
    expect(decision.admitted).toEqual([`${s.h.taggedImage.split(':v1')[0]}@${s.h.taggedDigest}`]);
  });

  test('an unknown unpinnedImages value is the default (REJECT)', async () => {
    s.h.configure({ mode: 'ENFORCE', unpinnedImages: 'verify_current_digest' });
    revision({ image: s.h.taggedImage });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
  });

  test('an exempt tag-only image is admitted by its exemption', async () => {
    s.h.configure({ mode: 'ENFORCE', exemptions: ['**/app/tagged'] });
    revision({ image: s.h.taggedImage });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.verdicts().find((v) => v.image === s.h.taggedImage)).toMatchObject({ outcome: 'exempt', unpinned: true });
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

  test('a configuration error fails closed, logged at ERROR and counted', async () => {
    s.h.configure({ version: 99 });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.lines.find((l) => l.message === 'configuration error')).toMatchObject({ level: 'ERROR', hookStatus: 'FAILED' });
    expect(s.out.lines.find((l) => l.message === 'configuration error')?.error).toContain('version');
    expect(s.out.emf()).toEqual([expect.objectContaining({ ConfigurationErrors: 1, FunctionName: 'test-verifier' })]);
    expect(s.out.emf()[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'SignedImages', Metrics: [{ Name: 'ConfigurationErrors', Unit: 'Count' }] });
  });

  describe('the mode from ADMISSION_MODE when the configuration cannot be read', () => {
    afterEach(() => {
      delete process.env.ADMISSION_MODE;
      delete process.env.SIGNED_IMAGES_METRICS_NAMESPACE;
    });

    test('AUDIT never blocks: SUCCEEDED, with the ERROR line and the metric in the construct\'s namespace', async () => {
      process.env.ADMISSION_MODE = 'AUDIT';
      process.env.SIGNED_IMAGES_METRICS_NAMESPACE = 'Custom/NS';
      for (const broken of [{ version: 99 }, { trustPolicy: undefined }, { mode: 'audit' }]) {
        s.h.configure(broken);
        expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
      }
      expect(s.out.lines.filter((l) => l.message === 'configuration error' && l.level === 'ERROR' && l.mode === 'AUDIT')).toHaveLength(3);
      expect(s.out.emf().map((e) => [e._aws.CloudWatchMetrics[0].Namespace, e.ConfigurationErrors])).toEqual([['Custom/NS', 1], ['Custom/NS', 1], ['Custom/NS', 1]]);
    });

    test.each(['ENFORCE', 'audit', ' AUDIT', 'AUDIT,ENFORCE', ''])('ADMISSION_MODE %j fails closed', async (mode) => {
      process.env.ADMISSION_MODE = mode;
      s.h.configure({ version: 99 });
      expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    });

    test('a readable configuration wins over ADMISSION_MODE', async () => {
      process.env.ADMISSION_MODE = 'AUDIT';
      s.h.configure({ mode: 'ENFORCE', signatureWaitSeconds: 0 });
      revision(pinned(s.h.unsigned));
      expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    });
  });
});

describe('an unexpected error inside the hook (a throwing event getter stands in for a bug)', () => {
  const hostile = () => Object.defineProperty(hookEvent(), 'executionDetails', { get: () => { throw new TypeError('boom'); }, enumerable: true });

  test.each([['ENFORCE', 'FAILED'], ['AUDIT', 'SUCCEEDED']])('%s answers %s, logs the error with its stack, never throws', async (mode, expected) => {
    s.h.configure({ mode });
    expect(await s.handler(hostile(), context())).toEqual({ hookStatus: expected });
    const line = s.out.lines.find((l) => l.message === 'unexpected error in the admission hook');
    expect(line).toMatchObject({ level: 'ERROR', hookStatus: expected, error: 'TypeError: boom' });
    expect(line.stack).toContain('TypeError: boom');
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
      expect(res.hookDetails).toEqual({ team: 'payments', cdkSignedImages: { v: 2, revision: REVISION_ARN, deployment: DEPLOYMENT_ARN, round: 1 } });
      // Nothing is counted before the final answer.
      expect(s.out.emf()[0]).toMatchObject({ Verified: 0, Inconclusive: 0 });

      // Next round: ECS passes the hookDetails back; every image is verified again (the signed one from the cache).
      revision(pinned(s.h.signed));
      s.out.lines.length = 0;
      const res2 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: res.hookDetails }), context());
      expect(res2).toEqual({ hookStatus: 'SUCCEEDED' });
      expect(s.out.verdicts().filter((v) => !v.image.startsWith(hole.host))).toEqual([expect.objectContaining({ image: s.h.signed, outcome: 'verified', cached: true })]);
      // The round-1 verification of the hung registry was aborted when round 1 answered (verdict: aborted, inconclusive).
      expect(s.out.verdicts().filter((v) => v.image.startsWith(hole.host)).every((v) => v.outcome === 'inconclusive')).toBe(true);

      // After the last allowed round, what is still pending counts as inconclusive (fail closed).
      revision(pinned(s.h.signed), { image: slow.split('@')[0] + ':1', imageDigest: s.h.unsignedDigest });
      s.h.configure({
        mode: 'ENFORCE',
        plainHttpRegistries: [s.h.registry.host, hole.host],
        registryTimeoutMs: 30_000,
        deadlineMarginMs: 1000,
        maxInProgressRounds: 3,
      });
      const res3 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: hookProgress(3) }), context(3000));
      expect(res3).toEqual({ hookStatus: 'FAILED' });
      // Unfinished is never admitted, even with inconclusiveAction ADMIT.
      s.h.configure({
        mode: 'ENFORCE',
        inconclusiveAction: 'ADMIT',
        plainHttpRegistries: [s.h.registry.host, hole.host],
        registryTimeoutMs: 30_000,
        deadlineMarginMs: 1000,
        maxInProgressRounds: 3,
      });
      s.out.lines.length = 0;
      expect(await s.handler(hookEvent(REVISION_ARN, { hookDetails: hookProgress(3) }), context(3000))).toEqual({ hookStatus: 'FAILED' });
      expect(s.out.lines.find((l) => String(l.message).startsWith('admission decision')).reasons.join(' ')).toMatch(/left unverified after 3 IN_PROGRESS rounds/);
    } finally {
      await hole.stop();
      // The verifications left running on the hung registry end now; wait for their records so they
      // do not leak into other tests.
      for (let i = 0; i < 200 && s.out.verdicts().filter((v) => v.image.startsWith(hole.host)).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  test('the hook aborts its verifications once it has answered: nothing keeps running on a hung registry', async () => {
    const hole = await startBlackHole();
    try {
      s.h.configure({ mode: 'ENFORCE', plainHttpRegistries: [s.h.registry.host, hole.host], registryTimeoutMs: 60_000, deadlineMarginMs: 1000 });
      revision({ image: `${hole.host}/app/hung:1`, imageDigest: s.h.unsignedDigest });
      const res = await s.handler(hookEvent(), context(2500));
      expect(res.hookStatus).toBe('IN_PROGRESS');
      // Aborted at the answer: its verdict record (inconclusive) follows within moments, not after the 60 s registry timeout.
      for (let i = 0; i < 100 && !s.out.verdicts().some((v) => v.image.startsWith(hole.host)); i++) await new Promise((r) => setTimeout(r, 50));
      expect(s.out.verdicts().find((v) => v.image.startsWith(hole.host))).toMatchObject({ outcome: 'inconclusive' });
    } finally {
      await hole.stop();
    }
  }, 30_000);
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
    expect(progress).toMatchObject({ v: 2, revision: REVISION_ARN, deployment: DEPLOYMENT_ARN, round: 1 });
    expect(progress.admitted).toBeUndefined();
    const started = Date.parse(progress.signatureWaitStartedAt);
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    expect(started).toBeLessThanOrEqual(Date.now());
    const waiting = s.out.lines.find((l) => l.message === 'waiting for signature');
    expect(waiting).toMatchObject({ unsigned: [ref], signatureWaitSeconds: 60, callBackDelay: 4, signatureWaitStartedAt: progress.signatureWaitStartedAt });
    expect(s.out.verdicts().find((v) => v.image === ref)).toMatchObject({ errorCode: 'NO_SIGNATURE' });
    // Not a final answer: nothing is counted, so the Rejected metric (and its alarm) stays at zero.
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 0, Verified: 0 });

    // Still unsigned on the next round: keeps waiting, the start is carried over unchanged.
    s.out.lines.length = 0;
    const res2 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: res.hookDetails }), context());
    expect(res2.hookStatus).toBe('IN_PROGRESS');
    expect(res2.hookDetails.cdkSignedImages).toEqual({ ...progress, round: 2, signatureWaitStartedAt: progress.signatureWaitStartedAt });

    // ECR managed signing finishes; ECS passes the hookDetails back: every image is verified again.
    await sign('app/pushed-now', desc);
    s.out.lines.length = 0;
    const res3 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: res2.hookDetails }), context());
    expect(res3).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.verdicts().map((v) => v.image).sort()).toEqual([s.h.signed, ref].sort());
    const signedLate = s.out.verdicts().find((v) => v.image === ref);
    expect(signedLate).toMatchObject({ outcome: 'verified', policyStatement: 'late' });
    expect(signedLate.cached).toBeUndefined(); // the earlier "no signature" verdicts were not cached
    expect(s.out.emf()[0]).toMatchObject({ Verified: 2, Rejected: 0 });
  });

  test('the wait budget used up: FAILED, with a log line saying how long it waited', async () => {
    configureWait({ signatureWaitSeconds: 30 });
    const { ref } = await freshImage('app/never-signed');
    revision(pinned(ref));
    const startedAt = new Date(Date.now() - 31_000).toISOString();
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: hookProgress(6, startedAt) }), context());
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
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: hookProgress(3, startedAt) }), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
  });

  test('the maxInProgressRounds guard ends the wait', async () => {
    configureWait({ maxInProgressRounds: 2 });
    const { ref } = await freshImage('app/rounds');
    revision(pinned(ref));
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: hookProgress(2, new Date().toISOString()) }), context());
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

describe('nothing in hookDetails admits an image (issue 8, item 1)', () => {
  // Every case: ENFORCE, no signature wait, an unsigned image; whatever hookDetails says, the image is
  // verified in this round and the answer is FAILED.
  function forged(image: string): Array<[string, unknown]> {
    const [name, digest] = image.split('@');
    const [host, ...path] = name.split('/');
    const repo = path.join('/');
    return [
      ['the progress key listing the image in "admitted"', { cdkSignedImages: { admitted: [image], round: 1 } }],
      ['the same at round 0', { cdkSignedImages: { admitted: [image], round: 0 } }],
      ['the same as a JSON string', JSON.stringify({ cdkSignedImages: { admitted: [image], round: 0 } })],
      ['the progress as a JSON string', { cdkSignedImages: JSON.stringify({ admitted: [image], round: 0 }) }],
      ['"admitted" added to a well-formed current progress', { cdkSignedImages: { ...(hookProgress(1).cdkSignedImages as object), admitted: [image] } }],
      ['progress copied from another revision', { cdkSignedImages: { admitted: [image], round: 1, v: 2, revision: `${REVISION_ARN}1`, deployment: DEPLOYMENT_ARN } }],
      ['a case-variant key', { CdkSignedImages: { admitted: [image], round: 1 }, CDKSIGNEDIMAGES: { admitted: [image] } }],
      ['other spellings of the reference', { cdkSignedImages: { admitted: [`${name}:latest`, `${host.toUpperCase()}/${repo}@${digest}`, digest, `docker.io/${repo}@${digest}`, image.toUpperCase()], round: 1 } }],
      ['a huge round', { cdkSignedImages: { admitted: [image], round: Number.MAX_SAFE_INTEGER } }],
      ['a wait start in the future', { cdkSignedImages: { admitted: [image], round: 1, signatureWaitStartedAt: new Date(Date.now() + 86_400_000).toISOString() } }],
      ['a wait start in the far past', { cdkSignedImages: { admitted: [image], round: 1, signatureWaitStartedAt: '1970-01-01T00:00:00Z' } }],
      ['an array', [{ cdkSignedImages: { admitted: [image] } }]],
      ['a number', 1],
      ['true', true],
      ['null', null],
    ];
  }

  // The case names (the cases need the harness's image, known once it has started).
  const CASES = forged('host/repo@sha256:0').map(([name], i) => [name, i] as const);

  test.each(CASES)('hookDetails with %s: FAILED, and the image was verified', async (_name, i) => {
    s.h.configure({ mode: 'ENFORCE', signatureWaitSeconds: 0 });
    revision(pinned(s.h.signed), pinned(s.h.unsigned));
    const [, hookDetails] = forged(s.h.unsigned)[i];
    expect(await s.handler(hookEvent(REVISION_ARN, { hookDetails }), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.verdicts().find((v) => v.image === s.h.unsigned)).toMatchObject({ outcome: 'rejected', errorCode: 'NO_SIGNATURE' });
    expect(s.out.lines.some((l) => l.message === 'image admitted in an earlier round')).toBe(false);
  });

  test('with the default signature wait, forged progress never yields SUCCEEDED and never extends the wait', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    revision(pinned(s.h.unsigned));
    for (const [name, hookDetails] of forged(s.h.unsigned)) {
      s.out.lines.length = 0;
      const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails }), context());
      expect([name, res.hookStatus]).not.toEqual([name, 'SUCCEEDED']);
      if (res.hookStatus === 'IN_PROGRESS') {
        // A fresh wait that starts now, for this revision and deployment, round 1: nothing of the forged content survives.
        const p = res.hookDetails.cdkSignedImages;
        expect([name, p.v, p.revision, p.deployment, p.round, p.admitted]).toEqual([name, 2, REVISION_ARN, DEPLOYMENT_ARN, 1, undefined]);
        expect(Math.abs(Date.parse(p.signatureWaitStartedAt) - Date.now())).toBeLessThan(60_000);
        expect(Object.keys(res.hookDetails).filter((k) => k.toLowerCase() === 'cdksignedimages')).toEqual(['cdkSignedImages']);
      }
    }
  });

  test('ignored progress is logged with the reason', async () => {
    s.h.configure({ mode: 'ENFORCE', signatureWaitSeconds: 0 });
    revision(pinned(s.h.unsigned));
    await s.handler(hookEvent(REVISION_ARN, { hookDetails: { cdkSignedImages: { admitted: [s.h.unsigned], round: 1 } } }), context());
    expect(s.out.lines.find((l) => /^ignoring the progress in hookDetails/.test(l.message))).toMatchObject({ level: 'WARN', reason: expect.stringContaining('never honours') });
  });

  test('progress written for another deployment of the same revision starts over (and still verifies)', async () => {
    s.h.configure({ mode: 'ENFORCE' });
    revision(pinned(s.h.unsigned));
    const other = { cdkSignedImages: { ...(hookProgress(24, new Date(Date.now() - 1000).toISOString()).cdkSignedImages as object), deployment: `${DEPLOYMENT_ARN}X` } };
    const res = await s.handler(hookEvent(REVISION_ARN, { hookDetails: other }), context());
    expect(res.hookStatus).toBe('IN_PROGRESS');
    expect(res.hookDetails.cdkSignedImages.round).toBe(1);
  });

  test('the hook\'s own progress with a huge round ends the wait (stricter), never admits', async () => {
    s.h.configure({ mode: 'ENFORCE', inconclusiveAction: 'ADMIT' });
    revision(pinned(s.h.unsigned));
    expect(await s.handler(hookEvent(REVISION_ARN, { hookDetails: hookProgress(1e12, new Date().toISOString()) }), context())).toEqual({ hookStatus: 'FAILED' });
  });
});

describe('a tag re-pointed between rounds (issue 8, item 2)', () => {
  const stranger = makeChain({ keySlot: 'handler-untrusted' });
  const late = makeChain({ keySlot: 'handler-late-signing' });

  async function signedBy(repo: string, tag: string, chain: ReturnType<typeof makeChain>): Promise<any> {
    const desc = await pushImage(s.h.registry.url, repo, { tag });
    await pushSignature(s.h.registry.url, repo, desc, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: desc }), 'application/jose+json');
    return desc;
  }

  function configure(overrides: Record<string, unknown> = {}): void {
    s.h.configure({
      mode: 'ENFORCE',
      trustPolicy: {
        version: '1.0',
        trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test', 'ca:late'], trustedIdentities: ['*'] }],
      },
      trustStores: { 'ca:test': s.h.rootPem, 'ca:late': late.rootPem },
      signatureWaitSeconds: 60,
      callBackDelaySeconds: 4,
      ...overrides,
    });
  }

  test('default: a tag-only container is never SUCCEEDED, before or after the tag moves', async () => {
    configure();
    const repo = 'app/moving-default';
    await signedBy(repo, 'prod', late);
    const tagged = `${s.h.registry.host}/${repo}:prod`;
    revision({ image: tagged, containerName: 'api' });
    const res = await s.handler(hookEvent(), context());
    expect(res).toEqual({ hookStatus: 'FAILED' });
    await pushImage(s.h.registry.url, repo, { tag: 'prod' }); // re-pointed to an unsigned image
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
  });

  test('VERIFY_CURRENT_DIGEST: round 2 verifies the tag again and refuses the image it names now', async () => {
    configure({ unpinnedImages: 'VERIFY_CURRENT_DIGEST' });
    const repo = 'app/moving';
    const first = await signedBy(repo, 'prod', late);
    const waiting = await pushImage(s.h.registry.url, 'app/moving-sidecar', { tag: 'x' }); // keeps round 1 IN_PROGRESS (no signature yet)
    const tagged = `${s.h.registry.host}/${repo}:prod`;
    revision({ image: tagged, containerName: 'api' }, pinned(`${s.h.registry.host}/app/moving-sidecar@${waiting.digest}`));

    const res1 = await s.handler(hookEvent(), context());
    expect(res1.hookStatus).toBe('IN_PROGRESS');
    expect(s.out.verdicts().find((v) => v.image === tagged)).toMatchObject({ outcome: 'verified', digest: first.digest, unpinned: true });
    expect(JSON.stringify(res1.hookDetails)).not.toContain(repo);

    // The tag is re-pointed to an image signed by an untrusted key; the sidecar gets its signature.
    const moved = await signedBy(repo, 'prod', stranger);
    await pushSignature(s.h.registry.url, 'app/moving-sidecar', waiting, signJws({ key: late.key, chainDer: late.chainDer, targetArtifact: waiting }), 'application/jose+json');
    s.out.lines.length = 0;
    const res2 = await s.handler(hookEvent(REVISION_ARN, { hookDetails: res1.hookDetails }), context());
    expect(res2).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.verdicts().find((v) => v.image === tagged)).toMatchObject({ outcome: 'rejected', digest: moved.digest, unpinned: true });
  });

  test('VERIFY_CURRENT_DIGEST: re-pointed to an unsigned image, round 2 is not SUCCEEDED', async () => {
    configure({ unpinnedImages: 'VERIFY_CURRENT_DIGEST', signatureWaitSeconds: 0 });
    const repo = 'app/moving-unsigned';
    await signedBy(repo, 'prod', late);
    const tagged = `${s.h.registry.host}/${repo}:prod`;
    revision({ image: tagged });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    const moved = await pushImage(s.h.registry.url, repo, { tag: 'prod' });
    s.out.lines.length = 0;
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
    expect(s.out.verdicts().find((v) => v.image === tagged)).toMatchObject({ digest: moved.digest, errorCode: 'NO_SIGNATURE' });
  });

  test('AUDIT reports an unpinned image as such and answers SUCCEEDED', async () => {
    configure({ mode: 'AUDIT' });
    revision({ image: s.h.taggedImage, containerName: 'api' });
    expect(await s.handler(hookEvent(), context())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(s.out.verdicts().find((v) => v.image === s.h.taggedImage)).toMatchObject({ outcome: 'verified', unpinned: true, digest: s.h.taggedDigest });
    const decision = s.out.lines.find((l) => String(l.message).startsWith('admission decision'));
    expect(decision).toMatchObject({ hookStatus: 'SUCCEEDED', unpinned: [s.h.taggedImage], level: 'WARN' });
  });
});
