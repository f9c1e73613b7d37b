import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  DEFAULT_CALL_BACK_DELAY_SECONDS, DEFAULT_METRICS_NAMESPACE, DEFAULT_SIGNATURE_WAIT_SECONDS, ENV, HANDLER_NAME,
} from './handlers/config';
import { ImageVerifierFunction, ImageVerifierFunctionProps } from './image-verifier-function';
import { checkEnforcingStatements } from './private/enforcing-statements';
import { inconclusiveActionName, modeName } from './private/notation-names';
import { checkServiceImages } from './private/scope-check';
import { withInternals } from './private/verifier-internals';
import { TrustPolicyStatement } from './trust-policy';
import { SignedImagesValidationError } from './validation-error';

/**
 * What the admission hook does with a rejected image.
 *
 * @example
 * import { AdmissionMode, EcsAdmissionHook } from 'cdk-signed-images';
 *
 * // Report rejected images while you adopt, then switch to ENFORCE.
 * new EcsAdmissionHook(this, 'Admission', { trustPolicy, mode: AdmissionMode.AUDIT, services: [fargateService] });
 */
export enum AdmissionMode {
  /** Refuse the deployment (`FAILED`: ECS rolls back to the last good revision). */
  ENFORCE = 'ENFORCE',
  /** Let the deployment continue (`SUCCEEDED`); rejections are logged and counted. */
  AUDIT = 'AUDIT',
}

/**
 * What the admission hook does when verification is inconclusive (registry or AWS API unavailable).
 *
 * @example
 * import { EcsAdmissionHook, InconclusiveAction } from 'cdk-signed-images';
 *
 * // Fail open when the registry or AWS Signer cannot be reached (logged and counted as inconclusive).
 * new EcsAdmissionHook(this, 'Admission', { trustPolicy, inconclusiveAction: InconclusiveAction.ADMIT });
 */
export enum InconclusiveAction {
  /** Refuse the deployment (fail closed). */
  REJECT = 'REJECT',
  /** Let the deployment continue (fail open); the result is logged and counted as inconclusive. */
  ADMIT = 'ADMIT',
}

/**
 * What an ENFORCE admission hook does with a container whose service-revision entry has no
 * `imageDigest` (ECS version consistency is turned off for it, so the hook cannot know which image
 * its tasks will pull).
 *
 * @example
 * import { EcsAdmissionHook, UnpinnedImageAction } from 'cdk-signed-images';
 *
 * new EcsAdmissionHook(this, 'Admission', { trustPolicy, unpinnedImages: UnpinnedImageAction.VERIFY_CURRENT_DIGEST });
 */
export enum UnpinnedImageAction {
  /** Refuse the deployment, naming the container and the fix (enable version consistency, or pin `@sha256:`). */
  REJECT = 'REJECT',
  /**
   * Verify the digest the tag names now, every round (logged as a warning). Weaker: tasks started
   * later pull whatever the tag names then, which the hook never saw.
   */
  VERIFY_CURRENT_DIGEST = 'VERIFY_CURRENT_DIGEST',
}

/**
 * Properties of an `EcsAdmissionHook`: the verifier function's (`ImageVerifierFunctionProps`) plus
 * the hook's mode, inconclusive action, services and timing.
 *
 * @example
 * import { AdmissionMode, EcsAdmissionHook, InconclusiveAction } from 'cdk-signed-images';
 *
 * new EcsAdmissionHook(this, 'Admission', {
 *   trustPolicy,
 *   mode: AdmissionMode.ENFORCE,
 *   inconclusiveAction: InconclusiveAction.REJECT,
 *   services: [fargateService],
 *   signatureWait: cdk.Duration.minutes(2),
 *   rejectionAlarm: true,
 * });
 */
export interface EcsAdmissionHookProps extends ImageVerifierFunctionProps {
  /**
   * ENFORCE refuses deployments with a rejected image; AUDIT only reports.
   * @default AdmissionMode.ENFORCE
   */
  readonly mode?: AdmissionMode;

  /**
   * What to do when a verification is inconclusive, in ENFORCE mode (AUDIT always admits).
   * @default InconclusiveAction.REJECT - fail closed
   */
  readonly inconclusiveAction?: InconclusiveAction;

  /**
   * Services to attach the hook to now; more can be attached with `attachTo`.
   * @default - none
   */
  readonly services?: ecs.BaseService[];

  /**
   * Delay before ECS invokes the hook again after an `IN_PROGRESS` answer (when the images could not
   * all be verified before the Lambda timeout).
   * @default Duration.seconds(5)
   */
  readonly callBackDelay?: Duration;

