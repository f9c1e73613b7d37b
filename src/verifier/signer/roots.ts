/**
 * AWS Signer Notation root certificates (trust stores `signingAuthority:aws-signer-ts` and
 * `signingAuthority:aws-us-gov-signer-ts`; notary-verification.md §2.2, aws-apis.md §3.4).
 *
 * Provenance: identical to `aws-signer-notation-root.crt` / `aws-us-gov-signer-notation-root.crt` of
 * bottlerocket-os/bottlerocket-core-kit @ a37c57a6bc3f2cd1b3fc582875f184d1395e8dcc
 * (`packages/aws-signer-notation-plugin/`), which AWS publishes at
 * https://d2hvyiie56hcat.cloudfront.net/aws-signer-notation-root.cert and
 * https://d2hvyiie56hcat.cloudfront.net/aws-us-gov-signer-notation-root.cert.
 * Copies of the files sit next to this module in `roots/`.
 */

/** Trust store name of the commercial (`aws`) partition root. */
export const AWS_SIGNER_TRUST_STORE = 'aws-signer-ts';
/** Trust store name of the AWS GovCloud (US) (`aws-us-gov`) partition root. */
export const AWS_SIGNER_GOVCLOUD_TRUST_STORE = 'aws-us-gov-signer-ts';

/**
 * `CN=AWS Signer Code Signing Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US`, EC P-384,
 * valid 2022-10-27 to 2122-10-27.
 * SHA-256 fingerprint 90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f.
 */
export const AWS_SIGNER_ROOT_PEM = [
  '-----BEGIN CERTIFICATE-----',
  'MIICWTCCAd6gAwIBAgIRAMq5Lmt4rqnUdi8qM4eIGbYwCgYIKoZIzj0EAwMwbDEL',
  'MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5',
  'MQswCQYDVQQIDAJXQTErMCkGA1UEAwwiQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg',
  'Um9vdCBDQSBHMTAgFw0yMjEwMjcyMTMzMjJaGA8yMTIyMTAyNzIyMzMyMlowbDEL',
  'MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5',
  'MQswCQYDVQQIDAJXQTErMCkGA1UEAwwiQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg',
  'Um9vdCBDQSBHMTB2MBAGByqGSM49AgEGBSuBBAAiA2IABM9+dM9WXbVyNOIP08oN',
  'IQW8DKKdBxP5nYNegFPLfGP0f7+0jweP8LUv1vlFZqVDep5ONus9IxwtIYBJLd36',
  '5Q3Z44Xnm4PY/wSI5xRvB/m+/B2PHc7Smh0P5s3Dt25oVKNCMEAwDwYDVR0TAQH/',
  'BAUwAwEB/zAdBgNVHQ4EFgQUONhd3abPX87l4YWKxjysv28QwAYwDgYDVR0PAQH/',
  'BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYCMQCd32GnYU2qFCtKjZiveGfs+gCBlPi2',
  'Hw0zU52LXIFC2GlcvwcekbiM6w0Azlr9qvMCMQDl4+Os0yd+fVlYMuovvxh8xpjQ',
  'NPJ9zRGyYa7+GNs64ty/Z6bzPHOKbGo4In3KKJo=',
  '-----END CERTIFICATE-----',
].join('\n') + '\n';

/** SHA-256 fingerprint (lowercase hex, DER) of {@link AWS_SIGNER_ROOT_PEM}. */
export const AWS_SIGNER_ROOT_SHA256 = '90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f';

/**
 * `CN=AWS Signer Code Signing GovCloud (US) Root CA G1,OU=Cryptography,O=AWS,ST=WA,C=US`, EC P-384,
 * valid 2024-03-06 to 2124-03-07.
 * SHA-256 fingerprint 673653ab76f41a10546cdeb4107ecd6df2c15c2c9a0d32ed97d271b4436fc3e8.
 */
