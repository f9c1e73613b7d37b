/**
 * Issue 9, CLI items, through the bundled CLI (assets/cli/cli.js) in a child process:
 *  - `--version` / `version` print the package version, in the repository and in the installed layout
 *    (node_modules/cdk-signed-images/assets/cli/cli.js, also through a node_modules/.bin symlink);
 *  - a missing or empty --trust-store directory, or a missing store the applicable statement names, is
 *    exit 2 with a clear message BEFORE any registry access (a loopback listener counts connections);
 *  - our own messages for option mistakes (Node's unknown-option message had an unbalanced quote);
 *  - `trust-store add-aws-signer-roots <dir>` writes the bundled AWS Signer roots in notation's layout,
 *    byte-identical, never overwriting a different file, and `verify` then loads that store.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustStore } from '../../src/trust-policy';
import {
  AWS_SIGNER_GOVCLOUD_ROOT_PEM, AWS_SIGNER_GOVCLOUD_ROOT_SHA256, AWS_SIGNER_ROOT_PEM, AWS_SIGNER_ROOT_SHA256,
} from '../../src/verifier/signer/roots';
import { DirectoryTrustStore } from '../../src/verifier/x509/truststore';
import { ensureBundled, REPO_ROOT } from '../support/handler-bundle';
import { makeChain } from '../support/pki';
import { pushImage, pushSignature, writeOciLayout } from '../support/push';
import { signJws } from '../support/sign';

jest.setTimeout(60_000);

const CLI = join(REPO_ROOT, 'assets', 'cli', 'cli.js');
const DIGEST = `sha256:${'a'.repeat(64)}`;
const COMMERCIAL = join('x509', 'signingAuthority', 'aws-signer-ts', 'aws-signer-notation-root.pem');
const GOVCLOUD = join('x509', 'signingAuthority', 'aws-us-gov-signer-ts', 'aws-us-gov-signer-notation-root.pem');

let dir: string;
let listener: net.Server;
let connections = 0;
let registryHost: string;
let signedDigest: string;
let saDigest: string;

interface Run { code: number; stdout: string; stderr: string }

function run(args: string[], cli = CLI): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], {
      cwd: dir, timeout: 50_000, env: { ...process.env, NODE_NO_WARNINGS: '1', AWS_REGION: 'us-east-1', DOCKER_CONFIG: join(dir, 'docker') },
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 99) : 0, stdout, stderr });
    });
  });
}

const statement = (over: Record<string, unknown> = {}) => ({
  name: 'corp',
  registryScopes: ['*'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:corp'],
  trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'],
  ...over,
});
function policy(name: string, ...statements: object[]): string {
  writeFileSync(join(dir, name), JSON.stringify({ version: '1.0', trustPolicies: statements }));
  return name;
}
/** A remote reference on the loopback listener: any registry access shows up as a connection. */
const remote = () => `${registryHost}/app@${DIGEST}`;

beforeAll(async () => {
  ensureBundled();
  dir = mkdtempSync(join(tmpdir(), 'csi-cli-adopt-'));
  mkdirSync(join(dir, 'docker'));
  listener = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  registryHost = `127.0.0.1:${(listener.address() as net.AddressInfo).port}`;

  const chain = makeChain({ keySlot: 'cli' });
  mkdirSync(join(dir, 'store', 'x509', 'ca', 'corp'), { recursive: true });
  writeFileSync(join(dir, 'store', 'x509', 'ca', 'corp', 'root.pem'), chain.rootPem);
  const layout = writeOciLayout(join(dir, 'layout'));
  const signed = await pushImage(layout, undefined, { tag: 'signed' });
  await pushSignature(layout, undefined, signed, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: signed }), 'application/jose+json');
  signedDigest = signed.digest;
  // a signingAuthority-scheme signature from a chain that does not end in an AWS Signer root
  const sa = await pushImage(layout, undefined, { tag: 'sa' });
  await pushSignature(layout, undefined, sa, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: sa, signingScheme: 'notary.x509.signingAuthority' }), 'application/jose+json');
  saDigest = sa.digest;
  policy('policy.json', statement());
});

