/**
 * The README's first command on a fresh clone runs this demo (`npx projen demo` = bundle + this
 * script): it must keep showing what the README says it shows. Runs the real script in a child
 * process (real docker-registry, the bundled hook, the example stack synthesized).
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { ensureBundled, REPO_ROOT } from '../support/handler-bundle';

let out: string;

beforeAll(() => {
  ensureBundled();
  out = execFileSync(process.execPath, [
    path.join(REPO_ROOT, 'node_modules', 'ts-node', 'dist', 'bin.js'), '--project', 'tsconfig.dev.json', 'examples/demo.ts',
  ], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
}, 300_000);

/** Cells of the table row whose first cells are `first...` (trimmed). */
function row(...first: string[]): string[] {
  for (const line of out.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (first.every((f, i) => cells[i] === f)) return cells;
  }
  throw new Error(`no demo row starting with ${first.join(' | ')}:\n${out}`);
}

test('OCI layout: the signed image verifies, the unsigned one fails', () => {
  expect(row('signed')[2]).toBe('VERIFIED');
  expect(row('unsigned')[2]).toBe('FAILED');
});

test.each([
  ['signed by shop_release', 'AUDIT', 'SUCCEEDED', 'verified'],
  ['unsigned', 'AUDIT', 'SUCCEEDED', 'failed'],
  ['signed by another profile', 'AUDIT', 'SUCCEEDED', 'failed'],
  ['signed, job revoked', 'AUDIT', 'SUCCEEDED', 'failed'],
  ['signed by shop_release', 'ENFORCE', 'SUCCEEDED', 'verified'],
  ['unsigned', 'ENFORCE', 'FAILED', 'failed'],
  ['signed by another profile', 'ENFORCE', 'FAILED', 'failed'],
  ['signed, job revoked', 'ENFORCE', 'FAILED', 'failed'],
])('hook: %s in %s answers %s (%s), as the README shows', (image, mode, hookStatus, verdict) => {
  const cells = row(image, mode);
  expect(cells.slice(2, 4)).toEqual([hookStatus, verdict]);
});

test('the revoked job is refused because it is revoked, and the example stack synthesizes cdk-nag clean', () => {
  expect(row('signed, job revoked', 'ENFORCE')[4]).toMatch(/^Resource\(s\) arn:aws:signer:.*signing-jobs/);
  expect(out).toMatch(/cdk-nag AwsSolutions unsuppressed errors: 0/);
});
