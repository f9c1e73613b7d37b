/**
 * Signature envelope integrity (notary-verification.md §1 step 2, §4-§6): parse by media type,
 * verify the signature with the leaf key, validate headers, the certificate chain and the
 * algorithm/key match, and parse the payload.
 */
import { KeyObject } from 'crypto';
import { VerificationFailedError, VerifierError } from '../errors';
import { parseStrictJson } from '../json';
import { Descriptor, LIMITS, MEDIA_TYPE, VerifiedEnvelope } from '../types';
import { AlgorithmName, EnvelopeContent, invalidChain, invalidEnvelope, invalidSignature, PAYLOAD_CONTENT_TYPE, validateTimes } from './common';
import { coseAlgorithm, coseContent, decodeCose, DecodedCose, verifyCoseSignature } from './cose';
import { decodeJws, jwsContent, verifyJwsSignature } from './jws';
import { CertificateInfo, parseCertificate } from '../x509/certificate';
import { signatureAlgorithmForKey, validateCodeSigningChain } from '../x509/chain';

export { KNOWN_CRITICAL_ATTRIBUTES } from './constants';
export { ALGORITHMS, PAYLOAD_CONTENT_TYPE } from './common';
export type { AlgorithmName } from './common';

function checkInput(mediaType: string, bytes: Uint8Array): 'jws' | 'cose' {
  let format: 'jws' | 'cose';
  if (mediaType === MEDIA_TYPE.JWS) format = 'jws';
  else if (mediaType === MEDIA_TYPE.COSE) format = 'cose';
  else throw new VerificationFailedError('UNSUPPORTED_ENVELOPE', `signature envelope format with media type "${mediaType}" is not supported`);
  if (!(bytes instanceof Uint8Array)) throw invalidEnvelope('signature envelope is not present');
  if (bytes.length === 0) throw invalidEnvelope('signature envelope is not present');
  if (bytes.length > LIMITS.ENVELOPE_BYTES) {
    throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `signature envelope size ${bytes.length} exceeds the limit of ${LIMITS.ENVELOPE_BYTES} bytes`);
  }
  return format;
}

function parseCert(der: Uint8Array, what: string): CertificateInfo {
  try {
    return parseCertificate(der);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw invalidChain(what === 'leaf' ? 'malformed leaf certificate' : msg, e);
  }
}

/** Leaf-key algorithm per §6 (RSA 2048/3072/4096, P-256/384/521). */
function leafAlgorithm(leaf: CertificateInfo): AlgorithmName {
  try {
    return signatureAlgorithmForKey(leaf) as AlgorithmName;
  } catch (e) {
    if (e instanceof VerifierError) throw invalidChain(e.message, e);
    throw invalidChain(e instanceof Error ? e.message : String(e), e);
  }
}

