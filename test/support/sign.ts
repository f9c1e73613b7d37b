/**
 * Test signer: builds Notary Project JWS / COSE signature envelopes with real crypto, plus a set of
 * deliberate defects (`tamper`) for adversarial tests.
 */
import * as crypto from 'crypto';
import { CborMap, CborTagged, encodeCbor, Encodable, EncodableKey } from './cbor';
import { AWS_SIGNER_PLUGIN_ID, SIGNER_JOB_ATTRIBUTE, SIGNER_PROFILE_VERSION_ATTRIBUTE } from '../../src/verifier/signer';

export type EnvelopeAlg = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

export type Tamper =
  /** payload replaced after signing (crypto failure) */
  | 'payload'
  /** protected header changed after signing (crypto failure) */
  | 'protectedHeader'
  /** one signature byte flipped (crypto failure) */
  | 'signature'
  /** JWS: trailing `=` on the payload ("illegal base64 data at input byte N") */
  | 'paddedBase64'
  /** alg `none` (JWS, empty signature) / tstr "none" (COSE) */
  | 'algNone'
  /** alg HS256 with an HMAC signature (JWS) / COSE alg 5 (HMAC 256/256) */
  | 'hs256'
  /** alg of another size than the leaf key implies, validly signed with it */
  | 'algKeyMismatch'
  /** alg of the other key family (PS* with an EC key, ES* with an RSA key) */
  | 'algFamilyMismatch'
  /** no `crit` header */
  | 'missingCrit'
  /** `crit` lacks the signing scheme */
  | 'signingSchemeNotCritical'
  /** `crit` lacks the expiry (an expiry is added if none was given) */
  | 'expiryNotCritical'
  /** `crit` lists a header that is not present */
  | 'extraCrit'
  /** adds a critical extended attribute `io.example.unknown` (integrity passes; the pipeline rejects it) */
  | 'unknownCriticalAttribute'
  /** signing scheme `notary.x509.unknown` */
  | 'badSigningScheme'
  /** `cty` is not the Notary payload type */
  | 'wrongContentType'
  /** expiry == signing time */
  | 'expiryNotAfterSigningTime'
  /** no certificate chain */
  | 'noCertChain'
  /** JWS compact serialization */
  | 'compact'
  /** JWS general JSON serialization */
  | 'general'
  /** COSE: message without CBOR tag 18 */
  | 'untagged'
  /** COSE: x5chain as a single bstr (RFC 9360 form) */
  | 'x5chainSingleBstr'
  /** COSE: signing time as a bare integer (no tag 1) */
  | 'untaggedTime'
  /** COSE: signing time as tag 0 (RFC 3339 string) */
  | 'tag0Time';

export interface ExtendedAttributeSpec {
  key: string;
  value: unknown;
  critical?: boolean;
}

export interface TargetArtifactSpec {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface SignOptions {
  /** Default: an OCI manifest descriptor. */
  targetArtifact?: TargetArtifactSpec;
  /** Raw payload bytes (overrides targetArtifact). */
  payload?: Uint8Array;
  /** Leaf private key. */
  key: crypto.KeyObject;
  /** DER certificates leaf..root. */
  chainDer: Uint8Array[];
  /** Default: derived from the key (RSA 2048/3072/4096 → PS256/384/512, P-256/384/521 → ES256/384/512). */
  alg?: EnvelopeAlg;
  /** Default `notary.x509`. */
  signingScheme?: string;
  /** notary.x509 signing time (default now). A string is written verbatim (JWS only). */
  signingTime?: Date | string;
  /** signingAuthority signing time (default now). */
  authenticSigningTime?: Date | string;
  expiry?: Date | string;
  extendedAttributes?: ExtendedAttributeSpec[];
  verificationPlugin?: string;
  verificationPluginMinVersion?: string;
  signingAgent?: string;
  /** RFC 3161 token (DER) for the unprotected header. */
  timestampToken?: Uint8Array;
  /** Default `application/vnd.cncf.notary.payload.v1+json`. */
  contentType?: string;
  /** Overrides the computed `crit` list. */
  crit?: string[];
  tamper?: Tamper;
}

export const DEFAULT_TARGET: TargetArtifactSpec = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: 'sha256:' + 'ab'.repeat(32),
  size: 1234,
};

