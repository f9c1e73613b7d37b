/**
 * RFC 3161 TimeStampToken verification for the `notary.x509` authentic-timestamp step
 * (notary-verification.md §8; notation-go `verifyAuthenticTimestamp`, notaryproject/tspclient-go,
 * notation-core-go `internal/cms`). Plain DER (CMS SignedData with id-ct-TSTInfo), no network.
 * TSA-chain revocation is left to the caller: `checkRevocation(result.tsaChain, { purpose: 'timestamping' })`.
 */
import * as crypto from 'node:crypto';
import { ErrorCode, VerificationFailedError, isVerifierError } from '../errors';
import { CertificateInfo } from './certificate';
import { validateTimestampingChain } from './chain';
import { TAG, bytesEqual, decodeOctetString, decodeOid, expectTag, sequence } from './der';
import { HASH_BY_OID, OID } from './oids';
import { SignatureAlgorithmInfo, checkSignature, checkSignatureFrom } from './signature';
import {
  SignedToken, SignerInfo, TimestampRange, TstInfo, formatRange, invalid, parseSignedToken, parseTstInfo, validateTstInfo,
} from './timestamp-token';
import { goQuote } from '../text/go-quote';
import { goUtcString, rfc1123z, rfc3339 } from '../text/go-time';

function tsError(message: string, code: ErrorCode = 'INVALID_TIMESTAMP', cause?: unknown): never {
  throw new VerificationFailedError(code, message, cause === undefined ? undefined : { cause });
}


/**
 * Runs `fn`; a typed error becomes notation's `<prefix><detail>` INVALID_TIMESTAMP failure. Untyped
 * errors (bugs) propagate unchanged, so the engine reports them as `INTERNAL` with their stack.
 */
function step<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!isVerifierError(e)) throw e;
    tsError(`${prefix}${e.message}`, 'INVALID_TIMESTAMP', e);
  }
}

function signerAlgorithm(si: SignerInfo): SignatureAlgorithmInfo {
  const hash = HASH_BY_OID[si.digestAlgorithm];
  const o = si.signatureAlgorithm;
  const rsa = [OID.RSA_ENCRYPTION, OID.SHA1_WITH_RSA, OID.SHA256_WITH_RSA, OID.SHA384_WITH_RSA, OID.SHA512_WITH_RSA] as string[];
  const ec = [OID.EC_PUBLIC_KEY, OID.ECDSA_SHA1, OID.ECDSA_SHA256, OID.ECDSA_SHA384, OID.ECDSA_SHA512] as string[];
  const base = { oid: o, raw: new Uint8Array(0), hash, pss: false };
  if (!hash) return { ...base, name: 'UnknownSignatureAlgorithm', keyType: 'unknown' };
  if (rsa.includes(o)) return { ...base, name: `${hash.toUpperCase()}-RSA`, keyType: 'rsa' };
  if (o === OID.RSA_PSS) return { ...base, name: `${hash.toUpperCase()}-RSAPSS`, keyType: 'rsa', pss: true };
  if (ec.includes(o)) return { ...base, name: `ECDSA-${hash.toUpperCase()}`, keyType: 'ec' };
  if (o === OID.ED25519) return { ...base, name: 'Ed25519', keyType: 'ed25519', hash: 'none' };
  return { ...base, name: 'UnknownSignatureAlgorithm', keyType: 'unknown' };
}

