/**
 * Reads the handler configuration at cold start: `config.json` next to the bundle (the construct
 * writes it; the contract is `HandlerConfig` in ../config.ts) and the `TRUST_POLICY` environment
 * variable (a trust policy holding deploy-time tokens). Every problem is a `ConfigurationError`.
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { ConfigurationError, parseStrictJson, pemCertificatesToDer } from '../../verifier';
import { CONFIG_FILE, CONFIG_VERSION, ENV, HandlerConfig } from '../config';

/** The config file's text, and where it was read from. */
function readConfigFile(): { path: string; text: string } {
  // The bundle is assets/handlers/<name>/index.js: __dirname is its directory, where config.json lies.
  const path = process.env[ENV.CONFIG_PATH] || join(__dirname, CONFIG_FILE);
  try {
    return { path, text: readFileSync(path, 'utf8') };
  } catch (e) {
    throw new ConfigurationError('INVALID_OPTIONS', `cannot read the handler configuration "${path}": ${(e as Error).message}`);
  }
}

function parseConfigFile(path: string, text: string): any {
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigurationError('INVALID_OPTIONS', `the handler configuration "${path}" is not valid JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigurationError('INVALID_OPTIONS', `the handler configuration "${path}" must be a JSON object`);
  }
  if (raw.version !== CONFIG_VERSION) {
    throw new ConfigurationError('INVALID_OPTIONS', `unsupported handler configuration version ${JSON.stringify(raw.version)} (expected ${CONFIG_VERSION})`);
  }
  return raw;
}

/** The trust policy: `TRUST_POLICY` when set (strict JSON), else the file's `trustPolicy`. */
function trustPolicyOf(raw: any, envPolicy: string | undefined): unknown {
  let trustPolicy = raw.trustPolicy;
  if (envPolicy) {
    try {
      // Strict (src/verifier/json): keys Go's decoder would merge are rejected, not silently dropped.
      trustPolicy = parseStrictJson(envPolicy, (m) => new ConfigurationError('INVALID_TRUST_POLICY', m));
    } catch (e) {
      throw new ConfigurationError('INVALID_TRUST_POLICY', `${ENV.TRUST_POLICY} is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (trustPolicy === undefined) {
    throw new ConfigurationError('INVALID_TRUST_POLICY', `no trust policy: set "trustPolicy" in ${CONFIG_FILE} or the ${ENV.TRUST_POLICY} environment variable`);
  }
  return trustPolicy;
}

/** Checks the fields the runtime reads without further validation. */
function checkFields(raw: any): void {
  for (const list of ['plainHttpRegistries', 'exemptions'] as const) {
    if (raw[list] !== undefined && (!Array.isArray(raw[list]) || raw[list].some((v: unknown) => typeof v !== 'string'))) {
      throw new ConfigurationError('INVALID_OPTIONS', `${list} must be an array of strings`);
    }
  }
  if (raw.mode !== undefined && raw.mode !== 'ENFORCE' && raw.mode !== 'AUDIT') {
    throw new ConfigurationError('INVALID_OPTIONS', `mode must be ENFORCE or AUDIT, got ${JSON.stringify(raw.mode)}`);
  }
  if (raw.inconclusiveAction !== undefined && raw.inconclusiveAction !== 'REJECT' && raw.inconclusiveAction !== 'ADMIT') {
    throw new ConfigurationError('INVALID_OPTIONS', `inconclusiveAction must be REJECT or ADMIT, got ${JSON.stringify(raw.inconclusiveAction)}`);
  }
  if (raw.extraAwsSignerRootsPem !== undefined
    && (typeof raw.extraAwsSignerRootsPem !== 'string' || pemCertificatesToDer(raw.extraAwsSignerRootsPem).length === 0)) {
    throw new ConfigurationError('INVALID_TRUST_STORE', 'extraAwsSignerRootsPem must be a PEM bundle of certificates');
  }
  for (const timeout of ['registryTimeoutMs', 'awsApiTimeoutMs'] as const) {
    const ms = raw[timeout];
    if (ms !== undefined && !(typeof ms === 'number' && Number.isFinite(ms) && ms > 0)) {
      throw new ConfigurationError('INVALID_OPTIONS', `${timeout} must be a positive number of milliseconds, got ${JSON.stringify(ms)}`);
    }
  }
  const wait = raw.signatureWaitSeconds;
  if (wait !== undefined && !(typeof wait === 'number' && Number.isFinite(wait) && wait >= 0)) {
    throw new ConfigurationError('INVALID_OPTIONS', `signatureWaitSeconds must be a non-negative number, got ${JSON.stringify(wait)}`);
  }
}

/**
 * Reads and validates the config (file + environment). `key` identifies its content (file path and
 * text, `TRUST_POLICY`): the runtime built from it is reused while the key stays the same.
 */
export function loadConfig(): { config: HandlerConfig; key: string } {
  const { path, text } = readConfigFile();
  const raw = parseConfigFile(path, text);
  const envPolicy = process.env[ENV.TRUST_POLICY];
  const trustPolicy = trustPolicyOf(raw, envPolicy);
  const stores = raw.trustStores ?? {};
  if (typeof stores !== 'object' || Array.isArray(stores) || Object.values(stores).some((v) => typeof v !== 'string')) {
    throw new ConfigurationError('INVALID_TRUST_STORE', 'trustStores must map "type:name" to a PEM bundle');
  }
  checkFields(raw);
  const config: HandlerConfig = { ...raw, trustPolicy, trustStores: stores };
  const key = createHash('sha256').update(path).update('\0').update(text).update('\0').update(envPolicy ?? '').digest('hex');
  return { config, key };
}
