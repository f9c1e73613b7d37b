/**
 * The BUNDLED EKS admission webhook (assets/handlers/eks-webhook/index.js), invoked with real Lambda
 * function URL events carrying real AdmissionReview v1 requests, against a real loopback
 * docker-registry (signed, unsigned and tag-only images), with the webhook secret served by a local
 * Secrets Manager endpoint speaking the JSON 1.1 protocol.
 */
import { writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { definitionOf, describeErrors, kubernetesValidator } from './k8s-schema';
import { admissionReview, applyJsonPatch, cronJob, decodePatch, deployment, pod, SecretsFake, urlEvent, workload } from './support';
import { webhookEnv } from './webhook-env';
import { context, handlerSuite } from '../handlers/harness';
import { loadHandler } from '../support/handler-bundle';
import { CountingProxy } from '../support/registry';

const s = handlerSuite('eks-webhook');
const env = webhookEnv(() => s.h.registry.host);
let sm: SecretsFake;
let proxy: CountingProxy;
beforeAll(() => {
  ({ sm, proxy } = env);
});
beforeEach(() => {
  sm.calls.length = 0;
  sm.failWith = undefined;
  proxy.reset();
});

type Endpoint = 'mutate' | 'validate';

async function post(endpoint: Endpoint, review: unknown, handler = s.handler): Promise<any> {
  return handler(urlEvent(`/${sm.secret}/${endpoint}`, JSON.stringify(review)), context());
}

/** The AdmissionReview answer of an HTTP 200 response. */
function answer(res: any): any {
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/json');
  const body = JSON.parse(res.body);
  expect(body).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
  return body.response;
}

/** No signature wait unless a test asks (the wait has its own file: webhook-signature-wait.test.ts). */
function configure(mode: 'ENFORCE' | 'AUDIT', extra: Record<string, unknown> = {}): void {
  s.h.configure({ mode, plainHttpRegistries: [s.h.registry.host, proxy.host, '127.0.0.1:9'], signatureWaitSeconds: 0, ...extra });
}

const repoOf = (ref: string) => ref.split('@')[0];

const validateK8s = kubernetesValidator();

/** Schema errors of a whole object against its kind's published definition (core/v1 Pod, apps/v1 Deployment, ...). */
function objectErrors(object: any): string[] {
  return describeErrors(validateK8s(definitionOf(object.kind), object));
}

describe('mutating webhook: verify and pin', () => {
  test('Pod CREATE: a signed tag is verified and pinned by an RFC 6902 patch; the uid is echoed; one verdict record per image and an EMF line', async () => {
    configure('ENFORCE');
    const object = pod({ containers: [s.h.taggedImage, s.h.signed] });
    const review = admissionReview(object);
    const res = answer(await post('mutate', review));
    expect(res).toMatchObject({ uid: review.request.uid, allowed: true, patchType: 'JSONPatch' });
    expect(res.status).toBeUndefined();
    const ops = decodePatch(res);
    const pinned = `${s.h.registry.host}/app/tagged@${s.h.taggedDigest}`;
    // Only the tag needs pinning; the digest reference is already the verified one.
    expect(ops).toEqual([
      { op: 'test', path: '/spec/containers/0/image', value: s.h.taggedImage },
      { op: 'replace', path: '/spec/containers/0/image', value: pinned },
    ]);
    const patched = applyJsonPatch(object, ops);
    expect(patched.spec.containers.map((c: any) => c.image)).toEqual([pinned, s.h.signed]);
    // The patched Pod still validates against the Kubernetes schema; a misspelt field would not.
    expect(objectErrors(patched)).toEqual([]);
    const typo = JSON.parse(JSON.stringify(patched));
    typo.spec.containers[0].imagePullPolcy = 'Always';
    expect(objectErrors(typo)).toEqual(['/spec/containers/0 must NOT have additional properties (imagePullPolcy)']);
    const typo2 = JSON.parse(JSON.stringify(patched));
    typo2.spec.restartPolicyy = 'Always';
    expect(objectErrors(typo2)).toEqual(['/spec must NOT have additional properties (restartPolicyy)']);
    expect(res.auditAnnotations).toEqual({ verdict: 'admitted', pinned: JSON.stringify([pinned]) });

    const verdicts = s.out.verdicts();
    expect(verdicts.map((v) => v.image).sort()).toEqual([s.h.signed, s.h.taggedImage].sort());
    expect(verdicts.every((v) => v.outcome === 'verified' && v.handler === 'eks-webhook' && v.uid === review.request.uid && v.webhook === 'mutate')).toBe(true);
    expect(s.out.emf()).toHaveLength(1);
    expect(s.out.emf()[0]).toMatchObject({ FunctionName: 'test-verifier', handler: 'eks-webhook', Verified: 2, Rejected: 0, Inconclusive: 0 });
    expect(s.out.lines.find((l) => l.message === 'admission decision: allowed')).toMatchObject({ allowed: true, kind: 'Pod', namespace: 'shop', name: 'web', pinned: [pinned] });
    // The secret is in the request path only: never in a log line.
    expect(JSON.stringify(s.out.lines)).not.toContain(sm.secret);
  });

  test('Deployment: init containers and containers of the pod template are pinned at their own JSON pointers', async () => {
    configure('ENFORCE');
    const object = deployment({ containers: [s.h.taggedImage], initContainers: [s.h.taggedImage] });
    const res = answer(await post('mutate', admissionReview(object)));
    expect(res.allowed).toBe(true);
    const ops = decodePatch(res);
    expect(ops.filter((o) => o.op === 'replace').map((o) => o.path).sort()).toEqual(['/spec/template/spec/containers/0/image', '/spec/template/spec/initContainers/0/image']);
    const patched = applyJsonPatch(object, ops);
    expect(patched.spec.template.spec.containers[0].image).toBe(`${repoOf(s.h.taggedImage).replace(/:v1$/, '')}@${s.h.taggedDigest}`);
    expect(patched.spec.template.spec.initContainers[0].image).toBe(patched.spec.template.spec.containers[0].image);
    expect(objectErrors(patched)).toEqual([]);
    // One image, verified once.
    expect(s.out.verdicts()).toHaveLength(1);
  });

  test('CronJob: the job template\'s pod spec is read and pinned', async () => {
    configure('ENFORCE');
    const object = cronJob({ containers: [s.h.taggedImage] });
    const res = answer(await post('mutate', admissionReview(object)));
    const patched = applyJsonPatch(object, decodePatch(res));
    expect(patched.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(`${s.h.registry.host}/app/tagged@${s.h.taggedDigest}`);
  });

  test.each([
    ['Pod', (i: any) => pod(i), (o: any) => o.spec],
    ['Deployment', (i: any) => deployment(i), (o: any) => o.spec.template.spec],
    ['ReplicaSet', (i: any) => workload('ReplicaSet', i), (o: any) => o.spec.template.spec],
    ['StatefulSet', (i: any) => workload('StatefulSet', i), (o: any) => o.spec.template.spec],
    ['DaemonSet', (i: any) => workload('DaemonSet', i), (o: any) => o.spec.template.spec],
    ['Job', (i: any) => workload('Job', i), (o: any) => o.spec.template.spec],
    ['CronJob', (i: any) => cronJob(i), (o: any) => o.spec.jobTemplate.spec.template.spec],
  ])('%s: validates against its published Kubernetes schema as sent and after the JSONPatch (every container pinned)', async (kind, build, podSpecOf) => {
    configure('ENFORCE');
    // Ephemeral containers exist on Pods only (kubectl debug); the pod templates carry containers and init containers.
    const object = build({ containers: [s.h.taggedImage], initContainers: [s.h.taggedImage], ...(kind === 'Pod' ? { ephemeralContainers: [s.h.taggedImage] } : {}) });
    expect(objectErrors(object)).toEqual([]);
    const res = answer(await post('mutate', admissionReview(object)));
    expect(res).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    const patched = applyJsonPatch(object, decodePatch(res));
    const pinned = `${s.h.registry.host}/app/tagged@${s.h.taggedDigest}`;
    const spec = podSpecOf(patched);
    expect([...spec.containers, ...spec.initContainers, ...(spec.ephemeralContainers ?? [])].map((c: any) => c.image)).toEqual(kind === 'Pod' ? [pinned, pinned, pinned] : [pinned, pinned]);
    expect(patched.kind).toBe(kind);
    expect(objectErrors(patched)).toEqual([]);
    // The same patched object with a misspelt field in its pod template fails.
    podSpecOf(patched).containers[0].imagePullPolcy = 'Always';
    expect(objectErrors(patched)).toEqual([expect.stringMatching(/\/containers\/0 must NOT have additional properties \(imagePullPolcy\)$/)]);
  });

  test('the patch is guarded: applied to an object whose image changed meanwhile, the `test` operation fails the whole patch', async () => {
    configure('ENFORCE');
    const object = pod({ containers: [s.h.taggedImage] });
    const ops = decodePatch(answer(await post('mutate', admissionReview(object))));
    const changed = pod({ containers: [`${s.h.registry.host}/app/tagged:v2`] });
    expect(() => applyJsonPatch(changed, ops)).toThrow(/test failed/);
  });

  test('an unsigned image is refused: status 403 and a message naming the container, the image and the reason; nothing pinned; counted as Rejected', async () => {
    configure('ENFORCE');
    const review = admissionReview(pod({ containers: [s.h.taggedImage, s.h.unsigned] }));
    const res = answer(await post('mutate', review));
    expect(res).toMatchObject({ uid: review.request.uid, allowed: false, status: { code: 403, reason: 'Forbidden' } });
    expect(res.patch).toBeUndefined();
    expect(res.status.message).toContain('image signature webhook refused Pod shop/web');
    expect(res.status.message).toContain(`container "app-1" image "${s.h.unsigned}": no signature yet: `);
    expect(res.status.message).toContain('may still be being signed by ECR managed signing');
    expect(res.status.message).toContain('retry kubectl apply');
    expect(res.auditAnnotations.verdict).toBe('refused');
    expect(JSON.parse(res.auditAnnotations.rejected)).toEqual([s.h.unsigned]);
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1 });
  });

  test('UPDATE is verified like CREATE (the new object)', async () => {
    configure('ENFORCE');
    const old = deployment({ containers: [s.h.signed] });
    const res = answer(await post('mutate', admissionReview(deployment({ containers: [s.h.unsigned] }), { operation: 'UPDATE', oldObject: old })));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain(s.h.unsigned);
  });

  test('ephemeral containers (kubectl debug: UPDATE of pods/ephemeralcontainers) are verified', async () => {
    configure('ENFORCE');
    const object = pod({ containers: [s.h.signed], ephemeralContainers: [s.h.unsigned] });
    const res = answer(await post('mutate', admissionReview(object, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: pod({ containers: [s.h.signed] }) })));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain(`container "debug-0" (ephemeralContainers) image "${s.h.unsigned}"`);
  });

  test('dryRun gets the same answer (kubectl apply --dry-run=server previews the refusal) and is not counted', async () => {
    configure('ENFORCE');
    const res = answer(await post('mutate', admissionReview(pod({ containers: [s.h.unsigned] }), { dryRun: true })));
    expect(res.allowed).toBe(false);
    expect(s.out.emf()[0]).toMatchObject({ Verified: 0, Rejected: 0, Inconclusive: 0 });
    expect(s.out.lines.find((l) => l.message === 'admission decision: denied')).toMatchObject({ dryRun: true });
  });

  test('DELETE is admitted without verification', async () => {
    configure('ENFORCE');
    const res = answer(await post('mutate', admissionReview(pod({ containers: [s.h.unsigned] }), { operation: 'DELETE' })));
    expect(res.allowed).toBe(true);
    expect(s.out.verdicts()).toHaveLength(0);
    expect(s.out.emf()).toEqual([expect.objectContaining({ HookSucceeded: 1, HookFailed: 0, SignatureWaitRounds: 0 })]);
  });
});

