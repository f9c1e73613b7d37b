/**
 * Adapters over the AWS SDK for JavaScript v3. The SDK modules are loaded lazily on first use, so a
 * Lambda cold start that never calls AWS Signer / ECR does not pay for loading them.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { SignerClient } from '@aws-sdk/client-signer';
import { VerificationInconclusiveError } from '../errors';
import { readRevocationAnswer, SignerRevocationClient, SignerRevocationRequest } from './signer';
import type { EcrTokenProvider } from '../registry/auth';

type SignerSdk = typeof import('@aws-sdk/client-signer');
type EcrSdk = typeof import('@aws-sdk/client-ecr');

/*
 * Lazy `require` rather than `await import()`: this package compiles to CommonJS (module node16), where
 * tsc keeps `import()` as a native ESM dynamic import; that works in Node and esbuild bundles, but not
 * inside Jest's CommonJS VM without --experimental-vm-modules. `require` on first use is just as lazy.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const loadSignerSdk = (): Promise<SignerSdk> => Promise.resolve().then(() => require('@aws-sdk/client-signer') as SignerSdk);
const loadEcrSdk = (): Promise<EcrSdk> => Promise.resolve().then(() => require('@aws-sdk/client-ecr') as EcrSdk);
/* eslint-enable @typescript-eslint/no-require-imports */

/** All bytes of an HTTP response body (a Node stream, a web stream, bytes or a string). */
async function collectBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new Uint8Array(Buffer.from(body, 'utf8'));
  const chunks: Buffer[] = [];
  if (typeof (body as any)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return new Uint8Array(Buffer.concat(chunks));
  }
  if (typeof (body as any).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
    }
    return new Uint8Array(Buffer.concat(chunks));
  }
  return new Uint8Array(0);
}

/**
 * `GetRevocationStatus` through `@aws-sdk/client-signer` (HTTP `GET /revocations` on
 * `data-signer.<region>.amazonaws.com`). Errors propagate unchanged; {@link checkSignerRevocation}
 * turns them into a failed, inconclusive result.
 * @param region AWS region; default: the SDK's default (AWS_REGION in Lambda)
 * @param endpoint endpoint override (the plugin's `aws-signer-endpoint-url`), used verbatim
 */
export function sdkSignerRevocationClient(region?: string, endpoint?: string): SignerRevocationClient {
  let client: Promise<{ client: SignerClient; Command: SignerSdk['GetRevocationStatusCommand'] }> | undefined;
  const load = () => {
    client ??= loadSignerSdk().then((sdk) => ({ client: newSignerClient(sdk, region, endpoint), Command: sdk.GetRevocationStatusCommand }));
    return client;
  };
  return {
    async getRevocationStatus(input: SignerRevocationRequest) {
      const { client: c, Command } = await load();
      const command = new Command({
        signatureTimestamp: input.signatureTimestamp,
        platformId: input.platformId,
        profileVersionArn: input.profileVersionArn,
        jobArn: input.jobArn,
        certificateHashes: [...input.certificateHashes],
      });
      const captured = captureRawAnswer(command);
      let out: { revokedEntities?: string[] } | undefined;
      try {
        out = await c.send(command);
      } catch (e) {
        // The raw body already says why the SDK could not decode it.
        const raw = captured.answer;
        if (raw && 'problem' in raw) return { answerProblem: raw.problem };
        throw e;
      }
      const raw = captured.answer;
      if (raw === undefined) return { revokedEntities: out.revokedEntities };
      return 'problem' in raw ? { answerProblem: raw.problem } : { revokedEntities: raw.revokedEntities };
    },
  };
}

function newSignerClient(sdk: SignerSdk, region: string | undefined, endpoint: string | undefined): SignerClient {
  // An endpoint override (explicit, or the SDK's AWS_ENDPOINT_URL_SIGNER / AWS_ENDPOINT_URL) is
  // used verbatim: without disableHostPrefix the SDK would prepend GetRevocationStatus's `data-`
  // host prefix to it (`http://127.0.0.1:port` -> `data-127.0.0.1`).
  return new sdk.SignerClient({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(endpoint || process.env.AWS_ENDPOINT_URL_SIGNER || process.env.AWS_ENDPOINT_URL ? { disableHostPrefix: true } : {}),
  });
}

/**
 * The SDK maps an empty body, `null`, an array or a misspelt member all to "no list"; the raw 2xx body is
 * read here (innermost in the deserialize step, before the SDK's deserializer) and judged by
 * readRevocationAnswer, then handed on unchanged. `answer` is set once the command has run.
 */
function captureRawAnswer(command: InstanceType<SignerSdk['GetRevocationStatusCommand']>): { answer?: ReturnType<typeof readRevocationAnswer> } {
  const captured: { answer?: ReturnType<typeof readRevocationAnswer> } = {};
  command.middlewareStack.add((next) => async (args) => {
    const result: any = await next(args);
    const response = result?.response;
    if (response && response.statusCode >= 200 && response.statusCode < 300) {
      const bytes = await collectBody(response.body);
      response.body = bytes;
      captured.answer = readRevocationAnswer(bytes);
    }
    return result;
  }, { step: 'deserialize', priority: 'low', name: 'cdkSignedImagesRawRevocationAnswer' });
  return captured;
}

/**
 * `ecr:GetAuthorizationToken` through `@aws-sdk/client-ecr`, one client per region.
 * @throws VerificationInconclusiveError `AUTHENTICATION` when ECR returns no token; SDK errors propagate
 */
export function sdkEcrTokenProvider(options: { endpoint?: string } = {}): EcrTokenProvider {
  const clients = new Map<string, Promise<{ client: ECRClient; Command: EcrSdk['GetAuthorizationTokenCommand'] }>>();
  return async (registryId: string, region: string) => {
    let entry = clients.get(region);
    if (!entry) {
      entry = loadEcrSdk().then((sdk) => ({
        client: new sdk.ECRClient({ region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) }),
        Command: sdk.GetAuthorizationTokenCommand,
      }));
      clients.set(region, entry);
    }
    const { client, Command } = await entry;
    const out = await client.send(new Command({ registryIds: [registryId] }));
    const data = out.authorizationData?.[0];
    if (!data?.authorizationToken) {
      throw new VerificationInconclusiveError('AUTHENTICATION', `ECR GetAuthorizationToken returned no token for registry ${registryId} in ${region}`);
    }
    return {
      authorizationToken: data.authorizationToken,
      expiresAt: data.expiresAt ?? new Date(Date.now() + 12 * 3600 * 1000),
    };
  };
}
