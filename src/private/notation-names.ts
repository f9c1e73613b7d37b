/**
 * The one place where the public enums meet the strings they stand for: notation's trust policy
 * spellings (`strict`, `signingAuthority`, `afterCertExpiry`...) and the admission hook's config
 * values. Each table is typed by both sides, so adding an enum member without its wire string, or
 * a wire string the engine does not know, fails to compile.
 *
 * Only type imports of the enums: their modules import this one, and the tables are keyed by the
 * enums' values.
 */
import type { IConstruct } from 'constructs';
import type { AdmissionMode, InconclusiveAction } from '../ecs-admission-hook';
import type { HandlerMode, InconclusivePolicy } from '../handlers/config';
import type { TimestampVerification, TrustStoreType, VerificationAction, VerificationLevel } from '../trust-policy';
import { SignedImagesValidationError } from '../validation-error';
import type { NotationTrustPolicy, TrustStoreTypeName } from '../verifier';

type SignatureVerification = NotationTrustPolicy['trustPolicies'][number]['signatureVerification'];
/** notation's level names. */
export type LevelName = SignatureVerification['level'];
/** notation's check actions (`signatureVerification.override` values). */
export type ActionName = NonNullable<NonNullable<SignatureVerification['override']>[keyof NonNullable<SignatureVerification['override']>]>;
/** notation's `verifyTimestamp` values. */
export type TimestampName = NonNullable<SignatureVerification['verifyTimestamp']>;

const LEVELS: Readonly<Record<VerificationLevel, LevelName>> = {
  STRICT: 'strict',
  PERMISSIVE: 'permissive',
  AUDIT: 'audit',
  SKIP: 'skip',
};

const ACTIONS: Readonly<Record<VerificationAction, ActionName>> = {
  ENFORCE: 'enforce',
  LOG: 'log',
  SKIP: 'skip',
};

const TIMESTAMPS: Readonly<Record<TimestampVerification, TimestampName>> = {
  ALWAYS: 'always',
  AFTER_CERT_EXPIRY: 'afterCertExpiry',
};

const STORE_TYPES: Readonly<Record<TrustStoreType, TrustStoreTypeName>> = {
  CA: 'ca',
  SIGNING_AUTHORITY: 'signingAuthority',
  TSA: 'tsa',
};

const MODES: Readonly<Record<AdmissionMode, HandlerMode>> = {
  ENFORCE: 'ENFORCE',
  AUDIT: 'AUDIT',
};

const INCONCLUSIVE_ACTIONS: Readonly<Record<InconclusiveAction, InconclusivePolicy>> = {
  REJECT: 'REJECT',
  ADMIT: 'ADMIT',
};

/**
 * The table's string for `value`, or a validation error: JavaScript callers and the jsii kernel can
 * pass any value where an enum is declared. Own keys only (`toString`, `__proto__` are no members).
 */
function lookUp<K extends string, V>(table: Readonly<Record<K, V>>, value: unknown, unknown: (shown: string) => string, scope?: IConstruct): V {
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(table, value)) return table[value as K];
  throw new SignedImagesValidationError(unknown(typeof value === 'string' ? value : String(value)), scope);
}

/** The enum's member names, for messages: `A, B or C`. */
function members(table: object): string {
  const names = Object.keys(table);
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** notation's name of a verification level (`strict`...). */
export function levelName(level: VerificationLevel): LevelName {
  return lookUp(LEVELS, level, v => `verification level "${v}" is not supported: use VerificationLevel.${members(LEVELS)}`);
}

/** notation's name of a check action (`enforce`, `log`, `skip`). */
export function actionName(action: VerificationAction, check: string): ActionName {
  return lookUp(ACTIONS, action, v => `override of ${check}: verification action "${v}" is not supported: use VerificationAction.${members(ACTIONS)}`);
}

/** notation's `verifyTimestamp` value (`always`, `afterCertExpiry`). */
export function timestampName(value: TimestampVerification): TimestampName {
  return lookUp(TIMESTAMPS, value, v => `verifyTimestamp "${v}" is not supported: use TimestampVerification.${members(TIMESTAMPS)}`);
}

/** notation's name of a trust store type (`ca`, `signingAuthority`, `tsa`). */
export function storeTypeName(type: TrustStoreType): TrustStoreTypeName {
  return lookUp(STORE_TYPES, type, v => `trust store type "${v}" is not supported: use ca, signingAuthority or tsa (TrustStoreType.${members(STORE_TYPES)})`);
}

/** The hook handler's mode; `scope` (the construct given the mode) is named in the error. */
export function modeName(mode: AdmissionMode, scope?: IConstruct): HandlerMode {
  return lookUp(MODES, mode, v => `admission mode must be ENFORCE or AUDIT, got "${v}"`, scope);
}

/** The hook handler's inconclusive action; `scope` (the construct given the action) is named in the error. */
export function inconclusiveActionName(action: InconclusiveAction, scope?: IConstruct): InconclusivePolicy {
  return lookUp(INCONCLUSIVE_ACTIONS, action, v => `inconclusive action must be REJECT or ADMIT, got "${v}"`, scope);
}
