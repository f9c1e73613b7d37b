/**
 * Another language in the test command: a Python app (standard library only, /usr/bin/python3) drives
 * cdk-signed-images through the real jsii kernel process, @jsii/runtime's webpack/bin/jsii-runtime.js,
 * speaking the same JSON-lines protocol the generated Python and Java bindings speak underneath.
 *
 * The kernel is fetched once from the npm registry by scripts/fetch-jsii-runtime.mjs (pinned version,
 * sha512 checked, cached in node_modules/.cache/jsii-runtime); the assemblies are tarballs of constructs,
 * aws-cdk-lib and its jsii dependencies, the kubectl v34 layer the EKS example cluster needs
 * (test/jsii-kernel/assemblies.ts) and `npm pack` of this library as the test task compiled it. The Python side (scenario.py) prints one JSON line per check; each check
 * compares what came back through the kernel with what it expected, so each can fail on its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssemblyTarball, assemblyTarballs } from './assemblies';

const ROOT = join(__dirname, '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'jsii-runtime');
const PYTHON = process.env.JSII_KERNEL_TEST_PYTHON ?? '/usr/bin/python3';

interface Check { check: string; ok: boolean; detail: any; error?: string }
interface Summary { checks: number; failed: number; seconds: number }

let work: string;
let assemblies: AssemblyTarball[];
const checks: Check[] = [];
let summary: Summary | undefined;
let stderr = '';
let exitCode: number | null = null;
const timings: Record<string, number> = {};

function timed<T>(name: string, f: () => T): T {
  const start = Date.now();
  try {
    return f();
  } finally {
    timings[name] = (Date.now() - start) / 1000;
  }
}

function byName(name: string): Check {
  const found = checks.filter((c) => c.check === name);
  if (found.length !== 1) throw new Error(`check "${name}" reported ${found.length} times; stderr:\n${stderr.slice(-3000)}`);
  return found[0];
}

/** The check passed; on failure, print what it saw (the detail is the evidence). */
function expectPassed(name: string): Check {
  const c = byName(name);
  if (!c.ok) throw new Error(`check "${name}" failed: ${c.error ?? ''}\n${JSON.stringify(c.detail, null, 2).slice(0, 4000)}`);
  return c;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, '.jsii')) || !existsSync(join(ROOT, 'lib', 'index.js'))) {
    throw new Error('.jsii or lib/ is missing: run "npx projen compile" first (the test task does)');
  }
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: the kernel test needs a Python 3 interpreter (standard library only)`);
  work = mkdtempSync(join(tmpdir(), 'jsii-kernel-'));

  const runtime = timed('fetchRuntime', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'fetch-jsii-runtime.mjs'), '--cache-dir', CACHE], { encoding: 'utf8', timeout: 150_000 });
    if (r.status !== 0) throw new Error(`cannot get the jsii kernel: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
    return r.stdout.trim();
  });
  // The kubectl layer: a jsii package the EKS webhook's cluster needs (a devDependency, as a Python app's dependency).
  assemblies = timed('packAssemblies', () => assemblyTarballs(ROOT, join(CACHE, 'assemblies'), work, ['@aws-cdk/lambda-layer-kubectl-v34']));
  const manifest = join(work, 'assemblies.json');
  writeFileSync(manifest, JSON.stringify(assemblies));
  const outdir = join(work, 'cdk.out');
  mkdirSync(join(CACHE, 'package-cache'), { recursive: true });

  const run = timed('python', () => spawnSync(PYTHON, [
    join(__dirname, 'scenario.py'),
    '--runtime', runtime,
    '--assemblies', manifest,
    '--outdir', outdir,
    '--node', process.execPath,
    '--package-cache', join(CACHE, 'package-cache'),
  ], { encoding: 'utf8', timeout: 240_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }));
  stderr = `${run.stderr ?? ''}${run.error ? `\n${run.error.message}` : ''}`;
  exitCode = run.status;
  for (const line of (run.stdout ?? '').split('\n')) {
    if (!line.trim()) continue;
    const parsed = JSON.parse(line);
    if (parsed.summary) summary = parsed.summary;
    else checks.push(parsed);
  }
  // The numbers for the README and the report.
  process.stderr.write(`jsii kernel test timings (s): ${JSON.stringify({ ...timings, loadAwsCdkLib: checks.find((c) => c.check === 'load aws-cdk-lib')?.detail.seconds, synth: checks.find((c) => c.check === 'synth')?.detail.seconds, scenario: summary?.seconds })}\n`);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the Python client ran every check and exited 0', () => {
  expect(stderr).not.toMatch(/Traceback/);
  expect(summary).toBeDefined();
  expect(checks.filter((c) => !c.ok).map((c) => c.check)).toEqual([]);
  expect(summary!.failed).toBe(0);
  expect(summary!.checks).toBe(checks.length);
  expect(exitCode).toBe(0);
});

