/**
 * The object identifiers the verifier reads, in one table (RFC 5280, RFC 6960, RFC 8017, RFC 5480,
 * RFC 8410, NIST hash OIDs).
 */
export const OID = {
  // public keys
  RSA_ENCRYPTION: '1.2.840.113549.1.1.1',
  EC_PUBLIC_KEY: '1.2.840.10045.2.1',
  ED25519: '1.3.101.112',
  // signature algorithms
  MD5_WITH_RSA: '1.2.840.113549.1.1.4',
  SHA1_WITH_RSA: '1.2.840.113549.1.1.5',
  SHA256_WITH_RSA: '1.2.840.113549.1.1.11',
  SHA384_WITH_RSA: '1.2.840.113549.1.1.12',
  SHA512_WITH_RSA: '1.2.840.113549.1.1.13',
  RSA_PSS: '1.2.840.113549.1.1.10',
  MGF1: '1.2.840.113549.1.1.8',
  ECDSA_SHA1: '1.2.840.10045.4.1',
  ECDSA_SHA256: '1.2.840.10045.4.3.2',
  ECDSA_SHA384: '1.2.840.10045.4.3.3',
  ECDSA_SHA512: '1.2.840.10045.4.3.4',
  // hashes
  SHA1: '1.3.14.3.2.26',
  SHA256: '2.16.840.1.101.3.4.2.1',
  SHA384: '2.16.840.1.101.3.4.2.2',
  SHA512: '2.16.840.1.101.3.4.2.3',
  // certificate extensions
  EXT_SUBJECT_KEY_ID: '2.5.29.14',
  EXT_KEY_USAGE: '2.5.29.15',
  EXT_BASIC_CONSTRAINTS: '2.5.29.19',
  EXT_CRL_DISTRIBUTION_POINTS: '2.5.29.31',
  EXT_AUTHORITY_KEY_ID: '2.5.29.35',
  EXT_EXT_KEY_USAGE: '2.5.29.37',
  EXT_FRESHEST_CRL: '2.5.29.46',
  EXT_AUTHORITY_INFO_ACCESS: '1.3.6.1.5.5.7.1.1',
  // CRL and CRL entry extensions
  EXT_CRL_NUMBER: '2.5.29.20',
  EXT_CRL_REASON: '2.5.29.21',
  EXT_INVALIDITY_DATE: '2.5.29.24',
  EXT_DELTA_CRL_INDICATOR: '2.5.29.27',
  EXT_ISSUING_DISTRIBUTION_POINT: '2.5.29.28',
  // access methods
  AD_OCSP: '1.3.6.1.5.5.7.48.1',
  AD_CA_ISSUERS: '1.3.6.1.5.5.7.48.2',
  OCSP_BASIC_RESPONSE: '1.3.6.1.5.5.7.48.1.1',
  // CMS and RFC 3161 timestamps
  CMS_SIGNED_DATA: '1.2.840.113549.1.7.2',
  CMS_CONTENT_TYPE: '1.2.840.113549.1.9.3',
  CMS_MESSAGE_DIGEST: '1.2.840.113549.1.9.4',
  CMS_SIGNING_CERTIFICATE_V2: '1.2.840.113549.1.9.16.2.47',
  TST_INFO: '1.2.840.113549.1.9.16.1.4',
  /** ETSI baseline timestamp policy (RFC 3628): implied accuracy of 1 s. */
  BASELINE_TIMESTAMP_POLICY: '0.4.0.2023.1.1',
  // extended key usages
  EKU_ANY: '2.5.29.37.0',
  EKU_SERVER_AUTH: '1.3.6.1.5.5.7.3.1',
  EKU_CLIENT_AUTH: '1.3.6.1.5.5.7.3.2',
  EKU_CODE_SIGNING: '1.3.6.1.5.5.7.3.3',
  EKU_EMAIL_PROTECTION: '1.3.6.1.5.5.7.3.4',
  EKU_TIME_STAMPING: '1.3.6.1.5.5.7.3.8',
  EKU_OCSP_SIGNING: '1.3.6.1.5.5.7.3.9',
} as const;

/** Hash algorithm OIDs by Node hash name (OCSP CertID, CMS digests). */
export const HASH_BY_OID: Readonly<Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'>> = {
  [OID.SHA1]: 'sha1', [OID.SHA256]: 'sha256', [OID.SHA384]: 'sha384', [OID.SHA512]: 'sha512',
};
