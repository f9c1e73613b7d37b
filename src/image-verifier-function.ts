import { createHash } from 'crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { Annotations, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { DEFAULT_METRICS_NAMESPACE, HANDLER_NAME, METRIC } from './handlers/config';
import type { HandlerConfig } from './handlers/config';
import { internalsOf } from './private/verifier-internals';
import { TrustPolicy, TrustPolicyStatement, VerificationLevel } from './trust-policy';
import { SignedImagesValidationError } from './validation-error';
import { canonicalScope, isLoopbackHost, parseEcrRegistry } from './verifier';

/**
 * Properties of an `ImageVerifierFunction`, shared by `EcsAdmissionHook` and `TaskLaunchAudit`.
 *
 * @example
 * import { ImageVerifierFunction } from 'cdk-signed-images';
 *
 * new ImageVerifierFunction(this, 'Verifier', {
 *   trustPolicy,
 *   verdictCacheTtl: cdk.Duration.seconds(30),
 *   exemptions: ['public.ecr.aws/aws-observability/**'],
 *   vpc,
 *   securityGroups: [securityGroup],
 *   rejectionAlarm: true,
 * });
 */
export interface ImageVerifierFunctionProps {
  /**
   * The notation trust policy. Its trust stores (AWS Signer roots, your PEM certificates) ship in the
   * function's asset, not in environment variables; deploy-time tokens (ARNs of the same app) are
   * resolved by CloudFormation.
   */
  readonly trustPolicy: TrustPolicy;

  /**
   * Maximum number of signatures tried per image.
   * @default 100
   */
  readonly maxSignatures?: number;

  /**
   * How long a definitive verdict (verified or failed) is cached in the warm function. Inconclusive
   * verdicts are never cached, "no signature" never, other failures at most 30 seconds.
   *
   * This is also the revocation latency: an image whose AWS Signer signing job (or profile) is
   * revoked stays admitted until its cached `verified` verdict expires, that is for up to this
   * long after the revocation in each warm function instance. Shorten it (e.g.
   * `Duration.seconds(30)`) for faster revocation at the cost of one `GetRevocationStatus` call and
   * the registry requests per image per TTL; `Duration.seconds(0)` disables the cache.
   * @default Duration.minutes(5)
   */
  readonly verdictCacheTtl?: Duration;

  /**
   * Timeout of each request to a registry. Also the default of `awsApiTimeout`.
   * @default Duration.seconds(10)
   */
  readonly registryTimeout?: Duration;

  /**
   * Timeout of each AWS API call a verification makes (`signer:GetRevocationStatus`, retries included).
   * The handlers' ECS and SNS calls are bounded by the invocation's deadline instead.
   * @default - `registryTimeout` when it is set, otherwise 5 seconds
   */
  readonly awsApiTimeout?: Duration;

  /**
   * Also require every platform manifest of a multi-architecture image index to carry a valid signature.
   * @default false - the signature on the index is enough
   */
  readonly requirePlatformSignatures?: boolean;

  /**
   * Registries (`host:port`) reached over plain HTTP. Loopback hosts only (`localhost`, `127.x.x.x`,
   * `[::1]`): for tests and demos, never for production.
   * @default - none; every registry is reached over HTTPS
   */
  readonly plainHttpRegistries?: string[];

  /**
   * Images admitted without verification (logged and counted as `Exempt`): glob patterns matched
   * against the repository (`registry/repository`) and the full image reference, both in their
   * canonical form (registry host lower-cased, trailing dot and `:443` removed, IP literals
   * normalised; the pattern's host is canonicalised the same way). `*` matches any run of characters
   * except `/`, `**` matches anything, `?` one character. A reference that does not parse is never
   * exempt.
   * @default - no exemptions
   */
  readonly exemptions?: string[];

  /**
   * ECR repositories the function may pull manifests and signatures from (replaces the derived set).
   * @default - the repositories the trust policy's statements carry (`TrustPolicy.fromSigningProfiles`
   * with `SignedRegistry`s, or a statement's `repositories`) plus those its literal ECR scopes name;
   * `*` (with a synth warning) only when a scope is `*` or a deploy-time token that is none of the
   * statement's repositories
   */
  readonly repositories?: ecr.IRepository[];

  /**
   * Create a CloudWatch alarm that fires when an image is rejected.
   * @default false
   */
  readonly rejectionAlarm?: boolean;

  /**
   * Create a CloudWatch alarm that fires when a verification is inconclusive (registry or AWS API unavailable).
   * @default false
   */
  readonly inconclusiveAlarm?: boolean;

