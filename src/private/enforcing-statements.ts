import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { actionName } from './notation-names';
import { TrustPolicyStatement, VerificationAction, VerificationLevel } from '../trust-policy';
import { SignedImagesValidationError } from '../validation-error';

/**
 * Why a statement does not enforce authenticity (so an ENFORCE admission hook or webhook admits
 * images signed by anyone), if it does not.
 */
export function nonEnforcing(statement: TrustPolicyStatement): string | undefined {
  const level = statement.level ?? VerificationLevel.STRICT;
  if (level === VerificationLevel.SKIP) {
    return 'is at level "skip": it verifies nothing by design (notation), so the images in its scopes are admitted unsigned';
  }
  const authenticity = statement.overrides?.authenticity;
  if (level === VerificationLevel.AUDIT && authenticity !== VerificationAction.ENFORCE) {
    return 'is at level "audit": it only logs authenticity failures, so the images in its scopes are admitted whoever signed them';
  }
  if (authenticity === VerificationAction.LOG || authenticity === VerificationAction.SKIP) {
    return `overrides authenticity with "${actionName(authenticity, 'authenticity')}", so the images in its scopes are admitted whoever signed them`;
  }
  return undefined;
}

/**
 * Warns (or, when `fail`, throws) about trust policy statements an ENFORCE admission construct
 * (`EcsAdmissionHook`, `EksAdmissionWebhook`) cannot enforce. Call it in ENFORCE mode only; the
 * `failOnNonEnforcingStatements` prop of both constructs is `fail`.
 */
export function checkEnforcingStatements(scope: Construct, statements: TrustPolicyStatement[], fail: boolean): void {
  const problems: string[] = [];
  for (const statement of statements) {
    const why = nonEnforcing(statement);
    if (why) problems.push(`trust policy statement "${statement.name}" ${why}`);
  }
  if (problems.length === 0) return;
  const fix = 'use level strict or permissive without an authenticity override, or AdmissionMode.AUDIT';
  if (fail) {
    throw new SignedImagesValidationError(`ENFORCE admission hook with statements that do not enforce authenticity (failOnNonEnforcingStatements): ${problems.join('; ')} (${fix})`, scope);
  }
  for (const p of problems) {
    Annotations.of(scope).addWarningV2('cdk-signed-images:nonEnforcingStatement', `ENFORCE admission hook: ${p} (${fix})`);
  }
}