/** tspclient `SignedToken.SigningCertificate`: signing-certificate-v2 attribute + sid lookup. */
function signingCertificate(token: SignedToken, si: SignerInfo): CertificateInfo {
  const attr = si.signedAttrs.find((a) => a.oid === OID.CMS_SIGNING_CERTIFICATE_V2);
  if (!attr || attr.values.length !== 1) throw invalid('failed to get SigningCertificateV2 from signed attributes: attribute not found');
  const sid = si.sid;
  const candidate = token.certificates.find((c) => ('subjectKeyId' in sid
    ? c.subjectKeyId !== undefined && bytesEqual(c.subjectKeyId, sid.subjectKeyId)
    : bytesEqual(c.issuerRaw, sid.issuerRaw) && bytesEqual(c.serialRaw, sid.serialRaw)));
  if (!candidate) throw invalid('signing certificate not found in the timestamp token');
  const [certs] = sequence(attr.values[0], 'SigningCertificateV2');
  const ids = sequence(certs, 'ESSCertIDv2 list');
  if (ids.length === 0) throw invalid('signing certificate v2 attribute has no ESSCertIDv2');
  const first = sequence(ids[0], 'ESSCertIDv2');
  let k = 0;
  let hash: string | undefined = 'sha256';
  if (first[k]?.tag === TAG.SEQUENCE) hash = HASH_BY_OID[decodeOid(sequence(first[k++], 'hashAlgorithm')[0])];
  if (!hash) throw invalid('unsupported hash algorithm in ESSCertIDv2');
  const certHash = decodeOctetString(first[k++]);
  if (!bytesEqual(new Uint8Array(crypto.createHash(hash).update(candidate.raw).digest()), certHash)) {
    throw invalid('signing certificate hash does not match ESSCertIDv2');
  }
  if (first[k]) {
    const [, serial] = sequence(first[k], 'IssuerSerial');
    if (serial && !bytesEqual(expectTag(serial, TAG.INTEGER, 'serial').value, candidate.serialRaw)) {
      throw invalid('signing certificate serial number does not match ESSCertIDv2');
    }
  }
  return candidate;
}

function validAt(c: CertificateInfo, at: Date): string | undefined {
  if (at.getTime() < c.notBefore.getTime()) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(at)} is before ${rfc3339(c.notBefore)}`;
  }
  if (at.getTime() > c.notAfter.getTime()) {
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(at)} is after ${rfc3339(c.notAfter)}`;
  }
  return undefined;
}

function allowsTimestamping(c: CertificateInfo): boolean {
  return c.extKeyUsage === undefined || c.extKeyUsage.includes(OID.EKU_TIME_STAMPING) || c.extKeyUsage.includes(OID.EKU_ANY);
}

/**
 * A simplified `x509.Certificate.Verify` (path building): from `leaf` through `intermediates` to one of
 * `roots`, every cert valid at `at`, parent may sign certificates, SHA-1 rejected, timestamping EKU
 * compatible. Returns leaf..root or throws VerificationFailedError('INVALID_TIMESTAMP') with Go's wording.
 */
