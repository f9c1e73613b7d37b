/**
 * The EKS webhook's signature wait: the BUNDLED handler (assets/handlers/eks-webhook/index.js), real
 * function URL events and AdmissionReview requests, a real loopback docker-registry behind a counting
 * proxy, and real signatures (test/support/pki.ts, sign.ts, push.ts) pushed while the webhook waits.
 *
 * ECR managed signing signs a few seconds after the push. In ENFORCE the webhook re-verifies an image
 * without a signature about once a second inside the call, until a signature verifies or its deadline
 * comes; any other rejection is final at once. Assertions are on rounds, records and request counts,
 * never on elapsed time.
 */
import { randomBytes } from 'crypto';
import { admissionReview, decodePatch, pod, SecretsFake, urlEvent } from './support';
import { webhookEnv } from './webhook-env';
import { context, handlerSuite } from '../handlers/harness';
import { Chain, makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { CountingProxy } from '../support/registry';
import { signJws } from '../support/sign';

const s = handlerSuite('eks-webhook');
const env = webhookEnv(() => s.h.registry.host);
let sm: SecretsFake;
let proxy: CountingProxy;
/** The chain the trust store trusts, and one it does not (a signature by a stranger's key). */
let trusted: Chain;
let stranger: Chain;

beforeAll(() => {
  ({ sm, proxy } = env);
  trusted = makeChain({ keySlot: 'eks-signature-wait' });
  stranger = makeChain({ keySlot: 'eks-signature-wait-stranger' });
});
beforeEach(() => {
  proxy.reset();
  process.env.WEBHOOK_TIMEOUT_SECONDS = '10';
});

/** The handler config: the registry behind the proxy, our chain trusted. `signatureWaitSeconds` absent unless given (the handler default). */
function configure(mode: 'ENFORCE' | 'AUDIT', extra: Record<string, unknown> = {}): void {
  s.h.configure({
    mode,
    plainHttpRegistries: [s.h.registry.host, proxy.host],
    trustStores: { 'ca:test': trusted.rootPem, 'signingAuthority:signer-test': s.h.signerRootPem },
    ...extra,
  });
}

interface Pushed {
  /** `proxy/app/<name>:v1`, as a Deployment names it right after the push. */
  readonly tagged: string;
  readonly pinned: string;
  /** Signs it with `chain` (pushes the signature to the registry). */
  sign(chain: Chain): Promise<void>;
}

/** A fresh image, pushed unsigned. */
async function pushUnsigned(): Promise<Pushed> {
  const repo = `app/wait-${randomBytes(4).toString('hex')}`;
  const desc = await pushImage(s.h.registry.url, repo, { tag: 'v1' });
  return {
    tagged: `${proxy.host}/${repo}:v1`,
    pinned: `${proxy.host}/${repo}@${desc.digest}`,
    sign: async (chain) => {
      await pushSignature(s.h.registry.url, repo, desc, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: desc }), 'application/jose+json');
    },
  };
}

async function mutate(object: unknown, opts: { dryRun?: boolean } = {}): Promise<any> {
  const res = await s.handler(urlEvent(`/${sm.secret}/mutate`, JSON.stringify(admissionReview(object, opts))), context());
  expect(res.statusCode).toBe(200);
  return JSON.parse(res.body).response;
}

const waitLogs = () => s.out.lines.filter((l) => String(l.message).startsWith('signature wait'));
const verdictsOf = (image: string) => s.out.verdicts().filter((v) => v.image === image);
const emf = () => {
  expect(s.out.emf()).toHaveLength(1);
  return s.out.emf()[0];
};