  /**
   * Create a CloudWatch alarm that fires when the function cannot load its configuration
   * (`ConfigurationErrors` metric). An AUDIT admission hook still answers `SUCCEEDED` then and the
   * task audit does not throw, so without this alarm nothing is verified and nobody notices.
   * @default false
   */
  readonly configurationErrorAlarm?: boolean;

  /**
   * CloudWatch namespace of the EMF metrics (`Verified`, `Rejected`, `Exempt`, `Skipped`, `Inconclusive`, `VerifyDuration`).
   * @default 'SignedImages'
   */
  readonly metricsNamespace?: string;

  /**
   * Images verified at the same time in one invocation.
   * @default 4
   */
  readonly concurrency?: number;

  /**
   * Lambda runtime (Node.js 20 or later).
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * Lambda timeout. Handlers answer before it (the admission hook answers `IN_PROGRESS` when out of time).
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;

  /**
   * Lambda memory, in MB. The default leaves room above what the handler needs and buys CPU: the bundled
   * admission hook verifying 100 distinct images ten times over (verdict cache on) peaks at about 76 MB
   * RSS with no growth after the first pass (`handlerMaxRssMb` in bench/results.json), so 128 MB would
   * fit, but Lambda gives CPU in proportion to memory and the cold start and signature checks are
   * CPU-bound; 256 MB has 3x headroom over the measured peak at half the old 512 MB default's cost.
   * Raise it for large `concurrency` or many multi-architecture indexes.
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Log group of the function.
   * @default - Lambda's default log group, `/aws/lambda/<function name>`
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * VPC to place the function in. The function then reaches AWS and the registries only through that
   * VPC: its subnets need a NAT route or VPC endpoints for ECR (`ecr.api`, `ecr.dkr`), S3 (gateway,
   * for ECR blob downloads), ECS (admission hook, `stopTask`), SNS (audit topic), and a route to
   * AWS Signer's `data-signer` host for revocation checks (see "Running in a VPC" in
   * docs/runtime-enforcement.md). The role gets the `AWSLambdaVPCAccessExecutionRole` managed
   * policy (ENI permissions), as with any `lambda.Function` in a VPC.
   * @default - not in a VPC (Lambda's own network, with internet access)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` the function's network interfaces are placed in. Requires `vpc`. Public
   * subnets are refused unless `allowPublicSubnet` is set (a Lambda function gets no public IP
   * there, so it cannot reach the internet).
   * @default - the VPC's default selection (its private subnets)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the function's network interfaces. Requires `vpc`. They must allow outbound
   * HTTPS (TCP 443) to the VPC endpoints (or NAT) and the S3 prefix list.
   * @default - a new security group allowing all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Allow `vpcSubnets` to select public subnets. Requires `vpc`. A Lambda function in a public
   * subnet has no internet access: only VPC endpoints reach it.
   * @default false
   */
  readonly allowPublicSubnet?: boolean;

  /**
   * Instruction set of the function. The bundled handlers are plain JavaScript (no native modules;
   * the AWS SDK comes from the Lambda runtime), so both architectures run the same code. arm64
   * (Graviton) costs about 20% less per GB-second than x86_64 at the same memory size. Set
   * `lambda.Architecture.X86_64` in a region or partition that does not offer arm64 Lambda
   * functions.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
}

const DEFAULT_NAMESPACE = DEFAULT_METRICS_NAMESPACE;
const ENV_LIMIT_BYTES = 4096;
/** Room kept for the other environment variables when sizing `TRUST_POLICY`. */
const ENV_RESERVED_BYTES = 512;
/** Estimated length of one deploy-time token once CloudFormation resolves it (an ARN or a URI). */
const TOKEN_ESTIMATE = 128;
const ECR_PULL_ON_ANY_REPOSITORY_WARNING = 'cdk-signed-images:ImageVerifierFunction.ecrPullOnAnyRepository';

/**
 * A Lambda function that verifies container images with the Notary Project trust policy you give it.
 *
 * Its code is bundled at build time (no bundler needed at synth). The configuration (trust stores,
 * options) is written to `config.json` in the function's asset; a trust policy holding deploy-time
 * tokens travels in the `TRUST_POLICY` environment variable. Invoked directly with
 * `{ "images": [...] }` it returns one verdict per image. It runs on arm64 unless `architecture`
 * says otherwise, and outside any VPC unless `vpc` is given.
 *
 * Permissions: ECR pull (`ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`,
 * `ecr:BatchCheckLayerAvailability`) on the trust policy's repositories (see the `repositories`
 * prop; `*` only for a `*` or unmappable scope, with a synth warning), `ecr:GetAuthorizationToken`
 * on `*` (the action has no resource), `signer:GetRevocationStatus` on `*` (its resources are the
 * signing jobs and profiles of whoever signed the image, known only from each signature).
 *
 * @example
 * import { ImageVerifierFunction, TrustPolicy } from 'cdk-signed-images';
 *
 * // Invoke it with { "images": ["<account>.dkr.ecr.<region>.amazonaws.com/team/app@sha256:..."] }.
 * const verifier = new ImageVerifierFunction(this, 'Verifier', {
 *   trustPolicy: TrustPolicy.fromSigningProfiles(registry),
 * });
 * verifier.grantInvoke(ciRole);
 */
export class ImageVerifierFunction extends lambda.Function {
  /** The alarm on rejected images, when `rejectionAlarm` is set. */
  public readonly rejectionAlarm?: cloudwatch.Alarm;
  /** The alarm on inconclusive verifications, when `inconclusiveAlarm` is set. */
  public readonly inconclusiveAlarm?: cloudwatch.Alarm;
  /** The alarm on configuration errors, when `configurationErrorAlarm` is set. */
  public readonly configurationErrorAlarm?: cloudwatch.Alarm;
  /** CloudWatch namespace of the function's metrics. */
  public readonly metricsNamespace: string;