const HASH: Record<EnvelopeAlg, { hash: string; len: number }> = {
  PS256: { hash: 'sha256', len: 32 },
  PS384: { hash: 'sha384', len: 48 },
  PS512: { hash: 'sha512', len: 64 },
  ES256: { hash: 'sha256', len: 32 },
  ES384: { hash: 'sha384', len: 48 },
  ES512: { hash: 'sha512', len: 64 },
};
const COSE_ALG: Record<EnvelopeAlg, number> = { PS256: -37, PS384: -38, PS512: -39, ES256: -7, ES384: -35, ES512: -36 };

/** Algorithm notation derives from a key. */
export function algForKey(key: crypto.KeyObject): EnvelopeAlg {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    return ({ 2048: 'PS256', 3072: 'PS384', 4096: 'PS512' } as Record<number, EnvelopeAlg>)[d.modulusLength ?? 0] ?? 'PS256';
  }
  return ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as Record<string, EnvelopeAlg>)[d.namedCurve ?? ''] ?? 'ES256';
}

function otherSizeAlg(alg: EnvelopeAlg): EnvelopeAlg {
  const next: Record<EnvelopeAlg, EnvelopeAlg> = { PS256: 'PS384', PS384: 'PS512', PS512: 'PS256', ES256: 'ES384', ES384: 'ES512', ES512: 'ES256' };
  return next[alg];
}

function otherFamilyAlg(alg: EnvelopeAlg): EnvelopeAlg {
  return (alg.startsWith('PS') ? alg.replace('PS', 'ES') : alg.replace('ES', 'PS')) as EnvelopeAlg;
}

/** Raw signature as notation produces it (PSS salt = hash length; ECDSA r||s). */
export function rawSign(alg: EnvelopeAlg, key: crypto.KeyObject, data: Uint8Array): Uint8Array {
  const { hash, len } = HASH[alg];
  if (alg.startsWith('PS')) {
    return crypto.sign(hash, data, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: len });
  }
  return crypto.sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
}

function rfc3339(d: Date | string): string {
  if (typeof d === 'string') return d;
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function seconds(d: Date | string): number {
  return Math.floor((typeof d === 'string' ? new Date(d) : d).getTime() / 1000);
}

interface Model {
  alg: string;
  signAlg: EnvelopeAlg;
  scheme: string;
  timeKey: string;
  time: Date | string;
  expiry?: Date | string;
  cty: string;
  crit: string[];
  ext: ExtendedAttributeSpec[];
  payload: Uint8Array;
}

function buildModel(o: SignOptions): Model {
  const t = o.tamper;
  const keyAlg = algForKey(o.key);
  let signAlg: EnvelopeAlg = o.alg ?? keyAlg;
  if (t === 'algKeyMismatch') signAlg = otherSizeAlg(keyAlg);
  let alg: string = signAlg;
  if (t === 'algFamilyMismatch') alg = otherFamilyAlg(keyAlg);
  if (t === 'algNone') alg = 'none';
  if (t === 'hs256') alg = 'HS256';

  const scheme = t === 'badSigningScheme' ? 'notary.x509.unknown' : o.signingScheme ?? 'notary.x509';
  const sa = scheme === 'notary.x509.signingAuthority';
  const timeKey = sa ? 'io.cncf.notary.authenticSigningTime' : 'io.cncf.notary.signingTime';
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const time = (sa ? o.authenticSigningTime : o.signingTime) ?? now;
  let expiry = o.expiry;
  if (t === 'expiryNotCritical' && !expiry) expiry = new Date(seconds(time) * 1000 + 86400_000);
  if (t === 'expiryNotAfterSigningTime') expiry = time;

  const ext: ExtendedAttributeSpec[] = [...(o.extendedAttributes ?? [])];
  if (o.verificationPlugin !== undefined) ext.push({ key: 'io.cncf.notary.verificationPlugin', value: o.verificationPlugin, critical: true });
  if (o.verificationPluginMinVersion !== undefined) {
    ext.push({ key: 'io.cncf.notary.verificationPluginMinVersion', value: o.verificationPluginMinVersion, critical: true });
  }
  if (t === 'unknownCriticalAttribute') ext.push({ key: 'io.example.unknown', value: 'x', critical: true });

  let crit = ['io.cncf.notary.signingScheme'];
  if (sa) crit.push('io.cncf.notary.authenticSigningTime');
  if (expiry) crit.push('io.cncf.notary.expiry');
  crit.push(...ext.filter((e) => e.critical).map((e) => e.key));
  if (o.crit) crit = [...o.crit];
  if (t === 'missingCrit') crit = [];
  if (t === 'signingSchemeNotCritical') crit = crit.filter((c) => c !== 'io.cncf.notary.signingScheme');
  if (t === 'expiryNotCritical') crit = crit.filter((c) => c !== 'io.cncf.notary.expiry');
  if (t === 'extraCrit') crit.push('io.cncf.notary.nonexistent');

  const payload = o.payload ?? Buffer.from(JSON.stringify({ targetArtifact: o.targetArtifact ?? DEFAULT_TARGET }));
  const cty = t === 'wrongContentType' ? 'application/json' : o.contentType ?? 'application/vnd.cncf.notary.payload.v1+json';
  return { alg, signAlg, scheme, timeKey, time, expiry, cty, crit, ext, payload };
}

function b64u(b: Uint8Array | string): string {
  return Buffer.from(b).toString('base64url');
}

function sortedJson(obj: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k];
  return JSON.stringify(out);
}

