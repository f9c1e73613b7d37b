/**
 * README.md's Quick start, as a user meets it: the one `ts` block of the section is pasted into the
 * stack `cdk init app --language typescript` generates, with exactly the inputs the section's prose
 * names (`name: type`) declared with those types and built from real aws-cdk-lib constructs
 * (quick-start-inputs.ts). It must type-check under cdk init's compiler options against this
 * library's sources (TypeScript compiler API), synthesize, and grant no ECR action on `*` or on a
 * wildcard ARN except `ecr:GetAuthorizationToken`. The example app's template gets the same IAM check.
 * (scripts/check-examples.mjs, a step of `npx projen test`, also compiles the block with jsii-rosetta.)
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import { QUICK_START_INPUTS } from './quick-start-inputs';
import { buildExampleApp } from '../../examples/app';
import * as library from '../../src';

const ROOT = join(__dirname, '..', '..');
/** Where the generated stack file "is" (never written: the compiler host serves it from memory). */
const VIRTUAL_FILE = join(__dirname, '__quick-start-stack__.ts');

export interface QuickStart {
  /** The section's prose (everything but its code blocks). */
  readonly prose: string;
  /** The one `ts` block. */
  readonly code: string;
}

/** The "## Quick start" section of a README: its prose and its only `ts` block. */
export function quickStartOf(readme: string): QuickStart {
  const start = readme.search(/^## Quick start\b/m);
  if (start < 0) throw new Error('README has no "## Quick start" section');
  const rest = readme.slice(start + 3);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const blocks = [...section.matchAll(/^```ts[^\n]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => m[1]);
  if (blocks.length !== 1) throw new Error(`the Quick start must have exactly one ts block, found ${blocks.length}`);
  return { prose: section.replace(/^```[\s\S]*?^```[ \t]*$/gm, ''), code: blocks[0] };
}

/** The inputs the prose names: list items that start with a `name: type` code span (e.g. `- \`ciRole: iam.IRole\`: …`). */
export function namedInputs(prose: string): Array<{ name: string; type: string }> {
  return [...prose.matchAll(/^[ \t]*[-*][ \t]+`([a-z][A-Za-z0-9]*): ([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`/gm)]
    .map((m) => ({ name: m[1], type: m[2] }));
}

/**
 * The file a user ends up with: cdk init's stack module with the snippet's imports on top and its
 * statements in the constructor, after the named inputs (typed exactly as the README says).
 */
export function stackSource(quickStart: QuickStart): string {
  const inputs = namedInputs(quickStart.prose);
  const sf = ts.createSourceFile('snippet.ts', quickStart.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const isImport = (s: ts.Statement) => ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s);
  const imports = sf.statements.filter(isImport).map((s) => s.getFullText(sf).trim());
  const body = sf.statements.filter((s) => !isImport(s)).map((s) => s.getFullText(sf)).join('');
  // The modules the input types name (`iam.IRole` needs `import * as iam from 'aws-cdk-lib/aws-iam'`).
  const modules = [...new Set(inputs.map((i) => i.type.split('.')[0]).filter((m) => m !== 'cdk' && /^[a-z][a-z0-9]*$/.test(m)))];
  return [
    "import * as cdk from 'aws-cdk-lib';",
    "import { Construct } from 'constructs';",
    ...modules.map((m) => `import * as ${m} from 'aws-cdk-lib/aws-${m}';`),
    "import { buildQuickStartInputs } from './quick-start-inputs';",
    ...imports,
    '',
    'export class QuickStartStack extends cdk.Stack {',
    '  constructor(scope: Construct, id: string, props?: cdk.StackProps) {',
    '    super(scope, id, props);',
    `    const quickStartInputs__ = buildQuickStartInputs(this, ${JSON.stringify(inputs.map((i) => i.name))});`,
    ...inputs.map((i) => `    const ${i.name}: ${i.type} = quickStartInputs__.${i.name} as ${i.type};`),
    body,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** `cdk init app --language typescript`'s compiler options; 'cdk-signed-images' is this repository's src. */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  strict: true,
  noImplicitAny: true,
  strictNullChecks: true,
  noImplicitThis: true,
  alwaysStrict: true,
  noImplicitReturns: true,
  experimentalDecorators: true,
  strictPropertyInitialization: false,
  skipLibCheck: true,
  types: ['node'],
  noEmit: true,
  baseUrl: ROOT,
  paths: { 'cdk-signed-images': ['src/index.ts'] },
};

let previous: ts.Program | undefined;
/** Parsed library and source files, shared by every check of this run (src and aws-cdk-lib parse once). */
const parsed = new Map<string, ts.SourceFile | undefined>();

/** Type-checks the generated stack file; returns its diagnostics (only the file's own, formatted). */
export function typeCheck(source: string): string[] {
  const host = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError) => {
    if (file === VIRTUAL_FILE) return ts.createSourceFile(file, source, language, true, ts.ScriptKind.TS);
    if (!parsed.has(file)) parsed.set(file, getSourceFile(file, language, onError));
    return parsed.get(file);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === VIRTUAL_FILE || fileExists(file);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (file === VIRTUAL_FILE ? source : readFile(file));
  const program = ts.createProgram({ rootNames: [VIRTUAL_FILE], options: COMPILER_OPTIONS, host, oldProgram: previous });
  previous = program;
  const sf = program.getSourceFile(VIRTUAL_FILE)!;
  const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
  return diagnostics.map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }).trim());
}

/** Runs the generated stack file (transpiled to CommonJS) with 'cdk-signed-images' bound to src. */
export function loadStackClass(source: string): new (scope: App, id: string) => Stack {
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  const load = (id: string): unknown => {
    if (id === 'cdk-signed-images') return library;
    // jest's require: the same aws-cdk-lib instance as the library's, TypeScript through ts-jest.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id.startsWith('.') ? join(dirname(VIRTUAL_FILE), id) : id);
  };
  new Function('require', 'module', 'exports', js)(load, mod, mod.exports);
  return mod.exports.QuickStartStack as new (scope: App, id: string) => Stack;
}

/**
 * Allow statements that grant an ECR action (`ecr:…`, `ecr:*`, `*`) other than GetAuthorizationToken
 * on `*` or on any resource containing a wildcard (e.g. `repository/*`), or via NotAction/NotResource.
 */
export function broadEcrGrants(template: Record<string, any>): string[] {
  const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const documents: Array<[string, any]> = [];
  for (const [id, r] of Object.entries((template.Resources ?? {}) as Record<string, any>)) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') documents.push([id, r.Properties?.PolicyDocument]);
    if (r.Type === 'AWS::IAM::Role' || r.Type === 'AWS::IAM::User' || r.Type === 'AWS::IAM::Group') {
      for (const p of list(r.Properties?.Policies) as any[]) documents.push([id, p?.PolicyDocument]);
    }
  }
  const found: string[] = [];
  for (const [id, doc] of documents) {
    for (const s of list(doc?.Statement) as any[]) {
      if (s.Effect !== 'Allow') continue;
      if (s.NotAction !== undefined || s.NotResource !== undefined) {
        found.push(`${id}: NotAction/NotResource ${JSON.stringify(s)}`);
        continue;
      }
      const ecr = (list(s.Action) as string[]).filter((a) => (a === '*' || /^ecr:/i.test(a)) && a.toLowerCase() !== 'ecr:getauthorizationtoken');
      const wild = list(s.Resource).filter((r) => JSON.stringify(r).includes('*'));
      if (ecr.length > 0 && wild.length > 0) found.push(`${id}: ${ecr.join(',')} on ${wild.map((r) => JSON.stringify(r)).join(',')}`);
    }
  }
  return found;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README Quick start', () => {
  const quickStart = quickStartOf(README);

  test('names its inputs with their types (exactly the ones the wrapper builds), the deployment controller and version consistency', () => {
    expect(namedInputs(quickStart.prose)).toEqual([
      { name: 'ciRole', type: 'iam.IRole' },
      { name: 'cluster', type: 'ecs.ICluster' },
      { name: 'fargateService', type: 'ecs.FargateService' },
    ]);
    expect(namedInputs(quickStart.prose).map((i) => i.name).sort()).toEqual(Object.keys(QUICK_START_INPUTS).sort());
    expect(quickStart.prose).toContain('ecs.DeploymentControllerType.ECS');
    expect(quickStart.prose).toMatch(/version consistency/i);
    // Only the library is imported: everything else comes from cdk init's file and the named inputs.
    expect([...quickStart.code.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1])).toEqual(['cdk-signed-images']);
  });

  test('pasted into a cdk init stack with the named inputs, it type-checks', () => {
    expect(typeCheck(stackSource(quickStart))).toEqual([]);
  }, 120_000);

  test('synthesizes with no error, no ECR action on * (but GetAuthorizationToken), and pulls by the repository ARN', () => {
    const QuickStartStack = loadStackClass(stackSource(quickStart));
    const app = new App();
    const stack = new QuickStartStack(app, 'QuickStart');
    const assembly = app.synth();
    expect(assembly.getStackByName('QuickStart').template.Resources).toBeDefined();
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    const template = Template.fromStack(stack).toJSON();
    expect(broadEcrGrants(template)).toEqual([]);
    // Not vacuous: both verifier roles pull, from the registry's repository by its ARN.
    const repository = Object.keys(Template.fromStack(stack).findResources('AWS::ECR::Repository'));
    expect(repository).toHaveLength(1);
    const pulls = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().includes('ecr:BatchGetImage'));
    expect(pulls).toHaveLength(2); // the hook's and the audit's verifier roles (CI pushes: no pull grant)
    for (const s of pulls) expect(s.Resource).toEqual({ 'Fn::GetAtt': [repository[0], 'Arn'] });
    // The GetAuthorizationToken grant on * is there (so the check above looked at real statements).
    expect(JSON.stringify(template)).toContain('ecr:GetAuthorizationToken');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('ecrPullOnAnyRepository'))).toEqual([]);
  }, 120_000);
});

