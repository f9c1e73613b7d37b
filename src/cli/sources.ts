/**
 * Builds the artifact source for a CLI invocation: an OCI layout directory, or a remote registry
 * with credentials from ECR (GetAuthorizationToken through the AWS SDK's default credential chain)
 * or from the Docker config file (`~/.docker/config.json` `auths`).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseEcrRegistry } from '../verifier/reference';
import { chainCredentialProviders, CredentialProvider, ecrCredentialProvider } from '../verifier/registry/auth';
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

/** Basic credentials from the Docker config file (`auths.<host>.auth` = base64 "user:password"). */
export function dockerConfigCredentials(path = join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json')): CredentialProvider {
  return async (host) => {
    let auths: Record<string, { auth?: string; identitytoken?: string }>;
    try {
      auths = JSON.parse(readFileSync(path, 'utf8')).auths ?? {};
    } catch {
      return undefined;
    }
    const entry = auths[host] ?? auths[`https://${host}`];
    if (entry?.identitytoken) return { identityToken: entry.identitytoken };
    if (!entry?.auth) return undefined;
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i > 0 ? { username: decoded.slice(0, i), password: decoded.slice(i + 1) } : undefined;
  };
}