function flip(b: Uint8Array, i = 0): Uint8Array {
  const c = Buffer.from(b);
  c[i % c.length] ^= 0x01;
  return c;
}

/** Builds a flattened JWS JSON envelope (bytes). */
export function signJws(o: SignOptions): Uint8Array {
  const m = buildModel(o);
  const t = o.tamper;
  const header: Record<string, unknown> = {
    'alg': m.alg,
    'cty': m.cty,
    'io.cncf.notary.signingScheme': m.scheme,
    [m.timeKey]: rfc3339(m.time),
  };
  if (m.crit.length) header.crit = m.crit;
  if (m.expiry) header['io.cncf.notary.expiry'] = rfc3339(m.expiry);
  for (const e of m.ext) header[e.key] = e.value;

  let protectedB64 = b64u(sortedJson(header));
  let payloadB64 = b64u(m.payload);
  const input = Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
  let sig: Uint8Array;
  if (t === 'algNone') sig = new Uint8Array(0);
  else if (t === 'hs256') sig = crypto.createHmac('sha256', 'secret').update(input).digest();
  else sig = rawSign(m.signAlg, o.key, input);

  if (t === 'signature') sig = flip(sig, 7);
  if (t === 'payload') {
    const other = JSON.parse(Buffer.from(m.payload).toString());
    if (other.targetArtifact) other.targetArtifact.size += 1;
    else other.tampered = true;
    payloadB64 = b64u(JSON.stringify(other));
  }
  if (t === 'protectedHeader') {
    header['io.cncf.notary.signingScheme'] = m.scheme;
    header[m.timeKey] = rfc3339(new Date(seconds(m.time) * 1000 - 3600_000));
    protectedB64 = b64u(sortedJson(header));
  }
  if (t === 'paddedBase64') payloadB64 += '=';

  const x5c = t === 'noCertChain' ? [] : o.chainDer.map((c) => Buffer.from(c).toString('base64'));
  const unprotected: Record<string, unknown> = { x5c };
  if (o.signingAgent !== undefined) unprotected['io.cncf.notary.signingAgent'] = o.signingAgent;
  if (o.timestampToken) unprotected['io.cncf.notary.timestampSignature'] = Buffer.from(o.timestampToken).toString('base64');

  if (t === 'compact') return Buffer.from(`${protectedB64}.${payloadB64}.${b64u(sig)}`);
  if (t === 'general') {
    return Buffer.from(JSON.stringify({ payload: payloadB64, signatures: [{ protected: protectedB64, header: unprotected, signature: b64u(sig) }] }));
  }
  return Buffer.from(JSON.stringify({ payload: payloadB64, protected: protectedB64, header: unprotected, signature: b64u(sig) }));
}

function coseTime(d: Date | string, t: Tamper | undefined): Encodable {
  if (t === 'untaggedTime') return seconds(d);
  if (t === 'tag0Time') return new CborTagged(0, rfc3339(d));
  return new CborTagged(1, seconds(d));
}

