/**
 * Issue 8, item 12 and the CLI part of item 6, through the bundled CLI (assets/cli/cli.js) in a child process:
 *  - local files are files: FIFOs, devices, directories and symlinks leaving an --oci-layout (or a FIFO as
 *    the trust policy) are refused at once with a clear message and exit code (they blocked forever before);
 *  - the CLI has an overall deadline (--timeout): a registry that accepts and never answers ends in
 *    "no decision", exit 1, shortly after the deadline;
 *  - nothing printed from a signature or registry reaches the terminal raw (ANSI/C0, C1, bidi, U+2028...).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBundled, REPO_ROOT } from '../support/handler-bundle';
import { makeChain } from '../support/pki';
import { pushImage, pushSignature, writeOciLayout } from '../support/push';
import { startRegistry, TestRegistry } from '../support/registry';
import { signJws } from '../support/sign';

jest.setTimeout(60_000);

const CLI = join(REPO_ROOT, 'assets', 'cli', 'cli.js');
/** Characters that must never be printed raw: C0 (but \n), DEL, C1, format (bidi, zero-width), U+2028/2029, lone surrogates. */
const UNSAFE_OUTPUT = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\p{Cf}\p{Cs}\u2028\u2029]/u;
const HOSTILE_CN = '\u001b[2K\rVERIFIED\u0008\u0000 \u202eevil\u202c \u2066x\u2069 \u009b31m\u0085\u2028\u2029\u200f';

let dir: string;
let registry: TestRegistry;
let signedDigest: string;
let hostileDigest: string;
let envelopeDigest: string;
let attrsDigest: string;

interface Run { code: number; stdout: string; stderr: string; ms: number }

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], {
      cwd: dir, timeout: 50_000, env: { ...process.env, NODE_NO_WARNINGS: '1', AWS_REGION: 'us-east-1', DOCKER_CONFIG: join(dir, 'docker'), ...env },
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 99) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const verifyArgs = (ref: string, ...more: string[]) => ['verify', ref, '--oci-layout', '--trust-policy', 'policy.json', '--trust-store', 'store', ...more];
const blob = (layout: string, digest: string) => join(dir, layout, 'blobs', ...digest.split(':'));
const mkfifo = (p: string) => execFileSync('mkfifo', [p]);
let copies = 0;
/** A fresh copy of the good layout, altered by `alter`; returns its directory name (relative to `dir`). */
function layoutCopy(alter: (name: string) => void): string {
  const name = `copy${++copies}`;
  cpSync(join(dir, 'layout'), join(dir, name), { recursive: true });
  alter(name);
  return name;
}
const replaceWith = (p: string, make: (p: string) => void) => {
  rmSync(p, { recursive: true, force: true });
  make(p);
};