  /**
   * @param scope the parent construct
   * @param id the construct id
   * @param props the trust policy and function settings
   */
  public constructor(scope: Construct, id: string, props: ImageVerifierFunctionProps) {
    const internals = internalsOf(props);
    const handlerName = internals?.handlerName ?? HANDLER_NAME.VERIFY;
    const namespace = props.metricsNamespace ?? DEFAULT_NAMESPACE;
    const config = buildConfig(scope, props, namespace, internals?.config ?? {});
    const stack = Stack.of(scope);
    const policyDoc = props.trustPolicy.render(scope);
    const policyHasTokens = Token.isUnresolved(JSON.stringify(policyDoc));
    const env: Record<string, string> = { ...(internals?.environment ?? {}) };
    if (policyHasTokens) {
      env.TRUST_POLICY = stack.toJsonString(policyDoc);
      // The value above is one opaque token; size the document it renders instead.
      checkEnvironmentSize(scope, { ...env, TRUST_POLICY: JSON.stringify(policyDoc) });
    }
    const fullConfig: HandlerConfig = { ...config, ...(policyHasTokens ? {} : { trustPolicy: policyDoc }) };
    checkPlacement(scope, id, props);

    super(scope, id, {
      runtime: props.runtime ?? lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(stageAsset(scope, handlerName, fullConfig)),
      timeout: props.timeout ?? Duration.minutes(1),
      memorySize: props.memorySize ?? 256,
      environment: Object.keys(env).length > 0 ? env : undefined,
      logGroup: props.logGroup,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      allowPublicSubnet: props.allowPublicSubnet,
      description: `cdk-signed-images: ${handlerName} (Notary Project signature verification)`,
    });
    warnOnIsolatedPlacement(this, props);
    this.metricsNamespace = namespace;
    this.grantVerification(props);

    if (props.rejectionAlarm) {
      this.rejectionAlarm = this.anyCountAlarm('RejectionAlarm', this.metricRejected(), 'A container image failed signature verification');
    }
    if (props.inconclusiveAlarm) {
      this.inconclusiveAlarm = this.anyCountAlarm('InconclusiveAlarm', this.metricInconclusive(),
        'A container image signature verification was inconclusive (registry or AWS API unavailable)');
    }
    if (props.configurationErrorAlarm) {
      this.configurationErrorAlarm = this.anyCountAlarm('ConfigurationErrorAlarm', this.metricConfigurationErrors(),
        'The image verifier function cannot load its configuration (nothing is verified)');
    }
  }

  /**
   * Images that passed verification (sum over 5 minutes by default).
   * @param props changes to the metric (period, statistic, label...)
   */
  public metricVerified(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.verifierMetric(METRIC.VERIFIED, props);
  }

  /**
   * Images that failed verification (sum over 5 minutes by default).
   * @param props changes to the metric (period, statistic, label...)
   */
  public metricRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.verifierMetric(METRIC.REJECTED, props);
  }

