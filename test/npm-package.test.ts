/**
 * The npm package: package.json "files" is an allowlist, so the tarball holds exactly the compiled library
 * (lib/*.js + .d.ts for each src/*.ts), the jsii assembly, the bundles with their third-party notices,
 * API.md, README.md, LICENSE and the docs the README links to; nothing else in the working tree
 * (src, test, .demo, cdk.out, examples, coverage, ...) can be published. Every relative link in the shipped
 * markdown resolves inside the package; links into this repository on GitHub (the example app, which imports
 * ../src and so cannot work from the package) name files the repository has. The CLI and the library work
 * from the unpacked tarball.
 *
 * Uses the real `npm pack --ignore-scripts` (offline) on the files the test task's bundle and compile steps
 * built, and on a scratch tree to show that stray files are left out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';

const ROOT = join(__dirname, '..');
const NPM_ENV = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_offline: 'true' };

interface PackResult { filename: string; files: Array<{ path: string }> }

function npmPack(cwd: string, args: string[]): PackResult {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd, encoding: 'utf8', stdio: 'pipe', env: NPM_ENV, timeout: 120_000 });
  const parsed = JSON.parse(out) as PackResult[];
  expect(parsed).toHaveLength(1);
  return parsed[0];
}

/** Every .ts under src/ that compiles to lib/ (not tests, not declaration files), as paths relative to src/. */
function sourceModules(dir = join(ROOT, 'src'), prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...sourceModules(join(dir, e.name), `${prefix}${e.name}/`));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !/\.(test|spec)\.ts$/.test(e.name)) out.push(prefix + e.name.replace(/\.ts$/, ''));
  }
  return out.sort();
}

function handlerNames(): string[] {
  return readdirSync(join(ROOT, 'src', 'handlers')).filter((f) => f.endsWith('.lambda.ts')).map((f) => f.replace(/\.lambda\.ts$/, '')).sort();
}

/** The docs the package ships (package.json "files" must list the same). */
const SHIPPED_DOCS = ['API.md', 'README.md', 'LICENSE', 'docs/runtime-enforcement.md', 'docs/eks.md', 'docs/signing-in-ci.md', 'docs/operations.md'];

/** The exact file list the tarball must have, derived from the sources, not from package.json. */
function expectedFiles(): string[] {
  const files = ['package.json', '.jsii', ...SHIPPED_DOCS, 'assets/cli/cli.js', 'assets/cli/THIRD_PARTY_NOTICES.md'];
  for (const h of handlerNames()) files.push(`assets/handlers/${h}/index.js`, `assets/handlers/${h}/THIRD_PARTY_NOTICES.md`);
  for (const m of sourceModules()) files.push(`lib/${m}.js`, `lib/${m}.d.ts`);
  return files.sort();
}

/**
 * Relative references in a markdown file: inline links and images `[x](path)`, reference definitions
 * `[x]: path`, HTML `href`/`src`, and code spans naming a file under docs/ or examples/ (the README points
 * at those as `docs/runtime-enforcement.md`). Fenced code blocks are skipped; URLs and in-page anchors too.
 */
