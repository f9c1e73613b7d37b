/**
 * One decoder per CRL and CRL-entry extension OID the revocation check reads (RFC 5280 §5.2, §5.3).
 */
import { TAG, decodeInteger, decodeTime, parseDer } from '../der';
import { OID } from '../oids';
import { ExtensionInfo } from './list';

/** CRL extensions the revocation check understands (a critical one of any other OID fails the CRL). */
export const KNOWN_CRL_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.EXT_CRL_NUMBER, OID.EXT_DELTA_CRL_INDICATOR, OID.EXT_AUTHORITY_KEY_ID, OID.EXT_FRESHEST_CRL, OID.EXT_ISSUING_DISTRIBUTION_POINT,
]);

/** cRLNumber (2.5.29.20) and deltaCRLIndicator (2.5.29.27, the base CRL number): an INTEGER. */
export function decodeCrlNumber(ext: ExtensionInfo): bigint {
  return decodeInteger(parseDer(ext.value));
}

/** reasonCode (2.5.29.21): a CRLReason ENUMERATED (6 certificateHold, 8 removeFromCRL, ...). */
export function decodeCrlReason(ext: ExtensionInfo): number {
  return Number(decodeInteger(parseDer(ext.value), undefined, TAG.ENUMERATED));
}

/** invalidityDate (2.5.29.24): a GeneralizedTime. */
export function decodeInvalidityDate(ext: ExtensionInfo): Date {
  return decodeTime(parseDer(ext.value));
}
