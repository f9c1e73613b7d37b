/**
 * SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): the key as a Node KeyObject with Go's key type and size.
 */
import * as crypto from 'node:crypto';
import { Tlv, decodeBitString, decodeOid, sequence } from './der';
import { malformedCertificate as malformed } from './malformed';
import { OID } from './oids';

export type PublicKeyType = 'rsa' | 'ec' | 'ed25519' | 'other';

export interface PublicKeyInfo {
  /** Raw SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING contents (without the unused-bits byte). */
  readonly publicKeyBits: Uint8Array;
  readonly publicKey: crypto.KeyObject;
  readonly keyType: PublicKeyType;
  /** RSA modulus size rounded up to whole bytes (Go `key.Size()*8`), or EC curve size. */
  readonly keySizeBits: number;
  /** `P-256` | `P-384` | `P-521` | other Node curve name. */
  readonly curve?: string;
}

/** Node curve name -> [Go/NIST name, size in bits]. */
const CURVES: Record<string, [string, number]> = {
  prime256v1: ['P-256', 256],
  secp384r1: ['P-384', 384],
  secp521r1: ['P-521', 521],
  secp224r1: ['P-224', 224],
  secp256k1: ['secp256k1', 256],
};

function importKey(spkiTlv: Tlv): crypto.KeyObject {
  try {
    return crypto.createPublicKey({ key: Buffer.from(spkiTlv.raw), format: 'der', type: 'spki' });
  } catch (e) {
    malformed(`unsupported or invalid public key: ${(e as Error).message}`);
  }
}

/** Parses a SubjectPublicKeyInfo; a key Node cannot import makes the certificate malformed. */
export function parsePublicKey(spkiTlv: Tlv): PublicKeyInfo {
  const [spkiAlg, spkiKey] = sequence(spkiTlv, 'subject public key info');
  const keyAlgOid = decodeOid(sequence(spkiAlg, 'public key algorithm')[0]);
  const keyBits = decodeBitString(spkiKey);
  const publicKey = importKey(spkiTlv);
  const base = { spki: spkiTlv.raw, publicKeyBits: keyBits.bytes, publicKey };
  const details = publicKey.asymmetricKeyDetails ?? {};
  if (keyAlgOid === OID.RSA_ENCRYPTION && publicKey.asymmetricKeyType === 'rsa') {
    return { ...base, keyType: 'rsa', keySizeBits: Math.ceil((details.modulusLength ?? 0) / 8) * 8 };
  }
  if (keyAlgOid === OID.EC_PUBLIC_KEY && publicKey.asymmetricKeyType === 'ec') {
    const c = CURVES[details.namedCurve ?? ''];
    const curve = c ? c[0] : details.namedCurve;
    return { ...base, keyType: 'ec', keySizeBits: c ? c[1] : 0, ...(curve ? { curve } : {}) };
  }
  if (publicKey.asymmetricKeyType === 'ed25519') return { ...base, keyType: 'ed25519', keySizeBits: 256 };
  return { ...base, keyType: 'other', keySizeBits: 0 };
}
