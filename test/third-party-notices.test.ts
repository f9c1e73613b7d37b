/**
 * Third-party notices next to each bundle (scripts/bundle.mjs): every npm package esbuild reads for a
 * bundle is named, with its version and license texts, in the THIRD_PARTY_NOTICES.md beside it; a bundled
 * package under an unaccepted license, or with no license at all, fails the bundle script.
 *
 * The bundle script is ESM and jest runs CommonJS, so its functions run in a child `node` process. The
 * package set the test expects is derived here from esbuild's metafile independently of the script.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(__dirname, '..');
const BUNDLE_SCRIPT = pathToFileURL(join(ROOT, 'scripts', 'bundle.mjs')).href;

/** Runs an ES module snippet with `bundle` bound to scripts/bundle.mjs and returns what it prints as JSON. */
function runModule(body: string, cwd = ROOT): any {
  const esbuild = pathToFileURL(require.resolve('esbuild', { paths: [ROOT] })).href;
  const src = `import * as bundle from ${JSON.stringify(BUNDLE_SCRIPT)};\nimport { build } from ${JSON.stringify(esbuild)};\n${body}`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', src], { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
  return JSON.parse(out);
}

interface Job { name: string; outfile: string; inputs: string[] }

let jobs: Job[];

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
  // The same esbuild options the script uses, without writing: the metafile's inputs.
  jobs = runModule(`
    const out = [];
    for (const job of bundle.bundleJobs()) {
      const r = await build({ ...job.options, write: false, metafile: true, absWorkingDir: bundle.ROOT, logLevel: 'silent' });
      out.push({ name: job.name, outfile: job.outfile, inputs: Object.keys(r.metafile.inputs) });
    }
    console.log(JSON.stringify(out));
  `);
}, 180_000);

/** `{ name, version }` of each package directory the inputs come from, computed here, not by the script. */
function packagesOf(inputs: string[]): Array<{ name: string; version: string; dir: string }> {
  const dirs = new Set<string>();
  for (const input of inputs) {
    const i = input.lastIndexOf('node_modules/');
    if (i < 0) continue;
    const rest = input.slice(i + 'node_modules/'.length).split('/');
    dirs.add(input.slice(0, i) + 'node_modules/' + (rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]));
  }
  return [...dirs].map((d) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, d, 'package.json'), 'utf8'));
    return { name: pkg.name, version: pkg.version, dir: d };
  });
}

describe('THIRD_PARTY_NOTICES.md next to each bundle', () => {
  test('there is one bundle per handler and one for the CLI, each with a notices file', () => {
    const names = jobs.map((j) => j.name).sort();
    expect(names).toEqual(expect.arrayContaining(['cli', 'handlers/admission-hook', 'handlers/task-audit', 'handlers/verify']));
    for (const j of jobs) expect(existsSync(join(dirname(j.outfile), 'THIRD_PARTY_NOTICES.md'))).toBe(true);
  });

  test('the CLI bundle carries the AWS SDK, and every package esbuild read for it is named with its version and license texts', () => {
    const cli = jobs.find((j) => j.name === 'cli')!;
    const packages = packagesOf(cli.inputs);
    const names = packages.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['@aws-sdk/client-ecr', '@aws-sdk/client-signer', '@smithy/core']));
    const notices = readFileSync(join(dirname(cli.outfile), 'THIRD_PARTY_NOTICES.md'), 'utf8');
    for (const p of packages) {
      expect(notices).toContain(`| \`${p.name}\` | ${p.version} |`);
    }
    // One table row per package, no more.
    expect(notices.match(/^\| `[^`]+` \|/gm)).toHaveLength(packages.length);
    // The license texts themselves, not only names: the Apache-2.0 terms and bowser's MIT grant.
    expect(notices).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    if (names.includes('bowser')) expect(notices).toContain('Permission is hereby granted, free of charge');
    // Every license file of every bundled package appears verbatim (modulo line endings and trailing spaces).
    const norm = (t: string) => t.replace(/\r\n?/g, '\n').split('\n').map((l) => l.trimEnd()).join('\n').trim();
    for (const p of packages) {
      for (const f of ['LICENSE', 'LICENSE.txt', 'LICENSE.md', 'NOTICE', 'NOTICE.txt']) {
        const file = join(ROOT, p.dir, f);
        if (existsSync(file)) expect(norm(notices)).toContain(norm(readFileSync(file, 'utf8')));
      }
    }
  });

  test('Lambda bundles keep the AWS SDK external; their notices say they bundle no third-party package (and that stays true)', () => {
    for (const j of jobs.filter((x) => x.name.startsWith('handlers/'))) {
      const packages = packagesOf(j.inputs);
      const notices = readFileSync(join(dirname(j.outfile), 'THIRD_PARTY_NOTICES.md'), 'utf8');
      expect(packages.map((p) => p.name).filter((n) => n.startsWith('@aws-sdk/'))).toEqual([]);
      if (packages.length === 0) expect(notices).toContain('contains no third-party npm packages');
      for (const p of packages) expect(notices).toContain(`| \`${p.name}\` | ${p.version} |`);
    }
  });

  test('the notices are deterministic: bundling twice writes the same bytes', () => {
    const read = () => jobs.map((j) => readFileSync(join(dirname(j.outfile), 'THIRD_PARTY_NOTICES.md'), 'utf8'));
    const first = read();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
    expect(read()).toEqual(first);
  }, 120_000);
});

