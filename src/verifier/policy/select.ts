/**
 * Which statement of a trust policy applies to an artifact (notation-go `getApplicableTrustPolicy`,
 * comparing scopes in canonical form).
 */
import { VerificationFailedError } from '../errors';
import { canonicalScope } from '../reference';
import { NotationPolicyStatement, NotationTrustPolicy, TRUST_POLICY_LINK, WILDCARD } from './model';
import { goQuote } from '../text/go-quote';

const canonicalScopes = new WeakMap<NotationPolicyStatement, string[]>();

/** A statement's registry scopes in canonical form (computed once per parsed statement). */
function canonicalScopesOf(st: NotationPolicyStatement): string[] {
  let c = canonicalScopes.get(st);
  if (!c) {
    c = st.registryScopes.map(canonicalScope);
    canonicalScopes.set(st, c);
  }
  return c;
}

/**
 * Selects the statement applying to `scope` (`registry/repository`), both sides compared in their
 * canonical form (`canonicalScope`: host lower-cased, trailing dot and HTTPS default port removed,
 * IP literals normalised, an ECR registry's FIPS / dual-stack names mapped to its standard name).
 * An exact registry scope beats
 * `*`. `reference` (the full artifact reference, `registry/repo@digest`) is only used in the error.
 * @throws VerificationFailedError `NO_APPLICABLE_TRUST_POLICY`
 */
export function selectStatement(doc: NotationTrustPolicy, scope: string, reference?: string): NotationPolicyStatement {
  let wildcard: NotationPolicyStatement | undefined;
  let exact: NotationPolicyStatement | undefined;
  const wanted = canonicalScope(scope);
  for (const st of doc.trustPolicies) {
    if (st.registryScopes.includes(WILDCARD)) wildcard = st;
    else if (canonicalScopesOf(st).includes(wanted)) exact = st;
  }
  const found = exact ?? wildcard;
  if (!found) {
    throw new VerificationFailedError(
      'NO_APPLICABLE_TRUST_POLICY',
      `artifact ${goQuote(reference ?? scope)} has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: ${TRUST_POLICY_LINK}`,
    );
  }
  return found;
}
