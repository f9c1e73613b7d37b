/**
 * COSE envelope (`application/cose`): `COSE_Sign1_Tagged` (CBOR tag 18) only
 * (notary-verification.md §5.2; notation-core-go `signature/cose`, go-cose `Sign1Message`).
 */
import { KeyObject } from 'crypto';
import { ExtendedAttribute, SigningScheme } from '../types';
import { CborKey, CborMap, CborTagged, CborValue, decodeCbor, encodeArrayHeader, encodeByteString, encodeTextString } from './cbor';
import {
  algorithmFromCoseId,
  AlgorithmInfo,
  AlgorithmName,
  cryptoVerifySignature,
  EnvelopeContent,
  extractPluginHeaders,
  HEADER_AUTHENTIC_SIGNING_TIME,
  HEADER_EXPIRY,
  HEADER_SIGNING_AGENT,
  HEADER_SIGNING_SCHEME,
  HEADER_SIGNING_TIME,
  HEADER_TIMESTAMP_SIGNATURE,
  integrityError,
  invalidChain,
  invalidEnvelope,
  invalidSignature,
  keyKind,
  requiredCriticalHeaders,
} from './common';

export const COSE_SIGN1_TAG = 18;
export const COSE_LABEL_ALG = 1;
export const COSE_LABEL_CRIT = 2;
export const COSE_LABEL_CONTENT_TYPE = 3;
export const COSE_LABEL_X5CHAIN = 33;

const SYSTEM_LABELS: readonly CborKey[] = [
  COSE_LABEL_ALG, COSE_LABEL_CRIT, COSE_LABEL_CONTENT_TYPE,
  HEADER_EXPIRY, HEADER_SIGNING_SCHEME, HEADER_SIGNING_TIME, HEADER_AUTHENTIC_SIGNING_TIME,
];

/** A decoded COSE_Sign1 message. `protectedRaw` is the exact signed bstr content. */
export interface DecodedCose {
  readonly protectedRaw: Uint8Array;
  readonly protectedHeader: CborMap;
  readonly unprotectedHeader: CborMap;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly certificateChain: Uint8Array[];
}

function parseError(detail: string): never {
  throw invalidEnvelope(`unable to parse the digital signature, error : ${detail}`);
}

/** Decodes the COSE_Sign1_Tagged structure and its protected header (no cryptography). */
export function decodeCose(bytes: Uint8Array): DecodedCose {
  const top = decodeCbor(bytes);
  if (!(top instanceof CborTagged) || top.tag !== COSE_SIGN1_TAG) {
    parseError('cbor: invalid COSE_Sign1_Tagged object (CBOR tag 18 required)');
  }
  const msg = top.value;
  if (!Array.isArray(msg) || msg.length !== 4) parseError('cbor: COSE_Sign1 must be an array of 4 items');
  const [protectedRaw, unprotectedHeader, payload, signature] = msg;
  if (!(protectedRaw instanceof Uint8Array)) parseError('cbor: protected header must be a byte string');
  if (!(unprotectedHeader instanceof CborMap)) parseError('cbor: unprotected header must be a map');
  if (payload === null || payload === undefined) parseError('detached payload is not supported');
  if (!(payload instanceof Uint8Array)) parseError('cbor: payload must be a byte string');
  if (!(signature instanceof Uint8Array)) parseError('cbor: signature must be a byte string');

  let protectedHeader: CborMap;
  if (protectedRaw.length === 0) {
    protectedHeader = new CborMap();
  } else {
    const p = decodeCbor(protectedRaw);
    if (!(p instanceof CborMap)) parseError('cbor: protected header must encode a map');
    protectedHeader = p;
  }
  // go-cose header checks
  const alg = protectedHeader.get(COSE_LABEL_ALG);
  if (protectedHeader.has(COSE_LABEL_ALG) && typeof alg !== 'number' && typeof alg !== 'string') {
    parseError('protected header parameter "alg": require int / tstr type');
  }
  if (protectedHeader.has(COSE_LABEL_CRIT)) {
    const crit = protectedHeader.get(COSE_LABEL_CRIT);
    if (!Array.isArray(crit) || crit.length === 0) parseError('protected header parameter "crit": require a non-empty array');
    for (const label of crit) {
      if (typeof label !== 'number' && typeof label !== 'string') parseError('protected header parameter "crit": require int / tstr labels');
      if (!protectedHeader.has(label)) parseError(`missing critical header: ${String(label)}`);
    }
  }
  if (unprotectedHeader.has(COSE_LABEL_CRIT)) parseError('unprotected header parameter "crit" is not allowed');
  for (const k of unprotectedHeader.keys()) {
    if (protectedHeader.has(k)) parseError(`header parameter ${JSON.stringify(k)} is in both the protected and unprotected headers`);
  }

  const certificateChain: Uint8Array[] = [];
  const x5 = unprotectedHeader.get(COSE_LABEL_X5CHAIN);
  if (Array.isArray(x5)) {
    for (const c of x5) {
      if (!(c instanceof Uint8Array)) {
        throw invalidChain('certificate chain is not present');
      }
      certificateChain.push(c);
    }
  }
  return { protectedRaw, protectedHeader, unprotectedHeader, payload, signature, certificateChain };
}

