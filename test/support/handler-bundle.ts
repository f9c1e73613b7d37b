/**
 * Builds the Lambda bundles once per test run (`node scripts/bundle.mjs`) and loads them as Lambda
 * would: the bundled `assets/handlers/<name>/index.js`, not the TypeScript source.
 */
import { execFileSync } from 'child_process';
import { existsSync, statSync } from 'fs';
import * as path from 'path';

export const REPO_ROOT = path.join(__dirname, '..', '..');
const HANDLERS = ['admission-hook', 'task-audit', 'verify', 'eks-webhook', 'eks-webhook-config'];

let built = false;

export function bundlePath(name: string): string {
  return path.join(REPO_ROOT, 'assets', 'handlers', name, 'index.js');
}

/** Runs the bundle script; tolerates failures of other entry points as long as every handler bundle was rewritten. */
export function ensureBundled(): void {
  if (built) return;
  const started = Date.now() - 1000;
  let output = '';
  try {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'bundle.mjs')], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (e) {
    output = String((e as any).stderr ?? e);
  }
  for (const h of HANDLERS) {
    const p = bundlePath(h);
    if (!existsSync(p) || statSync(p).mtimeMs < started) {
      throw new Error(`bundling ${h} failed: ${output}`);
    }
  }
  built = true;
}

/** Loads a bundled handler module (fresh module instance per call). */
export function loadHandler(name: string): { handler: (event: unknown, context?: unknown) => Promise<any> } {
  ensureBundled();
  let mod: any;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(bundlePath(name));
  });
  return mod;
}
