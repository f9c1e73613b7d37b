import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { TrustStore, TrustStoreType } from '../../../src/trust-policy';
import { ConfigurationError, VerificationFailedError } from '../../../src/verifier/errors';
import {
  checkActions,
  NotationPolicyStatement,
  NotationTrustPolicy,
  parseTrustPolicy,
  parseTrustStoreRef,
  policyFingerprint,
  registryScopeError,
  selectStatement,
  trustStoreNames,
  validateTrustPolicy,
} from '../../../src/verifier/policy';
import { goQuote } from '../../../src/verifier/text/go-quote';
import { TRUST_STORE_NAME_PATTERN } from '../../../src/verifier/types';
import { InMemoryTrustStore } from '../../../src/verifier/x509/truststore';

const POLICIES = join(__dirname, '../../fixtures/notation-go/policies');
const LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';
const MALFORMED = `malformed trust policy. To create a trust policy, see: ${LINK}`;
const SCOPE_HINT = 'make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout';

/** notation-go `dummyOCIPolicyDocument()` (verifier/helpers_test.go). */
function dummy(): any {
  return JSON.parse(readFileSync(join(POLICIES, 'dummy-oci-trustpolicy.json'), 'utf8'));
}

function statement(patch: Record<string, unknown> = {}): any {
  return { ...dummy().trustPolicies[0], ...patch };
}

function withStatement(patch: Record<string, unknown>): any {
  return { version: '1.0', trustPolicies: [statement(patch)] };
}

function errorOf(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    expect((e as ConfigurationError).code).toBe('INVALID_TRUST_POLICY');
    return e as ConfigurationError;
  }
  throw new Error('expected an error');
}

function expectInvalid(doc: unknown, message: string): void {
  expect(errorOf(() => parseTrustPolicy(doc)).message).toBe(message);
  // the same object through JSON text
  if (doc !== undefined && doc !== null && typeof doc !== 'string') {
    expect(errorOf(() => parseTrustPolicy(JSON.stringify(doc))).message).toBe(message);
  }
}

const PFX = 'oci trust policy: trust policy statement "test-statement-name"';

