/**
 * The public API as other languages see it: the compiled jsii assembly (`.jsii` in the project
 * root, written by `jsii`; the test task compiles before jest runs). Python, Java and .NET users read
 * these docs in their IDE and in API.md, and get these types: enums must be enums, parameters must
 * be documented, constructs must show an example, and nothing may be typed `any`.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';

const ROOT = path.join(__dirname, '..');

interface Docs { readonly [key: string]: unknown }
interface TypeRef {
  readonly primitive?: string;
  readonly fqn?: string;
  readonly collection?: { readonly kind: string; readonly elementtype: TypeRef };
  readonly union?: { readonly types: TypeRef[] };
}
interface Parameter { readonly name: string; readonly type: TypeRef; readonly docs?: Docs; readonly optional?: boolean }
interface Callable { readonly name?: string; readonly docs?: Docs; readonly parameters?: Parameter[]; readonly returns?: { readonly type: TypeRef }; readonly static?: boolean }
interface Property { readonly name: string; readonly type: TypeRef; readonly docs?: Docs; readonly optional?: boolean; readonly static?: boolean }
interface JsiiType {
  readonly fqn: string;
  readonly kind: 'class' | 'interface' | 'enum';
  readonly name: string;
  readonly docs?: Docs;
  readonly datatype?: boolean;
  readonly initializer?: Callable;
  readonly methods?: Callable[];
  readonly properties?: Property[];
  readonly members?: { readonly name: string; readonly docs?: Docs }[];
}

/** The assembly, following jsii's file redirect to a compressed `.jsii.gz` when there is one. */
function loadAssembly(): { name: string; types: Record<string, JsiiType> } {
  const file = path.join(ROOT, '.jsii');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npx jsii --silence-warnings=reserved-word\` (the test task compiles first)`);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  if (json.schema === 'jsii/file-redirect') {
    const target = path.join(ROOT, json.filename);
    const bytes = readFileSync(target);
    return JSON.parse((json.compression === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8'));
  }
  return json;
}

const assembly = loadAssembly();
const types = Object.values(assembly.types).filter((t) => t.fqn.startsWith(`${assembly.name}.`));
const byName = (name: string): JsiiType => {
  const t = assembly.types[`${assembly.name}.${name}`];
  if (!t) throw new Error(`${name} is not in the assembly`);
  return t;
};

/** A class whose initializer takes `(scope: Construct, id: string, ...)`. */
function isConstruct(t: JsiiType): boolean {
  const p = t.initializer?.parameters ?? [];
  return t.kind === 'class' && p.length >= 2 && p[0].type.fqn === 'constructs.Construct' && p[1].type.primitive === 'string';
}

/** Every callable of a type with a label for messages: `Type#method`, `Type.static`, `new Type`. */
function callables(t: JsiiType): [string, Callable][] {
  const out: [string, Callable][] = [];
  if (t.initializer) out.push([`new ${t.name}`, t.initializer]);
  for (const m of t.methods ?? []) out.push([`${t.name}${m.static ? '.' : '#'}${m.name}`, m]);
  return out;
}

/** Every `docs` object anywhere in a type (type, members, parameters), with where it is. */
function allDocs(t: JsiiType): [string, Docs][] {
  const out: [string, Docs][] = [];
  if (t.docs) out.push([t.name, t.docs]);
  for (const [label, c] of callables(t)) {
    if (c.docs) out.push([label, c.docs]);
    for (const p of c.parameters ?? []) if (p.docs) out.push([`${label}(${p.name})`, p.docs]);
  }
  for (const p of t.properties ?? []) if (p.docs) out.push([`${t.name}.${p.name}`, p.docs]);
  for (const m of t.members ?? []) if (m.docs) out.push([`${t.name}.${m.name}`, m.docs]);
  return out;
}

/** A doc entry's trimmed text ('' when absent). */
function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function mentionsAny(ref: TypeRef | undefined): boolean {
  if (!ref) return false;
  if (ref.primitive === 'any') return true;
  if (ref.collection) return mentionsAny(ref.collection.elementtype);
  if (ref.union) return ref.union.types.some(mentionsAny);
  return false;
}

describe('public API (compiled jsii assembly)', () => {
  test('the assembly is this library and holds its constructs', () => {
    expect(assembly.name).toBe('cdk-signed-images');
    const constructs = types.filter(isConstruct).map((t) => t.name);
    expect(constructs).toEqual(expect.arrayContaining(['EcsAdmissionHook', 'ImageVerifierFunction', 'SignedRegistry', 'TaskLaunchAudit']));
  });

  test('every parameter of every constructor, method and static factory has docs', () => {
    const undocumented: string[] = [];
    for (const t of types) {
      for (const [label, c] of callables(t)) {
        for (const p of c.parameters ?? []) {
          if (!text(p.docs?.summary)) undocumented.push(`${label}(${p.name})`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  test('every construct, its props and every enum has an @example', () => {
    const constructs = types.filter(isConstruct);
    const props = constructs.map((c) => assembly.types[`${assembly.name}.${c.name}Props`]).filter((t): t is JsiiType => t !== undefined);
    const enums = types.filter((t) => t.kind === 'enum');
    const missing = [...constructs, ...props, ...enums].filter((t) => !text(t.docs?.example)).map((t) => t.name);
    expect(missing).toEqual([]);
  });

  test('most public types have an @example (at least 90%)', () => {
    const without = types.filter((t) => !text(t.docs?.example)).map((t) => t.name);
    expect(without.length).toBeLessThanOrEqual(Math.floor(types.length * 0.1));
  });

  test('every optional property of a struct says its @default', () => {
    const missing: string[] = [];
    for (const t of types.filter((x) => x.kind === 'interface' && x.datatype)) {
      for (const p of t.properties ?? []) {
        if (p.optional && !text(p.docs?.default)) missing.push(`${t.name}.${p.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('no doc holds {@link} (jsii-docgen prints it literally in API.md)', () => {
    const withLink: string[] = [];
    for (const t of types) {
      for (const [where, docs] of allDocs(t)) {
        for (const [key, value] of Object.entries(docs)) {
          // `custom` holds the other tags (`@resource`...) as an object.
          const shown = typeof value === 'string' ? value : JSON.stringify(value);
          if (shown.includes('{@link')) withLink.push(`${where} (${key})`);
        }
      }
    }
    expect(withLink).toEqual([]);
  });

  test('nothing public returns or holds `any`', () => {
    const loose: string[] = [];
    for (const t of types) {
      for (const [label, c] of callables(t)) if (mentionsAny(c.returns?.type)) loose.push(`${label} returns any`);
      for (const p of t.properties ?? []) if (mentionsAny(p.type)) loose.push(`${t.name}.${p.name} is any`);
    }
    expect(loose).toEqual([]);
  });

  test.each([
    ['AdmissionMode', ['ENFORCE', 'AUDIT']],
    ['InconclusiveAction', ['REJECT', 'ADMIT']],
    ['UnpinnedImageAction', ['REJECT', 'VERIFY_CURRENT_DIGEST']],
    ['VerificationLevel', ['STRICT', 'PERMISSIVE', 'AUDIT', 'SKIP']],
    ['VerificationAction', ['ENFORCE', 'LOG', 'SKIP']],
    ['TimestampVerification', ['ALWAYS', 'AFTER_CERT_EXPIRY']],
    ['TrustStoreType', ['CA', 'SIGNING_AUTHORITY', 'TSA']],
  ])('%s is a native enum (Python/Java/.NET get a real enum)', (name, members) => {
    const t = byName(name);
    expect(t.kind).toBe('enum');
    expect(t.members?.map((m) => m.name)).toEqual(members);
    for (const m of t.members ?? []) expect(text(m.docs?.summary)).toBeTruthy();
  });

  test('TrustPolicy.render returns the typed TrustPolicyDocument struct, nested structs included', () => {
    const render = byName('TrustPolicy').methods?.find((m) => m.name === 'render');
    expect(render?.returns?.type).toEqual({ fqn: 'cdk-signed-images.TrustPolicyDocument' });
    const doc = byName('TrustPolicyDocument');
    expect(doc.datatype).toBe(true);
    expect(doc.properties?.find((p) => p.name === 'trustPolicies')?.type)
      .toEqual({ collection: { kind: 'array', elementtype: { fqn: 'cdk-signed-images.TrustPolicyDocumentStatement' } } });
    expect(byName('TrustPolicyDocumentStatement').properties?.find((p) => p.name === 'signatureVerification')?.type)
      .toEqual({ fqn: 'cdk-signed-images.SignatureVerificationDocument' });
    expect(byName('SignatureVerificationDocument').properties?.find((p) => p.name === 'override')?.type)
      .toEqual({ collection: { kind: 'map', elementtype: { primitive: 'string' } } });
  });

  test('Signer L2 profiles have an adapter, and ISigningProfileSource no longer promises structural typing', () => {
    const source = byName('SigningProfileSource');
    const fromProfile = source.methods?.find((m) => m.name === 'fromSigningProfile');
    expect(fromProfile?.static).toBe(true);
    expect(fromProfile?.parameters?.map((p) => p.type)).toEqual([{ fqn: 'aws-cdk-lib.aws_signer.ISigningProfile' }]);
    expect(fromProfile?.returns?.type).toEqual({ fqn: 'cdk-signed-images.ISigningProfileSource' });
    expect(source.methods?.find((m) => m.name === 'fromSigningProfileArn')?.returns?.type).toEqual({ fqn: 'cdk-signed-images.ISigningProfileSource' });
    const docs = JSON.stringify(byName('ISigningProfileSource').docs);
    expect(docs).not.toMatch(/fits too/);
    expect(docs).toMatch(/SigningProfileSource\.fromSigningProfile/);
  });
});
