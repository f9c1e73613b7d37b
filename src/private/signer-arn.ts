/**
 * AWS Signer signing profile ARNs: `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`
 * and the version ARN `…/<name>/<version>` (Service Authorization Reference, resource type
 * `signing-profile`; a profile version is not an IAM resource). Profile names are 2 to 64 letters,
 * digits and underscores.
 */
import { Token } from 'aws-cdk-lib';

/** The AWS Signer platform for Notation (OCI) signatures (`signer.Platform.NOTATION_OCI_SHA384_ECDSA`). */
export const NOTATION_PLATFORM = 'Notation-OCI-SHA384-ECDSA';

const PREFIX = 'arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\\/signing-profiles\\/[a-zA-Z0-9_]{2,}';
/** A profile ARN, no version. */
const PROFILE_ARN = new RegExp(`^${PREFIX}$`);
/** A profile version ARN. */
const PROFILE_VERSION_ARN = new RegExp(`^${PREFIX}\\/[a-zA-Z0-9]+$`);
/** A profile ARN or a profile version ARN, with a name AWS Signer accepts (at most 64 characters). */
export const PROFILE_OR_VERSION_ARN = /^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,64}(\/[a-zA-Z0-9]+)?$/;
/** Longest `SigningProfileArn` of an ECR signing rule (ECR API reference). */
const MAX_PROFILE_ARN_LENGTH = 200;

/**
 * Why a literal ARN is not a signing profile ARN (a version ARN or anything else), or undefined when
 * it is one or is a deploy-time token.
 *
 * @param arn the ARN to check
 * @param needs who needs a profile ARN, for the message, e.g. `ECR signing rules need`
 */
export function profileArnError(arn: string, needs: string): string | undefined {
  if (Token.isUnresolved(arn)) return undefined;
  if (PROFILE_VERSION_ARN.test(arn)) {
    return `signing profile ARN "${arn}" is a profile version ARN; ${needs} the profile ARN (without the version)`;
  }
  if (arn.length > MAX_PROFILE_ARN_LENGTH || !PROFILE_ARN.test(arn)) {
    return `signing profile ARN "${arn}" is invalid: expected arn:<partition>:signer:<region>:<account>:/signing-profiles/<name> `
      + '(name of letters, digits and underscores)';
  }
  return undefined;
}

/**
 * The profile ARN of an aws-cdk-lib `ISigningProfile`. `SigningProfile.fromSigningProfileAttributes`
 * builds `…:<account>://signing-profiles/<name>` (`formatArn` with an empty resource and a resource
 * name starting with `/`); the one `:/` of a real ARN is restored. The text around the tokens is
 * plain, so the replacement is safe on a tokenised ARN too. Everything else is returned unchanged.
 */
export function repairImportedProfileArn(arn: string): string {
  return arn.replace('://signing-profiles/', ':/signing-profiles/');
}
