import { existsSync } from 'fs';
import * as path from 'path';
import { Arn, CustomResource, Duration, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AdmissionMode, InconclusiveAction, UnpinnedImageAction } from './ecs-admission-hook';
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS, ENV, HANDLER_NAME } from './handlers/config';
import { ImageVerifierFunction, ImageVerifierFunctionProps } from './image-verifier-function';
import { checkEnforcingStatements } from './private/enforcing-statements';
import { inconclusiveActionName, modeName } from './private/notation-names';
import { withInternals } from './private/verifier-internals';
import { SignedImagesValidationError } from './validation-error';

/** Environment variables the handler reads (src/handlers/eks/secret.ts). */
const SECRET_ARN_ENV = 'WEBHOOK_SECRET_ARN';
const TIMEOUT_ENV = 'WEBHOOK_TIMEOUT_SECONDS';
/** Bundled handler of the custom resource that applies the webhook configurations (`assets/handlers/eks-webhook-config`). */
const CONFIG_HANDLER_NAME = 'eks-webhook-config';
/** Where the secret goes in each webhook URL; the config handler substitutes it (src/handlers/eks/config-resource.ts). */
const SECRET_PLACEHOLDER = '{{webhook-secret}}';

/** Namespaces the webhooks never see, whatever `excludedNamespaces` says. */
const ALWAYS_EXCLUDED = ['kube-system'];
/** RFC 1123 label: a namespace name. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Properties of an `EksAdmissionWebhook`.
 *
 * @example
 * import * as eks from 'aws-cdk-lib/aws-eks';
 * import { AdmissionMode, EksAdmissionWebhookProps, InconclusiveAction, TrustPolicy } from 'cdk-signed-images';
 *
 * declare const eksCluster: eks.ICluster;
 * const props: EksAdmissionWebhookProps = {
 *   cluster: eksCluster,
 *   trustPolicy: TrustPolicy.fromSigningProfiles(registry),
 *   mode: AdmissionMode.ENFORCE,
 *   inconclusiveAction: InconclusiveAction.REJECT,
 *   excludedNamespaces: ['monitoring'],
 * };
 */
export interface EksAdmissionWebhookProps extends ImageVerifierFunctionProps {
  /**
   * The cluster whose API server calls the webhooks. The construct applies the webhook
   * configurations itself through the Kubernetes API (no kubectl layer needed): it needs an admin
   * role (`kubectlRole`, or `clusterAdminRole`), and reads the cluster's endpoint and CA from
   * `clusterEndpoint`/`clusterCertificateAuthorityData`, or, for a cluster imported without them,
   * with EKS `DescribeCluster` at deploy time.
   */
  readonly cluster: eks.ICluster;

  /**
   * The IAM role assumed to apply (and on deletion remove) the webhook configurations; it must be
   * allowed to manage `mutatingwebhookconfigurations` and `validatingwebhookconfigurations` in the
   * cluster. A role created in this CDK app (the cluster's own admin role, in this stack or in the
   * cluster's stack) is made to trust the configuration function; an imported role must already
   * trust it (or its account).
   * @default - the cluster's `kubectlRole`
   */
  readonly clusterAdminRole?: iam.IRole;

  /**
   * ENFORCE refuses objects with an image that fails verification; AUDIT admits them with Kubernetes
   * warnings and audit annotations.
   * @default AdmissionMode.ENFORCE
   */
  readonly mode?: AdmissionMode;

  /**
   * What to do, in ENFORCE mode, when a verification is inconclusive (registry or AWS API
   * unavailable). Also the webhooks' `failurePolicy` (what the API server does when it cannot reach
   * the webhook): REJECT is `Fail`, ADMIT is `Ignore`. AUDIT always uses `Ignore`.
   * @default InconclusiveAction.REJECT - fail closed
   */
  readonly inconclusiveAction?: InconclusiveAction;

  /**
   * What the validating webhook does, in ENFORCE mode, with an image still named by tag (the
   * mutating webhook pins every image it verified, so a tag there means another mutation or a
   * skipped mutating webhook). `VERIFY_CURRENT_DIGEST` verifies the digest the tag names now.
   * @default UnpinnedImageAction.REJECT
   */
  readonly unpinnedImages?: UnpinnedImageAction;

  /**
   * The webhooks' `timeoutSeconds`: how long the API server waits for an answer (1 to 30 seconds,
   * whole seconds). The handler answers before it. (The inherited `timeout` is the Lambda timeout;
   * its default here is this plus 5 seconds.)
   * @default Duration.seconds(10)
   */
  readonly webhookTimeout?: Duration;

