import { X509Certificate } from 'crypto';
import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as signer from 'aws-cdk-lib/aws-signer';
import { Construct, IConstruct } from 'constructs';
import { actionName, levelName, storeTypeName, timestampName } from './private/notation-names';
import { NOTATION_PLATFORM, PROFILE_OR_VERSION_ARN, profileArnError, repairImportedProfileArn } from './private/signer-arn';
import { SignedImagesValidationError } from './validation-error';
import {
  AWS_SIGNER_GOVCLOUD_ROOT_PEM, AWS_SIGNER_ROOT_PEM, checkTrustStoreCertificate, goQuote, parseCertificate, TRUST_STORE_NAME_PATTERN,
  validateTrustPolicy,
} from './verifier';
import type { NotationTrustPolicy } from './verifier';

/**
 * How strictly a signature is verified (the `signatureVerification.level` of a notation trust
 * policy statement: `strict`, `permissive`, `audit`, `skip`).
 *
 * Each level fixes the action of every check; `overrides` in a statement can change some of them.
 *
 * @see https://github.com/notaryproject/specifications/blob/main/specs/trust-store-trust-policy.md
 *
 * @example
 * import { TrustPolicy, VerificationLevel } from 'cdk-signed-images';
 *
 * const policy = TrustPolicy.fromSigningProfiles(registry);
 * // An OpenTelemetry sidecar the team does not sign: admitted without verification.
 * policy.addStatement({
 *   name: 'otel-sidecar',
 *   registryScopes: ['public.ecr.aws/aws-observability/aws-otel-collector'],
 *   level: VerificationLevel.SKIP,
 * });
 */
export enum VerificationLevel {
  /** `strict`: every check is enforced: integrity, authenticity, authentic timestamp, expiry, revocation. */
  STRICT = 'STRICT',
  /** `permissive`: integrity and authenticity are enforced; authentic timestamp, expiry and revocation are logged. */
  PERMISSIVE = 'PERMISSIVE',
  /** `audit`: only integrity is enforced; every other check is logged. */
  AUDIT = 'AUDIT',
  /**
   * `skip`: no verification at all. A `skip` statement has no trust stores, no trusted identities and
   * no overrides, and cannot use the `*` registry scope.
   */
  SKIP = 'SKIP',
}

/**
 * What a verifier does when a single check fails (a value of `signatureVerification.override`:
 * `enforce`, `log`, `skip`).
 *
 * @example
 * import { TrustedIdentity, TrustPolicy, TrustStore, VerificationAction, VerificationLevel } from 'cdk-signed-images';
 *
 * const policy = new TrustPolicy({
 *   statements: [{
 *     name: 'release',
 *     registryScopes: registry.repositoryUris,
 *     repositories: registry.repositories,
 *     level: VerificationLevel.STRICT,
 *     // Admit images whose revocation status cannot be fetched; log it instead.
 *     overrides: { revocation: VerificationAction.LOG },
 *     trustStores: [TrustStore.AWS_SIGNER],
 *     trustedIdentities: [TrustedIdentity.fromSigningProfile(registry)],
 *   }],
 * });
 */
export enum VerificationAction {
  /** `enforce`: a failure of the check fails the verification. */
  ENFORCE = 'ENFORCE',
  /** `log`: a failure of the check is logged; verification goes on. */
  LOG = 'LOG',
  /** `skip`: the check is not run. Only `revocation` can be skipped. */
  SKIP = 'SKIP',
}

/**
 * When the RFC 3161 timestamp countersignature is verified (`signatureVerification.verifyTimestamp`:
 * `always`, `afterCertExpiry`).
 *
 * @example
 * import { TimestampVerification, TrustedIdentity, TrustPolicy, TrustStore, TrustStoreType } from 'cdk-signed-images';
 *
 * const policy = new TrustPolicy({
 *   statements: [{
 *     name: 'x509-release',
 *     registryScopes: ['registry.example.com/team/app'],
 *     trustStores: [
 *       TrustStore.fromPem(TrustStoreType.CA, 'release-ca', rootCertificatePem),
 *       TrustStore.fromPem(TrustStoreType.TSA, 'timestamping', rootCertificatePem),
 *     ],
 *     trustedIdentities: [TrustedIdentity.fromX509Subject('C=US, ST=WA, O=Example Corp')],
 *     verifyTimestamp: TimestampVerification.AFTER_CERT_EXPIRY,
 *   }],
 * });
 */
