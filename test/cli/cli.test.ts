/**
 * The bundled CLI (assets/cli/cli.js, what `npx cdk-signed-images` runs) in a child process:
 * exit codes 0/1/2, text and JSON output, OCI layouts and a real loopback docker-registry.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBundled, REPO_ROOT } from '../support/handler-bundle';
import { makeChain } from '../support/pki';
import { pushImage, pushSignature, writeOciLayout } from '../support/push';
import { startRegistry, TestRegistry } from '../support/registry';
import { signJws } from '../support/sign';

const CLI = join(REPO_ROOT, 'assets', 'cli', 'cli.js');
let dir: string;
let registry: TestRegistry;
let signedDigest: string;
let unsignedDigest: string;
let remoteSigned: string;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, timeout: 60_000, env: { ...process.env, NODE_NO_WARNINGS: '1', AWS_REGION: 'us-east-1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 99) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  ensureBundled();
  dir = mkdtempSync(join(tmpdir(), 'csi-cli-'));
  const chain = makeChain({ keySlot: 'cli' });
  const layout = writeOciLayout(join(dir, 'layout'));
  const signed = await pushImage(layout, undefined, { tag: 'signed' });
  await pushSignature(layout, undefined, signed, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: signed }), 'application/jose+json');
  signedDigest = signed.digest;
  unsignedDigest = (await pushImage(layout, undefined, { tag: 'unsigned' })).digest;
  mkdirSync(join(dir, 'store', 'x509', 'ca', 'corp'), { recursive: true });
  writeFileSync(join(dir, 'store', 'x509', 'ca', 'corp', 'root.pem'), chain.rootPem);
  const statement = { name: 'corp', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:corp'], trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'] };
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: '1.0', trustPolicies: [statement] }));
  writeFileSync(join(dir, 'bad-policy.json'), JSON.stringify({ version: '1.0', trustPolicies: [{ ...statement, trustStores: ['corp'] }] }));
  writeFileSync(join(dir, 'missing-store-policy.json'), JSON.stringify({ version: '1.0', trustPolicies: [{ ...statement, trustStores: ['ca:nowhere'] }] }));

  registry = await startRegistry();
  const image = await pushImage(registry.url, 'cli/app', { tag: 'v1' });
  await pushSignature(registry.url, 'cli/app', image, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: image }), 'application/jose+json');
  remoteSigned = `${registry.host}/cli/app@${image.digest}`;
});

afterAll(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('verify', () => {
  test('a signed image in an OCI layout: exit 0, names the signer', async () => {
    const r = await run(['verify', `layout@${signedDigest}`, '--oci-layout', '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Successfully verified signature for');
    expect(r.stdout).toContain('CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US');
  });

  test('a layout tag works too', async () => {
    const r = await run(['verify', 'layout:signed', '--oci-layout', '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(0);
  });

  test('an unsigned image: exit 1 with the reason', async () => {
    const r = await run(['verify', `layout@${unsignedDigest}`, '--oci-layout', '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no signature is associated with');
  });

  test('--output json prints the verdict object', async () => {
    const r = await run(['verify', `layout@${signedDigest}`, '--oci-layout', '--trust-policy', 'policy.json', '--trust-store', 'store', '--output', 'json']);
    expect(r.code).toBe(0);
    const verdict = JSON.parse(r.stdout);
    expect(verdict).toMatchObject({ status: 'verified', verified: true, digest: signedDigest, policyStatement: 'corp' });
    expect(verdict.signatures[0].checks.map((c: any) => c.check)).toEqual(expect.arrayContaining(['integrity', 'authenticity', 'expiry', 'authenticTimestamp', 'revocation']));
  });

  test('a remote registry over loopback plain HTTP; a tag is resolved with a warning', async () => {
    const r = await run(['verify', remoteSigned, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(0);
    const tagged = await run(['verify', `${registry.host}/cli/app:v1`, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(tagged.code).toBe(0);
    expect(tagged.stderr).toMatch(/warning: .*tag/i);
  });

  test('plain HTTP to a non-loopback registry is a configuration error (exit 2)', async () => {
    const r = await run(['verify', `registry.example.com/app@${signedDigest}`, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(/plain HTTP is only allowed for loopback/);
  });

  test('invalid trust policy: exit 2 with notation\'s reason', async () => {
    const r = await run(['verify', `layout@${signedDigest}`, '--oci-layout', '--trust-policy', 'bad-policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/trust store/);
  });

  test('missing trust store: exit 2', async () => {
    const r = await run(['verify', `layout@${signedDigest}`, '--oci-layout', '--trust-policy', 'missing-store-policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/nowhere/);
  });

  test.each([
    [['verify']],
    [['verify', 'x', '--trust-store', 'store']],
    [['verify', 'x', '--trust-policy', 'policy.json', '--trust-store', 'store', '--output', 'yaml']],
    [['verify', 'x', '--no-such-flag']],
    [['frobnicate']],
  ])('bad usage %j: exit 2', async (args) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage:');
  });
});

describe('policy validate', () => {
  test('valid: exit 0', async () => {
    const r = await run(['policy', 'validate', 'policy.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('trust policy is valid');
  });
  test('invalid: exit 2 with the reason', async () => {
    const r = await run(['policy', 'validate', 'bad-policy.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/corp/);
  });
  test('unreadable file: exit 2', async () => {
    const r = await run(['policy', 'validate', 'nope.json']);
    expect(r.code).toBe(2);
  });
});

describe('inspect', () => {
  test('lists each signature with its signed attributes and certificate chain', async () => {
    const r = await run(['inspect', `layout@${signedDigest}`, '--oci-layout']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('signing scheme: notary.x509');
    expect(r.stdout).toContain('issued to: CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US');
    expect(r.stdout).toContain(`digest: ${signedDigest}`);
    const json = JSON.parse((await run(['inspect', remoteSigned, '--plain-http', '--output', 'json'])).stdout);
    expect(json.signatures).toHaveLength(1);
    expect(json.signatures[0].certificates).toHaveLength(3);
  });
});
