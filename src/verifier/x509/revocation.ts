/**
 * X.509 revocation checking for non-AWS chains (notary-verification.md §10; notation-core-go
 * `revocation`): per non-root certificate, OCSP first (ocsp.ts: AIA, http only, GET or POST, 2 s), then
 * CRL when OCSP gives no answer and a CRL distribution point exists (crl.ts: http only, 5 s, signature
 * checked against the issuer, nextUpdate required, delta CRLs); neither => "non-revokable". The root is
 * not checked. Fetches go through the engine's one HTTP client (revocation-transport.ts).
 */
import { CertificateInfo } from './certificate';
import { checkCrl } from './crl';
import { checkOcsp } from './ocsp';
import { Problems, RevocationFetch, httpFetch } from './revocation-transport';
import { goQuote } from '../text/go-quote';

export type { FetchRequest, FetchResponse, RevocationFetch } from './revocation-transport';

export type RevocationStatus = 'good' | 'revoked' | 'unknown' | 'nonRevokable';

export interface RevocationOptions {
  /** Authentic signing time (notary.x509.signingAuthority): revocations effective after it count as good. */
  readonly signingTime?: Date;
  readonly fetch?: RevocationFetch;
  readonly timeouts?: { readonly ocspMs?: number; readonly crlMs?: number };
  /** Clock (for tests). */
  readonly now?: () => Date;
  /** Wording of the reason: `signing` (default) or `timestamping` certificate. */
  readonly purpose?: 'signing' | 'timestamping';
}

export interface CertRevocationResult {
  readonly subject: string;
  readonly status: RevocationStatus;
  readonly method: 'ocsp' | 'crl' | 'none';
  /** Problems met per server (unreachable, bad signature, expired response...). */
  readonly errors: readonly string[];
  /**
   * For an `unknown` status: true when every problem was a transport failure (server unreachable,
   * timeout, a non-200 HTTP answer, OCSP `tryLater`/`internalError`), so asking again may give an
   * answer. False when a server answered with something invalid or definitive (unparsable or badly
   * signed response, expired response, OCSP status `unknown`, unsupported URL scheme).
   */
  readonly transient?: boolean;
}

export interface RevocationResult {
  readonly status: RevocationStatus;
  /** notation wording for revoked/unknown results. */
  readonly reason?: string;
  /**
   * For an `unknown` status: true when it is only due to transport failures (see
   * {@link CertRevocationResult.transient}); the verifier then reports an inconclusive result, else a
   * failed one.
   */
  readonly transient?: boolean;
  /** Leaf first, root last. */
  readonly certs: readonly CertRevocationResult[];
}

/** Revocation status of one certificate against its issuer (OCSP, then CRL fallback). */
export async function checkCertificateRevocation(
  cert: CertificateInfo, issuer: CertificateInfo, opts: RevocationOptions = {},
): Promise<CertRevocationResult> {
  const o = { ...opts, fetch: opts.fetch ?? httpFetch };
  const problems: Problems = { errors: [], definitive: false };
  const errors = problems.errors;
  const hasOcsp = cert.ocspUrls.length > 0;
  const hasCrl = cert.crlUrls.length > 0;
  if (!hasOcsp && !hasCrl) return { subject: cert.subject, status: 'nonRevokable', method: 'none', errors };
  const result = (status: RevocationStatus, method: 'ocsp' | 'crl'): CertRevocationResult => ({
    subject: cert.subject, status, method, errors, ...(status === 'unknown' ? { transient: !problems.definitive } : {}),
  });
  if (hasOcsp) {
    const s = await checkOcsp(cert, issuer, o, problems);
    if (s !== 'unknown' || !hasCrl) return result(s, 'ocsp');
  }
  return result(await checkCrl(cert, issuer, o, problems), 'crl');
}

/**
 * Checks every non-root certificate of `chain` (leaf..root) concurrently. Overall: any revoked =>
 * `revoked`; else any unknown => `unknown`; else all non-revokable => `nonRevokable`; else `good`.
 * Network problems never throw: they make the certificate's status `unknown` (`transient` when only
 * transport failures were met; invalid or definitive answers make it non-transient).
 */
export async function checkRevocation(chain: readonly CertificateInfo[], opts: RevocationOptions = {}): Promise<RevocationResult> {
  if (chain.length === 0) return { status: 'unknown', reason: 'certificate chain is empty', certs: [], transient: false };
  const results = await Promise.all(chain.map((c, i) => (i === chain.length - 1
    ? Promise.resolve<CertRevocationResult>({ subject: c.subject, status: 'nonRevokable', method: 'none', errors: [] })
    : checkCertificateRevocation(c, chain[i + 1], opts))));
  const kind = opts.purpose === 'timestamping' ? 'timestamping' : 'signing';
  // notation-go walks from the root to the leaf and keeps the last problem (revoked wins).
  let problem: CertRevocationResult | undefined;
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i];
    if (r.status === 'revoked') { problem = r; break; }
    if (r.status === 'unknown') problem = r;
  }
  if (problem?.status === 'revoked') {
    return { status: 'revoked', reason: `${kind} certificate with subject ${goQuote(problem.subject)} is revoked`, certs: results };
  }
  if (problem) {
    // Inconclusive only when every unknown certificate is unknown because of transport failures.
    const transient = results.every((r) => r.status !== 'unknown' || r.transient === true);
    return { status: 'unknown', reason: `${kind} certificate with subject ${goQuote(problem.subject)} revocation status is unknown`, certs: results, transient };
  }
  return { status: results.every((r) => r.status === 'nonRevokable') ? 'nonRevokable' : 'good', certs: results };
}