export enum TimestampVerification {
  /** `always`: verify the timestamp whenever a `tsa` trust store is configured (notation's default). */
  ALWAYS = 'ALWAYS',
  /** `afterCertExpiry`: verify the timestamp only once a certificate of the signing chain has expired. */
  AFTER_CERT_EXPIRY = 'AFTER_CERT_EXPIRY',
}

/**
 * The type of a notation trust store (the first part of `type:name`: `ca`, `signingAuthority`, `tsa`).
 *
 * @example
 * import { TrustStore, TrustStoreType } from 'cdk-signed-images';
 *
 * const releaseCa = TrustStore.fromPem(TrustStoreType.CA, 'release-ca', rootCertificatePem);
 */
export enum TrustStoreType {
  /** `ca`: root CAs for signatures with the `notary.x509` signing scheme. */
  CA = 'CA',
  /** `signingAuthority`: signing authorities (`notary.x509.signingAuthority`), e.g. AWS Signer. */
  SIGNING_AUTHORITY = 'SIGNING_AUTHORITY',
  /** `tsa`: root CAs of RFC 3161 timestamping authorities. */
  TSA = 'TSA',
}

/**
 * A named set of trusted root certificates, referenced from trust policy statements as `type:name`.
 *
 * The certificates travel with the policy (see `TrustPolicy.trustStoreCertificates()`), so the
 * verifier needs no file system trust store.
 *
 * @example
 * import { TrustStore, TrustStoreType } from 'cdk-signed-images';
 *
 * // AWS Signer's root ships with the library.
 * const awsSigner = TrustStore.AWS_SIGNER;
 * // Your own root CA for notation's X.509 signing scheme.
 * const releaseCa = TrustStore.fromPem(TrustStoreType.CA, 'release-ca', rootCertificatePem);
 */
export class TrustStore {
  /**
   * AWS Signer in the commercial partition (`aws`): `signingAuthority:aws-signer-ts` holding
   * `CN=AWS Signer Code Signing Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US`.
   *
   * @see https://docs.aws.amazon.com/signer/latest/developerguide/image-signing-prerequisites.html
   */
  public static readonly AWS_SIGNER = new TrustStore(TrustStoreType.SIGNING_AUTHORITY, 'aws-signer-ts', AWS_SIGNER_ROOT_PEM);

  /**
   * AWS Signer in AWS GovCloud (US) (`aws-us-gov`): `signingAuthority:aws-us-gov-signer-ts` holding
   * `CN=AWS Signer Code Signing GovCloud (US) Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US`.
   *
   * @see https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/govcloud-Signer.html
   */
  public static readonly AWS_SIGNER_GOVCLOUD = new TrustStore(TrustStoreType.SIGNING_AUTHORITY, 'aws-us-gov-signer-ts', AWS_SIGNER_GOVCLOUD_ROOT_PEM);

  /**
   * A trust store made of your own PEM certificates.
   *
   * Every certificate must be a CA certificate or a self-signed certificate; certificates of a
   * `tsa` store must be self-signed root CAs.
   *
   * @param type the store type: `TrustStoreType.CA`, `SIGNING_AUTHORITY` or `TSA`
   * @param name store name, letters, digits, `_`, `.` and `-`
   * @param pem one or more PEM certificates (`-----BEGIN CERTIFICATE-----`)
   */
  public static fromPem(type: TrustStoreType, name: string, pem: string): TrustStore {
    storeTypeName(type);
    if (Token.isUnresolved(name)) {
      throw new SignedImagesValidationError('trust store name must not be a token: it is referenced by name in the trust policy');
    }
    if (!TRUST_STORE_NAME_PATTERN.test(name)) {
      throw new SignedImagesValidationError(`trust store name "${name}" is invalid: use letters, digits, '_', '.' and '-'`);
    }
    const bundle = Token.isUnresolved(pem) ? pem : checkPemBundle(type, name, pem);
    return new TrustStore(type, name, bundle);
  }

  /** The PEM bundle of the store's certificates. */
  public readonly certificates: string;

  private constructor(
    /** The type of the store. */
    public readonly type: TrustStoreType,
    /** The name of the store. */
    public readonly name: string,
    certificates: string,
  ) {
    this.certificates = certificates;
  }

