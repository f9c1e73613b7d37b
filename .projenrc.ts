import { awscdk, javascript, JsonFile } from 'projen';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-signed-images',
  description: 'Only container images signed by people you trust run on Amazon ECS: AWS Signer + ECR managed signing + a pure-TypeScript Notary Project verifier as an ECS admission hook.',
  author: 'cdk-signed-images maintainers',
  authorAddress: 'maintainers@cdk-signed-images.dev',
  repositoryUrl: 'https://github.com/cdk-signed-images/cdk-signed-images.git',
  license: 'Apache-2.0',
  keywords: ['aws-cdk', 'ecs', 'ecr', 'signer', 'notation', 'notary', 'supply-chain', 'admission'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  // Peer floor: CfnSigningConfiguration first appears in aws-cdk-lib 2.230.0.
  cdkVersion: '2.230.0',
  cdkVersionPinning: false,
  constructsVersion: '10.0.5',
  jsiiVersion: '~6.0.0',
  peerDependencyOptions: { pinnedDevDependency: false },
  // Develop and test against the latest aws-cdk-lib.
  devDeps: [
    'aws-cdk-lib@2.276.0',
    'constructs@10.8.1',
    'esbuild',
    'fast-check',
    'cdk-nag@^2',
    '@aws-sdk/client-ecs',
    '@aws-sdk/client-ecr',
    '@aws-sdk/client-signer',
    '@aws-sdk/client-sns',
    // EKS admission webhook: its handler reads the webhook secret (the Lambda runtime ships the SDK);
    // the example cluster needs a kubectl layer; the tests validate rendered objects with ajv.
    '@aws-sdk/client-secrets-manager',
    // EKS webhook configurations: the config handler assumes the kubectl role (STS AssumeRole).
    '@aws-sdk/client-sts',
    // ... and, for a cluster imported without its endpoint and CA, reads them with EKS DescribeCluster.
    '@aws-sdk/client-eks',
    '@aws-cdk/lambda-layer-kubectl-v34',
    'ajv@^8',
    '@types/node@^20',
  ],
  lambdaAutoDiscover: false,
  // Release machinery as cdklabs projects have it: GitHub workflows for build, PR title lint, dependency
  // upgrades and release; versions from conventional commits (commit-and-tag-version) with a CHANGELOG;
  // npm, PyPI and Maven Central (mavenServerId defaults to `central-ossrh`).
  github: true,
  release: true,
  releaseToNpm: true,
  npmAccess: javascript.NpmAccess.PUBLIC,
  majorVersion: 0,
  workflowNodeVersion: '22',
  // The tests need the real OCI registry and the Python packaging tools on the runner.
  workflowBootstrapSteps: [{
    name: 'Install Debian packages the tests use',
    run: 'sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends docker-registry python3-build python3-setuptools python3-wheel twine',
  }],
  publishToPypi: { distName: 'cdk-signed-images', module: 'cdk_signed_images' },
  publishToMaven: {
    javaPackage: 'io.github.cdksignedimages',
    mavenGroupId: 'io.github.cdk-signed-images',
    mavenArtifactId: 'cdk-signed-images',
  },
  tsconfigDevFile: 'tsconfig.dev.json',
  // package.json "files" (below) decides what is published; no .npmignore.
  npmignoreEnabled: false,
  bin: { 'cdk-signed-images': 'assets/cli/cli.js' },
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 60_000,
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/'],
    },
  },
  gitignore: ['/assets/', '/bench/tmp/', '/.demo/', '/test-reports/', 'cdk.out/', '/dist/'],
});

