/**
 * `cdk-signed-images` CLI: a thin adapter over the verification engine.
 *
 *   cdk-signed-images verify <reference> --trust-policy <file> --trust-store <dir>
 *                            [--oci-layout [--scope <registry/repo>]] [--plain-http]
 *                            [--max-signatures N] [--require-platform-signatures]
 *                            [--user-metadata k=v]... [--output text|json] [--timeout <duration>]
 *   cdk-signed-images policy validate <file>
 *   cdk-signed-images inspect <reference> [--oci-layout] [--plain-http] [--output text|json] [--timeout <duration>]
 *   cdk-signed-images trust-store add-aws-signer-roots <dir> [--partition aws|aws-us-gov]
 *   cdk-signed-images version | --version
 *
 * Exit codes: 0 verified (or valid), 1 not verified (failed, inconclusive, or no decision within
 * --timeout), 2 bad usage or configuration.
 *
 * Everything printed passes through one escaping function (./escape): values from signatures and
 * registries never reach the terminal with raw control, format or bidi characters.
 */
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { armHardStop, DeadlineExceededError, DEFAULT_TIMEOUT, parseDuration, withDeadline } from './deadline';
import { escapeDeep, escapeLines, escapeText, safeJson } from './escape';
import { readInputFile } from './files';
import { inspectImage } from './inspect';
import { runSign } from './sign';
import { buildSource, CliSourceOptions } from './sources';
import { addAwsSignerRoots, checkTrustStores } from './trust-store';
import { packageVersion } from './version';
import {
  ConfigurationError, DirectoryTrustStore, ImageReference, ImageVerifier, isVerifierError, parseReference, parseTrustPolicy,
  repositoryScope, sdkSignerRevocationClient, Verdict,
} from '../verifier';

const USAGE = `usage:
  cdk-signed-images verify <reference> --trust-policy <file> --trust-store <dir>
                    [--oci-layout [--scope <registry/repository>]] [--plain-http]
                    [--max-signatures N] [--require-platform-signatures]
                    [--user-metadata key=value]... [--output text|json] [--timeout <duration>]
  cdk-signed-images policy validate <file>
  cdk-signed-images inspect <reference> [--oci-layout] [--plain-http] [--output text|json]
                    [--timeout <duration>]
  cdk-signed-images trust-store add-aws-signer-roots <dir> [--partition aws|aws-us-gov]
  cdk-signed-images sign <reference> --signing-profile <profile ARN> [--user-metadata key=value]...
                    [--plain-http] [--output text|json] [--timeout <duration>]
  cdk-signed-images version | --version

<reference> is host/repository@sha256:<hex> (a :tag is resolved, with a warning); with
--oci-layout it is <dir>@sha256:<hex> or <dir>:<tag>.
--timeout bounds the whole command (default ${DEFAULT_TIMEOUT}): 90s, 2m, 1m30s, 500ms or plain seconds.
--trust-store <dir> is a notation trust-store directory (x509/<type>/<name>/<certificate files>).
trust-store add-aws-signer-roots writes the bundled AWS Signer roots into <dir> (created if needed) as
x509/signingAuthority/aws-signer-ts/aws-signer-notation-root.pem (commercial) and
x509/signingAuthority/aws-us-gov-signer-ts/aws-us-gov-signer-notation-root.pem (GovCloud), for
statements naming "signingAuthority:aws-signer-ts" / "signingAuthority:aws-us-gov-signer-ts"; it
never overwrites a different file (exit 2) and leaves an identical one as it is.
sign has AWS Signer (SignPayload, the AWS SDK's default credentials) sign the image and pushes the
signature as notation does; exit 0 signed, 1 signing failed (Signer or the registry refused), 2 usage.
exit codes: 0 verified/valid; 1 not verified: failed, inconclusive (could not decide), or no
decision within --timeout; 2 bad usage or configuration`;

export interface CliIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

