/**
 * What an {@link ImageVerifier} is built from and called with. Plain TypeScript.
 */
import { ArtifactSource } from '../registry/source';
import { SignerRevocationClient } from '../signer';
import { ImageReference } from '../types';
import { RevocationOptions } from '../x509/revocation';
import { TrustStoreProvider } from '../x509/truststore';

export interface Logger {
  warn(message: string, data?: Record<string, unknown>): void;
  info?(message: string, data?: Record<string, unknown>): void;
}

export interface ImageVerifierOptions {
  /** The notation trust policy document (object or JSON text); validated on construction. */
  readonly trustPolicy: unknown;
  /** Where the trust policy's `type:name` stores are read from. */
  readonly trustStores: TrustStoreProvider;
  /**
   * Creates the source (remote registry, OCI layout) for an image reference. `ctx.signal` aborts when the
   * verification is aborted or reaches its deadline: pass it on (RemoteRepository's `signal` option) so that
   * in-flight requests stop. Sources created without it still end, by their own timeouts.
   */
  readonly sourceFor: (ref: ImageReference, ctx: SourceContext) => ArtifactSource;
  /**
   * Overall deadline of one verification: resolving, signature discovery and every signature fetch and check
   * together (per-request and per-operation limits of the source still apply inside it). When it passes, the
   * verification's registry requests are aborted and the verdict is inconclusive `TIMEOUT` (never cached).
   * @default 60000
   */
  readonly verificationTimeoutMs?: number;
  /** AWS Signer revocation client; without one, Signer revocation fails (inconclusive). */
  readonly signerClient?: SignerRevocationClient;
  /**
   * DER root certificates that make a chain an AWS Signer chain. A trusted identity that is an AWS
   * Signer signing-profile (or profile-version) ARN matches only a chain that ends in one of these,
   * whatever the statement's trust stores hold (stricter than notation). For tests and partition
   * overrides only: production code leaves it unset.
   * @default the bundled AWS Signer roots (commercial and GovCloud (US))
   */
  readonly awsSignerRoots?: readonly Uint8Array[];
  /**
   * Time limit of one AWS API call (GetRevocationStatus, retries included). The AWS SDK sets no
   * request timeout of its own, so a hanging endpoint would otherwise hold a verification until the
   * Lambda's deadline. Exceeding it is a failed (inconclusive) revocation check. @default 5000
   */
  readonly awsApiTimeoutMs?: number;
  /**
   * OCSP/CRL revocation checking of plain X.509 chains (notation's behaviour: http only, OCSP 2 s,
   * CRL 5 s). Chains without OCSP/CRL endpoints are "non-revokable" and pass without network calls.
   * @default - notation's timeouts over Node's http client
   */
  readonly x509Revocation?: Pick<RevocationOptions, 'fetch' | 'timeouts'>;
  /** Maximum signatures tried per image. @default 100 */
  readonly maxSignatures?: number;
  /** Also require every platform manifest of an image index to be signed. @default false */
  readonly requirePlatformSignatures?: boolean;
  /** Verdict cache TTL in milliseconds; 0 disables the cache. @default 300000 */
  readonly cacheTtlMs?: number;
  /**
   * TTL of cached *failed* verdicts, capped by `cacheTtlMs`. Shorter because a failure can be cured
   * by a signature added later. A `NO_SIGNATURE` verdict is never cached: ECR managed signing signs
   * asynchronously after the push, so a deployment right after a push may see "no signature" for a
   * few seconds. @default 30000
   */
  readonly failedCacheTtlMs?: number;
  /** Maximum cached verdicts. @default 10000 */
  readonly cacheMaxEntries?: number;
  /** User metadata that must be present in the payload annotations (`notation verify --user-metadata`). */
  readonly userMetadata?: Record<string, string>;
  /** Clock. @default Date.now */
  readonly now?: () => Date;
  readonly logger?: Logger;
}

/** What a source learns about the verification it serves. */
export interface SourceContext {
  /** Aborts when the verification is aborted (every caller waiting on it gave up) or reaches its deadline. */
  readonly signal: AbortSignal;
  /** The verification's deadline (epoch ms). */
  readonly deadline: number;
}

/** Per-call options of {@link ImageVerifier.verify}. */
export interface VerifyOptions {
  /** Aborts the verification (e.g. when the handler has answered); in-flight registry requests stop. */
  readonly signal?: AbortSignal;
}
