// Bundles every Lambda entry point (src/handlers/*.lambda.ts) and the CLI (src/cli/main.ts) with esbuild.
// Lambda bundles keep @aws-sdk/* external: the Node.js 22+ Lambda runtimes ship AWS SDK for JavaScript v3.
// The CLI bundle includes the SDK so `npx cdk-signed-images` needs nothing else.
//
// esbuild drops legal comments (legalComments: 'none'); instead, each bundle gets a THIRD_PARTY_NOTICES.md
// next to it, listing every npm package esbuild read for it (from the metafile) with its version, declared
// license and the full text of its LICENSE/NOTICE/COPYING files. A bundled package whose declared license
// is not on the permissive list below, or that declares none and ships no license file, fails the build.
//
// Imported without running (the tests import bundleJobs and the notices functions): `main()` runs only
// when this file is node's entry script.
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const NOTICES_FILE = 'THIRD_PARTY_NOTICES.md';

/** SPDX identifiers that may be bundled without a review. Extend deliberately. */
export const ACCEPTED_LICENSES = new Set([
  '0BSD', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', 'BlueOak-1.0.0', 'CC0-1.0', 'ISC', 'MIT', 'MIT-0', 'Unlicense',
]);

// LICENSE, LICENSE.txt, LICENSE-MIT, LICENCE.md, NOTICE, COPYING, ...; never code (license-checker.js).
const LICENSE_FILE = /^(licen[cs]e|notice|copying|copyright)([-_.][a-z0-9.-]*)?$/i;
const CODE_FILE = /\.(c|m)?(js|ts)$|\.json$|\.map$|\.d\.ts$/i;

