import { App, CfnParameter, Duration, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SignedRegistry } from '../src';

const ENV = { account: '111111111111', region: 'us-east-1' };
const PROFILE_ARN = 'arn:aws:signer:us-east-1:111111111111:/signing-profiles/ci_profile';
const PUSH_ACTIONS = [
  'ecr:CompleteLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:InitiateLayerUpload',
  'ecr:BatchCheckLayerAvailability',
  'ecr:PutImage',
];

function newStack(env: { account?: string; region?: string } | undefined = ENV, app = new App(), id = 'Stack'): Stack {
  return new Stack(app, id, { env });
}

/** Statements of every IAM policy in the template, flattened. */
function policyStatements(stack: Stack): any[] {
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

function actionsOf(statement: any): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

describe('SignedRegistry defaults', () => {
  test('creates a repository, a Notation signing profile and one signing configuration', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry');
    const t = Template.fromStack(stack);

    t.resourceCountIs('AWS::ECR::Repository', 1);
    t.resourceCountIs('AWS::Signer::SigningProfile', 1);
    t.hasResourceProperties('AWS::Signer::SigningProfile', {
      PlatformId: 'Notation-OCI-SHA384-ECDSA',
      SignatureValidityPeriod: { Type: 'MONTHS', Value: 135 },
      ProfileName: Match.absent(),
    });
    t.resourceCountIs('AWS::ECR::SigningConfiguration', 1);

    const profileId = stack.getLogicalId(registry.signingProfile!);
    const repoId = stack.getLogicalId(registry.repositories[0].node.defaultChild as ecr.CfnRepository);
    const expectedArn = {
      'Fn::Join': ['', [
        'arn:', { Ref: 'AWS::Partition' }, ':signer:us-east-1:111111111111:/signing-profiles/',
        { 'Fn::GetAtt': [profileId, 'ProfileName'] },
      ]],
    };
    t.hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: [{
        SigningProfileArn: expectedArn,
        RepositoryFilters: [{ Filter: { Ref: repoId }, FilterType: 'WILDCARD_MATCH' }],
      }],
    });
    expect(stack.resolve(registry.signingProfileArn)).toEqual(expectedArn);
    expect(stack.resolve(registry.signingProfileArn)).not.toEqual(expect.stringContaining('://'));
    expect(stack.resolve(registry.signingProfileVersionArn)).toEqual({ 'Fn::GetAtt': [profileId, 'ProfileVersionArn'] });
    expect(stack.resolve(registry.signingProfileName)).toEqual({ 'Fn::GetAtt': [profileId, 'ProfileName'] });
    expect(registry.trustedIdentity.value).toBe(registry.signingProfileArn);
    expect(registry.managedSigning).toBe(true);
    expect(registry.repositoryUris).toHaveLength(1);
    expect(stack.resolve(registry.repositoryUris[0])).toEqual(stack.resolve(registry.repositories[0].repositoryUri));
    expect(registry.repositoryFilters).toEqual([registry.repositories[0].repositoryName]);
  });

  test('the configuration lives at stack level and is not created for a registry without managed signing', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry', { managedSigning: false });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ECR::SigningConfiguration', 0);
    t.resourceCountIs('AWS::Signer::SigningProfile', 1);
    expect(registry.managedSigning).toBe(false);
    expect(registry.repositoryFilters).toEqual([]);
  });
});