afterAll(async () => {
  await new Promise((r) => listener?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  connections = 0;
});

describe('--version', () => {
  const repoVersion = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;

  test.each([[['--version']], [['version']]])('%j prints the package version (repository layout)', async (args) => {
    const r = await run(args);
    expect(r).toEqual({ code: 0, stdout: `${repoVersion}\n`, stderr: '' });
  });

  test('installed layout: node_modules/cdk-signed-images/assets/cli/cli.js reads ../../package.json, also through .bin', async () => {
    const pkg = join(dir, 'app', 'node_modules', 'cdk-signed-images');
    mkdirSync(join(pkg, 'assets', 'cli'), { recursive: true });
    copyFileSync(CLI, join(pkg, 'assets', 'cli', 'cli.js'));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'cdk-signed-images', version: '1.42.7-rc.1' }));
    // the app's own package.json must not be what is read
    writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ name: 'my-app', version: '9.9.9' }));
    const installed = await run(['--version'], join(pkg, 'assets', 'cli', 'cli.js'));
    expect(installed).toEqual({ code: 0, stdout: '1.42.7-rc.1\n', stderr: '' });
    mkdirSync(join(dir, 'app', 'node_modules', '.bin'));
    symlinkSync('../cdk-signed-images/assets/cli/cli.js', join(dir, 'app', 'node_modules', '.bin', 'cdk-signed-images'));
    const viaBin = await run(['version'], join(dir, 'app', 'node_modules', '.bin', 'cdk-signed-images'));
    expect(viaBin).toEqual({ code: 0, stdout: '1.42.7-rc.1\n', stderr: '' });
  });

  test('a bundle without its package.json, or next to another package\'s, says so (exit 2), never a wrong version', async () => {
    const lone = join(dir, 'lone', 'a', 'b');
    mkdirSync(lone, { recursive: true });
    copyFileSync(CLI, join(lone, 'cli.js'));
    const missing = await run(['--version'], join(lone, 'cli.js'));
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^error: cannot tell the version of cdk-signed-images: cannot read .*package\.json/);
    writeFileSync(join(dir, 'lone', 'package.json'), JSON.stringify({ name: 'something-else', version: '3.0.0' }));
    const other = await run(['--version'], join(lone, 'cli.js'));
    expect(other.code).toBe(2);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain('is not the manifest of cdk-signed-images (its name is "something-else")');
  });

  test('version takes no arguments', async () => {
    const r = await run(['version', 'extra']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: version takes no arguments');
  });

  test('--help lists version and trust-store', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('cdk-signed-images version | --version');
    expect(r.stdout).toContain('cdk-signed-images trust-store add-aws-signer-roots <dir> [--partition aws|aws-us-gov]');
    expect(r.stdout).toContain('x509/signingAuthority/aws-signer-ts/aws-signer-notation-root.pem');
  });
});

