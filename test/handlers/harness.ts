/**
 * Shared fixture for the handler tests: a real loopback docker-registry holding a signed, an unsigned
 * and a tag-only signed image; a test PKI; a local AWS API fake; config files for the bundled handlers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { AwsFake, startAwsFake } from '../support/aws-fake';
import { loadHandler } from '../support/handler-bundle';
import { awsSignerShaped, makeChain } from '../support/pki';
import { pushImage, pushSignature } from '../support/push';
import { startRegistry, TestRegistry } from '../support/registry';
import { awsSignerSignOptions, signJws } from '../support/sign';
import { captureStdout, Captured } from '../support/stdout-capture';

export interface Harness {
  readonly registry: TestRegistry;
  readonly aws: AwsFake;
  readonly rootPem: string;
  /** `host/app/signed@sha256:…` */
  readonly signed: string;
  readonly signedDigest: string;
  /** `host/app/unsigned@sha256:…` */
  readonly unsigned: string;
  readonly unsignedDigest: string;
  /** `host/app/tagged:v1` (signed) */
  readonly taggedImage: string;
  readonly taggedDigest: string;
  /** `host/app/signer@sha256:…`: signed AWS Signer-style (signingAuthority scheme, plugin attributes). */
  readonly signerSigned: string;
  /** PEM of the test "AWS Signer" root (store `signingAuthority:signer-test`, also `extraAwsSignerRootsPem`). */
  readonly signerRootPem: string;
  /** Writes a config file and points the handlers at it. */
  configure(overrides?: Record<string, unknown>): void;
  stop(): Promise<void>;
}

export const SIGNER_PROFILE = 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/shop_release';
export const SIGNER_PROFILE_VERSION = `${SIGNER_PROFILE}/AbCdEf1234`;
export const SIGNER_JOB = 'arn:aws:signer:us-east-1:123456789012:/signing-jobs/0f6a3bd6-2b3e-4a7f-9d27-8f4e0b1c2d3e';

export const REVISION_ARN = 'arn:aws:ecs:us-east-1:123456789012:service-revision/demo-cluster/demo-service/9313423515462893900';
/** `resourceArn` of {@link hookEvent}: the service deployment. */
export const DEPLOYMENT_ARN = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/demo-cluster/demo-service/EZe5RNVLH6PPzHXINuP28';

/**
 * The admission hook's own progress (as it writes it in an IN_PROGRESS answer) for {@link hookEvent}'s
 * revision and deployment, to start a test at a later round.
 */
export function hookProgress(round: number, signatureWaitStartedAt?: string, revisionArn = REVISION_ARN): Record<string, unknown> {
  return { cdkSignedImages: { v: 2, revision: revisionArn, deployment: DEPLOYMENT_ARN, round, ...(signatureWaitStartedAt ? { signatureWaitStartedAt } : {}) } };
}

export function hookEvent(revisionArn = REVISION_ARN, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    executionId: 'e8d5a28f-eb01-4f3c-9454-a30ba6dc54bc',
    lifecycleStage: 'PRE_SCALE_UP',
    resourceArn: 'arn:aws:ecs:us-east-1:123456789012:service-deployment/demo-cluster/demo-service/EZe5RNVLH6PPzHXINuP28',
    executionDetails: {
      serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/demo-cluster/demo-service',
      targetServiceRevisionArn: revisionArn,
      testTrafficWeights: {},
      productionTrafficWeights: {},
    },
    ...extra,
  };
}

/** The task and cluster of {@link taskEvent}. */
export const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/demo-cluster/0f2e7a55a2a54a33b0c1b1f5ff3f1d8e';
export const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/demo-cluster';

/** An EventBridge "ECS Task State Change" event (RUNNING) with these containers (name `c<i>` unless given). */
export function taskEvent(containers: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    'version': '0',
    'id': '3317b2af-7005-947d-b652-f55e762e571a',
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': '123456789012',
    'time': '2026-01-01T00:00:00Z',
    'region': 'us-east-1',
    'resources': [TASK],
    'detail': {
      clusterArn: CLUSTER,
      taskArn: TASK,
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/demo:3',
      group: 'service:demo-service',
      launchType: 'FARGATE',
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      version: 3,
      containers: containers.map((c, i) => ({
        containerArn: `arn:aws:ecs:us-east-1:123456789012:container/demo-cluster/x/${i}`,
        name: `c${i}`,
        lastStatus: 'RUNNING',
        taskArn: TASK,
        ...c,
      })),
    },
  };
}

export function context(remainingMs = 60_000): { functionName: string; awsRequestId: string; getRemainingTimeInMillis(): number } {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()), functionName: 'test-verifier', awsRequestId: 'req-1' };
}