const STD_IO: CliIo = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

/** The only way out: every line printed is escaped (escapeLines keeps the line breaks, escapes the rest). */
function safeIo(io: CliIo): CliIo {
  return { out: (s) => io.out(escapeLines(s)), err: (s) => io.err(escapeLines(s)) };
}

export async function main(argv: string[], rawIo: CliIo = STD_IO): Promise<number> {
  const io = safeIo(rawIo);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'verify': return await verifyCommand(rest, io);
      case 'inspect': return await inspectCommand(rest, io);
      case 'sign': return await signCommand(rest, io);
      case 'policy':
        if (rest[0] === 'validate') return await policyValidate(rest.slice(1), io);
        throw new UsageError(`unknown policy subcommand ${quote(rest[0] ?? '')}`);
      case 'trust-store':
        if (rest[0] === 'add-aws-signer-roots') return await trustStoreAddRoots(rest.slice(1), io);
        throw new UsageError(`unknown trust-store subcommand ${quote(rest[0] ?? '')} (expected add-aws-signer-roots)`);
      case 'version': case '--version':
        return await versionCommand(rest, io);
      case undefined: case '-h': case '--help': case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${quote(command)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof DeadlineExceededError) {
      io.err(`error: ${e.message}; the image is NOT verified`);
      return EXIT_NOT_VERIFIED;
    }
    if (isVerifierError(e) && e.kind === 'configuration') {
      io.err(`error: ${escapeText(e.message)}`);
      return 2;
    }
    io.err(`error: ${escapeText(e instanceof Error ? e.message : String(e))}`);
    return isVerifierError(e) ? EXIT_NOT_VERIFIED : 2;
  }
}

/** Not verified: failed, inconclusive (could not decide), or no decision within --timeout. */
const EXIT_NOT_VERIFIED = 1;

class UsageError extends Error {}

/** `"s"` with `"` and `\` escaped, so the quotes of a message always pair up (control characters are escaped on output). */
function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

function timeoutOption(v: unknown): { ms: number; label: string } {
  const label = v === undefined ? DEFAULT_TIMEOUT : String(v);
  const ms = parseDuration(label);
  if (ms === undefined) throw new UsageError(`--timeout must be a duration such as 90s, 2m, 1m30s or plain seconds (at most 24h), got "${label}"`);
  return { ms, label };
}

type OptionsConfig = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/**
 * parseArgs in strict mode, after our own check of every option token so that the common mistakes get
 * our messages (Node's unknown-option message has an unbalanced quote and varies between versions).
 */
function parse(args: string[], options: OptionsConfig) {
  let tokens: ReturnType<typeof parseArgs>['tokens'] = [];
  try {
    tokens = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true }).tokens ?? [];
  } catch {
    // strict parsing below reports it
  }
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const def = Object.prototype.hasOwnProperty.call(options, t.name) ? options[t.name] : undefined;
    if (!def) {
      throw new UsageError(`unknown option ${quote(t.rawName)} (to give an argument that starts with "-", put it after "--", as in: -- ${quote(t.rawName)})`);
    }
    if (def.type === 'string' && t.value === undefined) throw new UsageError(`option ${quote(t.rawName)} needs a value`);
    if (def.type === 'string' && !t.inlineValue && t.value?.startsWith('-')) {
      throw new UsageError(`option ${quote(t.rawName)} is followed by ${quote(t.value)}, which looks like an option; if it is the value, write ${quote(`--${t.name}=${t.value}`)}`);
    }
    if (def.type === 'boolean' && t.inlineValue) throw new UsageError(`option ${quote(t.rawName)} takes no value`);
  }
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--user-metadata key=value` (repeatable) as a map. */
function userMetadataOption(v: unknown): Record<string, string> {
  const userMetadata: Record<string, string> = {};
  for (const kv of (v as string[] | undefined) ?? []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--user-metadata expects key=value, got "${kv}"`);
    userMetadata[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return userMetadata;
}

