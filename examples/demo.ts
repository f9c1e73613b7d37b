/**
 * The offline demo (`npx projen demo`):
 *  1. generates a demo PKI shaped like AWS Signer's (4-certificate ES384 chain; a demo root stands in
 *     for the AWS Signer root, which nobody outside AWS can sign with);
 *  2. writes a signed and an unsigned image into an OCI image layout and verifies them with the engine;
 *  3. pushes signed / unsigned / wrong-profile / revoked images into a local docker-registry and runs
 *     the BUNDLED admission-hook Lambda (assets/handlers/admission-hook/index.js) on realistic
 *     PRE_SCALE_UP events in AUDIT and ENFORCE modes, with ECS DescribeServiceRevisions and Signer
 *     GetRevocationStatus answered by a local endpoint that speaks the real wire protocol;
 *  4. synthesizes the example stack (examples/app.ts) and summarizes what it made.
 * Nothing leaves the machine.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from './app';
import { OciLayoutSource } from '../src/verifier/registry/oci-layout';
import { Descriptor } from '../src/verifier/types';
import { ImageVerifier } from '../src/verifier/verifier';
import { InMemoryTrustStore } from '../src/verifier/x509/truststore';
import { startAwsFake } from '../test/support/aws-fake';
import { awsSignerShaped, makeChain } from '../test/support/pki';
import { ContentTarget, pushImage, pushSignature, remoteTarget, writeOciLayout } from '../test/support/push';
import { DOCKER_REGISTRY_BIN, startRegistry } from '../test/support/registry';
import { awsSignerSignOptions, signJws } from '../test/support/sign';

const ROOT = join(__dirname, '..');
const WORK = join(ROOT, '.demo');
const ACCOUNT = '123456789012';
const PROFILE = `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-profiles/shop_release`;
const OTHER_PROFILE = `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-profiles/someone_else`;

const chain = makeChain(awsSignerShaped());
let jobCounter = 0;

/** Signs `subject` the way ECR managed signing with AWS Signer does (JWS, signingAuthority, plugin attributes). */
function signerEnvelope(subject: Descriptor, profileArn = PROFILE): { envelope: Uint8Array; jobArn: string } {
  const jobArn = `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-jobs/00000000-0000-4000-8000-${String(++jobCounter).padStart(12, '0')}`;
  const envelope = signJws({
    key: chain.key, chainDer: chain.chainDer, targetArtifact: subject,
    ...awsSignerSignOptions(`${profileArn}/DemoVersion1`, jobArn, { expiry: new Date(Date.now() + 365 * 86400_000), signingAgent: 'cdk-signed-images-demo' }),
  });
  return { envelope, jobArn };
}