  /**
   * Namespaces the webhooks do not see, in addition to `kube-system` (always excluded, so the
   * cluster's own components can start when the webhook is unreachable).
   * @default - only kube-system
   */
  readonly excludedNamespaces?: string[];

  /**
   * Reserved concurrency of the function: at most this many requests are served at once, and
   * requests beyond it are throttled by Lambda (answered 429 without running the function), so
   * floods of unauthenticated requests cost nothing and cannot exhaust the account's concurrency.
   * @default 20
   */
  readonly reservedConcurrency?: number;

  /**
   * How long the webhooks wait, in ENFORCE mode, for a signature to appear on an image that has
   * none yet. ECR managed signing signs a few seconds after the push, so a Deployment applied right
   * after the push would otherwise be refused. The webhook cannot answer "in progress": it verifies
   * such an image again about once a second inside the call, and stops at its deadline
   * (`webhookTimeout` minus a margin) whatever this says; then it refuses, saying that the image may
   * still be being signed (retry `kubectl apply`; controllers retry the Pods they create). Only "no
   * signature" is waited for: any other rejection is refused at once. AUDIT never waits. Whole
   * seconds, at least 0 (no waiting) and less than `webhookTimeout`.
   * @default - 8 seconds, or `webhookTimeout` minus 2 seconds when that is less
   */
  readonly signatureWait?: Duration;

  /**
   * Make it a synth error, instead of a warning, when an ENFORCE webhook's trust policy has a
   * statement that does not enforce authenticity (level `audit` or `skip`, or an `authenticity`
   * override of `log` or `skip`): such a statement admits images signed by anyone.
   * @default false - a synth-time warning
   */
  readonly failOnNonEnforcingStatements?: boolean;
}

/**
 * Verifies every container image of Pods and of workload pod templates (Deployments, ReplicaSets,
 * StatefulSets, DaemonSets, Jobs, CronJobs) at admission in an Amazon EKS cluster, with the same
 * trust policy, engine, logs and metrics as `EcsAdmissionHook`, and pins each verified image to
 * the digest it verified.
 *
 * It creates an `ImageVerifierFunction` behind a Lambda function URL, a Secrets Manager secret
 * (a random path segment: the API server cannot sign its calls, so it authenticates by knowing the
 * URL), and two webhook configurations: a `MutatingWebhookConfiguration` (verify, then pin
 * `repository@sha256:<digest>`) and a `ValidatingWebhookConfiguration` (in ENFORCE, only pinned and
 * verified images pass). No service account, OIDC provider or in-cluster component.
 *
 * The configurations are applied by a custom resource of this library, not by the cluster's kubectl
 * provider (whose logs would hold the secret URL): its function reads the secret at deploy time,
 * assumes the cluster's `kubectlRole` (or `clusterAdminRole`) and server-side applies both objects
 * through the Kubernetes API, trusting only the cluster's certificate authority. The cluster needs
 * no kubectl layer for this construct. For a cluster whose kubectl provider runs in private
 * subnets (`kubectlPrivateSubnets`), the function runs in the same subnets and then needs a route
 * to AWS STS and Secrets Manager (VPC endpoints or NAT).
 *
 * @example
 * import * as eks from 'aws-cdk-lib/aws-eks';
 * import { AdmissionMode, EksAdmissionWebhook, TrustPolicy } from 'cdk-signed-images';
 *
 * declare const eksCluster: eks.ICluster;
 * declare const policy: TrustPolicy;
 * new EksAdmissionWebhook(this, 'Admission', { cluster: eksCluster, trustPolicy: policy, mode: AdmissionMode.AUDIT });
 */
export class EksAdmissionWebhook extends Construct {
  /** The verifier function behind the webhooks. */
  public readonly function: ImageVerifierFunction;
  /** The function URL the API server calls (the secret path is appended in the webhook configurations only). */
  public readonly functionUrl: lambda.FunctionUrl;
  /** The secret whose value is the URL path segment that authenticates the API server. */
  public readonly secret: secretsmanager.ISecret;
  /**
   * The custom resource that applies the webhook configurations to the cluster (and removes them
   * when it is deleted).
   */
  public readonly configurations: CustomResource;
  /** The function behind `configurations` (reads the secret, assumes the cluster admin role). */
  public readonly configurationFunction: lambda.Function;
  /** The mode the webhooks run in. */
  public readonly mode: AdmissionMode;
  /** `Fail` or `Ignore`. */
  public readonly failurePolicy: string;
  /** Name of the MutatingWebhookConfiguration and of the ValidatingWebhookConfiguration. */
  public readonly configurationName: string;

