/**
 * Trust store references of a trust policy statement: `<ca|signingAuthority|tsa>:<name>`.
 */
import { goQuote } from '../text/go-quote';
import { TRUST_STORE_NAME_PATTERN, TRUST_STORE_TYPES, TrustStoreTypeName } from '../types';
import { cut, invalid, NotationPolicyStatement, TrustStoreRef } from './model';

/**
 * Parses a trust store reference `<ca|signingAuthority|tsa>:<name>`.
 * @throws ConfigurationError `INVALID_TRUST_POLICY`
 */
export function parseTrustStoreRef(ref: string): TrustStoreRef {
  const [type, name, found] = cut(String(ref), ':');
  if (!found) {
    throw invalid(`malformed trust store value ${goQuote(ref)}. The required format is <TrustStoreType>:<TrustStoreName>`);
  }
  if (!(TRUST_STORE_TYPES as readonly string[]).includes(type)) {
    throw invalid(`unsupported trust store type ${goQuote(type)} in trust store value ${goQuote(ref)}`);
  }
  if (!TRUST_STORE_NAME_PATTERN.test(name)) {
    throw invalid(`unsupported trust store name ${goQuote(name)} in trust store value ${goQuote(ref)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format`);
  }
  return { type: type as TrustStoreTypeName, name };
}

/**
 * The names of a (validated) statement's trust stores of one type, in the statement's order: e.g. the `tsa`
 * stores of `["ca:acme", "tsa:digicert"]` are `["digicert"]`.
 */
export function trustStoreNames(statement: NotationPolicyStatement, type: TrustStoreTypeName): string[] {
  const out: string[] = [];
  for (const ref of statement.trustStores ?? []) {
    const [t, name] = cut(ref, ':');
    if (t === type) out.push(name);
  }
  return out;
}