describe('the Quick start harness can fail', () => {
  const quickStart = quickStartOf(README);

  test('an input the prose does not name is not in scope', () => {
    const withoutCluster = { ...quickStart, prose: quickStart.prose.replace('`cluster: ecs.ICluster`', 'a cluster') };
    expect(typeCheck(stackSource(withoutCluster)).join('\n')).toMatch(/Cannot find name 'cluster'/);
  }, 120_000);

  test('a type error in the block is reported', () => {
    const broken = { ...quickStart, code: quickStart.code.replace('clusters: [cluster]', 'clusters: cluster') };
    expect(broken.code).not.toEqual(quickStart.code);
    expect(typeCheck(stackSource(broken)).length).toBeGreaterThan(0);
  }, 120_000);

  test('a README without one ts block in the Quick start is refused', () => {
    expect(() => quickStartOf('# x\n## Quick start\ntext\n## Next\n```ts\nconst a = 1;\n```\n')).toThrow(/exactly one ts block, found 0/);
    expect(() => quickStartOf('# x\n')).toThrow(/no "## Quick start"/);
  });

  test('broadEcrGrants flags ECR actions on *, on wildcard ARNs and via NotAction; GetAuthorizationToken on * is fine', () => {
    const policy = (Statement: unknown) => ({ Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: { Statement } } });
    const template = {
      Resources: {
        Token: policy([{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }]),
        Star: policy([{ Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: '*' }]),
        AllEcr: policy([{ Effect: 'Allow', Action: 'ecr:*', Resource: { 'Fn::Join': ['', ['arn:aws:ecr:us-east-1:1:repository/', 'a']] } }]),
        Wild: policy([{ Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:us-east-1:1:repository/*']] } }]),
        Inline: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyDocument: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }] } },
        Not: policy([{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]),
        Deny: policy([{ Effect: 'Deny', Action: 'ecr:*', Resource: '*' }]),
        Repo: policy([{ Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: { 'Fn::GetAtt': ['Repo', 'Arn'] } }]),
      },
    };
    expect(broadEcrGrants(template).map((f) => f.split(':')[0])).toEqual(['Star', 'Wild', 'Inline', 'Not']);
  });
});

test('examples/app.ts: no ECR action on * or a wildcard ARN but GetAuthorizationToken', () => {
  const { stack } = buildExampleApp(new App());
  const template = Template.fromStack(stack).toJSON();
  expect(broadEcrGrants(template)).toEqual([]);
  expect(JSON.stringify(template)).toContain('ecr:GetAuthorizationToken');
}, 120_000);