  /**
   * How long the hook waits, in ENFORCE mode, for a signature to appear on an image that has none
   * yet. ECR managed signing signs asynchronously, a few seconds after the push, so a pipeline that
   * pushes and deploys at once would otherwise be refused. While waiting the hook answers
   * `IN_PROGRESS` every `callBackDelay` and verifies the image again; when the time is up it answers
   * `FAILED`. Only "no signature" is waited for: any other rejection fails at once. AUDIT mode never
   * waits. Between 0 (no waiting) and 60 minutes, whole seconds, at least `callBackDelay` when not 0.
   * @default Duration.minutes(2)
   */
  readonly signatureWait?: Duration;

  /**
   * What an ENFORCE hook does with a container the service revision names by tag only (no
   * `imageDigest`: ECS version consistency is off for it). AUDIT verifies the tag's current digest
   * and reports the image as unpinned.
   * @default UnpinnedImageAction.REJECT
   */
  readonly unpinnedImages?: UnpinnedImageAction;

  /**
   * Make it a synth error, instead of a warning, when an ENFORCE hook's trust policy has a statement
   * that does not enforce authenticity (level `audit` or `skip`, or an `authenticity` override of
   * `log` or `skip`): such a statement admits images signed by anyone.
   * @default false - a synth-time warning
   */
  readonly failOnNonEnforcingStatements?: boolean;
}

/**
 * Verifies every container image of an ECS service deployment before it scales up: a
 * `PRE_SCALE_UP` deployment lifecycle hook backed by an `ImageVerifierFunction`.
 *
 * One function serves every service attached with `attachTo`. The services must use the ECS
 * deployment controller.
 *
 * @example
 * import { AdmissionMode, EcsAdmissionHook, SignedRegistry, TrustPolicy } from 'cdk-signed-images';
 *
 * const signed = new SignedRegistry(this, 'Registry', { repositoryName: 'team/app' });
 * signed.grantPushAndSign(ciRole);
 * const hook = new EcsAdmissionHook(this, 'Admission', {
 *   trustPolicy: TrustPolicy.fromSigningProfiles(signed),
 *   mode: AdmissionMode.ENFORCE,
 * });
 * hook.attachTo(fargateService);
 */
export class EcsAdmissionHook extends Construct {
  /** The verifier function the hook invokes. */
  public readonly function: ImageVerifierFunction;
  /** The mode the hook runs in. */
  public readonly mode: AdmissionMode;
  private readonly attached = new Set<ecs.BaseService>();
  private readonly scopeCheck: { statements: TrustPolicyStatement[]; exemptions: string[]; unpinned: UnpinnedImageAction };

  /**
   * @param scope the parent construct
   * @param id the construct id
   * @param props the trust policy, mode, services and function settings
   */
  public constructor(scope: Construct, id: string, props: EcsAdmissionHookProps) {
    super(scope, id);
    this.mode = props.mode ?? AdmissionMode.ENFORCE;
    const mode = modeName(this.mode, this);
    const inconclusive = inconclusiveActionName(props.inconclusiveAction ?? InconclusiveAction.REJECT, this);
    const callBackDelay = props.callBackDelay?.toSeconds() ?? DEFAULT_CALL_BACK_DELAY_SECONDS;
    if (!Number.isInteger(callBackDelay) || callBackDelay < 1 || callBackDelay > 900) {
      throw new SignedImagesValidationError(`callBackDelay must be between 1 second and 15 minutes, got ${callBackDelay} s`, this);
    }
    const signatureWait = signatureWaitSeconds(this, props.signatureWait, callBackDelay);
    const unpinned = props.unpinnedImages ?? UnpinnedImageAction.REJECT;
    if (unpinned !== UnpinnedImageAction.REJECT && unpinned !== UnpinnedImageAction.VERIFY_CURRENT_DIGEST) {
      throw new SignedImagesValidationError(`unpinnedImages must be REJECT or VERIFY_CURRENT_DIGEST, got ${JSON.stringify(unpinned)}`, this);
    }
    if (this.mode === AdmissionMode.ENFORCE) {
      checkEnforcingStatements(this, props.trustPolicy.statements, props.failOnNonEnforcingStatements ?? false);
    }
    this.function = new ImageVerifierFunction(this, 'Function', withInternals(props, {
      handlerName: HANDLER_NAME.ADMISSION_HOOK,
      config: {
        mode,
        inconclusiveAction: inconclusive,
        callBackDelaySeconds: callBackDelay,
        signatureWaitSeconds: signatureWait,
        unpinnedImages: unpinned,
      },
      // Read by the handler when its config cannot be loaded: AUDIT still answers SUCCEEDED, and the
      // ConfigurationErrors metric lands in the namespace the construct's alarm watches.
      environment: {
        [ENV.ADMISSION_MODE]: mode,
        [ENV.METRICS_NAMESPACE]: props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
      },
    }));
    this.scopeCheck = { statements: props.trustPolicy.statements, exemptions: [...(props.exemptions ?? [])], unpinned };
    // Synth-time scope check of the attached services' images, once the tree is complete (containers
    // may be added after attachTo). Advisory only: annotations on the services, never an error.
    let checked = false;
    this.node.addValidation({
      validate: () => {
        if (!checked) {
          checked = true;
          for (const service of this.attached) this.checkImages(service);
        }
        return [];
      },
    });
    for (const service of props.services ?? []) this.attachTo(service);
  }

