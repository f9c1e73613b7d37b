import { createHash, X509Certificate } from 'crypto';
import { App, CfnOutput, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as signer from 'aws-cdk-lib/aws-signer';
import {
  SignedRegistry,
  SigningProfileSource,
  TimestampVerification,
  TrustedIdentity,
  TrustPolicy,
  TrustStore,
  TrustStoreType,
  VerificationAction,
  VerificationLevel,
} from '../src';
import { makeChain } from './support/pki';

const ENV = { account: '111111111111', region: 'us-east-1' };
const PROFILE_ARN = 'arn:aws:signer:us-east-1:111111111111:/signing-profiles/ci_profile';
const VERSION_ARN = `${PROFILE_ARN}/OF8IVUsPJq`;
const SCOPE = '111111111111.dkr.ecr.us-east-1.amazonaws.com/app';

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: ENV });
}

/**
 * Evaluates the CloudFormation intrinsics a rendered policy can contain (Fn::Join, Ref of
 * pseudo parameters and resources, Fn::GetAtt) the way CloudFormation would.
 */
function evaluate(value: any, refs: Record<string, string>): any {
  if (Array.isArray(value)) return value.map(v => evaluate(v, refs));
  if (value && typeof value === 'object') {
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'];
      return parts.map((p: any) => evaluate(p, refs)).join(sep);
    }
    if ('Fn::Select' in value) {
      const [index, list] = value['Fn::Select'];
      return evaluate(list, refs)[index];
    }
    if ('Fn::Split' in value) {
      const [sep, text] = value['Fn::Split'];
      return evaluate(text, refs).split(sep);
    }
    if ('Ref' in value) {
      if (!(value.Ref in refs)) throw new Error(`no value for Ref ${value.Ref}`);
      return refs[value.Ref];
    }
    if ('Fn::GetAtt' in value) {
      const key = value['Fn::GetAtt'].join('.');
      if (!(key in refs)) throw new Error(`no value for GetAtt ${key}`);
      return refs[key];
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, refs)]));
  }
  return value;
}

describe('enums', () => {
  const statementWith = (extra: object) => ({
    name: 's', registryScopes: [SCOPE], trustStores: [TrustStore.AWS_SIGNER], trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)], ...extra,
  });
  const verificationOf = (extra: object) => new TrustPolicy({ statements: [statementWith(extra)] }).render(newStack()).trustPolicies[0].signatureVerification;

  test('are real enums: every member is its own name (what jsii passes from other languages)', () => {
    for (const e of [VerificationLevel, VerificationAction, TimestampVerification, TrustStoreType]) {
      for (const [member, value] of Object.entries(e)) expect(value).toBe(member);
    }
    expect(Object.keys(VerificationLevel)).toEqual(['STRICT', 'PERMISSIVE', 'AUDIT', 'SKIP']);
    expect(Object.keys(VerificationAction)).toEqual(['ENFORCE', 'LOG', 'SKIP']);
    expect(Object.keys(TimestampVerification)).toEqual(['ALWAYS', 'AFTER_CERT_EXPIRY']);
    expect(Object.keys(TrustStoreType)).toEqual(['CA', 'SIGNING_AUTHORITY', 'TSA']);
  });

  test('each member renders as notation spells it', () => {
    expect(verificationOf({ level: VerificationLevel.STRICT })).toEqual({ level: 'strict' });
    expect(verificationOf({ level: VerificationLevel.PERMISSIVE })).toEqual({ level: 'permissive' });
    expect(verificationOf({ level: VerificationLevel.AUDIT })).toEqual({ level: 'audit' });
    expect(new TrustPolicy({ statements: [{ name: 's', registryScopes: [SCOPE], level: VerificationLevel.SKIP }] }).render(newStack())
      .trustPolicies[0].signatureVerification).toEqual({ level: 'skip' });
    expect(verificationOf({ overrides: { authenticity: VerificationAction.LOG, expiry: VerificationAction.ENFORCE, revocation: VerificationAction.SKIP } }))
      .toEqual({ level: 'strict', override: { authenticity: 'log', expiry: 'enforce', revocation: 'skip' } });
    expect(verificationOf({ verifyTimestamp: TimestampVerification.ALWAYS })).toEqual({ level: 'strict', verifyTimestamp: 'always' });
    expect(verificationOf({ verifyTimestamp: TimestampVerification.AFTER_CERT_EXPIRY })).toEqual({ level: 'strict', verifyTimestamp: 'afterCertExpiry' });
    const chain = makeChain({ length: 2, keySlot: 'tp-enum' });
    expect([TrustStoreType.CA, TrustStoreType.SIGNING_AUTHORITY, TrustStoreType.TSA].map(t => TrustStore.fromPem(t, 'n', chain.rootPem).reference))
      .toEqual(['ca:n', 'signingAuthority:n', 'tsa:n']);
  });

  // JavaScript callers and the jsii kernel can pass anything where an enum is declared; notation's
  // own spelling ('strict') is not a member either.
  test.each([
    ['a level in notation spelling', { level: 'strict' }, /^invalid trust policy statement "s": verification level "strict" is not supported: use VerificationLevel.STRICT, PERMISSIVE, AUDIT or SKIP/],
    ['an unknown level', { level: 'paranoid' }, /verification level "paranoid" is not supported/],
    ['an inherited property name as level', { level: 'toString' }, /verification level "toString" is not supported/],
    ['a non-string level', { level: 3 }, /verification level "3" is not supported/],
    ['an unknown action', { overrides: { expiry: 'warn' } }, /override of expiry: verification action "warn" is not supported: use VerificationAction.ENFORCE, LOG or SKIP/],
    ['an unknown verifyTimestamp', { verifyTimestamp: 'never' }, /verifyTimestamp "never" is not supported: use TimestampVerification.ALWAYS or AFTER_CERT_EXPIRY/],
  ])('a value that is no member is refused: %s', (_name, extra, message) => {
    const policy = new TrustPolicy();
    expect(() => policy.addStatement(statementWith(extra) as any)).toThrow(message);
    expect(policy.statements).toHaveLength(0);
  });
});