beforeAll(async () => {
  ensureBundled();
  dir = mkdtempSync(join(tmpdir(), 'csi-cli-hard-'));
  mkdirSync(join(dir, 'docker'));
  const chain = makeChain({ keySlot: 'cli' });
  const hostile = makeChain({ keySlot: 'cli-hostile', leaf: { subject: `CN=${HOSTILE_CN},O=Notary Test,L=Seattle,ST=WA,C=US` } });
  const layout = writeOciLayout(join(dir, 'layout'));
  const signed = await pushImage(layout, undefined, { tag: 'signed' });
  const env = signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: signed });
  const sig = await pushSignature(layout, undefined, signed, env, 'application/jose+json');
  signedDigest = signed.digest;
  envelopeDigest = JSON.parse(readFileSync(join(dir, 'layout', 'blobs', ...sig.digest.split(':')), 'utf8')).layers[0].digest;
  const hostileImage = await pushImage(layout, undefined, { tag: 'hostile' });
  await pushSignature(layout, undefined, hostileImage, signJws({ key: hostile.key, chainDer: hostile.chainDer, targetArtifact: hostileImage }), 'application/jose+json');
  hostileDigest = hostileImage.digest;
  // a trusted signer whose signature carries hostile attributes, signing agent and payload annotations
  const attrsImage = await pushImage(layout, undefined, { tag: 'hostile-attrs' });
  await pushSignature(layout, undefined, attrsImage, signJws({
    key: chain.key,
    chainDer: chain.chainDer,
    targetArtifact: { ...attrsImage, annotations: { 'note\u001b]0;title\u0007': '\u001b[2K\rVERIFIED\u202e' } },
    extendedAttributes: [{ key: 'io.example.\u001b[31mred', value: '\u009b2J\u2028gone\u2066' }],
    signingAgent: 'agent\u001b[1A\u001b[2K\rok\u200f',
  }), 'application/jose+json');
  attrsDigest = attrsImage.digest;
  for (const [name, c] of [['corp', chain], ['hostile', hostile]] as const) {
    mkdirSync(join(dir, 'store', 'x509', 'ca', name), { recursive: true });
    writeFileSync(join(dir, 'store', 'x509', 'ca', name, 'root.pem'), c.rootPem);
  }
  const statement = { name: 'corp', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:corp', 'ca:hostile'], trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'] };
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: '1.0', trustPolicies: [statement] }));
  writeFileSync(join(dir, 'other-identity.json'), JSON.stringify({ version: '1.0', trustPolicies: [{ ...statement, trustedIdentities: ['x509.subject:C=US,ST=WA,O=Somebody Else'] }] }));
  registry = await startRegistry();
  const image = await pushImage(registry.url, 'cli/app', { tag: 'v1' });
  await pushSignature(registry.url, 'cli/app', image, signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: image }), 'application/jose+json');
});