/** The esbuild jobs: `{ name, outfile, options }`, with `options` as given to esbuild's `build` (outfile included). */
export function bundleJobs(root = ROOT) {
  const common = { bundle: true, minify: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning' };
  const jobs = [];
  const handlersDir = join(root, 'src/handlers');
  if (existsSync(handlersDir)) {
    for (const file of readdirSync(handlersDir).filter((f) => f.endsWith('.lambda.ts')).sort()) {
      const name = file.replace(/\.lambda\.ts$/, '');
      const outfile = join(root, 'assets/handlers', name, 'index.js');
      jobs.push({ name: `handlers/${name}`, outfile, options: { ...common, entryPoints: [join(handlersDir, file)], outfile, external: ['@aws-sdk/*'] } });
    }
  }
  const cli = join(root, 'src/cli/main.ts');
  if (existsSync(cli)) {
    const outfile = join(root, 'assets/cli/cli.js');
    jobs.push({ name: 'cli', outfile, options: { ...common, entryPoints: [cli], outfile, banner: { js: '#!/usr/bin/env node' } } });
  }
  return jobs;
}

/**
 * The npm packages a metafile's inputs come from: `[{ name, version, dir, license, files }]`, sorted, one entry
 * per package directory (two versions of one package are two entries). Input paths are relative to `root`
 * (esbuild's working directory).
 */
export function bundledPackages(metafile, root = ROOT) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const norm = input.split(sep).join('/');
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(norm);
    if (m) dirs.add(m[1]);
  }
  const packages = [];
  for (const rel of dirs) {
    const dir = join(root, rel);
    const pkgFile = join(dir, 'package.json');
    if (!existsSync(pkgFile)) throw new Error(`bundled input under ${rel} has no package.json`);
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    const files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && LICENSE_FILE.test(e.name) && !CODE_FILE.test(e.name))
      .map((e) => ({ name: e.name, text: normalize(readFileSync(join(dir, e.name), 'utf8')) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    packages.push({ name: pkg.name ?? rel.replace(/^.*node_modules\//, ''), version: pkg.version ?? 'unknown', dir: rel, license: declaredLicense(pkg), files });
  }
  return packages.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version) || a.dir.localeCompare(b.dir));
}

function declaredLicense(pkg) {
  if (typeof pkg.license === 'string') return pkg.license.trim();
  if (pkg.license && typeof pkg.license.type === 'string') return pkg.license.type.trim();
  if (Array.isArray(pkg.licenses)) {
    const types = pkg.licenses.map((l) => (typeof l === 'string' ? l : l?.type)).filter((t) => typeof t === 'string');
    if (types.length > 0) return types.length === 1 ? types[0] : `(${types.join(' OR ')})`;
  }
  return undefined;
}

function normalize(text) {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n').map((l) => l.trimEnd()).join('\n').trim() + '\n';
}

/** True when an SPDX expression can be used under licenses on the accepted list (AND: all; OR: any). */
export function licenseAccepted(expression) {
  if (!expression) return false;
  const expr = expression.replace(/[()]/g, ' ').trim();
  if (/\bWITH\b/.test(expr)) return false;
  if (/\bAND\b/.test(expr)) return expr.split(/\s+AND\s+/).every((part) => licenseAccepted(part));
  return expr.split(/\s+OR\s+/).some((id) => ACCEPTED_LICENSES.has(id.trim()));
}

/** Problems that must fail the build: unaccepted licenses, or a package with neither a declared license nor a license file. */
export function licenseProblems(packages) {
  const problems = [];
  for (const p of packages) {
    if (!p.license && p.files.length === 0) problems.push(`${p.name}@${p.version} (${p.dir}) declares no license and ships no license file`);
    else if (!licenseAccepted(p.license)) problems.push(`${p.name}@${p.version} (${p.dir}) is licensed ${JSON.stringify(p.license ?? null)}, which is not on the accepted list (${[...ACCEPTED_LICENSES].join(', ')})`);
  }
  return problems;
}

function fence(text) {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const f = '`'.repeat(longest + 1);
  return `${f}text\n${text}${f}`;
}

/** The notices file for one bundle. Identical license texts are printed once and referenced from each package. */
export function renderNotices(bundleName, bundleFile, packages) {
  const texts = new Map(); // text -> { id, users: [] }
  for (const p of packages) {
    for (const f of p.files) {
      if (!texts.has(f.text)) texts.set(f.text, { id: texts.size + 1, users: [] });
      texts.get(f.text).users.push(`${p.name}@${p.version} (${f.name})`);
    }
  }
  const lines = [`# Third-party notices: \`${bundleFile}\``, ''];
  if (packages.length === 0) {
    lines.push(`\`${bundleFile}\` (bundle \`${bundleName}\` of cdk-signed-images, built by scripts/bundle.mjs with esbuild) contains no third-party npm packages: only cdk-signed-images' own code, licensed Apache-2.0 (see LICENSE in the package root). Lambda bundles load the AWS SDK for JavaScript v3 from the Lambda runtime instead of bundling it.`, '');
    return lines.join('\n');
  }
  lines.push(
    `\`${bundleFile}\` (bundle \`${bundleName}\` of cdk-signed-images, built by scripts/bundle.mjs with esbuild) contains code from the ${packages.length} npm package(s) listed below. Each keeps its own license; the full texts of their license and notice files follow, each identical text printed once. cdk-signed-images itself is licensed Apache-2.0 (see LICENSE in the package root).`,
    '', '| Package | Version | Declared license | License files |', '|---|---|---|---|',
  );
  for (const p of packages) {
    let refs = p.files.map((f) => `${f.name}: text ${texts.get(f.text).id}`).join('; ');
    if (!refs) {
      const same = packages.find((o) => o.license === p.license && o.files.some((f) => /^licen[cs]e/i.test(f.name)));
      const text = same && texts.get(same.files.find((f) => /^licen[cs]e/i.test(f.name)).text);
      refs = `none in the package; its declared license applies${text ? ` (the ${p.license} terms are in text ${text.id})` : ''}`;
    }
    lines.push(`| \`${p.name}\` | ${p.version} | ${p.license ?? 'none declared'} | ${refs} |`);
  }
  lines.push('');
  for (const [text, t] of texts) {
    lines.push(`## Text ${t.id}`, '', `Used by: ${t.users.map((u) => `\`${u}\``).join(', ')}.`, '', fence(text), '');
  }
  return lines.join('\n');
}

/** Bundles everything and writes the notices; returns `[{ name, outfile, packages }]`. */
/**
 * Writes a file by renaming a complete temporary copy over it, so a reader running at the same time (a
 * test loading a bundle, `npm pack`) sees the old bytes or the new ones, never a truncated file.
 */
function writeAtomic(file, contents, mode = 0o644) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** Bundles everything and writes the notices; returns `[{ name, outfile, packages }]`. */
export async function bundleAll(root = ROOT) {
  const jobs = bundleJobs(root);
  // allSettled: one entry point failing to build must not keep the others from being written.
  const settled = await Promise.allSettled(jobs.map(async (job) => {
    const result = await build({ ...job.options, write: false, metafile: true, absWorkingDir: root });
    // The CLI is package.json's bin: executable in the tarball too (npm sets the bit on install anyway).
    for (const out of result.outputFiles) writeAtomic(out.path, out.contents, job.options.banner ? 0o755 : 0o644);
    return { ...job, packages: bundledPackages(result.metafile, root) };
  }));
  const failed = settled.filter((s) => s.status === 'rejected');
  if (failed.length > 0) throw failed[0].reason;
  const results = settled.map((s) => s.value);
  const problems = results.flatMap((r) => licenseProblems(r.packages).map((p) => `${r.name}: ${p}`));
  if (problems.length > 0) throw new Error(`third-party license check failed:\n  ${problems.join('\n  ')}`);
  for (const r of results) {
    const rel = relative(root, r.outfile).split(sep).join('/');
    writeAtomic(join(dirname(r.outfile), NOTICES_FILE), renderNotices(r.name, rel, r.packages));
  }
  return results;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  try {
    const results = await bundleAll();
    const counts = results.map((r) => `${r.name}: ${r.packages.length}`).join(', ');
    console.log(`bundled ${results.length} entry point(s); third-party packages per bundle: ${counts}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
