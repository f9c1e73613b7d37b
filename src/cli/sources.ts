/**
 * Builds the artifact source for a CLI invocation: an OCI layout directory, or a remote registry
 * with credentials from ECR (GetAuthorizationToken through the AWS SDK's default credential chain)
 * or from the Docker config file (`~/.docker/config.json` `auths`).
 */
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
}

let ecr: CredentialProvider | undefined;

export function buildSource(ref: ImageReference, opts: CliSourceOptions): ArtifactSource {
  if (opts['oci-layout']) {
    return new OciLayoutSource(opts.layoutDir!, { scope: `${ref.registry}/${ref.repository}` });
  }
  ecr ??= ecrCredentialProvider(sdkEcrTokenProvider());
  return new RemoteRepository(ref, {
    plainHttpRegistries: opts['plain-http'] ? [ref.registry] : [],
    credentials: chainCredentialProviders(
      async (host) => (parseEcrRegistry(host) ? ecr!(host) : undefined),
      dockerConfigCredentials(),
    ),
    logger: { warn: (m) => process.stderr.write(`warning: ${m}\n`) },
  });
}