/** The options of every command that talks to a registry: --plain-http, --output/-o, --timeout. */
const REGISTRY_COMMAND_OPTIONS: OptionsConfig = {
  'plain-http': { type: 'boolean' },
  'output': { type: 'string', short: 'o' },
  'timeout': { type: 'string' },
};

/** The output format and time limit of a registry command (usage errors for bad values). */
function registryCommandOptions(values: Record<string, unknown>): { format: 'text' | 'json'; timeout: { ms: number; label: string } } {
  return { format: outputFormat(values.output), timeout: timeoutOption(values.timeout) };
}

function outputFormat(v: unknown): 'text' | 'json' {
  if (v === undefined || v === 'text') return 'text';
  if (v === 'json') return 'json';
  throw new UsageError(`--output must be text or json, got "${String(v)}"`);
}

/** Splits `<dir>@sha256:..` / `<dir>:<tag>` into the layout directory and the digest or tag. */
export function parseLayoutReference(s: string, scope: string | undefined): { dir: string; ref: ImageReference } {
  let dir = s;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = s.lastIndexOf('@');
  if (at > 0) {
    dir = s.slice(0, at);
    digest = s.slice(at + 1);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon > 0 && !s.slice(colon + 1).includes('/')) {
      dir = s.slice(0, colon);
      tag = s.slice(colon + 1);
    }
  }
  if (!digest && !tag) throw new UsageError(`an OCI layout reference needs @<digest> or :<tag>, got "${s}"`);
  const scopeRef = parseReference(`${scope ?? `oci-layout.local/${basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]/g, '-')}`}${digest ? '@' + digest : ':' + tag}`);
  return { dir, ref: scopeRef };
}

async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'trust-policy': { type: 'string' },
    'trust-store': { type: 'string' },
    'oci-layout': { type: 'boolean' },
    'scope': { type: 'string' },
    'max-signatures': { type: 'string' },
    'require-platform-signatures': { type: 'boolean' },
    'user-metadata': { type: 'string', multiple: true },
    ...REGISTRY_COMMAND_OPTIONS,
  });
  const { format, timeout } = registryCommandOptions(values);
  if (positionals.length !== 1) throw new UsageError('verify takes exactly one <reference>');
  if (!values['trust-policy']) throw new UsageError('--trust-policy <file> is required');
  if (!values['trust-store']) throw new UsageError('--trust-store <dir> is required');
  const maxSignatures = values['max-signatures'] === undefined ? undefined : Number(values['max-signatures']);
  if (maxSignatures !== undefined && (!Number.isInteger(maxSignatures) || maxSignatures < 1)) {
    throw new UsageError('--max-signatures must be a positive integer');
  }
  const userMetadata = userMetadataOption(values['user-metadata']);
  const policyText = await readConfigFile(values['trust-policy'] as string, 'trust policy');
  const policy = parseTrustPolicy(policyText);
  const target = resolveTarget(positionals[0], values as CliSourceOptions & { scope?: string });
  const warnings: string[] = [];
  let verdict: Verdict;
  try {
    verdict = await withDeadline(timeout.ms, timeout.label, async (signal) => {
      const trustStores = new DirectoryTrustStore(values['trust-store'] as string);
      // before any registry access: a missing or empty trust store is a configuration error (exit 2)
      await checkTrustStores(values['trust-store'] as string, policy, repositoryScope(target.ref), trustStores, (m) => warnings.push(m));
      const verifier = new ImageVerifier({
        trustPolicy: policyText,
        trustStores,
        // the engine's signal for the source aborts with ours (we are its only caller) or at its own deadline
        sourceFor: (ref, ctx) => buildSource(ref, {
          ...(values as CliSourceOptions), layoutDir: target.layoutDir, signal: ctx?.signal ?? signal, deadline: ctx?.deadline,
        }),
        // the engine's own deadline just after ours, so that --timeout is what the user sees
        verificationTimeoutMs: timeout.ms + 1000,
        signerClient: sdkSignerRevocationClient(),
        maxSignatures,
        requirePlatformSignatures: values['require-platform-signatures'] as boolean | undefined,
        userMetadata: Object.keys(userMetadata).length ? userMetadata : undefined,
        cacheTtlMs: 0,
        logger: { warn: (m) => warnings.push(m) },
      });
      return verifier.verifyReference(target.ref, positionals[0], undefined, { signal });
    });
  } catch (e) {
    for (const w of warnings) io.err(`warning: ${escapeText(w)}`);
    if (e instanceof DeadlineExceededError && format === 'json') {
      // a machine reader gets a verdict-shaped answer too (exit code and stderr as for text)
      const message = `${e.message}; the image is NOT verified`;
      io.out(safeJson({ reference: positionals[0], status: 'inconclusive', verified: false, signatures: [], reasons: [message], error: { kind: 'inconclusive', code: 'TIMEOUT', message } }));
    }
    throw e;
  }
  for (const w of warnings) io.err(`warning: ${escapeText(w)}`);
  if (format === 'json') io.out(safeJson(verdict));
  else io.out(renderVerdict(verdict));
  if (verdict.error?.kind === 'configuration') return 2;
  return verdict.verified ? 0 : EXIT_NOT_VERIFIED;
}