  /**
   * @param scope the parent construct
   * @param id the construct id
   * @param props the cluster, trust policy, mode and function settings
   */
  public constructor(scope: Construct, id: string, props: EksAdmissionWebhookProps) {
    super(scope, id);
    this.mode = props.mode ?? AdmissionMode.ENFORCE;
    const mode = modeName(this.mode);
    const inconclusive = inconclusiveActionName(props.inconclusiveAction ?? InconclusiveAction.REJECT);
    const unpinned = props.unpinnedImages ?? UnpinnedImageAction.REJECT;
    if (unpinned !== UnpinnedImageAction.REJECT && unpinned !== UnpinnedImageAction.VERIFY_CURRENT_DIGEST) {
      throw new SignedImagesValidationError(`unpinnedImages must be REJECT or VERIFY_CURRENT_DIGEST, got ${JSON.stringify(unpinned)}`, this);
    }
    const timeoutSeconds = webhookTimeoutSeconds(this, props.webhookTimeout);
    const signatureWait = signatureWaitSeconds(this, props.signatureWait, timeoutSeconds);
    if (this.mode === AdmissionMode.ENFORCE) {
      checkEnforcingStatements(this, props.trustPolicy.statements, props.failOnNonEnforcingStatements ?? false);
    }
    const reserved = props.reservedConcurrency ?? 20;
    if (!Token.isUnresolved(reserved) && (!Number.isInteger(reserved) || reserved < 1)) {
      throw new SignedImagesValidationError(`reservedConcurrency must be a positive integer, got ${reserved}`, this);
    }
    const excluded = [...ALWAYS_EXCLUDED];
    for (const ns of props.excludedNamespaces ?? []) {
      if (Token.isUnresolved(ns) || !NAMESPACE.test(ns)) {
        throw new SignedImagesValidationError(`excludedNamespaces: ${JSON.stringify(ns)} is not a namespace name (RFC 1123 label, literal)`, this);
      }
      if (!excluded.includes(ns)) excluded.push(ns);
    }
    this.failurePolicy = mode === 'ENFORCE' && inconclusive === 'REJECT' ? 'Fail' : 'Ignore';
    const access = clusterAccess(this, props.cluster, props.clusterAdminRole);

    // Letters and digits only: the value is a URL path segment.
    this.secret = new secretsmanager.Secret(this, 'PathSecret', {
      description: `cdk-signed-images: URL path secret of the EKS admission webhook ${this.node.path}`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false, requireEachIncludedType: true },
    });