  /**
   * Images admitted by an exemption glob, without verification (sum over 5 minutes by default). Images
   * whose policy statement has the `skip` level count in the `Skipped` metric of the same namespace.
   * @param props changes to the metric (period, statistic, label...)
   */
  public metricExempt(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.verifierMetric(METRIC.EXEMPT, props);
  }

  /**
   * Images whose trust-policy statement has the `skip` verification level, admitted without
   * verification (sum over 5 minutes by default).
   * @param props changes to the metric (period, statistic, label...)
   */
  public metricSkipped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.verifierMetric(METRIC.SKIPPED, props);
  }

  /**
   * Verifications that could not reach a verdict (sum over 5 minutes by default).
   * @param props changes to the metric (period, statistic, label...)
   */
  public metricInconclusive(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.verifierMetric(METRIC.INCONCLUSIVE, props);
  }

  /**
   * Invocations that could not load the function's configuration (sum over 5 minutes by default).
   * @param props changes to the metric (period, statistic, label...)
   */
  public metricConfigurationErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.verifierMetric(METRIC.CONFIGURATION_ERRORS, props);
  }

  /**
   * Duration of one image verification, in milliseconds (average over 5 minutes by default).
   * @param props changes to the metric (period, statistic, label...)
   */
  public metricVerifyDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.verifierMetric(METRIC.DURATION, { statistic: 'Average', ...props });
  }

  private verifierMetric(name: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName: name,
      dimensionsMap: { FunctionName: this.functionName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** An alarm that fires on any non-zero count of `metric` (missing data is not breaching). */
  private anyCountAlarm(id: string, metric: cloudwatch.Metric, alarmDescription: string): cloudwatch.Alarm {
    return metric.createAlarm(this, id, {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription,
    });
  }

  private grantVerification(props: ImageVerifierFunctionProps): void {
    let repositoryArns: string[];
    if (props.repositories) {
      repositoryArns = props.repositories.map((r) => r.repositoryArn);
    } else {
      const derived = repositoryArnsFromScopes(this, props.trustPolicy.statements);
      repositoryArns = derived.arns;
      if (derived.unmapped.length > 0) {
        Annotations.of(this).addWarningV2(ECR_PULL_ON_ANY_REPOSITORY_WARNING,
          'The verifier gets ECR pull (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability) on every '
          + `repository ("*") because ${derived.unmapped.join('; ')}. Set the \`repositories\` prop to the ECR repositories the `
          + 'verifier reads, or build the statement from SignedRegistry (TrustPolicy.fromSigningProfiles(registry), or a statement\'s '
          + '`repositories`), to grant pull on those repositories only.');
      }
    }
    if (repositoryArns.length > 0) {
      this.addToRolePolicy(new iam.PolicyStatement({
        sid: 'PullImagesAndSignatures',
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: repositoryArns,
      }));
    }
    this.addToRolePolicy(new iam.PolicyStatement({
      sid: 'EcrAuthorizationToken',
      actions: ['ecr:GetAuthorizationToken'],
      resources: ['*'],
    }));
    this.addToRolePolicy(new iam.PolicyStatement({
      sid: 'SignerRevocationStatus',
      actions: ['signer:GetRevocationStatus'],
      resources: ['*'],
    }));
  }
}

/**
 * ECR repository ARNs the verifier needs for the statements' scopes: the statements' own
 * `repositories`, the repository of each scope that is one of their URIs, and the ARN of each
 * literal ECR scope. `arns` is `['*']` when a scope is `*` or a token that is no repository's URI
 * (`unmapped` then says which and why). Statements at level `skip` need no pull.
 */
function repositoryArnsFromScopes(scope: IConstruct, statements: TrustPolicyStatement[]): { arns: string[]; unmapped: string[] } {
  const stack = Stack.of(scope);
  const arns: string[] = [];
  const unmapped: string[] = [];
  const add = (arn: string) => { if (!arns.includes(arn)) arns.push(arn); };
  for (const statement of statements) {
    if (statement.level === VerificationLevel.SKIP) continue;
    const repositories = statement.repositories ?? [];
    for (const repository of repositories) add(repository.repositoryArn);
    // `repositoryUri` builds a new token on each read: compare what the tokens resolve to.
    const uris = new Set(repositories.map((r) => JSON.stringify(stack.resolve(r.repositoryUri))));
    for (const s of statement.registryScopes) {
      if (uris.has(JSON.stringify(stack.resolve(s)))) continue;
      if (s === '*') {
        unmapped.push(`trust policy statement "${statement.name}" has the scope "*"`);
        continue;
      }
      if (Token.isUnresolved(s)) {
        unmapped.push(`a registry scope of trust policy statement "${statement.name}" is a deploy-time token that is not the repositoryUri of one of the statement's \`repositories\``);
        continue;
      }
      // The scope in canonical form (any letter case, trailing dot, :443, FIPS or dual-stack name of
      // an ECR registry): the runtime matches images in that form, so IAM must cover it too.
      const c = canonicalScope(s);
      const slash = c.indexOf('/');
      const registry = slash > 0 ? parseEcrRegistry(c.slice(0, slash)) : undefined;
      if (!registry) continue; // not ECR: no IAM needed
      add(stack.formatArn({
        service: 'ecr', account: registry.accountId, region: registry.region, resource: 'repository', resourceName: c.slice(slash + 1), arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }));
    }
  }
  return unmapped.length > 0 ? { arns: ['*'], unmapped } : { arns, unmapped };
}

function buildConfig(
  scope: IConstruct, props: ImageVerifierFunctionProps, namespace: string, extra: Partial<HandlerConfig>,
): HandlerConfig {
  const errors: string[] = [];
  const maxSignatures = props.maxSignatures;
  if (maxSignatures !== undefined && !Token.isUnresolved(maxSignatures) && (!Number.isInteger(maxSignatures) || maxSignatures < 1)) {
    errors.push(`maxSignatures must be a positive integer, got ${maxSignatures}`);
  }
  const concurrency = props.concurrency;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) {
    errors.push(`concurrency must be an integer between 1 and 64, got ${concurrency}`);
  }
  for (const h of props.plainHttpRegistries ?? []) {
    // the engine's rule (src/verifier/registry/loopback.ts): what synth accepts, the runtime accepts
    if (Token.isUnresolved(h) || !isLoopbackHost(h)) {
      errors.push(`plainHttpRegistries accepts loopback registries only (localhost, 127.x.x.x, [::1]), got "${h}"`);
    }
  }
  for (const e of props.exemptions ?? []) {
    if (Token.isUnresolved(e) || e.trim() === '') errors.push(`exemptions must be literal, non-empty glob patterns, got "${e}"`);
  }
  if (Token.isUnresolved(namespace) || !/^[^:][^:]{0,254}$/.test(namespace)) errors.push(`metricsNamespace "${namespace}" is invalid`);
  const trustStores = props.trustPolicy.trustStoreCertificates(scope);
  for (const [name, pem] of Object.entries(trustStores)) {
    if (Token.isUnresolved(pem)) errors.push(`trust store ${name}: certificates must be literal PEM text (they are written into the function's asset)`);
  }
  const registryTimeout = props.registryTimeout?.toMilliseconds();
  if (registryTimeout !== undefined && registryTimeout <= 0) errors.push('registryTimeout must be positive');
  const awsApiTimeout = props.awsApiTimeout?.toMilliseconds();
  if (awsApiTimeout !== undefined && awsApiTimeout <= 0) errors.push('awsApiTimeout must be positive');
  if (errors.length > 0) throw new SignedImagesValidationError(errors.join('\n'), scope);
  const config: HandlerConfig = {
    version: 1,
    trustStores,
    maxSignatures,
    cacheTtlMs: props.verdictCacheTtl?.toMilliseconds(),
    registryTimeoutMs: registryTimeout,
    awsApiTimeoutMs: awsApiTimeout,
    requirePlatformSignatures: props.requirePlatformSignatures,
    plainHttpRegistries: props.plainHttpRegistries,
    exemptions: props.exemptions,
    metricsNamespace: namespace,
    concurrency,
    ...extra,
  };
  return JSON.parse(JSON.stringify(config));
}

