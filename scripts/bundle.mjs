// Bundles every Lambda entry point (src/handlers/*.lambda.ts) and the CLI (src/cli/main.ts) with esbuild.
// Lambda bundles keep @aws-sdk/* external: the Node.js 22+ Lambda runtimes ship AWS SDK for JavaScript v3.
// The CLI bundle includes the SDK so `npx cdk-signed-images` needs nothing else.
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const handlersDir = join(root, 'src/handlers');
const jobs = [];
if (existsSync(handlersDir)) {
  for (const file of readdirSync(handlersDir).filter((f) => f.endsWith('.lambda.ts'))) {
    const name = file.replace(/\.lambda\.ts$/, '');
    jobs.push(build({
      entryPoints: [join(handlersDir, file)],
      outfile: join(root, 'assets/handlers', name, 'index.js'),
      bundle: true, minify: true, platform: 'node', target: 'node20', format: 'cjs',
      external: ['@aws-sdk/*'], legalComments: 'none', logLevel: 'warning',
    }));
  }
}
const cli = join(root, 'src/cli/main.ts');
if (existsSync(cli)) {
  jobs.push(build({
    entryPoints: [cli], outfile: join(root, 'assets/cli/cli.js'),
    bundle: true, minify: true, platform: 'node', target: 'node20', format: 'cjs',
    banner: { js: '#!/usr/bin/env node' }, legalComments: 'none', logLevel: 'warning',
  }));
}
await Promise.all(jobs);
console.log(`bundled ${jobs.length} entry point(s)`);