/** `Sig_structure = ["Signature1", body_protected, external_aad = h'', payload]` (RFC 9052 §4.4). */
export function coseSigStructure(d: DecodedCose): Uint8Array {
  const parts = [
    encodeArrayHeader(4),
    encodeTextString('Signature1'),
    encodeByteString(d.protectedRaw),
    encodeByteString(new Uint8Array(0)),
    encodeByteString(d.payload),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Header `alg` as a supported algorithm (throws INVALID_SIGNATURE otherwise). */
export function coseAlgorithm(d: DecodedCose): AlgorithmInfo {
  const alg = d.protectedHeader.get(COSE_LABEL_ALG);
  if (alg === undefined) throw invalidSignature('signature algorithm not supported: algorithm not found');
  const info = typeof alg === 'number' ? algorithmFromCoseId(alg) : undefined;
  if (!info) throw invalidSignature(`signature algorithm not supported: ${String(alg)}`);
  return info;
}

/**
 * Verifies the COSE signature with the leaf key (go-cose: RSA-PSS salt = hash length,
 * ECDSA raw r||s of the curve's size). The caller checks header alg == leaf-derived alg first.
 */
export function verifyCoseSignature(d: DecodedCose, key: KeyObject): AlgorithmName {
  const info = coseAlgorithm(d);
  if (keyKind(key) !== info.kind) throw integrityError('algorithm mismatch');
  if (d.signature.length === 0) throw invalidSignature('signature missing in COSE envelope');
  if (!cryptoVerifySignature(info, key, coseSigStructure(d), d.signature, 'hash')) {
    throw integrityError('verification error');
  }
  return info.name;
}

/** A bad time header value; callers prefix it ("invalid signingTime: ..."). */
function timeError(message: string): never {
  throw invalidEnvelope(message);
}

function parseTime(p: CborMap, label: string): Date {
  const v = p.get(label);
  if (v === undefined) timeError(`protected header "${label}" is missing`);
  if (!(v instanceof CborTagged)) timeError('invalid timeValue type');
  if (v.tag !== 1) timeError('only Tag `1` Datetime CBOR object is supported');
  const t = v.value;
  if (typeof t !== 'number' || !Number.isFinite(t)) {
    timeError('cbor: tag number 1 must be followed by integer or floating-point number');
  }
  const d = new Date(Math.trunc(t * 1000));
  if (Number.isNaN(d.getTime())) timeError('time value out of range');
  return d;
}

/** Converts a CBOR header value to a plain JS value for extended attributes. */
function toPlain(v: CborValue): unknown {
  if (v instanceof CborMap) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.entries()) o[String(k)] = toPlain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof CborTagged) return { tag: v.tag, value: toPlain(v.value) };
  return v;
}

