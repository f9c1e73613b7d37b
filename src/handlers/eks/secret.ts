/**
 * The webhook secret: read from AWS Secrets Manager (`GetSecretValue` on the ARN in
 * `WEBHOOK_SECRET_ARN`) and kept for {@link SECRET_TTL_MS}, so that unauthenticated traffic never
 * makes the function call Secrets Manager more than once per container and TTL. The value is never
 * logged; errors name the ARN only.
 */
import { VerificationInconclusiveError } from '../../verifier';

/** Environment variables of the EKS webhook handler (set by the `EksAdmissionWebhook` construct). */
export const EKS_ENV = {
  /** ARN of the Secrets Manager secret whose `SecretString` is the path secret. */
  SECRET_ARN: 'WEBHOOK_SECRET_ARN',
  /** The webhook configurations' `timeoutSeconds`: the handler answers before it. */
  TIMEOUT_SECONDS: 'WEBHOOK_TIMEOUT_SECONDS',
} as const;

/** How long a fetched secret is reused (a rotated secret is picked up within this time). */
export const SECRET_TTL_MS = 5 * 60_000;

/* eslint-disable @typescript-eslint/no-require-imports */
const loadSecretsManager = (): Promise<typeof import('@aws-sdk/client-secrets-manager')> =>
  Promise.resolve().then(() => require('@aws-sdk/client-secrets-manager'));
/* eslint-enable @typescript-eslint/no-require-imports */

let cached: { arn: string; value: string; at: number } | undefined;
let inflight: Promise<string> | undefined;
let client: any;

/** Forgets the cached secret (tests). */
export function resetSecretCache(): void {
  cached = undefined;
  inflight = undefined;
  client = undefined;
}

/** The secret for `arn`, from the cache or Secrets Manager. Throws {@link VerificationInconclusiveError} (`AWS_API`). */
export async function webhookSecret(arn: string, now = Date.now()): Promise<string> {
  if (cached && cached.arn === arn && now - cached.at < SECRET_TTL_MS) return cached.value;
  // One request at a time per container, however many invocations wait for it.
  if (!inflight) {
    inflight = fetchSecret(arn).then((value) => {
      cached = { arn, value, at: Date.now() };
      return value;
    }).finally(() => {
      inflight = undefined;
    });
  }
  return inflight;
}

async function fetchSecret(arn: string): Promise<string> {
  let out: any;
  try {
    const { SecretsManagerClient, GetSecretValueCommand } = await loadSecretsManager();
    client ??= new SecretsManagerClient({});
    out = await client.send(new GetSecretValueCommand({ SecretId: arn }), { abortSignal: AbortSignal.timeout(5000) });
  } catch (e) {
    const name = (e as Error)?.name ?? 'Error';
    throw new VerificationInconclusiveError('AWS_API', `GetSecretValue failed for ${arn}: ${name}`, { cause: e });
  }
  if (typeof out?.SecretString !== 'string' || out.SecretString.length === 0) {
    throw new VerificationInconclusiveError('AWS_API', `secret ${arn} has no SecretString`);
  }
  return out.SecretString;
}