/** `Sig_structure` for COSE_Sign1 (RFC 9052 §4.4). */
export function coseToBeSigned(protectedRaw: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedRaw, new Uint8Array(0), payload]);
}

/** Builds a COSE_Sign1_Tagged envelope (bytes). */
export function signCose(o: SignOptions): Uint8Array {
  const m = buildModel(o);
  const t = o.tamper;
  if (t === 'paddedBase64' || t === 'compact' || t === 'general') throw new Error(`tamper ${t} does not apply to COSE`);
  let alg: Encodable = COSE_ALG[m.alg as EnvelopeAlg];
  if (t === 'algNone') alg = 'none';
  if (t === 'hs256') alg = 5;

  const buildProtected = (time: Date | string): Uint8Array => {
    const p = new Map<EncodableKey, Encodable>();
    p.set(1, alg);
    if (m.crit.length) p.set(2, m.crit);
    p.set(3, m.cty);
    p.set('io.cncf.notary.signingScheme', m.scheme);
    p.set(m.timeKey, coseTime(time, t));
    if (m.expiry) p.set('io.cncf.notary.expiry', coseTime(m.expiry, t));
    for (const e of m.ext) p.set(e.key, e.value as Encodable);
    return encodeCbor(p);
  };
  let protectedRaw = buildProtected(m.time);
  let payload = m.payload;
  const tbs = coseToBeSigned(protectedRaw, payload);
  let sig: Uint8Array;
  if (t === 'algNone') sig = new Uint8Array(0);
  else if (t === 'hs256') sig = crypto.createHmac('sha256', 'secret').update(tbs).digest();
  else sig = rawSign(m.signAlg, o.key, tbs);

  if (t === 'signature') sig = flip(sig, 7);
  if (t === 'payload') {
    const other = JSON.parse(Buffer.from(m.payload).toString());
    if (other.targetArtifact) other.targetArtifact.size += 1;
    else other.tampered = true;
    payload = Buffer.from(JSON.stringify(other));
  }
  if (t === 'protectedHeader') protectedRaw = buildProtected(new Date(seconds(m.time) * 1000 - 3600_000));

  const u = new Map<EncodableKey, Encodable>();
  if (t !== 'noCertChain') {
    u.set(33, t === 'x5chainSingleBstr' ? o.chainDer[0] : o.chainDer.map((c) => Uint8Array.from(c)));
  }
  if (o.signingAgent !== undefined) u.set('io.cncf.notary.signingAgent', o.signingAgent);
  if (o.timestampToken) u.set('io.cncf.notary.timestampSignature', o.timestampToken);
  const msg: Encodable = [protectedRaw, u, payload, sig];
  return encodeCbor(t === 'untagged' ? msg : new CborTagged(18, msg as any));
}

/** Signs in the given format. */
export function signEnvelope(format: 'jws' | 'cose', o: SignOptions): Uint8Array {
  return format === 'jws' ? signJws(o) : signCose(o);
}

export function envelopeMediaType(format: 'jws' | 'cose'): string {
  return format === 'jws' ? 'application/jose+json' : 'application/cose';
}

export { CborMap };

/**
 * Signing options shaped like an AWS Signer signature (what ECR managed signing produces): JWS,
 * `notary.x509.signingAuthority`, the Signer plugin header and both critical `com.amazonaws.signer.*`
 * attributes; authentic signing time a minute ago, expiry in 90 days unless `extra` says otherwise.
 */
export function awsSignerSignOptions(profileVersionArn: string, jobArn: string, extra: Partial<SignOptions> = {}): Partial<SignOptions> {
  return {
    signingScheme: 'notary.x509.signingAuthority',
    authenticSigningTime: new Date(Date.now() - 60_000),
    expiry: new Date(Date.now() + 90 * 86400_000),
    verificationPlugin: AWS_SIGNER_PLUGIN_ID,
    extendedAttributes: [
      { key: SIGNER_PROFILE_VERSION_ATTRIBUTE, value: profileVersionArn, critical: true },
      { key: SIGNER_JOB_ATTRIBUTE, value: jobArn, critical: true },
    ],
    ...extra,
  };
}
