import { createHash, X509Certificate } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { VerificationFailedError } from '../../../src/verifier/errors';
import {
  AWS_SIGNER_PLUGIN_ID,
  certificateHashes,
  checkSignerRevocation,
  revocationAnswerProblem,
  describeApiError,
  equalFold,
  findSignerIdentity,
  matchSignerIdentity,
  parseArn,
  revocationReason,
  revocationRequest,
  SIGNER_JOB_ATTRIBUTE,
  SIGNER_PROFILE_VERSION_ATTRIBUTE,
  SignerRevocationClient,
  SignerRevocationRequest,
  tbsCertificate,
  validateSignerEnvelope,
} from '../../../src/verifier/signer';
import { VerifiedEnvelope } from '../../../src/verifier/types';

const FIX = join(__dirname, '../../fixtures/aws-signer-plugin');
const vector = JSON.parse(readFileSync(join(FIX, 'revocation-and-identity-vector.json'), 'utf8'));
const expected = vector.expectedGetRevocationStatusInput;
const pemToDer = (name: string) => new Uint8Array(new X509Certificate(readFileSync(join(FIX, name))).raw);
const cert1 = pemToDer('testCertificate1.pem');
const cert2 = pemToDer('testCertificate2.pem');

const PROFILE_ARN = 'arn:aws:signer:us-west-2:000000000000:/signing-profiles/NotaryPluginIntegProfile';
const VERSION_ARN = expected.ProfileVersionArn as string;
const JOB_ARN = expected.JobArn as string;

function envelope(overrides: Partial<VerifiedEnvelope> = {}, attrs?: Record<string, unknown>): VerifiedEnvelope {
  const extended = attrs ?? { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: VERSION_ARN, [SIGNER_JOB_ATTRIBUTE]: JOB_ARN };
  return {
    format: 'jws',
    mediaType: 'application/jose+json',
    targetArtifact: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + '0'.repeat(64), size: 1 },
    payloadContentType: 'application/vnd.cncf.notary.payload.v1+json',
    signingScheme: 'notary.x509.signingAuthority',
    signingTime: new Date('2022-07-06T19:10:28Z'),
    authenticSigningTime: new Date('2022-07-06T19:10:28Z'),
    expiry: new Date('2022-10-06T07:01:20Z'),
    verificationPlugin: AWS_SIGNER_PLUGIN_ID,
    extendedAttributes: Object.entries(extended).map(([key, value]) => ({ key, value, critical: true })),
    certificateChain: [cert1, cert2],
    signature: new Uint8Array([1, 2, 3]),
    algorithm: 'ES384',
    ...overrides,
  };
}

class FakeClient implements SignerRevocationClient {
  public readonly calls: SignerRevocationRequest[] = [];
  public constructor(private readonly behaviour: () => Promise<{ revokedEntities?: string[] }>) {}
  public async getRevocationStatus(input: SignerRevocationRequest) {
    this.calls.push(input);
    return this.behaviour();
  }
}

describe('certificate hashes (plugin hashCertificates)', () => {
  test('per-certificate SHA-384 of the TBS matches the plugin test vector', () => {
    expect(createHash('sha384').update(tbsCertificate(cert1)).digest('hex')).toBe(vector.testCertificate1Hash);
    expect(createHash('sha384').update(tbsCertificate(cert2)).digest('hex')).toBe(vector.testCertificate2Hash);
  });

  test('chain hashes are h(i)+h(i+1), last one twice', () => {
    const hashes = certificateHashes([cert1, cert2]);
    expect(hashes).toEqual(expected.CertificateHashes);
    expect(hashes.every((h) => /^[0-9a-f]{192}$/.test(h))).toBe(true);
    expect(certificateHashes([cert2])).toEqual([vector.testCertificate2Hash + vector.testCertificate2Hash]);
    expect(certificateHashes([])).toEqual([]);
  });

  test('a three-certificate chain pairs each certificate with its issuer', () => {
    const h = (d: Uint8Array) => createHash('sha384').update(tbsCertificate(d)).digest('hex');
    expect(certificateHashes([cert1, cert2, cert1])).toEqual([h(cert1) + h(cert2), h(cert2) + h(cert1), h(cert1) + h(cert1)]);
  });

  test('the TBS is the first element of the certificate SEQUENCE', () => {
    const tbs = tbsCertificate(cert1);
    expect(tbs[0]).toBe(0x30);
    // the TBS bytes occur right after the outer header (4 bytes for a 2-byte long-form length)
    expect(Buffer.from(cert1.subarray(4, 4 + tbs.length)).equals(Buffer.from(tbs))).toBe(true);
  });

  test.each([
    ['garbage', new Uint8Array(Buffer.from('BadCertificate'))],
    ['empty', new Uint8Array(0)],
    ['truncated', cert1.subarray(0, cert1.length - 10)],
    ['trailing data', new Uint8Array([...cert1, 0])],
    ['a SEQUENCE that is not a certificate', new Uint8Array([0x30, 0x03, 0x30, 0x01, 0x00])],
  ])('unparsable certificate (%s) => plugin message', (_n, bad) => {
    expect(() => certificateHashes([cert1, bad])).toThrow(VerificationFailedError);
    expect(() => certificateHashes([bad])).toThrow('unable to parse certificates in certificate chain.');
  });
});