describe('SignedRegistry props', () => {
  test('repositoryName, signingProfileName and signatureValidity', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry', {
      repositoryName: 'team/app',
      signingProfileName: 'team_app_signer',
      signatureValidity: Duration.days(365),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: 'team/app' });
    t.hasResourceProperties('AWS::Signer::SigningProfile', {
      PlatformId: 'Notation-OCI-SHA384-ECDSA',
      ProfileName: 'team_app_signer',
      SignatureValidityPeriod: { Type: 'DAYS', Value: 365 },
    });
    const arn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':signer:us-east-1:111111111111:/signing-profiles/team_app_signer']],
    };
    expect(stack.resolve(registry.signingProfileArn)).toEqual(arn);
    expect(registry.signingProfileName).toBe('team_app_signer');
    t.hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: [{ SigningProfileArn: arn, RepositoryFilters: [{ Filter: 'team/app', FilterType: 'WILDCARD_MATCH' }] }],
    });
  });

  test('signatureValidity in years is rendered in days', () => {
    const stack = newStack();
    new SignedRegistry(stack, 'Registry', { signatureValidity: Duration.days(3 * 365) });
    Template.fromStack(stack).hasResourceProperties('AWS::Signer::SigningProfile', {
      SignatureValidityPeriod: { Type: 'DAYS', Value: 1095 },
    });
  });

  test('repositoryProps are passed to the repository', () => {
    const stack = newStack();
    new SignedRegistry(stack, 'Registry', {
      repositoryProps: { repositoryName: 'immutable-app', imageTagMutability: ecr.TagMutability.IMMUTABLE },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: 'immutable-app',
      ImageTagMutability: 'IMMUTABLE',
    });
  });

  test('explicit repository filters with wildcards', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry', {
      repositoryName: 'team/app',
      repositoryFilters: ['team/*', '*prod*', '*/production', '*'],
    });
    expect(registry.repositoryFilters).toEqual(['team/*', '*prod*', '*/production', '*']);
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: [{
        RepositoryFilters: [
          { Filter: 'team/*', FilterType: 'WILDCARD_MATCH' },
          { Filter: '*prod*', FilterType: 'WILDCARD_MATCH' },
          { Filter: '*/production', FilterType: 'WILDCARD_MATCH' },
          { Filter: '*', FilterType: 'WILDCARD_MATCH' },
        ],
      }],
    });
  });

  test('imported repositories (several) and an imported signing profile', () => {
    const stack = newStack();
    const a = ecr.Repository.fromRepositoryName(stack, 'A', 'team/a');
    const b = ecr.Repository.fromRepositoryName(stack, 'B', 'team/b');
    const registry = new SignedRegistry(stack, 'Registry', { repositories: [a, b], signingProfileArn: PROFILE_ARN });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ECR::Repository', 0);
    t.resourceCountIs('AWS::Signer::SigningProfile', 0);
    t.resourceCountIs('AWS::ECR::SigningConfiguration', 1);
    t.hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: [{
        SigningProfileArn: PROFILE_ARN,
        RepositoryFilters: [
          { Filter: 'team/a', FilterType: 'WILDCARD_MATCH' },
          { Filter: 'team/b', FilterType: 'WILDCARD_MATCH' },
        ],
      }],
    });
    expect(registry.signingProfileArn).toBe(PROFILE_ARN);
    expect(registry.signingProfileName).toBe('ci_profile');
    expect(registry.signingProfileVersionArn).toBeUndefined();
    expect(registry.signingProfile).toBeUndefined();
    expect(registry.repositories).toEqual([a, b]);
    expect(registry.repositoryUris.map(u => stack.resolve(u))).toEqual([
      { 'Fn::Join': ['', ['111111111111.dkr.ecr.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/team/a']] },
      { 'Fn::Join': ['', ['111111111111.dkr.ecr.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/team/b']] },
    ]);
    expect(registry.trustedIdentity.value).toBe(PROFILE_ARN);
  });

  test('token-valued profile name, repository name and profile ARN skip validation', () => {
    const stack = newStack();
    const profileName = new CfnParameter(stack, 'ProfileName').valueAsString;
    const repoName = new CfnParameter(stack, 'RepoName').valueAsString;
    const withTokens = new SignedRegistry(stack, 'Tokens', { repositoryName: repoName, signingProfileName: profileName });
    const importedArn = Fn.importValue('SharedProfileArn');
    const imported = new SignedRegistry(stack, 'Imported', { repositoryName: 'other', signingProfileArn: importedArn });

    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Signer::SigningProfile', { ProfileName: { Ref: 'ProfileName' } });
    t.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: { Ref: 'RepoName' } });
    expect(stack.resolve(withTokens.signingProfileArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':signer:us-east-1:111111111111:/signing-profiles/', { Ref: 'ProfileName' }]],
    });
    expect(stack.resolve(imported.signingProfileName)).toEqual({
      'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::ImportValue': 'SharedProfileArn' }] }],
    });
    t.hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: Match.arrayWith([{
        SigningProfileArn: { 'Fn::ImportValue': 'SharedProfileArn' },
        RepositoryFilters: [{ Filter: 'other', FilterType: 'WILDCARD_MATCH' }],
      }]),
    });
    expect(() => (stack.node.root as App).synth()).not.toThrow();
  });

  test('token-valued repository filters are accepted', () => {
    const stack = newStack();
    const filter = new CfnParameter(stack, 'Filter').valueAsString;
    new SignedRegistry(stack, 'Registry', { repositoryFilters: [filter] });
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: [{ RepositoryFilters: [{ Filter: { Ref: 'Filter' }, FilterType: 'WILDCARD_MATCH' }] }],
    });
  });
});

