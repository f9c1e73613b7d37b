/**
 * Builds the artifact source for a CLI invocation: an OCI layout directory, or a remote registry
 * with credentials from ECR (GetAuthorizationToken through the AWS SDK's default credential chain)
 * or from the Docker config file (`~/.docker/config.json` `auths`). `signal` (the CLI's deadline) stops
 * every registry request and layout read.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { escapeText } from './escape';
import { notRegularFile } from './files';
import { parseEcrRegistry } from '../verifier/reference';
import { chainCredentialProviders, CredentialProvider, dockerConfigCredentials, ecrCredentialProvider } from '../verifier/registry/auth';
import { OciLayoutSource } from '../verifier/registry/oci-layout';
import { RemoteRepository } from '../verifier/registry/remote';
import { ArtifactSource } from '../verifier/registry/source';
import { sdkEcrTokenProvider } from '../verifier/signer/aws-sdk';
import { ImageReference } from '../verifier/types';

export interface CliSourceOptions {
  readonly 'oci-layout'?: boolean;
  readonly 'plain-http'?: boolean;
  readonly 'layoutDir'?: string;
  readonly 'signal'?: AbortSignal;
  /** The verification's deadline (epoch ms): caps every registry operation and retry. */
  readonly 'deadline'?: number;
}

const warn = (m: string) => process.stderr.write(`warning: ${escapeText(m)}\n`);

/**
 * The Docker config credentials, read only when the file is absent or a regular file: a FIFO or device
 * there would block the (synchronous) read and with it the CLI's deadline timer.
 */
function safeDockerConfigCredentials(): CredentialProvider {
  const path = join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  const read = dockerConfigCredentials(path);
  return async (host) => {
    const why = notRegularFile(path);
    if (why) {
      warn(`ignoring the Docker config file ${path}: ${why}`);
      return undefined;
    }
    return read(host);
  };
}

let credentials: CredentialProvider | undefined;

export function buildSource(ref: ImageReference, opts: CliSourceOptions): ArtifactSource {
  if (opts['oci-layout']) {
    return new OciLayoutSource(opts.layoutDir!, { scope: `${ref.registry}/${ref.repository}`, signal: opts.signal });
  }
  // One provider object for the whole run: registry logins are single-flight per provider, so every
  // source of this run shares them (and ECR tokens are fetched once per registry).
  if (!credentials) {
    const ecr = ecrCredentialProvider(sdkEcrTokenProvider());
    credentials = chainCredentialProviders(
      async (host) => (parseEcrRegistry(host) ? ecr(host) : undefined),
      safeDockerConfigCredentials(),
    );
  }
  return new RemoteRepository(ref, {
    plainHttpRegistries: opts['plain-http'] ? [ref.registry] : [],
    credentials,
    logger: { warn },
    signal: opts.signal,
    deadline: opts.deadline,
  });
}
