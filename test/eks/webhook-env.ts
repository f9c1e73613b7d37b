/**
 * The environment the bundled EKS webhook runs in, for a test file: a local Secrets Manager endpoint
 * holding the URL secret, the webhook's environment variables (saved and restored around the file),
 * and optionally a counting proxy in front of the harness registry. Registers the jest hooks; read the
 * fields inside tests.
 */
import { SecretsFake, startSecretsFake } from './support';
import { CountingProxy, startCountingProxy } from '../support/registry';

export interface WebhookEnv {
  readonly sm: SecretsFake;
  readonly proxy: CountingProxy;
}

const VARIABLES = ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'WEBHOOK_SECRET_ARN', 'WEBHOOK_TIMEOUT_SECONDS', 'ADMISSION_MODE'];

/**
 * Starts the secrets endpoint (and a proxy in front of `registryHost()`, when given) before the file's
 * tests, sets `WEBHOOK_TIMEOUT_SECONDS` to 10 and unsets `ADMISSION_MODE`; stops and restores after.
 */
export function webhookEnv(registryHost?: () => string): WebhookEnv {
  const env = {} as { sm: SecretsFake; proxy: CountingProxy };
  const saved = Object.fromEntries(VARIABLES.map((k) => [k, process.env[k]]));
  beforeAll(async () => {
    env.sm = await startSecretsFake();
    if (registryHost) env.proxy = await startCountingProxy(registryHost());
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = env.sm.url;
    process.env.WEBHOOK_SECRET_ARN = env.sm.arn;
    process.env.WEBHOOK_TIMEOUT_SECONDS = '10';
    delete process.env.ADMISSION_MODE;
  });
  afterAll(async () => {
    await env.sm?.stop();
    await env.proxy?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  return env;
}
