/**
 * Critical extended attributes the engine understands (processed by the AWS Signer module,
 * src/verifier/signer). Other critical extended attributes are rejected by the pipeline.
 */
export const KNOWN_CRITICAL_ATTRIBUTES: readonly string[] = [
  'com.amazonaws.signer.signingProfileVersion',
  'com.amazonaws.signer.signingJob',
];
