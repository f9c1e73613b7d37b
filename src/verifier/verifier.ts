/**
 * The verification pipeline: reference -> policy statement -> resolve -> discover signatures ->
 * per signature (integrity, authenticity + trusted identity, expiry, authentic timestamp,
 * revocation, target match) -> verdict. Mirrors notation-go's order (notary-verification.md §1).
 *
 * Each step is a small private method that throws typed errors; `verify()` never throws for a
 * per-image problem: it returns a {@link Verdict} whose `status` is verified / failed /
 * inconclusive / skipped.
 */
import { Computed, VerdictCache } from './cache/verdict-cache';
import { verifyEnvelopeIntegrity, KNOWN_CRITICAL_ATTRIBUTES } from './envelope';
import {
  ConfigurationError,
  VerificationFailedError,
  VerificationInconclusiveError,
  VerifierError,
  errorLogFields,
  isUnexpectedError,
  toVerifierError,
} from './errors';
import { checkActions, NotationPolicyStatement, NotationTrustPolicy, parseTrustPolicy, policyFingerprint, selectStatement } from './policy';
import { formatReference, parseReference, repositoryScope } from './reference';
import { LinkedSignal, linkSignals, raceSignal } from './registry/abort';
import { ArtifactSource, parseIndexManifests } from './registry/source';
import { rfc1123z } from './text/go-time';
import { AWS_SIGNER_PLUGIN_ID, AWS_SIGNER_PLUGIN_VERSION, AWS_SIGNER_ROOTS_DER, chainEndsInAwsSignerRoot, checkSignerRevocation, matchSignerIdentity, SIGNER_PROFILE_VERSION_ATTRIBUTE, SignerRevocationClient, validateSignerEnvelope } from './signer';
import {
  CheckAction,
  CheckName,
  CheckResult,
  Descriptor,
  ImageReference,
  MEDIA_TYPE,
  SignatureOutcome,
  Verdict,
  VerdictStatus,
  VerifiedEnvelope,
} from './types';
import { parseCertificate } from './x509/certificate';
import { checkValidityAt } from './x509/chain';
import { isDnSubset, parseDistinguishedName } from './x509/dn';
import { checkRevocation, RevocationOptions } from './x509/revocation';
import { verifyAuthenticTimestamp } from './x509/timestamp';
import { TrustStoreProvider } from './x509/truststore';

export interface Logger {
  warn(message: string, data?: Record<string, unknown>): void;
  info?(message: string, data?: Record<string, unknown>): void;
}

export interface ImageVerifierOptions {
  /** The notation trust policy document (object or JSON text); validated on construction. */
  readonly trustPolicy: unknown;
  /** Where the trust policy's `type:name` stores are read from. */
  readonly trustStores: TrustStoreProvider;
  /**
   * Creates the source (remote registry, OCI layout) for an image reference. `ctx.signal` aborts when the
   * verification is aborted or reaches its deadline: pass it on (RemoteRepository's `signal` option) so that
   * in-flight requests stop. Sources created without it still end, by their own timeouts.
   */
  readonly sourceFor: (ref: ImageReference, ctx: SourceContext) => ArtifactSource;
  /**
   * Overall deadline of one verification: resolving, signature discovery and every signature fetch and check
   * together (per-request and per-operation limits of the source still apply inside it). When it passes, the
   * verification's registry requests are aborted and the verdict is inconclusive `TIMEOUT` (never cached).
   * @default 60000
   */
  readonly verificationTimeoutMs?: number;
  /** AWS Signer revocation client; without one, Signer revocation fails (inconclusive). */
  readonly signerClient?: SignerRevocationClient;
  /**
   * DER root certificates that make a chain an AWS Signer chain. A trusted identity that is an AWS
   * Signer signing-profile (or profile-version) ARN matches only a chain that ends in one of these,
   * whatever the statement's trust stores hold (stricter than notation). For tests and partition
   * overrides only: production code leaves it unset.
   * @default the bundled AWS Signer roots (commercial and GovCloud (US))
   */
  readonly awsSignerRoots?: readonly Uint8Array[];
  /**
   * Time limit of one AWS API call (GetRevocationStatus, retries included). The AWS SDK sets no
   * request timeout of its own, so a hanging endpoint would otherwise hold a verification until the
   * Lambda's deadline. Exceeding it is a failed (inconclusive) revocation check. @default 5000
   */
  readonly awsApiTimeoutMs?: number;
  /**
   * OCSP/CRL revocation checking of plain X.509 chains (notation's behaviour: http only, OCSP 2 s,
   * CRL 5 s). Chains without OCSP/CRL endpoints are "non-revokable" and pass without network calls.
   * @default - notation's timeouts over Node's http client
   */
  readonly x509Revocation?: Pick<RevocationOptions, 'fetch' | 'timeouts'>;
  /** Maximum signatures tried per image. @default 100 */
  readonly maxSignatures?: number;
  /** Also require every platform manifest of an image index to be signed. @default false */
  readonly requirePlatformSignatures?: boolean;
  /** Verdict cache TTL in milliseconds; 0 disables the cache. @default 300000 */
  readonly cacheTtlMs?: number;
  /**
   * TTL of cached *failed* verdicts, capped by `cacheTtlMs`. Shorter because a failure can be cured
   * by a signature added later. A `NO_SIGNATURE` verdict is never cached: ECR managed signing signs
   * asynchronously after the push, so a deployment right after a push may see "no signature" for a
   * few seconds. @default 30000
   */
  readonly failedCacheTtlMs?: number;
  /** Maximum cached verdicts. @default 10000 */
  readonly cacheMaxEntries?: number;
  /** User metadata that must be present in the payload annotations (`notation verify --user-metadata`). */
  readonly userMetadata?: Record<string, string>;
  /** Clock. @default Date.now */
  readonly now?: () => Date;
  readonly logger?: Logger;
}