describe('the license gate, on a scratch project with real esbuild and real files', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'notices-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A scratch root with src/cli/main.ts importing the given packages; returns the bundle script's outcome. */
  function scratch(packages: Record<string, { pkg: object; files?: Record<string, string>; main?: string }>, extraImport = '') {
    mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
    const names = Object.keys(packages);
    writeFileSync(join(dir, 'src', 'cli', 'main.ts'), names.map((n, i) => `import m${i} from '${n}';\nconsole.log(m${i});`).join('\n') + extraImport + '\n');
    for (const [name, p] of Object.entries(packages)) {
      const pdir = join(dir, 'node_modules', name);
      mkdirSync(pdir, { recursive: true });
      writeFileSync(join(pdir, 'package.json'), JSON.stringify({ name, version: '1.2.3', main: 'index.js', ...p.pkg }));
      writeFileSync(join(pdir, 'index.js'), p.main ?? `module.exports = ${JSON.stringify(name)};\n`);
      for (const [f, text] of Object.entries(p.files ?? {})) writeFileSync(join(pdir, f), text);
    }
    const src = `import * as bundle from ${JSON.stringify(BUNDLE_SCRIPT)};
      try { const r = await bundle.bundleAll(${JSON.stringify(dir)}); console.log(JSON.stringify({ ok: true, packages: r.map((x) => x.packages.map((p) => p.name + '@' + p.version)) })); }
      catch (e) { console.log(JSON.stringify({ ok: false, message: String(e.message ?? e) })); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout);
  }
  const noticesFile = () => join(dir, 'assets', 'cli', 'THIRD_PARTY_NOTICES.md');

  test('a GPL-3.0 package fails the bundle with a message naming it; no notices file is written', () => {
    const r = scratch({ 'copyleft-lib': { pkg: { license: 'GPL-3.0-only' }, files: { LICENSE: 'GNU GENERAL PUBLIC LICENSE\n' } } });
    expect(r.ok).toBe(false);
    expect(r.message).toContain('copyleft-lib@1.2.3');
    expect(r.message).toContain('"GPL-3.0-only"');
    expect(existsSync(noticesFile())).toBe(false);
  });

  test.each([
    ['no license field and no license file', {}, {}],
    ['an UNLICENSED field', { license: 'UNLICENSED' }, { LICENSE: 'All rights reserved.\n' }],
    ['a "SEE LICENSE IN" field', { license: 'SEE LICENSE IN EULA.txt' }, {}],
    ['an AND with a copyleft license', { license: '(MIT AND GPL-2.0-only)' }, {}],
    ['an exception (WITH) clause', { license: 'GPL-2.0-only WITH Classpath-exception-2.0' }, {}],
  ])('a package with %s fails the bundle', (_label, pkg, files) => {
    const r = scratch({ 'odd-lib': { pkg, files: files as Record<string, string> } });
    expect(r.ok).toBe(false);
    expect(r.message).toContain('odd-lib@1.2.3');
  });

  test('accepted: SPDX OR with one accepted choice, the legacy licenses array, a license object, and a license field without a file', () => {
    const r = scratch({
      'dual-lib': { pkg: { license: '(GPL-3.0-only OR MIT)' }, files: { 'LICENSE-MIT': 'MIT License dual-lib\n' } },
      'legacy-lib': { pkg: { licenses: [{ type: 'BSD-3-Clause' }] }, files: { 'LICENCE.md': 'BSD legacy-lib text\n' } },
      'object-lib': { pkg: { license: { type: 'ISC' } }, files: { 'license.txt': 'ISC object-lib text\n' } },
      'bare-lib': { pkg: { license: 'MIT' } },
    });
    expect(r).toEqual({ ok: true, packages: [['bare-lib@1.2.3', 'dual-lib@1.2.3', 'legacy-lib@1.2.3', 'object-lib@1.2.3']] });
    const notices = readFileSync(noticesFile(), 'utf8');
    expect(notices).toContain('| `dual-lib` | 1.2.3 | (GPL-3.0-only OR MIT) | LICENSE-MIT: text 1 |');
    expect(notices).toContain('| `legacy-lib` | 1.2.3 | BSD-3-Clause |');
    expect(notices).toContain('| `object-lib` | 1.2.3 | ISC |');
    expect(notices).toContain('| `bare-lib` | 1.2.3 | MIT | none in the package; its declared license applies |');
    for (const t of ['MIT License dual-lib', 'BSD legacy-lib text', 'ISC object-lib text']) expect(notices).toContain(t);
  });

  test('NOTICE files are reproduced, code files named like licenses are not, identical texts print once, and fences survive backticks in a text', () => {
    const apache = 'Apache License\nVersion 2.0\n```not a fence end```\n';
    const r = scratch({
      'a-lib': { pkg: { license: 'Apache-2.0' }, files: { 'LICENSE': apache, 'NOTICE': 'a-lib NOTICE: Copyright A\n', 'license-checker.js': 'SECRET_CODE_NOT_A_LICENSE' } },
      'b-lib': { pkg: { license: 'Apache-2.0' }, files: { 'LICENSE.txt': apache.replace(/\n/g, '\r\n') + '   \n' } },
    });
    expect(r.ok).toBe(true);
    const notices = readFileSync(noticesFile(), 'utf8');
    expect(notices).toContain('a-lib NOTICE: Copyright A');
    expect(notices).not.toContain('SECRET_CODE_NOT_A_LICENSE');
    expect(notices.match(/^Apache License$/gm)).toHaveLength(1); // CRLF and trailing blanks normalized: one text
    expect(notices).toContain('| `b-lib` | 1.2.3 | Apache-2.0 | LICENSE.txt: text 1 |');
    expect(notices).toContain('````text\nApache License'); // a fence longer than the text's own backtick run
  });

  test('a nested copy of a package (node_modules/x/node_modules/y) is listed at its own version', () => {
    mkdirSync(join(dir, 'node_modules', 'outer-lib', 'node_modules', 'inner-lib'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'outer-lib', 'node_modules', 'inner-lib', 'package.json'), JSON.stringify({ name: 'inner-lib', version: '9.9.9', license: 'MIT', main: 'index.js' }));
    writeFileSync(join(dir, 'node_modules', 'outer-lib', 'node_modules', 'inner-lib', 'index.js'), 'module.exports = "inner";\n');
    const r = scratch({ 'outer-lib': { pkg: { license: 'MIT' }, main: 'module.exports = require("inner-lib");\n' } });
    expect(r).toEqual({ ok: true, packages: [['inner-lib@9.9.9', 'outer-lib@1.2.3']] });
    expect(readFileSync(noticesFile(), 'utf8')).toContain('| `inner-lib` | 9.9.9 | MIT |');
  });
});