describe('TrustStore', () => {
  test('built-in AWS Signer stores carry the published roots', () => {
    expect(TrustStore.AWS_SIGNER.reference).toBe('signingAuthority:aws-signer-ts');
    expect(TrustStore.AWS_SIGNER_GOVCLOUD.reference).toBe('signingAuthority:aws-us-gov-signer-ts');
    const commercial = new X509Certificate(TrustStore.AWS_SIGNER.certificates);
    const gov = new X509Certificate(TrustStore.AWS_SIGNER_GOVCLOUD.certificates);
    expect(createHash('sha256').update(commercial.raw).digest('hex')).toBe('90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f');
    expect(createHash('sha256').update(gov.raw).digest('hex')).toBe('673653ab76f41a10546cdeb4107ecd6df2c15c2c9a0d32ed97d271b4436fc3e8');
    expect(commercial.subject).toContain('CN=AWS Signer Code Signing Root CA G1');
    expect(gov.subject).toContain('CN=AWS Signer Code Signing GovCloud (US) Root CA G1');
  });

  test('fromPem accepts CA roots, self-signed signing certificates and TSA roots', () => {
    const chain = makeChain({ length: 3, keySlot: 'tp-ca' });
    const ca = TrustStore.fromPem(TrustStoreType.CA, 'my-ca.v1', chain.rootPem);
    expect(ca.reference).toBe('ca:my-ca.v1');
    expect(ca.type).toBe(TrustStoreType.CA);
    expect(ca.name).toBe('my-ca.v1');
    expect(new X509Certificate(ca.certificates).subject).toContain('CN=Test Root CA');

    // Two roots in one bundle (with text around them) are kept, as a normalized PEM bundle.
    const other = makeChain({ length: 2, keySlot: 'tp-ca2' });
    const bundle = TrustStore.fromPem(TrustStoreType.CA, 'two', `first\n${chain.rootPem}\nsecond\n${other.rootPem}`);
    expect(bundle.certificates).toBe(`${chain.rootPem.trim()}\n${other.rootPem.trim()}\n`);

    // An intermediate CA is a CA certificate: allowed in a ca store (notation discourages, not forbids).
    expect(() => TrustStore.fromPem(TrustStoreType.CA, 'inter', makeChain({ length: 3, keySlot: 'tp-ca' }).certs[1].pem)).not.toThrow();

    const selfSignedLeaf = makeChain({ length: 1, keySlot: 'tp-sa' });
    expect(TrustStore.fromPem(TrustStoreType.SIGNING_AUTHORITY, 'sa', selfSignedLeaf.rootPem).reference).toBe('signingAuthority:sa');
    expect(TrustStore.fromPem(TrustStoreType.TSA, 'tsa', chain.rootPem).reference).toBe('tsa:tsa');
  });

  test('fromPem with a token PEM defers checks', () => {
    const stack = newStack();
    const pem = new CfnParameter(stack, 'Pem').valueAsString;
    const store = TrustStore.fromPem(TrustStoreType.CA, 'param', pem);
    expect(store.certificates).toBe(pem);
  });

  const chain = makeChain({ length: 3, keySlot: 'tp-bad' });
  const bad: [string, () => TrustStore, RegExp][] = [
    ['bad name', () => TrustStore.fromPem(TrustStoreType.CA, 'my store', chain.rootPem), /trust store name "my store" is invalid/],
    ['token name', () => TrustStore.fromPem(TrustStoreType.CA, new CfnParameter(newStack(), 'N').valueAsString, chain.rootPem),
      /trust store name must not be a token/],
    ['unknown type', () => TrustStore.fromPem('x509' as unknown as TrustStoreType, 'n', chain.rootPem),
      /trust store type "x509" is not supported: use ca, signingAuthority or tsa/],
    ['a type in notation spelling', () => TrustStore.fromPem('ca' as unknown as TrustStoreType, 'n', chain.rootPem),
      /trust store type "ca" is not supported: use ca, signingAuthority or tsa \(TrustStoreType.CA, SIGNING_AUTHORITY or TSA\)/],
    ['no PEM', () => TrustStore.fromPem(TrustStoreType.CA, 'n', 'not a certificate'), /trust store ca:n: no PEM certificate found/],
    ['a private key', () => TrustStore.fromPem(TrustStoreType.CA, 'n', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'),
      /unexpected PEM block "PRIVATE KEY", only CERTIFICATE is allowed/],
    ['garbage base64', () => TrustStore.fromPem(TrustStoreType.CA, 'n', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      /trust store ca:n: failed to parse certificate/],
    ['leaf certificate', () => TrustStore.fromPem(TrustStoreType.CA, 'n', chain.certs[0].pem),
      /certificate with subject "CN=Test Leaf,O=Notary Test,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed signing certificate/],
    ['leaf in a signingAuthority store', () => TrustStore.fromPem(TrustStoreType.SIGNING_AUTHORITY, 'n', chain.certs[0].pem),
      /is not a CA certificate or self-signed signing certificate/],
    ['intermediate in a tsa store', () => TrustStore.fromPem(TrustStoreType.TSA, 'n', chain.certs[1].pem),
      /trust store tsa:n: certificate with subject ".*Intermediate.*" is not a self-signed root CA certificate/],
    ['self-signed non-CA in a tsa store', () => TrustStore.fromPem(TrustStoreType.TSA, 'n', makeChain({ length: 1, keySlot: 'tp-sa' }).rootPem),
      /is not a self-signed root CA certificate/],
  ];
  test.each(bad)('fromPem rejects %s', (_name, make, message) => {
    expect(make).toThrow(message);
  });
});

describe('TrustedIdentity', () => {
  test('values', () => {
    expect(TrustedIdentity.fromArn(PROFILE_ARN).value).toBe(PROFILE_ARN);
    expect(TrustedIdentity.fromArn(VERSION_ARN).value).toBe(VERSION_ARN);
    expect(TrustedIdentity.fromArn('arn:aws-us-gov:signer:us-gov-west-1:111111111111:/signing-profiles/gov').value).toMatch(/^arn:aws-us-gov/);
    expect(TrustedIdentity.fromSigningProfile({ signingProfileArn: PROFILE_ARN }).value).toBe(PROFILE_ARN);
    expect(TrustedIdentity.fromX509Subject('C=US, ST=WA, O=Example').value).toBe('x509.subject:C=US, ST=WA, O=Example');
    expect(TrustedIdentity.any().value).toBe('*');
    expect(TrustedIdentity.of('plugin:anything').value).toBe('plugin:anything');
  });

  test('fromSigningProfile of a SignedRegistry is its profile ARN (token)', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry', { signingProfileName: 'app_signer' });
    expect(stack.resolve(TrustedIdentity.fromSigningProfile(registry).value)).toEqual(stack.resolve(registry.signingProfileArn));
  });

  test.each([
    ['arn:aws:kms:us-east-1:111111111111:key/abc'],
    ['arn:aws:signer:us-east-1:111111111111:/signing-profile/ci_profile'],
    ['arn:aws:signer:us-east-1:111111111111://signing-profiles/ci_profile'],
    ['arn:aws:signer:us-east-1:111111111111:/signing-jobs/0e8c2c3a-1234'],
    ['arn:aws:signer:us-east-1:1111:/signing-profiles/ci_profile'],
  ])('fromArn rejects %s', (arn) => {
    expect(() => TrustedIdentity.fromArn(arn)).toThrow(/is not an AWS Signer signing profile ARN/);
  });
});

describe('SigningProfileSource', () => {
  const DOUBLE_SLASH = /:\/\/signing-profiles/;

  test('fromSigningProfile of a new aws-cdk-lib SigningProfile is its Arn attribute', () => {
    const stack = newStack();
    const profile = new signer.SigningProfile(stack, 'Profile', { platform: signer.Platform.NOTATION_OCI_SHA384_ECDSA });
    const source = SigningProfileSource.fromSigningProfile(profile);
    const logicalId = stack.getLogicalId(profile.node.defaultChild as signer.CfnSigningProfile);
    expect(stack.resolve(source.signingProfileArn)).toEqual({ 'Fn::GetAtt': [logicalId, 'Arn'] });
    // As a trusted identity: the statement's identity is that attribute once CloudFormation resolves it.
    const doc = stack.resolve(TrustPolicy.fromSigningProfiles(source).render(stack));
    expect(doc.trustPolicies[0].trustedIdentities).toEqual([{ 'Fn::GetAtt': [logicalId, 'Arn'] }]);
    expect(doc.trustPolicies[0].registryScopes).toEqual(['*']);
  });

  test('fromSigningProfile of an imported profile repairs aws-cdk-lib\'s doubled slash (explicit env: a literal ARN)', () => {
    const stack = newStack();
    const imported = signer.SigningProfile.fromSigningProfileAttributes(stack, 'Imported', { signingProfileName: 'ci_profile', signingProfileVersion: 'OF8IVUsPJq' });
    // The bug this adapter exists for: aws-cdk-lib 2.276 renders `://signing-profiles`.
    expect(imported.signingProfileArn).toMatch(DOUBLE_SLASH);
    const source = SigningProfileSource.fromSigningProfile(imported);
    // The partition stays a pseudo parameter; account, region and name are literal.
    const partition = { 'AWS::Partition': 'aws' };
    expect(evaluate(stack.resolve(source.signingProfileArn), partition)).toBe(PROFILE_ARN);
    expect(evaluate(stack.resolve(TrustedIdentity.fromSigningProfile(source).value), partition)).toBe(PROFILE_ARN);
    expect(evaluate(stack.resolve(TrustPolicy.fromSigningProfiles(source).render(stack)).trustPolicies[0].trustedIdentities, partition)).toEqual([PROFILE_ARN]);
  });

  test('fromSigningProfile of an imported profile in an env-agnostic stack: the tokenised ARN resolves to a single slash', () => {
    const stack = new Stack(new App(), 'Agnostic');
    const imported = signer.SigningProfile.fromSigningProfileAttributes(stack, 'Imported', { signingProfileName: 'ci_profile', signingProfileVersion: 'v1' });
    const arn = SigningProfileSource.fromSigningProfile(imported).signingProfileArn;
    const refs = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '222222222222' };
    expect(evaluate(stack.resolve(arn), refs)).toBe('arn:aws:signer:eu-west-1:222222222222:/signing-profiles/ci_profile');
    expect(evaluate(stack.resolve(imported.signingProfileArn), refs)).toMatch(DOUBLE_SLASH);
  });

  test('a TypeScript caller passing the profile itself gets the same treatment', () => {
    const stack = newStack();
    const imported = signer.SigningProfile.fromSigningProfileAttributes(stack, 'Imported', { signingProfileName: 'ci_profile', signingProfileVersion: 'v1' });
    expect(evaluate(stack.resolve(TrustPolicy.fromSigningProfiles(imported).render(stack)).trustPolicies[0].trustedIdentities, { 'AWS::Partition': 'aws' }))
      .toEqual([PROFILE_ARN]);
    const lambdaProfile = new signer.SigningProfile(stack, 'Lambda', { platform: signer.Platform.AWS_LAMBDA_SHA384_ECDSA });
    expect(() => TrustPolicy.fromSigningProfiles(lambdaProfile)).toThrow(/uses the platform "AWSLambda-SHA384-ECDSA"; notation signatures need Notation-OCI-SHA384-ECDSA/);
  });

  test('fromSigningProfile refuses a profile of another platform, and things that are no profile', () => {
    const stack = newStack();
    const lambdaProfile = new signer.SigningProfile(stack, 'Lambda', { platform: signer.Platform.AWS_LAMBDA_SHA384_ECDSA });
    let error: any;
    try {
      SigningProfileSource.fromSigningProfile(lambdaProfile);
    } catch (e) {
      error = e;
    }
    expect(error.name).toBe('ValidationError');
    expect(error.message).toMatch(/^signing profile Stack\/Lambda uses the platform "AWSLambda-SHA384-ECDSA"/);
    expect(error.constructPath).toBe('Stack/Lambda');
    // A platform given as a token cannot be checked at synth.
    const tokenPlatform = new signer.SigningProfile(stack, 'Token', { platform: signer.Platform.of(new CfnParameter(stack, 'P').valueAsString) });
    expect(() => SigningProfileSource.fromSigningProfile(tokenPlatform)).not.toThrow();
    for (const junk of [undefined, null, 'arn', {}, { signingProfileArn: 42 }]) {
      expect(() => SigningProfileSource.fromSigningProfile(junk as any)).toThrow(/needs an aws_signer.ISigningProfile/);
    }
  });

  test('fromSigningProfileArn takes profile ARNs (literal or token), not version ARNs', () => {
    expect(SigningProfileSource.fromSigningProfileArn(PROFILE_ARN).signingProfileArn).toBe(PROFILE_ARN);
    const stack = newStack();
    const token = new CfnParameter(stack, 'Arn').valueAsString;
    expect(SigningProfileSource.fromSigningProfileArn(token).signingProfileArn).toBe(token);
    expect(() => SigningProfileSource.fromSigningProfileArn(VERSION_ARN))
      .toThrow(/is a profile version ARN; a signing profile source needs the profile ARN \(without the version\)/);
    for (const bad of ['arn:aws:signer:us-east-1:111111111111://signing-profiles/ci_profile', 'arn:aws:signer:us-east-1:111111111111:/signing-profiles/a-b', '']) {
      expect(() => SigningProfileSource.fromSigningProfileArn(bad)).toThrow(/is invalid: expected arn:<partition>:signer/);
    }
    expect(() => SigningProfileSource.fromSigningProfileArn(7 as any)).toThrow(/must be a string, got number/);
  });
});

describe('TrustPolicy rendering', () => {
  test('fromSigningProfiles(registry): exact document with deploy-time values', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry', { repositoryName: 'team/app', signingProfileName: 'app_signer' });
    const policy = TrustPolicy.fromSigningProfiles(registry);

    const resolved = stack.resolve(policy.render(stack));
    expect(resolved).toEqual({
      version: '1.0',
      trustPolicies: [{
        name: 'aws-signer',
        registryScopes: [stack.resolve(registry.repositories[0].repositoryUri)],
        signatureVerification: { level: 'strict' },
        trustStores: ['signingAuthority:aws-signer-ts'],
        trustedIdentities: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':signer:us-east-1:111111111111:/signing-profiles/app_signer']] }],
      }],
    });
    expect(policy.trustStoreCertificates()).toEqual({ 'signingAuthority:aws-signer-ts': TrustStore.AWS_SIGNER.certificates });
  });

  test('toJson resolves to the notation JSON once CloudFormation fills in the tokens', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry', { repositoryName: 'team/app', signingProfileName: 'app_signer' });
    const json = TrustPolicy.fromSigningProfiles(registry).toJson(stack);
    new CfnOutput(stack, 'Policy', { value: json });

    const output = Template.fromStack(stack).toJSON().Outputs.Policy.Value;
    const repoId = stack.getLogicalId(registry.repositories[0].node.defaultChild as any);
    const text = evaluate(output, {
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::Partition': 'aws',
      [repoId]: 'team/app',
      [`${repoId}.Arn`]: 'arn:aws:ecr:us-east-1:111111111111:repository/team/app',
    });
    expect(JSON.parse(text)).toEqual({
      version: '1.0',
      trustPolicies: [{
        name: 'aws-signer',
        registryScopes: ['111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app'],
        signatureVerification: { level: 'strict' },
        trustStores: ['signingAuthority:aws-signer-ts'],
        trustedIdentities: ['arn:aws:signer:us-east-1:111111111111:/signing-profiles/app_signer'],
      }],
    });
  });

  test('fromSigningProfiles with several registries and a plain profile', () => {
    const stack = newStack();
    const one = new SignedRegistry(stack, 'One', { repositoryName: 'one', signingProfileArn: PROFILE_ARN });
    const two = new SignedRegistry(stack, 'Two', { repositoryName: 'two', signingProfileArn: PROFILE_ARN });
    const withRepos = stack.resolve(TrustPolicy.fromSigningProfiles(one, two).render(stack));
    expect(withRepos.trustPolicies[0].registryScopes).toHaveLength(2);
    expect(withRepos.trustPolicies[0].trustedIdentities).toEqual([PROFILE_ARN]);

    // A bare profile names no repositories: the statement covers every repository.
    const bare = TrustPolicy.fromSigningProfiles({ signingProfileArn: PROFILE_ARN }, one);
    expect(stack.resolve(bare.render(stack)).trustPolicies[0].registryScopes).toEqual(['*']);
  });

  test('fromSigningProfiles carries the registries\' repositories with the statement (for IAM), outside the document', () => {
    const stack = newStack();
    const one = new SignedRegistry(stack, 'One', { repositoryName: 'one', signingProfileArn: PROFILE_ARN });
    const two = new SignedRegistry(stack, 'Two', { repositoryName: 'two', signingProfileArn: PROFILE_ARN });
    const policy = TrustPolicy.fromSigningProfiles(one, two, one);
    expect(policy.statements[0].repositories).toEqual([one.repositories[0], two.repositories[0]]);
    expect(Object.keys(stack.resolve(policy.render(stack)).trustPolicies[0]).sort())
      .toEqual(['name', 'registryScopes', 'signatureVerification', 'trustStores', 'trustedIdentities']);
    // With a bare profile the scope is `*`: repositories would narrow nothing, so none are carried.
    expect(TrustPolicy.fromSigningProfiles(one, { signingProfileArn: PROFILE_ARN }).statements[0].repositories).toBeUndefined();
  });

  test('fromSigningProfiles picks the GovCloud root for GovCloud profile ARNs', () => {
    const gov = 'arn:aws-us-gov:signer:us-gov-west-1:111111111111:/signing-profiles/gov';
    const policy = TrustPolicy.fromSigningProfiles({ signingProfileArn: gov });
    expect(policy.render(newStack())).toEqual({
      version: '1.0',
      trustPolicies: [{
        name: 'aws-signer',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['signingAuthority:aws-us-gov-signer-ts'],
        trustedIdentities: [gov],
      }],
    });
    expect(Object.keys(policy.trustStoreCertificates())).toEqual(['signingAuthority:aws-us-gov-signer-ts']);
  });

  test('fromSigningProfiles needs a profile', () => {
    expect(() => TrustPolicy.fromSigningProfiles()).toThrow(/needs at least one signing profile/);
  });

  test('every statement field', () => {
    const chain = makeChain({ length: 3, keySlot: 'tp-full' });
    const ca = TrustStore.fromPem(TrustStoreType.CA, 'corp', chain.rootPem);
    const tsa = TrustStore.fromPem(TrustStoreType.TSA, 'timestamps', chain.rootPem);
    const policy = new TrustPolicy({
      statements: [{
        name: 'signer',
        registryScopes: [SCOPE],
        level: VerificationLevel.PERMISSIVE,
        overrides: { revocation: VerificationAction.SKIP, expiry: VerificationAction.ENFORCE },
        trustStores: [TrustStore.AWS_SIGNER],
        trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN), TrustedIdentity.fromArn(VERSION_ARN.replace('ci_profile', 'other'))],
      }],
    });
    policy.addStatement({
      name: 'corp-x509',
      registryScopes: ['registry.example.com/team/api', 'localhost:5000/app'],
      level: VerificationLevel.STRICT,
      overrides: { authenticity: VerificationAction.LOG, authenticTimestamp: VerificationAction.LOG },
      verifyTimestamp: TimestampVerification.AFTER_CERT_EXPIRY,
      trustStores: [ca, tsa],
      trustedIdentities: [TrustedIdentity.fromX509Subject('C=US, ST=WA, O=Notary Test')],
    });
    policy.addStatement({ name: 'third-party', registryScopes: ['docker.io/library/nginx'], level: VerificationLevel.SKIP });
    policy.addStatement({
      name: 'everything-else',
      registryScopes: ['*'],
      level: VerificationLevel.AUDIT,
      overrides: {},
      trustStores: [TrustStore.AWS_SIGNER, TrustStore.AWS_SIGNER_GOVCLOUD],
      trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
    });

    expect(policy.statements.map(s => s.name)).toEqual(['signer', 'corp-x509', 'third-party', 'everything-else']);
    const stack = newStack();
    expect(stack.resolve(policy.render(stack))).toEqual({
      version: '1.0',
      trustPolicies: [
        {
          name: 'signer',
          registryScopes: [SCOPE],
          signatureVerification: { level: 'permissive', override: { expiry: 'enforce', revocation: 'skip' } },
          trustStores: ['signingAuthority:aws-signer-ts'],
          trustedIdentities: [PROFILE_ARN, 'arn:aws:signer:us-east-1:111111111111:/signing-profiles/other/OF8IVUsPJq'],
        },
        {
          name: 'corp-x509',
          registryScopes: ['registry.example.com/team/api', 'localhost:5000/app'],
          signatureVerification: {
            level: 'strict',
            override: { authenticity: 'log', authenticTimestamp: 'log' },
            verifyTimestamp: 'afterCertExpiry',
          },
          trustStores: ['ca:corp', 'tsa:timestamps'],
          trustedIdentities: ['x509.subject:C=US, ST=WA, O=Notary Test'],
        },
        {
          name: 'third-party',
          registryScopes: ['docker.io/library/nginx'],
          signatureVerification: { level: 'skip' },
        },
        {
          name: 'everything-else',
          registryScopes: ['*'],
          signatureVerification: { level: 'audit' },
          trustStores: ['signingAuthority:aws-signer-ts', 'signingAuthority:aws-us-gov-signer-ts'],
          trustedIdentities: [PROFILE_ARN],
        },
      ],
    });
    expect(policy.trustStoreCertificates()).toEqual({
      'signingAuthority:aws-signer-ts': TrustStore.AWS_SIGNER.certificates,
      'ca:corp': ca.certificates,
      'tsa:timestamps': tsa.certificates,
      'signingAuthority:aws-us-gov-signer-ts': TrustStore.AWS_SIGNER_GOVCLOUD.certificates,
    });
    // The JSON text is plain JSON when nothing is a token.
    expect(JSON.parse(stack.resolve(policy.toJson(stack)))).toEqual(stack.resolve(policy.render(stack)));
  });

  test('token scopes and identities pass synth-time validation', () => {
    const stack = newStack();
    const scope = new CfnParameter(stack, 'Scope').valueAsString;
    const subject = new CfnParameter(stack, 'Subject').valueAsString;
    const arn = new CfnParameter(stack, 'Arn').valueAsString;
    const chain = makeChain({ length: 2, keySlot: 'tp-tok' });
    const policy = new TrustPolicy();
    policy.addStatement({
      name: 'tokens',
      registryScopes: [scope],
      trustStores: [TrustStore.AWS_SIGNER, TrustStore.fromPem(TrustStoreType.CA, 'ca', chain.rootPem)],
      trustedIdentities: [TrustedIdentity.fromArn(arn), TrustedIdentity.fromX509Subject(subject)],
    });
    expect(stack.resolve(policy.render(stack)).trustPolicies[0]).toEqual({
      name: 'tokens',
      registryScopes: [{ Ref: 'Scope' }],
      signatureVerification: { level: 'strict' },
      trustStores: ['signingAuthority:aws-signer-ts', 'ca:ca'],
      trustedIdentities: [{ Ref: 'Arn' }, { 'Fn::Join': ['', ['x509.subject:', { Ref: 'Subject' }]] }],
    });
  });
});