describe('one signing configuration per stack', () => {
  test('two SignedRegistry in one stack are merged into one AWS::ECR::SigningConfiguration', () => {
    const stack = newStack();
    const one = new SignedRegistry(stack, 'One', { repositoryName: 'one', signingProfileName: 'one_signer' });
    const two = new SignedRegistry(stack, 'Two', { repositoryName: 'two', signingProfileName: 'two_signer' });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::ECR::SigningConfiguration', 1);
    t.resourceCountIs('AWS::Signer::SigningProfile', 2);
    t.hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: [
        { SigningProfileArn: stack.resolve(one.signingProfileArn), RepositoryFilters: [{ Filter: 'one', FilterType: 'WILDCARD_MATCH' }] },
        { SigningProfileArn: stack.resolve(two.signingProfileArn), RepositoryFilters: [{ Filter: 'two', FilterType: 'WILDCARD_MATCH' }] },
      ],
    });
    // The configuration is a stack-level singleton, not a child of either registry.
    const config = Object.keys(t.findResources('AWS::ECR::SigningConfiguration'))[0];
    expect(config).toMatch(/^SignedImagesSigningConfiguration/);
  });

  test('registries sharing a profile ARN share one rule (filters merged, deduplicated)', () => {
    const stack = newStack();
    new SignedRegistry(stack, 'One', { repositoryName: 'one', signingProfileArn: PROFILE_ARN });
    new SignedRegistry(stack, 'Two', { repositoryName: 'two', signingProfileArn: PROFILE_ARN, repositoryFilters: ['two', 'one'] });
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::SigningConfiguration', {
      Rules: [{
        SigningProfileArn: PROFILE_ARN,
        RepositoryFilters: [
          { Filter: 'one', FilterType: 'WILDCARD_MATCH' },
          { Filter: 'two', FilterType: 'WILDCARD_MATCH' },
        ],
      }],
    });
  });

  test('at most 10 rules per registry', () => {
    const app = new App();
    const stack = newStack(ENV, app);
    for (let i = 0; i < 11; i++) {
      new SignedRegistry(stack, `R${i}`, { repositoryName: `repo${i}`, signingProfileName: `profile_${i}` });
    }
    expect(() => app.synth()).toThrow(/at most 10 signing rules per registry, but this stack has 11/);
  });

  test('10 rules are fine', () => {
    const app = new App();
    const stack = newStack(ENV, app);
    for (let i = 0; i < 10; i++) {
      new SignedRegistry(stack, `R${i}`, { repositoryName: `repo${i}`, signingProfileName: `profile_${i}` });
    }
    expect(() => app.synth()).not.toThrow();
  });

  test('at most 100 repository filters in a merged rule', () => {
    const app = new App();
    const stack = newStack(ENV, app);
    const filters = Array.from({ length: 60 }, (_, i) => `repo${i}`);
    new SignedRegistry(stack, 'A', { signingProfileArn: PROFILE_ARN, repositoryFilters: filters });
    new SignedRegistry(stack, 'B', { signingProfileArn: PROFILE_ARN, repositoryFilters: filters.map(f => `${f}b`) });
    expect(() => app.synth()).toThrow(/has 120 repository filters; at most 100 are allowed/);
  });

  test('warns when two stacks of one app in one environment each create a configuration', () => {
    const app = new App();
    const first = newStack(ENV, app, 'First');
    const second = newStack(ENV, app, 'Second');
    const otherRegion = newStack({ ...ENV, region: 'eu-west-1' }, app, 'OtherRegion');
    new SignedRegistry(first, 'Registry');
    new SignedRegistry(second, 'Registry');
    new SignedRegistry(otherRegion, 'Registry');
    const pattern = Match.stringLikeRegexp('also creates an AWS::ECR::SigningConfiguration for account 111111111111 in us-east-1.*registry-wide');
    Annotations.fromStack(first).hasWarning('/First/SignedImagesSigningConfiguration', Match.stringLikeRegexp('Stack Second also creates'));
    Annotations.fromStack(second).hasWarning('/Second/SignedImagesSigningConfiguration', Match.stringLikeRegexp('Stack First also creates'));
    Annotations.fromStack(first).hasWarning('*', pattern);
    Annotations.fromStack(otherRegion).hasNoWarning('*', Match.stringLikeRegexp('also creates'));
  });

  test('warns when two env-agnostic stacks each create a configuration (they may share an environment)', () => {
    const app = new App();
    const a = newStack({}, app, 'A');
    const b = newStack({}, app, 'B');
    new SignedRegistry(a, 'Registry');
    new SignedRegistry(b, 'Registry');
    const maybe = (peer: string) => Match.stringLikeRegexp(`Stack ${peer} also creates an AWS::ECR::SigningConfiguration, and the two stacks may be deployed to the same account and region.*no explicit env.*registry-wide.*explicit env with different account or region`);
    Annotations.fromStack(a).hasWarning('/A/SignedImagesSigningConfiguration', maybe('B'));
    Annotations.fromStack(b).hasWarning('/B/SignedImagesSigningConfiguration', maybe('A'));
  });

  test('warns when one stack is env-agnostic and the other has an explicit env, in either order', () => {
    for (const agnosticFirst of [true, false]) {
      const app = new App();
      const [x, y] = agnosticFirst
        ? [newStack({}, app, 'Agnostic'), newStack(ENV, app, 'Explicit')]
        : [newStack(ENV, app, 'Explicit'), newStack({}, app, 'Agnostic')];
      new SignedRegistry(x, 'Registry');
      new SignedRegistry(y, 'Registry');
      const agnostic = agnosticFirst ? x : y;
      const explicit = agnosticFirst ? y : x;
      Annotations.fromStack(agnostic).hasWarning('*', Match.stringLikeRegexp('Stack Explicit also creates .*may be deployed to the same account and region'));
      Annotations.fromStack(explicit).hasWarning('*', Match.stringLikeRegexp('Stack Agnostic also creates .*may be deployed to the same account and region'));
    }
  });

  test('partly explicit env: a literal account or region that differs rules the overlap out; a shared one does not', () => {
    const app = new App();
    const accountOnlyA = newStack({ account: '111111111111' }, app, 'AccountOnlyA');
    const accountOnlyOther = newStack({ account: '222222222222' }, app, 'AccountOnlyOther');
    const regionOnly = newStack({ region: 'eu-west-1' }, app, 'RegionOnly');
    const explicitUsEast = newStack({ account: '111111111111', region: 'us-east-1' }, app, 'ExplicitUsEast');
    for (const s of [accountOnlyA, accountOnlyOther, regionOnly, explicitUsEast]) new SignedRegistry(s, 'Registry');
    const warningsOf = (s: Stack) => Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('also creates'))
      .map((w) => String(w.entry.data).match(/^Stack (\S+)/)![1]).sort();
    // 111… vs 222…: different accounts. RegionOnly (eu-west-1) vs ExplicitUsEast (us-east-1): different regions.
    expect(warningsOf(accountOnlyA)).toEqual(['ExplicitUsEast', 'RegionOnly']);
    expect(warningsOf(accountOnlyOther)).toEqual(['RegionOnly']);
    expect(warningsOf(regionOnly)).toEqual(['AccountOnlyA', 'AccountOnlyOther']);
    expect(warningsOf(explicitUsEast)).toEqual(['AccountOnlyA']);
  });

  test('no warning for a single env-agnostic stack, or a stack without managed signing', () => {
    const app = new App();
    const a = newStack({}, app, 'A');
    const c = newStack(ENV, app, 'C');
    const d = newStack({}, app, 'D');
    new SignedRegistry(a, 'Registry');
    new SignedRegistry(a, 'Registry2', { repositoryName: 'second' });
    new SignedRegistry(c, 'Registry', { managedSigning: false });
    new SignedRegistry(d, 'Registry', { managedSigning: false });
    for (const s of [a, c, d]) {
      Annotations.fromStack(s).hasNoWarning('*', Match.stringLikeRegexp('also creates'));
    }
  });
});