/** The signing scheme's time header and the expiry (notation-core-go `parseProtectedHeaders`). */
function coseTimes(p: CborMap, signingScheme: string): { time: Date; expiry?: Date } {
  let timeLabel: string;
  if (signingScheme === 'notary.x509') {
    timeLabel = HEADER_SIGNING_TIME;
    if (p.has(HEADER_AUTHENTIC_SIGNING_TIME)) {
      throw invalidEnvelope(`"${HEADER_AUTHENTIC_SIGNING_TIME}" header must not be present for notary.x509 signing scheme`);
    }
  } else if (signingScheme === 'notary.x509.signingAuthority') {
    timeLabel = HEADER_AUTHENTIC_SIGNING_TIME;
    if (p.has(HEADER_SIGNING_TIME)) {
      throw invalidEnvelope(`"${HEADER_SIGNING_TIME}" header must not be present for notary.x509.signingAuthority signing scheme`);
    }
  } else {
    throw invalidEnvelope(`unsupported signingScheme: ${signingScheme}`);
  }
  let time: Date;
  try {
    time = parseTime(p, timeLabel);
  } catch (e) {
    throw invalidEnvelope(`invalid signingTime: ${(e as Error).message}`);
  }
  if (!p.has(HEADER_EXPIRY)) return { time };
  try {
    return { time, expiry: parseTime(p, HEADER_EXPIRY) };
  } catch (e) {
    throw invalidEnvelope(`invalid expiry: ${(e as Error).message}`);
  }
}

/**
 * Validates the protected and unprotected headers (notation-core-go `parseProtectedHeaders`,
 * `validateCritHeaders`, `payload`, `signerInfo`) and returns the envelope content.
 * Does not verify the signature.
 */
export function coseContent(d: DecodedCose): EnvelopeContent {
  const p = d.protectedHeader;
  const crit: CborKey[] = (p.get(COSE_LABEL_CRIT) as CborKey[] | undefined) ?? [];

  // validateCritHeaders
  const signingScheme = p.get(HEADER_SIGNING_SCHEME);
  if (typeof signingScheme !== 'string') throw invalidEnvelope('invalid signingScheme');
  const missing = requiredCriticalHeaders(signingScheme, p.has(HEADER_EXPIRY)).filter((k) => !crit.includes(k));
  if (missing.length) throw invalidEnvelope(`these required headers are not marked as critical: [${missing.join(' ')}]`);

  const alg = coseAlgorithm(d);
  const { time, expiry } = coseTimes(p, signingScheme);

  const attrs: ExtendedAttribute[] = p.keys()
    .filter((k) => !SYSTEM_LABELS.includes(k))
    .map((k) => ({ key: String(k), value: toPlain(p.get(k)), critical: crit.includes(k) }));
  const plugin = extractPluginHeaders(attrs);

  if (!p.has(COSE_LABEL_CONTENT_TYPE)) throw invalidEnvelope('missing content type');
  const cty = p.get(COSE_LABEL_CONTENT_TYPE);
  if (typeof cty !== 'string') throw invalidEnvelope("content type should be of 'tstr' type");

  if (d.signature.length === 0) throw invalidSignature('signature missing in COSE envelope');

  const agent = d.unprotectedHeader.get(HEADER_SIGNING_AGENT);
  const ts = d.unprotectedHeader.get(HEADER_TIMESTAMP_SIGNATURE);

  return {
    algorithm: alg.name,
    contentType: cty,
    signingScheme: signingScheme as SigningScheme,
    signingTime: signingScheme === 'notary.x509' ? time : undefined,
    authenticSigningTime: signingScheme === 'notary.x509.signingAuthority' ? time : undefined,
    expiry,
    extendedAttributes: plugin.rest,
    verificationPlugin: plugin.verificationPlugin,
    verificationPluginMinVersion: plugin.verificationPluginMinVersion,
    payload: d.payload,
    signature: d.signature,
    certificateChain: d.certificateChain,
    signingAgent: typeof agent === 'string' ? agent : undefined,
    timestampToken: ts instanceof Uint8Array && ts.length > 0 ? ts : undefined,
  };
}