export function relativeReferences(markdown: string): string[] {
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const refs = new Set<string>();
  const add = (raw: string) => {
    const target = raw.trim().replace(/^<|>$/g, '').split(/\s+/)[0];
    if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('//')) return;
    refs.add(decodeURIComponent(target.replace(/[?#].*$/, '')));
  };
  for (const m of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+(?:\s+"[^"]*")?)\)/g)) add(m[1]);
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*(\S+)/gm)) add(m[1]);
  for (const m of text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/gi)) add(m[1]);
  for (const m of text.matchAll(/`((?:\.\/)?(?:docs|examples)\/[^`\s]+\.[A-Za-z0-9]+)`/g)) add(m[1]);
  return [...refs].sort();
}

/** This repository on GitHub, from package.json ("https://github.com/owner/name"). */
const REPOSITORY = String(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).repository.url).replace(/\.git$/, '');

/**
 * Paths that absolute links into this repository's main branch name (`<repo>/blob/main/<path>` and
 * `<repo>/tree/main/<path>`), with `kind` telling which; anchors and queries dropped. Fenced code is skipped.
 */
export function repositoryLinks(markdown: string, repository = REPOSITORY): Array<{ kind: 'blob' | 'tree'; path: string }> {
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const base = repository.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const links = [...text.matchAll(new RegExp(`${base}/(blob|tree)/main/([^)\\s"'<>\`]+)`, 'g'))]
    .map((m) => ({ kind: m[1] as 'blob' | 'tree', path: decodeURIComponent(m[2].replace(/[?#].*$/, '').replace(/\/$/, '')) }));
  return links.filter((l, i) => links.findIndex((o) => o.kind === l.kind && o.path === l.path) === i);
}

let work: string;
let pack: PackResult;
let pkgDir: string;

beforeAll(() => {
  for (const needed of ['.jsii', 'lib/index.js', 'assets/cli/cli.js']) {
    if (!existsSync(join(ROOT, needed))) throw new Error(`${needed} is missing: run "npx projen compile" first (the test task does)`);
  }
  work = mkdtempSync(join(tmpdir(), 'npm-package-'));
  pack = npmPack(ROOT, ['--pack-destination', work]);
  execFileSync('tar', ['-xzf', join(work, pack.filename), '-C', work]);
  pkgDir = join(work, 'package');
}, 180_000);

afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

/** Files in the unpacked tarball (what an install puts in node_modules/cdk-signed-images). */
function unpacked(dir = pkgDir, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    (e.isDirectory() ? unpacked(join(dir, e.name), `${prefix}${e.name}/`) : [prefix + e.name]));
}

describe('the npm tarball', () => {
  test('holds exactly the allowlisted files: compiled lib, .jsii, bundles and notices, API.md, README, LICENSE, linked docs', () => {
    const listed = pack.files.map((f) => f.path).sort();
    const expected = expectedFiles();
    const missing = expected.filter((f) => !listed.includes(f));
    const unexpected = listed.filter((f) => !expected.includes(f));
    // A missing lib/ file usually means lib/ is older than src/ ("npx projen compile"); an unexpected one is
    // a stray file (or a lib/ file whose source was deleted: "rm -rf lib && npx projen compile").
    expect({ missing, unexpected }).toEqual({ missing: [], unexpected: [] });
    expect(unpacked().sort()).toEqual(listed);
  });

  test('top-level entries are only the allowlisted ones; no sources, tests, demo output, build or report directories', () => {
    const top = [...new Set(pack.files.map((f) => f.path.split('/')[0]))].sort();
    expect(top).toEqual(['.jsii', 'API.md', 'LICENSE', 'README.md', 'assets', 'docs', 'lib', 'package.json']);
    const forbidden = new RegExp([
      '^(src|test|examples|rosetta|\\.demo|cdk\\.out|test-reports|coverage|bench|scripts|dist|node_modules|\\.projen|projenrc|\\.ci)/',
      '(^|/)(tsconfig[^/]*\\.json|\\.projenrc\\.ts|\\.eslintrc\\.json|\\.gitignore|\\.npmignore|\\.npmrc|\\.env|config\\.json)$',
      '\\.(map|tsbuildinfo|tgz)$',
    ].join('|'));
    expect(pack.files.map((f) => f.path).filter((p) => forbidden.test(p))).toEqual([]);
    expect(pack.files.map((f) => f.path).filter((p) => p.startsWith('lib/') && !/\.(js|d\.ts)$/.test(p))).toEqual([]);
  });

  test('package.json "files" lists the shipped docs the test expects (one list to extend together)', () => {
    const files: string[] = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).files;
    expect(files).toEqual(expect.arrayContaining(['lib/**/*.js', 'lib/**/*.d.ts', '.jsii', ...SHIPPED_DOCS]));
  });

  test('every bundle ships with its THIRD_PARTY_NOTICES.md', () => {
    const listed = new Set(pack.files.map((f) => f.path));
    const bundles = [...listed].filter((p) => /^assets\/.*\.js$/.test(p));
    expect(bundles.length).toBe(handlerNames().length + 1);
    for (const b of bundles) expect(listed.has(posix.join(posix.dirname(b), 'THIRD_PARTY_NOTICES.md'))).toBe(true);
    expect(readFileSync(join(pkgDir, 'assets', 'cli', 'THIRD_PARTY_NOTICES.md'), 'utf8')).toContain('`@aws-sdk/client-ecr`');
  });

  test.each(['README.md', 'docs/runtime-enforcement.md', 'API.md'])('every relative link in %s resolves to a file in the package', (doc) => {
    const refs = relativeReferences(readFileSync(join(pkgDir, doc), 'utf8'));
    if (doc === 'README.md') expect(refs).toEqual(expect.arrayContaining(['docs/runtime-enforcement.md']));
    const missing = refs.filter((r) => {
      const resolved = posix.normalize(posix.join(posix.dirname(doc), r));
      return resolved.startsWith('..') || !existsSync(join(pkgDir, resolved)) || !lstatSync(join(pkgDir, resolved)).isFile();
    });
    expect(missing).toEqual([]);
  });

  test.each(['README.md', 'docs/runtime-enforcement.md', 'API.md'])('every link from %s into this repository on GitHub names a file (blob) or directory (tree) the repository has', (doc) => {
    const links = repositoryLinks(readFileSync(join(pkgDir, doc), 'utf8'));
    // The example app imports ../src, so it is not shipped: the README links it on GitHub.
    if (doc === 'README.md') expect(links).toEqual(expect.arrayContaining([{ kind: 'blob', path: 'examples/app.ts' }]));
    const git = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
    const tracked = git.status === 0 ? new Set(git.stdout.split('\0')) : undefined;
    const broken = links.filter((l) => (l.kind === 'blob'
      ? !(tracked ? tracked.has(l.path) : existsSync(join(ROOT, l.path)) && lstatSync(join(ROOT, l.path)).isFile())
      : !(existsSync(join(ROOT, l.path)) && lstatSync(join(ROOT, l.path)).isDirectory())));
    expect(broken).toEqual([]);
  });

  test('the bin, main and types entries point at files in the package; the CLI is executable with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    for (const p of [...Object.values(pkg.bin as Record<string, string>), pkg.main, pkg.types]) expect(existsSync(join(pkgDir, p))).toBe(true);
    const cli = join(pkgDir, pkg.bin['cdk-signed-images']);
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(lstatSync(cli).mode & 0o111).not.toBe(0);
  });

  test('the CLI runs from the unpacked package with no node_modules (it bundles what it needs)', () => {
    const isolated = mkdtempSync(join(tmpdir(), 'npm-package-cli-'));
    try {
      cpSync(join(pkgDir, 'assets', 'cli'), isolated, { recursive: true });
      const r = spawnSync(process.execPath, [join(isolated, 'cli.js'), '--help'], { cwd: isolated, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
      expect(r.status).toBe(0);
      expect(r.stdout + r.stderr).toContain('cdk-signed-images verify');
    } finally {
      rmSync(isolated, { recursive: true, force: true });
    }
  });

  test('npm install of the tarball into a fresh app (offline) gives a working bin: --version prints the package version; README links resolve there', () => {
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true }));
    // --legacy-peer-deps: aws-cdk-lib and constructs are peers, not fetched here (the registry may be unreachable).
    execFileSync('npm', ['install', '--offline', '--legacy-peer-deps', '--ignore-scripts', '--no-audit', '--no-fund', join(work, pack.filename)], { cwd: app, stdio: 'pipe', env: NPM_ENV, timeout: 120_000 });
    const installed = join(app, 'node_modules', 'cdk-signed-images');
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    const r = spawnSync(join(app, 'node_modules', '.bin', 'cdk-signed-images'), ['--version'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: expect.stringContaining(version) });
    const missing = relativeReferences(readFileSync(join(installed, 'README.md'), 'utf8')).filter((ref) => !existsSync(join(installed, ref)));
    expect(missing).toEqual([]);
  }, 120_000);

  test('the library loads from the unpacked package and synthesizes a verifier function from the bundled handler it ships', () => {
    // aws-cdk-lib and constructs are peer dependencies: resolve them from this repository's node_modules.
    const script = `
      const { App, Stack } = require('aws-cdk-lib');
      const lib = require(${JSON.stringify(pkgDir)});
      const app = new App({ outdir: ${JSON.stringify(join(work, 'cdk.out'))} });
      const stack = new Stack(app, 'S', { env: { account: '111122223333', region: 'us-east-1' } });
      const trustPolicy = new lib.TrustPolicy({ statements: [{
        name: 'release', registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/app'], level: lib.VerificationLevel.STRICT,
        trustStores: [lib.TrustStore.AWS_SIGNER], trustedIdentities: [lib.TrustedIdentity.fromArn('arn:aws:signer:us-east-1:111122223333:/signing-profiles/release')],
      }] });
      new lib.ImageVerifierFunction(stack, 'V', { trustPolicy });
      const asm = app.synth();
      const resources = Object.values(asm.getStackByName('S').template.Resources);
      console.log(JSON.stringify({ exports: Object.keys(lib).sort(), functions: resources.filter((r) => r.Type === 'AWS::Lambda::Function').length }));
    `;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: work, encoding: 'utf8', env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') }, timeout: 120_000 });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.exports).toEqual(expect.arrayContaining(['EcsAdmissionHook', 'ImageVerifierFunction', 'SignedRegistry', 'TaskLaunchAudit', 'TrustPolicy']));
    expect(out.functions).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

describe('the allowlist leaves stray working-tree files out (scratch tree, real npm pack)', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'npm-package-stray-'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'stray-check', version: '0.0.0', license: pkg.license, bin: pkg.bin, main: pkg.main, types: pkg.types, files: pkg.files }));
    const files: Record<string, string> = {
      // allowed
      'lib/index.js': '',
      'lib/index.d.ts': '',
      'lib/verifier/x.js': '',
      'lib/verifier/x.d.ts': '',
      '.jsii': '{}',
      'assets/cli/cli.js': '',
      'assets/cli/THIRD_PARTY_NOTICES.md': '',
      'assets/handlers/verify/index.js': '',
      'assets/handlers/verify/THIRD_PARTY_NOTICES.md': '',
      'API.md': '',
      'README.md': '',
      'LICENSE': '',
      'docs/runtime-enforcement.md': '',
      // stray: none of these may be published
      'examples/app.ts': '',
      'src/index.ts': '',
      'test/x.test.ts': '',
      '.demo/trustpolicy.json': '',
      'cdk.out/manifest.json': '',
      'test-reports/jest-results.json': '',
      'coverage/lcov.info': '',
      'bench/results.json': '',
      'scripts/bundle.mjs': '',
      'dist/python/x.whl': '',
      '.env': 'AWS_SECRET_ACCESS_KEY=x',
      'notes.txt': '',
      'Lib/evil.js': '',
      'lib/index.ts': '',
      'lib/index.js.map': '',
      'lib/tsconfig.tsbuildinfo': '',
      'lib/notes.md': '',
      'assets/cli/cli.js.map': '',
      'assets/cli/metafile.json': '',
      'assets/handlers/verify/config.json': '{"secret":1}',
      'assets/handlers/verify/index.js.map': '',
      'assets/handlers/verify/deep/index.js': '',
      'assets/stray.js': '',
      'docs/CONTRIBUTING.md': '',
      'docs/bench-table.md': '',
      'examples/demo.ts': '',
      'cdk-signed-images-0.0.0.tgz': '',
      '.npmrc': '//registry.npmjs.org/:_authToken=x',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(scratch, p)), { recursive: true });
      writeFileSync(join(scratch, p), text);
    }
    // A root .npmignore (jsii-pacmak writes one with `*.ts`) neither widens nor narrows the allowlist.
    writeFileSync(join(scratch, '.npmignore'), '!notes.txt\n!src/\n*.ts\n*.md\n');
    // A symlink named like an allowed file must not carry another file's content into the package.
    symlinkSync('/etc/hostname', join(scratch, 'lib', 'linked.js'));
  });
  afterAll(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }); });

  test('only the allowlisted paths are packed (and npm matches "files" ignoring case, which the exact list above catches)', () => {
    const listed = npmPack(scratch, ['--dry-run']).files.map((f) => f.path).sort();
    // npm (ignore-walk, nocase: true) matches "files" patterns case-insensitively even on Linux, so a stray
    // Lib/ next to lib/ is packed; package.json cannot express that away. The exact-list test on the real
    // tarball fails on any such file, so it can never be published unnoticed.
    expect(listed).toEqual([
      'Lib/evil.js',
      '.jsii', 'API.md', 'LICENSE', 'README.md',
      'assets/cli/THIRD_PARTY_NOTICES.md', 'assets/cli/cli.js', 'assets/handlers/verify/THIRD_PARTY_NOTICES.md', 'assets/handlers/verify/index.js',
      'docs/runtime-enforcement.md',
      'lib/index.d.ts', 'lib/index.js', 'lib/verifier/x.d.ts', 'lib/verifier/x.js',
      'package.json',
    ].sort());
  });
});

