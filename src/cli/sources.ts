/**
 * Builds the artifact source for a CLI invocation: an OCI layout directory, or a remote registry
 * with credentials from ECR (GetAuthorizationToken through the AWS SDK's default credential chain)
 * or from the Docker config file (`~/.docker/config.json` `auths`). `signal` (the CLI's deadline) stops
 * every registry request and layout read.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { escapeText } from './escape';
import {
  ArtifactSource, chainCredentialProviders, CredentialProvider, dockerConfigCredentials, ecrCredentialProvider, ImageReference,
  OciLayoutSource, parseEcrRegistry, RemoteRepository, sdkEcrTokenProvider,
} from '../verifier';

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
 * The CLI's registry credentials: ECR registries get GetAuthorizationToken through the SDK's default chain,
 * others the Docker config file, read by the engine's file reader (a FIFO or device there is never waited
 * on; anything but a regular file is ignored with a warning through `warning`). Used by `verify`,
 * `inspect` and `sign`.
 */
export function cliRegistryCredentials(warning: (message: string) => void = warn): CredentialProvider {
  const ecr = ecrCredentialProvider(sdkEcrTokenProvider());
  const path = join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  return chainCredentialProviders(
    async (host) => (parseEcrRegistry(host) ? ecr(host) : undefined),
    dockerConfigCredentials(path, { onIgnored: (why) => warning(`ignoring the Docker config file ${path}: ${why}`) }),
  );
}

let credentials: CredentialProvider | undefined;

export function buildSource(ref: ImageReference, opts: CliSourceOptions): ArtifactSource {
  if (opts['oci-layout']) {
    return new OciLayoutSource(opts.layoutDir!, { scope: `${ref.registry}/${ref.repository}`, signal: opts.signal });
  }
  // One provider object for the whole run: registry logins are single-flight per provider, so every
  // source of this run shares them (and ECR tokens are fetched once per registry).
  credentials ??= cliRegistryCredentials();
  return new RemoteRepository(ref, {
    plainHttpRegistries: opts['plain-http'] ? [ref.registry] : [],
    credentials,
    logger: { warn },
    signal: opts.signal,
    deadline: opts.deadline,
  });
}
