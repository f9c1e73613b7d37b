/**
 * Certificate-chain rules of notation-core-go (`x509/codesigning_cert_validations.go`,
 * `x509/timestamp_cert_validations.go`, `x509/helper.go`) and notation-go's validity-period checks,
 * with their exact error messages (notary-verification.md §6-§8).
 */
import { VerificationFailedError, VerifierError, isVerifierError } from '../errors';
import { CertificateInfo } from './certificate';
import { bytesEqual } from './der';
import { OID } from './oids';
import { checkSignature, isIssuedBy } from './signature';
import { goQuote } from '../text/go-quote';
import { goUtcString, rfc1123z } from '../text/go-time';

export type SignatureAlgorithmName = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

function chainError(message: string): never {
  throw new VerificationFailedError('INVALID_CERTIFICATE_CHAIN', message);
}

// ------------------------------------------------------------------------------------------------
// Leaf / CA rules (helper.go)
// ------------------------------------------------------------------------------------------------

function subj(c: CertificateInfo): string {
  return goQuote(c.subject);
}

/** `validateCABasicConstraints`. */
function validateCaBasicConstraints(cert: CertificateInfo, expectedPathLen: number): void {
  if (!cert.basicConstraints.present || !cert.basicConstraints.ca) {
    chainError(`certificate with subject ${subj(cert)}: ca field in basic constraints must be present, critical, and set to true`);
  }
  const pl = cert.basicConstraints.pathLen;
  if (pl !== undefined && pl < expectedPathLen) {
    chainError(`certificate with subject ${subj(cert)}: expected path length of ${expectedPathLen} but certificate has path length ${pl} instead`);
  }
}

function validateLeafBasicConstraints(cert: CertificateInfo): void {
  if (cert.basicConstraints.present && cert.basicConstraints.ca) {
    chainError(`certificate with subject ${subj(cert)}: if the basic constraints extension is present, the ca field must be set to false`);
  }
}

function validateLeafKeyUsage(cert: CertificateInfo): void {
  const b = cert.keyUsage.bits;
  if (!b.digitalSignature) {
    chainError(`the certificate with subject ${subj(cert)} is invalid. The key usage must have the bit positions for "Digital Signature" set`);
  }
  const bad: string[] = [];
  if (b.keyEncipherment) bad.push('"KeyEncipherment"');
  if (b.dataEncipherment) bad.push('"DataEncipherment"');
  if (b.keyAgreement) bad.push('"KeyAgreement"');
  if (b.keyCertSign) bad.push('"CertSign"');
  if (b.cRLSign) bad.push('"CRLSign"');
  if (b.encipherOnly) bad.push('"EncipherOnly"');
  if (b.decipherOnly) bad.push('"DecipherOnly"');
  if (bad.length) {
    chainError(`the certificate with subject ${subj(cert)} is invalid. The key usage must be "Digital Signature" only, but found ${bad.join(', ')}`);
  }
}

function validateKeySize(cert: CertificateInfo): void {
  try {
    signatureAlgorithmForKey(cert);
  } catch (e) {
    chainError(`certificate with subject ${subj(cert)}: ${(e as Error).message}`);
  }
}

const EKU_NAMES: Record<string, string> = {
  [OID.EKU_ANY]: 'Any',
  [OID.EKU_SERVER_AUTH]: 'ServerAuth',
  [OID.EKU_CLIENT_AUTH]: 'ClientAuth',
  [OID.EKU_OCSP_SIGNING]: 'OCSPSigning',
  [OID.EKU_EMAIL_PROTECTION]: 'EmailProtection',
  [OID.EKU_CODE_SIGNING]: 'CodeSigning',
  [OID.EKU_TIME_STAMPING]: 'Timestamping',
};

const CODE_SIGNING_EXCLUDED_EKUS = [
  OID.EKU_SERVER_AUTH, OID.EKU_CLIENT_AUTH, OID.EKU_EMAIL_PROTECTION, OID.EKU_TIME_STAMPING, OID.EKU_OCSP_SIGNING,
] as string[];

function requireKeyUsage(cert: CertificateInfo, mustBeCritical: boolean): void {
  if (cert.keyUsage.present && mustBeCritical && !cert.keyUsage.critical) {
    chainError(`certificate with subject ${subj(cert)}: key usage extension must be marked critical`);
  }
  if (!cert.keyUsage.present) chainError(`certificate with subject ${subj(cert)}: key usage extension must be present`);
}

/** notation-core-go `validateCodeSigningLeafCertificate`. */
export function validateCodeSigningLeaf(cert: CertificateInfo): void {
  validateLeafBasicConstraints(cert);
  requireKeyUsage(cert, true);
  validateLeafKeyUsage(cert);
  for (const eku of cert.extKeyUsage ?? []) {
    if (CODE_SIGNING_EXCLUDED_EKUS.includes(eku)) {
      chainError(`certificate with subject ${subj(cert)}: extended key usage must not contain ${EKU_NAMES[eku]} eku`);
    }
  }
  validateKeySize(cert);
}

