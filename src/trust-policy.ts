import { X509Certificate } from 'crypto';
import { Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { IConstruct } from 'constructs';
import { SignedImagesValidationError } from './validation-error';
import { validateTrustPolicy } from './verifier/policy/trust-policy';
import { AWS_SIGNER_GOVCLOUD_ROOT_PEM, AWS_SIGNER_ROOT_PEM } from './verifier/signer/roots';

/**
 * How strictly a signature is verified (the `signatureVerification.level` of a notation trust
 * policy statement).
 *
 * Each level fixes the action of every check; `overrides` in a statement can change some of them.
 *
 * @see https://github.com/notaryproject/specifications/blob/main/specs/trust-store-trust-policy.md
 */
export class VerificationLevel {
  /** Every check is enforced: integrity, authenticity, authentic timestamp, expiry, revocation. */
  public static readonly STRICT = new VerificationLevel('strict');
  /** Integrity and authenticity are enforced; authentic timestamp, expiry and revocation are logged. */
  public static readonly PERMISSIVE = new VerificationLevel('permissive');
  /** Only integrity is enforced; every other check is logged. */
  public static readonly AUDIT = new VerificationLevel('audit');
  /**
   * No verification at all. A `skip` statement has no trust stores, no trusted identities and no
   * overrides, and cannot use the `*` registry scope.
   */
  public static readonly SKIP = new VerificationLevel('skip');

  /**
   * A level by its notation name, for levels this library does not know yet.
   * @param name the level as written in a trust policy, e.g. `strict`
   */
  public static of(name: string): VerificationLevel {
    return new VerificationLevel(name);
  }

  /** @param name the level as written in a trust policy */
  private constructor(public readonly name: string) {}
}

/** What a verifier does when a single check fails (a value of `signatureVerification.override`). */
export class VerificationAction {
  /** A failure of the check fails the verification. */
  public static readonly ENFORCE = new VerificationAction('enforce');
  /** A failure of the check is logged; verification goes on. */
  public static readonly LOG = new VerificationAction('log');
  /** The check is not run. Only `revocation` can be skipped. */
  public static readonly SKIP = new VerificationAction('skip');

  /**
   * An action by its notation name.
   * @param name the action as written in a trust policy, e.g. `log`
   */
  public static of(name: string): VerificationAction {
    return new VerificationAction(name);
  }

  /** @param name the action as written in a trust policy */
  private constructor(public readonly name: string) {}
}

/** When the RFC 3161 timestamp countersignature is verified (`signatureVerification.verifyTimestamp`). */
export class TimestampVerification {
  /** Always verify the timestamp when a `tsa` trust store is configured (notation's default). */
  public static readonly ALWAYS = new TimestampVerification('always');
  /** Verify the timestamp only once a certificate of the signing chain has expired. */
  public static readonly AFTER_CERT_EXPIRY = new TimestampVerification('afterCertExpiry');

  /**
   * A value by its notation name.
   * @param name the value as written in a trust policy
   */
  public static of(name: string): TimestampVerification {
    return new TimestampVerification(name);
  }

  /** @param name the value as written in a trust policy */
  private constructor(public readonly name: string) {}
}

/** The type of a notation trust store (the first part of `type:name`). */
export class TrustStoreType {
  /** Root CAs for signatures with the `notary.x509` signing scheme. */
  public static readonly CA = new TrustStoreType('ca');
  /** Signing authorities (`notary.x509.signingAuthority`), e.g. AWS Signer. */
  public static readonly SIGNING_AUTHORITY = new TrustStoreType('signingAuthority');
  /** Root CAs of RFC 3161 timestamping authorities. */
  public static readonly TSA = new TrustStoreType('tsa');

  /**
   * A trust store type by its notation name.
   * @param name the type as written in a trust policy, e.g. `ca`
   */
  public static of(name: string): TrustStoreType {
    return new TrustStoreType(name);
  }

  /** @param name the type as written in a trust policy */
  private constructor(public readonly name: string) {}
}

const TRUST_STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

/**
 * A named set of trusted root certificates, referenced from trust policy statements as `type:name`.
 *
 * The certificates travel with the policy (see `TrustPolicy.trustStoreCertificates()`), so the
 * verifier needs no file system trust store.
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
   * @param type `ca`, `signingAuthority` or `tsa`
   * @param name store name, letters, digits, `_`, `.` and `-`
   * @param pem one or more PEM certificates (`-----BEGIN CERTIFICATE-----`)
   */
  public static fromPem(type: TrustStoreType, name: string, pem: string): TrustStore {
    validateStoreType(type);
    if (Token.isUnresolved(name)) {
      throw new SignedImagesValidationError('trust store name must not be a token: it is referenced by name in the trust policy');
    }
    if (!TRUST_STORE_NAME.test(name)) {
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

  /** The reference used in trust policies, `type:name`. */
  public get reference(): string {
    return `${this.type.name}:${this.name}`;
  }
}

function validateStoreType(type: TrustStoreType): void {
  if (![TrustStoreType.CA.name, TrustStoreType.SIGNING_AUTHORITY.name, TrustStoreType.TSA.name].includes(type.name)) {
    throw new SignedImagesValidationError(`trust store type "${type.name}" is not supported: use ca, signingAuthority or tsa`);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function checkPemBundle(type: TrustStoreType, name: string, pem: string): string {
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const store = `${type.name}:${name}`;
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
    // Self-signed as notation checks it: issuer equals subject and the own key verifies the signature
    // (no key-usage requirement, unlike OpenSSL's check_issued).
    const selfSigned = cert.issuer === cert.subject && cert.verify(cert.publicKey);
    const subject = cert.subject.split('\n').reverse().join(',');
    if (type.name === TrustStoreType.TSA.name) {
      if (!(cert.ca && selfSigned)) {
        throw new SignedImagesValidationError(`trust store ${store}: certificate with subject "${subject}" is not a self-signed root CA certificate`);
      }
    } else if (!cert.ca && !selfSigned) {
      throw new SignedImagesValidationError(`trust store ${store}: certificate with subject "${subject}" is not a CA certificate or self-signed signing certificate`);
    }
    out.push(block[0]);
  }
  return out.join('\n') + '\n';
}

/**
 * Something signed images come from: an AWS Signer signing profile, optionally with the
 * repositories it signs. `SignedRegistry` implements it; in TypeScript an
 * `aws_signer.SigningProfile` fits too (its `signingProfileArn`).
 */
export interface ISigningProfileSource {
  /** ARN of the AWS Signer signing profile (not a profile version ARN). */
  readonly signingProfileArn: string;
}

/** A signing profile together with the repositories whose images it signs. */
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

const SIGNER_ARN = /^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,64}(\/[a-zA-Z0-9]+)?$/;

/**
 * A trusted identity of a trust policy statement: who may have signed an image.
 */
export class TrustedIdentity {
  /**
   * The AWS Signer signing profile of a `SignedRegistry` (or any source of a profile ARN): any
   * version of the profile is trusted.
   */
  public static fromSigningProfile(profile: ISigningProfileSource): TrustedIdentity {
    return TrustedIdentity.fromArn(profile.signingProfileArn);
  }

  /**
   * An AWS Signer signing profile ARN (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`,
   * any version) or profile version ARN (`…/<name>/<version>`, that version only).
   */
  public static fromArn(arn: string): TrustedIdentity {
    if (!Token.isUnresolved(arn) && !SIGNER_ARN.test(arn)) {
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

  /** Any identity (`*`). Only for `notary.x509` chains you fully control; AWS Signer rejects it. */
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
  private constructor(public readonly value: string) {}
}

/** Per-check overrides of a verification level (`signatureVerification.override`). */
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

/** One statement of a notation trust policy. */
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

/** Properties of a `TrustPolicy`. */
export interface TrustPolicyProps {
  /**
   * Initial statements.
   * @default - none; add them with `addStatement`
   */
  readonly statements?: TrustPolicyStatement[];
}

/**
 * A notation OCI trust policy (version 1.0) whose certificates ship with it.
 *
 * Values may be deploy-time tokens (repository URIs and profile ARNs of the same app); render the
 * policy with `toJson(scope)` and CloudFormation fills them in. Every rule that can be checked at
 * synth is checked with notation's own meaning; tokens are replaced by valid placeholders for that.
 *
 * @example
 * const policy = TrustPolicy.fromSigningProfiles(registry);
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
   * @param sources signing profiles or `SignedRegistry`s
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
    const arns = sources.map(s => s.signingProfileArn);
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
   */
  public addStatement(statement: TrustPolicyStatement): void {
    checkDocument(renderDocument([statement]), [statement], undefined);
    this._statements.push(statement);
  }

  /**
   * The trust policy document (notation's JSON shape) as an object; strings may hold tokens.
   * Throws a validation error if the policy is invalid.
   *
   * @param scope construct used for error messages
   */
  public render(scope: IConstruct): any {
    const doc = renderDocument(this._statements);
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

function renderStatement(s: TrustPolicyStatement): any {
  const verification: any = { level: (s.level ?? VerificationLevel.STRICT).name };
  const o = s.overrides;
  if (o) {
    const override: Record<string, string> = {};
    if (o.authenticity) override.authenticity = o.authenticity.name;
    if (o.authenticTimestamp) override.authenticTimestamp = o.authenticTimestamp.name;
    if (o.expiry) override.expiry = o.expiry.name;
    if (o.revocation) override.revocation = o.revocation.name;
    if (Object.keys(override).length > 0) verification.override = override;
  }
  if (s.verifyTimestamp) verification.verifyTimestamp = s.verifyTimestamp.name;
  const out: any = {
    name: s.name,
    registryScopes: [...s.registryScopes],
    signatureVerification: verification,
  };
  if (s.trustStores && s.trustStores.length > 0) out.trustStores = s.trustStores.map(t => t.reference);
  if (s.trustedIdentities && s.trustedIdentities.length > 0) out.trustedIdentities = s.trustedIdentities.map(i => i.value);
  return out;
}

function renderDocument(statements: TrustPolicyStatement[]): any {
  return { version: '1.0', trustPolicies: statements.map(renderStatement) };
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

function withPlaceholders(doc: any): any {
  const p = new Placeholders();
  return {
    version: doc.version,
    trustPolicies: doc.trustPolicies.map((s: any) => ({
      ...s,
      name: p.plain(s.name),
      registryScopes: s.registryScopes.map((x: string) => p.scope(x)),
      ...(s.trustStores ? { trustStores: s.trustStores.map((x: string) => p.plain(x)) } : {}),
      ...(s.trustedIdentities ? { trustedIdentities: s.trustedIdentities.map((x: string) => p.identity(x)) } : {}),
    })),
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Validates with the verifier's own rules (notation's meaning and wording). Statement-level
 * problems are reported with the statement's name.
 */
function checkDocument(doc: any, statements: TrustPolicyStatement[], scope: IConstruct | undefined): void {
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