  /**
   * Attaches the hook to a service at `PRE_SCALE_UP` and lets the function read service revisions
   * with `ecs:DescribeServiceRevisions`, granted on the ARNs `service/<cluster>/<name>` and
   * `service-revision/<cluster>/<name>/*`: `<name>` is the service's `serviceName` when it is a
   * literal, else `*` (every service of the service's cluster). A name CloudFormation generates is
   * known only once the service exists, and the service depends on the function (its hook target),
   * so naming it in the function's policy would be a dependency cycle. Give the service a literal
   * `serviceName` to scope the grant to that service.
   *
   * @param service an ECS service (Fargate or EC2) that uses the ECS deployment controller
   */
  public attachTo(service: ecs.BaseService): void {
    if (this.attached.has(service)) return;
    this.attached.add(service);
    service.addLifecycleHook(new ecs.DeploymentLifecycleLambdaTarget(this.function, `SignedImagesHook${this.node.addr.slice(0, 8)}`, {
      lifecycleStages: [ecs.DeploymentLifecycleStage.PRE_SCALE_UP],
    }));
    // Scope: the service's cluster, and the service when its name is a literal. The service's own
    // ARN/name cannot be used: the service depends on the function (hook target), and the function
    // on its policy, so a reference back to the service would be a dependency cycle.
    const stack = Stack.of(this);
    const cfn = service.node.defaultChild as ecs.CfnService | undefined;
    const literalName = cfn && typeof cfn.serviceName === 'string' && !Token.isUnresolved(cfn.serviceName) ? cfn.serviceName : undefined;
    const cluster = service.cluster.clusterName;
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeServiceRevisions'],
      resources: [
        stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${cluster}/${literalName ?? '*'}` }),
        stack.formatArn({ service: 'ecs', resource: 'service-revision', resourceName: `${cluster}/${literalName ?? '*'}/*` }),
      ],
    }));
  }

  /** Warns on the service about images this hook's trust policy does not cover, and unpinned images ENFORCE refuses. */
  private checkImages(service: ecs.BaseService): void {
    const enforce = this.mode === AdmissionMode.ENFORCE;
    checkServiceImages(service, {
      owner: `${this.mode} admission hook ${this.node.path}`,
      severity: enforce ? 'refuse' : 'report',
      consequence: enforce
        ? 'the service\'s next deployment will be refused (NO_APPLICABLE_TRUST_POLICY)'
        : 'AUDIT admits it but reports it as Rejected, and ENFORCE would refuse the deployment',
      refuseUnpinned: enforce && this.scopeCheck.unpinned === UnpinnedImageAction.REJECT,
      statements: this.scopeCheck.statements,
      exemptions: this.scopeCheck.exemptions,
    });
  }
}

/** Validates `signatureWait` and returns it in seconds. */
function signatureWaitSeconds(scope: Construct, wait: Duration | undefined, callBackDelay: number): number {
  if (wait === undefined) return DEFAULT_SIGNATURE_WAIT_SECONDS;
  if (wait.isUnresolved()) {
    throw new SignedImagesValidationError('signatureWait must be a literal duration (it is written into the function\'s asset), got a deploy-time token', scope);
  }
  const ms = wait.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms) || ms < 0 || ms > 3_600_000 || ms % 1000 !== 0) {
    throw new SignedImagesValidationError(`signatureWait must be whole seconds between 0 and 60 minutes, got ${wait.toHumanString()}`, scope);
  }
  const seconds = ms / 1000;
  if (seconds > 0 && seconds < callBackDelay) {
    throw new SignedImagesValidationError(`signatureWait (${seconds} s) is shorter than callBackDelay (${callBackDelay} s), so the hook could never wait: use at least callBackDelay, or Duration.seconds(0) to disable waiting`, scope);
  }
  return seconds;
}