// The engine, handlers and CLI are bundled by esbuild; their npm imports (@aws-sdk/*) are dev
// dependencies on purpose (the Lambda runtime provides the SDK; the CLI bundle includes it).
project.eslint?.addOverride({
  files: ['src/verifier/**/*.ts', 'src/handlers/**/*.ts', 'src/cli/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});

// The engine's one entry point is src/verifier/index.ts: the handlers, the CLI and the constructs import
// `../verifier` (or `./verifier`), never a module inside it. Tests may import deep paths.
project.eslint?.addOverride({
  files: ['src/*.ts', 'src/private/**/*.ts', 'src/handlers/**/*.ts', 'src/cli/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: ['**/verifier/*'], message: "Import the engine from its front door ('../verifier' or './verifier'), not a module inside it." }],
    }],
  },
});

// eslint's project service looks for the nearest tsconfig.json: give test/ one that extends the dev config.
new JsonFile(project, 'test/tsconfig.json', {
  obj: { extends: '../tsconfig.dev.json', include: ['**/*.ts'], exclude: ['fixtures'] },
});

// Binary formats (DER, CBOR, key sizes) need bit operations; test tables need long lines.
project.eslint?.addOverride({ files: ['src/verifier/**/*.ts', 'test/**/*.ts'], rules: { 'no-bitwise': 'off' } });
project.eslint?.addOverride({ files: ['test/**/*.ts'], rules: { '@stylistic/max-len': ['error', { code: 250, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true }] } });

// The npm package is an allowlist (package.json "files"), not .npmignore, so stray files in the working
// tree are never published. npm adds package.json itself. Relative README links (docs/) must resolve
// inside the package: ship what they link to. The example app imports ../src, which is not shipped, so
// the README links it by its GitHub URL instead. test/npm-package.test.ts asserts the tarball's exact
// file list (SHIPPED_DOCS) and that every README link resolves in it; extend both together.
project.package.addField('files', [
  'lib/**/*.js',
  'lib/**/*.d.ts',
  '.jsii',
  'assets/cli/cli.js',
  'assets/handlers/*/index.js',
  'assets/**/THIRD_PARTY_NOTICES.md',
  'API.md',
  'README.md',
  'LICENSE',
  'docs/runtime-enforcement.md',
  'docs/eks.md',
  'docs/signing-in-ci.md',
  'docs/operations.md',
]);
// jsii-pacmak (package:js) writes a default .npmignore when there is none; with "files" set, npm ignores a
// root .npmignore (test/npm-package.test.ts checks both), so it is a build by-product, not a source file.
project.gitignore.exclude('/.npmignore');
// jsii-rosetta's translations of the README blocks and @examples (written by check-examples): a build
// by-product like .jsii, neither committed nor shipped.
project.gitignore.exclude('/.jsii.tabl.json', '/.jsii.tabl.json.gz');

// jsii prints a red Node 20 end-of-life banner on every run; it is only a warning.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');

// npm 11 drops unrs-resolver's 404 bindings from the lock and then rejects its own lock.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// Lambda handlers and the CLI are bundled (minified) before compile, so jsii consumers need no
// bundler at synth. scripts/bundle.mjs discovers src/handlers/*.lambda.ts and src/cli/main.ts.
const bundle = project.addTask('bundle', { description: 'Bundle Lambda handlers and the CLI', exec: 'node scripts/bundle.mjs' });
project.preCompileTask.spawn(bundle);

// Tests run the bundled handlers and a real docker-registry; write jest JSON for .ci/run's count.
const testTask = project.testTask;
testTask.reset();
testTask.exec('bash scripts/ensure-tools.sh');
testTask.spawn(project.preCompileTask);
testTask.spawn(project.compileTask); // jsii: type errors and jsii rules fail the tests too
testTask.exec('bash scripts/check-api-md.sh'); // API.md must be generated and committed
// The `ts` blocks of README.md and docs/*.md and every @example compile (jsii-rosetta --strict in
// rosetta/default.ts-fixture). docs/runtime-enforcement.md's VPC block is also synthesized by
// test/vpc-placement.test.ts.
const checkExamples = project.addTask('check-examples', {
  description: 'Compile the TypeScript blocks of README.md and docs/*.md and every @example of the jsii assembly (jsii-rosetta, strict)',
  exec: 'node scripts/check-examples.mjs',
});
testTask.spawn(checkExamples);
// --forceExit: a safety net for CI; servers and registries are closed in afterAll, but a stray
// keep-alive timer must never keep the run alive past its results.
testTask.exec('jest --passWithNoTests --ci --forceExit --json --outputFile=test-reports/jest-results.json', { receiveArgs: true });
testTask.spawn(project.tasks.tryFind('eslint')!);

project.addTask('demo', {
  description: 'Offline demo: sign and verify images, run the bundled hook handler, synthesize the example stack',
  env: { NODE_NO_WARNINGS: '1' },
  steps: [{ exec: 'bash scripts/ensure-tools.sh' }, { spawn: 'bundle' }, { exec: 'ts-node --project tsconfig.dev.json examples/demo.ts' }],
});
project.addTask('bench', {
  description: 'Benchmarks: prints JSON, writes bench/results.json and the README table',
  steps: [
    { exec: 'bash scripts/ensure-tools.sh' },
    { spawn: 'bundle' },
    { exec: 'ts-node --project tsconfig.dev.json bench/run.ts' },
    { exec: 'node bench/table.mjs > /dev/null' },
  ],
});
project.addTask('fuzz', {
  description: 'Long fuzz run (100,000+ inputs per parser)',
  exec: 'FUZZ_RUNS=100000 jest --runInBand test/fuzz',
});

// Python and Java: jsii-pacmak's standard builds need PyPI and Maven Central. scripts/package-target.sh
// runs them where those are reachable (the release workflow on GitHub) and the offline builds otherwise
// (wheel + sdist with Debian's python3-build and twine check; Java sources and pom.xml only).
for (const target of ['python', 'java']) {
  project.tasks.tryFind(`package:${target}`)!.reset(`bash scripts/package-target.sh ${target}`);
}

// API compatibility against the last release (jsii-diff), in the build. projen's `compat: true` would
// diff against `npm:cdk-signed-images` (latest), which fails before the first release; this script diffs
// against the version of the newest `v*` tag and says plainly when there is none yet.
project.tasks.tryFind('compat')!.reset('bash scripts/compat.sh');
project.compileTask.spawn(project.tasks.tryFind('compat')!);

project.synth();
