/**
 * Issue 8 item 4: error classes that cannot be abused.
 *  - toVerifierError: anything untyped is a failed INTERNAL error (never inconclusive), with its cause.
 *  - A guard over src/verifier: every `throw` throws a typed VerifierError (checked with the TypeScript
 *    type checker), and no plain Error is constructed anywhere in the engine.
 *  - The engine: a source, trust store or parser that throws a TypeError gives a failed INTERNAL verdict,
 *    logged with its stack; `inconclusiveAction: ADMIT` (which admits only inconclusive) cannot admit it.
 *  - Runtime.verifyImage: a verify() that throws anyway is rejected (INTERNAL), logged with its stack.
 *  - Transport failures stay inconclusive (timeouts, OCSP/CRL servers unreachable), invalid answers fail.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { Runtime } from '../../src/handlers/runtime';
import {
  ConfigurationError, errorLogFields, toVerifierError, VerificationFailedError, VerificationInconclusiveError, VerifierError,
} from '../../src/verifier/errors';
import { ArtifactSource } from '../../src/verifier/registry/source';
import { Descriptor, MEDIA_TYPE, Verdict } from '../../src/verifier/types';
import { ImageVerifier, Logger } from '../../src/verifier/verifier';
import { parseCertificate } from '../../src/verifier/x509/certificate';
import { checkRevocation, RevocationFetch } from '../../src/verifier/x509/revocation';
import { InMemoryTrustStore, TrustStoreProvider } from '../../src/verifier/x509/truststore';
import { FixtureSource } from '../support/fixture-source';
import { makeChain, makeCrl, makeOcspResponse } from '../support/pki';
import { signJws } from '../support/sign';

const ROOT = path.resolve(__dirname, '../..');

describe('toVerifierError', () => {
  test('a TypeError is a failed INTERNAL error that keeps its cause; never inconclusive', () => {
    const bug = new TypeError("Cannot read properties of null (reading 'digest')");
    const e = toVerifierError(bug);
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.kind).toBe('failed');
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toBe("internal error: TypeError: Cannot read properties of null (reading 'digest')");
    expect((e as Error & { cause?: unknown }).cause).toBe(bug);
  });

  test.each<[string, unknown, string]>([
    ['a plain Error', new Error('boom'), 'internal error: boom'],
    ['a RangeError', new RangeError('Invalid array length'), 'internal error: RangeError: Invalid array length'],
    ['a string', 'oops', 'internal error: oops'],
    ['undefined', undefined, 'internal error: undefined'],
    ['an object', { code: 'ECONNRESET' }, 'internal error: {"code":"ECONNRESET"}'],
    ['a circular object', (() => { const o: any = {}; o.o = o; return o; })(), 'internal error: [object Object]'],
    ['an error that looks like a network error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'internal error: socket hang up'],
  ])('%s is failed INTERNAL', (_name, thrown, message) => {
    const e = toVerifierError(thrown);
    expect([e.kind, e.code, e.message]).toEqual(['failed', 'INTERNAL', message]);
  });

  test('typed errors pass through unchanged, whatever their kind', () => {
    for (const e of [
      new VerificationInconclusiveError('TIMEOUT', 't'),
      new VerificationFailedError('REVOKED', 'r'),
      new ConfigurationError('INVALID_TRUST_POLICY', 'c'),
    ]) expect(toVerifierError(e)).toBe(e);
  });

  test('the verdict JSON of an error carries no stack; the log fields carry the stack and the cause chain', () => {
    const bug = new TypeError('bad');
    const e = toVerifierError(bug);
    expect(e.toJSON()).toEqual({ kind: 'failed', code: 'INTERNAL', message: 'internal error: TypeError: bad' });
    const fields = errorLogFields(e) as any;
    expect(fields).toMatchObject({ name: 'VerificationFailedError', kind: 'failed', code: 'INTERNAL' });
    expect(fields.stack).toContain('VerificationFailedError');
    expect(fields.cause).toMatchObject({ name: 'TypeError', message: 'bad' });
    expect(fields.cause.stack).toContain('TypeError: bad');
    expect(errorLogFields('text')).toEqual({ value: 'text' });
  });
});

// -------------------------------------------------------------------------------------------------
// Guard: typed throws only
// -------------------------------------------------------------------------------------------------

function engineFiles(dir = path.join(ROOT, 'src/verifier')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return engineFiles(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * Internal sentinel classes thrown and caught inside one module, converted to a typed error before
 * anything leaves it. Each entry names the file, the class and where it is converted.
 */
