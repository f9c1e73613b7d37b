/**
 * Synth-time scope check: which container images of a service no trust-policy statement covers and no
 * exemption matches (the verifier would refuse them: `NO_APPLICABLE_TRUST_POLICY`), and which ENFORCE
 * would refuse as unpinned (ECS version consistency off). Only advisory: the runtime decides.
 *
 * Images are read from the task definition's `ContainerDefinition`s (`imageName`, a string that may
 * hold deploy-time tokens). A repository URI with tokens is compared component by component
 * (account, region, repository name), each resolved to its CloudFormation form, so the same
 * repository referenced twice (a `SignedRegistry`'s repository used by `fromEcrRepository`) matches,
 * and two different repositories do not.
 */
import { Annotations, ArnFormat, IResolvable, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { IConstruct } from 'constructs';
import type { TrustPolicyStatement } from '../trust-policy';
import { canonicalExemption, canonicalScope, globToRegExp, matchExemption, parseEcrRegistry, parseReference, repositoryScope } from '../verifier';

/** Warning id of an image no statement covers (acknowledge with `Annotations.acknowledgeWarning`). */
export const UNCOVERED_IMAGE_WARNING = 'cdk-signed-images:imageOutsideTrustPolicy';
/** Warning id of an unpinned image an ENFORCE hook will refuse. */
export const UNPINNED_IMAGE_WARNING = 'cdk-signed-images:unpinnedImage';

/** Three-valued answer of a comparison whose operands may be deploy-time values. */
export type Match3 = 'same' | 'differ' | 'maybe';

/** A private ECR repository reference split into its parts, each resolved (string or intrinsic). */
interface EcrParts {
  readonly account: unknown;
  readonly region: unknown;
  readonly name: unknown;
}

/** One container image as known at synth. */
export interface ContainerImageInfo {
  readonly containerName: string;
  /** `imageName` of the container (may hold tokens). */
  readonly imageName: string;
  /** The image as shown in messages (tokens resolved to their CloudFormation form, shortened). */
  readonly display: string;
  /** The ECR repository behind the image, when the construct tree tells (`fromEcrRepository`, assets). */
  readonly repository?: ecr.IRepository;
  /** A `fromAsset` image (CDK's bootstrap asset repository). */
  readonly asset: boolean;
  /** The reference names a digest (`@sha256:...`). */
  readonly pinnedByDigest: boolean;
  /**
   * ECS version consistency is disabled for the container: the value aws-cdk-lib renders (its docs say
   * assets default to disabled; 2.276 renders nothing, i.e. enabled, unless set explicitly).
   */
  readonly versionConsistencyDisabled: boolean;
}

export type Coverage =
  | { readonly kind: 'covered'; readonly statement: string }
  | { readonly kind: 'exempt'; readonly exemption: string }
  | { readonly kind: 'uncovered' }
  | { readonly kind: 'unknown'; readonly why: string }
  | { readonly kind: 'invalid'; readonly why: string };

/** The containers of a task definition and their images. */
export function containerImagesOf(taskDefinition: ecs.TaskDefinition): ContainerImageInfo[] {
  const stack = Stack.of(taskDefinition);
  const out: ContainerImageInfo[] = [];
  for (const child of taskDefinition.node.children) {
    if (!(child instanceof ecs.ContainerDefinition)) continue;
    const imageName = child.imageName;
    const assetChild = child.node.tryFindChild('AssetImage');
    const asset = assetChild instanceof ecrAssets.DockerImageAsset;
    // Private fields of aws-cdk-lib's EcrImage / TagParameterContainerImage; read defensively.
    const image = (child as unknown as { props?: { image?: unknown } }).props?.image as { repository?: unknown } | undefined;
    let repository: ecr.IRepository | undefined;
    if (asset) repository = (assetChild as ecrAssets.DockerImageAsset).repository;
    else if (image && isRepository(image.repository)) repository = image.repository;
    const vc = (child as unknown as { versionConsistency?: unknown }).versionConsistency;
    const marked = withPlaceholders(imageName).text;
    out.push({
      containerName: child.containerName,
      imageName,
      display: displayOf(stack, imageName) + (repository && Token.isUnresolved(imageName) ? ` (repository ${repository.node.path})` : ''),
      repository,
      asset,
      pinnedByDigest: /@(sha256:|\u0001)/.test(marked),
      versionConsistencyDisabled: vc === ecs.VersionConsistency.DISABLED,
    });
  }
  return out;
}

function isRepository(x: unknown): x is ecr.IRepository {
  return typeof x === 'object' && x !== null && typeof (x as ecr.IRepository).repositoryArn === 'string'
    && typeof (x as ecr.IRepository).repositoryName === 'string';
}

/** The string with each token replaced by `\u0001<n>\u0001` (no `/`, `:`, `@` or `.` inside), and the tokens. */
function withPlaceholders(s: string): { text: string; tokens: IResolvable[] } {
  const fragments = Tokenization.reverseString(s);
  const tokens = fragments.tokens;
  let n = 0;
  const marked = fragments.mapTokens({ mapToken: () => `\u0001${n++}\u0001` });
  const text = marked.length === 0 ? '' : String(marked.join({ join: (left: unknown, right: unknown) => `${left ?? ''}${right ?? ''}` }));
  return { text, tokens };
}

/** A readable form of a possibly tokenised image name. */
function displayOf(stack: Stack, imageName: string): string {
  if (!Token.isUnresolved(imageName)) return imageName;
  const { text, tokens } = withPlaceholders(imageName);
  return text.replace(/\u0001([0-9]+)\u0001/g, (_m, i) => `\${${describeToken(stack, tokens[Number(i)])}}`);
}

function describeToken(stack: Stack, token: IResolvable | undefined): string {
  if (!token) return '?';
  let v: unknown;
  try {
    v = stack.resolve(token);
  } catch {
    return 'token';
  }
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return o.Ref;
    if (Array.isArray(o['Fn::GetAtt'])) return (o['Fn::GetAtt'] as string[]).join('.');
    const k = Object.keys(o)[0];
    if (k) return k;
  }
  return 'token';
}

