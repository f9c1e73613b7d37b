/**
 * `cdk-signed-images sign <reference> --signing-profile <profile ARN>`: signs an image with AWS Signer
 * `SignPayload` (the AWS SDK's default credential chain) and pushes the signature as notation does, without the
 * notation binary or the AWS Signer plugin. Registry credentials: ECR tokens through the same chain for ECR
 * registries, else `~/.docker/config.json` (`DOCKER_CONFIG`).
 *
 * Exit codes: 0 signed; 1 signing failed (Signer or the registry refused, or no answer within --timeout);
 * 2 bad usage or configuration.
 */
import { DeadlineExceededError, withDeadline } from './deadline';
import { escapeText, safeJson } from './escape';
import { cliRegistryCredentials } from './sources';
import {
  ImageReference, isVerifierError, parseReference, parseSigningProfileArn, sdkSignPayloadClient, signImage, SignPayloadClient, SignResult,
} from '../verifier';

export interface SignCommandInput {
  readonly reference: string;
  readonly signingProfileArn: string;
  readonly userMetadata: Readonly<Record<string, string>>;
  readonly plainHttp: boolean;
  readonly format: 'text' | 'json';
  readonly timeout: { readonly ms: number; readonly label: string };
  /** Signer client (default: the AWS SDK's, in the profile ARN's region). */
  readonly signer?: SignPayloadClient;
}

export interface SignIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

/** Signed. */
export const EXIT_SIGNED = 0;
/** Signer or the registry refused, or no answer in time. */
export const EXIT_SIGNING_FAILED = 1;
/** Bad usage or configuration. */
export const EXIT_USAGE = 2;

/** Runs `sign`; every failure becomes an exit code and a message with its code (and a hint when there is one). */
export async function runSign(input: SignCommandInput, io: SignIo): Promise<number> {
  let ref: ImageReference;
  try {
    parseSigningProfileArn(input.signingProfileArn);
    ref = parseReference(input.reference);
  } catch (e) {
    return report(e, input, io);
  }
  let result: SignResult;
  try {
    result = await withDeadline(input.timeout.ms, input.timeout.label, (signal) => signImage(ref, {
      signingProfileArn: input.signingProfileArn,
      userMetadata: input.userMetadata,
      signer: input.signer ?? sdkSignPayloadClient(),
      plainHttpRegistries: input.plainHttp ? [ref.registry] : [],
      credentials: cliRegistryCredentials((m) => io.err(`warning: ${escapeText(m)}`)),
      logger: { warn: (m) => io.err(`warning: ${escapeText(m)}`) },
      signal,
      deadline: Date.now() + input.timeout.ms,
    }));
  } catch (e) {
    return report(e, input, io);
  }
  if (input.format === 'json') {
    io.out(safeJson({ status: 'signed', ...result }));
  } else {
    io.out(renderSigned(result));
  }
  return EXIT_SIGNED;
}

/** The signed result as text (escaped: digests and names come from the registry and Signer). */
export function renderSigned(r: SignResult): string {
  return [
    `Successfully signed ${escapeText(r.signedReference)}`,
    `  signature: ${escapeText(r.signature.digest)}`,
    `  profile:   ${escapeText(r.signingProfileArn)}${r.jobId ? ` (signing job ${escapeText(r.jobId)})` : ''}`,
    `  listed by: ${r.discovery === 'referrers-api' ? 'the registry\'s referrers API' : `the tag-schema index ${escapeText(r.subject.digest.replace(':', '-'))}`}`,
  ].join('\n');
}

function report(e: unknown, input: SignCommandInput, io: SignIo): number {
  let code: number;
  let error: { kind: string; code: string; message: string };
  if (e instanceof DeadlineExceededError) {
    code = EXIT_SIGNING_FAILED;
    error = { kind: 'inconclusive', code: 'TIMEOUT', message: `${e.message}; the image may be unsigned (a signature pushed after this point would be complete)` };
  } else if (isVerifierError(e)) {
    code = e.kind === 'configuration' ? EXIT_USAGE : EXIT_SIGNING_FAILED;
    error = e.toJSON();
  } else {
    // a bug: never "signed"
    code = EXIT_SIGNING_FAILED;
    error = { kind: 'failed', code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
  }
  if (input.format === 'json') io.out(safeJson({ status: 'failed', reference: input.reference, error }));
  // safeIo (main.ts) escapes every printed line and keeps the hint's line break
  io.err(`error: signing ${input.reference} failed [${error.code}]: ${error.message}`);
  return code;
}
