/**
 * AWS Signer signatures verified in-process, reproducing the AWS Signer Notation plugin's
 * `SIGNATURE_VERIFIER.TRUSTED_IDENTITY` and `SIGNATURE_VERIFIER.REVOCATION_CHECK` logic
 * (aws/aws-signer-notation-plugin @ 762e710b `internal/verifier/verifier.go`; notary-verification.md §2.1).
 * Messages are the plugin's.
 */
import { createHash } from 'crypto';
import { isVerifierError, VerificationFailedError } from '../errors';
import { foldJsonKey, parseStrictJson } from '../json';
import { VerifiedEnvelope } from '../types';
import { parseCertificate } from '../x509/certificate';

/** `io.cncf.notary.verificationPlugin` value of AWS Signer signatures. */
export const AWS_SIGNER_PLUGIN_ID = 'com.amazonaws.signer.notation.plugin';
/** Plugin version this in-process implementation reproduces (`internal/version/version.go`). */
export const AWS_SIGNER_PLUGIN_VERSION = '1.0.350';
export const SIGNER_PROFILE_VERSION_ATTRIBUTE = 'com.amazonaws.signer.signingProfileVersion';
export const SIGNER_JOB_ATTRIBUTE = 'com.amazonaws.signer.signingJob';
/** Signer platform id of Notation container-image signing. */
export const SIGNER_PLATFORM_ID = 'Notation-OCI-SHA384-ECDSA';

export const SIGNER_MESSAGES = {
  WILDCARD_IDENTITY: 'The AWSSigner plugin does not support wildcard identity in the trust policy.',
  CERTIFICATE_PARSE: 'unable to parse certificates in certificate chain.',
  MISSING_AUTHENTIC_SIGNING_TIME: 'missing authenticSigningTime',
  TRUSTED_IDENTITY_FAILURE: "Signature publisher doesn't match any trusted identities.",
  NOT_REVOKED: 'Signature is not revoked.',
  REVOKED_CERTIFICATE: 'Certificate(s) have been revoked.',
} as const;

/** `unable to parse attribute "<key>".` */
export function attributeParseMessage(key: string): string {
  return `unable to parse attribute ${JSON.stringify(key)}.`;
}

/** `Signature publisher matched "<identity>" trusted identity.` */
export function trustedIdentitySuccessMessage(identity: string): string {
  return `Signature publisher matched ${JSON.stringify(identity)} trusted identity.`;
}

// ---------------------------------------------------------------------------------------------
// ARNs and identities
// ---------------------------------------------------------------------------------------------

export interface Arn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  readonly resource: string;
}

/**
 * Parses an ARN like aws-sdk-go-v2 `arn.Parse`: prefix `arn:` and six `:`-separated sections (the
 * resource keeps any further colons). Returns undefined when not an ARN.
 */
export function parseArn(s: string): Arn | undefined {
  if (typeof s !== 'string' || !s.startsWith('arn:')) return undefined;
  const parts: string[] = [];
  let rest = s;
  for (let i = 0; i < 5; i++) {
    const idx = rest.indexOf(':');
    if (idx < 0) return undefined;
    parts.push(rest.slice(0, idx));
    rest = rest.slice(idx + 1);
  }
  return { partition: parts[1], service: parts[2], region: parts[3], accountId: parts[4], resource: rest };
}

/** An ARN of service `signer` whose resource starts with `/signing-profiles/`. */
export function parseSigningProfileArn(s: string): Arn | undefined {
  const arn = parseArn(s);
  if (!arn || arn.service !== 'signer' || !arn.resource.startsWith('/signing-profiles/')) return undefined;
  return arn;
}

function foldChar(c: string): string {
  const lower = c.toLowerCase();
  return [...lower].length === 1 ? lower : c;
}