  /** The reference used in trust policies, `type:name` (e.g. `signingAuthority:aws-signer-ts`). */
  public get reference(): string {
    return `${storeTypeName(this.type)}:${this.name}`;
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function checkPemBundle(type: TrustStoreType, name: string, pem: string): string {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const store = `${storeTypeName(type)}:${name}`;
  if (blocks.length === 0) {
    throw new SignedImagesValidationError(`trust store ${store}: no PEM certificate found`);
  }
  const out: string[] = [];
  for (const block of blocks) {
    if (block[1] !== 'CERTIFICATE') {
      throw new SignedImagesValidationError(`trust store ${store}: unexpected PEM block "${block[1]}", only CERTIFICATE is allowed`);
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block[0]);
    } catch (e) {
      throw new SignedImagesValidationError(`trust store ${store}: failed to parse certificate: ${(e as Error).message}`);
    }
    // The engine's rule, the one the runtime trust-store loader applies (a CA or self-signed; tsa: a root CA).
    const problem = trustStoreCertificateProblem(storeTypeName(type), cert.raw, store);
    if (problem?.rule === 'rootCa') {
      throw new SignedImagesValidationError(`trust store ${store}: certificate with subject ${goQuote(problem.subject)} is not a self-signed root CA certificate: ${problem.detail}`);
    }
    if (problem) throw new SignedImagesValidationError(`trust store ${store}: ${problem.message}`);
    out.push(block[0]);
  }
  return out.join('\n') + '\n';
}

function trustStoreCertificateProblem(type: string, der: Uint8Array, store: string) {
  try {
    return checkTrustStoreCertificate(type, parseCertificate(der));
  } catch (e) {
    throw new SignedImagesValidationError(`trust store ${store}: failed to parse certificate: ${(e as Error).message}`);
  }
}

/**
 * Something signed images come from: an AWS Signer signing profile, optionally with the
 * repositories it signs (`ISignedRepositorySource`).
 *
 * `SignedRegistry` implements it. For an aws-cdk-lib signing profile use
 * `SigningProfileSource.fromSigningProfile(profile)`, for a profile ARN
 * `SigningProfileSource.fromSigningProfileArn(arn)`.
 *
 * @example
 * import { SigningProfileSource, TrustPolicy } from 'cdk-signed-images';
 *
 * const policy = TrustPolicy.fromSigningProfiles(SigningProfileSource.fromSigningProfile(signingProfile));
 */
export interface ISigningProfileSource {
  /** ARN of the AWS Signer signing profile (not a profile version ARN). */
  readonly signingProfileArn: string;
}

/**
 * A signing profile together with the repositories whose images it signs. `SignedRegistry`
 * implements it.
 *
 * @example
 * import { ISignedRepositorySource, TrustPolicy } from 'cdk-signed-images';
 *
 * const source: ISignedRepositorySource = registry;
 * const policy = TrustPolicy.fromSigningProfiles(source);
 */
export interface ISignedRepositorySource extends ISigningProfileSource {
  /** URIs of the repositories (`<account>.dkr.ecr.<region>.<suffix>/<name>`). */
  readonly repositoryUris: string[];