function trustPolicy(scope: string) {
  return {
    version: '1.0',
    trustPolicies: [{
      name: 'shop-release', registryScopes: [scope], signatureVerification: { level: 'strict' },
      trustStores: ['signingAuthority:aws-signer-ts'], trustedIdentities: [PROFILE],
    }],
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ') + ' |';
  return [line(headers), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

function short(s: string | undefined, n = 90): string {
  if (!s) return '';
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

async function ociLayoutPart(): Promise<void> {
  console.log('\n## 1. OCI image layout on disk, verified by the engine (what `cdk-signed-images verify --oci-layout` runs)\n');
  const dir = join(WORK, 'layout');
  rmSync(dir, { recursive: true, force: true });
  const layout: ContentTarget = writeOciLayout(dir);
  const signed = await pushImage(layout, undefined, { tag: 'signed' });
  await pushSignature(layout, undefined, signed, signerEnvelope(signed).envelope, 'application/jose+json');
  const unsigned = await pushImage(layout, undefined, { tag: 'unsigned' });
  const scope = 'oci-layout.local/shop-api';
  const verifier = new ImageVerifier({
    trustPolicy: trustPolicy(scope),
    trustStores: new InMemoryTrustStore({ 'signingAuthority:aws-signer-ts': chain.rootPem }),
    sourceFor: () => new OciLayoutSource(dir, { scope }),
    // The demo's AWS-Signer-shaped chain ends in a locally generated root, not AWS's: profile ARNs
    // only match chains ending in an AWS Signer root, so the demo names its root as one.
    awsSignerRoots: [chain.chainDer[chain.chainDer.length - 1]],
    // Offline: answer GetRevocationStatus locally with "nothing revoked".
    signerClient: { getRevocationStatus: async () => ({ revokedEntities: [] }) },
  });
  const rows: string[][] = [];
  for (const [name, d] of [['signed', signed], ['unsigned', unsigned]] as const) {
    const v = await verifier.verify(`${scope}@${d.digest}`);
    rows.push([name, d.digest.slice(0, 19) + '…', v.status.toUpperCase(), short(v.signer ?? v.reasons[0], 100)]);
  }
  console.log(table(['image', 'digest', 'verdict', 'signer / reason'], rows));

  // Files for the CLI examples in the README: an image signed with a plain X.509 CA chain
  // (notary.x509; no AWS call needed), its trust policy and a notation-layout trust store.
  const ca = makeChain({ length: 3, keySlot: 'demo-ca' });
  const tools = await pushImage(layout, undefined, { tag: 'tools' });
  await pushSignature(layout, undefined, tools, signJws({ key: ca.key, chainDer: ca.chainDer, targetArtifact: tools }), 'application/jose+json');
  const toolsUnsigned = await pushImage(layout, undefined, { tag: 'tools-unsigned' });
  void toolsUnsigned;
  const store = join(WORK, 'truststore', 'x509');
  rmSync(join(WORK, 'truststore'), { recursive: true, force: true });
  mkdirSync(join(store, 'ca', 'corp'), { recursive: true });
  mkdirSync(join(store, 'signingAuthority', 'aws-signer-ts'), { recursive: true });
  writeFileSync(join(store, 'ca', 'corp', 'root.pem'), ca.rootPem);
  writeFileSync(join(store, 'signingAuthority', 'aws-signer-ts', 'demo-root.pem'), chain.rootPem);
  writeFileSync(join(WORK, 'trustpolicy.json'), JSON.stringify({
    version: '1.0',
    trustPolicies: [
      trustPolicy(scope).trustPolicies[0],
      { name: 'corp-ca', registryScopes: ['oci-layout.local/tools'], signatureVerification: { level: 'strict' }, trustStores: ['ca:corp'], trustedIdentities: ['x509.subject:C=US,ST=WA,O=Notary Test'] },
    ],
  }, null, 2));
  console.log(`\n(layout written to ${dir}; CLI files: ${join(WORK, 'trustpolicy.json')}, ${join(WORK, 'truststore')})`);
}

interface HookRow { image: string; mode: string; hookStatus: string; verdict: string; reason: string }

async function hookPart(): Promise<void> {
  console.log('\n## 2. The bundled admission-hook Lambda on PRE_SCALE_UP events (local docker-registry, local AWS endpoint)\n');
  if (!existsSync(DOCKER_REGISTRY_BIN)) {
    console.log(`skipped: ${DOCKER_REGISTRY_BIN} is not installed (Debian: apt-get install docker-registry)`);
    return;
  }
  const bundle = join(ROOT, 'assets', 'handlers', 'admission-hook', 'index.js');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run "node scripts/bundle.mjs" (npx projen demo does)`);
  const registry = await startRegistry();
  const aws = await startAwsFake();
  try {
    const repo = 'shop/api';
    const t = remoteTarget(registry.url, repo);
    const images: Array<{ name: string; ref: string }> = [];
    const signed = await pushImage(t, undefined, { tag: 'v1' });
    await pushSignature(t, undefined, signed, signerEnvelope(signed).envelope, 'application/jose+json');
    images.push({ name: 'signed by shop_release', ref: `${registry.host}/${repo}@${signed.digest}` });
    const unsigned = await pushImage(t, undefined, { tag: 'hotfix' });
    images.push({ name: 'unsigned', ref: `${registry.host}/${repo}@${unsigned.digest}` });
    const other = await pushImage(t, undefined, { tag: 'v2' });
    await pushSignature(t, undefined, other, signerEnvelope(other, OTHER_PROFILE).envelope, 'application/jose+json');
    images.push({ name: 'signed by another profile', ref: `${registry.host}/${repo}@${other.digest}` });
    const revoked = await pushImage(t, undefined, { tag: 'v0' });
    const revokedSig = signerEnvelope(revoked);
    await pushSignature(t, undefined, revoked, revokedSig.envelope, 'application/jose+json');
    aws.revoked.push(revokedSig.jobArn);
    images.push({ name: 'signed, job revoked', ref: `${registry.host}/${repo}@${revoked.digest}` });

    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECS: aws.url, AWS_ENDPOINT_URL_SIGNER: aws.url, AWS_ENDPOINT_URL_ECR: aws.url,
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDDEMO', AWS_SECRET_ACCESS_KEY: 'demo-secret',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle);
    const rows: HookRow[] = [];
    for (const mode of ['AUDIT', 'ENFORCE']) {
      const configPath = join(WORK, `hook-config-${mode}.json`);
      writeFileSync(configPath, JSON.stringify({
        version: 1, mode, trustPolicy: trustPolicy(`${registry.host}/${repo}`),
        trustStores: { 'signingAuthority:aws-signer-ts': chain.rootPem },
        // demo/test only: the locally generated root stands in for the AWS Signer root
        extraAwsSignerRootsPem: chain.rootPem,
        plainHttpRegistries: [registry.host], metricsNamespace: 'SignedImagesDemo',
        // The demo's unsigned image will never be signed: answer at once instead of waiting for
        // asynchronous signing (EcsAdmissionHook's signatureWait, 2 minutes by default).
        signatureWaitSeconds: 0,
      }));
      process.env.VERIFIER_CONFIG_PATH = configPath;
      for (const [i, img] of images.entries()) {
        const revisionArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:service-revision/demo-cluster/shop-api/${mode === 'AUDIT' ? 100 : 200}${i}`;
        aws.revisions.set(revisionArn, [{ containerName: 'api', image: img.ref.replace(/@.*/, ':tag'), imageDigest: img.ref.split('@')[1] }]);
        const event = {
          executionId: `demo-${mode}-${i}`, lifecycleStage: 'PRE_SCALE_UP',
          resourceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service-deployment/demo-cluster/shop-api/Demo${i}`,
          executionDetails: { serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/demo-cluster/shop-api`, targetServiceRevisionArn: revisionArn, testTrafficWeights: {}, productionTrafficWeights: {} },
        };
        const logs = await captureStdout(async () => handler(event, { getRemainingTimeInMillis: () => 60_000, functionName: 'demo', awsRequestId: `demo-${i}` }));
        const response = logs.result as { hookStatus: string };
        const record = logs.lines.map((l) => { try { return JSON.parse(l); } catch { return undefined; } })
          .find((r) => r && r.digest === img.ref.split('@')[1] && r.status);
        const why = record?.status === 'verified' ? record?.signer : String(record?.reason ?? record?.reasons?.[0] ?? '').replace(/^signature sha256:[0-9a-f]+: /, '');
        rows.push({ image: img.name, mode, hookStatus: response.hookStatus, verdict: record?.status ?? '?', reason: short(why, 100) });
      }
    }
    console.log(table(['image', 'mode', 'hookStatus', 'verdict', 'signer / reason'], rows.map((r) => [r.image, r.mode, r.hookStatus, r.verdict, r.reason])));
    const emf = aws.calls.filter((c) => c.service === 'signer').length;
    console.log(`\nECS DescribeServiceRevisions calls: ${aws.calls.filter((c) => c.operation === 'DescribeServiceRevisions').length}, Signer GetRevocationStatus calls: ${emf}`);
    console.log('ENFORCE answers FAILED for every image not signed by a trusted, unrevoked profile: ECS rolls the deployment back.');
    console.log('AUDIT answers SUCCEEDED and logs each rejection as a verdict record plus an EMF "Rejected" metric.');
  } finally {
    await registry.stop();
    await aws.stop();
  }
}