describe('validation', () => {
  const cases: [string, () => void, RegExp][] = [
    ['profile name with a hyphen', () => new SignedRegistry(newStack(), 'R', { signingProfileName: 'my-profile' }),
      /signingProfileName "my-profile" is invalid: AWS Signer profile names are 2 to 64 letters, digits and underscores/],
    ['profile name too short', () => new SignedRegistry(newStack(), 'R', { signingProfileName: 'a' }), /signingProfileName "a" is invalid/],
    ['profile name too long', () => new SignedRegistry(newStack(), 'R', { signingProfileName: 'a'.repeat(65) }), /signingProfileName "a{65}" is invalid/],
    ['profile version ARN', () => new SignedRegistry(newStack(), 'R', { signingProfileArn: `${PROFILE_ARN}/OF8IVUsPJq` }),
      /is a profile version ARN; ECR signing rules need the profile ARN/],
    ['double-slash ARN', () => new SignedRegistry(newStack(), 'R', { signingProfileArn: PROFILE_ARN.replace(':/', '://') }),
      /signing profile ARN ".*" is invalid/],
    ['singular signing-profile ARN', () => new SignedRegistry(newStack(), 'R', { signingProfileArn: PROFILE_ARN.replace('signing-profiles', 'signing-profile') }),
      /is invalid: expected arn:<partition>:signer:<region>:<account>:\/signing-profiles\/<name>/],
    ['non-signer ARN', () => new SignedRegistry(newStack(), 'R', { signingProfileArn: 'arn:aws:kms:us-east-1:111111111111:key/abc' }), /is invalid/],
    ['hyphen in imported profile name', () => new SignedRegistry(newStack(), 'R', { signingProfileArn: PROFILE_ARN.replace('ci_profile', 'ci-profile') }), /is invalid/],
    ['uppercase filter', () => new SignedRegistry(newStack(), 'R', { repositoryFilters: ['Team/*'] }), /repository filter "Team\/\*" is invalid/],
    ['empty path segment in filter', () => new SignedRegistry(newStack(), 'R', { repositoryFilters: ['team//app'] }), /repository filter "team\/\/app" is invalid/],
    ['trailing separator in filter', () => new SignedRegistry(newStack(), 'R', { repositoryFilters: ['team-'] }), /repository filter "team-" is invalid/],
    ['filter too long', () => new SignedRegistry(newStack(), 'R', { repositoryFilters: ['a'.repeat(257)] }), /repository filter "a{257}" is invalid/],
    ['empty filter', () => new SignedRegistry(newStack(), 'R', { repositoryFilters: [''] }), /repository filter "" is invalid/],
    ['empty filter list', () => new SignedRegistry(newStack(), 'R', { repositoryFilters: [] }), /repositoryFilters must not be empty/],
    ['filters without managed signing', () => new SignedRegistry(newStack(), 'R', { managedSigning: false, repositoryFilters: ['a'] }),
      /repositoryFilters apply to managed signing only/],
    ['repositories and repositoryName', () => {
      const stack = newStack();
      new SignedRegistry(stack, 'R', { repositories: [ecr.Repository.fromRepositoryName(stack, 'I', 'x')], repositoryName: 'y' });
    }, /give either repositories \(existing\) or repositoryName\/repositoryProps/],
    ['repositories and repositoryProps', () => {
      const stack = newStack();
      new SignedRegistry(stack, 'R', { repositories: [ecr.Repository.fromRepositoryName(stack, 'I', 'x')], repositoryProps: {} });
    }, /give either repositories/],
    ['empty repositories', () => new SignedRegistry(newStack(), 'R', { repositories: [] }), /repositories must not be empty/],
    ['two different repository names', () => new SignedRegistry(newStack(), 'R', { repositoryName: 'a', repositoryProps: { repositoryName: 'b' } }),
      /repositoryName and repositoryProps.repositoryName differ/],
    ['profile name with imported profile', () => new SignedRegistry(newStack(), 'R', { signingProfileArn: PROFILE_ARN, signingProfileName: 'x_y' }),
      /signingProfileName is only for a created profile/],
    ['validity with imported profile', () => new SignedRegistry(newStack(), 'R', { signingProfileArn: PROFILE_ARN, signatureValidity: Duration.days(30) }),
      /signatureValidity is only for a created profile/],
    ['fractional validity', () => new SignedRegistry(newStack(), 'R', { signatureValidity: Duration.hours(36) }),
      /signatureValidity must be a whole number of days, at least 1 \(got 1 day 12 hours\)/],
    ['zero validity', () => new SignedRegistry(newStack(), 'R', { signatureValidity: Duration.days(0) }), /signatureValidity must be a whole number of days/],
  ];

  test.each(cases)('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test('errors are ValidationErrors naming the construct, and collected', () => {
    let error: any;
    try {
      new SignedRegistry(newStack(), 'Registry', { signingProfileName: 'bad-name', repositoryFilters: ['BAD'] });
    } catch (e) {
      error = e;
    }
    expect(error.name).toBe('ValidationError');
    expect(error.constructPath).toBe('Stack/Registry');
    expect(error.message).toMatch(/signingProfileName "bad-name" is invalid/);
    expect(error.message).toMatch(/repository filter "BAD" is invalid/);
    expect(error.message).toMatch(/\(at Stack\/Registry\)$/);
  });

  test('a 64-character profile name with digits and underscores is valid', () => {
    const stack = newStack();
    new SignedRegistry(stack, 'R', { signingProfileName: `A_1${'b'.repeat(61)}` });
    Template.fromStack(stack).hasResourceProperties('AWS::Signer::SigningProfile', { ProfileName: `A_1${'b'.repeat(61)}` });
  });

  test('GovCloud profile ARNs are valid', () => {
    const stack = newStack({ account: '111111111111', region: 'us-gov-west-1' });
    const arn = 'arn:aws-us-gov:signer:us-gov-west-1:111111111111:/signing-profiles/gov_profile';
    new SignedRegistry(stack, 'R', { signingProfileArn: arn });
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::SigningConfiguration', { Rules: [Match.objectLike({ SigningProfileArn: arn })] });
  });
});

