/**
 * The engine's one public entry point. The Lambda handlers (src/handlers), the CLI (src/cli) and the
 * constructs (src/*.ts, src/private) import the engine only from here; a lint rule
 * (`no-restricted-imports` in .projenrc.ts) rejects deep `verifier/<module>` imports from them. Tests may
 * import deep paths.
 *
 * Named exports only (no `export *`): this list is the engine's surface for the rest of the package.
 * When a name moves inside the engine, change the path here and nowhere else.
 */

// Verification: the orchestrator, its inputs and its verdict.
export { ImageVerifier } from './verifier';
export type { ImageReference, Verdict } from './types';

// Errors: the typed taxonomy and its helpers.
export {
  ConfigurationError, errorLogFields, isVerifierError, toVerifierError,
  VerificationFailedError, VerificationInconclusiveError,
} from './errors';

// References and scopes.
export { canonicalScope, formatReference, parseEcrRegistry, parseReference, repositoryScope } from './reference';

// Trust policy and exemptions.
export { goQuote } from './text/go-quote';
export { parseTrustPolicy, parseTrustStoreRef, selectStatement, validateTrustPolicy } from './policy';
export type { NotationTrustPolicy } from './policy';
export { TRUST_STORE_NAME_PATTERN, TRUST_STORE_TYPES } from './types';
export type { TrustStoreTypeName } from './types';
export { canonicalExemption, globToRegExp, matchExemption } from './policy/exemptions';

// Trust stores and certificates.
export { DirectoryTrustStore, InMemoryTrustStore } from './x509/truststore';
export type { TrustStoreProvider } from './x509/truststore';
export { parseCertificate } from './x509/certificate';
export { checkTrustStoreCertificate } from './x509/trust-store-rules';
export type { TrustStoreCertificateProblem } from './x509/trust-store-rules';

// AWS Signer: bundled roots and the SDK adapters (the SDK itself loads lazily).
export {
  AWS_SIGNER_GOVCLOUD_ROOT_PEM, AWS_SIGNER_GOVCLOUD_ROOT_SHA256, AWS_SIGNER_GOVCLOUD_TRUST_STORE,
  AWS_SIGNER_ROOT_PEM, AWS_SIGNER_ROOT_SHA256, AWS_SIGNER_ROOTS_DER, AWS_SIGNER_TRUST_STORE, pemCertificatesToDer,
} from './signer/roots';
export { sdkEcrTokenProvider, sdkSignerRevocationClient } from './signer/aws-sdk';

// Artifact sources: a remote registry, an OCI layout directory, and registry credentials.
export { RemoteRepository } from './registry/remote';
export { OciLayoutSource } from './registry/oci-layout';
export type { ArtifactSource } from './registry/source';
export { chainCredentialProviders, dockerConfigCredentials, ecrCredentialProvider } from './registry/auth';
export type { CredentialProvider } from './registry/auth';
export { isLoopbackHost } from './registry/loopback';

// Signing without notation (`cdk-signed-images sign`): AWS Signer SignPayload, then an OCI push as notation does.
export { parseSigningProfileArn, sdkSignPayloadClient, signImage } from './sign';
export type { SignImageOptions, SignPayloadClient, SignResult } from './sign';

// Envelopes (unverified parsing, for `inspect`), strict JSON and file-kind checks.
export { parseEnvelopeUnverified } from './envelope';
export { parseStrictJson } from './json';
export { fileKind, readRegularFile } from './fs';