/** Resolves one part of a split reference: a literal, or the CloudFormation form of its tokens. */
function resolvePart(stack: Stack, text: string, tokens: IResolvable[]): unknown {
  if (!/\u0001/.test(text)) return text;
  const pieces = text.split(/\u0001([0-9]+)\u0001/);
  if (pieces.length === 3 && pieces[0] === '' && pieces[2] === '') return safeResolve(stack, tokens[Number(pieces[1])]);
  return pieces.map((p, i) => (i % 2 === 0 ? p : safeResolve(stack, tokens[Number(p)])));
}

function safeResolve(stack: Stack, x: unknown): unknown {
  try {
    return stack.resolve(x);
  } catch {
    return { unresolvable: String(x) };
  }
}

const ECR_TOKENISED = /^([^/]+)\.dkr\.ecr(?:-fips)?\.([^/]+?)\.([^/]+)\/([^:@]+)(?::[^@]*)?(?:@.*)?$/;

/** The ECR parts of a possibly tokenised `registry/repository[:tag][@digest]`, if it looks like ECR. */
export function ecrPartsOf(stack: Stack, s: string): EcrParts | undefined {
  if (!Token.isUnresolved(s)) {
    const slash = s.indexOf('/');
    if (slash <= 0) return undefined;
    const registry = parseEcrRegistry(s.slice(0, slash));
    if (!registry) return undefined;
    const rest = s.slice(slash + 1).replace(/@.*$/, '').replace(/:[^/]*$/, '');
    return { account: registry.accountId, region: registry.region, name: rest };
  }
  const { text, tokens } = withPlaceholders(s);
  // The region part is a token or a literal region name; with tokens, the suffix is `<token>` or a literal.
  const m = ECR_TOKENISED.exec(text);
  if (!m) return undefined;
  let region = m[2];
  // `<region>.<suffix>` split lazily: a literal region name never holds a dot.
  if (region.includes('.')) region = region.slice(0, region.indexOf('.'));
  return { account: resolvePart(stack, m[1], tokens), region: resolvePart(stack, region, tokens), name: resolvePart(stack, m[4], tokens) };
}