    this.function = new ImageVerifierFunction(this, 'Function', withInternals({ ...props, timeout: props.timeout ?? Duration.seconds(timeoutSeconds + 5) }, {
      handlerName: HANDLER_NAME.EKS_WEBHOOK,
      config: { mode, inconclusiveAction: inconclusive, unpinnedImages: unpinned, signatureWaitSeconds: signatureWait },
      environment: {
        [ENV.ADMISSION_MODE]: mode,
        [ENV.METRICS_NAMESPACE]: props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
        [SECRET_ARN_ENV]: this.secret.secretArn,
        [TIMEOUT_ENV]: String(timeoutSeconds),
      },
    }));
    this.secret.grantRead(this.function);
    (this.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = reserved;
    // Authentication is the path secret, checked by the handler before any work (the API server cannot sign).
    this.functionUrl = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    this.configurationName = `cdk-signed-images-${this.node.addr.slice(0, 12)}`;
    // The URL ends with "/". The secret is NOT in the template, nor in any CloudFormation event: the
    // configuration function substitutes it for the placeholder after reading it at deploy time.
    const endpoint = (suffix: string) => `${this.functionUrl.url}${SECRET_PLACEHOLDER}/${suffix}`;
    const common = {
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: this.failurePolicy,
      timeoutSeconds,
      matchPolicy: 'Equivalent',
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excluded }] },
      rules: webhookRules(),
    };
    const metadata = { name: this.configurationName, labels: { 'app.kubernetes.io/managed-by': 'cdk-signed-images' } };
    const mutating = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata,
      webhooks: [{
        name: 'pin.images.cdk-signed-images.io',
        clientConfig: { url: endpoint('mutate') },
        ...common,
        // Another mutating webhook may change an image after this one: run again then (idempotent).
        reinvocationPolicy: 'IfNeeded',
      }],
    };
    const validating = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata,
      webhooks: [{ name: 'verify.images.cdk-signed-images.io', clientConfig: { url: endpoint('validate') }, ...common }],
    };
    // An aws-eks Cluster's admin role trusts only aws-cdk-lib's own handlers. In this stack, it is
    // made to trust the configuration function's role directly. In another stack (a cluster stack and
    // an application stack), a reference to this stack's role would make the two stacks depend on
    // each other; so the function's role gets a fixed name and the admin role trusts the account,
    // on the condition that the caller is exactly that role (aws:PrincipalArn, a literal ARN: IAM
    // checks it at AssumeRole time, not when the cluster stack is deployed).
    const crossStackAdmin = access.role instanceof iam.Role && Stack.of(access.role) !== Stack.of(this);
    const configRoleName = `cdk-signed-images-eks-${this.node.addr.slice(0, 24)}`;
    const configRole = crossStackAdmin ? new iam.Role(this, 'ConfigurationRole', {
      roleName: configRoleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'),
        ...(access.placement.vpc ? [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')] : []),
      ],
    }) : undefined;
    this.configurationFunction = new lambda.Function(this, 'ConfigurationFunction', {
      ...(configRole ? { role: configRole } : {}),
      description: `cdk-signed-images: applies the webhook configurations of ${this.node.path} to EKS cluster (reads the URL secret itself)`,
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(configHandlerAsset(this)),
      timeout: Duration.minutes(5),
      memorySize: 256,
      ...access.placement,
    });
    this.configurationFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.secret.secretArn] }));
    this.configurationFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [access.role.roleArn] }));
    if (!access.connection) {
      // Imported without endpoint and CA: the function reads them (with its own role) before applying.
      this.configurationFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [props.cluster.clusterArn] }));
    }
    // (An imported role must already trust the function's role, or its account.)
    if (access.role instanceof iam.Role && !crossStackAdmin) {
      access.role.assumeRolePolicy?.addStatements(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], principals: [this.configurationFunction.role!] }));
    } else if (access.role instanceof iam.Role && configRole) {
      const adminStack = Stack.of(access.role);
      const callerArn = Arn.format({ service: 'iam', region: '', account: adminStack.account, resource: 'role', resourceName: configRoleName }, adminStack);
      access.role.assumeRolePolicy?.addStatements(new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        principals: [new iam.AccountPrincipal(adminStack.account)],
        conditions: { ArnEquals: { 'aws:PrincipalArn': callerArn } },
      }));
    }
    // A new construct id: the resource type differs from the KubernetesManifest this replaced.
    this.configurations = new CustomResource(this, 'WebhookConfigurations', {
      serviceToken: this.configurationFunction.functionArn,
      resourceType: 'Custom::SignedImagesEksWebhookConfigurations',
      properties: {
        ClusterName: props.cluster.clusterName,
        ...access.connection ? { Endpoint: access.connection.endpoint, CertificateAuthorityData: access.connection.certificateAuthorityData } : {},
        RoleArn: access.role.roleArn,
        SecretArn: this.secret.secretArn,
        FunctionUrl: this.functionUrl.url,
        // One JSON string: CloudFormation would turn numbers and booleans of nested properties into strings.
        // Named and shaped like KubernetesManifest's `Manifest` (a JSON list of objects), for tools and tests that read it.
        Manifest: Stack.of(this).toJsonString([mutating, validating]),
      },
    });
    // The endpoint, its permissions and the secret exist before the API server is pointed at them;
    // the configuration function's permissions exist before it runs (and until it has deleted the objects).
    this.configurations.node.addDependency(this.function, this.secret, this.configurationFunction);
  }
}

/** What the configuration function needs to reach the cluster. */
interface ClusterAccess {
  /** Undefined when the cluster does not carry them (imported without): the function asks EKS. */
  readonly connection?: { readonly endpoint: string; readonly certificateAuthorityData: string };
  readonly role: iam.IRole;
  readonly placement: Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'>;
}