describe('validating webhook: only pinned and verified images', () => {
  test('ENFORCE: a pinned, signed image is admitted without a patch', async () => {
    configure('ENFORCE');
    const res = answer(await post('validate', admissionReview(pod({ containers: [s.h.signed] }))));
    expect(res.allowed).toBe(true);
    expect(res.patch).toBeUndefined();
  });

  test('ENFORCE: an image still named by tag is refused without contacting the registry (unpinnedImages REJECT)', async () => {
    configure('ENFORCE');
    const tagged = `${proxy.host}/app/tagged:v1`;
    const res = answer(await post('validate', admissionReview(pod({ containers: [tagged] }))));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain(`image "${tagged}": unpinned: not pinned to a digest`);
    expect(proxy.requestCount()).toBe(0);
    expect(s.out.verdicts()[0]).toMatchObject({ errorCode: 'UNPINNED_IMAGE', outcome: 'rejected' });
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1 });
  });

  test('ENFORCE with unpinnedImages VERIFY_CURRENT_DIGEST: the tag\'s current digest is verified and admitted', async () => {
    configure('ENFORCE', { unpinnedImages: 'VERIFY_CURRENT_DIGEST' });
    const res = answer(await post('validate', admissionReview(pod({ containers: [s.h.taggedImage] }))));
    expect(res.allowed).toBe(true);
    expect(s.out.lines.some((l) => String(l.message).startsWith('image is not pinned to a digest'))).toBe(true);
  });

  test('an exempt image is admitted pinned or not', async () => {
    configure('ENFORCE', { exemptions: [`${s.h.registry.host}/app/unsigned`] });
    const res = answer(await post('validate', admissionReview(pod({ containers: [`${s.h.registry.host}/app/unsigned:latest`] }))));
    expect(res.allowed).toBe(true);
  });
});