describe('grants', () => {
  test('grantPushAndSign: ECR push on the repository, GetAuthorizationToken, SignPayload on the profile', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry', { repositoryName: 'app', signingProfileName: 'app_signer' });
    const role = new iam.Role(stack, 'Pusher', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
    registry.grantPushAndSign(role);

    const statements = policyStatements(stack);
    const repoArn = stack.resolve((registry.repositories[0] as ecr.Repository).repositoryArn);
    const push = statements.find(s => actionsOf(s).includes('ecr:PutImage'));
    expect(push).toBeDefined();
    expect(actionsOf(push).sort()).toEqual([...PUSH_ACTIONS].sort());
    expect(push.Resource).toEqual(repoArn);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'ecr:GetAuthorizationToken', Resource: '*', Effect: 'Allow' }));
    expect(statements).toContainEqual(expect.objectContaining({
      Action: 'signer:SignPayload',
      Effect: 'Allow',
      Resource: stack.resolve(registry.signingProfileArn),
    }));
    expect(stack.resolve(registry.signingProfileArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':signer:us-east-1:111111111111:/signing-profiles/app_signer']],
    });
    Template.fromStack(stack).resourceCountIs('AWS::Signer::ProfilePermission', 0);
  });

  test('grantPull: pull actions on every repository, no signer action', () => {
    const stack = newStack();
    const a = ecr.Repository.fromRepositoryName(stack, 'A', 'team/a');
    const b = ecr.Repository.fromRepositoryName(stack, 'B', 'team/b');
    const registry = new SignedRegistry(stack, 'Registry', { repositories: [a, b] });
    const role = new iam.Role(stack, 'Puller', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const grant = registry.grantPull(role);
    expect(grant.success).toBe(true);

    const statements = policyStatements(stack);
    const pulls = statements.filter(s => actionsOf(s).includes('ecr:BatchGetImage'));
    expect(pulls.map(s => stack.resolve(s.Resource))).toEqual([stack.resolve(a.repositoryArn), stack.resolve(b.repositoryArn)]);
    expect(actionsOf(pulls[0]).sort()).toEqual(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']);
    expect(statements.some(s => actionsOf(s).some(x => x.startsWith('signer:')))).toBe(false);
    expect(statements.some(s => actionsOf(s).includes('ecr:PutImage'))).toBe(false);
  });

  test('grantVerify: pull plus signer:GetRevocationStatus on *', () => {
    const stack = newStack();
    const registry = new SignedRegistry(stack, 'Registry');
    const role = new iam.Role(stack, 'Verifier', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    registry.grantVerify(role);
    const statements = policyStatements(stack);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'signer:GetRevocationStatus', Resource: '*' }));
    expect(statements.some(s => actionsOf(s).includes('ecr:BatchGetImage'))).toBe(true);
    expect(statements.some(s => actionsOf(s).includes('signer:SignPayload'))).toBe(false);
  });

  test('cross-account grantPushAndSign: repository policy plus an AWS Signer profile permission', () => {
    const app = new App();
    const registryStack = newStack(ENV, app, 'Registry');
    const ciStack = newStack({ account: '222222222222', region: 'us-east-1' }, app, 'Ci');
    const registry = new SignedRegistry(registryStack, 'Registry', { repositoryName: 'app', signingProfileName: 'app_signer' });
    const role = new iam.Role(ciStack, 'Pusher', {
      roleName: 'ci-pusher',
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    });
    registry.grantPushAndSign(role);
    registry.grantPushAndSign(role); // a second grant adds no second profile permission

    const t = Template.fromStack(registryStack);
    t.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryPolicyText: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: Match.arrayWith(['ecr:PutImage']),
          Effect: 'Allow',
          // aws-cdk-lib's cross-account grant: the other account, narrowed to the tagged principal.
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:root']] } },
          Condition: { StringEquals: { 'aws:PrincipalTag/aws-cdk:id': Match.stringLikeRegexp('^Ci_') } },
        })]),
      },
    });
    t.resourceCountIs('AWS::Signer::ProfilePermission', 1);
    t.hasResourceProperties('AWS::Signer::ProfilePermission', {
      Action: 'signer:SignPayload',
      Principal: '222222222222',
      ProfileName: 'app_signer',
      StatementId: 'SignPayload222222222222',
    });
    // The role's own policy (in the other account's stack) allows signing with the profile.
    const ciStatements = policyStatements(ciStack);
    expect(ciStatements).toContainEqual(expect.objectContaining({
      Action: 'signer:SignPayload',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':signer:us-east-1:111111111111:/signing-profiles/app_signer']] },
    }));
  });

  test('cross-account grant with an imported profile warns that the profile owner must allow it', () => {
    const app = new App();
    const registryStack = newStack(ENV, app, 'Registry');
    const ciStack = newStack({ account: '222222222222', region: 'us-east-1' }, app, 'Ci');
    const registry = new SignedRegistry(registryStack, 'Registry', { repositoryName: 'app', signingProfileArn: PROFILE_ARN });
    const role = new iam.Role(ciStack, 'Pusher', { roleName: 'ci-pusher', assumedBy: new iam.AccountRootPrincipal() });
    registry.grantPushAndSign(role);
    Template.fromStack(registryStack).resourceCountIs('AWS::Signer::ProfilePermission', 0);
    Annotations.fromStack(registryStack).hasWarning('/Registry/Registry',
      Match.stringLikeRegexp('account 222222222222 can sign only once the owner of the imported signing profile allows it'));
  });

  test('a profile of another region triggers a warning', () => {
    const stack = newStack();
    new SignedRegistry(stack, 'Registry', { signingProfileArn: PROFILE_ARN.replace('us-east-1', 'eu-west-1') });
    new SignedRegistry(stack, 'Same', { signingProfileArn: PROFILE_ARN });
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/Stack/Registry', Match.stringLikeRegexp('The signing profile is in eu-west-1 but the registry is in us-east-1'));
    annotations.hasNoWarning('/Stack/Same', Match.anyValue());
  });

  test('a repository of another account or region triggers a warning', () => {
    const stack = newStack();
    const foreign = ecr.Repository.fromRepositoryArn(stack, 'Foreign', 'arn:aws:ecr:eu-west-1:333333333333:repository/foreign');
    new SignedRegistry(stack, 'Registry', { repositories: [foreign] });
    Annotations.fromStack(stack).hasWarning('/Stack/Registry', Match.stringLikeRegexp('is not in this stack\'s account and region'));
  });
});