function resolveTarget(reference: string, values: CliSourceOptions & { scope?: string }): { ref: ImageReference; layoutDir?: string } {
  if (values['oci-layout']) {
    const { dir, ref } = parseLayoutReference(reference, values.scope);
    return { ref, layoutDir: dir };
  }
  if (values.scope) throw new UsageError('--scope is only valid with --oci-layout');
  return { ref: parseReference(reference) };
}

/** Upper bound of a trust policy file. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

async function readConfigFile(path: string, what: string): Promise<string> {
  try {
    return (await readInputFile(path, MAX_CONFIG_BYTES)).toString('utf8');
  } catch (e) {
    throw new ConfigurationError('INVALID_OPTIONS', `cannot read ${what} file "${path}": ${(e as Error).message}`);
  }
}

/** The verdict as text; every value is escaped (it may come from a signature or a registry). */
export function renderVerdict(verdict: Verdict): string {
  const v = escapeDeep(verdict);
  const lines: string[] = [];
  if (v.status === 'verified') {
    lines.push(`Successfully verified signature for ${v.reference}`);
    if (v.digest) lines.push(`  digest:    ${v.digest}`);
    lines.push(`  statement: ${v.policyStatement} (${v.level})`);
    lines.push(`  signer:    ${v.signer ?? '(unknown)'}`);
    lines.push(`  signature: ${v.signatureDigest}`);
    for (const c of v.signatures.at(-1)?.checks ?? []) {
      if (!c.passed) lines.push(`  warning: ${c.check} check failed (${c.action}): ${c.reason}`);
    }
    return lines.join('\n');
  }
  if (v.status === 'skipped') return `Trust policy statement "${v.policyStatement}" is set to skip: ${v.reference} was not verified`;
  lines.push(`Error: signature verification ${v.status === 'inconclusive' ? 'was inconclusive' : 'failed'} for ${v.reference}`);
  if (v.digest) lines.push(`  digest:    ${v.digest}`);
  if (v.policyStatement) lines.push(`  statement: ${v.policyStatement} (${v.level})`);
  for (const s of v.signatures) {
    const failing = s.checks.find((c) => !c.passed && c.action === 'enforce') ?? s.checks.find((c) => !c.passed);
    lines.push(`  signature ${s.signatureDigest}${s.signer ? ` signed by ${s.signer}` : ''}`);
    lines.push(`    ${failing ? `${failing.check} check failed: ${failing.reason}` : (s.error?.message ?? 'not verified')}`);
  }
  if (v.signatures.length === 0) for (const r of v.reasons) lines.push(`  ${r}`);
  for (const p of v.platforms ?? []) if (!p.verified) lines.push(`  platform ${p.digest}: ${p.reasons.join('; ')}`);
  return lines.join('\n');
}

