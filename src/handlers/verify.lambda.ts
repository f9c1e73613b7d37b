/**
 * Direct invocation: `{ "images": ["host/repo@sha256:…", …] }` → one verdict per image.
 * Used when `ImageVerifierFunction` is invoked on its own (pipelines, custom admission logic).
 */
import { DEFAULT_DEADLINE_MARGIN_MS, HANDLER_NAME } from './config';
import { reportConfigurationError } from './config-error';
import { Deadline, getRuntime, ImageResult, isAdmitted, LambdaContext, mapBounded, Outcome, Runtime } from './runtime';
import { Verdict } from '../verifier';

export interface VerifyResponse {
  /** True when every image is verified, exempt or skipped by policy. */
  readonly allowed: boolean;
  readonly results: Array<{ image: string; outcome: Outcome; exemption?: string; verdict?: Verdict }>;
  readonly error?: string;
}

const MAX_IMAGES = 100;

export async function handler(event: any, context?: LambdaContext): Promise<VerifyResponse> {
  let rt: Runtime;
  try {
    rt = getRuntime(HANDLER_NAME.VERIFY);
  } catch (e) {
    // Nothing can be verified without a configuration: answer "not allowed", logged and counted
    // (ConfigurationErrors), instead of throwing an error the caller may misread or retry.
    reportConfigurationError({ handler: HANDLER_NAME.VERIFY, error: e, functionName: context?.functionName, data: { allowed: false } });
    return { allowed: false, results: [], error: `configuration error: ${(e as Error)?.message ?? String(e)}` };
  }
  const images = event?.images;
  if (!Array.isArray(images) || images.length === 0 || images.length > MAX_IMAGES || images.some((i: unknown) => typeof i !== 'string')) {
    const error = `expected { "images": [ 1 to ${MAX_IMAGES} image references ] }`;
    rt.logger.error('malformed request', { error });
    return { allowed: false, results: [], error };
  }
  return rt.withMetrics(context, async (metrics) => {
    const deadline = new Deadline(context, rt.config.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS);
    // Work still running when the function answers is aborted (no verification outlives its answer).
    const abort = new AbortController();
    let results: Array<ImageResult | undefined>;
    try {
      results = await mapBounded(images as string[], rt.concurrency,
        (image) => rt.verifyImage(image, { requestId: context?.awsRequestId }, { signal: abort.signal }), { deadline });
    } finally {
      abort.abort();
    }
    // Out of time before an image was verified: `unfinished`, counted as Inconclusive.
    const out = (images as string[]).map((image, i) => {
      const r = results[i];
      metrics.record(r ?? { outcome: 'unfinished' });
      return r ? { image, outcome: r.outcome, exemption: r.exemption, verdict: r.verdict } : { image, outcome: 'unfinished' as const };
    });
    return { allowed: out.every((r) => isAdmitted(r.outcome)), results: out };
  });
}
