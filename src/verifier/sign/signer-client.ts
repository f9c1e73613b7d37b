/**
 * AWS Signer `SignPayload` (restJson1 `POST /signing-jobs/with-payload`) through `@aws-sdk/client-signer`, with
 * the SDK's default credential chain and bounded retries, and its errors turned into the engine's typed errors
 * with the Signer error code and a hint.
 */
import type { SignerClient } from '@aws-sdk/client-signer';
import { ConfigurationError, VerificationFailedError, VerificationInconclusiveError, VerifierError, isVerifierError } from '../errors';
import { NOTARY_PAYLOAD_FORMAT, SigningProfile } from './payload';

type SignerSdk = typeof import('@aws-sdk/client-signer');
/* eslint-disable @typescript-eslint/no-require-imports */
const loadSignerSdk = (): Promise<SignerSdk> => Promise.resolve().then(() => require('@aws-sdk/client-signer') as SignerSdk);
/* eslint-enable @typescript-eslint/no-require-imports */

/** What `SignPayload` answered. */
export interface SignPayloadResult {
  /** The whole JWS envelope. */
  readonly signature: Uint8Array;
  readonly jobId?: string;
  readonly jobOwner?: string;
  readonly metadata?: Record<string, string>;
}

/** Signs a Notary payload with a signing profile. */
export interface SignPayloadClient {
  signPayload(profile: SigningProfile, payload: Uint8Array, signal?: AbortSignal): Promise<SignPayloadResult>;
}

export interface SdkSignPayloadClientOptions {
  /** Default: the profile ARN's region. */
  readonly region?: string;
  /** Endpoint override (default: the SDK's, including AWS_ENDPOINT_URL_SIGNER). */
  readonly endpoint?: string;
  /** Attempts per call, the first included (default 3): throttling and 5xx answers are retried by the SDK. */
  readonly maxAttempts?: number;
}

/** Hints for Signer error codes, shown after the code. */
const HINTS: Record<string, string> = {
  AccessDeniedException: 'the caller needs signer:SignPayload on the signing profile (SignedRegistry.grantPushAndSign grants it, '
    + 'with the ECR push actions); a profile of another account also needs its owner\'s '
    + '`aws signer add-profile-permission --action signer:SignPayload`',
  ResourceNotFoundException: 'no such signing profile in this account and region (check the ARN, and that the profile is not canceled)',
  ValidationException: 'Signer rejected the request (is the profile for the Notation-OCI-SHA384-ECDSA platform, and active?)',
  ThrottlingException: 'Signer kept throttling after the retries; run again later or raise the SignPayload quota',
  TooManyRequestsException: 'Signer kept throttling after the retries; run again later or raise the SignPayload quota',
  InternalServiceErrorException: 'AWS Signer failed; run again later',
};

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);

/**
 * A Signer SDK error as a typed error: `code` AWS_API (failed: Signer refused; inconclusive: throttling, 5xx,
 * network) or INVALID_OPTIONS (no credentials: configuration). The message names the Signer error code.
 */
export function signerError(e: unknown): VerifierError {
  if (isVerifierError(e)) return e;
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
  const name = String(err?.name ?? 'Error');
  const status = err?.$metadata?.httpStatusCode;
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}: ${String(err?.message ?? e)}`;
  const hint = HINTS[name];
  const message = `AWS Signer SignPayload failed: ${detail}${hint ? `\n  hint: ${hint}` : ''}`;
  if (CREDENTIAL_ERRORS.has(name)) {
    return new ConfigurationError('INVALID_OPTIONS',
      `${message}\n  hint: no AWS credentials were found (the SDK's default chain: environment, profile, web identity, container or instance role)`, { cause: e });
  }
  const transient = err?.$fault === 'server' || (status !== undefined && status >= 500) || name === 'ThrottlingException'
    || name === 'TooManyRequestsException' || status === 429 || status === undefined;
  return transient
    ? new VerificationInconclusiveError('AWS_API', message, { cause: e })
    : new VerificationFailedError('AWS_API', message, { cause: e });
}

/** `SignPayload` over the AWS SDK (loaded on first use). */
export function sdkSignPayloadClient(options: SdkSignPayloadClientOptions = {}): SignPayloadClient {
  const clients = new Map<string, Promise<{ client: SignerClient; sdk: SignerSdk }>>();
  return {
    async signPayload(profile, payload, signal) {
      const region = options.region ?? profile.region;
      let entry = clients.get(region);
      if (!entry) {
        entry = loadSignerSdk().then((sdk) => ({
          sdk,
          client: new sdk.SignerClient({
            region, maxAttempts: options.maxAttempts ?? 3, ...(options.endpoint ? { endpoint: options.endpoint } : {}),
          }),
        }));
        clients.set(region, entry);
      }
      const { client, sdk } = await entry;
      let out: { signature?: Uint8Array; jobId?: string; jobOwner?: string; metadata?: Record<string, string> };
      try {
        out = await client.send(new sdk.SignPayloadCommand({
          profileName: profile.name,
          profileOwner: profile.owner,
          payload,
          payloadFormat: NOTARY_PAYLOAD_FORMAT,
        }), { abortSignal: signal as any });
      } catch (e) {
        throw signerError(e);
      }
      if (!(out.signature instanceof Uint8Array) || out.signature.length === 0) {
        throw new VerificationFailedError('INVALID_ENVELOPE', 'AWS Signer SignPayload returned no signature');
      }
      return { signature: out.signature, jobId: out.jobId, jobOwner: out.jobOwner, metadata: out.metadata };
    },
  };
}
