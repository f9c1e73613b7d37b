/**
 * Signature algorithms (AlgorithmIdentifier) and Go's signature checks (`crypto/x509` `checkSignature`,
 * `CheckSignatureFrom`, notation-core-go `isIssuedBy`), with Go's error strings.
 */
import * as crypto from 'node:crypto';
import { VerificationFailedError } from '../errors';
import type { CertificateInfo } from './certificate';
import { Tlv, bytesEqual, children, contextTag, decodeInteger, decodeOid, sequence } from './der';
import { KEY_USAGE_NAMES } from './extensions/certificate-extensions';
import { OID } from './oids';

export type SignatureHash = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'none';

export interface SignatureAlgorithmInfo {
  readonly oid: string;
  /** Go-style name, e.g. `SHA256-RSA`, `ECDSA-SHA384`, `SHA256-RSAPSS`, `Ed25519`, or `UnknownSignatureAlgorithm`. */
  readonly name: string;
  readonly keyType: 'rsa' | 'ec' | 'ed25519' | 'unknown';
  readonly hash: SignatureHash | undefined;
  readonly pss: boolean;
  /** Raw AlgorithmIdentifier DER. */
  readonly raw: Uint8Array;
}

type AlgorithmBasics = Pick<SignatureAlgorithmInfo, 'name' | 'keyType' | 'hash'>;

const ALGORITHMS: Readonly<Record<string, AlgorithmBasics>> = {
  [OID.SHA256_WITH_RSA]: { name: 'SHA256-RSA', keyType: 'rsa', hash: 'sha256' },
  [OID.SHA384_WITH_RSA]: { name: 'SHA384-RSA', keyType: 'rsa', hash: 'sha384' },
  [OID.SHA512_WITH_RSA]: { name: 'SHA512-RSA', keyType: 'rsa', hash: 'sha512' },
  [OID.SHA1_WITH_RSA]: { name: 'SHA1-RSA', keyType: 'rsa', hash: 'sha1' },
  [OID.MD5_WITH_RSA]: { name: 'MD5-RSA', keyType: 'rsa', hash: 'md5' },
  [OID.ECDSA_SHA1]: { name: 'ECDSA-SHA1', keyType: 'ec', hash: 'sha1' },
  [OID.ECDSA_SHA256]: { name: 'ECDSA-SHA256', keyType: 'ec', hash: 'sha256' },
  [OID.ECDSA_SHA384]: { name: 'ECDSA-SHA384', keyType: 'ec', hash: 'sha384' },
  [OID.ECDSA_SHA512]: { name: 'ECDSA-SHA512', keyType: 'ec', hash: 'sha512' },
  [OID.ED25519]: { name: 'Ed25519', keyType: 'ed25519', hash: 'none' },
};

const UNKNOWN: AlgorithmBasics = { name: 'UnknownSignatureAlgorithm', keyType: 'unknown', hash: undefined };

const PSS_HASHES: Readonly<Record<string, [SignatureHash, number]>> = {
  [OID.SHA256]: ['sha256', 32], [OID.SHA384]: ['sha384', 48], [OID.SHA512]: ['sha512', 64],
};

function unsupportedPss(what: string): never {
  throw new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', `unsupported RSASSA-PSS ${what}`);
}

/**
 * The hash of RSASSA-PSS parameters in the only profile Go supports (hash SHA-256/384/512, MGF1 with the
 * same hash, salt length = hash length, trailer 1); undefined otherwise.
 */