export const AWS_SIGNER_GOVCLOUD_ROOT_PEM = [
  '-----BEGIN CERTIFICATE-----',
  'MIICdDCCAfqgAwIBAgIRANXkpKrZj0L324qGaqRhW/cwCgYIKoZIzj0EAwMwejEL',
  'MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5',
  'MQswCQYDVQQIDAJXQTE5MDcGA1UEAwwwQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg',
  'R292Q2xvdWQgKFVTKSBSb290IENBIEcxMCAXDTI0MDMwNjIzMzgyOFoYDzIxMjQw',
  'MzA3MDAzODI4WjB6MQswCQYDVQQGEwJVUzEMMAoGA1UECgwDQVdTMRUwEwYDVQQL',
  'DAxDcnlwdG9ncmFwaHkxCzAJBgNVBAgMAldBMTkwNwYDVQQDDDBBV1MgU2lnbmVy',
  'IENvZGUgU2lnbmluZyBHb3ZDbG91ZCAoVVMpIFJvb3QgQ0EgRzEwdjAQBgcqhkjO',
  'PQIBBgUrgQQAIgNiAARog54ObzWaGU6fAOcL4Af+P93l2t8Dl9hVD2n0eSSfmPq1',
  '3jtXgjcpXZIjMfoiWQPJTvyAB3opRyvO3grvUaWxRnjtwB/Pusj4tzhnaN+b80eJ',
  'iRn6AzrI9vBssd1ZyRKjQjBAMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFJF4',
  'zoYzTyn/5s8EleoNvek9QeE6MA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAwNo',
  'ADBlAjEA8tcKeLPxBB0mRmfkJn5+hgYxZaRGQatO5mxmjkB/DNIfJ1WeEE3tbCHr',
  'pNJL32FUAjBQY82UNV5yJrKFHOxuiQ+athQZUHLvWvAIXKExt9wvLdtKzfpag8BI',
  'o2A2A4nk0jk=',
  '-----END CERTIFICATE-----',
].join('\n') + '\n';

/** SHA-256 fingerprint (lowercase hex, DER) of {@link AWS_SIGNER_GOVCLOUD_ROOT_PEM}. */
export const AWS_SIGNER_GOVCLOUD_ROOT_SHA256 = '673653ab76f41a10546cdeb4107ecd6df2c15c2c9a0d32ed97d271b4436fc3e8';

/** The built-in AWS Signer trust stores (type `signingAuthority`), by store name. */
export const AWS_SIGNER_TRUST_STORES: Readonly<Record<string, string>> = {
  [AWS_SIGNER_TRUST_STORE]: AWS_SIGNER_ROOT_PEM,
  [AWS_SIGNER_GOVCLOUD_TRUST_STORE]: AWS_SIGNER_GOVCLOUD_ROOT_PEM,
};

function pemToDer(pem: string): Uint8Array {
  return pemCertificatesToDer(pem)[0];
}

/** DER of every `CERTIFICATE` block of a PEM bundle, in order (no validation beyond base64). */
export function pemCertificatesToDer(bundle: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(bundle); m; m = re.exec(bundle)) {
    out.push(new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

/** DER of the bundled AWS Signer roots (commercial and GovCloud), the default AWS Signer root set. */
export const AWS_SIGNER_ROOTS_DER: readonly Uint8Array[] = Object.freeze([
  pemToDer(AWS_SIGNER_ROOT_PEM),
  pemToDer(AWS_SIGNER_GOVCLOUD_ROOT_PEM),
]);

/**
 * True when the chain (leaf first) ENDS in one of `roots`, byte for byte. An AWS Signer identity (a
 * signing-profile or profile-version ARN in `trustedIdentities`) is only honoured on such a chain:
 * the profile ARN is an unauthenticated envelope attribute, and only AWS Signer's CA vouches for it.
 * Stricter than notation with the AWS Signer plugin, which accepts the attribute on any chain the
 * statement's `signingAuthority` stores trust.
 */
export function chainEndsInAwsSignerRoot(chain: readonly Uint8Array[], roots: readonly Uint8Array[] = AWS_SIGNER_ROOTS_DER): boolean {
  if (chain.length === 0) return false;
  const last = Buffer.from(chain[chain.length - 1]);
  return roots.some((r) => last.equals(Buffer.from(r)));
}