/**
 * VPC and architecture props, checked before `lambda.Function` sees them so the error names this
 * construct and every problem at once. `lambda.Function` applies the same VPC rules (and refuses
 * public subnets without `allowPublicSubnet`); `allowPublicSubnet` without a VPC, which it ignores,
 * is refused here too, as is an architecture Lambda does not run.
 */
function checkPlacement(scope: IConstruct, id: string, props: ImageVerifierFunctionProps): void {
  const errors: string[] = [];
  if (!props.vpc) {
    if (props.securityGroups !== undefined) errors.push('securityGroups requires vpc');
    if (props.vpcSubnets !== undefined) errors.push('vpcSubnets requires vpc');
    if (props.allowPublicSubnet !== undefined) errors.push('allowPublicSubnet requires vpc');
  }
  const arch = props.architecture;
  if (arch !== undefined && arch.name !== lambda.Architecture.ARM_64.name && arch.name !== lambda.Architecture.X86_64.name) {
    errors.push(`architecture must be ARM_64 or X86_64, got "${arch.name}"`);
  }
  if (errors.length > 0) throw new SignedImagesValidationError(`${id}: ${errors.join('; ')}`, scope);
}

const ISOLATED_SUBNETS_WARNING = 'cdk-signed-images:ImageVerifierFunction.isolatedSubnets';