  /**
   * The repositories themselves. A trust policy built from the source carries them, so verifiers
   * are granted ECR pull on exactly these repositories even when their URIs are deploy-time tokens.
   * May be empty when the repositories are not constructs of the app: literal ECR URIs are then
   * mapped to repository ARNs, and a token URI makes the grant `*` (with a synth warning).
   */
  readonly repositories: ecr.IRepository[];
}

/**
 * Signing profiles that are not a `SignedRegistry`, as `ISigningProfileSource`s for
 * `TrustPolicy.fromSigningProfiles` and `TrustedIdentity.fromSigningProfile`. A source made here
 * names no repositories, so a policy built from it alone has the `*` scope.
 *
 * @example
 * import { SigningProfileSource, TrustPolicy } from 'cdk-signed-images';
 *
 * const profile = new signer.SigningProfile(this, 'Profile', {
 *   platform: signer.Platform.NOTATION_OCI_SHA384_ECDSA,
 * });
 * const policy = TrustPolicy.fromSigningProfiles(
 *   SigningProfileSource.fromSigningProfile(profile),
 *   SigningProfileSource.fromSigningProfileArn('arn:aws:signer:us-east-1:111122223333:/signing-profiles/release'),
 * );
 */
export class SigningProfileSource {
  /**
   * An aws-cdk-lib signing profile: a `signer.SigningProfile` of the app (its `Arn` attribute), or
   * one imported with `signer.SigningProfile.fromSigningProfileAttributes` (whose
   * `signingProfileArn` has a doubled slash, `://signing-profiles/`; the source carries the
   * repaired ARN).
   *
   * A profile created in the app must use the `Notation-OCI-SHA384-ECDSA` platform
   * (`signer.Platform.NOTATION_OCI_SHA384_ECDSA`); another literal platform is a validation error.
   *
   * @param profile the signing profile
   */
  public static fromSigningProfile(profile: signer.ISigningProfile): ISigningProfileSource {
    if (!profile || typeof profile !== 'object' || typeof profile.signingProfileArn !== 'string') {
      throw new SignedImagesValidationError('SigningProfileSource.fromSigningProfile needs an aws_signer.ISigningProfile');
    }
    const resource = profile.node?.defaultChild;
    if (resource && CfnResource.isCfnResource(resource) && resource.cfnResourceType === 'AWS::Signer::SigningProfile') {
      const platform = (resource as signer.CfnSigningProfile).platformId;
      if (!Token.isUnresolved(platform) && platform !== NOTATION_PLATFORM) {
        throw new SignedImagesValidationError(`signing profile ${profile.node.path} uses the platform "${platform}"; `
          + `notation signatures need ${NOTATION_PLATFORM} (signer.Platform.NOTATION_OCI_SHA384_ECDSA)`, profile);
      }
    }
    return SigningProfileSource.fromSigningProfileArn(repairImportedProfileArn(profile.signingProfileArn));
  }

  /**
   * A signing profile by ARN, `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`
   * (not a profile version ARN). May be a deploy-time token.
   *
   * @param signingProfileArn the profile ARN
   */
  public static fromSigningProfileArn(signingProfileArn: string): ISigningProfileSource {
    if (typeof signingProfileArn !== 'string') {
      throw new SignedImagesValidationError(`signing profile ARN must be a string, got ${typeof signingProfileArn}`);
    }
    const error = profileArnError(signingProfileArn, 'a signing profile source needs');
    if (error) throw new SignedImagesValidationError(error);
    return { signingProfileArn };
  }

  private constructor() {}
}

/**
 * A trusted identity of a trust policy statement: who may have signed an image.
 *
 * @example
 * import { TrustedIdentity } from 'cdk-signed-images';
 *
 * const identities = [
 *   TrustedIdentity.fromSigningProfile(registry),
 *   TrustedIdentity.fromArn('arn:aws:signer:us-east-1:111122223333:/signing-profiles/release/a1b2c3d4e5'),
 *   TrustedIdentity.fromX509Subject('C=US, ST=WA, O=Example Corp'),
 * ];
 */
export class TrustedIdentity {
  /**
   * The AWS Signer signing profile of a `SignedRegistry` (or any source of a profile ARN): any
   * version of the profile is trusted.
   *
   * @param profile a `SignedRegistry`, or a source from `SigningProfileSource`
   */
  public static fromSigningProfile(profile: ISigningProfileSource): TrustedIdentity {
    return TrustedIdentity.fromArn(profile.signingProfileArn);
  }

  /**
   * An AWS Signer signing profile ARN (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`,
   * any version) or profile version ARN (`…/<name>/<version>`, that version only).
   *
   * @param arn the profile or profile version ARN; may be a deploy-time token
   */
  public static fromArn(arn: string): TrustedIdentity {
    if (!Token.isUnresolved(arn) && !PROFILE_OR_VERSION_ARN.test(arn)) {
      throw new SignedImagesValidationError(`trusted identity "${arn}" is not an AWS Signer signing profile ARN (arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>[/<version>])`);
    }
    return new TrustedIdentity(arn);
  }

  /**
   * An X.509 subject (RFC 4514 distinguished name) for `notary.x509` signatures. It must contain
   * C, ST and O; the signing certificate's subject must contain every attribute given.
   *
   * @param distinguishedName e.g. `C=US, ST=WA, O=Example Corp`
   */
  public static fromX509Subject(distinguishedName: string): TrustedIdentity {
    return new TrustedIdentity(`x509.subject:${distinguishedName}`);
  }

