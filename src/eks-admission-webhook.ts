import { Duration, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AdmissionMode, InconclusiveAction, UnpinnedImageAction } from './ecs-admission-hook';
import { DEFAULT_METRICS_NAMESPACE, ENV } from './handlers/config';
import { ImageVerifierFunction, ImageVerifierFunctionProps } from './image-verifier-function';
import { inconclusiveActionName, modeName } from './private/notation-names';
import { withInternals } from './private/verifier-internals';
import { SignedImagesValidationError } from './validation-error';

/** Bundled handler of the webhook (`assets/handlers/eks-webhook`). */
const HANDLER_NAME = 'eks-webhook';
/** Environment variables the handler reads (src/handlers/eks/secret.ts). */
const SECRET_ARN_ENV = 'WEBHOOK_SECRET_ARN';
const TIMEOUT_ENV = 'WEBHOOK_TIMEOUT_SECONDS';

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
  /** The cluster whose API server calls the webhooks (it needs a kubectl provider: `kubectlLayer`). */
  readonly cluster: eks.ICluster;

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
}

/**
 * Verifies every container image of Pods and of workload pod templates (Deployments, ReplicaSets,
 * StatefulSets, DaemonSets, Jobs, CronJobs) at admission in an Amazon EKS cluster, with the same
 * trust policy, engine, logs and metrics as `EcsAdmissionHook`, and pins each verified image to
 * the digest it verified.
 *
 * It creates an `ImageVerifierFunction` behind a Lambda function URL, a Secrets Manager secret
 * (a random path segment: the API server cannot sign its calls, so it authenticates by knowing the
 * URL), and two webhook configurations applied with the cluster's kubectl provider: a
 * `MutatingWebhookConfiguration` (verify, then pin `repository@sha256:<digest>`) and a
 * `ValidatingWebhookConfiguration` (in ENFORCE, only pinned and verified images pass). No service
 * account, OIDC provider or in-cluster component.
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
  /** The webhook configurations applied to the cluster. */
  public readonly manifest: eks.KubernetesManifest;
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

    // Letters and digits only: the value is a URL path segment.
    this.secret = new secretsmanager.Secret(this, 'PathSecret', {
      description: `cdk-signed-images: URL path secret of the EKS admission webhook ${this.node.path}`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false, requireEachIncludedType: true },
    });

    this.function = new ImageVerifierFunction(this, 'Function', withInternals({ ...props, timeout: props.timeout ?? Duration.seconds(timeoutSeconds + 5) }, {
      handlerName: HANDLER_NAME,
      config: { mode, inconclusiveAction: inconclusive, unpinnedImages: unpinned },
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
    // The URL ends with "/". The secret is a dynamic reference: CloudFormation resolves it when it
    // passes the manifest to the kubectl provider; the template only holds `{{resolve:...}}`.
    const endpoint = (path: string) => `${this.functionUrl.url}${this.secret.secretValue.unsafeUnwrap()}/${path}`;
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
    this.manifest = new eks.KubernetesManifest(this, 'Webhooks', { cluster: props.cluster, manifest: [mutating, validating], overwrite: true });
    // The endpoint, its permissions and the secret exist before the API server is pointed at them.
    this.manifest.node.addDependency(this.function, this.secret);
  }
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