function parseTargetArtifact(payload: Uint8Array): Descriptor {
  const generic = 'failed to unmarshal the payload content in the signature blob to envelope.Payload';
  // Strict (src/verifier/json): a payload with "targetArtifact" and "TargetArtifact" (or "digest" and
  // "Digest") is rejected; Go would read the last spelling, JSON.parse the exact one.
  const doc = parseStrictJson(payload, (message, _reason, cause) => invalidEnvelope(`${generic}: ${message}`, cause));
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(doc)) throw invalidEnvelope(`${generic}: payload is not a JSON object`);
  const t = doc.targetArtifact;
  if (!isObj(t)) throw invalidEnvelope(`${generic}: "targetArtifact" is missing or not an object`);
  if (typeof t.mediaType !== 'string' || t.mediaType === '') throw invalidEnvelope(`${generic}: targetArtifact.mediaType is missing`);
  if (typeof t.digest !== 'string' || t.digest === '') throw invalidEnvelope(`${generic}: targetArtifact.digest is missing`);
  if (typeof t.size !== 'number' || !Number.isSafeInteger(t.size) || t.size < 0) {
    throw invalidEnvelope(`${generic}: targetArtifact.size is missing or not a non-negative integer`);
  }
  let annotations: Record<string, string> | undefined;
  if (t.annotations !== undefined && t.annotations !== null) {
    if (!isObj(t.annotations) || Object.values(t.annotations).some((v) => typeof v !== 'string')) {
      throw invalidEnvelope(`${generic}: targetArtifact.annotations must map strings to strings`);
    }
    annotations = { ...(t.annotations as Record<string, string>) };
  }
  if (t.artifactType !== undefined && t.artifactType !== null && typeof t.artifactType !== 'string') {
    throw invalidEnvelope(`${generic}: targetArtifact.artifactType must be a string`);
  }
  return {
    mediaType: t.mediaType,
    digest: t.digest,
    size: t.size,
    ...(typeof t.artifactType === 'string' ? { artifactType: t.artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

function toVerified(format: 'jws' | 'cose', mediaType: string, c: EnvelopeContent): VerifiedEnvelope {
  if (c.payload.length === 0) throw invalidEnvelope('content not present');
  validateTimes(c.authenticSigningTime ?? c.signingTime, c.expiry);
  if (c.contentType !== PAYLOAD_CONTENT_TYPE) throw invalidEnvelope(`payload content type "${c.contentType}" not supported`);
  const targetArtifact = parseTargetArtifact(c.payload);
  return {
    format,
    mediaType,
    targetArtifact,
    payloadContentType: c.contentType,
    signingScheme: c.signingScheme,
    ...(c.signingTime ? { signingTime: c.signingTime } : {}),
    ...(c.authenticSigningTime ? { authenticSigningTime: c.authenticSigningTime } : {}),
    ...(c.expiry ? { expiry: c.expiry } : {}),
    ...(c.verificationPlugin !== undefined ? { verificationPlugin: c.verificationPlugin } : {}),
    ...(c.verificationPluginMinVersion !== undefined ? { verificationPluginMinVersion: c.verificationPluginMinVersion } : {}),
    extendedAttributes: c.extendedAttributes,
    certificateChain: c.certificateChain,
    ...(c.signingAgent !== undefined ? { signingAgent: c.signingAgent } : {}),
    ...(c.timestampToken ? { timestampToken: c.timestampToken } : {}),
    signature: c.signature,
    algorithm: c.algorithm,
  };
}

/**
 * Verifies the integrity of a signature envelope (`application/jose+json` or `application/cose`):
 * signature with the leaf key, header rules, certificate-chain rules, algorithm/key match, payload
 * content type and shape. Throws VerificationFailedError (UNSUPPORTED_ENVELOPE, INVALID_ENVELOPE,
 * INVALID_SIGNATURE, INVALID_CERTIFICATE_CHAIN, SIZE_LIMIT_EXCEEDED).
 *
 * Expiry against the current time, trust, identities, timestamps and unknown critical extended
 * attributes are judged by the pipeline.
 */
export function verifyEnvelopeIntegrity(mediaType: string, bytes: Uint8Array): VerifiedEnvelope {
  const format = checkInput(mediaType, bytes);
  let content: EnvelopeContent;
  let signedAlg: AlgorithmName;
  let leaf: CertificateInfo;
  if (format === 'jws') {
    const d = decodeJws(bytes);
    if (d.certificateChain.length === 0) throw invalidChain('certificate chain is not present');
    leaf = parseCert(d.certificateChain[0], 'leaf');
    signedAlg = verifyJwsSignature(d, leaf.publicKey as KeyObject);
    content = jwsContent(d);
  } else {
    const d = decodeCose(bytes);
    if (d.certificateChain.length === 0) throw invalidChain('certificate chain is not present');
    leaf = parseCert(d.certificateChain[0], 'leaf');
    const derived = leafAlgorithm(leaf);
    const header = coseAlgHeader(d);
    if (header !== undefined && header !== derived) throw algMismatch(derived, header);
    signedAlg = verifyCoseSignature(d, leaf.publicKey as KeyObject);
    content = coseContent(d);
  }
  if (content.algorithm !== signedAlg) throw invalidSignature('signature algorithm changed between verification and parsing');

  // validateEnvelopeContent (notation-core-go base envelope) + chain rules (§7)
  if (content.payload.length === 0) throw invalidEnvelope('content not present');
  validateTimes(content.authenticSigningTime ?? content.signingTime, content.expiry);
  const chain = content.certificateChain.map((c, i) => (i === 0 ? leaf : parseCert(c, 'chain')));
  try {
    validateCodeSigningChain(chain);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw invalidChain(msg.startsWith('certificate-chain is invalid') ? msg : `certificate-chain is invalid, ${msg}`, e);
  }
  const derived = leafAlgorithm(leaf);
  if (derived !== content.algorithm) throw algMismatch(derived, content.algorithm);
  return toVerified(format, mediaType, content);
}

function coseAlgHeader(d: DecodedCose): AlgorithmName | undefined {
  try {
    return coseAlgorithm(d).name;
  } catch {
    return undefined; // reported by verifyCoseSignature
  }
}

function algMismatch(derived: string, specified: string): VerificationFailedError {
  return invalidSignature(
    `mismatch between signature algorithm derived from signing certificate (${derived}) and signing algorithm specified (${specified})`,
  );
}

/**
 * Parses an envelope and validates its headers and payload WITHOUT verifying the signature or the
 * certificate chain (for `inspect`). Never use the result for a trust decision.
 */
export function parseEnvelopeUnverified(mediaType: string, bytes: Uint8Array): VerifiedEnvelope {
  const format = checkInput(mediaType, bytes);
  const content = format === 'jws' ? jwsContent(decodeJws(bytes)) : coseContent(decodeCose(bytes));
  return toVerified(format, mediaType, content);
}