afterAll(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('local files are files (--oci-layout)', () => {
  test('control: the unaltered layout verifies', async () => {
    const r = await run(verifyArgs(`layout@${signedDigest}`));
    expect(r.code).toBe(0);
  });

  test('a FIFO at the image manifest blob: verify and inspect answer exit 1 naming the FIFO', async () => {
    const name = layoutCopy((n) => replaceWith(blob(n, signedDigest), mkfifo));
    const r = await run(verifyArgs(`${name}@${signedDigest}`));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/manifest sha256:[0-9a-f]{64} in the OCI layout .* is refused: it is a FIFO \(named pipe\), not a regular file/);
    const i = await run(['inspect', `${name}@${signedDigest}`, '--oci-layout']);
    expect(i.code).toBe(1);
    expect(i.stderr).toMatch(/FIFO/);
  });

  test('a FIFO at the image manifest blob, reached by tag', async () => {
    const name = layoutCopy((n) => replaceWith(blob(n, signedDigest), mkfifo));
    const r = await run(verifyArgs(`${name}:signed`));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FIFO/);
  });

  test.each(['index.json', 'oci-layout'])('a FIFO as %s: exit 2 (the layout given is not usable), verify and inspect', async (file) => {
    const name = layoutCopy((n) => replaceWith(join(dir, n, file), mkfifo));
    const r = await run(verifyArgs(`${name}@${signedDigest}`));
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`${file.replace('.', '\\.')} in the OCI layout .* is refused: it is a FIFO`));
    const i = await run(['inspect', `${name}:signed`, '--oci-layout']);
    expect(i.code).toBe(2);
    expect(i.stderr).toMatch(/FIFO/);
  });

  test('a FIFO at the signature envelope blob: the signature is not accepted (exit 1)', async () => {
    const name = layoutCopy((n) => replaceWith(blob(n, envelopeDigest), mkfifo));
    const r = await run(verifyArgs(`${name}@${signedDigest}`));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/signature envelope .* FIFO/);
  });

  test.each(['/dev/zero', '/dev/stdin', '/dev/urandom'])('a symlink to %s at the manifest blob: exit 1', async (device) => {
    const name = layoutCopy((n) => replaceWith(blob(n, signedDigest), (p) => symlinkSync(device, p)));
    const r = await run(verifyArgs(`${name}@${signedDigest}`));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/refused|not found/);
  });

  test('a symlink to /dev/zero as index.json: exit 2', async () => {
    const name = layoutCopy((n) => replaceWith(join(dir, n, 'index.json'), (p) => symlinkSync('/dev/zero', p)));
    const r = await run(verifyArgs(`${name}@${signedDigest}`));
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/index\.json .* outside the layout directory/);
  });

  test('a blob symlinked to a byte-identical manifest outside the layout: exit 1 (it verified before)', async () => {
    const outside = join(dir, `outside-${copies}`);
    writeFileSync(outside, readFileSync(blob('layout', signedDigest)));
    const name = layoutCopy((n) => replaceWith(blob(n, signedDigest), (p) => symlinkSync(outside, p)));
    const r = await run(verifyArgs(`${name}@${signedDigest}`));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/symbolic link to a file outside the layout directory/);
  });

  test('a directory at the manifest blob: exit 1', async () => {
    const name = layoutCopy((n) => replaceWith(blob(n, signedDigest), (p) => mkdirSync(p)));
    const r = await run(verifyArgs(`${name}@${signedDigest}`));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/a directory, not a regular file/);
  });

  test('a FIFO as the --trust-policy file: exit 2 at once', async () => {
    mkfifo(join(dir, 'fifo-policy.json'));
    const r = await run(['verify', `layout@${signedDigest}`, '--oci-layout', '--trust-policy', 'fifo-policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read trust policy file "fifo-policy\.json": it is a FIFO/);
    const v = await run(['policy', 'validate', 'fifo-policy.json']);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/FIFO/);
  });

  test('a symlinked --trust-policy file is refused (exit 2, says why); the file it points to is read', async () => {
    // one reader for every trust input (src/verifier/fs): symlinks are not followed, as for trust-store certificates
    symlinkSync(join(dir, 'policy.json'), join(dir, 'linked-policy.json'));
    const r = await run(['verify', `layout@${signedDigest}`, '--oci-layout', '--trust-policy', 'linked-policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read trust policy file "linked-policy.json": it is a symbolic link (symbolic links are not followed: name the file it points to)');
    const v = await run(['policy', 'validate', 'linked-policy.json']);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/symbolic link/);
    expect((await run(['policy', 'validate', 'policy.json'])).code).toBe(0);
  });

  test('a Docker config that is a symlink to a regular file is read (as docker does): its credentials answer a Basic challenge', async () => {
    const docker = join(dir, 'docker-link');
    mkdirSync(docker);
    const seen: string[] = [];
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', (d) => {
        seen.push(/^authorization: (.*)$/im.exec(d.toString('latin1'))?.[1]?.trim() ?? '');
        s.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
    });
    const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
    try {
      writeFileSync(join(dir, 'real-docker-config.json'), JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { auth: Buffer.from('user:pw').toString('base64') } } }));
      symlinkSync(join(dir, 'real-docker-config.json'), join(docker, 'config.json'));
      const r = await run(['verify', `127.0.0.1:${port}/app@sha256:${'0'.repeat(64)}`, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '30s'], { DOCKER_CONFIG: docker });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/ignoring the Docker config file/);
      expect(seen).toContain(`Basic ${Buffer.from('user:pw').toString('base64')}`);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });

  test('a FIFO as the Docker config file, read when a registry asks for Basic credentials: ignored with a warning', async () => {
    const docker = join(dir, 'docker-fifo');
    mkdirSync(docker);
    mkfifo(join(docker, 'config.json'));
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    });
    const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
    try {
      // before: readFileSync blocked the main thread on the FIFO (no timer, not even --timeout, could fire)
      const r = await run(['verify', `127.0.0.1:${port}/app@sha256:${'0'.repeat(64)}`, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '30s'], { DOCKER_CONFIG: docker });
      expect(r.stderr).toMatch(/ignoring the Docker config file .*config\.json: it is a FIFO/);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/no decision within/);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });

  test('the remote registry still verifies with an absent Docker config', async () => {
    const r = await run(['verify', `${registry.host}/cli/app:v1`, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(r.code).toBe(0);
  });
});