/** The CA rules both chain kinds share; code signing also requires the key usage to be critical. */
function validateCa(cert: CertificateInfo, expectedPathLen: number, keyUsageCritical: boolean): void {
  validateCaBasicConstraints(cert, expectedPathLen);
  requireKeyUsage(cert, keyUsageCritical);
  if (!cert.keyUsage.bits.keyCertSign) {
    chainError(`certificate with subject ${subj(cert)}: key usage must have the bit positions for key cert sign set`);
  }
}

/** notation-core-go `validateCodeSigningCACertificate`. */
export function validateCodeSigningCa(cert: CertificateInfo, expectedPathLen: number): void {
  validateCa(cert, expectedPathLen, true);
}

/** notation-core-go `validateTimestampingLeafCertificate`. */
export function validateTimestampingLeaf(cert: CertificateInfo): void {
  validateLeafBasicConstraints(cert);
  requireKeyUsage(cert, false);
  validateLeafKeyUsage(cert);
  const ekus = cert.extKeyUsage ?? [];
  const known = ekus.filter((e) => EKU_NAMES[e] !== undefined);
  const unknown = ekus.filter((e) => EKU_NAMES[e] === undefined);
  if (known.length !== 1 || known[0] !== OID.EKU_TIME_STAMPING || unknown.length !== 0) {
    chainError(`timestamp signing certificate with subject ${subj(cert)} must have and only have Timestamping as extended key usage`);
  }
  if (!cert.extKeyUsageCritical) {
    chainError(`timestamp signing certificate with subject ${subj(cert)} must have extended key usage extension marked as critical`);
  }
  validateKeySize(cert);
}

/** notation-core-go `validateTimestampingCACertificate`. */
export function validateTimestampingCa(cert: CertificateInfo, expectedPathLen: number): void {
  validateCa(cert, expectedPathLen, false);
}

// ------------------------------------------------------------------------------------------------
// Chains
// ------------------------------------------------------------------------------------------------

function validateSigningTime(cert: CertificateInfo, signingTime: Date | undefined): void {
  if (signingTime && (signingTime.getTime() < cert.notBefore.getTime() || signingTime.getTime() > cert.notAfter.getTime())) {
    throw new VerificationFailedError('CERTIFICATE_NOT_VALID',
      `certificate with subject ${subj(cert)} was invalid at signing time of ${goUtcString(signingTime)}. `
      + `Certificate is valid from [${goUtcString(cert.notBefore)}] to [${goUtcString(cert.notAfter)}]`);
  }
}

function validateChain(
  chain: readonly CertificateInfo[],
  signingTime: Date | undefined,
  leafRule: (c: CertificateInfo) => void,
  caRule: (c: CertificateInfo, pathLen: number) => void,
): void {
  if (!chain || chain.length < 1) chainError('certificate chain must contain at least one certificate');
  if (chain.length === 1) {
    const cert = chain[0];
    const err = checkSignature(cert, cert.signatureAlgorithm, cert.tbs, cert.signature, true);
    if (err) chainError(`invalid self-signed certificate. subject: ${subj(cert)}. Error: ${err}`);
    if (!bytesEqual(cert.subjectRaw, cert.issuerRaw)) {
      chainError(`invalid self-signed certificate. subject: ${subj(cert)}. Error: issuer(${cert.issuer}) and subject(${cert.subject}) are not the same`);
    }
    validateSigningTime(cert, signingTime);
    try {
      leafRule(cert);
    } catch (e) {
      chainError(`invalid self-signed certificate. Error: ${(e as Error).message}`);
    }
    return;
  }
  chain.forEach((cert, i) => {
    validateSigningTime(cert, signingTime);
    const self = isIssuedBy(cert, cert);
    if (i === chain.length - 1) {
      if (self.error) {
        chainError(`root certificate with subject ${subj(cert)} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: ${self.error}`);
      }
      if (!self.issued) {
        chainError(`root certificate with subject ${subj(cert)} is not self-signed. Certificate chain must end with a valid self-signed root certificate`);
      }
    } else {
      if (!self.error && self.issued) {
        if (i === 0) chainError(`leaf certificate with subject ${subj(cert)} is self-signed. Certificate chain must not contain self-signed leaf certificate`);
        chainError(`intermediate certificate with subject ${subj(cert)} is self-signed. Certificate chain must not contain self-signed intermediate certificate`);
      }
      const parent = chain[i + 1];
      const by = isIssuedBy(cert, parent);
      if (by.error) {
        chainError(`invalid certificates or certificate with subject ${subj(cert)} is not issued by ${subj(parent)}. Error: ${by.error}`);
      }
      if (!by.issued) chainError(`certificate with subject ${subj(cert)} is not issued by ${subj(parent)}`);
    }
    if (i === 0) leafRule(cert);
    else caRule(cert, i - 1);
  });
}

