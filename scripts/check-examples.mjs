#!/usr/bin/env node
// Compiles every `ts` block of README.md and docs/*.md, and every `@example` of the jsii assembly, with
// jsii-rosetta in strict mode inside rosetta/default.ts-fixture (or the fixture a block names). Exits
// non-zero when one does not compile. Reads the compiled assembly (.jsii): run it after `jsii`.
//
//   node scripts/check-examples.mjs [--assembly <dir>] [--skip <markdown file>]... [markdown files...]
//
// --assembly: the directory holding .jsii, package.json, lib/, rosetta/ and node_modules/ (default: the
// project root). Markdown files default to README.md and docs/*.md of the project root; --skip leaves
// one out (say why where you pass it).
//
// Rosetta reads markdown only from an assembly's readme, so a scratch copy of the assembly gets the
// markdown files, concatenated, as its readme (a block's diagnostics are reported as
// `<file>:<line of the block>`); the assembly's types keep their examples. Snippets import
// 'cdk-signed-images', so the compiler needs that name to resolve to this package: a temporary
// directory gets node_modules/ symlinks to it and to every package this project has installed
// (rosetta's own fallback would `npm install` them, which needs the registry).
// Everything rosetta writes (its tablet of translations) stays in the scratch directories, deleted after.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let assemblyDir = root;
const markdownArgs = [];
const skip = new Set();
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--assembly' && args[i + 1]) assemblyDir = resolve(args[++i]);
  else if (args[i] === '--skip' && args[i + 1]) skip.add(resolve(args[++i]));
  else if (args[i].startsWith('-')) fail(`unknown option or missing value: ${args[i]}`);
  else markdownArgs.push(resolve(args[i]));
}
const markdownFiles = (markdownArgs.length > 0 ? markdownArgs : [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => join(root, 'docs', f)),
]).filter((f) => !skip.has(f));
for (const f of skip) if (!existsSync(f)) fail(`--skip ${relative(root, f)}: no such file`);

function fail(message) {
  console.error(`check-examples: ${message}`);
  process.exit(2);
}

if (!existsSync(join(assemblyDir, '.jsii'))) fail(`no .jsii in ${assemblyDir}; run 'npx projen compile' first`);
const assembly = JSON.parse(readFileSync(join(assemblyDir, '.jsii'), 'utf8'));
if (assembly.schema !== 'jsii/0.10.0') fail(`unexpected .jsii schema ${JSON.stringify(assembly.schema)} (a compressed assembly?)`);
const packageDir = (name) => {
  const dir = join(root, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) fail(`${name} is not installed in ${root}/node_modules`);
  return dir;
};

// The markdown files as one readme; `sources` maps a line of it back to its file.
const sources = [];
let readme = '';
for (const file of markdownFiles) {
  const text = readFileSync(file, 'utf8').replace(/\n?$/, '\n');
  sources.push({ file: relative(root, file) || file, firstLine: readme.split('\n').length });
  readme += `${text}\n`;
}
const whereIs = (line) => {
  const source = [...sources].reverse().find((s) => s.firstLine <= line);
  return source ? `${source.file}:${line - source.firstLine + 1}` : `readme line ${line}`;
};

const scratch = mkdtempSync(join(tmpdir(), 'check-examples-assembly-'));
const work = mkdtempSync(join(tmpdir(), 'check-examples-'));
let status = 1;
try {
  writeFileSync(join(scratch, '.jsii'), JSON.stringify({ ...assembly, readme: { markdown: readme } }));
  copyFileSync(join(assemblyDir, 'package.json'), join(scratch, 'package.json'));
  for (const dir of ['lib', 'rosetta', 'node_modules']) {
    if (!existsSync(join(assemblyDir, dir))) fail(`${assemblyDir} has no ${dir}/`);
    symlinkSync(realpathSync(join(assemblyDir, dir)), join(scratch, dir), 'dir');
  }
  // Every package this project has installed (an example may import e.g. a kubectl layer the user adds),
  // and this package itself.
  const modules = join(work, 'node_modules');
  mkdirSync(modules);
  for (const entry of readdirSync(join(root, 'node_modules'), { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'cdk-signed-images') continue;
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      mkdirSync(join(modules, entry.name));
      for (const scoped of readdirSync(join(root, 'node_modules', entry.name))) {
        symlinkSync(join(root, 'node_modules', entry.name, scoped), join(modules, entry.name, scoped));
      }
    } else {
      symlinkSync(join(root, 'node_modules', entry.name), join(modules, entry.name));
    }
  }
  symlinkSync(scratch, join(modules, 'cdk-signed-images'), 'dir');

  const started = Date.now();
  const run = spawnSync(process.execPath, [
    join(packageDir('jsii-rosetta'), 'bin', 'jsii-rosetta'),
    // --batch: one TypeScript program for all snippets (aws-cdk-lib's declarations are loaded once,
    // not once per worker thread).
    'extract', '--strict', '--batch', '1000', '--directory', work, scratch,
  ], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' } });
  // Name markdown blocks by file and line: `cdk-signed-images-README-L12.ts:60:5` → `docs/eks.md:8 (ts block) :60:5`.
  const located = (text) => (text ?? '').replace(/\b[\w.-]+-README-L(\d+)\.ts\b/g, (_, line) => `${whereIs(Number(line))} (ts block)`);
  process.stdout.write(located(run.stdout));
  process.stderr.write(located(run.stderr));
  status = run.status ?? 1;
  if (run.error) console.error(`check-examples: ${run.error.message}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const what = `${sources.map((s) => s.file).join(', ')} and every @example`;
  console.error(status === 0
    ? `check-examples: ${what} compile (${seconds} s)`
    : `check-examples: a ts block of ${what} does not compile (exit ${status}); see the diagnostics above`);
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(status);
