/**
 * Verification levels: a statement's level with its overrides as the action of every check
 * (notation-go `SignatureVerification.GetVerificationLevel`).
 */
import { goQuote, goQuoteList } from '../text/go-quote';
import { CheckAction, CheckName, VerificationLevelName } from '../types';
import { CHECK_ACTIONS, CHECK_NAMES, invalid, NotationPolicyStatement, SignatureVerificationSettings, VERIFICATION_LEVELS } from './model';

export interface ResolvedLevel {
  readonly name: VerificationLevelName | 'custom';
  readonly actions: Record<CheckName, CheckAction>;
}

/** notation-go `SignatureVerification.GetVerificationLevel`; returns an error message on failure. */
export function resolveLevel(sv: { level: string; override?: Record<string, string> }): ResolvedLevel | string {
  if (sv.level === '') {
    return 'signature verification level is empty or missing in the trust policy statement';
  }
  if (!Object.prototype.hasOwnProperty.call(VERIFICATION_LEVELS, sv.level)) {
    return `invalid signature verification level ${goQuote(sv.level)}`;
  }
  const base = sv.level as VerificationLevelName;
  const actions: Record<CheckName, CheckAction> = { ...VERIFICATION_LEVELS[base] };
  const overrides = sv.override ? Object.keys(sv.override) : [];
  if (overrides.length === 0) return { name: base, actions };
  if (base === 'skip') {
    return `signature verification level ${goQuote(base)} can't be used to customize signature verification`;
  }
  for (const key of overrides) {
    const value = sv.override![key];
    if (!(CHECK_NAMES as readonly string[]).includes(key)) {
      return `verification type ${goQuote(key)} in custom signature verification is not supported, supported values are ${goQuoteList(CHECK_NAMES)}`;
    }
    if (!(CHECK_ACTIONS as readonly string[]).includes(value)) {
      return `verification action ${goQuote(value)} in custom signature verification is not supported, supported values are ${goQuoteList(CHECK_ACTIONS)}`;
    }
    if (key === 'integrity') {
      return `${goQuote(key)} verification can not be overridden in custom signature verification`;
    }
    if (key !== 'revocation' && value === 'skip') {
      return `${goQuote(key)} verification can not be skipped in custom signature verification`;
    }
    actions[key as CheckName] = value as CheckAction;
  }
  return { name: 'custom', actions };
}

/**
 * The action of every check for a statement: the level's table with the statement's overrides applied
 * (notation-go `GetVerificationLevel`).
 * @throws ConfigurationError `INVALID_TRUST_POLICY` if the level/overrides are invalid
 */
export function checkActions(statement: NotationPolicyStatement): Record<CheckName, CheckAction> {
  const sv = statement.signatureVerification ?? ({} as SignatureVerificationSettings);
  const level = resolveLevel({
    level: typeof sv.level === 'string' ? sv.level : '',
    override: sv.override as Record<string, string> | undefined,
  });
  if (typeof level === 'string') {
    throw invalid(`trust policy statement ${goQuote(statement.name)} has invalid signatureVerification: ${level}`);
  }
  return level.actions;
}
