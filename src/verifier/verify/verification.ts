/**
 * One call of {@link ImageVerifier.verifyReference} after its statement is chosen: pin the reference to a
 * digest (a tag is resolved first, by this caller alone), then ONE path for every reference: the pinned
 * digest's verification runs as the verdict cache's single flight (or alone without a cache), under one
 * deadline, raced against this caller's own signal.
 */
import { Computed, VerdictCache } from '../cache/verdict-cache';
import { VerificationInconclusiveError } from '../errors';
import { NotationPolicyStatement } from '../policy';
import { repositoryScope } from '../reference';
import { LinkedSignal, linkSignals, raceSignal } from '../registry/abort';
import { ArtifactSource } from '../registry/source';
import { ImageReference, Verdict } from '../types';
import { elapsed, errorVerdict, VerifierEnvironment } from './context';
import { ImageVerifierOptions, SourceContext, VerifyOptions } from './options';
import { ResolvedImage, verifyImage } from './pipeline';
import { FlightSignals, prefetch } from './single-flight';

/** The verifier-wide state a verification runs in. */
export interface VerifierCore {
  readonly env: VerifierEnvironment;
  readonly cache?: VerdictCache<Verdict>;
  readonly flights: FlightSignals;
  readonly verificationTimeoutMs: number;
  /** Policy and options fingerprint: part of every cache key. */
  readonly fingerprint: string;
}

/** The reference pinned to a digest; for a tag, also the manifest resolved and the source that resolved it. */
interface Pinned {
  readonly digest: string;
  readonly image?: ResolvedImage;
  readonly source?: ArtifactSource;
}

/** What the caller asked for. */
export interface VerificationRequest {
  readonly ref: ImageReference;
  readonly reference: string;
  readonly statement: NotationPolicyStatement;
  readonly started: number;
  readonly opts: VerifyOptions;
}

/** Verifies a reference whose statement is known and not `skip`. Never throws for a per-image problem. */
export async function runVerification(core: VerifierCore, request: VerificationRequest): Promise<Verdict> {
  const run = new Verification(core, request);
  try {
    return await run.execute();
  } finally {
    run.dispose();
  }
}

/**
 * Which verdicts are cached, and for how long. Inconclusive ones never are. "No signature" is never
 * cached either: ECR managed signing attaches the signature a few seconds after the push, and the
 * admission hook re-verifies while it waits for it. Other failures live `failedCacheTtlMs`.
 */
export function cacheable(options: ImageVerifierOptions, v: Verdict): Computed<Verdict> {
  const failedTtl = Math.min(options.failedCacheTtlMs ?? 30_000, options.cacheTtlMs ?? 300_000);
  if (v.status === 'failed' && v.error?.code === 'NO_SIGNATURE') return { value: v, cacheable: false };
  if (v.status === 'failed') return { value: v, cacheable: failedTtl > 0, ttlMs: failedTtl };
  return { value: v, cacheable: v.status === 'verified' };
}

class Verification {
  /** One deadline for the whole verification (resolve, discovery, every signature). */
  private readonly deadline: number;
  /**
   * This caller's own wait: it ends at the deadline or when the caller's signal aborts (an inconclusive
   * TIMEOUT verdict, never cached). Work shared with other callers runs under the flight's own signal and is
   * aborted only when EVERY caller waiting on it has given up.
   */
  private readonly own: LinkedSignal;
  /** Verdicts that say nothing about the image (the source could not be created): never cached. */
  private readonly notCacheable = new WeakSet<Verdict>();

  public constructor(private readonly core: VerifierCore, private readonly req: VerificationRequest) {
    this.deadline = Date.now() + core.verificationTimeoutMs;
    this.own = linkSignals([req.opts.signal], this.deadline);
  }

  public async execute(): Promise<Verdict> {
    const { ref } = this.req;
    const pinned = ref.digest ? { digest: ref.digest } : await this.resolveTag();
    if (!isPinned(pinned)) return pinned;
    const key = `${pinned.digest}|${this.core.fingerprint}|${repositoryScope(ref)}`;
    return this.shared(key, (ctx) => this.verifyPinned(ctx, pinned));
  }

  public dispose(): void {
    this.own.dispose();
  }