describe('parseTrustPolicy: valid documents', () => {
  test.each(readdirSync(POLICIES).filter((f) => f.endsWith('.json')))('notation-go policy vector %s', (file) => {
    const text = readFileSync(join(POLICIES, file), 'utf8');
    const doc = parseTrustPolicy(text);
    expect(doc).toEqual(JSON.parse(text));
  });

  test('notation-go TestValidateValidPolicyDocument (8 statements incl. skip, *, audit, verifyTimestamp)', () => {
    const base = statement();
    const doc = {
      version: '1.0',
      trustPolicies: [
        base,
        { ...base, name: 'test-statement-name-2', registryScopes: ['registry.wabbit-networks.io/software/unsigned/net-utils'], signatureVerification: { level: 'permissive' } },
        { ...base, name: 'test-statement-name-3', registryScopes: ['registry.acme-rockets.io/software/legacy/metrics'], trustStores: [], trustedIdentities: [], signatureVerification: { level: 'skip' } },
        { ...base, name: 'test-statement-name-4', registryScopes: ['*'], trustStores: ['ca:valid-trust-store', 'signingAuthority:valid-trust-store-2'], signatureVerification: { level: 'audit' } },
        { ...base, name: 'test-statement-name-5', registryScopes: ['registry.acme-rockets2.io/software'], trustedIdentities: ['*'], signatureVerification: { level: 'strict' } },
        { ...base, name: 'test-statement-name-6', registryScopes: ['registry.acme-rockets.io/software/net-monitor6'], signatureVerification: { level: 'strict', verifyTimestamp: '' } },
        { ...base, name: 'test-statement-name-7', registryScopes: ['registry.acme-rockets.io/software/net-monitor7'], signatureVerification: { level: 'strict', verifyTimestamp: 'always' } },
        { ...base, name: 'test-statement-name-8', registryScopes: ['registry.acme-rockets.io/software/net-monitor8'], signatureVerification: { level: 'strict', verifyTimestamp: 'afterCertExpiry' } },
      ],
    };
    const parsed = parseTrustPolicy(doc);
    expect(parsed.trustPolicies).toHaveLength(8);
    expect(parsed.trustPolicies[5].signatureVerification).toEqual({ level: 'strict' });
  });

  test('AWS Signer policy with ARN identities and a CDK placeholder token', () => {
    const doc: NotationTrustPolicy = {
      version: '1.0',
      trustPolicies: [{
        name: 'aws-signer-tp',
        registryScopes: ['123456789012.dkr.ecr.us-east-1.amazonaws.com/app'],
        signatureVerification: { level: 'strict', override: { revocation: 'log' } },
        trustStores: ['signingAuthority:aws-signer-ts'],
        trustedIdentities: [
          'arn:aws:signer:us-east-1:123456789012:/signing-profiles/__TOKEN__',
          'arn:aws:signer:us-east-1:123456789012:/signing-profiles/MyProfile/abcde12345',
        ],
      }],
    };
    expect(() => validateTrustPolicy(doc)).not.toThrow();
    expect(parseTrustPolicy(doc)).toEqual(doc);
  });

  test('revocation may be overridden to skip; others to log', () => {
    const doc = withStatement({ signatureVerification: { level: 'strict', override: { revocation: 'skip', expiry: 'log', authenticity: 'log', authenticTimestamp: 'enforce' } } });
    expect(() => parseTrustPolicy(doc)).not.toThrow();
  });

  test('a skip statement with an empty override is fine (notation only rejects non-empty overrides)', () => {
    expect(() => parseTrustPolicy(withStatement({ signatureVerification: { level: 'skip', override: {} }, trustStores: undefined, trustedIdentities: undefined }))).not.toThrow();
  });

  test('x509.subject identities: valid DN forms from notation-go TestValidateTrustedIdentities', () => {
    const ids = [
      'x509.subject:C=US,ST=WA,O=MyOrg,CustomRDN=CustomValue',
    ];
    expect(() => parseTrustPolicy(withStatement({ trustedIdentities: ids }))).not.toThrow();
    const three = ['x509.subject:C=US,ST=WA,O=MyOrg', 'x509.subject:C=US,ST=WA,O=  My.  Org', 'x509.subject:C=US,ST=WA,O=My "special" Org \\, \\; \\\\ others'];
    expect(() => parseTrustPolicy(withStatement({ trustedIdentities: three }))).not.toThrow();
    expect(() => parseTrustPolicy(withStatement({ trustedIdentities: ['x509.subject:C=US,S=WA,O=MyOrg'] }))).not.toThrow();
  });

  describe('decoding follows Go encoding/json as used by notation', () => {
    test('unknown keys are ignored and dropped from the result', () => {
      const doc = { ...dummy(), comment: 'x', trustPolicies: [{ ...statement(), description: 'y' }] };
      const parsed = parseTrustPolicy(doc);
      expect(parsed).toEqual(dummy());
      expect(Object.keys(parsed)).toEqual(['version', 'trustPolicies']);
    });

    test('field names match case-insensitively (an exact key wins, later keys overwrite)', () => {
      const text = '{"Version":"1.0","TRUSTPOLICIES":[{"Name":"n","RegistryScopes":["*"],"SignatureVerification":{"LEVEL":"audit"},"truststores":["ca:x"],"TrustedIdentities":["*"]}]}';
      expect(parseTrustPolicy(text)).toEqual({
        version: '1.0',
        trustPolicies: [{ name: 'n', registryScopes: ['*'], signatureVerification: { level: 'audit' }, trustStores: ['ca:x'], trustedIdentities: ['*'] }],
      });
    });

    test('override keys are exact (map keys are case-sensitive in Go)', () => {
      expectInvalid(withStatement({ signatureVerification: { level: 'strict', override: { Revocation: 'log' } } }),
        `${PFX} has invalid signatureVerification: verification type "Revocation" in custom signature verification is not supported, supported values are ["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]`);
    });

    test('null fields are empty', () => {
      expectInvalid({ version: null, trustPolicies: [] }, 'oci trust policy document has empty version, version must be specified');
      expectInvalid({ version: '1.0', trustPolicies: null }, 'oci trust policy document can not have zero trust policy statements');
      expectInvalid(withStatement({ trustStores: null }), `${PFX} is either missing trust stores or trusted identities, both must be specified`);
      expectInvalid(withStatement({ trustStores: [null] }), `${PFX} has malformed trust store value "". The required format is <TrustStoreType>:<TrustStoreName>`);
      expectInvalid(withStatement({ signatureVerification: null }), `${PFX} has invalid signatureVerification: signature verification level is empty or missing in the trust policy statement`);
      expectInvalid(withStatement({ signatureVerification: { level: 'strict', override: { expiry: null } } }),
        `${PFX} has invalid signatureVerification: verification action "" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]`);
    });

    test.each([
      ['not JSON', '{"version": '],
      ['empty text', ''],
      ['an array', '[]'],
      ['a number', '42'],
      ['numeric version', '{"version":1.0,"trustPolicies":[]}'],
      ['trustPolicies not an array', '{"version":"1.0","trustPolicies":{}}'],
      ['statement not an object', '{"version":"1.0","trustPolicies":["x"]}'],
      ['registryScopes not an array', '{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":"*"}]}'],
      ['numeric scope', '{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":[1]}]}'],
      ['override not an object', '{"version":"1.0","trustPolicies":[{"name":"a","signatureVerification":{"level":"strict","override":["log"]}}]}'],
      ['override value not a string', '{"version":"1.0","trustPolicies":[{"name":"a","signatureVerification":{"level":"strict","override":{"expiry":true}}}]}'],
      ['numeric name', '{"version":"1.0","trustPolicies":[{"name":5}]}'],
    ])('malformed: %s', (_n, text) => {
      expect(errorOf(() => parseTrustPolicy(text)).message).toBe(MALFORMED);
    });

    test('UTF-8 bytes are accepted', () => {
      expect(parseTrustPolicy(new TextEncoder().encode(JSON.stringify(dummy())))).toEqual(dummy());
    });

    test('non-plain objects are malformed', () => {
      expect(errorOf(() => parseTrustPolicy(new Date())).message).toBe(MALFORMED);
      expect(errorOf(() => parseTrustPolicy({ version: '1.0', trustPolicies: [new Map()] })).message).toBe(MALFORMED);
    });
  });
});