describe('revocationRequest', () => {
  test('is exactly the GetRevocationStatus input of the plugin test', () => {
    const req = revocationRequest(envelope());
    expect(req).toEqual({
      signatureTimestamp: new Date(expected.SignatureTimestamp),
      platformId: expected.PlatformId,
      profileVersionArn: expected.ProfileVersionArn,
      jobArn: expected.JobArn,
      certificateHashes: expected.CertificateHashes,
    });
    expect(req.signatureTimestamp.toISOString()).toBe('2022-07-06T19:10:28.000Z');
  });

  test('requires the job attribute', () => {
    expect(() => revocationRequest(envelope({}, { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: VERSION_ARN })))
      .toThrow('unable to parse attribute "com.amazonaws.signer.signingJob".');
  });
});

describe('trusted identity (plugin TRUSTED_IDENTITY)', () => {
  const cases = vector['trustedIdentityCases(TestVerify_ValidTrustedIdentity / TestVerify_InvalidTrustedIdentity; signature\'s signingProfileVersion = ProfileVersionArn above)'];
  const invalidKey = Object.keys(cases).find((k) => k.startsWith('invalid'))!;

  test.each(cases.valid as string[][])('matches %j', (...identities) => {
    expect(matchSignerIdentity(VERSION_ARN, identities)).toBe(true);
  });

  test.each((cases[invalidKey] as string[][]).map((c) => [c]))('does not match %j', (identities) => {
    expect(matchSignerIdentity(VERSION_ARN, identities)).toBe(false);
  });

  test('both profile and version ARN, either order', () => {
    expect(matchSignerIdentity(VERSION_ARN, [PROFILE_ARN, VERSION_ARN])).toBe(true);
    expect(matchSignerIdentity(VERSION_ARN, [VERSION_ARN, PROFILE_ARN])).toBe(true);
  });

  test('profile ARN matches any version; version ARN only that version', () => {
    const other = PROFILE_ARN + '/SomeOtherV';
    expect(matchSignerIdentity(other, [PROFILE_ARN])).toBe(true);
    expect(matchSignerIdentity(other, [VERSION_ARN])).toBe(false);
  });

  test('comparison is case-insensitive (Go strings.EqualFold)', () => {
    expect(matchSignerIdentity(VERSION_ARN, [PROFILE_ARN.replace('us-west-2', 'US-WEST-2').replace('NotaryPluginIntegProfile', 'NOTARYPLUGININTEGPROFILE')])).toBe(true);
    // but the ARN prefix, service and "/signing-profiles/" must be lowercase for the identity to count at all
    expect(matchSignerIdentity(VERSION_ARN, [PROFILE_ARN.toUpperCase()])).toBe(false);
    expect(matchSignerIdentity(VERSION_ARN, [PROFILE_ARN.replace('signer', 'SIGNER')])).toBe(false);
    expect(matchSignerIdentity(VERSION_ARN.toLowerCase(), [VERSION_ARN])).toBe(true);
  });

  test.each([
    ['partition', PROFILE_ARN.replace('arn:aws:', 'arn:aws-us-gov:')],
    ['region', PROFILE_ARN.replace('us-west-2', 'us-east-1')],
    ['account', PROFILE_ARN.replace('000000000000', '111111111111')],
    ['profile name', PROFILE_ARN + 'X'],
    ['profile name prefix', PROFILE_ARN.slice(0, -1)],
  ])('a different %s does not match', (_n, identity) => {
    expect(matchSignerIdentity(VERSION_ARN, [identity])).toBe(false);
  });

  test('x509.subject identities are ignored for Signer signatures', () => {
    expect(matchSignerIdentity(VERSION_ARN, ['x509.subject:C=US,ST=WA,O=AWS'])).toBe(false);
    expect(matchSignerIdentity(VERSION_ARN, ['x509.subject:C=US,ST=WA,O=AWS', PROFILE_ARN])).toBe(true);
  });

  test('a wildcard identity is rejected with the plugin message', () => {
    expect(() => matchSignerIdentity(VERSION_ARN, ['*'])).toThrow('The AWSSigner plugin does not support wildcard identity in the trust policy.');
    expect(() => matchSignerIdentity(VERSION_ARN, [PROFILE_ARN, '*'])).toThrow(VerificationFailedError);
  });

  test('findSignerIdentity reports the matching identity', () => {
    expect(findSignerIdentity(VERSION_ARN, ['zop', PROFILE_ARN])).toBe(PROFILE_ARN);
    expect(findSignerIdentity(VERSION_ARN, ['zop'])).toBeUndefined();
  });

  test('a signature value without "/" never matches a profile ARN', () => {
    expect(matchSignerIdentity('no-slash', [PROFILE_ARN])).toBe(false);
  });

  test('parseArn follows aws-sdk-go arn.Parse', () => {
    expect(parseArn(VERSION_ARN)).toEqual({ partition: 'aws', service: 'signer', region: 'us-west-2', accountId: '000000000000', resource: '/signing-profiles/NotaryPluginIntegProfile/OF8IVUsPJq' });
    expect(parseArn('arn:aws:s3:::bucket:with:colons')).toEqual({ partition: 'aws', service: 's3', region: '', accountId: '', resource: 'bucket:with:colons' });
    expect(parseArn('arn:a:b:c')).toBeUndefined();
    expect(parseArn('ARN:aws:signer:r:a:/signing-profiles/x')).toBeUndefined();
  });

  test('equalFold', () => {
    expect(equalFold('ABC', 'abc')).toBe(true);
    expect(equalFold('straße', 'STRASSE')).toBe(false);
    expect(equalFold('ab', 'abc')).toBe(false);
    expect(equalFold('\u212a', 'k')).toBe(true); // Kelvin sign folds to k, as in Go
  });
});