describe('TrustPolicy validation (notation rules, at synth)', () => {
  const base = {
    registryScopes: [SCOPE],
    trustStores: [TrustStore.AWS_SIGNER],
    trustedIdentities: [TrustedIdentity.fromArn(PROFILE_ARN)],
  };

  const statementErrors: [string, any, RegExp][] = [
    ['empty registry scopes', { ...base, name: 's', registryScopes: [] },
      /oci trust policy statement "s" has zero registry scopes/],
    ['scope with a tag', { ...base, name: 's', registryScopes: [`${SCOPE}:v1`] }, /registry scope ".*app:v1" is not valid/],
    ['scope with a wildcard', { ...base, name: 's', registryScopes: ['registry.example.com/*'] }, /registry scope "registry.example.com\/\*" with wild card\(s\) is not valid/],
    ['wildcard scope with others', { ...base, name: 's', registryScopes: ['*', SCOPE] }, /wildcard/i],
    ['missing trust stores', { ...base, name: 's', trustStores: [] }, /trust policy statement "s" is either missing trust stores or trusted identities, both must be specified/],
    ['missing identities', { ...base, name: 's', trustedIdentities: [] }, /is either missing trust stores or trusted identities/],
    ['skip with trust stores', { ...base, name: 's', level: VerificationLevel.SKIP },
      /trust policy statement "s" is set to skip signature verification but configured with trust stores and\/or trusted identities/],
    ['skip with overrides', { name: 's', registryScopes: [SCOPE], level: VerificationLevel.SKIP, overrides: { revocation: VerificationAction.LOG } },
      /signature verification level "skip" can't be used to customize signature verification/],
    ['skipping authenticity', { ...base, name: 's', overrides: { authenticity: VerificationAction.SKIP } },
      /"authenticity" verification can not be skipped in custom signature verification/],
    ['wildcard identity with others', { ...base, name: 's', trustedIdentities: [TrustedIdentity.any(), TrustedIdentity.fromArn(PROFILE_ARN)] },
      /trust policy statement "s" uses a wildcard trusted identity '\*', a wildcard identity cannot be used in conjunction with other values/],
    ['identity without separator', { ...base, name: 's', trustedIdentities: [TrustedIdentity.of('nocolon')] }, /has trusted identity "nocolon" missing separator/],
    ['x509 subject without C, ST, O', { ...base, name: 's', trustedIdentities: [TrustedIdentity.fromX509Subject('CN=only')] },
      /trust policy statement "s" has trusted identity "x509.subject:CN=only" with invalid identity value/],
    ['overlapping x509 subjects', {
      ...base,
      name: 's',
      trustedIdentities: [
        TrustedIdentity.fromX509Subject('C=US, ST=WA, O=Acme'), TrustedIdentity.fromX509Subject('C=US, ST=WA, O=Acme, CN=Build'),
      ],
    },
    /has overlapping x509 trustedIdentities/],
    ['missing name', { ...base, name: '' }, /a trust policy statement is missing a name/],
  ];

  test.each(statementErrors)('addStatement rejects %s', (_name, statement, message) => {
    const policy = new TrustPolicy();
    expect(() => policy.addStatement(statement)).toThrow(message);
    expect(policy.statements).toHaveLength(0);
  });

  test('an error not naming the statement is prefixed with its name', () => {
    expect(() => new TrustPolicy().addStatement({ ...base, name: 'scoped', registryScopes: ['https://x.example.com/app'] }))
      .toThrow(/^invalid trust policy statement "scoped": registry scope "https:\/\/x.example.com\/app" is not valid/);
  });

  test('errors are ValidationErrors; render names the construct', () => {
    const stack = newStack();
    const policy = new TrustPolicy();
    policy.addStatement({ ...base, name: 'a' });
    policy.addStatement({ ...base, name: 'a', registryScopes: ['registry.example.com/other'] });
    let error: any;
    try {
      policy.render(stack);
    } catch (e) {
      error = e;
    }
    expect(error.name).toBe('ValidationError');
    expect(error.constructPath).toBe('Stack');
    expect(error.message).toMatch(/^invalid trust policy: .*"a"/);
  });

  test('duplicate statement names', () => {
    const policy = new TrustPolicy({ statements: [{ ...base, name: 'dup' }, { ...base, name: 'dup', registryScopes: ['registry.example.com/b'] }] });
    expect(() => policy.toJson(newStack())).toThrow(/invalid trust policy: .*"dup"/);
  });

  test('a scope in two statements, also when the scope is the same token', () => {
    const stack = newStack();
    const twice = new TrustPolicy({ statements: [{ ...base, name: 'a' }, { ...base, name: 'b' }] });
    expect(() => twice.render(stack)).toThrow(/invalid trust policy: .*registry scope/);

    const token = new CfnParameter(stack, 'Scope').valueAsString;
    const tokenTwice = new TrustPolicy({ statements: [{ ...base, name: 'a', registryScopes: [token] }, { ...base, name: 'b', registryScopes: [token] }] });
    expect(() => tokenTwice.render(stack)).toThrow(/invalid trust policy: .*registry scope/);

    const other = new CfnParameter(stack, 'Other').valueAsString;
    const distinct = new TrustPolicy({ statements: [{ ...base, name: 'a', registryScopes: [token] }, { ...base, name: 'b', registryScopes: [other] }] });
    expect(() => distinct.render(stack)).not.toThrow();
  });

  test('two wildcard statements', () => {
    const policy = new TrustPolicy({ statements: [{ ...base, name: 'a', registryScopes: ['*'] }, { ...base, name: 'b', registryScopes: ['*'] }] });
    expect(() => policy.render(newStack())).toThrow(/invalid trust policy/);
  });

  test('an empty policy', () => {
    expect(() => new TrustPolicy().render(newStack())).toThrow(/invalid trust policy/);
  });

  test('two different trust stores with one name', () => {
    const one = TrustStore.fromPem(TrustStoreType.CA, 'corp', makeChain({ length: 2, keySlot: 'tp-one' }).rootPem);
    const two = TrustStore.fromPem(TrustStoreType.CA, 'corp', makeChain({ length: 2, keySlot: 'tp-two' }).rootPem);
    const x509 = TrustedIdentity.fromX509Subject('C=US, ST=WA, O=Notary Test');
    const policy = new TrustPolicy({
      statements: [
        { name: 'a', registryScopes: ['registry.example.com/a'], trustStores: [one], trustedIdentities: [x509] },
        { name: 'b', registryScopes: ['registry.example.com/b'], trustStores: [two], trustedIdentities: [x509] },
      ],
    });
    expect(() => policy.trustStoreCertificates()).toThrow(/two different trust stores are named "ca:corp"/);
    expect(() => policy.render(newStack())).toThrow(/two different trust stores are named "ca:corp"/);

    // The same store used twice is fine.
    const same = new TrustPolicy({
      statements: [
        { name: 'a', registryScopes: ['registry.example.com/a'], trustStores: [one], trustedIdentities: [x509] },
        { name: 'b', registryScopes: ['registry.example.com/b'], trustStores: [one], trustedIdentities: [x509] },
      ],
    });
    expect(Object.keys(same.trustStoreCertificates())).toEqual(['ca:corp']);
  });
});
