/**
 * The handlers' per-image vocabulary and the structured "verdict" log record.
 *
 * The engine's `Verdict.status` says what verification found: `verified`, `failed`, `inconclusive` or
 * `skipped` (the policy statement's level is skip). A handler's {@link Outcome} says what it did with
 * the image, in the words of its logs, metrics, answers and notifications. {@link OUTCOME_OF_STATUS}
 * is the one mapping between the two: the engine's `failed` is the handlers' `rejected` (the `Rejected`
 * metric, the admission hook's refusal). Two outcomes have no engine status: `exempt` (an exemption
 * glob admitted the image; the engine never ran) and `unfinished` (out of time before the engine
 * answered). docs/runtime-enforcement.md lists them.
 */
import type { Verdict } from '../../verifier';

/** What happened to one image, as the handlers log, count and report it. */
export type Outcome = 'verified' | 'rejected' | 'inconclusive' | 'skipped' | 'exempt' | 'unfinished';

/** The outcome of each engine verdict status. */
export const OUTCOME_OF_STATUS: Readonly<Record<Verdict['status'], Exclude<Outcome, 'exempt' | 'unfinished'>>> = {
  verified: 'verified',
  failed: 'rejected',
  inconclusive: 'inconclusive',
  skipped: 'skipped',
};

/** Outcomes that admit the image (nothing to report). */
export function isAdmitted(outcome: Outcome): boolean {
  return outcome === 'verified' || outcome === 'exempt' || outcome === 'skipped';
}

/** One image the runtime finished with (verified, or admitted by exemption). */
export interface ImageResult {
  /** The image as given (container image string, possibly pinned with its digest). */
  readonly image: string;
  readonly outcome: Exclude<Outcome, 'unfinished'>;
  readonly verdict?: Verdict;
  /** Exemption pattern that admitted the image. */
  readonly exemption?: string;
  readonly durationMs: number;
}

/** The outcome of a verdict; a status this table does not know counts as `rejected` (fail closed). */
export function outcomeOf(v: Verdict): ImageResult['outcome'] {
  return OUTCOME_OF_STATUS[v.status] ?? 'rejected';
}

/** The first failing check of a verdict: `check` name, else the error code. */
export function failingCheck(v: Verdict): string | undefined {
  if (v.status === 'verified' || v.status === 'skipped') return undefined;
  for (const s of v.signatures) {
    const c = s.checks.find((x) => !x.passed && x.action === 'enforce');
    if (c) return c.check;
  }
  return v.error?.code;
}

/** The structured log record of one image (`outcome` in the handlers' words, `status` in the engine's). */
export function verdictRecord(r: ImageResult): Record<string, unknown> {
  const v = r.verdict;
  return {
    image: r.image,
    digest: v?.digest,
    outcome: r.outcome,
    status: v?.status ?? r.outcome,
    policyStatement: v?.policyStatement,
    verificationLevel: v?.level,
    signer: v?.signer,
    signatureDigest: v?.signatureDigest,
    failingCheck: v ? failingCheck(v) : undefined,
    errorCode: v?.error?.code,
    reasons: v && v.reasons.length > 0 ? v.reasons : undefined,
    exemption: r.exemption,
    cached: v?.cached,
    signaturesTried: v?.signatures.length,
    durationMs: r.durationMs,
  };
}
