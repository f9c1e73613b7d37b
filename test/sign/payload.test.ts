/**
 * The pieces of `sign` that need no network: the signing-profile ARN, the Notary payload bytes, and the check of
 * the envelope Signer returns (hostile answers included).
 */
import { awsSignerLike, PROFILE } from './support';
import { buildNotaryPayload, checkReturnedEnvelope, parseSigningProfileArn } from '../../src/verifier/sign';
import { signerError } from '../../src/verifier/sign/signer-client';
import { MEDIA_TYPE } from '../../src/verifier/types';

const TARGET = { mediaType: MEDIA_TYPE.OCI_MANIFEST, digest: `sha256:${'ab'.repeat(32)}`, size: 517 };

describe('parseSigningProfileArn', () => {
  test('a profile ARN: name, owner, region, partition', () => {
    expect(parseSigningProfileArn(PROFILE)).toEqual({ arn: PROFILE, partition: 'aws', region: 'us-east-1', owner: '123456789012', name: 'release_profile' });
    expect(parseSigningProfileArn('arn:aws-us-gov:signer:us-gov-west-1:210987654321:/signing-profiles/Gov_1').partition).toBe('aws-us-gov');
  });

  test.each([
    ['a profile version ARN', `${PROFILE}/AbCdEf1234`, /VERSION ARN/],
    ['the singular resource type', 'arn:aws:signer:us-east-1:123456789012:/signing-profile/release_profile', /signing profile ARN/],
    ['a hyphen in the name', 'arn:aws:signer:us-east-1:123456789012:/signing-profiles/release-profile', /signing profile ARN/],
    ['another service', 'arn:aws:ecr:us-east-1:123456789012:/signing-profiles/release_profile', /signing profile ARN/],
    ['a short account', 'arn:aws:signer:us-east-1:12345:/signing-profiles/release_profile', /signing profile ARN/],
    ['a trailing newline', `${PROFILE}\n`, /signing profile ARN/],
    ['the double slash of fromSigningProfileAttributes', 'arn:aws:signer:us-east-1:123456789012://signing-profiles/release_profile', /signing profile ARN/],
  ])('%s is a configuration error', (_what, arn, message) => {
    const e = (() => {
      try {
        return parseSigningProfileArn(arn);
      } catch (x) {
        return x as any;
      }
    })();
    expect(e.kind).toBe('configuration');
    expect(e.code).toBe('INVALID_OPTIONS');
    expect(e.message).toMatch(message);
  });
});

describe('buildNotaryPayload', () => {
  test('exactly mediaType, digest, size; metadata as sorted annotations', () => {
    expect(Buffer.from(buildNotaryPayload(TARGET)).toString()).toBe(`{"targetArtifact":{"mediaType":"${TARGET.mediaType}","digest":"${TARGET.digest}","size":517}}`);
    const withMeta = JSON.parse(Buffer.from(buildNotaryPayload({ ...TARGET, annotations: { ignored: 'x' } }, { b: '2', a: '1' })).toString());
    expect(withMeta).toEqual({ targetArtifact: { ...TARGET, annotations: { a: '1', b: '2' } } });
    expect(Object.keys(withMeta.targetArtifact.annotations)).toEqual(['a', 'b']);
  });

  test('an empty metadata key is a configuration error', () => {
    expect(() => buildNotaryPayload(TARGET, { '': 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

describe('checkReturnedEnvelope', () => {
  const payload = buildNotaryPayload(TARGET);
  const input = { profileName: 'release_profile', profileOwner: '123456789012', payloadFormat: MEDIA_TYPE.NOTARY_PAYLOAD, payload: Buffer.from(payload) };

  test('the envelope over the sent payload passes; thumbprints are lowercase SHA-256 hex, leaf first', () => {
    const r = checkReturnedEnvelope(awsSignerLike(input), payload);
    expect(r.thumbprints).toHaveLength(4);
    for (const t of r.thumbprints) expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(r.envelope.targetArtifact).toEqual(TARGET);
  });

  test('the same descriptor serialised differently (another payload byte string) is refused', () => {
    const other = Buffer.from(`{"targetArtifact":{"digest":"${TARGET.digest}","mediaType":"${TARGET.mediaType}","size":517}}`);
    expect(() => checkReturnedEnvelope(awsSignerLike({ ...input, payload: other }), payload)).toThrow(expect.objectContaining({ code: 'TARGET_MISMATCH' }));
  });

  test('a padded base64url payload is refused, not decoded leniently', () => {
    const env = JSON.parse(Buffer.from(awsSignerLike(input)).toString());
    env.payload += '=';
    expect(() => checkReturnedEnvelope(Buffer.from(JSON.stringify(env)), payload)).toThrow(expect.objectContaining({ kind: 'failed' }));
  });
});

describe('signerError', () => {
  const sdkError = (name: string, status: number, fault: 'client' | 'server' = 'client') =>
    Object.assign(new Error('msg'), { name, $fault: fault, $metadata: { httpStatusCode: status } });

  test.each([
    ['AccessDeniedException', 403, 'client', 'failed', /grantPushAndSign/],
    ['ResourceNotFoundException', 404, 'client', 'failed', /no such signing profile/],
    ['ValidationException', 400, 'client', 'failed', /Notation-OCI-SHA384-ECDSA/],
    ['ThrottlingException', 400, 'client', 'inconclusive', /throttling/],
    ['InternalServiceErrorException', 500, 'server', 'inconclusive', /run again later/],
  ] as const)('%s (HTTP %d) is %s with its code and hint', (name, status, fault, kind, hint) => {
    const e = signerError(sdkError(name, status, fault));
    expect(e.kind).toBe(kind);
    expect(e.code).toBe('AWS_API');
    expect(e.message).toContain(name);
    expect(e.message).toMatch(hint);
  });

  test('no credentials is a configuration error (exit 2)', () => {
    const e = signerError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    expect(e.kind).toBe('configuration');
  });
});