async function policyValidate(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError('policy validate takes exactly one <file>');
  const doc = parseTrustPolicy(await readConfigFile(positionals[0], 'trust policy'));
  io.out(`trust policy is valid: ${doc.trustPolicies.length} statement(s): ${doc.trustPolicies.map((s) => s.name).join(', ')}`);
  return 0;
}

async function versionCommand(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals.length) throw new UsageError('version takes no arguments');
  const version = await packageVersion();
  if (version instanceof Error) {
    io.err(`error: cannot tell the version of cdk-signed-images: ${version.message}`);
    return 2;
  }
  io.out(version);
  return 0;
}

async function trustStoreAddRoots(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { partition: { type: 'string', multiple: true } });
  if (positionals.length !== 1) throw new UsageError('trust-store add-aws-signer-roots takes exactly one <dir>');
  const partitions = (values.partition as string[] | undefined) ?? ['aws', 'aws-us-gov'];
  for (const p of partitions) {
    if (p !== 'aws' && p !== 'aws-us-gov') throw new UsageError(`--partition must be aws or aws-us-gov, got ${quote(p)}`);
  }
  const dir = positionals[0];
  const results = await addAwsSignerRoots(dir, partitions as Array<'aws' | 'aws-us-gov'>);
  for (const r of results) {
    io.out(`${r.status === 'written' ? 'wrote' : 'already present (identical)'}: ${resolve(dir, r.relativePath)}`);
    io.out(`  ${r.root.subject}, SHA-256 ${r.root.sha256}; trust policy store "signingAuthority:${r.root.store}"`);
    if (r.others.length) io.out(`  note: the store also holds ${r.others.map(quote).join(', ')}, trusted as well by every statement naming it`);
  }
  const names = results.map((r) => `"signingAuthority:${r.root.store}"`).join(' or ');
  io.out(`use it with: cdk-signed-images verify <reference> --trust-policy <file> --trust-store ${quote(dir)} (statements listing ${names} in trustStores)`);
  return 0;
}

async function signCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'signing-profile': { type: 'string' },
    'user-metadata': { type: 'string', multiple: true },
    ...REGISTRY_COMMAND_OPTIONS,
  });
  const { format, timeout } = registryCommandOptions(values);
  if (positionals.length !== 1) throw new UsageError('sign takes exactly one <reference>');
  if (!values['signing-profile']) throw new UsageError('--signing-profile <signing profile ARN> is required');
  const userMetadata = userMetadataOption(values['user-metadata']);
  return runSign({
    reference: positionals[0],
    signingProfileArn: values['signing-profile'] as string,
    userMetadata,
    plainHttp: values['plain-http'] === true,
    format,
    timeout,
  }, io);
}

async function inspectCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'oci-layout': { type: 'boolean' },
    ...REGISTRY_COMMAND_OPTIONS,
  });
  const { format, timeout } = registryCommandOptions(values);
  if (positionals.length !== 1) throw new UsageError('inspect takes exactly one <reference>');
  const target = resolveTarget(positionals[0], values as CliSourceOptions);
  const report = await withDeadline(timeout.ms, timeout.label, (signal) => {
    const source = buildSource(target.ref, { ...(values as CliSourceOptions), layoutDir: target.layoutDir, signal });
    return inspectImage(source, target.ref);
  });
  io.out(format === 'json' ? safeJson(report) : report.text);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    armHardStop(() => code);
  }, (e) => {
    process.stderr.write(escapeLines(`fatal: ${e instanceof Error ? e.stack : String(e)}`) + '\n');
    process.exitCode = 2;
    armHardStop(() => 2);
  });
}