/** The parts of an `ecr.IRepository`, from its ARN and name. */
function repositoryParts(stack: Stack, repository: ecr.IRepository): EcrParts {
  let account: unknown = repository.env?.account;
  let region: unknown = repository.env?.region;
  if (!Token.isUnresolved(repository.repositoryArn)) {
    const arn = Stack.of(repository).splitArn(repository.repositoryArn, ArnFormat.SLASH_RESOURCE_NAME);
    account = arn.account;
    region = arn.region;
  }
  return {
    account: safeResolve(stack, account),
    region: safeResolve(stack, region),
    name: safeResolve(stack, repository.repositoryName),
  };
}

function isLiteral(v: unknown): v is string {
  return typeof v === 'string';
}

/**
 * The identity of a reference to one resource: a `Ref` to a resource of the template (not a pseudo
 * parameter), or the `Fn::ImportValue` aws-cdk-lib writes for a cross-stack `Ref`
 * (`<stack>:ExportsOutputRef<logical id>...`). Two different identities are two resources.
 */
function resourceRef(v: unknown): string | undefined {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string' && !o.Ref.startsWith('AWS::')) return `ref:${o.Ref}`;
    const imported = o['Fn::ImportValue'];
    if (typeof imported === 'string' && /:ExportsOutputRef/.test(imported)) return `import:${imported}`;
  }
  return undefined;
}

function comparePart(a: unknown, b: unknown, lower: boolean): Match3 {
  if (isLiteral(a) && isLiteral(b)) return (lower ? a.toLowerCase() === b.toLowerCase() : a === b) ? 'same' : 'differ';
  if (JSON.stringify(a) === JSON.stringify(b)) return 'same';
  // Two different repository resources are two repositories.
  const ra = resourceRef(a);
  const rb = resourceRef(b);
  if (ra !== undefined && rb !== undefined && ra.split(':')[0] === rb.split(':')[0]) return 'differ';
  return 'maybe';
}

/** Whether two ECR repositories are the same; the DNS suffix follows the region and is not compared. */
export function compareEcr(a: EcrParts, b: EcrParts): Match3 {
  const parts = [comparePart(a.name, b.name, false), comparePart(a.account, b.account, false), comparePart(a.region, b.region, true)];
  if (parts.includes('differ')) return 'differ';
  return parts.every((p) => p === 'same') ? 'same' : 'maybe';
}

/** The repositories a statement carries (set by `TrustPolicy.fromSigningProfiles` from `SignedRegistry`s). */
function statementRepositories(statement: TrustPolicyStatement): ecr.IRepository[] {
  const r = (statement as { repositories?: unknown }).repositories;
  return Array.isArray(r) ? r.filter(isRepository) : [];
}

/**
 * Whether a statement or an exemption covers an image. Statements are matched as the verifier selects
 * them (canonical scopes, `*` covers everything, any level, `skip` included); exemptions as the
 * handlers match them (canonical `registry/repository` and full reference).
 */