/** Go `strings.EqualFold` (simple Unicode case folding, per code point). */
export function equalFold(a: string, b: string): boolean {
  if (a === b) return true;
  const ca = [...a];
  const cb = [...b];
  if (ca.length !== cb.length) return false;
  for (let i = 0; i < ca.length; i++) {
    if (ca[i] === cb[i]) continue;
    if (foldChar(ca[i]) === foldChar(cb[i])) continue;
    const ua = ca[i].toUpperCase();
    const ub = cb[i].toUpperCase();
    if ([...ua].length === 1 && ua === ub) continue;
    return false;
  }
  return true;
}

/**
 * The plugin's TRUSTED_IDENTITY check. Only trusted identities that are signing-profile ARNs count:
 * a profile ARN (`/signing-profiles/<name>`, 3 resource segments) matches any version of that
 * profile; a profile-version ARN (4 segments) matches exactly. Comparison is case-insensitive over
 * the whole ARN (partition, region and account included). Other identities are ignored.
 * @throws VerificationFailedError `UNTRUSTED_IDENTITY` when `*` is among the identities (the plugin
 *   rejects the request: "The AWSSigner plugin does not support wildcard identity in the trust policy.")
 */
export function matchSignerIdentity(profileVersionArn: string, trustedIdentities: readonly string[]): boolean {
  return findSignerIdentity(profileVersionArn, trustedIdentities) !== undefined;
}