  /**
   * Any identity (`*`). Only for `notary.x509` chains you fully control; AWS Signer rejects it.
   */
  public static any(): TrustedIdentity {
    return new TrustedIdentity('*');
  }

  /**
   * An identity exactly as written in a trust policy, e.g. for a verification plugin.
   * @param value must contain `:` (or be `*`)
   */
  public static of(value: string): TrustedIdentity {
    return new TrustedIdentity(value);
  }

  /** @param value the identity as written in a trust policy */
  private constructor(
    /** The identity as written in the trust policy's `trustedIdentities`. */
    public readonly value: string,
  ) {}
}

/**
 * Per-check overrides of a verification level (`signatureVerification.override`).
 *
 * @example
 * import { VerificationAction, VerificationOverrides } from 'cdk-signed-images';
 *
 * const overrides: VerificationOverrides = {
 *   revocation: VerificationAction.LOG,
 *   expiry: VerificationAction.LOG,
 * };
 */
export interface VerificationOverrides {
  /**
   * Action when the signing identity or certificate chain is not trusted.
   * @default - as the level says
   */
  readonly authenticity?: VerificationAction;
  /**
   * Action when the signing time cannot be proven.
   * @default - as the level says
   */
  readonly authenticTimestamp?: VerificationAction;
  /**
   * Action when the signature has expired.
   * @default - as the level says
   */
  readonly expiry?: VerificationAction;
  /**
   * Action when a certificate or AWS Signer profile/job was revoked or its status is unknown.
   * @default - as the level says
   */
  readonly revocation?: VerificationAction;
}

/**
 * One statement of a notation trust policy.
 *
 * @example
 * import { TrustedIdentity, TrustPolicy, TrustPolicyStatement, TrustStore, VerificationLevel } from 'cdk-signed-images';
 *
 * const statement: TrustPolicyStatement = {
 *   name: 'release',
 *   registryScopes: registry.repositoryUris,
 *   repositories: registry.repositories,
 *   level: VerificationLevel.STRICT,
 *   trustStores: [TrustStore.AWS_SIGNER],
 *   trustedIdentities: [TrustedIdentity.fromSigningProfile(registry)],
 * };
 * const policy = new TrustPolicy({ statements: [statement] });
 */
export interface TrustPolicyStatement {
  /** Unique name of the statement. */
  readonly name: string;
  /**
   * Repositories the statement applies to, as `registry/repository` (no tag, no digest), or `['*']`
   * for every repository.
   */
  readonly registryScopes: string[];
  /**
   * Verification level.
   * @default VerificationLevel.STRICT
   */
  readonly level?: VerificationLevel;
  /**
   * Per-check changes to the level.
   * @default - none
   */
  readonly overrides?: VerificationOverrides;
  /**
   * When to verify RFC 3161 timestamps.
   * @default - notation's default (`always`)
   */
  readonly verifyTimestamp?: TimestampVerification;
  /**
   * Trust stores whose roots anchor the signing chain. Required unless the level is `SKIP`.
   * @default - none
   */
  readonly trustStores?: TrustStore[];
  /**
   * Trusted identities. Required unless the level is `SKIP`.
   * @default - none
   */
  readonly trustedIdentities?: TrustedIdentity[];