test('the kernel is the pinned @jsii/runtime and loads the assemblies in dependency order', () => {
  expect(expectPassed('kernel starts').detail.hello).toBe('@jsii/runtime@1.140.0');
  const names = assemblies.map((a) => a.name);
  expect(names[names.length - 1]).toBe('cdk-signed-images');
  expect(names.indexOf('aws-cdk-lib')).toBeGreaterThan(-1);
  for (const dep of ['constructs', '@aws-cdk/cloud-assembly-schema', '@aws-cdk/asset-awscli-v1', '@aws-cdk/asset-node-proxy-agent-v6']) {
    expect(names.indexOf(dep)).toBeGreaterThan(-1);
    expect(names.indexOf(dep)).toBeLessThan(names.indexOf('aws-cdk-lib'));
  }
  for (const a of assemblies) {
    const loaded = expectPassed(`load ${a.name}`);
    expect(loaded.detail.assembly).toBe(a.name);
  }
  expect(expectPassed('load aws-cdk-lib').detail.types).toBeGreaterThan(10_000);
  expect(expectPassed('load cdk-signed-images').detail.types).toBeGreaterThanOrEqual(20);
});

test('closed sets are native enums in the assembly the bindings see', () => {
  const c = expectPassed('closed sets are native enums');
  expect(Object.values(c.detail.kinds).every((k) => k === 'enum')).toBe(true);
  expect(c.detail.members.AdmissionMode).toEqual(expect.arrayContaining(['ENFORCE', 'AUDIT']));
  // Every enum of the trust policy, passed from Python, renders as notation's strings.
  expect(expectPassed('trust policy statement with every enum').detail).toMatchObject({
    awsSignerType: 'cdk-signed-images.TrustStoreType/SIGNING_AUTHORITY',
    signatureVerification: { level: 'strict', override: { revocation: 'log' }, verifyTimestamp: 'afterCertExpiry' },
    trustStores: ['signingAuthority:py-signer'],
  });
  // A member that does not exist is refused by the kernel before any of our code runs.
  expect(expectPassed('an enum member that does not exist is refused').detail).toMatchObject({
    name: '@jsii/kernel.SerializationError',
    message: expect.stringContaining("No such enum member: 'MAYBE'"),
  });
});

test('every construct is built from Python: registry, verifier, ECS service with the hook attached, audit, EKS webhook', () => {
  for (const name of ['app and stack', 'SignedRegistry', 'ImageVerifierFunction', 'ECS service built through the kernel', 'TaskLaunchAudit', 'EksAdmissionWebhook on an EKS cluster']) expectPassed(name);
  // The enum member went in as {"$jsii.enum": ...} and comes back the same way.
  expect(expectPassed('EcsAdmissionHook with enums, attached to the service').detail.mode).toBe('cdk-signed-images.AdmissionMode/ENFORCE');
});

test('a Python class implements ISignedRepositorySource; the kernel calls back for every property', () => {
  const c = expectPassed('Python implements ISignedRepositorySource');
  expect(c.detail.callbacks).toEqual(expect.arrayContaining(['repositories', 'repositoryUris', 'signingProfileArn']));
  expect(c.detail.identities).toContain('arn:aws:signer:us-east-1:123456789012:/signing-profiles/legacy_release');
  expect(c.detail.scopes[1]).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/legacy/app');
  // The library's own adapter for aws_signer profiles works from Python too (no structural typing needed).
  expect(expectPassed('SigningProfileSource adapts an aws_signer profile').detail.arn).toContain(':/signing-profiles/imported_release');
});

test('validation errors raised in TypeScript reach Python as kernel errors with our message, and Python goes on', () => {
  expect(expectPassed('validation error reaches Python').detail.message).toMatch(/^signingProfileName "bad name!" is invalid: .* \(at Shop\/Bad\)$/);
  expect(expectPassed('static validation error reaches Python').detail.message).toContain('trusted identity "arn:aws:s3:::not-a-profile" is not an AWS Signer signing profile ARN');
  expect(expectPassed('invalid trust policy statement reaches Python').detail.message).toContain('invalid trust policy');
  // A Python exception inside a callback travels into TypeScript and back out as a kernel error.
  expect(expectPassed('Python error in a callback reaches Python').detail.message).toContain('LookupError: no signing profile configured for this account');
  // ...and the app built after the errors still synthesizes.
  expectPassed('synth');
});

test('app.synth() writes a cloud assembly whose template Python reads', () => {
  expect(expectPassed('cloud assembly read by Python').detail.stacks).toEqual(['Kube', 'Shop']);
  expect(expectPassed('Kube template has the webhook').detail.webhookKinds).toEqual(expect.arrayContaining(['ValidatingWebhookConfiguration']));
  const resources = expectPassed('template has the expected resources').detail;
  expect(resources.counts).toMatchObject({ 'AWS::ECR::Repository': 1, 'AWS::Signer::SigningProfile': 1, 'AWS::ECS::Service': 1, 'AWS::Events::Rule': 1 });
  expect(resources.hookStages).toEqual([['PRE_SCALE_UP']]);
  expect(expectPassed('ECR pull is scoped to the policy\'s repositories').detail.ecrOnStar).toEqual([]);
  const warning = expectPassed('scope warning for the sidecar reaches the assembly').detail.warnings.find((w: any) => w.message.includes('imageOutsideTrustPolicy'));
  expect(warning.path).toMatch(/^\/Shop\/Service/);
  expect(expectPassed('kernel exits cleanly').detail.exitCode).toBe(0);
});