describe('option mistakes get our messages, with balanced quotes', () => {
  /** Unescaped double quotes pair up; no single quotes at all (Node's message had an unpaired one). */
  const balanced = (s: string) => (s.replace(/\\"/g, '').match(/"/g) ?? []).length % 2 === 0 && !s.includes("'");

  test.each([
    [['verify', 'x', '--no-such-flag'], 'error: unknown option "--no-such-flag" (to give an argument that starts with "-", put it after "--", as in: -- "--no-such-flag")'],
    [['verify', 'x', '-z'], 'error: unknown option "-z" (to give an argument that starts with "-", put it after "--", as in: -- "-z")'],
    [['verify', 'x', '--constructor'], 'error: unknown option "--constructor" (to give an argument that starts with "-", put it after "--", as in: -- "--constructor")'],
    [['verify', 'x', '--no-such=1'], 'error: unknown option "--no-such" (to give an argument that starts with "-", put it after "--", as in: -- "--no-such")'],
    [['inspect', 'x', '--trust-store', 's'], 'error: unknown option "--trust-store" (to give an argument that starts with "-", put it after "--", as in: -- "--trust-store")'],
    [['policy', 'validate', '--x', 'p.json'], 'error: unknown option "--x" (to give an argument that starts with "-", put it after "--", as in: -- "--x")'],
    [['trust-store', 'add-aws-signer-roots', 'd', '--force'], 'error: unknown option "--force" (to give an argument that starts with "-", put it after "--", as in: -- "--force")'],
    [['verify', 'x', '--a"b'], 'error: unknown option "--a\\"b" (to give an argument that starts with "-", put it after "--", as in: -- "--a\\"b")'],
    [['verify', 'x', '--\u001b[31m'], 'error: unknown option "--\\x1b[31m" (to give an argument that starts with "-", put it after "--", as in: -- "--\\x1b[31m")'],
    [['verify', 'x', '--trust-policy'], 'error: option "--trust-policy" needs a value'],
    [['verify', 'x', '-o'], 'error: option "-o" needs a value'],
    [['verify', 'x', '--plain-http=yes'], 'error: option "--plain-http" takes no value'],
    [['verify', 'x', '--max-signatures', '-1'], 'error: option "--max-signatures" is followed by "-1", which looks like an option; if it is the value, write "--max-signatures=-1"'],
    [['verify', 'x', '-o', '-j'], 'error: option "-o" is followed by "-j", which looks like an option; if it is the value, write "--output=-j"'],
    [['frobnicate'], 'error: unknown command "frobnicate"'],
    [['policy', 'check'], 'error: unknown policy subcommand "check"'],
    [['trust-store', 'init', 'd'], 'error: unknown trust-store subcommand "init" (expected add-aws-signer-roots)'],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    const first = r.stderr.split('\n')[0];
    expect(first).toBe(message);
    expect(balanced(first)).toBe(true);
    expect(r.stderr).toContain('usage:');
  });

  test('a reference that starts with "-" after "--" is a positional, not an option', async () => {
    const r = await run(['policy', 'validate', '--', '-policy.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read trust policy file "-policy.json"');
  });
});

describe('trust store checked before any registry access', () => {
  test('missing --trust-store directory: exit 2, clear message, no connection', async () => {
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'nowhere']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: the --trust-store directory "nowhere" does not exist. A notation trust-store directory holds x509/<type>/<name>/<certificate files>; for the AWS Signer roots run: cdk-signed-images trust-store add-aws-signer-roots "nowhere"\n');
    expect(r.stdout).toBe('');
    expect(connections).toBe(0);
  });

  test('an ECR reference with a missing store: exit 2, not a registry error (the old exit 1 with a DNS error)', async () => {
    const r = await run(['verify', `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${DIGEST}`, '--trust-policy', 'policy.json', '--trust-store', 'nowhere']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the --trust-store directory "nowhere" does not exist');
    expect(r.stdout + r.stderr).not.toMatch(/ENOTFOUND|request to/);
  });

  test('empty directory: exit 2 names the stores the policy wants, no connection', async () => {
    mkdirSync(join(dir, 'empty'));
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'empty', '--output', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: the --trust-store directory "empty" is empty, but the trust policy names "ca:corp"; for the AWS Signer roots run: cdk-signed-images trust-store add-aws-signer-roots "empty"\n');
    expect(connections).toBe(0);
  });

  test('a directory without x509/, or with an empty x509/: exit 2, no connection', async () => {
    mkdirSync(join(dir, 'noX509'));
    writeFileSync(join(dir, 'noX509', 'README'), 'not a store');
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'noX509']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the --trust-store directory "noX509" holds no trust stores (no x509/<type>/<name>/ directories)');
    mkdirSync(join(dir, 'emptyX509', 'x509'), { recursive: true });
    const r2 = await run(['verify', remote(), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'emptyX509']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('the --trust-store directory "emptyX509" holds no trust stores (no x509/<type>/<name>/ directories), but the trust policy names "ca:corp"');
    expect(connections).toBe(0);
  });

  test('a file or a FIFO as --trust-store: exit 2, no connection, no hang', async () => {
    writeFileSync(join(dir, 'afile'), 'x');
    execFileSync('mkfifo', [join(dir, 'afifo')]);
    for (const [name, kind] of [['afile', 'a regular file'], ['afifo', 'a FIFO (named pipe)']]) {
      const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', name]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`error: the --trust-store "${name}" is ${kind}, not a directory\n`);
    }
    expect(connections).toBe(0);
  });

  test('the store the applicable statement names is missing or empty: exit 2 with the AWS Signer hint, no connection', async () => {
    policy('signer-policy.json', statement({ trustStores: ['signingAuthority:aws-signer-ts'], trustedIdentities: ['*'] }));
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'signer-policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: the trust store "aws-signer-ts" of type "signingAuthority" does not exist (--trust-store "store"); to write the AWS Signer roots run: cdk-signed-images trust-store add-aws-signer-roots "store"\n');
    mkdirSync(join(dir, 'store', 'x509', 'ca', 'hollow'), { recursive: true });
    policy('hollow-policy.json', statement({ trustStores: ['ca:hollow'] }));
    const r2 = await run(['verify', remote(), '--plain-http', '--trust-policy', 'hollow-policy.json', '--trust-store', 'store']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toBe('error: no x509 certificates were found in trust store "hollow" of type "ca" (--trust-store "store")\n');
    expect(connections).toBe(0);
  });

  test('same for an exact-scope statement: the statement that applies is the one checked', async () => {
    policy('scoped.json',
      statement({ name: 'app', registryScopes: [`${registryHost}/app`], trustStores: ['ca:missing'] }),
      statement({ name: 'rest', registryScopes: ['*'] }));
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'scoped.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the trust store "missing" of type "ca" does not exist');
    expect(connections).toBe(0);
  });

  test('a missing store named only by another statement is a warning; verification goes on', async () => {
    policy('other.json',
      statement({ name: 'elsewhere', registryScopes: ['registry.example.com/other'], trustStores: ['ca:missing'] }),
      statement({ name: 'rest', registryScopes: ['*'] }));
    const r = await run(['verify', `layout@${signedDigest}`, '--oci-layout', '--trust-policy', 'other.json', '--trust-store', 'store']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: trust store "ca:missing" (named by "elsewhere") cannot be loaded: the trust store "missing" of type "ca" does not exist; images in those statements\' scopes will not verify');
  });

  test('an empty directory is fine when the statement that applies is skip (it needs no store)', async () => {
    policy('skip.json',
      { name: 'skipped', registryScopes: [`${registryHost}/app`], signatureVerification: { level: 'skip' } },
      statement({ name: 'rest', registryScopes: ['registry.example.com/app'] }));
    mkdirSync(join(dir, 'empty2'));
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'skip.json', '--trust-store', 'empty2']);
    expect(r.code).not.toBe(2);
    expect(r.stdout).toContain('Trust policy statement "skipped" is set to skip');
    expect(r.stderr).toContain('warning: trust store "ca:corp" (named by "rest") cannot be loaded');
    // but a reference no statement covers, with an empty directory, is a configuration error
    const none = await run(['verify', `${registryHost}/other@${DIGEST}`, '--plain-http', '--trust-policy', 'skip.json', '--trust-store', 'empty2']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('the --trust-store directory "empty2" is empty');
  });

  test('an invalid trust policy is still exit 2 before any connection', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"version":"1.0","trustPolicies":[');
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'broken.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(connections).toBe(0);
  });

  test('neighbour: a good store still reaches the registry (the check does not block verification)', async () => {
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '20s']);
    expect(r.code).toBe(1);
    expect(connections).toBeGreaterThan(0);
  });
});