describe('parseTrustPolicy: every OCIDocument.Validate rule with notation\'s message', () => {
  test.each<[string, unknown, string]>([
    ['nil document', undefined, 'oci trust policy document cannot be nil'],
    ['null document', null, 'oci trust policy document cannot be nil'],
    ['JSON null', 'null', 'oci trust policy document has empty version, version must be specified'],
    ['empty version', { trustPolicies: [statement()] }, 'oci trust policy document has empty version, version must be specified'],
    ['unsupported version', { version: 'invalid', trustPolicies: [statement()] }, 'oci trust policy document uses unsupported version "invalid"'],
    ['version 2.0', { version: '2.0', trustPolicies: [statement()] }, 'oci trust policy document uses unsupported version "2.0"'],
    ['zero statements', { version: '1.0', trustPolicies: [] }, 'oci trust policy document can not have zero trust policy statements'],
    ['no trustPolicies key', { version: '1.0' }, 'oci trust policy document can not have zero trust policy statements'],
    ['missing name', withStatement({ name: '' }), 'oci trust policy: a trust policy statement is missing a name, every statement requires a name'],
    ['duplicate names', { version: '1.0', trustPolicies: [statement(), statement({ registryScopes: ['registry.wabbit-networks.io/software/net-utils'] })] },
      'multiple oci trust policy statements use the same name "test-statement-name", statement names must be unique'],
    ['empty level', withStatement({ signatureVerification: {} }), `${PFX} has invalid signatureVerification: signature verification level is empty or missing in the trust policy statement`],
    ['invalid level', withStatement({ signatureVerification: { level: 'invalid' } }), `${PFX} has invalid signatureVerification: invalid signature verification level "invalid"`],
    ['level is case-sensitive', withStatement({ signatureVerification: { level: 'Strict' } }), `${PFX} has invalid signatureVerification: invalid signature verification level "Strict"`],
    ['skip customised', withStatement({ signatureVerification: { level: 'skip', override: { revocation: 'log' } }, trustStores: [], trustedIdentities: [] }),
      `${PFX} has invalid signatureVerification: signature verification level "skip" can't be used to customize signature verification`],
    ['unknown override type', withStatement({ signatureVerification: { level: 'strict', override: { foo: 'log' } } }),
      `${PFX} has invalid signatureVerification: verification type "foo" in custom signature verification is not supported, supported values are ["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]`],
    ['unknown override action', withStatement({ signatureVerification: { level: 'strict', override: { expiry: 'warn' } } }),
      `${PFX} has invalid signatureVerification: verification action "warn" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]`],
    ['integrity overridden', withStatement({ signatureVerification: { level: 'strict', override: { integrity: 'log' } } }),
      `${PFX} has invalid signatureVerification: "integrity" verification can not be overridden in custom signature verification`],
    ['integrity with a bad action reports the action first', withStatement({ signatureVerification: { level: 'strict', override: { integrity: 'bogus' } } }),
      `${PFX} has invalid signatureVerification: verification action "bogus" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]`],
    ['authenticity skipped', withStatement({ signatureVerification: { level: 'audit', override: { authenticity: 'skip' } } }),
      `${PFX} has invalid signatureVerification: "authenticity" verification can not be skipped in custom signature verification`],
    ['authenticTimestamp skipped', withStatement({ signatureVerification: { level: 'strict', override: { authenticTimestamp: 'skip' } } }),
      `${PFX} has invalid signatureVerification: "authenticTimestamp" verification can not be skipped in custom signature verification`],
    ['expiry skipped', withStatement({ signatureVerification: { level: 'strict', override: { expiry: 'skip' } } }),
      `${PFX} has invalid signatureVerification: "expiry" verification can not be skipped in custom signature verification`],
    ['invalid verifyTimestamp', withStatement({ signatureVerification: { level: 'strict', verifyTimestamp: 'invalid' } }),
      `${PFX} has invalid signatureVerification: verifyTimestamp must be "always" or "afterCertExpiry", but got "invalid"`],
    ['skip with trust stores', withStatement({ signatureVerification: { level: 'skip' }, trustedIdentities: [] }),
      `${PFX} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped`],
    ['skip with identities', withStatement({ signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: ['x509:zoop'] }),
      `${PFX} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped`],
    ['missing trust stores', withStatement({ trustStores: [] }), `${PFX} is either missing trust stores or trusted identities, both must be specified`],
    ['missing identities', withStatement({ trustedIdentities: undefined }), `${PFX} is either missing trust stores or trusted identities, both must be specified`],
    ['trust store without separator', withStatement({ trustStores: ['ca'] }), `${PFX} has malformed trust store value "ca". The required format is <TrustStoreType>:<TrustStoreName>`],
    ['unsupported trust store type', withStatement({ trustStores: ['invalid:test-trust-store'] }), `${PFX} uses an unsupported trust store type "invalid" in trust store value "invalid:test-trust-store"`],
    ['trust store type is case-sensitive', withStatement({ trustStores: ['CA:x'] }), `${PFX} uses an unsupported trust store type "CA" in trust store value "CA:x"`],
    ['empty trust store name', withStatement({ trustStores: ['ca:'] }), `${PFX} uses an unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format`],
    ['bad trust store name', withStatement({ trustStores: ['ca:#@$@$'] }), `${PFX} uses an unsupported trust store name "#@$@$" in trust store value "ca:#@$@$". Named store name needs to follow [a-zA-Z0-9_.-]+ format`],
    ['trust store name with a path', withStatement({ trustStores: ['ca:../etc'] }), `${PFX} uses an unsupported trust store name "../etc" in trust store value "ca:../etc". Named store name needs to follow [a-zA-Z0-9_.-]+ format`],
    ['wildcard identity with others', withStatement({ trustedIdentities: ['*', 'x509.subject:C=US,ST=WA,O=wabbit-network.io'] }),
      `${PFX} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`],
    ['empty identity', withStatement({ trustedIdentities: [''] }), `${PFX} has an empty trusted identity`],
    ['identity without separator', withStatement({ trustedIdentities: ['x509.subject'] }), `${PFX} has trusted identity "x509.subject" missing separator`],
    ['DN without prefix', withStatement({ trustedIdentities: ['C=US, ST=WA, O=wabbit-network.io, OU=org1'] }), `${PFX} has trusted identity "C=US, ST=WA, O=wabbit-network.io, OU=org1" missing separator`],
    ['x509.subject without value', withStatement({ trustedIdentities: ['x509.subject:'] }), `${PFX} has trusted identity "x509.subject:" without an identity value`],
    ['unparsable DN', withStatement({ trustedIdentities: ['x509.subject:,,,'] }),
      `${PFX} has trusted identity "x509.subject:,,," with invalid identity value: parsing distinguished name (DN) ",,," failed with err: incomplete type, value pair. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`],
    ['duplicate RDN attribute', withStatement({ trustedIdentities: ['x509.subject:C=US,C=IN'] }),
      `${PFX} has trusted identity "x509.subject:C=US,C=IN" with invalid identity value: distinguished name (DN) "C=US,C=IN" has duplicate RDN attribute for "C", DN can only have unique RDN attributes`],
    ['missing mandatory O', withStatement({ trustedIdentities: ['x509.subject:C=US,ST=WA'] }),
      `${PFX} has trusted identity "x509.subject:C=US,ST=WA" with invalid identity value: distinguished name (DN) "C=US,ST=WA" has no mandatory RDN attribute for "O", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum`],
    ['multi-valued RDN', withStatement({ trustedIdentities: ['x509.subject:C=US+ST=WA,O=MyOrg'] }),
      `${PFX} has trusted identity "x509.subject:C=US+ST=WA,O=MyOrg" with invalid identity value: distinguished name (DN) "C=US+ST=WA,O=MyOrg" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported`],
    ['"=#" in DN', withStatement({ trustedIdentities: ['x509.subject:C=US,ST=WA,O=#0403'] }),
      `${PFX} has trusted identity "x509.subject:C=US,ST=WA,O=#0403" with invalid identity value: unsupported distinguished name (DN) "C=US,ST=WA,O=#0403": notation does not support x509.subject identities containing "=#"`],
    ['overlapping DNs', withStatement({ trustedIdentities: ['x509.subject:C=US,ST=WA,O=MyOrg', 'x509.subject:C=US,ST=WA,O=MyOrg,X=Y'] }),
      `${PFX} has overlapping x509 trustedIdentities, "x509.subject:C=US,ST=WA,O=MyOrg" overlaps with "x509.subject:C=US,ST=WA,O=MyOrg,X=Y"`],
    ['S is an alias of ST for overlap', withStatement({ trustedIdentities: ['x509.subject:C=US,S=WA,O=MyOrg', 'x509.subject:C=US,ST=WA,O=MyOrg'] }),
      `${PFX} has overlapping x509 trustedIdentities, "x509.subject:C=US,S=WA,O=MyOrg" overlaps with "x509.subject:C=US,ST=WA,O=MyOrg"`],
    ['zero registry scopes', withStatement({ registryScopes: [] }),
      'oci trust policy statement "test-statement-name" has zero registry scopes, it must specify registry scopes with at least one value'],
    ['wildcard scope with others', withStatement({ registryScopes: ['*', 'registry.acme-rockets.io/software/net-monitor'] }),
      'oci trust policy statement "test-statement-name" uses wildcard registry scope \'*\', a wildcard scope cannot be used in conjunction with other scope values'],
    ['scope in two statements', { version: '1.0', trustPolicies: [statement(), statement({ name: 'test-statement-name-2' })] },
      'registry scope "registry.acme-rockets.io/software/net-monitor" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement'],
    ['two wildcard statements', { version: '1.0', trustPolicies: [statement({ registryScopes: ['*'] }), statement({ name: 'b', registryScopes: ['*'] })] },
      'registry scope "*" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement'],
  ])('%s', (_n, doc, message) => {
    expectInvalid(doc, message);
  });

  test('statement rules run before registry-scope rules (notation order)', () => {
    expectInvalid({ version: '1.0', trustPolicies: [statement({ registryScopes: [] }), statement({ name: 'b', trustStores: [] })] },
      'oci trust policy: trust policy statement "b" is either missing trust stores or trusted identities, both must be specified');
  });

  describe('registry scope format (notation-go TestValidRegistryScopes / TestInvalidRegistryScopes)', () => {
    test.each(['*', 'example.com/rep', 'example.com:8080/rep/rep2', 'example.com/rep/subrep/subsub', '10.10.10.10:8080/rep/rep2', 'domain/rep', 'domain:1234/rep',
      'localhost:5000/net-monitor', 'a.b-c.d/x__y/z.w/q--r', '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app'])('valid: %s', (scope) => {
      expect(() => parseTrustPolicy(withStatement({ registryScopes: [scope] }))).not.toThrow();
    });

    test.each(['', '1:1', 'a,b', 'abcd', '1111', '1,2', 'example.com/rep:tag', 'example.com/rep/subrep/sub:latest', 'example.com', 'rep/rep2:latest',
      'repository', '10.10.10.10', '10.10.10.10:8080/rep/rep2:latest',
      'https://example.com/rep', 'example.com/Rep', 'example.com/rep@sha256:abc', 'example.com//rep', 'example.com/rep/', '-a.com/rep', 'a-.com/rep',
      'example.com:/rep', 'example.com:80a/rep', 'example.com/rep___x', 'example.com/rep._x', 'example.com/_rep'])('invalid: %j', (scope) => {
      expectInvalid(withStatement({ registryScopes: [scope] }), `registry scope ${JSON.stringify(scope)} is not valid, ${SCOPE_HINT}`);
    });

    test.each(['example.com/*', '*/', 'example*/', 'ex*test', '**'])('wildcard inside a scope: %s', (scope) => {
      expectInvalid(withStatement({ registryScopes: [scope] }), `registry scope ${JSON.stringify(scope)} with wild card(s) is not valid, ${SCOPE_HINT}`);
    });

    test('no catastrophic backtracking on long hostile scopes', () => {
      const hostile = 'example.com/' + 'a'.repeat(50_000) + '!';
      expect(registryScopeError(hostile)).toContain('is not valid');
      const hostile2 = 'a-'.repeat(20_000) + '!/' + 'b-'.repeat(20_000) + '!';
      expect(registryScopeError(hostile2)).toContain('is not valid');
      expect(registryScopeError('example.com/' + 'a-'.repeat(20_000) + 'a')).toBeUndefined();
    });
  });
});

