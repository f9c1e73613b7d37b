/**
 * Authenticity and trusted identity of one signature (notary-verification.md §1 step 3): the chain holds
 * a certificate of the statement's trust stores of the scheme's type, and the signer is one of the
 * statement's trusted identities (an AWS Signer profile ARN on an AWS Signer chain, or an X.509 subject).
 */
import { VerificationFailedError } from '../errors';
import { trustStoreNames } from '../policy';
import { AWS_SIGNER_ROOTS_DER, chainEndsInAwsSignerRoot, matchSignerIdentity, SIGNER_MESSAGES, SIGNER_PROFILE_VERSION_ATTRIBUTE } from '../signer';
import { VerifiedEnvelope } from '../types';
import { SignatureCheckContext } from './context';
import { parseCertificate } from '../x509/certificate';
import { isDnSubset, parseDistinguishedName } from '../x509/dn';

export async function checkAuthenticity(env: VerifiedEnvelope, ctx: SignatureCheckContext, isSigner: boolean): Promise<void> {
  await checkTrustedCertificate(env, ctx);
  const identities = ctx.statement.trustedIdentities ?? [];
  if (isSigner) {
    checkSignerIdentity(env, identities, ctx.env.options.awsSignerRoots ?? AWS_SIGNER_ROOTS_DER);
    return;
  }
  if (identities.includes('*')) return;
  checkX509Identity(env, identities, ctx.statement.name);
}

/** The chain contains a certificate of one of the statement's stores of the type the signing scheme uses. */
async function checkTrustedCertificate(env: VerifiedEnvelope, ctx: SignatureCheckContext): Promise<void> {
  const type = env.signingScheme === 'notary.x509' ? 'ca' : 'signingAuthority';
  const trusted = new Set<string>();
  for (const name of trustStoreNames(ctx.statement, type)) {
    for (const c of await ctx.env.options.trustStores.getCertificates(type, name)) trusted.add(Buffer.from(c.raw).toString('hex'));
  }
  if (!env.certificateChain.some((c) => trusted.has(Buffer.from(c).toString('hex')))) {
    throw new VerificationFailedError('UNTRUSTED_CERTIFICATE', "the signature's certificate chain does not contain any trusted certificate");
  }
}

function checkSignerIdentity(env: VerifiedEnvelope, identities: readonly string[], awsSignerRoots: readonly Uint8Array[]): void {
  const arn = envelopeAttribute(env, SIGNER_PROFILE_VERSION_ATTRIBUTE) ?? '';
  if (!matchSignerIdentity(arn, identities)) {
    throw new VerificationFailedError('UNTRUSTED_IDENTITY', SIGNER_MESSAGES.TRUSTED_IDENTITY_FAILURE);
  }
  // The profile ARN is an envelope attribute: only an AWS Signer chain vouches for it (stricter than
  // notation + plugin, which accept it on any chain the statement's signingAuthority stores trust).
  if (!chainEndsInAwsSignerRoot(env.certificateChain, awsSignerRoots)) {
    throw new VerificationFailedError('UNTRUSTED_IDENTITY',
      `Signature publisher ${JSON.stringify(arn)} is an AWS Signer signing profile, but the certificate chain does not end in an AWS Signer root certificate`);
  }
}

function checkX509Identity(env: VerifiedEnvelope, identities: readonly string[], statementName: string): void {
  const x509 = identities.filter((i) => i.startsWith('x509.subject:')).map((i) => i.slice('x509.subject:'.length).trim());
  if (x509.length === 0) throw new VerificationFailedError('UNTRUSTED_IDENTITY', 'no x509 trusted identities are configured in the trust policy');
  const leaf = parseCertificate(env.certificateChain[0]);
  let leafDn: Map<string, string> | undefined;
  try {
    leafDn = parseDistinguishedName(leaf.subjectString);
  } catch {
    leafDn = undefined;
  }
  if (!leafDn || !x509.some((dn) => isDnSubset(parseDistinguishedName(dn), leafDn!))) {
    throw new VerificationFailedError('UNTRUSTED_IDENTITY', `signing certificate from the digital signature does not match the X.509 trusted identities ${goDnList(x509)} defined in the trust policy "${statementName}"`);
  }
}

/** A string-valued extended attribute of the envelope. */
export function envelopeAttribute(env: VerifiedEnvelope, key: string): string | undefined {
  const v = env.extendedAttributes.find((a) => a.key === key)?.value;
  return typeof v === 'string' ? v : undefined;
}

/** The leaf certificate's subject, or undefined when it does not parse. */
export function leafSubject(env: VerifiedEnvelope): string | undefined {
  try {
    return parseCertificate(env.certificateChain[0]).subjectString;
  } catch {
    return undefined;
  }
}

/** Formats DN identities as notation prints them: Go's `%v` of a slice of maps, keys sorted and quoted. */
function goDnList(dns: readonly string[]): string {
  const maps = dns.map((dn) => {
    const entries = [...parseDistinguishedName(dn).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(' ')}]`;
  });
  return `[${maps.join(' ')}]`;
}