describe('trust-store add-aws-signer-roots', () => {
  test('writes both roots in notation\'s layout, byte-identical to the bundled roots; DirectoryTrustStore loads them', async () => {
    const r = await run(['trust-store', 'add-aws-signer-roots', 'roots']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`wrote: ${join(dir, 'roots', COMMERCIAL)}`);
    expect(r.stdout).toContain(`wrote: ${join(dir, 'roots', GOVCLOUD)}`);
    expect(r.stdout).toContain(`SHA-256 ${AWS_SIGNER_ROOT_SHA256}; trust policy store "signingAuthority:aws-signer-ts"`);
    const commercial = readFileSync(join(dir, 'roots', COMMERCIAL));
    const gov = readFileSync(join(dir, 'roots', GOVCLOUD));
    expect(commercial.equals(Buffer.from(AWS_SIGNER_ROOT_PEM))).toBe(true);
    expect(gov.equals(Buffer.from(AWS_SIGNER_GOVCLOUD_ROOT_PEM))).toBe(true);
    // the same bytes the constructs embed and AWS publishes (copies in src/verifier/signer/roots/)
    expect(commercial.toString()).toBe(TrustStore.AWS_SIGNER.certificates);
    expect(gov.toString()).toBe(TrustStore.AWS_SIGNER_GOVCLOUD.certificates);
    expect(commercial.equals(readFileSync(join(REPO_ROOT, 'src/verifier/signer/roots/aws-signer-notation-root.crt')))).toBe(true);
    expect(gov.equals(readFileSync(join(REPO_ROOT, 'src/verifier/signer/roots/aws-us-gov-signer-notation-root.crt')))).toBe(true);
    expect(readdirSync(join(dir, 'roots', 'x509', 'signingAuthority')).sort()).toEqual(['aws-signer-ts', 'aws-us-gov-signer-ts']);
    // eslint-disable-next-line no-bitwise
    expect(statSync(join(dir, 'roots', COMMERCIAL)).mode & 0o777).toBe(0o644);

    const store = new DirectoryTrustStore(join(dir, 'roots'));
    const c = await store.getCertificates('signingAuthority', 'aws-signer-ts');
    const g = await store.getCertificates('signingAuthority', 'aws-us-gov-signer-ts');
    const sha = (raw: Uint8Array) => createHash('sha256').update(raw).digest('hex');
    expect(c.map((x) => sha(x.raw))).toEqual([AWS_SIGNER_ROOT_SHA256]);
    expect(g.map((x) => sha(x.raw))).toEqual([AWS_SIGNER_GOVCLOUD_ROOT_SHA256]);
  });

  test('verify then loads the store: a signingAuthority signature is checked against it (untrusted chain: exit 1, not 2)', async () => {
    policy('aws-policy.json', statement({ trustStores: ['signingAuthority:aws-signer-ts', 'signingAuthority:aws-us-gov-signer-ts'], trustedIdentities: ['*'] }));
    const r = await run(['verify', `layout@${saDigest}`, '--oci-layout', '--trust-policy', 'aws-policy.json', '--trust-store', 'roots', '--output', 'json']);
    expect(r.code).toBe(1);
    const verdict = JSON.parse(r.stdout);
    expect(verdict.status).toBe('failed');
    expect(JSON.stringify(verdict)).toContain('UNTRUSTED_CERTIFICATE');
    // without the store the same command is a configuration error
    const none = await run(['verify', `layout@${saDigest}`, '--oci-layout', '--trust-policy', 'aws-policy.json', '--trust-store', 'store']);
    expect(none.code).toBe(2);
  });

  test('the README\'s local-verification steps: a profile-ARN policy over the written store validates and verify reaches the registry', async () => {
    const p = policy('readme-policy.json', {
      name: 'app',
      registryScopes: [`${registryHost}/app`],
      signatureVerification: { level: 'strict' },
      trustStores: ['signingAuthority:aws-signer-ts'],
      trustedIdentities: ['arn:aws:signer:us-east-1:111122223333:/signing-profiles/MyProfile'],
    });
    expect((await run(['policy', 'validate', p])).code).toBe(0);
    const r = await run(['verify', remote(), '--plain-http', '--trust-policy', p, '--trust-store', 'roots', '--timeout', '20s']);
    expect(r.code).toBe(1); // the listener closes every connection: inconclusive, not a configuration error
    expect(r.stdout).toContain('signature verification was inconclusive');
    expect(connections).toBeGreaterThan(0);
  });

  test('idempotent: a second run leaves identical files as they are (exit 0)', async () => {
    const before = statSync(join(dir, 'roots', COMMERCIAL)).mtimeMs;
    const r = await run(['trust-store', 'add-aws-signer-roots', 'roots']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`already present (identical): ${join(dir, 'roots', COMMERCIAL)}`);
    expect(r.stdout).toContain(`already present (identical): ${join(dir, 'roots', GOVCLOUD)}`);
    expect(statSync(join(dir, 'roots', COMMERCIAL)).mtimeMs).toBe(before);
  });

  test('refuses to overwrite a different file, and writes nothing at all (exit 2)', async () => {
    mkdirSync(join(dir, 'diff', 'x509', 'signingAuthority', 'aws-us-gov-signer-ts'), { recursive: true });
    const other = makeChain({ keySlot: 'cli-other' }).rootPem;
    writeFileSync(join(dir, 'diff', GOVCLOUD), other);
    const r = await run(['trust-store', 'add-aws-signer-roots', 'diff']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: refusing to overwrite ${join('diff', GOVCLOUD)}: it differs from the bundled AWS Signer Code Signing GovCloud (US) Root CA G1 (SHA-256 ${AWS_SIGNER_GOVCLOUD_ROOT_SHA256}); remove it or choose another directory. Nothing was written`);
    expect(readFileSync(join(dir, 'diff', GOVCLOUD), 'utf8')).toBe(other);
    expect(existsSync(join(dir, 'diff', COMMERCIAL))).toBe(false);
    // neighbour: the same PEM with other line endings is a different file too
    mkdirSync(join(dir, 'crlf', 'x509', 'signingAuthority', 'aws-signer-ts'), { recursive: true });
    writeFileSync(join(dir, 'crlf', COMMERCIAL), AWS_SIGNER_ROOT_PEM.replace(/\n/g, '\r\n'));
    expect((await run(['trust-store', 'add-aws-signer-roots', 'crlf'])).code).toBe(2);
  });

  test('other certificates already in the store are named (they are trusted too)', async () => {
    mkdirSync(join(dir, 'mixed', 'x509', 'signingAuthority', 'aws-signer-ts'), { recursive: true });
    writeFileSync(join(dir, 'mixed', 'x509', 'signingAuthority', 'aws-signer-ts', 'partner.pem'), makeChain({ keySlot: 'cli-other' }).rootPem);
    const r = await run(['trust-store', 'add-aws-signer-roots', 'mixed', '--partition', 'aws']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('note: the store also holds "partner.pem", trusted as well by every statement naming it');
  });

  test('--partition writes one root; a bad partition is exit 2', async () => {
    const r = await run(['trust-store', 'add-aws-signer-roots', 'gov-only', '--partition', 'aws-us-gov']);
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'gov-only', GOVCLOUD))).toBe(true);
    expect(existsSync(join(dir, 'gov-only', 'x509', 'signingAuthority', 'aws-signer-ts'))).toBe(false);
    const bad = await run(['trust-store', 'add-aws-signer-roots', 'x', '--partition', 'aws-cn']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('error: --partition must be aws or aws-us-gov, got "aws-cn"');
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  test('symlinks, FIFOs and files on the way are refused (the verifier would refuse them), nothing written', async () => {
    // the store directory a symlink
    mkdirSync(join(dir, 'elsewhere'));
    mkdirSync(join(dir, 'sl', 'x509', 'signingAuthority'), { recursive: true });
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'sl', 'x509', 'signingAuthority', 'aws-signer-ts'));
    const a = await run(['trust-store', 'add-aws-signer-roots', 'sl']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('is a symbolic link, not a directory (symlinks are not supported for a trust store)');
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);
    expect(existsSync(join(dir, 'sl', GOVCLOUD))).toBe(false);
    // the certificate file a symlink to identical content
    mkdirSync(join(dir, 'sl2', 'x509', 'signingAuthority', 'aws-signer-ts'), { recursive: true });
    writeFileSync(join(dir, 'same.pem'), AWS_SIGNER_ROOT_PEM);
    symlinkSync(join(dir, 'same.pem'), join(dir, 'sl2', COMMERCIAL));
    const b = await run(['trust-store', 'add-aws-signer-roots', 'sl2']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`refusing to replace ${join('sl2', COMMERCIAL)}: it is a symbolic link, not a regular file`);
    // a FIFO where the certificate goes: refused at once, never opened
    mkdirSync(join(dir, 'ff', 'x509', 'signingAuthority', 'aws-signer-ts'), { recursive: true });
    execFileSync('mkfifo', [join(dir, 'ff', COMMERCIAL)]);
    const c = await run(['trust-store', 'add-aws-signer-roots', 'ff']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('it is a FIFO (named pipe), not a regular file');
    // <dir> a regular file; x509 a regular file
    writeFileSync(join(dir, 'plain'), 'x');
    const d = await run(['trust-store', 'add-aws-signer-roots', 'plain']);
    expect(d.code).toBe(2);
    expect(d.stderr.split('\n')[0]).toBe('error: the trust-store directory "plain" is a regular file, not a directory');
    mkdirSync(join(dir, 'fx'));
    writeFileSync(join(dir, 'fx', 'x509'), 'x');
    const e = await run(['trust-store', 'add-aws-signer-roots', 'fx']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(`cannot write the AWS Signer root: ${join('fx', 'x509')} is a regular file, not a directory`);
  });

  test('a store directory symlinked at x509/ level is followed (as the verifier does)', async () => {
    mkdirSync(join(dir, 'realx509'));
    mkdirSync(join(dir, 'lx'));
    symlinkSync(join(dir, 'realx509'), join(dir, 'lx', 'x509'));
    const r = await run(['trust-store', 'add-aws-signer-roots', 'lx']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'realx509', 'signingAuthority', 'aws-signer-ts', 'aws-signer-notation-root.pem'), 'utf8')).toBe(AWS_SIGNER_ROOT_PEM);
    expect(await new DirectoryTrustStore(join(dir, 'lx')).getCertificates('signingAuthority', 'aws-signer-ts')).toHaveLength(1);
  });

  test('missing <dir> or extra arguments: exit 2', async () => {
    expect((await run(['trust-store', 'add-aws-signer-roots'])).code).toBe(2);
    expect((await run(['trust-store', 'add-aws-signer-roots', 'a', 'b'])).code).toBe(2);
    expect((await run(['trust-store'])).code).toBe(2);
  });
});