  /**
   * The ECR repositories behind `registryScopes`. A verifier using the policy gets ECR pull on
   * them, and a scope equal to one's `repositoryUri` needs no `*` grant even when the URI is a
   * deploy-time token. Not written into the trust policy document.
   * @default - none; verifiers get pull on the repositories literal ECR scopes name, and on `*`
   * when a scope is `*` or a token
   */
  readonly repositories?: ecr.IRepository[];
}

/**
 * Properties of a `TrustPolicy`.
 *
 * @example
 * import { TrustedIdentity, TrustPolicy, TrustStore } from 'cdk-signed-images';
 *
 * const policy = new TrustPolicy({
 *   statements: [{
 *     name: 'release',
 *     registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/app'],
 *     trustStores: [TrustStore.AWS_SIGNER],
 *     trustedIdentities: [TrustedIdentity.fromArn('arn:aws:signer:us-east-1:111122223333:/signing-profiles/release')],
 *   }],
 * });
 */
export interface TrustPolicyProps {
  /**
   * Initial statements.
   * @default - none; add them with `addStatement`
   */
  readonly statements?: TrustPolicyStatement[];
}

/**
 * `signatureVerification` of a rendered trust policy statement (notation's JSON keys and values).
 *
 * @example
 * const verification = trustPolicy.render(this).trustPolicies[0].signatureVerification;
 * new cdk.CfnOutput(this, 'Level', { value: verification.level });
 */
export interface SignatureVerificationDocument {
  /** The level: `strict`, `permissive`, `audit` or `skip`. */
  readonly level: string;
  /**
   * Actions replacing the level's, by check (`authenticity`, `authenticTimestamp`, `expiry`,
   * `revocation`): `enforce`, `log` or `skip`.
   * @default - absent: the level's actions
   */
  readonly override?: { [check: string]: string };
  /**
   * `always` or `afterCertExpiry`.
   * @default - absent: notation's default, `always`
   */
  readonly verifyTimestamp?: string;
}

/**
 * One statement of a rendered trust policy (notation's JSON keys).
 *
 * @example
 * const statement = trustPolicy.render(this).trustPolicies[0];
 * new cdk.CfnOutput(this, 'FirstStatement', { value: statement.name });
 */
export interface TrustPolicyDocumentStatement {
  /** The statement's name. */
  readonly name: string;
  /** `registry/repository` scopes, or `*`. */
  readonly registryScopes: string[];
  /** The verification level and its overrides. */
  readonly signatureVerification: SignatureVerificationDocument;
  /**
   * Trust stores as `type:name`.
   * @default - absent (a `skip` statement)
   */
  readonly trustStores?: string[];
  /**
   * Trusted identities as written in the policy.
   * @default - absent (a `skip` statement)
   */
  readonly trustedIdentities?: string[];
}

/**
 * A rendered notation trust policy (`trustpolicy.oci.json`, version 1.0), from `TrustPolicy.render`.
 * Its keys are notation's JSON keys, so `JSON.stringify` of a policy without tokens is a file the
 * notation CLI reads.
 *
 * @example
 * const document = trustPolicy.render(this);
 * new cdk.CfnOutput(this, 'Statements', { value: `${document.trustPolicies.length}` });
 */
export interface TrustPolicyDocument {
  /** The policy format version, `1.0`. */
  readonly version: string;
  /** The statements, in order. */
  readonly trustPolicies: TrustPolicyDocumentStatement[];
}

/**
 * A notation OCI trust policy (version 1.0) whose certificates ship with it.
 *
 * Values may be deploy-time tokens (repository URIs and profile ARNs of the same app); render the
 * policy with `toJson(scope)` and CloudFormation fills them in. Every rule that can be checked at
 * synth is checked with notation's own meaning; tokens are replaced by valid placeholders for that.
 *
 * @example
 * import { TrustPolicy, VerificationLevel } from 'cdk-signed-images';
 *
 * // The one-liner: the AWS Signer profiles of SignedRegistry constructs, scoped to their repositories.
 * const policy = TrustPolicy.fromSigningProfiles(registry);
 * // Statement by statement, e.g. to admit a sidecar unverified.
 * policy.addStatement({
 *   name: 'otel-sidecar',
 *   registryScopes: ['public.ecr.aws/aws-observability/aws-otel-collector'],
 *   level: VerificationLevel.SKIP,
 * });
 */
export class TrustPolicy {
  /**
   * A strict policy trusting images signed by the given AWS Signer profiles.
   *
   * The scope is the union of the sources' repository URIs when every source names its
   * repositories (as `SignedRegistry` does), else `*`. The statement carries the sources'
   * repositories, so verifiers get ECR pull on exactly them (no `*`) even when the URIs are
   * deploy-time tokens. The trust store is the AWS Signer root
   * (GovCloud's when every profile ARN is a literal `arn:aws-us-gov:` ARN).
   *
   * @param sources `SignedRegistry`s, or sources from `SigningProfileSource`
   */
  public static fromSigningProfiles(...sources: ISigningProfileSource[]): TrustPolicy {
    if (sources.length === 0) {
      throw new SignedImagesValidationError('TrustPolicy.fromSigningProfiles needs at least one signing profile');
    }
    const scopes: string[] = [];
    const repositories: ecr.IRepository[] = [];
    let everySourceHasRepositories = true;
    for (const source of sources) {
      const uris = isRepositorySource(source) ? source.repositoryUris : [];
      if (uris.length === 0) everySourceHasRepositories = false;
      for (const uri of uris) if (!scopes.includes(uri)) scopes.push(uri);
      // `?? []`: a TypeScript object that predates `repositories` may still lack it.
      for (const repository of (isRepositorySource(source) ? source.repositories : undefined) ?? []) {
        if (!repositories.includes(repository)) repositories.push(repository);
      }
    }
    const arns = sources.map(profileArnOf);
    const govCloud = arns.every(a => !Token.isUnresolved(a) && a.startsWith('arn:aws-us-gov:'));
    const identities: TrustedIdentity[] = [];
    for (const arn of arns) {
      if (!identities.some(i => i.value === arn)) identities.push(TrustedIdentity.fromArn(arn));
    }
    return new TrustPolicy({
      statements: [{
        name: 'aws-signer',
        registryScopes: everySourceHasRepositories ? scopes : ['*'],
        level: VerificationLevel.STRICT,
        trustStores: [govCloud ? TrustStore.AWS_SIGNER_GOVCLOUD : TrustStore.AWS_SIGNER],
        trustedIdentities: identities,
        // With a `*` scope the repositories add nothing: the verifier needs pull on every repository.
        ...(everySourceHasRepositories && repositories.length > 0 ? { repositories } : {}),
      }],
    });
  }