/**
 * Warns when every selected subnet is an isolated subnet of the VPC (no NAT route): VPC endpoints
 * cover ECR, S3, ECS and SNS, but not AWS Signer's revocation host, registries outside ECR, or the
 * OCSP/CRL servers of X.509 certificates. Subnets of unknown type (imported by id only) are not judged.
 */
function warnOnIsolatedPlacement(fn: lambda.Function, props: ImageVerifierFunctionProps): void {
  if (!props.vpc) return;
  const selected = props.vpc.selectSubnets(props.vpcSubnets).subnetIds;
  const isolated = new Set(props.vpc.isolatedSubnets.map((s) => s.subnetId));
  if (selected.length === 0 || !selected.every((id) => isolated.has(id))) return;
  Annotations.of(fn).addWarningV2(ISOLATED_SUBNETS_WARNING,
    'The image verifier is placed in isolated subnets (no route out of the VPC). Besides VPC endpoints for ECR '
    + '(ecr.api, ecr.dkr), S3 (gateway, ECR blob downloads), ECS and SNS when used, it needs a route (NAT or '
    + 'egress-capable subnets) for: AWS Signer revocation checks (GetRevocationStatus on data-signer.<region>.amazonaws.com, '
    + 'for which no VPC endpoint is known; without it a STRICT statement with AWS Signer identities is inconclusive, '
    + 'and refused under InconclusiveAction.REJECT), registries outside ECR, and the OCSP/CRL servers of X.509 '
    + 'signing certificates. See "Running in a VPC" in docs/runtime-enforcement.md.');
}

/** Throws when the environment would exceed Lambda's 4 KB limit (token lengths estimated). */
function checkEnvironmentSize(scope: IConstruct, env: Record<string, string>): void {
  let size = 0;
  for (const [k, v] of Object.entries(env)) {
    const estimated = Token.isUnresolved(v) ? v.replace(/\$\{Token\[[^\]]*\]\}/g, 'x'.repeat(TOKEN_ESTIMATE)) : v;
    size += k.length + estimated.length;
  }
  if (size > ENV_LIMIT_BYTES - ENV_RESERVED_BYTES) {
    throw new SignedImagesValidationError(
      `the trust policy holds deploy-time tokens, so it is passed in the TRUST_POLICY environment variable, but it is too large for Lambda's 4 KB environment limit (about ${size} bytes, with each token estimated at ${TOKEN_ESTIMATE} characters): use literal ARNs and repository URIs, or fewer statements and identities`,
      scope,
    );
  }
}

/** Root of the bundled handlers (`assets/handlers`), next to `lib/` or `src/`. */
function handlersRoot(): string {
  return path.join(__dirname, '..', 'assets', 'handlers');
}

/**
 * Copies the bundled handler and writes `config.json` into a content-addressed directory, so the
 * asset hash changes exactly when the code or the configuration does.
 */
function stageAsset(scope: IConstruct, handlerName: string, config: HandlerConfig): string {
  const source = path.join(handlersRoot(), handlerName, 'index.js');
  if (!existsSync(source)) {
    throw new SignedImagesValidationError(`the bundled handler ${source} is missing: run \`node scripts/bundle.mjs\` (the package build does it)`, scope);
  }
  const code = readFileSync(source);
  const configText = JSON.stringify(config, null, 2) + '\n';
  const hash = createHash('sha256').update(handlerName).update('\0').update(code).update('\0').update(configText).digest('hex').slice(0, 32);
  const dir = path.join(tmpdir(), 'cdk-signed-images-assets', `${handlerName}-${hash}`);
  if (!existsSync(path.join(dir, 'config.json'))) {
    const tmp = `${dir}.${process.pid}.${Date.now()}`;
    mkdirSync(tmp, { recursive: true });
    copyFileSync(source, path.join(tmp, 'index.js'));
    writeFileSync(path.join(tmp, 'config.json'), configText);
    try {
      renameSync(tmp, dir);
    } catch {
      // another process staged the same content first
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return dir;
}
