/**
 * Synth-time scope check (issue 9): an image of an attached service that no trust-policy statement
 * covers and no exemption matches is refused by an ENFORCE hook at its next deployment; synth says so
 * on the service. Real aws-cdk-lib stacks, real SignedRegistry / TrustPolicy, real annotations.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import {
  AdmissionMode, EcsAdmissionHook, SignedRegistry, TaskLaunchAudit, TrustedIdentity, TrustPolicy, TrustStore, UnpinnedImageAction, VerificationLevel,
} from '../src';
import { PROFILE_ARN } from './support/construct-fixtures';
import { ensureBundled } from './support/handler-bundle';

beforeAll(() => ensureBundled());

const APP_IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app:1';
const SIDECAR = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0';

interface Fixture {
  app: App;
  stack: Stack;
  cluster: ecs.Cluster;
  service: (id: string, images: Record<string, ecs.ContainerImage>, options?: { versionConsistency?: ecs.VersionConsistency; cluster?: ecs.Cluster }) => ecs.FargateService;
}

function fixture(env = true): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Test', env ? { env: { account: '111122223333', region: 'us-east-1' } } : {});
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const service: Fixture['service'] = (id, images, options = {}) => {
    const td = new ecs.FargateTaskDefinition(stack, `${id}Task`);
    for (const [name, image] of Object.entries(images)) {
      td.addContainer(name, { image, versionConsistency: options.versionConsistency, essential: name === 'app' });
    }
    return new ecs.FargateService(stack, id, { cluster: options.cluster ?? cluster, taskDefinition: td, assignPublicIp: true });
  };
  return { app, stack, cluster, service };
}

function literalPolicy(scopes = ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app']): TrustPolicy {
  return new TrustPolicy({
    statements: [{ name: 'release', registryScopes: scopes, trustStores: [TrustStore.AWS_SIGNER], trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)] }],
  });
}

interface Note { path: string; text: string }

function notes(stack: Stack, level: 'warning' | 'info'): Note[] {
  const a = Annotations.fromStack(stack);
  const found = level === 'warning' ? a.findWarning('*', Match.anyValue()) : a.findInfo('*', Match.anyValue());
  return found.map((m) => ({ path: m.id, text: String(m.entry.data) }));
}

function scopeWarnings(stack: Stack, service?: ecs.BaseService): Note[] {
  return notes(stack, 'warning')
    .filter((n) => n.text.includes('cdk-signed-images:imageOutsideTrustPolicy'))
    .filter((n) => service === undefined || n.path === `/${service.node.path}`);
}

function unpinnedWarnings(stack: Stack): Note[] {
  return notes(stack, 'warning').filter((n) => n.text.includes('cdk-signed-images:unpinnedImage'));
}

describe('synth-time scope check: ENFORCE admission hook', () => {
  test('a public.ecr.aws sidecar outside every scope gets a warning on the service, naming the container, the refusal and the fix', () => {
    const { stack, service } = fixture();
    const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), otel: ecs.ContainerImage.fromRegistry(SIDECAR) });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc] });
    const w = scopeWarnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0].path).toBe('/Test/Svc');
    expect(w[0].text).toContain('container "otel"');
    expect(w[0].text).toContain(SIDECAR);
    expect(w[0].text).toContain('ENFORCE admission hook Test/Admission');
    expect(w[0].text).toContain('next deployment will be refused');
    expect(w[0].text).toContain('exemption "public.ecr.aws/aws-observability/aws-otel-collector"');
    expect(w[0].text).not.toContain('container "app"');
  });

  test('an exemption that matches the sidecar silences the warning (canonical host, glob forms)', () => {
    for (const exemption of [
      'public.ecr.aws/aws-observability/aws-otel-collector',
      'public.ecr.aws/aws-observability/*',
      'PUBLIC.ECR.AWS./aws-observability/**',
      'public.ecr.aws:443/aws-observability/aws-otel-collector:v0.40.0',
    ]) {
      const { stack, service } = fixture();
      const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), otel: ecs.ContainerImage.fromRegistry(SIDECAR) });
      new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), exemptions: [exemption], services: [svc] });
      expect({ exemption, warnings: scopeWarnings(stack) }).toEqual({ exemption, warnings: [] });
    }
  });

  test('an exemption for another repository, or another tag, does not silence it', () => {
    for (const exemption of ['public.ecr.aws/aws-observability/other', 'public.ecr.aws/*', 'public.ecr.aws/aws-observability/aws-otel-collector:v0.41.0', 'docker.io/**']) {
      const { stack, service } = fixture();
      const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), otel: ecs.ContainerImage.fromRegistry(SIDECAR) });
      new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), exemptions: [exemption], services: [svc] });
      expect({ exemption, n: scopeWarnings(stack).length }).toEqual({ exemption, n: 1 });
    }
  });

  test('a SignedRegistry repository used by fromEcrRepository is covered (token URIs matched by repository)', () => {
    for (const env of [true, false]) {
      const { stack, service } = fixture(env);
      const registry = new SignedRegistry(stack, 'Registry');
      const svc = service('Svc', { app: ecs.ContainerImage.fromEcrRepository(registry.repositories[0], 'v1') });
      new EcsAdmissionHook(stack, 'Admission', { trustPolicy: TrustPolicy.fromSigningProfiles(registry), services: [svc] });
      expect({ env, warnings: scopeWarnings(stack) }).toEqual({ env, warnings: [] });
      // Covered for certain, not merely "could not check".
      expect({ env, unknown: notes(stack, 'info').filter((n) => n.text.includes('could not check')) }).toEqual({ env, unknown: [] });
    }
  });

  test('a statement written with the repository URI token (no repositories carried) still covers it', () => {
    const { stack, service } = fixture(false);
    const repo = new ecr.Repository(stack, 'Repo');
    const svc = service('Svc', { app: ecs.ContainerImage.fromEcrRepository(repo, 'sha256:' + 'a'.repeat(64)) });
    const policy = new TrustPolicy({
      statements: [{ name: 's', registryScopes: [repo.repositoryUri], trustStores: [TrustStore.AWS_SIGNER], trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)] }],
    });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy, services: [svc] });
    expect(scopeWarnings(stack)).toEqual([]);
  });

  test('across stacks: a SignedRegistry in one stack, the service and hook in another', () => {
    for (const carried of [true, false]) {
      const app = new App();
      const env = { account: '111122223333', region: 'us-east-1' };
      const images = new Stack(app, 'Images', { env });
      const registry = new SignedRegistry(images, 'Registry');
      const legacy = new ecr.Repository(images, 'Legacy');
      const stack = new Stack(app, 'Service', { env });
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
      const td = new ecs.FargateTaskDefinition(stack, 'Task');
      td.addContainer('app', { image: ecs.ContainerImage.fromEcrRepository(registry.repositories[0], 'v1') });
      td.addContainer('legacy', { image: ecs.ContainerImage.fromEcrRepository(legacy, 'v1'), essential: false });
      const svc = new ecs.FargateService(stack, 'Svc', { cluster: new ecs.Cluster(stack, 'Cluster', { vpc }), taskDefinition: td, assignPublicIp: true });
      const policy = carried ? TrustPolicy.fromSigningProfiles(registry) : new TrustPolicy({
        statements: [{ name: 's', registryScopes: registry.repositoryUris, trustStores: [TrustStore.AWS_SIGNER], trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)] }],
      });
      new EcsAdmissionHook(stack, 'Admission', { trustPolicy: policy, services: [svc] });
      const w = scopeWarnings(stack, svc);
      expect({ carried, n: w.length, legacy: w.every((x) => x.text.includes('container "legacy"') && x.text.includes('repository Images/Legacy')) })
        .toEqual({ carried, n: 1, legacy: true });
      expect(notes(stack, 'info').filter((n) => n.text.includes('could not check'))).toEqual([]);
    }
  });

  test('another repository of the app (not in the SignedRegistry) gets the warning', () => {
    const { stack, service } = fixture();
    const registry = new SignedRegistry(stack, 'Registry');
    const legacy = new ecr.Repository(stack, 'Legacy');
    const svc = service('Svc', { app: ecs.ContainerImage.fromEcrRepository(registry.repositories[0], 'v1'), worker: ecs.ContainerImage.fromEcrRepository(legacy, 'v1') });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: TrustPolicy.fromSigningProfiles(registry), services: [svc] });
    const w = scopeWarnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0].text).toContain('container "worker"');
    expect(w[0].text).toContain('SignedRegistry');
  });

  test('existing repositories by name: the same name matches across imports, another name does not', () => {
    const { stack, service } = fixture();
    const registry = new SignedRegistry(stack, 'Registry', { repositories: [ecr.Repository.fromRepositoryName(stack, 'Signed', 'team/app')] });
    const same = ecr.Repository.fromRepositoryName(stack, 'SameAgain', 'team/app');
    const other = ecr.Repository.fromRepositoryName(stack, 'Other', 'team/legacy');
    const ok = service('Ok', { app: ecs.ContainerImage.fromEcrRepository(same, 'v1') });
    const bad = service('Bad', { app: ecs.ContainerImage.fromEcrRepository(other, 'v1') });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: TrustPolicy.fromSigningProfiles(registry), services: [ok, bad] });
    expect(scopeWarnings(stack, ok)).toEqual([]);
    expect(notes(stack, 'info').filter((n) => n.text.includes('could not check'))).toEqual([]);
    expect(scopeWarnings(stack, bad)).toHaveLength(1);
    expect(scopeWarnings(stack, bad)[0].text).toContain('team/legacy');
  });

  test('an imported repository against literal scopes: the literal URI of another account or region is not its scope', () => {
    const { stack, service } = fixture();
    const repo = ecr.Repository.fromRepositoryName(stack, 'App', 'team/app');
    const svc = service('Svc', { app: ecs.ContainerImage.fromEcrRepository(repo, 'v1') });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc] });
    expect(scopeWarnings(stack)).toEqual([]);

    const f2 = fixture();
    const repo2 = ecr.Repository.fromRepositoryName(f2.stack, 'App', 'team/app');
    const svc2 = f2.service('Svc', { app: ecs.ContainerImage.fromEcrRepository(repo2, 'v1') });
    new EcsAdmissionHook(f2.stack, 'Admission', { trustPolicy: literalPolicy(['444455556666.dkr.ecr.us-east-1.amazonaws.com/team/app', '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app']), services: [svc2] });
    expect(scopeWarnings(f2.stack)).toHaveLength(1);
  });

  test('a "*" scope covers everything, and a statement of any level covers its scope', () => {
    const { stack, service } = fixture();
    const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), otel: ecs.ContainerImage.fromRegistry(SIDECAR), hub: ecs.ContainerImage.fromRegistry('docker.io/library/nginx:1.27') });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(['*']), services: [svc] });
    expect(scopeWarnings(stack)).toEqual([]);

    const f2 = fixture();
    const svc2 = f2.service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), otel: ecs.ContainerImage.fromRegistry(SIDECAR) });
    const policy = literalPolicy();
    policy.addStatement({ name: 'sidecars', registryScopes: ['public.ecr.aws/aws-observability/aws-otel-collector'], level: VerificationLevel.SKIP });
    new EcsAdmissionHook(f2.stack, 'Admission', { trustPolicy: policy, services: [svc2] });
    expect(scopeWarnings(f2.stack)).toEqual([]);
  });

  test('scopes and images are compared in canonical form (letter case, :443, trailing dot, FIPS name)', () => {
    for (const image of [
      '111122223333.DKR.ECR.US-EAST-1.AMAZONAWS.COM/team/app:1',
      '111122223333.dkr.ecr.us-east-1.amazonaws.com:443/team/app:1',
      '111122223333.dkr.ecr.us-east-1.amazonaws.com./team/app:1',
      '111122223333.dkr.ecr-fips.us-east-1.amazonaws.com/team/app:1',
    ]) {
      const { stack, service } = fixture();
      const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(image) });
      new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc] });
      expect({ image, warnings: scopeWarnings(stack) }).toEqual({ image, warnings: [] });
    }
    // The repository path is case-sensitive and exact: a neighbour is not covered.
    for (const image of ['111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app2:1', '111122223333.dkr.ecr.us-east-1.amazonaws.com/team:1', 'registry.example.com/team/app:1']) {
      const { stack, service } = fixture();
      const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(image) });
      new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc] });
      expect({ image, n: scopeWarnings(stack).length }).toEqual({ image, n: 1 });
    }
  });

  test('a Docker Hub shorthand the verifier cannot parse is warned about, with the full form to write', () => {
    const { stack, service } = fixture();
    const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), proxy: ecs.ContainerImage.fromRegistry('nginx:1.27') });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(['*']), services: [svc] });
    const w = scopeWarnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0].text).toContain('cannot parse');
    expect(w[0].text).toContain('docker.io/library/nginx');
  });

  test('containers added after attachTo are checked (the check runs when the tree is complete)', () => {
    const { stack, service } = fixture();
    const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE) });
    const hook = new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy() });
    hook.attachTo(svc);
    svc.taskDefinition.addContainer('late', { image: ecs.ContainerImage.fromRegistry(SIDECAR), essential: false });
    const w = scopeWarnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0].text).toContain('container "late"');
  });

  test('a service without a hook is not checked; each service attached is', () => {
    const { stack, service } = fixture();
    const attached = service('Attached', { app: ecs.ContainerImage.fromRegistry(SIDECAR) });
    const other = service('Other', { app: ecs.ContainerImage.fromRegistry(SIDECAR) });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [attached] });
    expect(scopeWarnings(stack, attached)).toHaveLength(1);
    expect(scopeWarnings(stack, other)).toEqual([]);
  });

  test('ENFORCE: a container with version consistency disabled is warned about (refused as unpinned)', () => {
    const { stack, service } = fixture();
    const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE) }, { versionConsistency: ecs.VersionConsistency.DISABLED });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc] });
    const w = unpinnedWarnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0].path).toBe('/Test/Svc');
    expect(w[0].text).toContain('version consistency disabled');
    expect(w[0].text).toContain('VersionConsistency.ENABLED');
  });

  test('no unpinned warning: version consistency on (default), a digest reference, VERIFY_CURRENT_DIGEST, AUDIT, an exempt image', () => {
    const cases: Array<[string, (f: Fixture) => void]> = [
      ['default', (f) => {
        new EcsAdmissionHook(f.stack, 'A', { trustPolicy: literalPolicy(), services: [f.service('S', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE) })] });
      }],
      ['digest', (f) => {
        const image = ecs.ContainerImage.fromRegistry(`111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:${'b'.repeat(64)}`);
        new EcsAdmissionHook(f.stack, 'A', { trustPolicy: literalPolicy(), services: [f.service('S', { app: image }, { versionConsistency: ecs.VersionConsistency.DISABLED })] });
      }],
      ['verify-current', (f) => {
        new EcsAdmissionHook(f.stack, 'A', {
          trustPolicy: literalPolicy(),
          unpinnedImages: UnpinnedImageAction.VERIFY_CURRENT_DIGEST,
          services: [f.service('S', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE) }, { versionConsistency: ecs.VersionConsistency.DISABLED })],
        });
      }],
      ['audit', (f) => {
        new EcsAdmissionHook(f.stack, 'A', {
          trustPolicy: literalPolicy(),
          mode: AdmissionMode.AUDIT,
          services: [f.service('S', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE) }, { versionConsistency: ecs.VersionConsistency.DISABLED })],
        });
      }],
      ['exempt', (f) => {
        new EcsAdmissionHook(f.stack, 'A', {
          trustPolicy: literalPolicy(),
          exemptions: ['public.ecr.aws/**'],
          services: [f.service('S', { app: ecs.ContainerImage.fromRegistry(SIDECAR) }, { versionConsistency: ecs.VersionConsistency.DISABLED })],
        });
      }],
    ];
    for (const [name, build] of cases) {
      const f = fixture();
      build(f);
      expect({ name, warnings: unpinnedWarnings(f.stack) }).toEqual({ name, warnings: [] });
    }
  });

  test('an asset image: outside the scope is said (CDK bootstrap asset repository); unpinned only when version consistency is disabled', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scope-check-asset-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
    const { stack, service } = fixture();
    const svc = service('Svc', { app: ecs.ContainerImage.fromAsset(dir) });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc] });
    const w = scopeWarnings(stack);
    expect(w).toHaveLength(1);
    expect(w[0].text).toContain('asset image');
    expect(w[0].text).toContain('cdk-hnb659fds-container-assets');
    // What aws-cdk-lib renders decides: no VersionConsistency property (enabled) here.
    expect(unpinnedWarnings(stack)).toEqual([]);

    const f2 = fixture();
    const svc2 = f2.service('Svc', { app: ecs.ContainerImage.fromAsset(dir) }, { versionConsistency: ecs.VersionConsistency.DISABLED });
    new EcsAdmissionHook(f2.stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc2] });
    const u = unpinnedWarnings(f2.stack);
    expect(u).toHaveLength(1);
    expect(u[0].text).toContain('asset image');
  });

  test('AUDIT hook: an info note instead of a warning', () => {
    const { stack, service } = fixture();
    const svc = service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), otel: ecs.ContainerImage.fromRegistry(SIDECAR) });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), mode: AdmissionMode.AUDIT, services: [svc] });
    expect(scopeWarnings(stack)).toEqual([]);
    const info = notes(stack, 'info').filter((n) => n.text.includes(SIDECAR));
    expect(info).toHaveLength(1);
    expect(info[0].path).toBe('/Test/Svc');
    expect(info[0].text).toContain('AUDIT admits it but reports it as Rejected');
  });

  test('an image name that is a deploy-time parameter: an info note that it could not be checked, no warning', () => {
    const { stack, service } = fixture();
    const repo = ecr.Repository.fromRepositoryName(stack, 'App', 'team/app');
    const svc = service('Svc', { app: new ecs.TagParameterContainerImage(repo) });
    new EcsAdmissionHook(stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc] });
    // The repository is known (team/app in the stack's account and region): covered whatever the tag.
    expect(scopeWarnings(stack)).toEqual([]);

    const f2 = fixture();
    const param = new CfnParameter(f2.stack, 'Image', { type: 'String' });
    const svc2 = f2.service('Svc', { app: ecs.ContainerImage.fromRegistry(param.valueAsString) });
    new EcsAdmissionHook(f2.stack, 'Admission', { trustPolicy: literalPolicy(), services: [svc2] });
    expect(scopeWarnings(f2.stack)).toEqual([]);
    expect(notes(f2.stack, 'info').some((n) => n.text.includes('could not check at synth'))).toBe(true);
  });
});

describe('synth-time scope check: TaskLaunchAudit', () => {
  test('services on the audited clusters get an info note; stopTask makes it a warning; other clusters are not checked', () => {
    const { stack, cluster, service } = fixture();
    const vpc2 = new ec2.Vpc(stack, 'Vpc2', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    const otherCluster = new ecs.Cluster(stack, 'Other', { vpc: vpc2 });
    const audited = service('Audited', { app: ecs.ContainerImage.fromRegistry(SIDECAR) });
    const elsewhere = service('Elsewhere', { app: ecs.ContainerImage.fromRegistry(SIDECAR) }, { cluster: otherCluster });
    new TaskLaunchAudit(stack, 'Audit', { trustPolicy: literalPolicy(), clusters: [cluster] });
    expect(scopeWarnings(stack)).toEqual([]);
    const info = notes(stack, 'info').filter((n) => n.text.includes(SIDECAR));
    expect(info.map((n) => n.path)).toEqual([`/${audited.node.path}`]);
    expect(info[0].text).toContain('reported as Rejected');
    expect(elsewhere).toBeDefined();

    const f2 = fixture();
    const svc = f2.service('Svc', { app: ecs.ContainerImage.fromRegistry(SIDECAR) });
    new TaskLaunchAudit(f2.stack, 'Audit', { trustPolicy: literalPolicy(), stopTask: true });
    const w = scopeWarnings(f2.stack, svc);
    expect(w).toHaveLength(1);
    expect(w[0].text).toContain('stopped');
  });

  test('without clusters: every service of the audit\'s account and region, not those of another environment', () => {
    const { app, stack, service } = fixture();
    const here = service('Here', { app: ecs.ContainerImage.fromRegistry(SIDECAR) });
    const far = new Stack(app, 'Far', { env: { account: '111122223333', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(far, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
    const td = new ecs.FargateTaskDefinition(far, 'Task');
    td.addContainer('app', { image: ecs.ContainerImage.fromRegistry(SIDECAR) });
    const farService = new ecs.FargateService(far, 'Svc', { cluster: new ecs.Cluster(far, 'Cluster', { vpc }), taskDefinition: td, assignPublicIp: true });
    new TaskLaunchAudit(stack, 'Audit', { trustPolicy: literalPolicy(), stopTask: true });
    expect(scopeWarnings(stack, here)).toHaveLength(1);
    expect(scopeWarnings(far, farService)).toEqual([]);
  });

  test('audit exemptions and covering statements silence it', () => {
    const { stack, service } = fixture();
    service('Svc', { app: ecs.ContainerImage.fromRegistry(APP_IMAGE), otel: ecs.ContainerImage.fromRegistry(SIDECAR) });
    new TaskLaunchAudit(stack, 'Audit', { trustPolicy: literalPolicy(), exemptions: ['public.ecr.aws/aws-observability/**'], stopTask: true });
    expect(scopeWarnings(stack)).toEqual([]);
    expect(notes(stack, 'info').filter((n) => n.text.includes('covers'))).toEqual([]);
  });
});

describe('synth-time scope check: the example app', () => {
  test('the example app (SignedRegistry repository, ENFORCE hook, audit) has no scope or unpinned warning and nothing left unchecked', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildExampleApp } = require('../examples/app');
    const { stack } = buildExampleApp(new App());
    expect(scopeWarnings(stack)).toEqual([]);
    expect(unpinnedWarnings(stack)).toEqual([]);
    expect(notes(stack, 'info').filter((n) => n.text.includes('could not check') || n.text.includes('covers'))).toEqual([]);
  });
});