describe('repositoryLinks (the GitHub link checker above)', () => {
  test('finds blob and tree links into this repository on main; skips other repositories, branches and fenced code', () => {
    const md = [
      `[app](${REPOSITORY}/blob/main/examples/app.ts) and [docs](${REPOSITORY}/tree/main/docs/) and <${REPOSITORY}/blob/main/docs/a%20b.md#x>`,
      `[again](${REPOSITORY}/blob/main/examples/app.ts) [dev](${REPOSITORY}/blob/dev/x.ts) [other](https://github.com/o/r/blob/main/y.ts)`,
      '```',
      `${REPOSITORY}/blob/main/in-fence.ts`,
      '```',
    ].join('\n');
    expect(repositoryLinks(md)).toEqual([
      { kind: 'blob', path: 'examples/app.ts' }, { kind: 'tree', path: 'docs' }, { kind: 'blob', path: 'docs/a b.md' },
    ]);
    expect(REPOSITORY).toBe('https://github.com/cdk-signed-images/cdk-signed-images');
  });
});

describe('relativeReferences (the link checker above)', () => {
  test('finds inline, image, reference-style, HTML and code-span references; skips URLs, anchors and fenced code', () => {
    const md = [
      'See [the docs](docs/a.md#top) and ![logo](./img/logo.png "t") and <a href="examples/b.ts">b</a>.',
      '[ref]: docs/c.md',
      'Details: `docs/d.md`; also `examples/e.ts`, but not `src/f.ts` nor `config.json`.',
      '[web](https://example.com/x.md) [anchor](#usage) [mail](mailto:a@b.c)',
      '```ts',
      'import x from "docs/in-fence.md"; // [no](docs/no.md)',
      '```',
      'Spaces: [s](docs/with%20space.md)',
    ].join('\n');
    expect(relativeReferences(md)).toEqual(['./img/logo.png', 'docs/a.md', 'docs/c.md', 'docs/d.md', 'docs/with space.md', 'examples/b.ts', 'examples/e.ts']);
  });
});
