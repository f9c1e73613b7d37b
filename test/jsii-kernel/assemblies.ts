/**
 * The jsii assemblies a foreign-language app loads into the kernel, as tarballs in dependency order:
 * what a Python wheel's `_jsii/*.jsii.tgz` files are. Dependencies are found from the `.jsii` files
 * themselves (aws-cdk-lib's lists constructs, @aws-cdk/cloud-assembly-schema, @aws-cdk/asset-awscli-v1,
 * @aws-cdk/asset-node-proxy-agent-v6), resolved the way Node resolves them from the dependent's directory.
 *
 * Installed dependencies are tarred as installed (npm unpacks the published tarball unchanged, bundled
 * dependencies included), cached by name@version: `npm pack` of node_modules/aws-cdk-lib re-walks its
 * 7,700 files and takes about 75 s; tar takes about 9 s. This library itself is `npm pack`ed from the
 * compiled working tree (its package.json "files" allowlist decides what ships) on every run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface AssemblyTarball {
  /** npm package name (= jsii assembly name). */
  readonly name: string;
  readonly version: string;
  /** Absolute path of the .tgz the kernel's `load` request names. */
  readonly tarball: string;
}

interface AssemblyInfo {
  readonly name: string;
  readonly version: string;
  readonly dependencies: string[];
}

const infoCache = new Map<string, AssemblyInfo>();

/**
 * Name, version and jsii dependencies of the assembly in a package directory (follows jsii's gzip redirect).
 * Memoized: aws-cdk-lib's assembly is about 60 MB of JSON.
 */
export function assemblyInfo(packageDir: string): AssemblyInfo {
  const cached = infoCache.get(packageDir);
  if (cached) return cached;
  const info = readAssemblyInfo(packageDir);
  infoCache.set(packageDir, info);
  return info;
}

function readAssemblyInfo(packageDir: string): AssemblyInfo {
  const file = join(packageDir, '.jsii');
  if (!existsSync(file)) throw new Error(`${packageDir} has no .jsii: not a jsii package`);
  let assembly = JSON.parse(readFileSync(file, 'utf8'));
  if (assembly.schema === 'jsii/file-redirect') {
    const target = readFileSync(join(packageDir, assembly.filename));
    assembly = JSON.parse((assembly.compression === 'gzip' ? gunzipSync(target) : target).toString('utf8'));
  }
  return { name: assembly.name, version: assembly.version, dependencies: Object.keys(assembly.dependencies ?? {}) };
}

/** The directory Node's resolution finds for package `name` when required from `fromDir`. */
export function findPackageDir(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot resolve ${name} from ${fromDir}`);
  }
}

/** Every jsii dependency of the package at `rootDir`, depth-first, dependencies before dependents (root excluded). */
export function dependencyClosure(rootDir: string): Array<{ dir: string; info: AssemblyInfo }> {
  const ordered: Array<{ dir: string; info: AssemblyInfo }> = [];
  const seen = new Map<string, string>();
  const visit = (dir: string, path: string[]) => {
    const info = assemblyInfo(dir);
    for (const dep of info.dependencies) {
      if (path.includes(dep)) throw new Error(`jsii dependency cycle: ${[...path, dep].join(' -> ')}`);
      const depDir = findPackageDir(dep, dir);
      const known = seen.get(dep);
      if (known !== undefined) {
        const version = assemblyInfo(depDir).version;
        if (known !== version) throw new Error(`${dep} is needed at ${known} and ${version}; the kernel loads one version per package`);
        continue;
      }
      visit(depDir, [...path, dep]);
      const depInfo = assemblyInfo(depDir);
      seen.set(dep, depInfo.version);
      ordered.push({ dir: depDir, info: depInfo });
    }
  };
  visit(rootDir, [assemblyInfo(rootDir).name]);
  return ordered;
}

/** A tarball of an installed package directory (top folder `package/`, as npm's), cached by name@version. */
export function tarInstalledPackage(dir: string, info: AssemblyInfo, cacheDir: string): string {
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `${info.name.replace(/^@/, '').replace(/\//g, '-')}-${info.version}.tgz`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync('tar', ['--use-compress-program=gzip -1', '-cf', tmp, '-C', dirname(dir), '--transform', `s,^${basename(dir)},package,`, basename(dir)], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`tar of ${dir} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  renameSync(tmp, out); // atomic: a concurrent run sees the whole file or none
  return out;
}

/** `npm pack` of the project at `root` (compiled: lib/, .jsii, assets/) into a fresh directory under `outDir`. */
export function packProject(root: string, outDir: string): string {
  const dest = mkdtempSync(join(outDir, 'pack-'));
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], {
    cwd: root,
    encoding: 'utf8',
    stdio: 'pipe',
    timeout: 120_000,
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  return join(dest, (JSON.parse(json) as Array<{ filename: string }>)[0].filename);
}

/**
 * Tarballs for the project at `root` and its jsii dependencies, in the order the kernel must load them.
 * `extras`: further installed jsii packages the app uses (e.g. a kubectl layer), loaded after their own
 * dependencies and before the project.
 */
export function assemblyTarballs(root: string, cacheDir: string, workDir: string, extras: string[] = []): AssemblyTarball[] {
  const packages = dependencyClosure(root);
  for (const extra of extras) {
    const dir = findPackageDir(extra, root);
    for (const p of [...dependencyClosure(dir), { dir, info: assemblyInfo(dir) }]) {
      const known = packages.find((q) => q.info.name === p.info.name);
      if (known && known.info.version !== p.info.version) throw new Error(`${p.info.name} is needed at ${known.info.version} and ${p.info.version}`);
      if (!known) packages.push(p);
    }
  }
  const deps = packages.map(({ dir, info }) => ({ name: info.name, version: info.version, tarball: tarInstalledPackage(dir, info, cacheDir) }));
  const own = assemblyInfo(root);
  return [...deps, { name: own.name, version: own.version, tarball: packProject(root, workDir) }];
}