describe('AUDIT', () => {
  test('a rejected image is admitted with a Kubernetes warning and audit annotations; verified images are still pinned', async () => {
    configure('AUDIT');
    const object = pod({ containers: [s.h.taggedImage, s.h.unsigned] });
    const res = answer(await post('mutate', admissionReview(object)));
    expect(res.allowed).toBe(true);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings[0]).toMatch(/^image signature webhook \(AUDIT\): would refuse: container "app-1" image ".*app\/unsigned@sha256:[0-9a-f]{64}": no signature yet: /);
    expect(res.warnings[0].length).toBeLessThanOrEqual(256);
    expect(res.auditAnnotations.verdict).toBe('admitted-with-problems');
    expect(JSON.parse(res.auditAnnotations.rejected)).toEqual([s.h.unsigned]);
    const patched = applyJsonPatch(object, decodePatch(res));
    expect(patched.spec.containers[0].image).toBe(`${s.h.registry.host}/app/tagged@${s.h.taggedDigest}`);
    expect(patched.spec.containers[1].image).toBe(s.h.unsigned);
    expect(s.out.emf()[0]).toMatchObject({ Rejected: 1, Verified: 1 });
  });

  test('validate: a tag is verified and reported, not refused', async () => {
    configure('AUDIT');
    const res = answer(await post('validate', admissionReview(pod({ containers: [s.h.taggedImage] }))));
    expect(res.allowed).toBe(true);
  });
});