const SENTINELS: Record<string, string> = {
  'src/verifier/policy/decode.ts:Malformed': 'caught in decode (parseTrustPolicy), rethrown as ConfigurationError INVALID_TRUST_POLICY',
  'src/verifier/envelope/common.ts:Base64Error': 'caught in envelope/jws.ts, rethrown as an INVALID_SIGNATURE/INVALID_ENVELOPE failure',
  'src/verifier/json/strict-json.ts:StrictJsonProblem': 'caught in the same module, rethrown as the caller\'s typed failure',
};

describe('guard: every throw in src/verifier is a typed VerifierError', () => {
  const files = engineFiles();
  let program: ts.Program;
  let checker: ts.TypeChecker;
  let verifierErrorType: ts.Type;

  beforeAll(() => {
    program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      lib: ['lib.es2022.d.ts'],
    });
    checker = program.getTypeChecker();
    const errorsFile = program.getSourceFile(path.join(ROOT, 'src/verifier/errors/index.ts'))!;
    const decl = errorsFile.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'VerifierError')!;
    verifierErrorType = checker.getTypeAtLocation(decl.name!);
  });

  test('the engine has files and the guard sees their throws', () => {
    expect(files.length).toBeGreaterThan(20);
    let throws = 0;
    for (const f of files) {
      const visit = (n: ts.Node): void => { if (ts.isThrowStatement(n)) throws++; ts.forEachChild(n, visit); };
      visit(program.getSourceFile(f)!);
    }
    expect(throws).toBeGreaterThan(200);
  });

  test('each thrown expression is typed (a VerifierError), a rethrow of a caught value, or a listed module-internal sentinel', () => {
    const offenders: string[] = [];
    const sentinelsSeen = new Set<string>();
    for (const f of files) {
      const sf = program.getSourceFile(f)!;
      const rel = path.relative(ROOT, f).split(path.sep).join('/');
      const visit = (n: ts.Node): void => {
        if (ts.isThrowStatement(n) && n.expression) {
          const expr = n.expression;
          const where = `${rel}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}: ${n.getText().slice(0, 100)}`;
          const type = checker.getTypeAtLocation(expr);
          const typed = (type.flags & ts.TypeFlags.Never) === 0 && checker.isTypeAssignableTo(type, verifierErrorType)
            && (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) === 0;
          const sym = ts.isIdentifier(expr) ? checker.getSymbolAtLocation(expr) : undefined;
          const rethrow = sym?.declarations?.some((d) => ts.isVariableDeclaration(d) && ts.isCatchClause(d.parent)) ?? false;
          const ctor = ts.isNewExpression(expr) && ts.isIdentifier(expr.expression) ? expr.expression.text : undefined;
          const sentinel = ctor !== undefined && SENTINELS[`${rel}:${ctor}`] !== undefined;
          if (sentinel) sentinelsSeen.add(`${rel}:${ctor}`);
          if (!typed && !rethrow && !sentinel) offenders.push(`${where}  [${checker.typeToString(type)}]`);
        }
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    expect(offenders).toEqual([]);
    // the allow-list does not rot: every listed sentinel is still thrown
    expect([...sentinelsSeen].sort()).toEqual(Object.keys(SENTINELS).sort());
  });

  test('no plain Error / TypeError / RangeError is constructed in the engine (thrown, rejected or destroyed with)', () => {
    const offenders: string[] = [];
    for (const f of files) {
      fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (/\bnew (Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError)\(/.test(line)) {
          offenders.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });

  test('the guard catches what it should (self-test on a scratch program)', () => {
    const scratch = path.join(ROOT, 'src/verifier/__guard_scratch__.ts');
    const text = [
      "import { VerificationFailedError } from './errors';",
      "export function a(): void { throw new Error('plain'); }",
      "export function b(): void { throw new TypeError('type'); }",
      "export function c(): void { throw new VerificationFailedError('INTERNAL', 'ok'); }",
      'export function d(x: unknown): void { try { a(); } catch (e) { throw e; } void x; }',
      'export function e(x: unknown): void { throw x; }',
    ].join('\n');
    const host = ts.createCompilerHost({});
    const orig = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) => (path.resolve(name) === scratch ? ts.createSourceFile(name, text, lang) : orig(name, lang, ...rest));
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => path.resolve(name) === scratch || fileExists(name);
    const p = ts.createProgram([scratch, path.join(ROOT, 'src/verifier/errors/index.ts')], { strict: true, skipLibCheck: true, noEmit: true, types: ['node'], lib: ['lib.es2022.d.ts'] }, host);
    const c = p.getTypeChecker();
    const errSf = p.getSourceFile(path.join(ROOT, 'src/verifier/errors/index.ts'))!;
    const decl = errSf.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'VerifierError')!;
    const vt = c.getTypeAtLocation(decl.name!);
    const verdicts: string[] = [];
    const visit = (n: ts.Node): void => {
      if (ts.isThrowStatement(n)) {
        const t = c.getTypeAtLocation(n.expression);
        const typed = c.isTypeAssignableTo(t, vt) && (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) === 0;
        const sym = ts.isIdentifier(n.expression) ? c.getSymbolAtLocation(n.expression) : undefined;
        const rethrow = sym?.declarations?.some((d) => ts.isVariableDeclaration(d) && ts.isCatchClause(d.parent)) ?? false;
        verdicts.push(typed || rethrow ? 'ok' : 'flagged');
      }
      ts.forEachChild(n, visit);
    };
    visit(p.getSourceFile(scratch)!);
    expect(verdicts).toEqual(['flagged', 'flagged', 'ok', 'ok', 'flagged']);
  });
});

// -------------------------------------------------------------------------------------------------
// The engine: unknown throws are failed INTERNAL, logged with the stack
// -------------------------------------------------------------------------------------------------

const chain = makeChain({ keySlot: 'errors-test' });
const manifest = Buffer.from('{"schemaVersion":2}');
const target: Descriptor = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: 'sha256:' + createHash('sha256').update(manifest).digest('hex'), size: manifest.length };
const SCOPE = 'errors.example/app';
const REF = `${SCOPE}@${target.digest}`;
const POLICY = {
  version: '1.0',
  trustPolicies: [{ name: 'p', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:t'], trustedIdentities: ['*'] }],
};
const ENVELOPE = signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: target });