/**
 * notation-core-go `ValidateCodeSigningCertChain(chain, signingTime)`: leaf..root, ends in a self-signed
 * root (a single self-signed leaf is allowed), each cert issued by the next, CA/leaf rules, key sizes.
 * notation calls it with no signing time during verification. Throws VerificationFailedError.
 */
/**
 * Outcomes of time-independent code-signing chain validations, by the chain's certificate
 * fingerprints: the rules and signature checks depend only on the certificates, and one publisher's
 * chain signs many images. Both outcomes are kept (a rejected chain stays rejected).
 */
const CHAIN_VERDICTS = new Map<string, VerifierError | null>();
const CHAIN_VERDICTS_MAX = 256;

export function validateCodeSigningChain(chain: readonly CertificateInfo[], opts: { signingTime?: Date } = {}): void {
  if (opts.signingTime) {
    validateChain(chain, opts.signingTime, validateCodeSigningLeaf, validateCodeSigningCa);
    return;
  }
  const key = chain.map((c) => c.sha256).join('/');
  let verdict = CHAIN_VERDICTS.get(key);
  if (verdict === undefined) {
    try {
      validateChain(chain, undefined, validateCodeSigningLeaf, validateCodeSigningCa);
      verdict = null;
    } catch (e) {
      // only typed verdicts are cached; anything else is a bug and propagates as such (INTERNAL)
      if (!isVerifierError(e)) throw e;
      verdict = e;
    }
    CHAIN_VERDICTS.set(key, verdict);
    if (CHAIN_VERDICTS.size > CHAIN_VERDICTS_MAX) CHAIN_VERDICTS.delete(CHAIN_VERDICTS.keys().next().value!);
  }
  if (verdict) throw verdict;
}

/** notation-core-go `ValidateTimestampingCertChain(chain)`. */
export function validateTimestampingChain(chain: readonly CertificateInfo[]): void {
  validateChain(chain, undefined, validateTimestampingLeaf, validateTimestampingCa);
}

/**
 * notation-go validity checks of the signing chain (authentic-timestamp step):
 * - `signing`: `at` (the authentic signing time, or a trusted timestamp) must be within every cert's
 *   validity: "certificate "<subject>" was not valid when the digital signature was produced at "<RFC1123Z>"".
 * - `now`: `at` is the verification time: "verification time is before certificate … validity period,
 *   it will be valid from …" / "verification time is after certificate … validity period, it was expired at …".
 * Throws VerificationFailedError('CERTIFICATE_NOT_VALID'). `utcOffsetMinutes` formats `at` like Go would
 * print a time carrying that zone offset (signing-time headers keep their offset).
 */
export function checkValidityAt(
  chain: readonly CertificateInfo[],
  at: Date,
  mode: 'signing' | 'now',
  opts: { utcOffsetMinutes?: number } = {},
): void {
  const t = at.getTime();
  for (const cert of chain) {
    const before = t < cert.notBefore.getTime();
    const after = t > cert.notAfter.getTime();
    if (mode === 'signing') {
      if (before || after) {
        throw new VerificationFailedError('CERTIFICATE_NOT_VALID',
          `certificate ${subj(cert)} was not valid when the digital signature was produced at ${goQuote(rfc1123z(at, opts.utcOffsetMinutes ?? 0))}`);
      }
    } else {
      if (before) {
        throw new VerificationFailedError('CERTIFICATE_NOT_VALID',
          `verification time is before certificate ${subj(cert)} validity period, it will be valid from ${goQuote(rfc1123z(cert.notBefore))}`);
      }
      if (after) {
        throw new VerificationFailedError('CERTIFICATE_NOT_VALID',
          `verification time is after certificate ${subj(cert)} validity period, it was expired at ${goQuote(rfc1123z(cert.notAfter))}`);
      }
    }
  }
}

/**
 * The notation signature algorithm implied by the signing certificate's key (notation-core-go
 * `internal/algorithm`): RSA 2048/3072/4096 -> PS256/384/512, EC P-256/384/521 -> ES256/384/512.
 * Throws VerificationFailedError('INVALID_CERTIFICATE_CHAIN', "rsa key size N bits is not supported" / ...).
 */
export function signatureAlgorithmForKey(cert: Pick<CertificateInfo, 'keyType' | 'keySizeBits' | 'curve'>): SignatureAlgorithmName {
  if (cert.keyType === 'rsa') {
    switch (cert.keySizeBits) {
      case 2048: return 'PS256';
      case 3072: return 'PS384';
      case 4096: return 'PS512';
      default: chainError(`rsa key size ${cert.keySizeBits} bits is not supported`);
    }
  }
  if (cert.keyType === 'ec') {
    if (!['P-224', 'P-256', 'P-384', 'P-521'].includes(cert.curve ?? '')) chainError('unsupported public key type');
    switch (cert.keySizeBits) {
      case 256: return 'ES256';
      case 384: return 'ES384';
      case 521: return 'ES512';
      default: chainError(`ecdsa key size ${cert.keySizeBits} bits is not supported`);
    }
  }
  chainError('unsupported public key type');
}