export function buildChain(
  leaf: CertificateInfo, intermediates: readonly CertificateInfo[], roots: readonly CertificateInfo[], at: Date,
): CertificateInfo[] {
  const leafErr = validAt(leaf, at);
  if (leafErr) throw invalid(leafErr);
  if (roots.some((r) => bytesEqual(r.raw, leaf.raw))) return [leaf];
  let incompatible = false;
  const search = (path: CertificateInfo[], depth: number): CertificateInfo[] | undefined => {
    const cur = path[path.length - 1];
    if (depth > 10) return undefined;
    const parents = (list: readonly CertificateInfo[]) => list.filter((p) => bytesEqual(p.subjectRaw, cur.issuerRaw)
      && !path.some((q) => bytesEqual(q.raw, p.raw)) && validAt(p, at) === undefined && checkSignatureFrom(cur, p) === undefined);
    for (const r of parents(roots)) {
      const full = [...path, r];
      if (full.every(allowsTimestamping)) return full;
      incompatible = true;
    }
    for (const p of parents(intermediates)) {
      if (roots.some((r) => bytesEqual(r.raw, p.raw))) continue;
      const found = search([...path, p], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  const chain = search([leaf], 0);
  if (!chain) throw invalid(incompatible ? 'x509: certificate specifies an incompatible key usage' : 'x509: certificate signed by unknown authority');
  return chain;
}

/**
 * tspclient `SignedToken.Verify` + notation-core-go `cms.VerifySigner`: exactly one signer; the signing
 * certificate (signing-certificate-v2, sid) from the token; signed attributes (content type, message
 * digest) and signature; chain to `roots` at time `at`. Returns the TSA chain (leaf..root). Throws
 * VerificationFailedError('INVALID_TIMESTAMP') worded like Go ("failed to verify signed token: …").
 */
export function verifySignedToken(token: SignedToken, roots: readonly CertificateInfo[], at: Date): CertificateInfo[] {
  return step('failed to verify signed token: ', () => {
    if (token.signerInfos.length !== 1) throw invalid('there should be exactly one signerInfo');
    const si = token.signerInfos[0];
    const signer = signingCertificate(token, si);
    return step('cms verification failure: ', () => {
      const hash = HASH_BY_OID[si.digestAlgorithm];
      if (!hash) throw invalid(`unsupported digest algorithm ${si.digestAlgorithm}`);
      let signed: Uint8Array = token.content;
      if (si.signedAttrsRaw) {
        const ct = si.signedAttrs.find((a) => a.oid === OID.CMS_CONTENT_TYPE);
        if (!ct || decodeOid(ct.values[0]) !== token.contentType) throw invalid('invalid content type attribute');
        const md = si.signedAttrs.find((a) => a.oid === OID.CMS_MESSAGE_DIGEST);
        const digest = new Uint8Array(crypto.createHash(hash).update(token.content).digest());
        if (!md || !bytesEqual(decodeOctetString(md.values[0]), digest)) throw invalid('invalid message digest');
        const attrs = new Uint8Array(si.signedAttrsRaw);
        attrs[0] = TAG.SET;
        signed = attrs;
      }
      const err = checkSignature(signer, signerAlgorithm(si), signed, si.signature, false);
      if (err) throw invalid(err);
      const intermediates = token.certificates.filter((c) => !bytesEqual(c.raw, signer.raw));
      return buildChain(signer, intermediates, roots, at);
    });
  });
}

export interface AuthenticTimestampOptions {
  /** The RFC 3161 token (`io.cncf.notary.timestampSignature`), if any. */
  readonly token?: Uint8Array;
  /** The raw signature bytes of the envelope (the message the token timestamps). */
  readonly signature: Uint8Array;
  /** Envelope signing time (`io.cncf.notary.signingTime`): a timestamp range entirely before it is rejected. */
  readonly signingTime?: Date;
  /** Signing certificate chain (leaf..root): the timestamp range must be within every cert's validity. */
  readonly signingChain: readonly CertificateInfo[];
  /** Certificates of the policy's `tsa` trust stores. */
  readonly tsaRoots: readonly CertificateInfo[];
}

export interface AuthenticTimestampResult extends TimestampRange {
  readonly tstInfo: TstInfo;
  /** TSA chain leaf..root (for TSA revocation checking). */
  readonly tsaChain: CertificateInfo[];
}

/**
 * notation-go `verifyAuthenticTimestamp` for `notary.x509` when timestamp verification runs
 * (notary-verification.md §8), with notation's messages. Throws VerificationFailedError
 * ('INVALID_TIMESTAMP', or 'CERTIFICATE_NOT_VALID' when the timestamp is outside the signing chain's validity).
 */
export function verifyAuthenticTimestamp(o: AuthenticTimestampOptions): AuthenticTimestampResult {
  if (!o.token || o.token.length === 0) tsError('no timestamp countersignature was found in the signature envelope');
  const token = step('failed to parse timestamp countersignature with error: ', () => parseSignedToken(o.token!));
  const info = step('failed to get the timestamp TSTInfo with error: ',
    () => step('cannot unmarshal TSTInfo from timestamp token: ', () => parseTstInfo(token.content)));
  const range = step('failed to get timestamp from timestamp countersignature with error: ', () => validateTstInfo(info, o.signature));
  if (o.tsaRoots.length < 1) tsError('no trusted TSA certificate found in trust store');
  const tsaChain = step('failed to verify the timestamp countersignature with error: ', () => verifySignedToken(token, o.tsaRoots, info.genTime));
  step('failed to validate the timestamping certificate chain with error: ', () => validateTimestampingChain(tsaChain));
  if (o.signingTime && range.upper.getTime() < o.signingTime.getTime()) {
    tsError(`timestamp ${formatRange(range)} is not bounded after the signing time ${goQuote(goUtcString(o.signingTime))}`);
  }
  for (const cert of o.signingChain) {
    if (!(range.lower.getTime() > cert.notBefore.getTime())) {
      tsError(`timestamp can be before certificate ${goQuote(cert.subject)} validity period, it will be valid from ${goQuote(rfc1123z(cert.notBefore))}`, 'CERTIFICATE_NOT_VALID');
    }
    if (!(range.upper.getTime() < cert.notAfter.getTime())) {
      tsError(`timestamp can be after certificate ${goQuote(cert.subject)} validity period, it was expired at ${goQuote(rfc1123z(cert.notAfter))}`, 'CERTIFICATE_NOT_VALID');
    }
  }
  return { ...range, tstInfo: info, tsaChain };
}