  private readonly _statements: TrustPolicyStatement[] = [];

  /**
   * @param props the initial statements, each validated as `addStatement` does
   */
  public constructor(props: TrustPolicyProps = {}) {
    for (const statement of props.statements ?? []) this.addStatement(statement);
  }

  /** The statements, in order. */
  public get statements(): TrustPolicyStatement[] {
    return [...this._statements];
  }

  /**
   * Adds a statement. The statement is validated on its own now; rules that involve several
   * statements (unique names, a scope in one statement only) are checked by `render`/`toJson`.
   *
   * @param statement the statement to append
   */
  public addStatement(statement: TrustPolicyStatement): void {
    checkDocument(renderDocument([statement]), [statement], undefined);
    this._statements.push(statement);
  }

  /**
   * The trust policy document as a typed object whose keys are notation's JSON keys
   * (`version`, `trustPolicies`, `signatureVerification`...); strings may hold tokens.
   * Throws a validation error if the policy is invalid.
   *
   * @param scope construct used for error messages
   */
  public render(scope: IConstruct): TrustPolicyDocument {
    const doc = renderDocument(this._statements, scope);
    checkDocument(doc, this._statements, scope);
    this.trustStoreCertificates(scope);
    return doc;
  }

  /**
   * The trust policy as a JSON string whose tokens CloudFormation resolves at deploy time.
   * @param scope a construct in the stack that will hold the JSON
   */
  public toJson(scope: IConstruct): string {
    return Stack.of(scope).toJsonString(this.render(scope));
  }