describe('--timeout: the CLI has an overall deadline', () => {
  let silent: net.Server;
  let trickle: net.Server;
  const sockets = new Set<net.Socket>();
  const hold = (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  };
  const listen = (srv: net.Server) => new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
  let silentPort: number;
  let tricklePort: number;
  beforeAll(async () => {
    silent = net.createServer(hold); // accepts, reads, never answers
    trickle = net.createServer((s) => { // answers a status line and headers, then one body byte every 300 ms
      hold(s);
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 100000\r\n\r\n');
        const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write(' ')), 300);
        s.on('close', () => clearInterval(t));
      });
    });
    silentPort = await listen(silent);
    tricklePort = await listen(trickle);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([silent, trickle].map((srv) => new Promise((resolve) => srv.close(resolve))));
  });

  const ref = (port: number) => `127.0.0.1:${port}/app@sha256:${'0'.repeat(64)}`;
  // Bound: node start-up + the 2 s deadline + the 2 s hard-stop grace, with a wide margin for a loaded CI
  // machine; without the deadline the per-request timeouts and retries take far longer than this.
  const BOUND_MS = 20_000;

  test('a registry that accepts and never answers: exit 1 "no decision within 2s", soon after the deadline', async () => {
    const r = await run(['verify', ref(silentPort), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: no decision within 2s (--timeout): the work was stopped; the image is NOT verified');
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  test('--output json: stdout still carries an inconclusive TIMEOUT verdict', async () => {
    const r = await run(['verify', ref(silentPort), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '2', '-o', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'inconclusive', verified: false, error: { kind: 'inconclusive', code: 'TIMEOUT' } });
  });

  test('a registry trickling its answer byte by byte: exit 1 at the deadline', async () => {
    const r = await run(['verify', ref(tricklePort), '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '2000ms']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no decision within 2000ms/);
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  test('inspect has the same deadline', async () => {
    const r = await run(['inspect', ref(silentPort), '--plain-http', '--timeout', '2s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no decision within 2s/);
    expect(r.ms).toBeLessThan(BOUND_MS);
  });

  test.each(['abc', '0', '0s', '25h', '1x', '', 's', '1e3', '=-1'])('--timeout %j is a usage error (exit 2)', async (value) => {
    const args = value.startsWith('=') ? [`--timeout${value}`] : ['--timeout', value];
    const r = await run([...verifyArgs(`layout@${signedDigest}`), ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeout must be a duration/);
  });

  test('a generous --timeout does not change a normal answer', async () => {
    const r = await run([...verifyArgs(`layout@${signedDigest}`), '--timeout', '1m30s']);
    expect(r.code).toBe(0);
  });
});

describe('nothing from a signature or registry is printed raw', () => {
  const expectClean = (r: Run) => {
    const bad = (r.stdout + r.stderr).match(UNSAFE_OUTPUT);
    expect(bad ? `U+${bad[0].codePointAt(0)!.toString(16).padStart(4, '0')}` : undefined).toBeUndefined();
  };

  test('verify (text): the hostile subject is printed escaped, never raw', async () => {
    const r = await run(verifyArgs(`layout@${hostileDigest}`));
    expect(r.code).toBe(0);
    expectClean(r);
    expect(r.stdout).toContain('signer:    CN=\\x1b[2K\\x0dVERIFIED\\x08\\x00 \\u202eevil\\u202c \\u2066x\\u2069 \\x9b31m\\x85\\u2028\\u2029\\u200f,O=Notary Test');
  });

  test('verify --output json: escaped as \\uXXXX, and parses back to the exact subject', async () => {
    const r = await run(verifyArgs(`layout@${hostileDigest}`, '--output', 'json'));
    expect(r.code).toBe(0);
    expectClean(r);
    expect(r.stdout).toContain('\\u001b[2K\\rVERIFIED');
    expect(r.stdout).toContain('\\u202eevil');
    expect(r.stdout).toContain('\\u009b31m\\u0085\\u2028\\u2029');
    expect(JSON.parse(r.stdout).signer).toBe(`CN=${HOSTILE_CN},O=Notary Test,L=Seattle,ST=WA,C=US`);
  });

  test('a failing verification whose reason quotes the hostile subject (text and JSON)', async () => {
    const args = ['verify', `layout@${hostileDigest}`, '--oci-layout', '--trust-policy', 'other-identity.json', '--trust-store', 'store'];
    const r = await run(args);
    expect(r.code).toBe(1);
    expectClean(r);
    expect(r.stdout).toContain('\\x1b[2K');
    const j = await run([...args, '-o', 'json']);
    expect(j.code).toBe(1);
    expectClean(j);
    expect(JSON.stringify(JSON.parse(j.stdout))).toContain('\\u001b[2K');
  });

  test('inspect (text and JSON) escapes the hostile subject', async () => {
    const r = await run(['inspect', `layout@${hostileDigest}`, '--oci-layout']);
    expect(r.code).toBe(0);
    expectClean(r);
    expect(r.stdout).toContain('issued to: CN=\\x1b[2K\\x0dVERIFIED');
    const j = await run(['inspect', `layout@${hostileDigest}`, '--oci-layout', '--output', 'json']);
    expect(j.code).toBe(0);
    expectClean(j);
    expect(JSON.parse(j.stdout).signatures[0].certificates[0].subject).toBe(`CN=${HOSTILE_CN},O=Notary Test,L=Seattle,ST=WA,C=US`);
  });

  test('hostile extended attributes, signing agent and payload annotations: inspect and verify print them escaped', async () => {
    for (const args of [
      ['inspect', `layout@${attrsDigest}`, '--oci-layout'],
      ['inspect', `layout@${attrsDigest}`, '--oci-layout', '-o', 'json'],
      verifyArgs(`layout@${attrsDigest}`),
      verifyArgs(`layout@${attrsDigest}`, '-o', 'json'),
    ]) {
      const r = await run(args);
      expect(r.code).toBe(0);
      expectClean(r);
    }
    const text = (await run(['inspect', `layout@${attrsDigest}`, '--oci-layout'])).stdout;
    expect(text).toContain('io.example.\\x1b[31mred: \\x9b2J\\u2028gone\\u2066');
    expect(text).toContain('signing agent: agent\\x1b[1A\\x1b[2K\\x0dok\\u200f');
    const json = JSON.parse((await run(['inspect', `layout@${attrsDigest}`, '--oci-layout', '-o', 'json'])).stdout);
    expect(json.signatures[0].unsignedAttributes['signing agent']).toBe('agent\u001b[1A\u001b[2K\rok\u200f');
  });

  test('a hostile reference or argument echoed in an error is escaped too', async () => {
    const r = await run(['verify', `\u001b[2J\u202e${'x'}@sha256:${'0'.repeat(64)}`, '--trust-policy', 'policy.json', '--trust-store', 'store']);
    expect(r.code).not.toBe(0);
    expectClean(r);
    const u = await run(['\u009b31m\u0007frobnicate']);
    expect(u.code).toBe(2);
    expectClean(u);
    expect(u.stderr).toContain('unknown command "\\x9b31m\\x07frobnicate"');
  });

  test('a registry error body with control characters is not printed raw', async () => {
    const hostileBody = JSON.stringify({ errors: [{ code: 'DENIED', message: '\u001b[2K\rVERIFIED \u009b\u202e' }] });
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(hostileBody)}\r\nConnection: close\r\n\r\n${hostileBody}`));
    });
    const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port)));
    try {
      const r = await run(['verify', `127.0.0.1:${port}/app@sha256:${'0'.repeat(64)}`, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '20s']);
      expect(r.code).toBe(1);
      expectClean(r);
      const j = await run(['verify', `127.0.0.1:${port}/app@sha256:${'0'.repeat(64)}`, '--plain-http', '--trust-policy', 'policy.json', '--trust-store', 'store', '--timeout', '20s', '-o', 'json']);
      expectClean(j);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });
});