/** Reads the cluster attributes the configuration function needs; a synth error names a missing one. */
function clusterAccess(scope: Construct, cluster: eks.ICluster, adminRole: iam.IRole | undefined): ClusterAccess {
  const attribute = <T>(name: string, get: () => T): T => {
    let value: T;
    try {
      value = get();
    } catch {
      value = undefined as T;
    }
    if (value === undefined || value === null || value === '') {
      throw new SignedImagesValidationError(`the cluster has no ${name}: the webhook configurations are applied through the Kubernetes API, which needs it (import the cluster with ${name})`, scope);
    }
    return value;
  };
  const optional = (get: () => string): string | undefined => {
    try {
      return get() || undefined;
    } catch {
      return undefined; // an imported cluster without the attribute throws
    }
  };
  const endpoint = optional(() => cluster.clusterEndpoint);
  const certificateAuthorityData = optional(() => cluster.clusterCertificateAuthorityData);
  const connection = endpoint && certificateAuthorityData ? { endpoint, certificateAuthorityData } : undefined;
  const role = adminRole ?? cluster.kubectlRole;
  if (!role) {
    throw new SignedImagesValidationError('the cluster has no kubectlRole and no clusterAdminRole was given: one is needed to apply the webhook configurations (import the cluster with kubectlRoleArn, or pass clusterAdminRole)', scope);
  }
  const subnets = cluster.kubectlPrivateSubnets;
  if (!subnets || subnets.length === 0) return { connection, role, placement: {} };
  // Like the kubectl provider: a private endpoint is reachable only from the cluster's VPC.
  const vpc = attribute<ec2.IVpc>('vpc', () => cluster.vpc);
  const securityGroup = cluster.kubectlSecurityGroup ?? cluster.clusterSecurityGroup;
  const placement = { vpc, vpcSubnets: { subnets }, securityGroups: securityGroup ? [securityGroup] : undefined };
  return { connection, role, placement };
}

/** The bundled configuration handler's directory (`assets/handlers/eks-webhook-config`). */
function configHandlerAsset(scope: Construct): string {
  const dir = path.join(__dirname, '..', 'assets', 'handlers', CONFIG_HANDLER_NAME);
  if (!existsSync(path.join(dir, 'index.js'))) {
    throw new SignedImagesValidationError(`the bundled handler ${dir}/index.js is missing: run \`node scripts/bundle.mjs\` (the package build does it)`, scope);
  }
  return dir;
}

/** The resources the webhooks intercept (CREATE and UPDATE). */
function webhookRules(): Array<Record<string, unknown>> {
  const ops = ['CREATE', 'UPDATE'];
  return [
    // pods/ephemeralcontainers: `kubectl debug` adds containers to a running Pod through this subresource.
    { apiGroups: [''], apiVersions: ['v1'], operations: ops, resources: ['pods', 'pods/ephemeralcontainers'], scope: 'Namespaced' },
    { apiGroups: ['apps'], apiVersions: ['v1'], operations: ops, resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], scope: 'Namespaced' },
    { apiGroups: ['batch'], apiVersions: ['v1'], operations: ops, resources: ['jobs', 'cronjobs'], scope: 'Namespaced' },
  ];
}

/** Validates the webhook timeout: whole seconds, 1 to 30 (the Kubernetes bounds). */
function webhookTimeoutSeconds(scope: Construct, timeout: Duration | undefined): number {
  if (timeout === undefined) return 10;
  if (timeout.isUnresolved()) {
    throw new SignedImagesValidationError('webhookTimeout must be a literal duration (it is written into the webhook configurations), got a deploy-time token', scope);
  }
  const ms = timeout.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms) || ms % 1000 !== 0 || ms < 1000 || ms > 30_000) {
    throw new SignedImagesValidationError(`webhookTimeout must be whole seconds between 1 and 30 (Kubernetes webhook timeoutSeconds), got ${timeout.toHumanString()}`, scope);
  }
  return ms / 1000;
}

/**
 * Validates the webhooks' `signatureWait` and returns it in seconds: whole seconds, at least 0 and
 * less than the webhook timeout (the handler also stops at its deadline, the timeout minus a margin).
 */
function signatureWaitSeconds(scope: Construct, wait: Duration | undefined, timeoutSeconds: number): number {
  if (wait === undefined) return Math.max(0, Math.min(DEFAULT_WEBHOOK_SIGNATURE_WAIT_SECONDS, timeoutSeconds - 2));
  if (wait.isUnresolved()) {
    throw new SignedImagesValidationError('signatureWait must be a literal duration (it is written into the function\'s asset), got a deploy-time token', scope);
  }
  const ms = wait.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms) || ms < 0 || ms % 1000 !== 0 || ms >= timeoutSeconds * 1000) {
    throw new SignedImagesValidationError(`signatureWait must be whole seconds, at least 0 and less than webhookTimeout (${timeoutSeconds} s): the webhook answers within `
      + `webhookTimeout, so it waits inside the call; got ${wait.toHumanString()}`, scope);
  }
  return ms / 1000;
}
