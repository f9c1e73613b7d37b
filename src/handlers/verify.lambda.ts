/**
 * Direct invocation: `{ "images": ["host/repo@sha256:…", …] }` → one verdict per image.
 * Used when `ImageVerifierFunction` is invoked on its own (pipelines, custom admission logic).
 */
import { getRuntime, LambdaContext, mapBounded, Deadline } from './runtime';
import { Verdict } from '../verifier/types';

export interface VerifyResponse {
  /** True when every image is verified, exempt or skipped by policy. */
  readonly allowed: boolean;
  readonly results: Array<{ image: string; outcome: string; exemption?: string; verdict?: Verdict }>;
  readonly error?: string;
}

const MAX_IMAGES = 100;

export async function handler(event: any, context?: LambdaContext): Promise<VerifyResponse> {
  const rt = getRuntime('verify');
  const images = event?.images;
  if (!Array.isArray(images) || images.length === 0 || images.length > MAX_IMAGES || images.some((i: unknown) => typeof i !== 'string')) {
    const error = `expected { "images": [ 1 to ${MAX_IMAGES} image references ] }`;
    rt.logger.error('malformed request', { error });
    return { allowed: false, results: [], error };
  }
  return rt.withMetrics(context, async (metrics) => {
    const deadline = new Deadline(context, rt.config.deadlineMarginMs ?? 3000);
    const results = await mapBounded(images as string[], rt.concurrency,
      (image) => rt.verifyImage(image, { requestId: context?.awsRequestId }), { deadline });
    for (const r of results) if (r) metrics.record(r);
    const out = (images as string[]).map((image, i) => {
      const r = results[i];
      if (!r) return { image, outcome: 'unfinished' };
      return { image, outcome: r.outcome, exemption: r.exemption, verdict: r.verdict };
    });
    out.filter((r) => r.outcome === 'unfinished').forEach(() => metrics.inconclusive());
    return { allowed: out.every((r) => r.outcome === 'verified' || r.outcome === 'exempt' || r.outcome === 'skipped'), results: out };
  });
}