/** What a source learns about the verification it serves. */
export interface SourceContext {
  /** Aborts when the verification is aborted (every caller waiting on it gave up) or reaches its deadline. */
  readonly signal: AbortSignal;
  /** The verification's deadline (epoch ms). */
  readonly deadline: number;
}

/** Per-call options of {@link ImageVerifier.verify}. */
export interface VerifyOptions {
  /** Aborts the verification (e.g. when the handler has answered); in-flight registry requests stop. */
  readonly signal?: AbortSignal;
}

interface Flight {
  readonly linked: LinkedSignal;
  readonly deadline: number;
  waiters: number;
}

interface SignatureContext {
  readonly statement: NotationPolicyStatement;
  readonly actions: Record<CheckName, CheckAction>;
  readonly target: Descriptor;
}

const NOOP_LOGGER: Logger = { warn: () => undefined };

export class ImageVerifier {
  public readonly policy: NotationTrustPolicy;
  public readonly fingerprint: string;
  private readonly cache?: VerdictCache<Verdict>;
  private readonly maxSignatures: number;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly verificationTimeoutMs: number;
  /** Abort state of the shared (single-flight) computations in progress, by cache key. */
  private readonly flights = new Map<string, Flight>();

  public constructor(private readonly options: ImageVerifierOptions) {
    this.policy = parseTrustPolicy(options.trustPolicy);
    const maxSignatures = options.maxSignatures ?? 100;
    if (!Number.isInteger(maxSignatures) || maxSignatures < 1) {
      throw new ConfigurationError('INVALID_OPTIONS', `maxSignatures must be a positive integer, got ${maxSignatures}`);
    }
    this.maxSignatures = maxSignatures;
    this.fingerprint = policyFingerprint(this.policy) + (options.requirePlatformSignatures ? '+platforms' : '')
      + (options.userMetadata ? '+md:' + JSON.stringify(Object.entries(options.userMetadata).sort()) : '');
    this.now = options.now ?? (() => new Date());
    const ttl = options.cacheTtlMs ?? 300_000;
    if (ttl > 0) {
      this.cache = new VerdictCache<Verdict>({ ttlMs: ttl, maxEntries: options.cacheMaxEntries ?? 10_000, now: () => this.now().getTime() });
    }
    this.logger = options.logger ?? NOOP_LOGGER;
    const timeout = options.verificationTimeoutMs ?? 60_000;
    if (!(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
      throw new ConfigurationError('INVALID_OPTIONS', `verificationTimeoutMs must be a positive number, got ${timeout}`);
    }
    this.verificationTimeoutMs = timeout;
  }

  public get cacheStats() {
    return this.cache?.stats;
  }

  /**
   * Classifies anything caught: VerifierErrors pass through; anything else is a bug (or input that
   * tripped one) and becomes a failed `INTERNAL` error, logged here with its stack.
   */
  private toError(e: unknown, subject: string): VerifierError {
    const err = toVerifierError(e);
    if (isUnexpectedError(e)) {
      this.logger.warn('internal error in the verification engine: the result is failed (INTERNAL), never inconclusive', { subject, error: errorLogFields(e) });
    }
    return err;
  }

  /**
   * Verifies one image. Never throws for per-image problems; returns a typed verdict.
   * `opts.signal` aborts the verification's in-flight work (the verdict is then inconclusive).
   */
  public async verify(reference: string, opts: VerifyOptions = {}): Promise<Verdict> {
    const started = performance.now();
    let ref: ImageReference;
    try {
      ref = parseReference(reference);
    } catch (e) {
      return errorVerdict(reference, this.toError(e, reference), started);
    }
    try {
      return await this.verifyReference(ref, reference, started, opts);
    } catch (e) {
      // Nothing should get here; if something does, it is a bug: failed INTERNAL, never a throw or inconclusive.
      return errorVerdict(reference, this.toError(e, reference), started);
    }
  }

  /**
   * Verifies an already-parsed reference. `ref.registry/ref.repository` is the trust-policy scope;
   * for OCI layouts the caller supplies the scope (like `notation verify --oci-layout --scope`).
   */
  public async verifyReference(
    ref: ImageReference, reference: string = formatReference(ref), started = performance.now(), opts: VerifyOptions = {},
  ): Promise<Verdict> {
    let statement: NotationPolicyStatement;
    try {
      statement = selectStatement(this.policy, repositoryScope(ref));
    } catch (e) {
      return errorVerdict(reference, this.toError(e, reference), started);
    }
    const level = statement.signatureVerification.level;
    if (level === 'skip') {
      return { reference, digest: ref.digest, status: 'skipped', verified: true, policyStatement: statement.name, level, signatures: [], reasons: [], durationMs: elapsed(started) };
    }
    if (!ref.digest) {
      this.logger.warn('reference uses a tag; it is resolved to a digest now and the digest is verified', { reference });
    }
    const base = { policyStatement: statement.name, level };
    // One deadline for the whole verification. This caller's own wait ends at its deadline or when its signal
    // aborts (an inconclusive TIMEOUT verdict, never cached). Work shared with other callers through the verdict
    // cache's single flight runs under the flight's own deadline and is aborted only when EVERY caller waiting
    // on it has given up, so one caller's signal never aborts a verification another caller still waits for.
    const deadline = Date.now() + this.verificationTimeoutMs;
    const own = linkSignals([opts.signal], deadline);
    const timedOut = (): Verdict => {
      const message = own.reason() === 'deadline'
        ? `verification of ${reference} did not finish within ${this.verificationTimeoutMs} ms (verificationTimeoutMs)`
        : `verification of ${reference} was aborted by the caller`;
      return { ...errorVerdict(reference, new VerificationInconclusiveError('TIMEOUT', message), started), ...base };
    };
    /** Resolves the manifest and verifies it; `discovery` is a signature listing already under way. */
    const resolveAndVerify = async (source: ArtifactSource, signal: AbortSignal, discovery?: AsyncIterable<Descriptor>): Promise<Verdict> => {
      let resolved: { descriptor: Descriptor; bytes: Uint8Array };
      try {
        resolved = await source.resolve(ref);
      } catch (e) {
        return { ...errorVerdict(reference, this.toError(e, reference), started), ...base };
      }
      return this.verifyResolved(reference, source, resolved.descriptor, resolved.bytes, statement, started, discovery, signal);
    };
    /** Verdicts that say nothing about the image (the source could not be created): never cached. */
    const notCacheable = new WeakSet<Verdict>();
    const newSource = (ctx: SourceContext): ArtifactSource | Verdict => {
      try {
        return this.options.sourceFor(ref, ctx);
      } catch (e) {
        const v = { ...errorVerdict(reference, this.toError(e, reference), started), ...base };
        notCacheable.add(v);
        return v;
      }
    };
    /** Runs `work` as the single flight of `key` (or alone without a cache), raced against this caller's signal. */
    const shared = async (key: string, work: (ctx: SourceContext) => Promise<Verdict>): Promise<Verdict> => {
      const computed = async (ctx: SourceContext): Promise<Computed<Verdict>> => {
        const v = await work(ctx);
        // an aborted computation's verdict is never cached, whatever it says
        return ctx.signal.aborted || notCacheable.has(v) ? { value: v, cacheable: false } : this.cacheable(v);
      };
      if (!this.cache) return raceSignal(computed({ signal: own.signal, deadline }).then((r) => r.value), own.signal, timedOut);
      // A computation abandoned by all its earlier callers may still be finishing: join once more then.
      for (let round = 0; ; round++) {
        const flight = this.joinFlight(key);
        try {
          const lookup = await raceSignal(
            this.cache.getOrCompute(key, () => computed({ signal: flight.signal, deadline: flight.deadline })), own.signal, () => undefined);
          if (!lookup) return timedOut();
          const { value, fromCache, joined } = lookup;
          if (fromCache) return { ...value, reference, cached: true, durationMs: elapsed(started) };
          if (round === 0 && joined && value.error?.code === 'TIMEOUT' && !own.signal.aborted) continue;
          return { ...value, reference };
        } finally {
          flight.leave();
        }
      }
    };

    try {
      if (ref.digest) {
        // The digest is known: the whole resolve + verification is one single-flight computation, and
        // signature discovery starts while the manifest is being fetched (it needs only the digest).
        const digest = ref.digest;
        return await shared(this.cacheKey(digest, ref), async (ctx) => {
          const source = newSource(ctx);
          if (!isSource(source)) return source;
          return resolveAndVerify(source, ctx.signal, prefetch(source.listSignatures({ mediaType: '', digest, size: 0 })));
        });
      }

      // A tag: resolve first (this caller's own work); the digest it names is the cache key.
      const source = newSource({ signal: own.signal, deadline });
      if (!isSource(source)) return source;
      let target: Descriptor;
      let manifest: Uint8Array;
      try {
        const resolved = await raceSignal(source.resolve(ref), own.signal, () => undefined);
        if (!resolved) return timedOut();
        target = resolved.descriptor;
        manifest = resolved.bytes;
      } catch (e) {
        return { ...errorVerdict(reference, this.toError(e, reference), started), ...base };
      }
      return await shared(this.cacheKey(target.digest, ref), async (ctx) => {
        // shared work gets a source of its own, bound to the shared flight's signal
        const flightSource = this.cache ? newSource(ctx) : source;
        if (!isSource(flightSource)) return flightSource;
        return this.verifyResolved(reference, flightSource, target, manifest, statement, started, undefined, ctx.signal);
      });
    } finally {
      own.dispose();
    }
  }

  /**
   * Joins (or starts) the abort state of the single flight of `key`: its signal fires at the flight's deadline,
   * or when the last caller waiting on it leaves while it still runs (it is then abandoned).
   */
  private joinFlight(key: string): { signal: AbortSignal; deadline: number; leave: () => void } {
    let f = this.flights.get(key);
    if (!f) {
      const deadline = Date.now() + this.verificationTimeoutMs;
      f = { linked: linkSignals([], deadline), deadline, waiters: 0 };
      this.flights.set(key, f);
    }
    const flight = f;
    flight.waiters++;
    let left = false;
    return {
      signal: flight.linked.signal,
      deadline: flight.deadline,
      leave: () => {
        if (left) return;
        left = true;
        flight.waiters--;
        if (flight.waiters > 0) return;
        if (this.flights.get(key) === flight) this.flights.delete(key);
        // Nobody waits any more: stop whatever is still in flight (requests of an abandoned verification,
        // or a prefetched listing nobody consumed). Harmless when the work has finished.
        flight.linked.abort();
      },
    };
  }

  /**
   * Which verdicts are cached, and for how long. Inconclusive ones never are. "No signature" is never
   * cached either: ECR managed signing attaches the signature a few seconds after the push, and the
   * admission hook re-verifies while it waits for it. Other failures live `failedCacheTtlMs`.
   */
  private cacheable(v: Verdict): Computed<Verdict> {
    const failedTtl = Math.min(this.options.failedCacheTtlMs ?? 30_000, this.options.cacheTtlMs ?? 300_000);
    if (v.status === 'failed' && v.error?.code === 'NO_SIGNATURE') return { value: v, cacheable: false };
    if (v.status === 'failed') return { value: v, cacheable: failedTtl > 0, ttlMs: failedTtl };
    return { value: v, cacheable: v.status === 'verified' };
  }

  private cacheKey(digest: string, ref: ImageReference): string {
    return `${digest}|${this.fingerprint}|${repositoryScope(ref)}`;
  }

  private async verifyResolved(
    reference: string, source: ArtifactSource, target: Descriptor, manifest: Uint8Array,
    statement: NotationPolicyStatement, started: number, discovery?: AsyncIterable<Descriptor>, signal?: AbortSignal,
  ): Promise<Verdict> {
    const level = statement.signatureVerification.level;
    const ctx: SignatureContext = { statement, actions: checkActions(statement), target };
    const base = { reference, digest: target.digest, mediaType: target.mediaType, policyStatement: statement.name, level };
    const signatures: SignatureOutcome[] = [];
    let inconclusive: VerifierError | undefined;
    let winner: SignatureOutcome | undefined;
    try {
      let tried = 0;
      for await (const sigDesc of discovery ?? source.listSignatures(target)) {
        if (tried >= this.maxSignatures) {
          this.logger.warn(`stopped after ${this.maxSignatures} signatures (maxSignatures)`, { reference });
          break;
        }
        if (signal?.aborted) {
          // deadline or abandoned: not every signature was tried, so no definitive answer
          inconclusive = new VerificationInconclusiveError('TIMEOUT', `verification of ${reference} stopped before every signature was tried`);
          break;
        }
        tried++;
        const outcome = await this.verifySignature(source, sigDesc, ctx);
        signatures.push(outcome);
        if (outcome.verified) {
          winner = outcome;
          break;
        }
        if (outcome.error?.kind === 'inconclusive' && !inconclusive) {
          inconclusive = new VerificationInconclusiveError(outcome.error.code as any, outcome.error.message);
        }
      }
    } catch (e) {
      const err = this.toError(e, reference);
      if (err.kind !== 'failed') inconclusive = inconclusive ?? err;
      else return { ...base, status: 'failed', verified: false, signatures, reasons: [err.message], error: err.toJSON(), durationMs: elapsed(started) };
    }

    let platforms: Verdict[] | undefined;
    if (winner && this.options.requirePlatformSignatures && isIndex(target.mediaType)) {
      platforms = await this.verifyPlatforms(reference, source, manifest, statement, started);
    }

    if (winner) {
      const failedPlatforms = (platforms ?? []).filter((p) => !p.verified);
      if (failedPlatforms.length > 0) {
        const status: VerdictStatus = failedPlatforms.some((p) => p.status === 'inconclusive') ? 'inconclusive' : 'failed';
        return {
          ...base,
          status,
          verified: false,
          signer: winner.signer,
          signatureDigest: winner.signatureDigest,
          signatures,
          platforms,
          reasons: failedPlatforms.map((p) => `platform manifest ${p.digest}: ${p.reasons.join('; ')}`),
          durationMs: elapsed(started),
        };
      }
      return { ...base, status: 'verified', verified: true, signer: winner.signer, signatureDigest: winner.signatureDigest, signatures, platforms, reasons: [], durationMs: elapsed(started) };
    }
    if (inconclusive) {
      return { ...base, status: 'inconclusive', verified: false, signatures, reasons: reasonsOf(signatures, inconclusive), error: inconclusive.toJSON(), durationMs: elapsed(started) };
    }
    if (signatures.length === 0) {
      const err = new VerificationFailedError('NO_SIGNATURE', `no signature is associated with "${reference}", make sure the artifact was signed successfully`);
      return { ...base, status: 'failed', verified: false, signatures, reasons: [err.message], error: err.toJSON(), durationMs: elapsed(started) };
    }
    const first = signatures.find((s) => s.error)?.error;
    return { ...base, status: 'failed', verified: false, signatures, reasons: reasonsOf(signatures), error: first, durationMs: elapsed(started) };
  }

  private async verifyPlatforms(
    reference: string, source: ArtifactSource, indexBytes: Uint8Array, statement: NotationPolicyStatement, started: number,
  ): Promise<Verdict[]> {
    let manifests: Descriptor[];
    try {
      // Strict parse with descriptor validation: a malformed index or one with duplicate / case-variant
      // keys is a failed platform check, never "no platforms to check".
      manifests = parseIndexManifests(indexBytes, 'image index').manifests;
    } catch (e) {
      return [errorVerdict(reference, toVerifierError(e), started)];
    }
    const out: Verdict[] = [];
    for (const m of manifests) {
      const ref = `${reference.split('@')[0]}@${m.digest}`;
      try {
        const bytes = await source.fetchManifest(m);
        out.push(await this.verifyResolved(ref, source, { mediaType: m.mediaType, digest: m.digest, size: m.size }, bytes, statement, started));
      } catch (e) {
        out.push(errorVerdict(ref, this.toError(e, ref), started));
      }
    }
    return out;
  }

  /** Runs every check on one signature; returns its outcome (never throws). */
  private async verifySignature(source: ArtifactSource, sigDesc: Descriptor, ctx: SignatureContext): Promise<SignatureOutcome> {
    const checks: CheckResult[] = [];
    let envelope: VerifiedEnvelope | undefined;
    let mediaType: string | undefined;
    try {
      const artifact = await source.fetchSignature(sigDesc);
      mediaType = artifact.envelopeMediaType;
      envelope = verifyEnvelopeIntegrity(artifact.envelopeMediaType, artifact.envelope);
      this.checkPlugin(envelope);
      this.checkCriticalAttributes(envelope);
      checks.push({ check: 'integrity', action: 'enforce', passed: true });
    } catch (e) {
      const err = this.toError(e, sigDesc.digest);
      if (err.kind === 'failed') checks.push({ check: 'integrity', action: 'enforce', passed: false, reason: err.message, code: err.code });
      return { signatureDigest: sigDesc.digest, envelopeMediaType: mediaType, verified: false, checks, error: err.toJSON() };
    }

    const isSigner = envelope.verificationPlugin === AWS_SIGNER_PLUGIN_ID;
    const signer = isSigner ? attr(envelope, SIGNER_PROFILE_VERSION_ATTRIBUTE) : leafSubject(envelope);
    const outcomeBase = {
      signatureDigest: sigDesc.digest,
      envelopeMediaType: mediaType,
      signer,
      signingScheme: envelope.signingScheme,
      signingTime: (envelope.authenticSigningTime ?? envelope.signingTime)?.toISOString(),
    };
    const steps: Array<[CheckName, () => Promise<void> | void]> = [
      ['authenticity', () => this.checkAuthenticity(envelope!, ctx, isSigner)],
      ['expiry', () => this.checkExpiry(envelope!)],
      ['authenticTimestamp', () => this.checkTimestamp(envelope!, ctx)],
      ['revocation', () => this.checkRevocation(envelope!, isSigner)],
    ];
    for (const [check, run] of steps) {
      const action = ctx.actions[check];
      if (action === 'skip') continue;
      try {
        await run();
        checks.push({ check, action, passed: true });
      } catch (e) {
        const err = this.toError(e, sigDesc.digest);
        if (err.kind === 'configuration' && ctx.statement.signatureVerification.level !== 'audit') {
          checks.push({ check, action, passed: false, reason: err.message, code: err.code });
          return { ...outcomeBase, verified: false, checks, error: err.toJSON() };
        }
        checks.push({ check, action, passed: false, reason: err.message, code: err.code });
        if (action === 'enforce') return { ...outcomeBase, verified: false, checks, error: err.toJSON() };
        this.logger.warn(`${check} check failed (logged only): ${err.message}`, { signature: sigDesc.digest });
      }
    }
    try {
      this.checkTarget(envelope, ctx.target);
    } catch (e) {
      const err = this.toError(e, sigDesc.digest);
      checks.push({ check: 'integrity', action: 'enforce', passed: false, reason: err.message, code: err.code });
      return { ...outcomeBase, verified: false, checks, error: err.toJSON() };
    }
    return { ...outcomeBase, verified: true, checks };
  }

  /** Critical extended attributes the engine does not process are rejected (spec MUST; stricter than notation-go). */
  private checkCriticalAttributes(env: VerifiedEnvelope): void {
    const isSigner = env.verificationPlugin === AWS_SIGNER_PLUGIN_ID;
    for (const a of env.extendedAttributes) {
      if (a.critical && !(isSigner && KNOWN_CRITICAL_ATTRIBUTES.includes(a.key))) {
        throw new VerificationFailedError('INVALID_ENVELOPE', `signature has an unknown critical attribute "${a.key}" that this verifier does not process`);
      }
    }
  }

  /** Only the AWS Signer plugin is implemented in-process; any other plugin cannot be located. */
  private checkPlugin(env: VerifiedEnvelope): void {
    if (env.verificationPlugin === undefined) return;
    if (env.verificationPlugin !== AWS_SIGNER_PLUGIN_ID) {
      throw new VerificationFailedError('PLUGIN_UNSUPPORTED', `error while locating the verification plugin "${env.verificationPlugin}", make sure the plugin is installed successfully before verifying the signature. error: plugin not found`);
    }
    const min = env.verificationPluginMinVersion;
    if (min !== undefined && compareSemver(AWS_SIGNER_PLUGIN_VERSION, min) < 0) {
      throw new VerificationFailedError('PLUGIN_UNSUPPORTED', `found plugin ${env.verificationPlugin} with version ${AWS_SIGNER_PLUGIN_VERSION} but signature verification needs plugin version greater than or equal to ${min}`);
    }
    validateSignerEnvelope(env);
  }

  private async checkAuthenticity(env: VerifiedEnvelope, ctx: SignatureContext, isSigner: boolean): Promise<void> {
    const wantedType = env.signingScheme === 'notary.x509' ? 'ca' : 'signingAuthority';
    const stores = (ctx.statement.trustStores ?? [])
      .map((s) => { const i = s.indexOf(':'); return { type: s.slice(0, i), name: s.slice(i + 1) }; })
      .filter((s) => s.type === wantedType);
    const trusted = new Set<string>();
    for (const s of stores) {
      for (const c of await this.options.trustStores.getCertificates(s.type as any, s.name)) trusted.add(Buffer.from(c.raw).toString('hex'));
    }
    if (!env.certificateChain.some((c) => trusted.has(Buffer.from(c).toString('hex')))) {
      throw new VerificationFailedError('UNTRUSTED_CERTIFICATE', "the signature's certificate chain does not contain any trusted certificate");
    }
    const identities = ctx.statement.trustedIdentities ?? [];
    if (isSigner) {
      const arn = attr(env, SIGNER_PROFILE_VERSION_ATTRIBUTE) ?? '';
      if (!matchSignerIdentity(arn, identities)) {
        throw new VerificationFailedError('UNTRUSTED_IDENTITY', "Signature publisher doesn't match any trusted identities.");
      }
      // The profile ARN is an envelope attribute: only an AWS Signer chain vouches for it (stricter than
      // notation + plugin, which accept it on any chain the statement's signingAuthority stores trust).
      if (!chainEndsInAwsSignerRoot(env.certificateChain, this.options.awsSignerRoots ?? AWS_SIGNER_ROOTS_DER)) {
        throw new VerificationFailedError('UNTRUSTED_IDENTITY',
          `Signature publisher ${JSON.stringify(arn)} is an AWS Signer signing profile, but the certificate chain does not end in an AWS Signer root certificate`);
      }
      return;
    }
    if (identities.includes('*')) return;
    const x509 = identities.filter((i) => i.startsWith('x509.subject:')).map((i) => i.slice('x509.subject:'.length).trim());
    if (x509.length === 0) throw new VerificationFailedError('UNTRUSTED_IDENTITY', 'no x509 trusted identities are configured in the trust policy');
    const leaf = parseCertificate(env.certificateChain[0]);
    let leafDn: Map<string, string> | undefined;
    try {
      leafDn = parseDistinguishedName(leaf.subjectString);
    } catch {
      leafDn = undefined;
    }
    if (!leafDn || !x509.some((dn) => isDnSubset(parseDistinguishedName(dn), leafDn!))) {
      throw new VerificationFailedError('UNTRUSTED_IDENTITY', `signing certificate from the digital signature does not match the X.509 trusted identities ${goDnList(x509)} defined in the trust policy "${ctx.statement.name}"`);
    }
  }

  private checkExpiry(env: VerifiedEnvelope): void {
    if (env.expiry && this.now().getTime() >= env.expiry.getTime()) {
      throw new VerificationFailedError('SIGNATURE_EXPIRED', `digital signature has expired on "${rfc1123z(env.expiry)}"`);
    }
  }

  /**
   * signingAuthority: every chain certificate valid at the authentic signing time. notary.x509: an
   * RFC 3161 countersignature checked against the policy's `tsa` stores when one is configured and
   * `verifyTimestamp` asks for it (always, or afterCertExpiry with an expired chain certificate);
   * otherwise every chain certificate must be valid now (notary-verification.md §8).
   */
  private async checkTimestamp(env: VerifiedEnvelope, ctx: SignatureContext): Promise<void> {
    const chain = env.certificateChain.map((c) => parseCertificate(c));
    if (env.signingScheme === 'notary.x509.signingAuthority') {
      checkValidityAt(chain, env.authenticSigningTime!, 'signing');
      return;
    }
    const now = this.now();
    const tsaStores = (ctx.statement.trustStores ?? []).filter((s) => s.startsWith('tsa:')).map((s) => s.slice(4));
    const when = ctx.statement.signatureVerification.verifyTimestamp ?? 'always';
    const run = tsaStores.length > 0 && (when === 'always' || chain.some((c) => c.notAfter.getTime() < now.getTime()));
    if (!run) {
      checkValidityAt(chain, now, 'now');
      return;
    }
    if (!env.timestampToken) {
      throw new VerificationFailedError('INVALID_TIMESTAMP', 'no timestamp countersignature was found in the signature envelope');
    }
    const tsaRoots = [];
    for (const name of tsaStores) tsaRoots.push(...await this.options.trustStores.getCertificates('tsa', name));
    if (tsaRoots.length === 0) throw new VerificationFailedError('INVALID_TIMESTAMP', 'no trusted TSA certificate found in trust store');
    const result = verifyAuthenticTimestamp({
      token: env.timestampToken, signature: env.signature, signingTime: env.signingTime, signingChain: chain, tsaRoots,
    });
    // The TSA chain's revocation is checked unless the statement skips revocation altogether.
    if (ctx.actions.revocation !== 'skip') {
      this.throwOnRevocation(await checkRevocation(result.tsaChain, { ...this.options.x509Revocation, purpose: 'timestamping', now: this.now }));
    }
  }

  private async checkRevocation(env: VerifiedEnvelope, isSigner: boolean): Promise<void> {
    if (isSigner) {
      if (!this.options.signerClient) {
        throw new VerificationInconclusiveError('AWS_API', 'GetRevocationStatus call failed with error: no AWS Signer client is configured');
      }
      const client = this.options.signerClient;
      const ms = this.options.awsApiTimeoutMs ?? 5000;
      const r = await checkSignerRevocation({ getRevocationStatus: (input) => withTimeout(client.getRevocationStatus(input), ms) }, env);
      if (!r.passed) {
        // A 2xx answer of the wrong shape is a failed revocation check (enforced per the statement's
        // revocation action), not a transport failure.
        if (r.malformed) throw new VerificationFailedError('REVOCATION_UNKNOWN', r.reason ?? 'malformed GetRevocationStatus answer');
        if (r.inconclusive) throw new VerificationInconclusiveError('AWS_API', r.reason ?? 'revocation status unknown');
        throw new VerificationFailedError('REVOKED', r.reason ?? 'revoked');
      }
      return;
    }
    const chain = env.certificateChain.map((c) => parseCertificate(c));
    this.throwOnRevocation(await checkRevocation(chain, { ...this.options.x509Revocation, signingTime: env.authenticSigningTime, now: this.now }));
  }

  private throwOnRevocation(r: { status: string; reason?: string; transient?: boolean }): void {
    if (r.status === 'revoked') throw new VerificationFailedError('REVOKED', r.reason ?? 'signing certificate is revoked');
    if (r.status === 'unknown') {
      // Only transport failures (unreachable, timeout, non-200, tryLater) are inconclusive; an invalid or
      // definitive answer (bad signature, expired, unparsable, status unknown) is a failed check.
      const reason = r.reason ?? 'revocation status is unknown';
      if (r.transient === true) throw new VerificationInconclusiveError('REVOCATION_UNKNOWN', reason);
      throw new VerificationFailedError('REVOCATION_UNKNOWN', reason);
    }
  }

  private checkTarget(env: VerifiedEnvelope, target: Descriptor): void {
    const t = env.targetArtifact;
    if (t.mediaType !== target.mediaType || t.digest !== target.digest || t.size !== target.size) {
      throw new VerificationFailedError('TARGET_MISMATCH', 'integrity check failed. signature does not match the given artifact: content descriptor mismatch');
    }
    for (const [k, v] of Object.entries(this.options.userMetadata ?? {})) {
      if (t.annotations?.[k] !== v) {
        throw new VerificationFailedError('USER_METADATA_MISMATCH', `unable to find specified metadata in the signature: ${k}=${v}`);
      }
    }
  }
}

function isSource(s: ArtifactSource | Verdict): s is ArtifactSource {
  return typeof (s as ArtifactSource).resolve === 'function';
}

/**
 * Starts an async listing now (its first request goes out immediately) and replays it later. An
 * error of the early request surfaces when the listing is consumed, never as an unhandled rejection.
 */
function prefetch<T>(listing: AsyncIterable<T>): AsyncIterable<T> {
  const it = listing[Symbol.asyncIterator]();
  const first = it.next();
  first.catch(() => undefined);
  return {
    async *[Symbol.asyncIterator]() {
      let r = await first;
      while (!r.done) {
        yield r.value;
        r = await it.next();
      }
    },
  };
}

/** Rejects when `promise` does not settle within `ms` (the timer never keeps the process alive). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new VerificationInconclusiveError('TIMEOUT', `timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function attr(env: VerifiedEnvelope, key: string): string | undefined {
  const v = env.extendedAttributes.find((a) => a.key === key)?.value;
  return typeof v === 'string' ? v : undefined;
}

function leafSubject(env: VerifiedEnvelope): string | undefined {
  try {
    return parseCertificate(env.certificateChain[0]).subjectString;
  } catch {
    return undefined;
  }
}

/** Formats DN identities as notation prints them: Go's `%v` of a slice of maps, keys sorted and quoted. */
function goDnList(dns: readonly string[]): string {
  const maps = dns.map((dn) => {
    const entries = [...parseDistinguishedName(dn).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(' ')}]`;
  });
  return `[${maps.join(' ')}]`;
}

function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.OCI_INDEX || mediaType === MEDIA_TYPE.DOCKER_MANIFEST_LIST;
}

function reasonsOf(sigs: readonly SignatureOutcome[], extra?: VerifierError): string[] {
  const out = sigs.filter((s) => s.error).map((s) => `signature ${s.signatureDigest}: ${s.error!.message}`);
  if (extra && !out.some((r) => r.endsWith(extra.message))) out.push(extra.message);
  return out;
}

function errorVerdict(reference: string, err: VerifierError, started: number): Verdict {
  const status: VerdictStatus = err.kind === 'inconclusive' ? 'inconclusive' : 'failed';
  return { reference, status, verified: false, signatures: [], reasons: [err.message], error: err.toJSON(), durationMs: elapsed(started) };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

/** SemVer 2.0 precedence (pre-release < release). Returns <0, 0, >0. */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
    if (!m) throw new VerificationFailedError('PLUGIN_UNSUPPORTED', `"${v}" is not a valid semantic version`);
    return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4]?.split('.') };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i] - y.core[i];
  if (!x.pre && !y.pre) return 0;
  if (!x.pre) return 1;
  if (!y.pre) return -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

export { formatReference };
