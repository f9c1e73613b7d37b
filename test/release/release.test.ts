/**
 * Release machinery that can be exercised without GitHub, PyPI or Maven Central: on a fresh clone of the
 * committed tree, `npx projen` leaves no diff (generated workflows are current), `bump` derives the next
 * version and a CHANGELOG from conventional commits, `package-all` packages every target at that version
 * (offline paths for Python and Java, see scripts/package-target.sh), and `unbump` restores 0.0.0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const ENV = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', PACKAGE_OFFLINE: '1', CI: '' };

let dir: string;

function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): string {
  return execFileSync(cmd, args, { cwd: dir, encoding: 'utf8', stdio: 'pipe', timeout: 600_000, env: { ...ENV, ...extraEnv } });
}

function git(...args: string[]): string {
  return run('git', ['-c', 'user.name=Release Test', '-c', 'user.email=release@test.invalid', '-c', 'commit.gpgsign=false', ...args]);
}

beforeAll(() => {
  if (!existsSync(join(ROOT, '.jsii'))) throw new Error('no .jsii assembly: run "npx projen compile" first (the test task does)');
  dir = mkdtempSync(join(tmpdir(), 'csi-release-'));
  execFileSync('git', ['clone', '-q', '--no-hardlinks', ROOT, dir], { stdio: 'pipe' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // The build products the test task just made (compile + bundle), so packaging needs no second jsii run.
  for (const p of ['.jsii', 'lib', 'assets']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('npx projen on a fresh clone leaves no diff: the generated workflows and tasks are committed and current', () => {
  run('npx', ['--no-install', 'projen']);
  expect(git('status', '--porcelain', '--untracked-files=no')).toBe('');
  for (const wf of ['build.yml', 'release.yml', 'pull-request-lint.yml', 'upgrade-main.yml']) {
    expect(existsSync(join(dir, '.github', 'workflows', wf))).toBe(true);
  }
}, 600_000);

test('the release workflow publishes to npm, PyPI and Maven Central with the agreed names', () => {
  const wf = readFileSync(join(dir, '.github', 'workflows', 'release.yml'), 'utf8');
  // top-level jobs are the two-space-indented keys under `jobs:`
  const jobs = [...wf.slice(wf.indexOf('\njobs:')).matchAll(/^ {2}([a-z_]+):$/gm)].map((m) => m[1]);
  expect(jobs).toEqual(expect.arrayContaining(['release', 'release_github', 'release_npm', 'release_pypi', 'release_maven']));
  const job = (name: string) => {
    const start = wf.indexOf(`\n  ${name}:\n`);
    const next = wf.slice(start + 1).search(/\n {2}[a-z_]+:\n/);
    return next < 0 ? wf.slice(start) : wf.slice(start, start + 1 + next);
  };
  expect(job('release_pypi')).toContain('package:python');
  expect(job('release_maven')).toContain('package:java');
  expect(job('release_maven')).toContain('central-ossrh');
  expect(job('release_npm')).toContain('package:js');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  expect(pkg.jsii.targets.python).toEqual({ distName: 'cdk-signed-images', module: 'cdk_signed_images' });
  expect(pkg.jsii.targets.java.maven).toEqual({ groupId: 'io.github.cdk-signed-images', artifactId: 'cdk-signed-images' });
  expect(pkg.jsii.targets.java.package).toBe('io.github.cdksignedimages');
  // jsii-diff runs in every compile (compat), against the last release tag
  const tasks = JSON.parse(readFileSync(join(dir, '.projen', 'tasks.json'), 'utf8')).tasks;
  expect(tasks.compile.steps).toEqual(expect.arrayContaining([{ spawn: 'compat' }]));
  expect(JSON.stringify(tasks.compat.steps)).toContain('scripts/compat.sh');
});

test('compat: before the first release tag it reports that there is nothing to compare and passes', () => {
  const out = execFileSync('bash', ['scripts/compat.sh'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  expect(out).toBe('');
  const r = spawnSync('bash', ['scripts/compat.sh'], { cwd: dir, encoding: 'utf8', env: ENV });
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/no release tag/);
});

test('bump derives the next version and a CHANGELOG from conventional commits; package-all packages every target at it; unbump restores', () => {
  // a previous release, then one feature since
  git('tag', 'v0.1.0');
  writeFileSync(join(dir, 'RELEASE_TEST.md'), 'a released change\n');
  git('add', 'RELEASE_TEST.md');
  git('commit', '-q', '-m', 'feat: a feature for the release test');
  run('npx', ['--no-install', 'projen', 'bump'], { RELEASE: 'true', MAJOR: '0' });
  const version = readFileSync(join(dir, 'dist', 'version.txt'), 'utf8').trim();
  expect(version).toBe('0.1.1');
  expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version).toBe('0.1.1');
  const changelog = readFileSync(join(dir, 'dist', 'changelog.md'), 'utf8');
  expect(changelog).toContain('a feature for the release test');
  expect(readFileSync(join(dir, 'dist', 'releasetag.txt'), 'utf8').trim()).toBe('v0.1.1');

  // the release builds after the bump, so the assembly carries the new version (jsii directly: the
  // build's compat step would look for v0.1.0 on npm, which this test's tag never published)
  run('npx', ['--no-install', 'jsii', '--silence-warnings=reserved-word']);
  run('npx', ['--no-install', 'projen', 'package-all']);
  expect(readdirSync(join(dir, 'dist', 'js'))).toContain('cdk-signed-images@0.1.1.jsii.tgz');
  expect(readdirSync(join(dir, 'dist', 'python'))).toEqual(expect.arrayContaining(['cdk_signed_images-0.1.1-py3-none-any.whl']));
  const pom = readFileSync(join(dir, 'dist', 'java-src', 'java', 'pom.xml'), 'utf8');
  expect(pom).toContain('<version>0.1.1</version>');

  run('npx', ['--no-install', 'projen', 'unbump']);
  expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version).toBe('0.0.0');
}, 900_000);