  /** Resolves a tag to a digest (this caller's own work, never shared); the digest names the cache key. */
  private async resolveTag(): Promise<Pinned | Verdict> {
    const source = this.newSource({ signal: this.own.signal, deadline: this.deadline });
    if (!isSource(source)) return source;
    try {
      const image = await raceSignal(source.resolve(this.req.ref), this.own.signal, () => undefined);
      if (!image) return this.timedOut();
      return { digest: image.descriptor.digest, image, source };
    } catch (e) {
      return this.failedVerdict(e);
    }
  }

  /** The shared work: resolve the digest when not already resolved, then verify the image. */
  private async verifyPinned(ctx: SourceContext, pinned: Pinned): Promise<Verdict> {
    // Shared work gets a source of its own, bound to the flight's signal; alone (no cache), the source that
    // resolved the tag serves on.
    const source = pinned.source && !this.core.cache ? pinned.source : this.newSource(ctx);
    if (!isSource(source)) return source;
    let image = pinned.image;
    let discovery;
    if (!image) {
      // Signature discovery starts while the manifest is being fetched (it needs only the digest).
      discovery = prefetch(source.listSignatures({ mediaType: '', digest: pinned.digest, size: 0 }));
      try {
        image = await source.resolve(this.req.ref);
      } catch (e) {
        return this.failedVerdict(e);
      }
    }
    const { reference, statement, started } = this.req;
    return verifyImage({ env: this.core.env, reference, statement, source, started, signal: ctx.signal }, image, discovery);
  }

  /** Runs `work` as the single flight of `key` (or alone without a cache), raced against this caller's signal. */
  private async shared(key: string, work: (ctx: SourceContext) => Promise<Verdict>): Promise<Verdict> {
    const { cache, flights } = this.core;
    const computed = async (ctx: SourceContext): Promise<Computed<Verdict>> => {
      const v = await work(ctx);
      // an aborted computation's verdict is never cached, whatever it says
      return ctx.signal.aborted || this.notCacheable.has(v) ? { value: v, cacheable: false } : cacheable(this.core.env.options, v);
    };
    const own = this.own.signal;
    if (!cache) return raceSignal(computed({ signal: own, deadline: this.deadline }).then((r) => r.value), own, () => this.timedOut());
    const { reference, started } = this.req;
    // A computation abandoned by all its earlier callers may still be finishing: join once more then.
    for (let round = 0; ; round++) {
      const flight = flights.join(key);
      try {
        const lookup = await raceSignal(
          cache.getOrCompute(key, () => computed({ signal: flight.signal, deadline: flight.deadline })), own, () => undefined);
        if (!lookup) return this.timedOut();
        const { value, fromCache, joined } = lookup;
        if (fromCache) return { ...value, reference, cached: true, durationMs: elapsed(started) };
        if (round === 0 && joined && value.error?.code === 'TIMEOUT' && !own.aborted) continue;
        return { ...value, reference };
      } finally {
        flight.leave();
      }
    }
  }

  /** Creates the source; a failure is a verdict that says nothing about the image (never cached). */
  private newSource(ctx: SourceContext): ArtifactSource | Verdict {
    try {
      return this.core.env.options.sourceFor(this.req.ref, ctx);
    } catch (e) {
      const v = this.failedVerdict(e);
      this.notCacheable.add(v);
      return v;
    }
  }

  private get base() {
    return { policyStatement: this.req.statement.name, level: this.req.statement.signatureVerification.level };
  }

  private failedVerdict(e: unknown): Verdict {
    const { reference, started } = this.req;
    return { ...errorVerdict(reference, this.core.env.toError(e, reference), started), ...this.base };
  }

  private timedOut(): Verdict {
    const { reference, started } = this.req;
    const message = this.own.reason() === 'deadline'
      ? `verification of ${reference} did not finish within ${this.core.verificationTimeoutMs} ms (verificationTimeoutMs)`
      : `verification of ${reference} was aborted by the caller`;
    return { ...errorVerdict(reference, new VerificationInconclusiveError('TIMEOUT', message), started), ...this.base };
  }
}

function isSource(s: ArtifactSource | Verdict): s is ArtifactSource {
  return typeof (s as ArtifactSource).resolve === 'function';
}

function isPinned(p: Pinned | Verdict): p is Pinned {
  return typeof (p as Pinned).digest === 'string' && !('status' in p);
}