function recordingLogger(): Logger & { lines: Array<{ message: string; data?: Record<string, unknown> }> } {
  const lines: Array<{ message: string; data?: Record<string, unknown> }> = [];
  return { lines, warn: (message, data) => lines.push({ message, data }), info: () => undefined };
}

/** The decision of a hook with `inconclusiveAction: ADMIT`: only verified and inconclusive are admitted. */
const admitsUnderAdmit = (v: Verdict) => v.status === 'verified' || v.status === 'inconclusive';

function verifierWith(source: () => ArtifactSource, extra: { trustStores?: TrustStoreProvider; requirePlatformSignatures?: boolean } = {}) {
  const logger = recordingLogger();
  const verifier = new ImageVerifier({
    trustPolicy: POLICY,
    trustStores: extra.trustStores ?? new InMemoryTrustStore({ 'ca:t': chain.rootPem }),
    sourceFor: source,
    requirePlatformSignatures: extra.requirePlatformSignatures,
    logger,
  });
  return { verifier, logger };
}

/** A FixtureSource over the signed target with one method replaced. */
function sourceWith(override: Partial<ArtifactSource>): ArtifactSource {
  const base = new FixtureSource(SCOPE, target, [{ mediaType: MEDIA_TYPE.JWS, envelope: ENVELOPE }]);
  return Object.assign(Object.create(base), override);
}

function expectInternal(v: Verdict, logger: ReturnType<typeof recordingLogger>, bug: string): void {
  expect([v.status, v.error?.kind, v.error?.code]).toEqual(['failed', 'failed', 'INTERNAL']);
  expect(admitsUnderAdmit(v)).toBe(false);
  expect(JSON.stringify(v)).not.toContain('    at '); // no stack in the verdict
  const line = logger.lines.find((l) => /internal error/.test(l.message));
  expect(line).toBeDefined();
  expect(JSON.stringify(line!.data)).toContain(bug);
  expect((line!.data!.error as any).stack).toMatch(/TypeError: .*\n\s+at /);
}