async function captureStdout<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const original = process.stdout.write.bind(process.stdout);
  let buf = '';
  (process.stdout as any).write = (chunk: any, ...rest: any[]) => {
    buf += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const cb = rest.find((r) => typeof r === 'function');
    if (cb) cb();
    return true;
  };
  try {
    const result = await fn();
    return { result, lines: buf.split('\n').filter(Boolean) };
  } finally {
    (process.stdout as any).write = original;
  }
}

function synthPart(): void {
  console.log('\n## 3. The example stack (examples/app.ts), synthesized\n');
  const outdir = join(WORK, 'cdk.out');
  rmSync(outdir, { recursive: true, force: true });
  const { stack } = buildExampleApp(new (require('aws-cdk-lib').App)({ outdir }));
  const template = Template.fromStack(stack);
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties?: any }> };
  const counts = new Map<string, number>();
  for (const r of Object.values(json.Resources)) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
  const interesting = ['AWS::Signer::SigningProfile', 'AWS::ECR::Repository', 'AWS::ECR::SigningConfiguration', 'AWS::Lambda::Function', 'AWS::ECS::Service', 'AWS::Events::Rule', 'AWS::SNS::Topic', 'AWS::IAM::Role'];
  console.log(table(['resource type', 'count'], interesting.map((t) => [t, String(counts.get(t) ?? 0)])));
  const profile = Object.values(json.Resources).find((r) => r.Type === 'AWS::Signer::SigningProfile');
  const signingConfig = Object.values(json.Resources).find((r) => r.Type === 'AWS::ECR::SigningConfiguration');
  const service = Object.values(json.Resources).find((r) => r.Type === 'AWS::ECS::Service');
  console.log(`\nsigning profile platform: ${profile?.Properties?.PlatformId}`);
  console.log(`managed-signing rules: ${JSON.stringify(signingConfig?.Properties?.Rules?.map((r: any) => ({ filters: r.RepositoryFilters })))}`);
  console.log(`service lifecycle hooks: ${JSON.stringify(service?.Properties?.DeploymentConfiguration?.LifecycleHooks?.map((h: any) => h.LifecycleStages))}`);
  const nag = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
  console.log(`cdk-nag AwsSolutions unsuppressed errors: ${nag.length}; ${Object.keys(json.Resources).length} resources in total; template in ${outdir}`);
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  console.log('# cdk-signed-images demo (offline)');
  console.log(`demo signer chain: ${chain.certs.map((c) => c.subject.split(',')[0]).join(' <- ')}`);
  await ociLayoutPart();
  await hookPart();
  synthPart();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