describe('authentication: the path secret is checked before any work', () => {
  const image = () => `${proxy.host}/app/signed@${s.h.signedDigest}`;

  test.each([
    ['a wrong secret', (secret: string) => `/${'x'.repeat(secret.length)}/mutate`],
    ['no secret', () => '/mutate'],
    ['an empty secret', () => '//mutate'],
    ['a prefix of the secret', (secret: string) => `/${secret.slice(0, -1)}/mutate`],
    ['the secret with a suffix', (secret: string) => `/${secret}x/mutate`],
    ['the secret in another case', (secret: string) => `/${secret.toUpperCase()}/mutate`],
    ['an unknown endpoint', (secret: string) => `/${secret}/admit`],
    ['an extra segment', (secret: string) => `/${secret}/mutate/x`],
    ['a trailing slash', (secret: string) => `/${secret}/mutate/`],
    ['a percent-encoded slash', (secret: string) => `/${secret}%2Fmutate`],
    ['the root path', () => '/'],
  ])('%s → 403, no AdmissionReview, no registry request, neither secret logged', async (_name, pathOf) => {
    configure('ENFORCE');
    const presented = pathOf(sm.secret);
    const res = await s.handler(urlEvent(presented, JSON.stringify(admissionReview(pod({ containers: [image()] })))), context());
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ message: 'forbidden' });
    expect(proxy.requestCount()).toBe(0);
    expect(s.out.verdicts()).toHaveLength(0);
    expect(s.out.emf()).toHaveLength(0);
    const logged = JSON.stringify(s.out.lines);
    expect(logged).not.toContain(sm.secret);
    expect(logged).not.toContain(sm.secret.toUpperCase());
    expect(s.out.lines.find((l) => l.message === 'unauthenticated request refused')).toMatchObject({ sourceIp: '203.0.113.10', level: 'WARN' });
  });

  test('the same request with the secret reaches the registry (the proxy counts)', async () => {
    configure('ENFORCE');
    const res = answer(await post('mutate', admissionReview(pod({ containers: [image()] }))));
    expect(res.allowed).toBe(true);
    expect(proxy.requestCount()).toBeGreaterThan(0);
  });

  test('the secret is read from Secrets Manager once and cached', async () => {
    const fresh = loadHandler('eks-webhook').handler;
    configure('ENFORCE');
    await post('mutate', admissionReview(pod({ containers: [s.h.signed] })), fresh);
    await post('mutate', admissionReview(pod({ containers: [s.h.signed] })), fresh);
    await fresh(urlEvent('/wrong/mutate', '{}'), context());
    expect(sm.calls).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: sm.arn } }]);
  });

  test('Secrets Manager unavailable → 503 (the API server applies failurePolicy), the error logged without any secret', async () => {
    const fresh = loadHandler('eks-webhook').handler;
    configure('ENFORCE');
    sm.failWith = 500;
    const res = await post('mutate', admissionReview(pod({ containers: [s.h.signed] })), fresh);
    expect(res.statusCode).toBe(503);
    expect(s.out.lines.find((l) => l.message.startsWith('cannot read the webhook secret'))).toMatchObject({ level: 'ERROR' });
    expect(s.out.verdicts()).toHaveLength(0);
  });

  test('a configured secret shorter than 32 characters authenticates nobody', async () => {
    const fresh = loadHandler('eks-webhook').handler;
    configure('ENFORCE');
    const real = sm.secret;
    sm.secret = 'short';
    try {
      const res = await fresh(urlEvent('/short/mutate', JSON.stringify(admissionReview(pod({ containers: [s.h.signed] })))), context());
      expect(res.statusCode).toBe(403);
    } finally {
      sm.secret = real;
    }
  });
});