describe('selectStatement', () => {
  const doc = parseTrustPolicy({
    version: '1.0',
    trustPolicies: [
      statement({ name: 'wild', registryScopes: ['*'], signatureVerification: { level: 'audit' } }),
      statement({ name: 'exact', registryScopes: ['registry.acme-rockets.io/software/net-monitor', 'localhost:5000/app'] }),
      statement({ name: 'other', registryScopes: ['registry.wabbit-networks.io/software/unsigned/net-utils'] }),
    ],
  });

  test('an exact scope beats *', () => {
    expect(selectStatement(doc, 'registry.acme-rockets.io/software/net-monitor').name).toBe('exact');
    expect(selectStatement(doc, 'localhost:5000/app').name).toBe('exact');
    expect(selectStatement(doc, 'registry.wabbit-networks.io/software/unsigned/net-utils').name).toBe('other');
  });

  test('* applies otherwise; no prefix matching, no reference expansion', () => {
    expect(selectStatement(doc, 'registry.acme-rockets.io/software').name).toBe('wild');
    expect(selectStatement(doc, 'registry.acme-rockets.io/software/net-monitor/sub').name).toBe('wild');
    expect(selectStatement(doc, 'docker.io/library/nginx').name).toBe('wild');
  });

  test('no applicable statement => NO_APPLICABLE_TRUST_POLICY with notation\'s message', () => {
    const noWild = parseTrustPolicy(dummy());
    let err: unknown;
    try {
      selectStatement(noWild, 'non.existing.scope/repo', 'non.existing.scope/repo@sha256:hash');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerificationFailedError);
    expect((err as VerificationFailedError).code).toBe('NO_APPLICABLE_TRUST_POLICY');
    expect((err as Error).message).toBe(`artifact "non.existing.scope/repo@sha256:hash" has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: ${LINK}`);
    expect(() => selectStatement(noWild, 'a.io/b')).toThrow('artifact "a.io/b" has no applicable oci trust policy statement.');
  });
});