describe('engine: an unexpected throw is failed INTERNAL, never inconclusive', () => {
  test('baseline: the fixture verifies', async () => {
    const { verifier } = verifierWith(() => sourceWith({}));
    expect((await verifier.verify(REF)).status).toBe('verified');
  });

  test('fetchSignature throws a TypeError (a parser bug tripped by a pushed signature): failed INTERNAL, logged with the stack', async () => {
    const { verifier, logger } = verifierWith(() => sourceWith({
      fetchSignature: async () => { throw new TypeError("Cannot read properties of undefined (reading 'mediaType')"); },
    }));
    const v = await verifier.verify(REF);
    expectInternal(v, logger, "reading 'mediaType'");
    expect(v.signatures[0].error).toMatchObject({ kind: 'failed', code: 'INTERNAL' });
  });

  test.each<[string, Partial<ArtifactSource>]>([
    ['resolve', { resolve: async () => { throw new TypeError('resolve bug'); } }],
    ['listSignatures (first page)', { listSignatures: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => { throw new TypeError('listing bug'); } }) }) }],
    ['listSignatures (after a signature)', {
      // eslint-disable-next-line require-yield
      listSignatures: async function* () { throw new TypeError('second page bug'); },
    }],
  ])('%s throws a TypeError: failed INTERNAL', async (_name, override) => {
    const { verifier, logger } = verifierWith(() => sourceWith(override));
    const v = await verifier.verify(REF);
    expectInternal(v, logger, 'bug');
  });

  test('sourceFor throws a TypeError: failed INTERNAL', async () => {
    const { verifier, logger } = verifierWith(() => { throw new TypeError('factory bug'); });
    expectInternal(await verifier.verify(REF), logger, 'factory bug');
    // a tag goes through the other path
    const { verifier: v2, logger: l2 } = verifierWith(() => { throw new TypeError('factory bug'); });
    expectInternal(await v2.verify(`${SCOPE}:v1`), l2, 'factory bug');
  });

  test('a trust store provider that throws a TypeError: the signature fails INTERNAL', async () => {
    const stores: TrustStoreProvider = { getCertificates: async () => { throw new TypeError('store bug'); } } as any;
    const { verifier, logger } = verifierWith(() => sourceWith({}), { trustStores: stores });
    const v = await verifier.verify(REF);
    expectInternal(v, logger, 'store bug');
    expect(v.signatures[0].checks.find((c) => c.check === 'authenticity')).toMatchObject({ passed: false, code: 'INTERNAL' });
  });

  test('a signed index whose manifest list holds a null entry (requirePlatformSignatures): failed, not inconclusive, not a throw', async () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.OCI_INDEX, manifests: [null] }));
    const indexDesc: Descriptor = { mediaType: MEDIA_TYPE.OCI_INDEX, digest: 'sha256:' + createHash('sha256').update(index).digest('hex'), size: index.length };
    const env = signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: indexDesc });
    const base = new FixtureSource(SCOPE, indexDesc, [{ mediaType: MEDIA_TYPE.JWS, envelope: env }]);
    const source = Object.assign(Object.create(base), { resolve: async () => ({ descriptor: indexDesc, bytes: new Uint8Array(index) }) });
    const { verifier } = verifierWith(() => source, { requirePlatformSignatures: true });
    const v = await verifier.verify(`${SCOPE}@${indexDesc.digest}`);
    expect(v.status).toBe('failed');
    expect(['INTERNAL', 'INVALID_MANIFEST', 'NOT_FOUND']).toContain(v.error?.code ?? v.platforms?.[0]?.error?.code);
    expect(admitsUnderAdmit(v)).toBe(false);
  });

  test('a transport failure stays inconclusive (the source throws a typed transport error)', async () => {
    const { verifier, logger } = verifierWith(() => sourceWith({
      fetchSignature: async () => { throw new VerificationInconclusiveError('NETWORK', 'connection reset'); },
    }));
    const v = await verifier.verify(REF);
    expect([v.status, v.error?.code]).toEqual(['inconclusive', 'NETWORK']);
    expect(logger.lines.filter((l) => /internal error/.test(l.message))).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
// Revocation: transport failures inconclusive, invalid answers failed
// -------------------------------------------------------------------------------------------------

describe('X.509 revocation classes', () => {
  const ocspChain = makeChain({ length: 2, keySlot: 'errors-ocsp', leaf: { ocspUrl: 'http://ocsp.errors.invalid/x' } });
  const parsed = ocspChain.chainDer.map((d) => parseCertificate(d));
  const issuer = ocspChain.certs[1] as any;
  const good = () => makeOcspResponse({ certDer: ocspChain.chainDer[0], issuer, status: 'good' });
  const run = (fetch: RevocationFetch) => checkRevocation(parsed, { fetch });

  test.each<[string, RevocationFetch, boolean]>([
    ['unreachable (the fetch rejects with an untyped error)', async () => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }); }, true],
    ['HTTP 500', async () => ({ status: 500, body: new Uint8Array() }), true],
    ['HTTP 404', async () => ({ status: 404, body: new Uint8Array() }), true],
    ['tryLater', async () => ({ status: 200, body: makeOcspResponse({ certDer: ocspChain.chainDer[0], issuer, status: 'good', responseStatus: 3 }) }), true],
    ['internalError', async () => ({ status: 200, body: makeOcspResponse({ certDer: ocspChain.chainDer[0], issuer, status: 'good', responseStatus: 2 }) }), true],
    ['garbage', async () => ({ status: 200, body: new Uint8Array([1, 2, 3]) }), false],
    ['empty body', async () => ({ status: 200, body: new Uint8Array() }), false],
    ['bad signature', async () => ({ status: 200, body: makeOcspResponse({ certDer: ocspChain.chainDer[0], issuer, status: 'good', badSignature: true }) }), false],
    ['status unknown', async () => ({ status: 200, body: makeOcspResponse({ certDer: ocspChain.chainDer[0], issuer, status: 'unknown' }) }), false],
    ['unauthorized', async () => ({ status: 200, body: makeOcspResponse({ certDer: ocspChain.chainDer[0], issuer, status: 'good', responseStatus: 6 }) }), false],
    ['a fetch with a parser bug of its own (TypeError) counts as transport (fetch contract)', async () => { throw new TypeError('x is not a function'); }, true],
    ['a response larger than the limit (typed SIZE_LIMIT_EXCEEDED)', async () => { throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED', 'too big'); }, false],
  ])('%s: unknown, transient as given', async (_name, fetch, transient) => {
    const r = await run(fetch);
    expect([r.status, r.transient]).toEqual(['unknown', transient]);
    expect(r.certs[0].transient).toBe(transient);
  });

  describe('CRL and mixed chains', () => {
    const crlChain = makeChain({ length: 3, keySlot: 'errors-crl', leaf: { ocspUrl: 'http://ocsp.errors.invalid/leaf' }, intermediates: [{ crlUrl: 'http://crl.errors.invalid/int.crl' }] });
    const certs = crlChain.chainDer.map((d) => parseCertificate(d));
    const ocspGood = () => makeOcspResponse({ certDer: crlChain.chainDer[0], issuer: crlChain.certs[1] as any, status: 'good' });
    const crlGood = () => makeCrl({ issuer: crlChain.certs[2] as any });
    type Answer = { status: number; body: Uint8Array } | 'down';
    const fetchOf = (ocsp: () => Answer, crl: () => Answer): RevocationFetch => async (url) => {
      const a = url.startsWith('http://ocsp.') ? ocsp() : crl();
      if (a === 'down') throw new Error('connect ECONNREFUSED');
      return a;
    };
    const ok = (b: Uint8Array) => () => ({ status: 200, body: b });
    test.each<[string, () => Answer, () => Answer, string, boolean | undefined]>([
      ['all good', ok(ocspGood()), ok(crlGood()), 'good', undefined],
      ['CRL garbage', ok(ocspGood()), ok(new Uint8Array([0x30, 0x00])), 'unknown', false],
      ['CRL badly signed', ok(ocspGood()), () => ({ status: 200, body: makeCrl({ issuer: crlChain.certs[2] as any, badSignature: true }) }), 'unknown', false],
      ['CRL expired', ok(ocspGood()), () => ({ status: 200, body: makeCrl({ issuer: crlChain.certs[2] as any, thisUpdate: new Date(Date.now() - 9 * 86400_000), nextUpdate: new Date(Date.now() - 86400_000) }) }), 'unknown', false],
      ['CRL without nextUpdate', ok(ocspGood()), () => ({ status: 200, body: makeCrl({ issuer: crlChain.certs[2] as any, nextUpdate: null }) }), 'unknown', false],
      ['CRL HTTP 503', ok(ocspGood()), () => ({ status: 503, body: new Uint8Array() }), 'unknown', true],
      ['CRL server down', ok(ocspGood()), () => 'down', 'unknown', true],
      ['leaf OCSP down, intermediate CRL down', () => 'down', () => 'down', 'unknown', true],
      ['leaf OCSP down, intermediate CRL garbage: the invalid answer decides (failed)', () => 'down', ok(new Uint8Array([1])), 'unknown', false],
      ['leaf OCSP garbage, intermediate CRL down', ok(new Uint8Array([1])), () => 'down', 'unknown', false],
      ['leaf revoked, intermediate CRL down: revoked wins', () => ({ status: 200, body: makeOcspResponse({ certDer: crlChain.chainDer[0], issuer: crlChain.certs[1] as any, status: 'revoked', revokedAt: new Date(Date.now() - 3600_000) }) }), () => 'down', 'revoked', undefined],
    ])('%s', async (_name, ocsp, crl, status, transient) => {
      const r = await checkRevocation(certs, { fetch: fetchOf(ocsp, crl) });
      expect([r.status, r.transient]).toEqual([status, transient]);
    });
  });

  test('good stays good, and an https-only responder is a definitive (non-transient) unknown', async () => {
    expect((await run(async () => ({ status: 200, body: good() }))).status).toBe('good');
    const https = makeChain({ length: 2, keySlot: 'errors-ocsp', leaf: { ocspUrl: 'https://ocsp.errors.invalid/x' } }).chainDer.map((d) => parseCertificate(d));
    const r = await checkRevocation(https, { fetch: async () => { throw new Error('never called'); } });
    expect([r.status, r.transient]).toEqual(['unknown', false]);
  });

  test('through the verifier: invalid answer => failed REVOCATION_UNKNOWN; unreachable => inconclusive REVOCATION_UNKNOWN', async () => {
    const targetEnv = signJws({ key: ocspChain.key, chainDer: ocspChain.chainDer, targetArtifact: target });
    const mk = (fetch: RevocationFetch) => new ImageVerifier({
      trustPolicy: POLICY,
      trustStores: new InMemoryTrustStore({ 'ca:t': ocspChain.rootPem }),
      sourceFor: () => new FixtureSource(SCOPE, target, [{ mediaType: MEDIA_TYPE.JWS, envelope: targetEnv }]),
      x509Revocation: { fetch },
      cacheTtlMs: 0,
    });
    const bad = await mk(async () => ({ status: 200, body: makeOcspResponse({ certDer: ocspChain.chainDer[0], issuer, status: 'good', badSignature: true }) })).verify(REF);
    expect([bad.status, bad.error?.kind, bad.error?.code]).toEqual(['failed', 'failed', 'REVOCATION_UNKNOWN']);
    expect(bad.error?.message).toBe('signing certificate with subject "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" revocation status is unknown');
    const down = await mk(async () => { throw new Error('connect ECONNREFUSED'); }).verify(REF);
    expect([down.status, down.error?.kind, down.error?.code]).toEqual(['inconclusive', 'inconclusive', 'REVOCATION_UNKNOWN']);
    expect((await mk(async () => ({ status: 200, body: good() })).verify(REF)).status).toBe('verified');
  });
});

// -------------------------------------------------------------------------------------------------
// Runtime.verifyImage
// -------------------------------------------------------------------------------------------------

describe('Runtime.verifyImage', () => {
  test('a verify() that throws anyway: rejected with a failed INTERNAL verdict, ERROR log line with the stack', async () => {
    const rt = new Runtime({ version: 1, trustPolicy: POLICY, trustStores: { 'ca:t': chain.rootPem } } as any, 'admission-hook');
    (rt.verifier as any).verify = async () => { throw new TypeError("Cannot read properties of null (reading 'digest')"); };
    const lines: any[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: any) => {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      return true;
    }) as any);
    let result;
    try {
      result = await rt.verifyImage(REF, { container: 'app' });
    } finally {
      spy.mockRestore();
    }
    expect(result.outcome).toBe('rejected');
    expect(result.verdict).toMatchObject({ status: 'failed', verified: false, error: { kind: 'failed', code: 'INTERNAL' } });
    const err = lines.find((l) => l.level === 'ERROR');
    expect(err).toMatchObject({ image: REF, container: 'app', handler: 'admission-hook' });
    expect(err.error.stack).toMatch(/TypeError: Cannot read properties of null/);
    const verdict = lines.find((l) => l.message === 'verdict');
    expect(verdict).toMatchObject({ outcome: 'rejected', status: 'failed' });
    expect(JSON.stringify(verdict)).not.toContain('    at ');
  });
});

// keep the imported class referenced for readers: the engine's typed base class
void VerifierError;