describe('malformed requests: a clear answer, never a crash', () => {
  test.each([
    ['not JSON', '{"apiVersion":', 400],
    ['a JSON array', '[]', 400],
    ['no request', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 400],
    ['a request without uid', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'Pod' } } }), 400],
  ])('%s → HTTP 400 without an AdmissionReview (the API server applies failurePolicy)', async (_n, body, status) => {
    configure('ENFORCE');
    const res = await s.handler(urlEvent(`/${sm.secret}/mutate`, body as string), context());
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body).message).toEqual(expect.any(String));
  });

  test('an admission.k8s.io/v1beta1 review with a uid → refused in ENFORCE, admitted with a warning in AUDIT', async () => {
    const review = admissionReview(pod({ containers: [s.h.signed] }));
    review.apiVersion = 'admission.k8s.io/v1beta1';
    configure('ENFORCE');
    const denied = answer(await post('mutate', review));
    expect(denied).toMatchObject({ uid: review.request.uid, allowed: false });
    expect(denied.status.message).toContain('apiVersion is "admission.k8s.io/v1beta1"');
    configure('AUDIT');
    const audited = answer(await post('mutate', review));
    expect(audited.allowed).toBe(true);
    expect(audited.warnings[0]).toContain('malformed AdmissionReview');
    // Both answers counted in the Hook* metrics, like any other answer.
    expect(s.out.emf().map((r) => [r.HookFailed, r.HookSucceeded])).toEqual([[1, 0], [0, 1]]);
  });

  test.each([
    ['containers is not an array', (o: any) => {
      o.spec.containers = { name: 'x' };
    }, 'spec.containers is not an array'],
    ['a container without image', (o: any) => {
      delete o.spec.containers[0].image;
    }, 'spec.containers[0] (container "app-0") has no image'],
    ['an image that is not a string', (o: any) => {
      o.spec.containers[0].image = ['a'];
    }, 'has no image'],
    ['no spec', (o: any) => {
      delete o.spec;
    }, 'spec is missing or not an object'],
  ])('%s → refused (ENFORCE) with the reason', async (_n, mutate, reason) => {
    configure('ENFORCE');
    const object = pod({ containers: [s.h.signed] });
    mutate(object);
    const res = answer(await post('mutate', admissionReview(object)));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain(reason);
    expect(s.out.emf()[0]).toMatchObject({ Inconclusive: 1 });
  });

  test('a kind the webhook does not read → refused in ENFORCE', async () => {
    configure('ENFORCE');
    const res = answer(await post('mutate', admissionReview({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} })));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain('kind example.com/Widget is not one the webhook reads');
  });

  test('a base64-encoded body is decoded; invalid base64 → 400', async () => {
    configure('ENFORCE');
    const body = JSON.stringify(admissionReview(pod({ containers: [s.h.signed] })));
    const ok = answer(await s.handler(urlEvent(`/${sm.secret}/mutate`, body, { isBase64Encoded: true }), context()));
    expect(ok.allowed).toBe(true);
    const bad = await s.handler({ ...urlEvent(`/${sm.secret}/mutate`, body), body: '!!notbase64', isBase64Encoded: true }, context());
    expect(bad.statusCode).toBe(400);
  });

  test('a body over 4 MiB → 413 before parsing', async () => {
    configure('ENFORCE');
    const res = await s.handler(urlEvent(`/${sm.secret}/mutate`, `{"pad":"${'a'.repeat(4 * 1024 * 1024)}"}`), context());
    expect(res.statusCode).toBe(413);
  });

  test('no body, GET, not a function URL event', async () => {
    configure('ENFORCE');
    expect((await s.handler(urlEvent(`/${sm.secret}/mutate`, undefined, { noBody: true }), context())).statusCode).toBe(400);
    expect((await s.handler(urlEvent(`/${sm.secret}/mutate`, '{}', { method: 'GET' }), context())).statusCode).toBe(405);
    expect((await s.handler({ rawPath: `/${sm.secret}/mutate` }, context())).statusCode).toBe(400);
    expect((await s.handler(null, context())).statusCode).toBe(400);
    expect((await s.handler('x', context())).statusCode).toBe(400);
  });

  test('more than 256 containers → refused', async () => {
    configure('ENFORCE');
    const res = answer(await post('mutate', admissionReview(pod({ containers: Array.from({ length: 300 }, () => s.h.signed) }))));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain('more than 256 containers');
  });
});

