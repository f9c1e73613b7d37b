/**
 * scripts/check-examples.mjs (the `check-examples` step of `npx projen test`) really fails on a markdown
 * `ts` block or an @example that does not compile, naming the file and line of the block, and passes on
 * ones that do. It runs on a scratch copy of the compiled assembly (.jsii) whose examples this test
 * writes, next to this repository's lib/, node_modules/ and rosetta/ fixture (symlinked), with markdown
 * files this test writes, so the real script, the real jsii-rosetta and the real fixture are what is
 * tested. The passing case uses the working tree's README.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** Runs the check on a scratch assembly with these examples (type fqn → example) and markdown files (name → text). */
function checkExamples(markdown: Record<string, string>, examples: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rosetta-test-'));
  try {
    const assembly = JSON.parse(readFileSync(join(ROOT, '.jsii'), 'utf8'));
    if (assembly.schema !== 'jsii/0.10.0') throw new Error(`unexpected .jsii schema ${assembly.schema}`);
    const types = withoutExamples(assembly.types) as Record<string, any>;
    for (const [fqn, example] of Object.entries(examples)) {
      if (!types[fqn]) throw new Error(`no type ${fqn} in the assembly`);
      types[fqn].docs = { ...types[fqn].docs, example };
    }
    writeFileSync(join(dir, '.jsii'), JSON.stringify({ ...assembly, types }));
    mkdirSync(join(dir, 'md'));
    for (const [name, text] of Object.entries(markdown)) writeFileSync(join(dir, 'md', name), text);
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'lib'), join(dir, 'lib'), 'dir');
    symlinkSync(join(ROOT, 'rosetta'), join(dir, 'rosetta'), 'dir');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir'); // rosetta resolves the peer dependencies from here
    const files = Object.keys(markdown).map((name) => join(dir, 'md', name));
    const run = spawnSync(process.execPath, [SCRIPT, '--assembly', dir, ...files], { encoding: 'utf8', timeout: 280_000 });
    return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
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

test("passes on this repository's README.md and an @example that compile", () => {
  const r = checkExamples({ 'README.md': readFileSync(join(ROOT, 'README.md'), 'utf8') }, { 'cdk-signed-images.TrustPolicy': GOOD_EXAMPLE });
  expect({ status: r.status, output: r.status === 0 ? '' : r.output }).toEqual({ status: 0, output: '' });
  expect(r.output).toMatch(/README\.md and every @example compile/);
}, 300_000);

test('fails on a markdown ts block and on an @example that do not compile, naming each (the block by file and line); other languages are not compiled', () => {
  const guide = [
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
  const r = checkExamples({ 'ok.md': '# fine\n\n```ts\nconst n: number = 1;\n```\n', 'guide.md': guide }, {
    'cdk-signed-images.TrustPolicy': GOOD_EXAMPLE,
    'cdk-signed-images.EcsAdmissionHook': "import { EcsAdmissionHook } from 'cdk-signed-images';\n\nnew EcsAdmissionHook(this, 'Hook', { trustPolicy }).attachTo(undefinedService);",
  });
  expect(r.status).not.toBe(0);
  // The broken block is named by its file and the line of its opening fence (line 9 of guide.md).
  expect(r.output).toMatch(/md\/guide\.md:9 \(ts block\):\d+:\d+ - error TS2322: Type 'number' is not assignable to type 'string'/);
  expect(r.output).toMatch(/EcsAdmissionHook-example\.ts.*Cannot find name 'undefinedService'/);
  // Five snippets: the three ts blocks and the two examples (the console and the untagged block are not TypeScript).
  expect(r.output).toMatch(/2 diagnostics encountered in 5 snippets/);
  expect(r.output).toMatch(/does not compile \(exit [1-9]/);
}, 300_000);
