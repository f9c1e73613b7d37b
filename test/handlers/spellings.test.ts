/**
 * Issue 8, item 3 through the BUNDLED handlers: a policy with an exact scope for `app/signed`
 * (trusting a release CA that did NOT sign it) and a `*` statement (trusting the CA that did). Every
 * spelling of the registry host must select the exact statement, so the hook refuses and the audit
 * reports a rejection — never "verified" because a spelling fell through to `*`.
 */
import { context, hookEvent, REVISION_ARN, startHarness, Harness, taskEvent } from './harness';
import { loadHandler } from '../support/handler-bundle';
import { makeChain } from '../support/pki';
import { captureStdout, Captured } from '../support/stdout-capture';

let h: Harness;
let hook: (event: unknown, ctx?: unknown) => Promise<any>;
let audit: (event: unknown, ctx?: unknown) => Promise<any>;
let out: Captured;
let releaseRootPem: string;

beforeAll(async () => {
  h = await startHarness();
  hook = loadHandler('admission-hook').handler;
  audit = loadHandler('task-audit').handler;
  releaseRootPem = makeChain({ keySlot: 'spellings-release', root: { subject: 'CN=Release Root,O=Shop,C=US' } }).rootPem;
});
afterAll(async () => {
  await h?.stop();
});
beforeEach(() => {
  h.aws.calls.length = 0;
  h.aws.revisions.clear();
  out = captureStdout();
});
afterEach(() => out.restore());

function configure(exactScopeHost: string): void {
  h.configure({
    mode: 'ENFORCE',
    signatureWaitSeconds: 0,
    cacheTtlMs: 0,
    trustPolicy: {
      version: '1.0',
      trustPolicies: [
        { name: 'release', registryScopes: [`${exactScopeHost}/app/signed`], signatureVerification: { level: 'strict' }, trustStores: ['ca:release'], trustedIdentities: ['*'] },
        { name: 'anything-else', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test'], trustedIdentities: ['*'] },
      ],
    },
    trustStores: { 'ca:test': h.rootPem, 'ca:release': releaseRootPem },
  });
}

function spellings(): string[] {
  const port = h.registry.host.split(':')[1];
  return [`127.0.0.1:${port}`, `127.1:${port}`, `0x7f.0.0.1:${port}`, `2130706433:${port}`, `127.0.0.1.:${port}`, `127.0.0.1:0${port}`, `0177.0.0.01:${port}`];
}

test('the hook refuses the image under every spelling of its registry host', async () => {
  configure(h.registry.host);
  for (const host of spellings()) {
    out.lines.length = 0;
    h.aws.revisions.set(REVISION_ARN, [{ containerName: 'app', image: `${host}/app/signed:latest`, imageDigest: h.signedDigest }]);
    const res = await hook(hookEvent(), context());
    expect({ host, res }).toEqual({ host, res: { hookStatus: 'FAILED' } });
    const verdict = out.verdicts()[0];
    expect(verdict).toMatchObject({ outcome: 'rejected', policyStatement: 'release' });
  }
});

test('an exact scope written in another spelling binds the canonical one too', async () => {
  configure(h.registry.host.replace('127.0.0.1', '127.000.0.1'));
  h.aws.revisions.set(REVISION_ARN, [{ containerName: 'app', image: `${h.registry.host}/app/signed:latest`, imageDigest: h.signedDigest }]);
  expect(await hook(hookEvent(), context())).toEqual({ hookStatus: 'FAILED' });
  expect(out.verdicts()[0]).toMatchObject({ policyStatement: 'release' });
});

test('the audit reports a rejection, never "verified", under every spelling', async () => {
  configure(h.registry.host);
  for (const host of spellings()) {
    out.lines.length = 0;
    await audit(taskEvent([{ name: 'app', image: `${host}/app/signed:latest`, imageDigest: h.signedDigest }]), context());
    const verdict = out.verdicts()[0];
    expect({ host, status: verdict?.status, statement: verdict?.policyStatement }).toEqual({ host, status: 'failed', statement: 'release' });
  }
});