/** Like {@link matchSignerIdentity} but returns the identity that matched. */
export function findSignerIdentity(profileVersionArn: string, trustedIdentities: readonly string[]): string | undefined {
  if (trustedIdentities.includes('*')) {
    throw new VerificationFailedError('UNTRUSTED_IDENTITY', SIGNER_MESSAGES.WILDCARD_IDENTITY);
  }
  const sig = typeof profileVersionArn === 'string' ? profileVersionArn : '';
  for (const identity of trustedIdentities) {
    const arn = typeof identity === 'string' ? parseSigningProfileArn(identity) : undefined;
    if (!arn) continue;
    const segments = arn.resource.split('/').length;
    if (segments === 3) {
      const last = sig.lastIndexOf('/');
      if (last !== -1 && equalFold(sig.slice(0, last), identity)) return identity;
    } else if (segments === 4) {
      if (equalFold(sig, identity)) return identity;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Envelope validation
// ---------------------------------------------------------------------------------------------

export interface SignerEnvelopeInfo {
  readonly profileVersionArn: string;
  /** Absent only when not required (revocation not checked). */
  readonly jobArn?: string;
  readonly authenticSigningTime: Date;
}

/** Go's zero `time.Time` (0001-01-01T00:00:00Z), which the plugin treats as missing. */
const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

function attributeValue(env: VerifiedEnvelope, key: string): unknown {
  const found = (env.extendedAttributes ?? []).find((a) => a.key === key);
  return found ? found.value : undefined;
}

function stringAttribute(env: VerifiedEnvelope, key: string): string {
  const v = attributeValue(env, key);
  if (typeof v !== 'string') {
    throw new VerificationFailedError('INVALID_ENVELOPE', attributeParseMessage(key));
  }
  return v;
}

/**
 * The plugin's request validation for an AWS Signer envelope: `authenticSigningTime` present and
 * non-zero, signing scheme `notary.x509.signingAuthority` (case-insensitive), the profile-version
 * attribute a string that parses as an ARN, and the job attribute a string when `requireJob` is set
 * (the plugin only reads it for REVOCATION_CHECK; {@link revocationRequest} always requires it).
 * @throws VerificationFailedError `INVALID_ENVELOPE` with the plugin's message
 */
export function validateSignerEnvelope(env: VerifiedEnvelope, options: { requireJob?: boolean } = {}): SignerEnvelopeInfo {
  const ast = env.authenticSigningTime;
  if (!(ast instanceof Date) || Number.isNaN(ast.getTime()) || ast.getTime() === GO_ZERO_TIME_MS) {
    throw new VerificationFailedError('INVALID_ENVELOPE', SIGNER_MESSAGES.MISSING_AUTHENTIC_SIGNING_TIME);
  }
  if (!equalFold(String(env.signingScheme ?? ''), 'notary.x509.signingAuthority')) {
    throw new VerificationFailedError('INVALID_ENVELOPE', `'${String(env.signingScheme ?? '')}' signing scheme is not supported`);
  }
  const profileVersionArn = stringAttribute(env, SIGNER_PROFILE_VERSION_ATTRIBUTE);
  if (!parseArn(profileVersionArn)) {
    throw new VerificationFailedError('INVALID_ENVELOPE', attributeParseMessage(SIGNER_PROFILE_VERSION_ATTRIBUTE));
  }
  let jobArn: string | undefined;
  const job = attributeValue(env, SIGNER_JOB_ATTRIBUTE);
  if (options.requireJob || job !== undefined) {
    jobArn = stringAttribute(env, SIGNER_JOB_ATTRIBUTE);
  }
  return { profileVersionArn, jobArn, authenticSigningTime: ast };
}

// ---------------------------------------------------------------------------------------------
// Certificate hashes
// ---------------------------------------------------------------------------------------------

/**
 * The DER `tbsCertificate` (Go `RawTBSCertificate`) of a certificate, tag and length included,
 * taken from the engine's strict X.509 parser (src/verifier/x509/certificate.ts).
 * @throws VerificationFailedError `INVALID_CERTIFICATE_CHAIN` "unable to parse certificates in certificate chain."
 */
export function tbsCertificate(der: Uint8Array): Uint8Array {
  try {
    return parseCertificate(der).tbs;
  } catch (e) {
    throw new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', SIGNER_MESSAGES.CERTIFICATE_PARSE, { cause: e });
  }
}

/**
 * The plugin's `hashCertificates`: `hex(SHA-384(TBS(cert_i))) + hex(SHA-384(TBS(cert_{i+1})))` for
 * a leaf-first chain; the last entry is its own hash twice. Lowercase hex, 192 characters each.
 */
export function certificateHashes(chainDer: readonly Uint8Array[]): string[] {
  const hashes = chainDer.map((der) => createHash('sha384').update(tbsCertificate(der)).digest('hex'));
  return hashes.map((h, i) => h + (i === hashes.length - 1 ? h : hashes[i + 1]));
}

// ---------------------------------------------------------------------------------------------
// Revocation
// ---------------------------------------------------------------------------------------------

/** `signer:GetRevocationStatus` input (client-signer `GetRevocationStatusRequest`). */
export interface SignerRevocationRequest {
  readonly signatureTimestamp: Date;
  readonly platformId: string;
  readonly profileVersionArn: string;
  readonly jobArn: string;
  readonly certificateHashes: string[];
}

export interface SignerRevocationClient {
  /**
   * Calls `GetRevocationStatus`. An answer must carry `revokedEntities` as an array of strings (empty
   * when nothing is revoked); anything else is a malformed answer. A client that reads the raw HTTP
   * body reports what is wrong with it in `answerProblem` instead (see {@link readRevocationAnswer}).
   */
  getRevocationStatus(input: SignerRevocationRequest): Promise<{ revokedEntities?: string[]; answerProblem?: string }>;
}

/**
 * Reads the raw body of a 2xx `GetRevocationStatus` answer as the AWS Signer plugin's Go decoder
 * would, but stricter where Go would guess:
 * - the body must be one JSON object (strict JSON: no duplicate or case-variant keys, valid UTF-8);
 *   an empty body, an array, a string, a number or `null` is malformed;
 * - the member is found the way Go finds it: its key compared case-insensitively (Go's folding), so
 *   `{"RevokedEntities":[…]}` is read as revoked, never as "no list";
 * - when present, it must be an array of strings: `null`, a string, an object or a number is malformed;
 * - an object WITHOUT the member is "nothing revoked": the API models the list as optional, Go
 *   decodes it to an empty list, and AWS JSON services may omit an empty list.
 * Returns the entities, or what is wrong.
 */
export function readRevocationAnswer(body: Uint8Array): { revokedEntities: string[] } | { problem: string } {
  if (Buffer.from(body).toString('utf8').trim() === '') return { problem: 'the body is empty' };
  let doc: unknown;
  try {
    doc = parseStrictJson(body, (message) => new VerificationFailedError('REVOCATION_UNKNOWN', message));
  } catch (e) {
    return { problem: `the body is not valid JSON (${(e as Error).message})` };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { problem: `the answer is ${typeName(doc)}, not an object` };
  const key = Object.keys(doc).find((k) => foldJsonKey(k) === foldJsonKey('revokedEntities'));
  if (key === undefined) return { revokedEntities: [] };
  const problem = revocationAnswerProblem({ revokedEntities: (doc as Record<string, unknown>)[key] });
  return problem ? { problem } : { revokedEntities: (doc as Record<string, string[]>)[key] };
}

export interface SignerRevocationResult {
  readonly passed: boolean;
  readonly reason?: string;
  /** True when the call itself failed (network, throttling, 5xx, access denied...). */
  readonly inconclusive?: boolean;
  /**
   * True when AWS Signer answered 2xx with a body of the wrong shape (`revokedEntities` missing, null,
   * not an array, entries that are not strings; a non-object or non-JSON body). Not a transport
   * failure: a failed revocation check (the plugin's SDK would fail to decode most of these).
   */
  readonly malformed?: boolean;
  /** The revoked entities reported by AWS Signer. */
  readonly revokedEntities?: readonly string[];
}

/**
 * The exact `GetRevocationStatus` input the plugin sends for an envelope.
 * @throws VerificationFailedError (`INVALID_ENVELOPE` / `INVALID_CERTIFICATE_CHAIN`) with the plugin's messages
 */
export function revocationRequest(env: VerifiedEnvelope): SignerRevocationRequest {
  const info = validateSignerEnvelope(env, { requireJob: true });
  return {
    signatureTimestamp: info.authenticSigningTime,
    platformId: SIGNER_PLATFORM_ID,
    profileVersionArn: info.profileVersionArn,
    jobArn: info.jobArn!,
    certificateHashes: certificateHashes(env.certificateChain),
  };
}

/** The plugin's reason for a non-empty `revokedEntities` list. */
export function revocationReason(revokedEntities: readonly string[]): string {
  const arns = revokedEntities.filter((e) => e.startsWith('arn'));
  const certRevoked = revokedEntities.some((e) => !e.startsWith('arn'));
  let reason = arns.length > 0 ? `Resource(s) ${arns.join(', ')} have been revoked.` : '';
  if (certRevoked) reason += SIGNER_MESSAGES.REVOKED_CERTIFICATE;
  return reason;
}

/** Renders an SDK error like smithy-go's `api error <Code>: <Message>` where a code is known. */
export function describeApiError(e: unknown): string {
  if (isVerifierError(e)) return e.message; // the engine's own (e.g. the awsApiTimeoutMs time limit)
  if (e instanceof Error) {
    const anyErr = e as Error & { $metadata?: unknown; $fault?: unknown; Code?: string; code?: string };
    const code = anyErr.Code ?? (anyErr.$metadata !== undefined || anyErr.$fault !== undefined ? anyErr.name : undefined) ?? anyErr.code;
    if (code && code !== 'Error') return `api error ${code}: ${e.message}`;
    return e.message;
  }
  if (typeof e === 'object' && e !== null) {
    try {
      return JSON.stringify(e);
    } catch {
      return String(e);
    }
  }
  return String(e);
}

/**
 * The plugin's REVOCATION_CHECK: calls `GetRevocationStatus`. Any revoked entity => not passed with
 * "Resource(s) … have been revoked." and/or "Certificate(s) have been revoked.". A failed call is a
 * failed result too ("GetRevocationStatus call failed with error: …"), marked `inconclusive` so callers
 * can report it (`strict` still fails closed on it).
 * @throws VerificationFailedError only for invalid envelopes (missing attributes, unparsable certificates)
 */
export async function checkSignerRevocation(client: SignerRevocationClient, env: VerifiedEnvelope): Promise<SignerRevocationResult> {
  const input = revocationRequest(env);
  let output: unknown;
  try {
    output = await client.getRevocationStatus(input);
  } catch (e) {
    if (isUndecodableAnswer(e)) {
      return { passed: false, malformed: true, reason: `${MALFORMED_ANSWER}: the body could not be decoded (${describeApiError(e).split('\n')[0]})` };
    }
    // A programming error (ours or a client's) is not an unavailable API: it must not become an
    // inconclusive result that `inconclusiveAction: ADMIT` would admit. The engine makes it INTERNAL.
    if (isProgrammingError(e)) throw e;
    return { passed: false, inconclusive: true, reason: `GetRevocationStatus call failed with error: ${describeApiError(e)}` };
  }
  const shape = revocationAnswerProblem(output);
  if (shape) return { passed: false, malformed: true, reason: `${MALFORMED_ANSWER}: ${shape}` };
  const revoked = (output as { revokedEntities: string[] }).revokedEntities;
  if (revoked.length > 0) {
    return { passed: false, reason: revocationReason(revoked), revokedEntities: revoked };
  }
  return { passed: true, reason: SIGNER_MESSAGES.NOT_REVOKED };
}

const MALFORMED_ANSWER = 'GetRevocationStatus answered with a malformed response, revocation status unknown';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * What is wrong with a `GetRevocationStatus` answer, or undefined when it is well formed: an object
 * whose `revokedEntities` is an array of strings (empty when nothing is revoked: the API documents
 * an empty list, so a missing or null list is not read as "not revoked").
 */
export function revocationAnswerProblem(output: unknown): string | undefined {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return `the answer is ${typeName(output)}, not an object`;
  const reported = (output as { answerProblem?: unknown }).answerProblem;
  if (reported !== undefined) return typeof reported === 'string' ? reported : 'the answer is malformed';
  const entities = (output as { revokedEntities?: unknown }).revokedEntities;
  if (entities === undefined) return 'revokedEntities is missing';
  if (!Array.isArray(entities)) return `revokedEntities is ${typeName(entities)}, not an array of strings`;
  const bad = entities.findIndex((x) => typeof x !== 'string');
  if (bad >= 0) return `revokedEntities[${bad}] is ${typeName(entities[bad])}, not a string`;
  return undefined;
}

/**
 * A JavaScript programming error (TypeError, RangeError, ReferenceError, SyntaxError) that did not
 * come from an AWS API exchange: no `$metadata`/`$fault` from the SDK and no system error `code`.
 */
function isProgrammingError(e: unknown): boolean {
  if (!(e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError || e instanceof SyntaxError)) return false;
  const x = e as { $metadata?: unknown; $fault?: unknown; code?: unknown };
  return x.$metadata === undefined && x.$fault === undefined && x.code === undefined;
}

/**
 * An SDK error thrown while DECODING a 2xx answer (the SDK's JSON.parse or shape reader failing:
 * SyntaxError/TypeError with `$metadata.httpStatusCode` 2xx and no `$fault`). Stream and socket errors
 * while reading the body are transport failures and stay inconclusive.
 */
function isUndecodableAnswer(e: unknown): boolean {
  if (!(e instanceof SyntaxError) && !(e instanceof TypeError)) return false;
  const meta = (e as { $metadata?: { httpStatusCode?: unknown }; $fault?: unknown });
  const status = meta.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 200 && status < 300 && meta.$fault === undefined;
}