const SAVED_ENV = ['AWS_ENDPOINT_URL_ECS', 'AWS_ENDPOINT_URL_SIGNER', 'AWS_ENDPOINT_URL_ECR', 'AWS_ENDPOINT_URL_SNS', 'AWS_REGION', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'VERIFIER_CONFIG_PATH', 'TRUST_POLICY', 'SNS_TOPIC_ARN', 'AWS_LAMBDA_FUNCTION_NAME'];

export async function startHarness(): Promise<Harness> {
  const saved = Object.fromEntries(SAVED_ENV.map((k) => [k, process.env[k]]));
  const registry = await startRegistry();
  const aws = await startAwsFake();
  const chain = makeChain({ keySlot: 'handler-tests' });

  const signedDesc = await pushImage(registry.url, 'app/signed');
  const env = signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: signedDesc });
  await pushSignature(registry.url, 'app/signed', signedDesc, env, 'application/jose+json');

  const unsignedDesc = await pushImage(registry.url, 'app/unsigned');

  const taggedDesc = await pushImage(registry.url, 'app/tagged', { tag: 'v1' });
  const env2 = signJws({ key: chain.key, chainDer: chain.chainDer, targetArtifact: taggedDesc });
  await pushSignature(registry.url, 'app/tagged', taggedDesc, env2, 'application/jose+json');

  const signerChain = makeChain(awsSignerShaped());
  const signerDesc = await pushImage(registry.url, 'app/signer');
  const env3 = signJws({ key: signerChain.key, chainDer: signerChain.chainDer, targetArtifact: signerDesc, ...awsSignerSignOptions(SIGNER_PROFILE_VERSION, SIGNER_JOB) });
  await pushSignature(registry.url, 'app/signer', signerDesc, env3, 'application/jose+json');

  process.env.AWS_ENDPOINT_URL_ECS = aws.url;
  process.env.AWS_ENDPOINT_URL_SIGNER = aws.url;
  process.env.AWS_ENDPOINT_URL_ECR = aws.url;
  process.env.AWS_ENDPOINT_URL_SNS = aws.url;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
  delete process.env.TRUST_POLICY;
  delete process.env.SNS_TOPIC_ARN;

  const dir = mkdtempSync(path.join(tmpdir(), 'csi-handler-'));
  let n = 0;
  const base = {
    version: 1,
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{
        name: 'aws-signer',
        registryScopes: [`${registry.host}/app/signer`],
        signatureVerification: { level: 'strict' },
        trustStores: ['signingAuthority:signer-test'],
        trustedIdentities: [SIGNER_PROFILE],
      }, {
        name: 'test-ca',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:test'],
        trustedIdentities: ['*'],
      }],
    },
    trustStores: { 'ca:test': chain.rootPem, 'signingAuthority:signer-test': signerChain.rootPem },
    // The test "AWS Signer" root counts as an AWS Signer root (profile ARNs only match AWS Signer chains).
    extraAwsSignerRootsPem: signerChain.rootPem,
    plainHttpRegistries: [registry.host],
    registryTimeoutMs: 3000,
    metricsNamespace: 'SignedImagesTest',
  };
  return {
    registry,
    aws,
    rootPem: chain.rootPem,
    signed: `${registry.host}/app/signed@${signedDesc.digest}`,
    signedDigest: signedDesc.digest,
    unsigned: `${registry.host}/app/unsigned@${unsignedDesc.digest}`,
    unsignedDigest: unsignedDesc.digest,
    taggedImage: `${registry.host}/app/tagged:v1`,
    signerSigned: `${registry.host}/app/signer@${signerDesc.digest}`,
    signerRootPem: signerChain.rootPem,
    taggedDigest: taggedDesc.digest,
    configure(overrides: Record<string, unknown> = {}) {
      const file = path.join(dir, `config-${n++}.json`);
      writeFileSync(file, JSON.stringify({ ...base, ...overrides }));
      process.env.VERIFIER_CONFIG_PATH = file;
    },
    async stop() {
      await registry.stop();
      await aws.stop();
      rmSync(dir, { recursive: true, force: true });
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}

/** A started harness, one bundled handler and the stdout captured around each test. */
export interface HandlerSuite {
  readonly h: Harness;
  readonly handler: (event: unknown, ctx?: unknown) => Promise<any>;
  readonly out: Captured;
}

/**
 * Registers the jest lifecycle of a bundled-handler suite: one harness for the file, the AWS fake
 * reset and stdout captured around each test. Read the fields inside tests (they are set by then).
 */
export function handlerSuite(name: string): HandlerSuite {
  const s = {} as { h: Harness; handler: HandlerSuite['handler']; out: Captured };
  beforeAll(async () => {
    s.h = await startHarness();
    s.handler = loadHandler(name).handler;
  });
  afterAll(async () => {
    await s.h?.stop();
  });
  beforeEach(() => {
    s.h.aws.calls.length = 0;
    s.h.aws.describeError = undefined;
    s.h.aws.revisions.clear();
    s.out = captureStdout();
  });
  afterEach(() => s.out.restore());
  return s;
}
