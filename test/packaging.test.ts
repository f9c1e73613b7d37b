/**
 * Packaging for the jsii targets, from the assembly the test task's compile step just built (.jsii):
 * the Python wheel and sdist pass `twine check`, and the Java sources are generated. (PyPI and Maven
 * Central are unreachable here, so neither is installed or compiled: see README "Packaging".)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

function projen(task: string): string {
  return execFileSync('npx', ['--no-install', 'projen', task], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: 'pipe',
    timeout: 300_000,
    env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  });
}

beforeAll(() => {
  if (!existsSync(join(ROOT, '.jsii'))) throw new Error('no .jsii assembly: run "npx projen compile" first (the test task does)');
});

test('package:python builds a wheel and an sdist that pass twine check', () => {
  const out = projen('package:python');
  const files = readdirSync(join(ROOT, 'dist', 'python'));
  expect(files).toEqual(expect.arrayContaining([expect.stringMatching(/^cdk_signed_images-.*-py3-none-any\.whl$/), expect.stringMatching(/^cdk.signed.images-.*\.tar\.gz$/)]));
  expect(out.match(/PASSED/g)?.length).toBe(2);
  expect(out).not.toMatch(/FAILED/);
}, 300_000);

test('package:java generates the io.github.cdksignedimages sources and a pom with the agreed coordinates', () => {
  projen('package:java');
  const base = join(ROOT, 'dist', 'java-src', 'java');
  const pom = readFileSync(join(base, 'pom.xml'), 'utf8');
  expect(pom).toContain('<groupId>io.github.cdk-signed-images</groupId>');
  expect(pom).toContain('<artifactId>cdk-signed-images</artifactId>');
  expect(existsSync(join(base, 'src', 'main', 'java', 'io', 'github', 'cdksignedimages', 'SignedRegistry.java'))).toBe(true);
}, 300_000);

test('package:js (the npm artifact jsii-pacmak publishes) holds the same files as npm pack of the working tree', () => {
  rmSync(join(ROOT, 'dist', 'js'), { recursive: true, force: true });
  projen('package:js');
  const tarballs = readdirSync(join(ROOT, 'dist', 'js')).filter((f) => f.endsWith('.tgz'));
  expect(tarballs).toHaveLength(1);
  const inTarball = execFileSync('tar', ['-tzf', join(ROOT, 'dist', 'js', tarballs[0])], { encoding: 'utf8' })
    .split('\n').filter((l) => l && !l.endsWith('/')).map((l) => l.replace(/^package\//, '')).sort();
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }))[0]
    .files.map((f: { path: string }) => f.path).sort();
  expect(inTarball).toEqual(packed);
  expect(inTarball.filter((f) => /^(src|test|\.demo|cdk\.out|coverage|test-reports)\//.test(f))).toEqual([]);
}, 300_000);