describe('validateSignerEnvelope (plugin request validation)', () => {
  test('accepts a well-formed Signer envelope', () => {
    expect(validateSignerEnvelope(envelope())).toEqual({
      profileVersionArn: VERSION_ARN, jobArn: JOB_ARN, authenticSigningTime: new Date('2022-07-06T19:10:28Z'),
    });
  });

  test('signing scheme is compared case-insensitively', () => {
    expect(() => validateSignerEnvelope(envelope({ signingScheme: 'NOTARY.X509.SIGNINGAUTHORITY' as any }))).not.toThrow();
  });

  test.each<[string, VerifiedEnvelope, string]>([
    ['missing authenticSigningTime', envelope({ authenticSigningTime: undefined }), 'missing authenticSigningTime'],
    ['zero authenticSigningTime', envelope({ authenticSigningTime: new Date('0001-01-01T00:00:00Z') }), 'missing authenticSigningTime'],
    ['invalid date', envelope({ authenticSigningTime: new Date('nope') }), 'missing authenticSigningTime'],
    ['notary.x509 scheme', envelope({ signingScheme: 'notary.x509' }), "'notary.x509' signing scheme is not supported"],
    ['bad scheme', envelope({ signingScheme: 'badSignScheme' as any }), "'badSignScheme' signing scheme is not supported"],
    ['null profile version', envelope({}, { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: null, [SIGNER_JOB_ATTRIBUTE]: JOB_ARN }), 'unable to parse attribute "com.amazonaws.signer.signingProfileVersion".'],
    ['no attributes', envelope({}, {}), 'unable to parse attribute "com.amazonaws.signer.signingProfileVersion".'],
    ['numeric profile version', envelope({}, { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: 42, [SIGNER_JOB_ATTRIBUTE]: JOB_ARN }), 'unable to parse attribute "com.amazonaws.signer.signingProfileVersion".'],
    ['non-ARN profile version', envelope({}, { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: 'NotaryPluginIntegProfile', [SIGNER_JOB_ATTRIBUTE]: JOB_ARN }), 'unable to parse attribute "com.amazonaws.signer.signingProfileVersion".'],
    ['numeric job', envelope({}, { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: VERSION_ARN, [SIGNER_JOB_ATTRIBUTE]: 1 }), 'unable to parse attribute "com.amazonaws.signer.signingJob".'],
  ])('%s => plugin message', (_n, env, message) => {
    let err: unknown;
    try {
      validateSignerEnvelope(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerificationFailedError);
    expect((err as VerificationFailedError).code).toBe('INVALID_ENVELOPE');
    expect((err as Error).message).toBe(message);
  });

  test('the job attribute is only required on request', () => {
    const env = envelope({}, { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: VERSION_ARN });
    expect(validateSignerEnvelope(env).jobArn).toBeUndefined();
    expect(() => validateSignerEnvelope(env, { requireJob: true })).toThrow('unable to parse attribute "com.amazonaws.signer.signingJob".');
  });
});

describe('checkSignerRevocation (plugin REVOCATION_CHECK)', () => {
  test('no revoked entities => passed, and the exact request is sent', async () => {
    const client = new FakeClient(async () => ({ revokedEntities: [] }));
    await expect(checkSignerRevocation(client, envelope())).resolves.toEqual({ passed: true, reason: 'Signature is not revoked.' });
    expect(client.calls).toHaveLength(1);
    expect(client.calls[0].certificateHashes).toEqual(expected.CertificateHashes);
    expect(client.calls[0].platformId).toBe('Notation-OCI-SHA384-ECDSA');
    expect(client.calls[0].signatureTimestamp.toISOString()).toBe('2022-07-06T19:10:28.000Z');
  });

  test('an absent revokedEntities list is a malformed answer (stricter than the plugin), not "not revoked"', async () => {
    const r = await checkSignerRevocation(new FakeClient(async () => ({})), envelope());
    expect(r).toEqual({ passed: false, malformed: true, reason: 'GetRevocationStatus answered with a malformed response, revocation status unknown: revokedEntities is missing' });
  });

  test.each<[string, unknown, string]>([
    ['a string', { revokedEntities: JOB_ARN }, 'revokedEntities is a string, not an array of strings'],
    ['an object', { revokedEntities: { [JOB_ARN]: true } }, 'revokedEntities is an object, not an array of strings'],
    ['a number', { revokedEntities: 1 }, 'revokedEntities is a number, not an array of strings'],
    ['null', { revokedEntities: null }, 'revokedEntities is null, not an array of strings'],
    ['a boolean', { revokedEntities: true }, 'revokedEntities is a boolean, not an array of strings'],
    ['a number entry', { revokedEntities: [JOB_ARN, 7] }, 'revokedEntities[1] is a number, not a string'],
    ['a null entry', { revokedEntities: [null] }, 'revokedEntities[0] is null, not a string'],
    ['a nested array entry', { revokedEntities: [[JOB_ARN]] }, 'revokedEntities[0] is an array, not a string'],
    ['an array answer', [JOB_ARN], 'the answer is an array, not an object'],
    ['a null answer', null, 'the answer is null, not an object'],
    ['an undefined answer', undefined, 'the answer is a undefined, not an object'],
    ['a string answer', 'ok', 'the answer is a string, not an object'],
  ])('revokedEntities of the wrong shape (%s) fails closed', async (_n, answer, detail) => {
    const r = await checkSignerRevocation(new FakeClient(async () => answer as any), envelope());
    expect(r).toEqual({ passed: false, malformed: true, reason: `GetRevocationStatus answered with a malformed response, revocation status unknown: ${detail}` });
    expect(revocationAnswerProblem(answer)).toBe(detail);
  });

  test('an SDK decoding error on a 2xx answer is malformed; a socket error while reading stays inconclusive', async () => {
    const decode = Object.assign(new SyntaxError('Unexpected token'), { $metadata: { httpStatusCode: 200 } });
    const r = await checkSignerRevocation(new FakeClient(async () => { throw decode; }), envelope());
    expect(r.malformed).toBe(true);
    expect(r.inconclusive).toBeUndefined();
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: { httpStatusCode: 200 } });
    const r2 = await checkSignerRevocation(new FakeClient(async () => { throw reset; }), envelope());
    expect(r2).toMatchObject({ passed: false, inconclusive: true });
    const fault = Object.assign(new TypeError('bad'), { $fault: 'server', $metadata: { httpStatusCode: 500 } });
    expect((await checkSignerRevocation(new FakeClient(async () => { throw fault; }), envelope())).inconclusive).toBe(true);
  });

  test.each([
    ['TypeError', () => new TypeError("Cannot read properties of undefined (reading 'length')")],
    ['RangeError', () => new RangeError('Invalid array length')],
    ['ReferenceError', () => new ReferenceError('x is not defined')],
  ])('a programming error in the client (%s) is not an unavailable API: it propagates, never inconclusive', async (_n, make) => {
    const err = make();
    await expect(checkSignerRevocation(new FakeClient(async () => { throw err; }), envelope())).rejects.toBe(err);
  });

  test.each<[string, string[], string]>([
    ['revoked signing job', [JOB_ARN], `Resource(s) ${JOB_ARN} have been revoked.`],
    ['revoked profile version', [VERSION_ARN], `Resource(s) ${VERSION_ARN} have been revoked.`],
    ['revoked certificate', [vector.testCertificate1Hash], 'Certificate(s) have been revoked.'],
    ['revoked certificates', [vector.testCertificate1Hash, vector.testCertificate2Hash], 'Certificate(s) have been revoked.'],
    ['revoked job and profile', [JOB_ARN, PROFILE_ARN], `Resource(s) ${JOB_ARN}, ${PROFILE_ARN} have been revoked.`],
    ['revoked job and certificate (mixed)', [JOB_ARN, expected.CertificateHashes[0]], `Resource(s) ${JOB_ARN} have been revoked.Certificate(s) have been revoked.`],
  ])('%s', async (_n, revokedEntities, reason) => {
    const r = await checkSignerRevocation(new FakeClient(async () => ({ revokedEntities })), envelope());
    expect(r.passed).toBe(false);
    expect(r.inconclusive).toBeUndefined();
    expect(r.reason).toBe(reason);
    expect(r.revokedEntities).toEqual(revokedEntities);
    expect(revocationReason(revokedEntities)).toBe(reason);
  });

  test('a failed call is a failed, inconclusive result (smithy-style error)', async () => {
    const err = Object.assign(new Error('AWSSigner unreachable. 5xx'), { name: 'ERROR', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    const r = await checkSignerRevocation(new FakeClient(async () => { throw err; }), envelope());
    expect(r).toEqual({ passed: false, inconclusive: true, reason: 'GetRevocationStatus call failed with error: api error ERROR: AWSSigner unreachable. 5xx' });
  });

  test('throttling is a failed, inconclusive result', async () => {
    const err = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 429 } });
    const r = await checkSignerRevocation(new FakeClient(async () => { throw err; }), envelope());
    expect(r.passed).toBe(false);
    expect(r.inconclusive).toBe(true);
    expect(r.reason).toBe('GetRevocationStatus call failed with error: api error ThrottlingException: Rate exceeded');
  });

  test('a plain network error keeps its message', async () => {
    const r = await checkSignerRevocation(new FakeClient(async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:1'); }), envelope());
    expect(r.reason).toBe('GetRevocationStatus call failed with error: connect ECONNREFUSED 127.0.0.1:1');
    expect(r.inconclusive).toBe(true);
  });

  test('a non-Error rejection is described too', async () => {
    expect(describeApiError('boom')).toBe('boom');
    expect(describeApiError({ code: 1 })).toBe('{"code":1}');
    const r = await checkSignerRevocation(new FakeClient(() => Promise.reject(undefined)), envelope());
    expect(r).toEqual({ passed: false, inconclusive: true, reason: 'GetRevocationStatus call failed with error: undefined' });
  });

  test('invalid envelopes throw before calling AWS', async () => {
    const client = new FakeClient(async () => ({}));
    await expect(checkSignerRevocation(client, envelope({ certificateChain: [new Uint8Array([1, 2])] }))).rejects.toThrow('unable to parse certificates in certificate chain.');
    await expect(checkSignerRevocation(client, envelope({}, { [SIGNER_PROFILE_VERSION_ATTRIBUTE]: VERSION_ARN }))).rejects.toThrow(VerificationFailedError);
    expect(client.calls).toHaveLength(0);
  });
});
