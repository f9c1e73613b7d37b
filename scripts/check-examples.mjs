#!/usr/bin/env node
// Compiles every `ts` block of README.md and every `@example` of the jsii assembly with jsii-rosetta
// in strict mode, inside rosetta/default.ts-fixture (or the fixture a snippet names). Exits non-zero
// when one does not compile. Reads the compiled assembly (.jsii): run it after `jsii`.
//
//   node scripts/check-examples.mjs [assembly-dir]     (default: the project root)
//
// Snippets import 'cdk-signed-images', so the compiler needs that name to resolve to this package:
// a temporary directory gets node_modules/ symlinks to the assembly's directory and to the
// aws-cdk-lib, constructs and @types/node this project builds with (rosetta's own fallback would
// `npm install` them, which needs the registry). Rosetta writes its translations to
// <assembly-dir>/.jsii.tabl.json (gitignored, not shipped); an old tablet is deleted first, so every
// snippet is compiled on every run instead of being answered from that cache.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const assemblyDir = resolve(process.argv[2] ?? root);
if (!existsSync(join(assemblyDir, '.jsii'))) {
  console.error(`check-examples: no .jsii in ${assemblyDir}; run 'npx projen compile' first`);
  process.exit(2);
}
const packageDir = (name) => {
  const dir = join(root, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`check-examples: ${name} is not installed in ${root}/node_modules`);
  return dir;
};

const work = mkdtempSync(join(tmpdir(), 'check-examples-'));
let status = 1;
try {
  mkdirSync(join(work, 'node_modules', '@types'), { recursive: true });
  const links = {
    'cdk-signed-images': assemblyDir,
    'aws-cdk-lib': packageDir('aws-cdk-lib'),
    'constructs': packageDir('constructs'),
    '@types/node': packageDir('@types/node'),
  };
  // aws-cdk-lib's own jsii dependencies, so rosetta's dependency check finds them next to it.
  mkdirSync(join(work, 'node_modules', '@aws-cdk'));
  for (const name of ['@aws-cdk/asset-awscli-v1', '@aws-cdk/asset-node-proxy-agent-v6', '@aws-cdk/cloud-assembly-schema']) {
    if (existsSync(join(root, 'node_modules', name, 'package.json'))) links[name] = packageDir(name);
  }
  for (const [name, target] of Object.entries(links)) symlinkSync(realpathSync(target), join(work, 'node_modules', name), 'dir');
  rmSync(join(assemblyDir, '.jsii.tabl.json'), { force: true });
  rmSync(join(assemblyDir, '.jsii.tabl.json.gz'), { force: true });
  const started = Date.now();
  const run = spawnSync(process.execPath, [
    join(packageDir('jsii-rosetta'), 'bin', 'jsii-rosetta'),
    // --batch: one TypeScript program for all snippets (aws-cdk-lib's declarations are loaded once,
    // not once per worker thread).
    'extract', '--strict', '--batch', '1000', '--directory', work, assemblyDir,
  ], { stdio: 'inherit', env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' } });
  status = run.status ?? 1;
  if (run.error) console.error(`check-examples: ${run.error.message}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.error(status === 0
    ? `check-examples: README.md and every @example compile (${seconds} s)`
    : `check-examples: a README.md block or an @example does not compile (exit ${status}); see the diagnostics above`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