export function coverageOf(
  stack: Stack, image: ContainerImageInfo, statements: readonly TrustPolicyStatement[], exemptions: readonly string[],
): Coverage {
  const literal = !Token.isUnresolved(image.imageName);
  let literalScope: string | undefined;
  if (literal) {
    try {
      literalScope = repositoryScope(parseReference(image.imageName));
    } catch (e) {
      return { kind: 'invalid', why: (e as Error).message };
    }
  }
  // The repository's parts two ways: from its ARN/env and name, and from its URI as written in the
  // image name (the form a scope holding `repositoryUri` has); either agreeing with a scope is enough.
  const fromName = ecrPartsOf(stack, image.imageName);
  const partsVariants = [...(image.repository ? [repositoryParts(stack, image.repository)] : []), ...(fromName ? [fromName] : [])];
  const imageParts: EcrParts | undefined = partsVariants[0];
  let maybe: string | undefined;

  for (const statement of statements) {
    for (const repository of statementRepositories(statement)) {
      if (image.repository !== undefined && repository === image.repository) return { kind: 'covered', statement: statement.name };
    }
    for (const scope of statement.registryScopes) {
      if (scope === '*') return { kind: 'covered', statement: statement.name };
      if (literalScope !== undefined && !Token.isUnresolved(scope)) {
        if (canonicalScope(scope) === literalScope) return { kind: 'covered', statement: statement.name };
        continue;
      }
      // A token on either side: compare as ECR repositories, part by part.
      const scopeParts = ecrPartsOf(stack, scope);
      if (!scopeParts || !imageParts) {
        if (!scopeParts && Token.isUnresolved(scope)) maybe ??= `registry scope ${displayOf(stack, scope)} of statement "${statement.name}" is only known at deploy time`;
        else if (!imageParts && !literal) maybe ??= 'the image name is only known at deploy time';
        continue;
      }
      const answers = partsVariants.map((p) => compareEcr(p, scopeParts));
      const c: Match3 = answers.includes('same') ? 'same' : answers.includes('differ') ? 'differ' : 'maybe';
      if (c === 'same') return { kind: 'covered', statement: statement.name };
      if (c === 'maybe') maybe ??= `its repository and registry scope ${displayOf(stack, scope)} of statement "${statement.name}" are only partly known at synth`;
    }
  }

  if (exemptions.length > 0) {
    if (literal) {
      const hit = matchExemption(exemptions.map((g) => globToRegExp(canonicalExemption(g))), exemptions, image.imageName);
      if (hit !== undefined) return { kind: 'exempt', exemption: hit };
    } else if (exemptions.some((g) => exemptionMayMatch(g, imageParts))) {
      maybe ??= 'an exemption may match it (its registry is only known at deploy time)';
    }
  }
  return maybe !== undefined ? { kind: 'unknown', why: maybe } : { kind: 'uncovered' };
}

/** Whether an exemption glob could match a tokenised ECR image: its repository part matches the name, if literal. */
function exemptionMayMatch(glob: string, parts: EcrParts | undefined): boolean {
  const slash = glob.indexOf('/');
  if (slash <= 0) return globToRegExp(glob).test('x');
  const host = glob.slice(0, slash);
  const path = glob.slice(slash + 1);
  if (!/[*?]/.test(host) && !parseEcrRegistry(host)) return false; // a literal non-ECR host never names an ECR image
  if (!parts || !isLiteral(parts.name)) return true;
  return globToRegExp(path).test(parts.name) || globToRegExp(path.replace(/:[^/]*$/, '').replace(/@.*$/, '')).test(parts.name);
}

/** What checks an owner (hook or audit) runs on a service's images. */
export interface ScopeCheckOptions {
  /** Who asks, for the messages: e.g. `ENFORCE admission hook Test/Admission`. */
  readonly owner: string;
  /** `refuse`: an uncovered image is a warning (the deployment will be refused or the task stopped); `report`: an info note. */
  readonly severity: 'refuse' | 'report';
  /** What happens to an uncovered image, for the messages. */
  readonly consequence: string;
  /** Warn about unpinned images (ENFORCE hook with `unpinnedImages: REJECT`). */
  readonly refuseUnpinned: boolean;
  readonly statements: readonly TrustPolicyStatement[];
  readonly exemptions: readonly string[];
}