describe('checkActions', () => {
  const st = (signatureVerification: unknown): NotationPolicyStatement => ({ name: 's', registryScopes: ['*'], signatureVerification: signatureVerification as any });

  test.each([
    ['strict', { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' }],
    ['permissive', { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' }],
    ['audit', { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' }],
    ['skip', { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' }],
  ])('level %s', (level, actions) => {
    expect(checkActions(st({ level }))).toEqual(actions);
  });

  const levels = ['strict', 'permissive', 'audit'] as const;
  const checks = ['authenticity', 'authenticTimestamp', 'expiry', 'revocation'] as const;
  const cases: Array<[string, string, string]> = [];
  for (const level of levels) for (const check of checks) for (const action of ['enforce', 'log', 'skip']) cases.push([level, check, action]);

  test.each(cases)('%s + override %s=%s', (level, check, action) => {
    const s = st({ level, override: { [check]: action } });
    if (action === 'skip' && check !== 'revocation') {
      expect(() => checkActions(s)).toThrow(`"${check}" verification can not be skipped in custom signature verification`);
      return;
    }
    const base = checkActions(st({ level }));
    expect(checkActions(s)).toEqual({ ...base, [check]: action });
  });

  test('several overrides at once', () => {
    expect(checkActions(st({ level: 'audit', override: { authenticity: 'enforce', revocation: 'skip', expiry: 'enforce' } })))
      .toEqual({ integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'enforce', revocation: 'skip' });
  });

  test('invalid levels / overrides throw ConfigurationError', () => {
    expect(errorOf(() => checkActions(st({ level: 'bogus' }))).message).toBe('trust policy statement "s" has invalid signatureVerification: invalid signature verification level "bogus"');
    expect(errorOf(() => checkActions(st({ level: 'strict', override: { integrity: 'log' } }))).message).toContain('"integrity" verification can not be overridden');
    expect(errorOf(() => checkActions(st({ level: 'skip', override: { revocation: 'log' } }))).message).toContain('can\'t be used to customize');
    expect(errorOf(() => checkActions(st(undefined))).message).toContain('signature verification level is empty or missing');
  });

  test('returns a fresh object each time', () => {
    const a = checkActions(st({ level: 'strict' }));
    a.expiry = 'log';
    expect(checkActions(st({ level: 'strict' })).expiry).toBe('enforce');
  });
});

describe('policyFingerprint', () => {
  test('independent of key order and whitespace, sensitive to content', () => {
    const a = parseTrustPolicy(dummy());
    const reordered = JSON.parse(JSON.stringify(dummy(), null, 4));
    const st0 = reordered.trustPolicies[0];
    reordered.trustPolicies[0] = { trustedIdentities: st0.trustedIdentities, trustStores: st0.trustStores, signatureVerification: st0.signatureVerification, registryScopes: st0.registryScopes, name: st0.name };
    expect(policyFingerprint(parseTrustPolicy(reordered))).toBe(policyFingerprint(a));
    expect(policyFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
    const changed = parseTrustPolicy(withStatement({ signatureVerification: { level: 'permissive' } }));
    expect(policyFingerprint(changed)).not.toBe(policyFingerprint(a));
    const identities = parseTrustPolicy(withStatement({ trustedIdentities: ['*'] }));
    expect(policyFingerprint(identities)).not.toBe(policyFingerprint(a));
  });

  test('ignored unknown keys do not change the fingerprint', () => {
    expect(policyFingerprint(parseTrustPolicy({ ...dummy(), extra: 1 }))).toBe(policyFingerprint(parseTrustPolicy(dummy())));
  });
});

describe('parseTrustStoreRef', () => {
  test.each([
    ['ca:valid-trust-store', { type: 'ca', name: 'valid-trust-store' }],
    ['signingAuthority:aws-signer-ts', { type: 'signingAuthority', name: 'aws-signer-ts' }],
    ['tsa:test.timestamp_1', { type: 'tsa', name: 'test.timestamp_1' }],
  ])('%s', (ref, expected) => {
    expect(parseTrustStoreRef(ref)).toEqual(expected);
  });

  test.each([
    ['ca', 'malformed trust store value "ca". The required format is <TrustStoreType>:<TrustStoreName>'],
    ['x509:abc', 'unsupported trust store type "x509" in trust store value "x509:abc"'],
    ['ca:a/b', 'unsupported trust store name "a/b" in trust store value "ca:a/b". Named store name needs to follow [a-zA-Z0-9_.-]+ format'],
    ['ca:', 'unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format'],
  ])('%s => error', (ref, message) => {
    expect(errorOf(() => parseTrustStoreRef(ref)).message).toBe(message);
  });
});

describe('trustStoreNames', () => {
  test('the names of one type, in the statement\'s order', () => {
    const st = parseTrustPolicy(withStatement({ trustStores: ['ca:b', 'tsa:t.1', 'ca:a', 'signingAuthority:s'] })).trustPolicies[0];
    expect(trustStoreNames(st, 'ca')).toEqual(['b', 'a']);
    expect(trustStoreNames(st, 'tsa')).toEqual(['t.1']);
    expect(trustStoreNames(st, 'signingAuthority')).toEqual(['s']);
    expect(trustStoreNames({ ...st, trustStores: undefined }, 'ca')).toEqual([]);
  });
});

describe('one trust-store name rule for the policy, the trust stores and the construct', () => {
  test.each([
    ['release-ca_1.2', true],
    ['a/b', false],
    ['..x', true],
    ['', false],
    ['ca:b', false],
    ['naïve', false],
  ])('%j valid: %s', async (name, valid) => {
    expect(TRUST_STORE_NAME_PATTERN.test(name)).toBe(valid);
    if (valid) expect(parseTrustStoreRef(`ca:${name}`)).toEqual({ type: 'ca', name });
    else expect(() => parseTrustStoreRef(`ca:${name}`)).toThrow(/Named store name needs to follow/);
    const stores = new InMemoryTrustStore({});
    await expect(stores.getCertificates('ca', name)).rejects.toThrow(valid ? /not found|does not exist|no certificate/i : /trust store name needs to follow/);
    expect(() => TrustStore.fromPem(TrustStoreType.CA, name, 'unused')).toThrow(valid ? /PEM|certificate/i : /trust store name ".*" is invalid/);
  });
});

describe('goQuote', () => {
  test('quotes like Go %q', () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote('tab\there\nnl')).toBe('"tab\\there\\nnl"');
    expect(goQuote('\u0001\u007f')).toBe('"\\x01\\x7f"');
    expect(goQuote('Cheers!🍺')).toBe('"Cheers!🍺"');
  });
});
