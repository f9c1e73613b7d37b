/**
 * PEM (RFC 7468) blocks of certificates.
 */
import { malformedCertificate as malformed } from './malformed';

/** Splits a PEM bundle into DER blocks of the given label (default CERTIFICATE). */
export function pemBlocks(pem: string, label = 'CERTIFICATE'): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out: Uint8Array[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(pem)) !== null) {
    const body = m[1].replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) malformed('invalid PEM base64');
    out.push(new Uint8Array(Buffer.from(body, 'base64')));
  }
  return out;
}

/** PEM-encodes a DER certificate. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