function pssHash(params: Tlv | undefined): SignatureHash | undefined {
  try {
    let hashOid: string = OID.SHA1;
    let mgfHash: string = OID.SHA1;
    let salt = 20;
    for (const f of params ? sequence(params, 'RSASSA-PSS params') : []) {
      const inner = children(f)[0];
      if (f.tag === contextTag(0, true)) {
        hashOid = decodeOid(sequence(inner, 'hash')[0]);
      } else if (f.tag === contextTag(1, true)) {
        const [mgfOid, mgfParams] = sequence(inner, 'mgf');
        if (decodeOid(mgfOid) !== OID.MGF1) unsupportedPss('mask generation function');
        mgfHash = decodeOid(sequence(mgfParams, 'mgf hash')[0]);
      } else if (f.tag === contextTag(2, true)) {
        salt = Number(decodeInteger(inner));
      } else if (f.tag === contextTag(3, true) && decodeInteger(inner) !== 1n) {
        unsupportedPss('trailer field');
      }
    }
    const h = PSS_HASHES[hashOid];
    return h && mgfHash === hashOid && salt === h[1] ? h[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Parses a signature AlgorithmIdentifier (certificates, CRLs, OCSP, CMS). */
export function parseAlgorithm(t: Tlv): SignatureAlgorithmInfo {
  const [oidTlv, params] = sequence(t, 'algorithm identifier');
  const oid = decodeOid(oidTlv);
  const base = { oid, raw: t.raw, pss: false };
  if (oid !== OID.RSA_PSS) return { ...base, ...(Object.prototype.hasOwnProperty.call(ALGORITHMS, oid) ? ALGORITHMS[oid] : UNKNOWN) };
  const hash = pssHash(params);
  if (!hash) return { ...base, ...UNKNOWN };
  return { ...base, pss: true, name: `${hash.toUpperCase()}-RSAPSS`, keyType: 'rsa', hash };
}

const GO_KEY_TYPE: Record<string, string> = { rsa: '*rsa.PublicKey', ec: '*ecdsa.PublicKey', ed25519: 'ed25519.PublicKey', other: 'unknown' };
const GO_ALG_KEY: Record<string, string> = { rsa: 'RSA', ec: 'ECDSA', ed25519: 'Ed25519' };

function verifies(signer: Pick<CertificateInfo, 'publicKey'>, alg: SignatureAlgorithmInfo, signed: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (alg.keyType === 'ed25519') return crypto.verify(null, signed, signer.publicKey, signature);
    if (alg.keyType === 'rsa') {
      return crypto.verify(alg.hash!, signed, alg.pss
        ? { key: signer.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }
        : { key: signer.publicKey, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
    }
    return crypto.verify(alg.hash!, signed, { key: signer.publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/**
 * Verifies `signature` over `signed` with `signer`'s public key, like Go's `checkSignature`. Returns
 * undefined on success, else Go's error string (`crypto/rsa: verification error`,
 * `x509: ECDSA verification failure`, `x509: cannot verify signature: insecure algorithm SHA1-RSA`, ...).
 */
export function checkSignature(
  signer: Pick<CertificateInfo, 'publicKey' | 'keyType'>,
  alg: SignatureAlgorithmInfo,
  signed: Uint8Array,
  signature: Uint8Array,
  allowSha1: boolean,
): string | undefined {
  if (alg.keyType === 'unknown' || alg.hash === undefined) return 'x509: cannot verify signature: algorithm unimplemented';
  if (alg.hash === 'md5' || (alg.hash === 'sha1' && !allowSha1)) {
    return `x509: cannot verify signature: insecure algorithm ${alg.name}`;
  }
  if (alg.keyType !== signer.keyType) {
    return `x509: signature algorithm specifies an ${GO_ALG_KEY[alg.keyType]} public key, but have public key of type ${GO_KEY_TYPE[signer.keyType]}`;
  }
  if (verifies(signer, alg, signed, signature)) return undefined;
  if (alg.keyType === 'rsa') return 'crypto/rsa: verification error';
  if (alg.keyType === 'ec') return 'x509: ECDSA verification failure';
  return 'x509: Ed25519 verification failure';
}

/**
 * Go's `child.CheckSignatureFrom(parent)`: the parent must be allowed to sign certificates (v3 parent
 * needs basicConstraints cA=true; keyUsage, when non-empty, needs keyCertSign); SHA-1/MD5 rejected.
 * Returns undefined on success or Go's error string.
 */
export function checkSignatureFrom(child: CertificateInfo, parent: CertificateInfo): string | undefined {
  const kuNonZero = KEY_USAGE_NAMES.some((n) => parent.keyUsage.bits[n]);
  if ((parent.version === 3 && !parent.basicConstraints.present)
    || (parent.basicConstraints.present && !parent.basicConstraints.ca)
    || (kuNonZero && !parent.keyUsage.bits.keyCertSign)) {
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  }
  if (parent.keyType === 'other') return 'x509: cannot verify signature: algorithm unimplemented';
  return checkSignature(parent, child.signatureAlgorithm, child.tbs, child.signature, false);
}

/** Go's `isIssuedBy`: signature from parent (CheckSignatureFrom) and issuer bytes == parent subject bytes. */
export function isIssuedBy(child: CertificateInfo, parent: CertificateInfo): { issued: boolean; error?: string } {
  const err = checkSignatureFrom(child, parent);
  if (err) return { issued: false, error: err };
  return { issued: bytesEqual(parent.subjectRaw, child.issuerRaw) };
}
