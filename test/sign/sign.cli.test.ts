/**
 * `cdk-signed-images sign` as shipped (the bundled assets/cli/cli.js in a child process, the real AWS SDK against
 * the local AWS endpoint's SignPayload, the real docker-registry), then `cdk-signed-images verify` on the result;
 * exit codes 0 / 1 / 2 and messages with the Signer error code and hint.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actLikeAwsSigner, awsEnv, OTHER_PROFILE, PROFILE, signerChain, signerTrustPolicy } from './support';
import { AwsFake, startAwsFake } from '../support/aws-fake';
import { ensureBundled, REPO_ROOT } from '../support/handler-bundle';
import { pushImage, pushImageIndex, remoteTarget, tagSchemaTag } from '../support/push';
import { startReferrersServer, startRegistry, TestRegistry } from '../support/registry';

const CLI = join(REPO_ROOT, 'assets', 'cli', 'cli.js');
let dir: string;
let registry: TestRegistry;
let aws: AwsFake;
let repoCounter = 0;
const newRepo = () => `signcli/app${++repoCounter}`;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], {
      cwd: dir, timeout: 60_000, env: { ...process.env, ...awsEnv(aws.url), NODE_NO_WARNINGS: '1', DOCKER_CONFIG: join(dir, 'docker'), HOME: dir },
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 99) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  ensureBundled();
  dir = mkdtempSync(join(tmpdir(), 'csi-sign-cli-'));
  registry = await startRegistry();
  aws = await startAwsFake();
  // verify: the test Signer root in a signingAuthority store; the identity is the AWS-Signer-shaped leaf subject
  // (the CLI accepts profile-ARN identities only for chains ending in AWS's real Signer roots; see signingAuthorityLike)
  const chain = signerChain();
  mkdirSync(join(dir, 'store', 'x509', 'signingAuthority', 'aws-signer-ts'), { recursive: true });
  writeFileSync(join(dir, 'store', 'x509', 'signingAuthority', 'aws-signer-ts', 'root.pem'), chain.rootPem);
  // The policy fromSigningProfiles writes, with the leaf's subject as identity: the CLI accepts profile ARNs
  // only on chains ending in AWS's real Signer roots, which this test PKI cannot reach.
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(signerTrustPolicy(['x509.subject:C=US,ST=WA,L=Seattle,O=AWS,OU=AWS Cryptography,CN=AWS Signer'])));
});

afterAll(async () => {
  await registry?.stop();
  await aws?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  actLikeAwsSigner(aws, { plugin: false });
  aws.signPayloadErrors.length = 0;
  aws.calls.length = 0;
});

const verify = (ref: string, extra: string[] = []) => run(['verify', ref, '--trust-policy', 'policy.json', '--trust-store', 'store', '--plain-http', ...extra]);

test('sign a tag: exit 0, reports the digest and signature; verify accepts it, with the user metadata', async () => {
  const repo = newRepo();
  const image = await pushImage(registry.url, repo, { tag: 'v1' });
  const r = await run(['sign', `${registry.host}/${repo}:v1`, '--signing-profile', PROFILE, '--user-metadata', 'build=42', '--plain-http']);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`Successfully signed ${registry.host}/${repo}@${image.digest}`);
  const sigDigest = /signature: (sha256:[0-9a-f]{64})/.exec(r.stdout)![1];
  const v = await verify(`${registry.host}/${repo}@${image.digest}`, ['--user-metadata', 'build=42']);
  expect(v.code).toBe(0);
  expect(v.stdout).toContain(`signature: ${sigDigest}`);
  expect((await verify(`${registry.host}/${repo}@${image.digest}`, ['--user-metadata', 'build=43'])).code).toBe(1);
});

test('multi-arch index, two profiles, --output json: both signatures listed in the tag-schema index', async () => {
  const repo = newRepo();
  const { index } = await pushImageIndex(registry.url, repo);
  const ref = `${registry.host}/${repo}@${index.digest}`;
  const a = await run(['sign', ref, '--signing-profile', PROFILE, '--plain-http', '--output', 'json']);
  const b = await run(['sign', ref, '--signing-profile', OTHER_PROFILE, '--plain-http', '--output', 'json']);
  expect([a.code, b.code]).toEqual([0, 0]);
  const ja = JSON.parse(a.stdout);
  const jb = JSON.parse(b.stdout);
  expect(ja.status).toBe('signed');
  expect(ja.subject.digest).toBe(index.digest);
  expect(ja.discovery).toBe('tag-schema');
  const idx = JSON.parse((await remoteTarget(registry.url, repo).getManifest(tagSchemaTag(index.digest)))!.bytes.toString());
  expect(idx.manifests.map((m: any) => m.digest)).toEqual([ja.signature.digest, jb.signature.digest]);
  expect((await verify(ref)).code).toBe(0);
});

test('AccessDeniedException: exit 1, the Signer code and the grantPushAndSign hint; the image stays unsigned', async () => {
  const repo = newRepo();
  const image = await pushImage(registry.url, repo);
  aws.signPayloadErrors.push({ status: 403, type: 'AccessDeniedException', message: 'not authorized to perform signer:SignPayload' });
  const r = await run(['sign', `${registry.host}/${repo}@${image.digest}`, '--signing-profile', PROFILE, '--plain-http']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('AccessDeniedException');
  expect(r.stderr).toContain('SignedRegistry.grantPushAndSign');
  expect(r.stdout).toBe('');
  const v = await verify(`${registry.host}/${repo}@${image.digest}`);
  expect(v.code).toBe(1);
  expect(v.stdout).toContain('no signature is associated');
});

test('Signer throttling on every attempt: exit 1 after 3 attempts; --output json gives a failed status', async () => {
  const repo = newRepo();
  const image = await pushImage(registry.url, repo);
  for (let i = 0; i < 5; i++) aws.signPayloadErrors.push({ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' });
  const r = await run(['sign', `${registry.host}/${repo}@${image.digest}`, '--signing-profile', PROFILE, '--plain-http', '--output', 'json']);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', error: { kind: 'inconclusive', code: 'AWS_API' } });
  expect(aws.calls.filter((c) => c.operation === 'SignPayload')).toHaveLength(3);
});

test('bad usage and configuration: exit 2 without calling Signer', async () => {
  const missing = await run(['sign', `${registry.host}/x/y:v1`, '--plain-http']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('--signing-profile');
  const version = await run(['sign', `${registry.host}/x/y:v1`, '--signing-profile', `${PROFILE}/AbCdEf1234`, '--plain-http']);
  expect(version.code).toBe(2);
  expect(version.stderr).toContain('VERSION ARN');
  const badRef = await run(['sign', 'not a reference', '--signing-profile', PROFILE]);
  expect(badRef.code).toBe(2);
  const notLoopback = await run(['sign', 'registry.example.com/x/y:v1', '--signing-profile', PROFILE, '--plain-http']);
  expect(notLoopback.code).toBe(2);
  expect(aws.calls.filter((c) => c.operation === 'SignPayload')).toHaveLength(0);
});

test('an image that is not there: exit 1 (NOT_FOUND), Signer never called', async () => {
  const r = await run(['sign', `${registry.host}/nothing/here:v1`, '--signing-profile', PROFILE, '--plain-http']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('NOT_FOUND');
  expect(aws.calls.filter((c) => c.operation === 'SignPayload')).toHaveLength(0);
});

test('a registry with bearer-token auth and the referrers API, credentials from DOCKER_CONFIG: signed, token asked for push', async () => {
  const server = await startReferrersServer({ referrers: 'supported', auth: { type: 'bearer', username: 'ci', password: 's3cret' } });
  try {
    const repo = 'team/api';
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const layer = Buffer.from('layer bytes');
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: server.putBlob(repo, config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: server.putBlob(repo, layer), size: layer.length }],
    }));
    const digest = server.putManifest(repo, manifest, 'application/vnd.oci.image.manifest.v1+json', 'v1');
    mkdirSync(join(dir, 'docker'), { recursive: true });
    writeFileSync(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [server.host]: { auth: Buffer.from('ci:s3cret').toString('base64') } } }));
    const r = await run(['sign', `${server.host}/${repo}:v1`, '--signing-profile', PROFILE, '--plain-http', '--output', 'json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.subject.digest).toBe(digest);
    expect(out.discovery).toBe('referrers-api');
    const tokenRequests = server.requests().filter((l) => l.includes('/token'));
    expect(tokenRequests.some((l) => decodeURIComponent(l).includes(`repository:${repo}:pull,push`))).toBe(true);
    const listing = server.requests().filter((l) => l.startsWith('PUT ') && l.includes('/manifests/'));
    expect(listing).toHaveLength(1); // the signature manifest only: no tag-schema index on a referrers registry
  } finally {
    rmSync(join(dir, 'docker'), { recursive: true, force: true });
    await server.stop();
  }
});
