/**
 * Shared set-up of the signing tests: an AWS-Signer-shaped test PKI behind the local AWS endpoint's SignPayload
 * (it signs the payload it RECEIVES, so every round trip is real cryptography), and an engine verifier trusting
 * that PKI's root for signing-profile identities.
 */
import { RemoteRepository } from '../../src/verifier/registry/remote';
import { sdkSignerRevocationClient } from '../../src/verifier/signer/aws-sdk';
import { ImageVerifier } from '../../src/verifier/verifier';
import { InMemoryTrustStore } from '../../src/verifier/x509/truststore';
import { AwsFake, SignPayloadInput } from '../support/aws-fake';
import { awsSignerShaped, Chain, makeChain } from '../support/pki';
import { awsSignerSignOptions, signJws } from '../support/sign';

export const ACCOUNT = '123456789012';
export const profileArn = (name: string) => `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-profiles/${name}`;
export const PROFILE = profileArn('release_profile');
export const OTHER_PROFILE = profileArn('other_profile');

let chain: Chain | undefined;
/** The test "AWS Signer" chain (leaf..root), shared by every profile as in AWS. */
export function signerChain(): Chain {
  chain ??= makeChain(awsSignerShaped());
  return chain;
}

/** What AWS Signer does for SignPayload: a JWS over the received payload naming the profile version and the job. */
export function awsSignerLike(input: SignPayloadInput): Uint8Array {
  const c = signerChain();
  const profile = `arn:aws:signer:us-east-1:${input.profileOwner ?? ACCOUNT}:/signing-profiles/${input.profileName}`;
  return signJws({
    key: c.key,
    chainDer: c.chainDer,
    payload: input.payload,
    ...awsSignerSignOptions(`${profile}/v1AbCdEf12`, `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-jobs/${Date.now()}-job`),
  });
}

/**
 * The same chain and scheme without the Signer plugin header and attributes: the CLI's `verify` trusts profile-ARN
 * identities only on chains ending in AWS's real Signer roots, so CLI round trips check this form by the leaf's
 * X.509 subject instead (the engine tests check the full AWS Signer form with profile ARNs).
 */
export function signingAuthorityLike(input: SignPayloadInput): Uint8Array {
  const c = signerChain();
  return signJws({
    key: c.key, chainDer: c.chainDer, payload: input.payload, signingScheme: 'notary.x509.signingAuthority', authenticSigningTime: new Date(Date.now() - 60_000),
  });
}

/** Sets the fake's SignPayload to behave like AWS Signer (`plugin: false`: {@link signingAuthorityLike}). */
export function actLikeAwsSigner(fake: AwsFake, opts: { plugin?: boolean } = {}): void {
  fake.signPayload = opts.plugin === false ? signingAuthorityLike : awsSignerLike;
}

/** A trust policy as `TrustPolicy.fromSigningProfiles` writes it (strict, signingAuthority store, profile ARNs). */
export function signerTrustPolicy(profiles: string[]) {
  return {
    version: '1.0',
    trustPolicies: [{
      name: 'aws-signer',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['signingAuthority:aws-signer-ts'],
      trustedIdentities: profiles,
    }],
  };
}

/** The engine's verifier over `registryHost`, trusting the test Signer root for profile identities. */
export function engineVerifier(registryHost: string, awsUrl: string, profiles: string[] = [PROFILE]): ImageVerifier {
  const c = signerChain();
  return new ImageVerifier({
    trustPolicy: signerTrustPolicy(profiles),
    trustStores: new InMemoryTrustStore({ 'signingAuthority:aws-signer-ts': c.rootPem }),
    sourceFor: (ref) => new RemoteRepository(ref, { plainHttpRegistries: [registryHost], requestTimeoutMs: 5000, referrersCapability: new Map() }),
    cacheTtlMs: 0,
    awsSignerRoots: [c.chainDer[c.chainDer.length - 1]],
    signerClient: sdkSignerRevocationClient('us-east-1', awsUrl),
  });
}

/** Environment for the AWS SDK: static test credentials, the fake as the Signer / ECR endpoint. */
export function awsEnv(awsUrl: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTESTTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_ENDPOINT_URL_SIGNER: awsUrl,
    AWS_ENDPOINT_URL_ECR: awsUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
