/**
 * scripts/check-examples.mjs (the `check-examples` step of `npx projen test`) really fails on a README
 * block or an @example that does not compile, and passes on ones that do. It runs on a scratch copy of
 * the compiled assembly (.jsii) whose README and examples this test writes, next to this repository's
 * lib/, node_modules/ and rosetta/ fixture (symlinked), so the real script, the real jsii-rosetta and the real fixture
 * are what is tested. The README used for the passing case is the working tree's README.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'check-examples.mjs');

/** Removes every `example` from the docs of the assembly's types and members. */
function withoutExamples(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutExamples);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>)
      .filter(([k, v]) => !(k === 'example' && typeof v === 'string'))
      .map(([k, v]) => [k, withoutExamples(v)]));
  }
  return value;
}

/** Runs the check on a scratch assembly with this README and these examples (type fqn → example). */
function checkExamples(readme: string, examples: Record<string, string>): { status: number | null; output: string; tablet?: any } {
  const dir = mkdtempSync(join(tmpdir(), 'rosetta-test-'));
  try {
    const assembly = JSON.parse(readFileSync(join(ROOT, '.jsii'), 'utf8'));
    if (assembly.schema !== 'jsii/0.10.0') throw new Error(`unexpected .jsii schema ${assembly.schema}`);
    const types = withoutExamples(assembly.types) as Record<string, any>;
    for (const [fqn, example] of Object.entries(examples)) {
      if (!types[fqn]) throw new Error(`no type ${fqn} in the assembly`);
      types[fqn].docs = { ...types[fqn].docs, example };
    }
    writeFileSync(join(dir, '.jsii'), JSON.stringify({ ...assembly, types, readme: { markdown: readme } }));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'lib'), join(dir, 'lib'), 'dir');
    symlinkSync(join(ROOT, 'rosetta'), join(dir, 'rosetta'), 'dir');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir'); // rosetta resolves the peer dependencies from here
    const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8', timeout: 280_000 });
    const tabletFile = join(dir, '.jsii.tabl.json');
    return {
      status: run.status,
      output: `${run.stdout}\n${run.stderr}`,
      tablet: existsSync(tabletFile) ? JSON.parse(readFileSync(tabletFile, 'utf8')) : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const GOOD_EXAMPLE = [
  "import { TrustPolicy } from 'cdk-signed-images';",
  '',
  'const policy = TrustPolicy.fromSigningProfiles(registry);',
].join('\n');

beforeAll(() => {
  for (const needed of ['.jsii', 'lib/index.d.ts']) {
    if (!existsSync(join(ROOT, needed))) throw new Error(`${needed} is missing: run "npx projen compile" first (the test task does)`);
  }
});

test("passes on this repository's README.md and an @example that compile; rosetta translates them", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const r = checkExamples(readme, { 'cdk-signed-images.TrustPolicy': GOOD_EXAMPLE });
  expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
  expect(r.output).toMatch(/README\.md and every @example compile/);
  // The Quick start block and the example were compiled and translated (Python shown).
  const python = Object.values(r.tablet.snippets as Record<string, any>).map((s) => s.translations?.python?.source ?? '').join('\n');
  expect(python).toContain('from cdk_signed_images import');
  expect(python).toContain('hook.attach_to(fargate_service)');
  expect(python).toContain('TrustPolicy.from_signing_profiles(registry)');
}, 300_000);

test('fails on a README ts block and on an @example that do not compile, naming each; other languages are not compiled', () => {
  const readme = [
    '# scratch',
    '',
    '```ts',
    "import { SignedRegistry } from 'cdk-signed-images';",
    "const registry = new SignedRegistry(this, 'Images', { repositoryName: 'shop/api' });",
    'registry.grantPushAndSign(ciRole);',
    '```',
    '',
    '```ts',
    "import { SignedRegistry } from 'cdk-signed-images';",
    "new SignedRegistry(this, 'Broken', { repositoryName: 42 });",
    '```',
    '',
    '```console',
    '$ this is not TypeScript {{{',
    '```',
    '',
    '```',
    'neither is this ))) =>',
    '```',
    '',
  ].join('\n');
  const r = checkExamples(readme, {
    'cdk-signed-images.TrustPolicy': GOOD_EXAMPLE,
    'cdk-signed-images.EcsAdmissionHook': "import { EcsAdmissionHook } from 'cdk-signed-images';\n\nnew EcsAdmissionHook(this, 'Hook', { trustPolicy }).attachTo(undefinedService);",
  });
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/Type 'number' is not assignable to type 'string'/);
  expect(r.output).toMatch(/EcsAdmissionHook-example\.ts.*Cannot find name 'undefinedService'/);
  // Four snippets: the two ts blocks and the two examples (the console and the untagged block are not TypeScript).
  expect(r.output).toMatch(/2 diagnostics encountered in 4 snippets/);
  expect(r.output).toMatch(/does not compile \(exit [1-9]/);
}, 300_000);