/** Runs the checks on every container of the service's task definition; annotates the service. */
export function checkServiceImages(service: ecs.BaseService, options: ScopeCheckOptions): void {
  const stack = Stack.of(service);
  const notes = Annotations.of(service);
  for (const image of containerImagesOf(service.taskDefinition)) {
    const what = `container "${image.containerName}" uses image ${image.display}${image.asset ? ' (an asset image in CDK\'s bootstrap asset repository)' : ''}`;
    const coverage = coverageOf(stack, image, options.statements, options.exemptions);
    let problem: string | undefined;
    if (coverage.kind === 'uncovered') {
      problem = `${what}, which no statement of the trust policy of ${options.owner} covers and no exemption matches: ${options.consequence}. ${fixFor(image, stack)}`;
    } else if (coverage.kind === 'invalid') {
      problem = `${what}, which the verifier cannot parse (${coverage.why}): ${options.consequence}. Write the full reference (registry host included, e.g. docker.io/library/nginx:1.27 rather than nginx:1.27)`;
    } else if (coverage.kind === 'unknown') {
      notes.addInfo(`${options.owner}: could not check at synth whether the trust policy covers ${what}: ${coverage.why}`);
    }
    if (problem !== undefined) {
      if (options.severity === 'refuse') notes.addWarningV2(UNCOVERED_IMAGE_WARNING, problem);
      else notes.addInfo(problem);
    }
    if (options.refuseUnpinned && image.versionConsistencyDisabled && !image.pinnedByDigest && coverage.kind !== 'exempt') {
      notes.addWarningV2(UNPINNED_IMAGE_WARNING,
        `${what} with ECS version consistency disabled, so the service revision names it by tag only and ${options.owner} will refuse the next deployment (unpinnedImages: REJECT). Fix: versionConsistency: ecs.VersionConsistency.ENABLED on the container, pin the image by digest (@sha256:...), or unpinnedImages: UnpinnedImageAction.VERIFY_CURRENT_DIGEST`);
    }
  }
}

function fixFor(image: ContainerImageInfo, stack: Stack): string {
  if (!Token.isUnresolved(image.imageName)) {
    let scope: string | undefined;
    try {
      scope = repositoryScope(parseReference(image.imageName));
    } catch {
      scope = undefined;
    }
    const ecrImage = scope !== undefined && parseEcrRegistry(scope.slice(0, scope.indexOf('/'))) !== undefined;
    if (ecrImage) {
      return `Fix: sign the repository with a SignedRegistry (repositories: [ecr.Repository.fromRepositoryName(...)]) and build the trust policy from it, or add "${scope}" to a statement's registryScopes`;
    }
    return `Fix: add "${scope}" to a statement's registryScopes with the identities that sign it, or, for a sidecar you do not sign (e.g. from public.ecr.aws), add the exemption "${scope}"`;
  }
  const name = image.repository ? displayOf(stack, image.repository.repositoryName) : 'the repository';
  return `Fix: sign ${name} with a SignedRegistry (repositories: [repository]) and build the trust policy from it (TrustPolicy.fromSigningProfiles), add its URI to a statement's registryScopes, or exempt it`;
}

/**
 * The services of the app whose tasks the task audit in `auditor`'s stack sees: those on the given
 * clusters, or, without clusters, every service of the same account and region (an environment
 * that is not literal on either side matches).
 */
export function servicesInApp(auditor: IConstruct, clusters: readonly ecs.ICluster[] | undefined): ecs.BaseService[] {
  const services = auditor.node.root.node.findAll().filter((c): c is ecs.BaseService => c instanceof ecs.BaseService);
  if (!clusters || clusters.length === 0) {
    const here = Stack.of(auditor);
    return services.filter((s) => sameEnvPart(Stack.of(s).account, here.account) && sameEnvPart(Stack.of(s).region, here.region));
  }
  return services.filter((s) => clusters.some((c) => sameCluster(s.cluster, c)));
}

function sameCluster(a: ecs.ICluster, b: ecs.ICluster): boolean {
  if (a === b) return true;
  const sa = Stack.of(a);
  return JSON.stringify(safeResolve(sa, a.clusterArn)) === JSON.stringify(safeResolve(sa, b.clusterArn))
    || (!Token.isUnresolved(a.clusterName) && a.clusterName === b.clusterName);
}

function sameEnvPart(a: string, b: string): boolean {
  return Token.isUnresolved(a) || Token.isUnresolved(b) || a === b;
}