  /**
   * The PEM bundles of every trust store the statements use, keyed by `type:name`.
   * Two different stores with the same `type:name` are an error.
   *
   * @param scope construct used for error messages, if any
   */
  public trustStoreCertificates(scope?: IConstruct): Record<string, string> {
    const result: Record<string, string> = {};
    for (const statement of this._statements) {
      for (const store of statement.trustStores ?? []) {
        const ref = store.reference;
        if (ref in result && result[ref] !== store.certificates) {
          throw new SignedImagesValidationError(`trust policy: two different trust stores are named "${ref}"`, scope);
        }
        result[ref] = store.certificates;
      }
    }
    return result;
  }
}

function isRepositorySource(source: ISigningProfileSource): source is ISignedRepositorySource {
  return Array.isArray((source as ISignedRepositorySource).repositoryUris);
}

/**
 * A source's profile ARN. A TypeScript caller can pass an aws-cdk-lib `ISigningProfile` itself (it
 * has the shape): it gets the adapter's treatment (platform check, repaired imported ARN).
 */
function profileArnOf(source: ISigningProfileSource): string {
  const maybeProfile = source as Partial<signer.ISigningProfile>;
  if (Construct.isConstruct(source) && typeof maybeProfile.signingProfileVersionArn === 'string' && !isRepositorySource(source)) {
    return SigningProfileSource.fromSigningProfile(source as signer.ISigningProfile).signingProfileArn;
  }
  return source.signingProfileArn;
}

/** The `override` entries of a statement, in notation's check order. */
const OVERRIDABLE_CHECKS = ['authenticity', 'authenticTimestamp', 'expiry', 'revocation'] as const;

function renderStatement(s: TrustPolicyStatement): TrustPolicyDocumentStatement {
  const o: VerificationOverrides = s.overrides ?? {};
  const override: Record<string, string> = {};
  for (const check of OVERRIDABLE_CHECKS) {
    const action = o[check];
    if (action !== undefined) override[check] = actionName(action, check);
  }
  const verification: SignatureVerificationDocument = {
    level: levelName(s.level ?? VerificationLevel.STRICT),
    ...(Object.keys(override).length > 0 ? { override } : {}),
    ...(s.verifyTimestamp !== undefined ? { verifyTimestamp: timestampName(s.verifyTimestamp) } : {}),
  };
  return {
    name: s.name,
    registryScopes: [...s.registryScopes],
    signatureVerification: verification,
    ...(s.trustStores && s.trustStores.length > 0 ? { trustStores: s.trustStores.map(t => t.reference) } : {}),
    ...(s.trustedIdentities && s.trustedIdentities.length > 0 ? { trustedIdentities: s.trustedIdentities.map(i => i.value) } : {}),
  };
}

/** The document; a value no enum member has (JavaScript, the jsii kernel) fails naming its statement. */
function renderDocument(statements: TrustPolicyStatement[], scope?: IConstruct): TrustPolicyDocument {
  return {
    version: '1.0',
    trustPolicies: statements.map(s => {
      try {
        return renderStatement(s);
      } catch (e) {
        throw new SignedImagesValidationError(`invalid trust policy statement "${s.name}": ${messageOf(e)}`, scope);
      }
    }),
  };
}

/**
 * Replaces unresolved tokens by syntactically valid placeholders: identical tokens get identical
 * placeholders, so exact duplicates are still found.
 */
class Placeholders {
  private readonly seen = new Map<string, string>();

  public scope(value: string): string {
    return this.replace(value, n => `registry.invalid/token-${n}`);
  }

  public identity(value: string): string {
    if (value.startsWith('x509.subject:')) {
      return this.replace(value, n => `x509.subject:C=US, ST=WA, O=token-${n}`);
    }
    return this.replace(value, n => `arn:aws:signer:us-east-1:123456789012:/signing-profiles/token_${n}`);
  }

  public plain(value: string): string {
    return this.replace(value, n => `token-${n}`);
  }

  private replace(value: string, make: (n: number) => string): string {
    if (!Token.isUnresolved(value)) return value;
    let p = this.seen.get(value);
    if (p === undefined) {
      p = make(this.seen.size + 1);
      this.seen.set(value, p);
    }
    return p;
  }
}

/**
 * The document with its tokens replaced, as the engine's type: the enums' strings come from
 * notation-names (typed by the engine), and the engine's parser checks every value anyway.
 */
function withPlaceholders(doc: TrustPolicyDocument): NotationTrustPolicy {
  const p = new Placeholders();
  return {
    version: doc.version,
    trustPolicies: doc.trustPolicies.map(s => ({
      ...s,
      name: p.plain(s.name),
      registryScopes: s.registryScopes.map(x => p.scope(x)),
      ...(s.trustStores ? { trustStores: s.trustStores.map(x => p.plain(x)) } : {}),
      ...(s.trustedIdentities ? { trustedIdentities: s.trustedIdentities.map(x => p.identity(x)) } : {}),
    })),
  } as unknown as NotationTrustPolicy;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Validates with the verifier's own rules (notation's meaning and wording). Statement-level
 * problems are reported with the statement's name.
 */
function checkDocument(doc: TrustPolicyDocument, statements: TrustPolicyStatement[], scope: IConstruct | undefined): void {
  const safe = withPlaceholders(doc);
  for (let i = 0; i < safe.trustPolicies.length; i++) {
    try {
      validateTrustPolicy({ version: safe.version, trustPolicies: [safe.trustPolicies[i]] });
    } catch (e) {
      const message = messageOf(e);
      const name = statements[i].name;
      throw new SignedImagesValidationError(message.includes(`"${name}"`)
        ? `invalid trust policy: ${message}`
        : `invalid trust policy statement "${name}": ${message}`, scope);
    }
  }
  try {
    validateTrustPolicy(safe);
  } catch (e) {
    throw new SignedImagesValidationError(`invalid trust policy: ${messageOf(e)}`, scope);
  }
}