describe('registry faults → failurePolicy semantics', () => {
  const gone = `127.0.0.1:9/app/gone@sha256:${'a'.repeat(64)}`;

  test('ENFORCE, inconclusiveAction REJECT (failurePolicy Fail): refused, counted Inconclusive', async () => {
    configure('ENFORCE', { registryTimeoutMs: 2000 });
    const res = answer(await post('mutate', admissionReview(pod({ containers: [gone] }))));
    expect(res.allowed).toBe(false);
    expect(res.status.message).toContain(`image "${gone}": inconclusive:`);
    expect(s.out.emf()[0]).toMatchObject({ Inconclusive: 1, Rejected: 0 });
  });

  test('ENFORCE, inconclusiveAction ADMIT (failurePolicy Ignore): admitted with a warning', async () => {
    configure('ENFORCE', { inconclusiveAction: 'ADMIT', registryTimeoutMs: 2000 });
    const res = answer(await post('mutate', admissionReview(pod({ containers: [gone] }))));
    expect(res.allowed).toBe(true);
    expect(res.warnings[0]).toContain('admitted: container "app-0"');
    expect(res.patch).toBeUndefined();
  });

  test('the configuration cannot be read: ENFORCE refuses, AUDIT (from the environment) admits', async () => {
    const missing = path.join(tmpdir(), `csi-missing-${process.pid}.json`);
    const review = admissionReview(pod({ containers: [s.h.signed] }));
    process.env.VERIFIER_CONFIG_PATH = missing;
    const denied = answer(await post('mutate', review));
    expect(denied.allowed).toBe(false);
    expect(s.out.emf()[0]).toMatchObject({ ConfigurationErrors: 1 });
    process.env.ADMISSION_MODE = 'AUDIT';
    try {
      expect(answer(await post('mutate', review)).allowed).toBe(true);
    } finally {
      delete process.env.ADMISSION_MODE;
    }
    writeFileSync(missing, 'not json');
    expect(answer(await post('mutate', review)).allowed).toBe(false);
  });
});