/** Resolves once the webhook has logged a NO_SIGNATURE verdict for `image` (it is waiting then). */
async function firstNoSignature(image: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (verdictsOf(image).some((v) => v.errorCode === 'NO_SIGNATURE')) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no NO_SIGNATURE verdict for ${image}`);
}

describe('ENFORCE: an image without a signature is waited for', () => {
  test('signed ~1.5 s after the request while the webhook waits → admitted and pinned; rounds in the log, the verdicts and SignatureWaitRounds', async () => {
    configure('ENFORCE');
    const image = await pushUnsigned();
    const answering = mutate(pod({ containers: [image.tagged] }));
    // The signature arrives while the webhook waits, as ECR managed signing's would after a push.
    const signing = firstNoSignature(image.tagged).then(() => new Promise((r) => setTimeout(r, 1500))).then(() => image.sign(trusted));
    const [res] = await Promise.all([answering, signing]);

    expect(res.allowed).toBe(true);
    expect(res.status).toBeUndefined();
    const ops = decodePatch(res);
    expect(ops).toEqual([
      { op: 'test', path: '/spec/containers/0/image', value: image.tagged },
      { op: 'replace', path: '/spec/containers/0/image', value: image.pinned },
    ]);
    const wait = waitLogs();
    expect(wait).toHaveLength(1);
    expect(wait[0]).toMatchObject({ message: 'signature wait: signature found', level: 'INFO', unsigned: [] });
    const rounds = wait[0].rounds;
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(wait[0].waitedMs).toEqual(expect.any(Number));
    // One verdict per round: NO_SIGNATURE until the signature came, then verified (round numbers in order).
    const verdicts = verdictsOf(image.tagged);
    expect(verdicts).toHaveLength(rounds + 1);
    expect(verdicts.slice(0, -1).map((v) => v.errorCode)).toEqual(Array(rounds).fill('NO_SIGNATURE'));
    expect(verdicts[verdicts.length - 1]).toMatchObject({ outcome: 'verified', signatureWaitRound: rounds });
    expect(verdicts.slice(1).map((v) => v.signatureWaitRound)).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
    // Counted once, as the final verdict; the answer and its rounds in the Hook* metrics.
    expect(emf()).toMatchObject({ handler: 'eks-webhook', Verified: 1, Rejected: 0, HookSucceeded: 1, HookFailed: 0, HookInProgress: 0, SignatureWaitRounds: rounds });
    expect(s.out.lines.find((l) => l.message === 'admission decision: allowed')).toMatchObject({ signatureWaitRounds: rounds, pinned: [image.pinned] });

    // The validating call that follows sees the pinned image: the verified verdict is cached, no wait.
    s.out.lines.length = 0;
    const validated = await s.handler(urlEvent(`/${sm.secret}/validate`, JSON.stringify(admissionReview(pod({ containers: [image.pinned] })))), context());
    expect(JSON.parse(validated.body).response.allowed).toBe(true);
    expect(verdictsOf(image.pinned)).toEqual([expect.objectContaining({ outcome: 'verified', cached: true })]);
    expect(emf()).toMatchObject({ HookSucceeded: 1, SignatureWaitRounds: 0 });
  });

  test('never signed → refused at the deadline: the message says it has no signature yet and that ECR managed signing may still be signing', async () => {
    // webhookTimeout 3 s: the wait (default 8 s) is cut by the deadline (3 s minus its margin).
    process.env.WEBHOOK_TIMEOUT_SECONDS = '3';
    configure('ENFORCE');
    const image = await pushUnsigned();
    const res = await mutate(pod({ containers: [image.tagged] }));

    expect(res).toMatchObject({ allowed: false, status: { code: 403, reason: 'Forbidden' } });
    expect(res.patch).toBeUndefined();
    const message: string = res.status.message;
    expect(message).toContain(`image signature webhook refused Pod shop/web: container "app-0" image "${image.tagged}": no signature yet: `);
    expect(message).toContain('may still be being signed by ECR managed signing');
    expect(message).toMatch(/the webhook waited \d+\.\d s for it/);
    expect(message).toContain('retry kubectl apply in a moment (Pods created by a controller are retried by the controller)');
    const wait = waitLogs();
    expect(wait).toHaveLength(1);
    expect(wait[0]).toMatchObject({ message: 'signature wait: no signature appeared in time', level: 'WARN', unsigned: [image.tagged], signatureWaitSeconds: 8 });
    const rounds = wait[0].rounds;
    expect(rounds).toBeGreaterThanOrEqual(1);
    // Bounded by the deadline, not by the 8 s wait: at most one round per second of the 3 s timeout.
    expect(rounds).toBeLessThanOrEqual(3);
    expect(wait[0].budgetMs).toBeLessThan(3000);
    const verdicts = verdictsOf(image.tagged);
    expect(verdicts).toHaveLength(rounds + 1);
    expect(verdicts.every((v) => v.errorCode === 'NO_SIGNATURE' && v.outcome === 'rejected')).toBe(true);
    expect(emf()).toMatchObject({ Rejected: 1, Verified: 0, HookFailed: 1, HookSucceeded: 0, SignatureWaitRounds: rounds });
    expect(JSON.parse(res.auditAnnotations.rejected)).toEqual([image.tagged]);
  });

  test('dryRun waits the same way and gets the same answer, counted in no metric', async () => {
    process.env.WEBHOOK_TIMEOUT_SECONDS = '3';
    configure('ENFORCE');
    const image = await pushUnsigned();
    const res = await mutate(pod({ containers: [image.tagged] }), { dryRun: true });
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain('no signature yet');
    expect(waitLogs()[0].rounds).toBeGreaterThanOrEqual(1);
    const record = emf();
    expect(record).toMatchObject({ Rejected: 0, Verified: 0 });
    expect(record.HookFailed).toBeUndefined();
    expect(record.SignatureWaitRounds).toBeUndefined();
  });
});

describe('no wait', () => {
  /** Registry requests of one verification of `image`, with the verdict cache off. */
  async function requestsOfOneVerification(image: string): Promise<number> {
    configure('ENFORCE', { signatureWaitSeconds: 0, cacheTtlMs: 0 });
    proxy.reset();
    await mutate(pod({ containers: [image] }));
    return proxy.requestCount();
  }

  test('a BAD signature (a key the trust store does not trust) is refused at once: one verification, no round, the registry asked no more than without a wait', async () => {
    const image = await pushUnsigned();
    await image.sign(stranger);
    // Twice: the first also learns whether the registry has the referrers API (remembered per process).
    await requestsOfOneVerification(image.tagged);
    const once = await requestsOfOneVerification(image.tagged);
    expect(once).toBeGreaterThan(0);
    s.out.lines.length = 0;

    configure('ENFORCE', { signatureWaitSeconds: 8, cacheTtlMs: 0 });
    proxy.reset();
    const res = await mutate(pod({ containers: [image.tagged] }));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain(`image "${image.tagged}": rejected: the signature's certificate chain does not contain any trusted certificate`);
    expect(res.status.message).not.toContain('no signature yet');
    expect(res.status.message).not.toContain('ECR managed signing');
    expect(proxy.requestCount()).toBe(once);
    expect(verdictsOf(image.tagged)).toHaveLength(1);
    expect(verdictsOf(image.tagged)[0].errorCode).not.toBe('NO_SIGNATURE');
    expect(waitLogs()).toEqual([]);
    expect(emf()).toMatchObject({ Rejected: 1, HookFailed: 1, SignatureWaitRounds: 0 });
  });

  test('an unsigned image next to a badly signed one: the definitive rejection refuses at once, without waiting for the unsigned one', async () => {
    configure('ENFORCE', { signatureWaitSeconds: 8 });
    const unsigned = await pushUnsigned();
    const bad = await pushUnsigned();
    await bad.sign(stranger);
    const res = await mutate(pod({ containers: [unsigned.tagged, bad.tagged] }));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain(`image "${bad.tagged}": rejected: `);
    expect(waitLogs()).toEqual([]);
    expect(verdictsOf(unsigned.tagged)).toHaveLength(1);
    expect(emf()).toMatchObject({ HookFailed: 1, SignatureWaitRounds: 0 });
  });

  test('AUDIT never waits: admitted at once with a warning', async () => {
    configure('AUDIT', { signatureWaitSeconds: 8 });
    const image = await pushUnsigned();
    const res = await mutate(pod({ containers: [image.tagged] }));
    expect(res.allowed).toBe(true);
    expect(res.warnings).toEqual([expect.stringMatching(/^image signature webhook \(AUDIT\): would refuse: container "app-0" image ".*": no signature yet: /)]);
    expect(verdictsOf(image.tagged)).toHaveLength(1);
    expect(waitLogs()).toEqual([]);
    expect(emf()).toMatchObject({ Rejected: 1, HookSucceeded: 1, HookFailed: 0, SignatureWaitRounds: 0 });
  });

  test('signatureWaitSeconds 0 disables the wait: refused at once, still saying the image may be being signed', async () => {
    configure('ENFORCE', { signatureWaitSeconds: 0 });
    const image = await pushUnsigned();
    const res = await mutate(pod({ containers: [image.tagged] }));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain('no signature yet');
    expect(res.status.message).toContain('may still be being signed by ECR managed signing, which signs a few seconds after the push: retry kubectl apply');
    expect(verdictsOf(image.tagged)).toHaveLength(1);
    expect(waitLogs()).toEqual([]);
    expect(emf()).toMatchObject({ HookFailed: 1, SignatureWaitRounds: 0 });
  });

  test('a signed image is admitted without any round', async () => {
    configure('ENFORCE');
    const image = await pushUnsigned();
    await image.sign(trusted);
    const res = await mutate(pod({ containers: [image.tagged] }));
    expect(res.allowed).toBe(true);
    expect(verdictsOf(image.tagged)).toHaveLength(1);
    expect(emf()).toMatchObject({ HookSucceeded: 1, SignatureWaitRounds: 0 });
  });
});
