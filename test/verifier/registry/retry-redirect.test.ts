/**
 * The registry client's policies on their own: bounded retries (retry.ts), redirects (redirect.ts) and answering
 * a challenge (auth-challenge.ts). The end-to-end behaviour against real registries is in remote, faults,
 * status-table and auth tests; these pin the policies' edges with hand-made answers.
 */
import { ConfigurationError, VerificationInconclusiveError, VerifierError } from '../../../src/verifier/errors';
import {
  answerChallenge, Attempt, backoffDelay, ChallengeContext, HttpResponse, parseChallenge, parseRetryAfter, redirectTarget,
  retryableAnswer, RetryRun, TokenRequest, TransportError, withRetries,
} from '../../../src/verifier/registry';

const response = (status: number, headers: Record<string, string> = {}, body = '', url = 'https://reg.example.com/v2/a/blobs/x'): HttpResponse =>
  ({ status, headers, body: Buffer.from(body), url: new URL(url) });

function run(over: Partial<RetryRun> = {}): RetryRun & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    options: { maxAttempts: 3 },
    deadline: Date.now() + 60_000,
    signal: new AbortController().signal,
    sleep: async (ms) => {
      waits.push(ms);
    },
    aborted: () => new VerificationInconclusiveError('TIMEOUT', 'stopped'),
    callerStopped: () => false,
    ...over,
  };
}

const retry = (code: 'THROTTLED' | 'REGISTRY_UNAVAILABLE' = 'REGISTRY_UNAVAILABLE', retryAfterMs?: number): Attempt<string> =>
  ({ retry: new VerificationInconclusiveError(code, code), retryAfterMs });

describe('withRetries', () => {
  test('at most maxAttempts; the last error is reported', async () => {
    let n = 0;
    const r = run();
    const e = await withRetries(async () => { n++; return retry(); }, r).catch((x) => x);
    expect(n).toBe(3);
    expect(r.waits).toHaveLength(2);
    expect(e).toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
  });

  test('done on a later attempt; maxAttempts below 1 still makes one', async () => {
    let n = 0;
    await expect(withRetries(async () => (++n < 2 ? retry() : { done: 'ok' }), run())).resolves.toBe('ok');
    n = 0;
    await expect(withRetries(async () => { n++; return retry(); }, run({ options: { maxAttempts: 0 } }))).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE' });
    expect(n).toBe(1);
  });

  test('transport errors are retried as NETWORK / TIMEOUT; an abort ends at once', async () => {
    let n = 0;
    const e = await withRetries<string>(async () => { n++; throw new TransportError('network', 'reset'); }, run()).catch((x) => x);
    expect(n).toBe(3);
    expect(e).toMatchObject({ kind: 'inconclusive', code: 'NETWORK' });
    n = 0;
    const t = await withRetries<string>(async () => { n++; throw new TransportError('aborted', 'gone'); }, run()).catch((x) => x);
    expect(n).toBe(1);
    expect(t.message).toBe('stopped');
  });

  test('any other error is not retried and not retyped (a bug stays a bug)', async () => {
    let n = 0;
    const bug = new TypeError('x is undefined');
    await expect(withRetries<string>(async () => { n++; throw bug; }, run())).rejects.toBe(bug);
    const typed = new ConfigurationError('INVALID_OPTIONS', 'bad');
    await expect(withRetries<string>(async () => { n++; throw typed; }, run())).rejects.toBe(typed);
    expect(n).toBe(2);
  });

  test('no wait that would end past the deadline: the last error instead', async () => {
    let n = 0;
    const r = run({ deadline: Date.now() + 50, options: { maxAttempts: 5 } });
    const e = await withRetries(async () => { n++; return retry('THROTTLED', 10_000); }, r).catch((x) => x);
    expect(n).toBe(1);
    expect(r.waits).toEqual([]);
    expect(e.code).toBe('THROTTLED');
  });

  test('a wait the operation deadline stops reports the last error; one the caller stops reports aborted()', async () => {
    for (const caller of [false, true]) {
      const ctl = new AbortController();
      const r = run({ signal: ctl.signal, callerStopped: () => caller, sleep: () => { ctl.abort(); return new Promise(() => undefined); } });
      // the signal aborts while the wait starts: the wait still ends
      const e: VerifierError = await withRetries(async () => retry(), r).catch((x) => x);
      expect(e.code).toBe(caller ? 'TIMEOUT' : 'REGISTRY_UNAVAILABLE');
    }
  });

  test('Retry-After raises the wait, capped by maxRetryAfterMs', async () => {
    const r = run({ options: { maxAttempts: 2, maxRetryAfterMs: 1500 } });
    await withRetries(async () => retry('THROTTLED', 60_000), r).catch(() => undefined);
    expect(r.waits).toEqual([1500]);
  });
});

describe('backoff, Retry-After and retryable answers', () => {
  test('full jitter under an exponential cap', () => {
    const spy = jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    try {
      expect(backoffDelay(1)).toBeCloseTo(200, 0);
      expect(backoffDelay(3)).toBeCloseTo(800, 0);
      expect(backoffDelay(10)).toBeCloseTo(2000, 0);
      expect(backoffDelay(2, { baseDelayMs: 10, maxDelayMs: 15 })).toBeCloseTo(15, 0);
      spy.mockReturnValue(0);
      expect(backoffDelay(5)).toBe(0);
      expect(backoffDelay(5, {}, 700)).toBe(700);
    } finally {
      spy.mockRestore();
    }
  });

  test('parseRetryAfter: seconds, an HTTP date, nothing else', () => {
    const now = Date.parse('Wed, 02 Dec 2026 04:00:00 GMT');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 04:00:02 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 03:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  test.each([
    [408, 'TIMEOUT'], [429, 'THROTTLED'], [500, 'REGISTRY_UNAVAILABLE'], [502, 'REGISTRY_UNAVAILABLE'], [503, 'REGISTRY_UNAVAILABLE'],
    [599, 'REGISTRY_UNAVAILABLE'], [501, undefined], [505, undefined], [200, undefined], [404, undefined], [401, undefined], [400, undefined],
  ])('HTTP %i: %s', (status, code) => {
    const a = retryableAnswer(response(status, { 'retry-after': '2' }), 'manifest', 'reg.example.com');
    expect(a?.retry.code).toBe(code);
    if (status === 429) expect(a?.retryAfterMs).toBe(2000);
  });
});

describe('redirectTarget', () => {
  const to = (location: string | undefined, status = 307) => response(status, location === undefined ? {} : { location });

  test('followed: 301, 302, 303, 307, 308 to HTTPS (relative to the request URL)', () => {
    for (const s of [301, 302, 303, 307, 308]) expect(redirectTarget(to('https://s3.example.com/b?sig=1', s), false, 'blob', 'reg')?.href).toBe('https://s3.example.com/b?sig=1');
    expect(redirectTarget(to('/elsewhere'), false, 'blob', 'reg')?.href).toBe('https://reg.example.com/elsewhere');
  });

  test('not a redirect, or no Location: the answer stands', () => {
    expect(redirectTarget(to('https://x.example.com/', 200), false, 'blob', 'reg')).toBeUndefined();
    expect(redirectTarget(to('https://x.example.com/', 304), false, 'blob', 'reg')).toBeUndefined();
    expect(redirectTarget(to(undefined), false, 'blob', 'reg')).toBeUndefined();
  });

  test.each([
    ['http://s3.example.com/b', true],
    ['http://127.0.0.1:9000/b', false],
    ['ftp://127.0.0.1/b', true],
    ['https://user:pw@s3.example.com/b', false],
    ['https://[::1', false],
  ])('%s refused (registry plain HTTP: %s)', (location, plain) => {
    const e = (() => { try { redirectTarget(to(location), plain, 'blob', 'reg'); } catch (x) { return x; } return undefined; })();
    expect(e).toBeInstanceOf(VerificationInconclusiveError);
    expect((e as VerifierError).code).toBe('REGISTRY_UNAVAILABLE');
  });

  test('loopback plain HTTP from a plain-HTTP registry', () => {
    expect(redirectTarget(to('http://127.0.0.1:9000/b'), true, 'blob', 'reg')?.host).toBe('127.0.0.1:9000');
  });
});

describe('answerChallenge', () => {
  function ctx(over: Partial<ChallengeContext> = {}): ChallengeContext & { sent: Array<{ url: URL; request: TokenRequest }> } {
    const sent: Array<{ url: URL; request: TokenRequest }> = [];
    return {
      sent,
      registry: 'reg.example.com',
      repository: 'team/app',
      registryIsPlainHttp: false,
      credentials: async () => undefined,
      requestToken: async (url, request) => {
        sent.push({ url, request });
        return response(200, {}, JSON.stringify({ token: 'T' }), url.href);
      },
      ...over,
    };
  }
  const bearer = parseChallenge('Bearer realm="https://auth.example.com/token",service="reg",scope="repository:team/app:pull"')!;

  test('anonymous bearer: GET with the repository scope (pull by default; pull,push when asked)', async () => {
    const c = ctx();
    expect(await answerChallenge(bearer, c)).toBe('Bearer T');
    expect(c.sent[0].request.method).toBe('GET');
    expect(c.sent[0].url.searchParams.getAll('scope')).toEqual(['repository:team/app:pull']);
    expect(c.sent[0].request.headers.Authorization).toBeUndefined();
    const p = ctx({ actions: ['pull', 'push'] });
    await answerChallenge(bearer, p);
    expect(p.sent[0].url.searchParams.getAll('scope')).toEqual(['repository:team/app:pull,push', 'repository:team/app:pull']);
  });

  test('basic credentials go to the realm as Basic; an identity token as a refresh_token POST', async () => {
    const b = ctx({ credentials: async () => ({ username: 'u', password: 'p' }) });
    await answerChallenge(bearer, b);
    expect(b.sent[0].request.headers.Authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    const i = ctx({ credentials: async () => ({ identityToken: 'R' }) });
    await answerChallenge(bearer, i);
    expect(i.sent[0].request.method).toBe('POST');
    expect(new URLSearchParams(i.sent[0].request.body).get('refresh_token')).toBe('R');
  });

  test.each([
    ['Bearer realm="http://auth.example.com/token"', /refusing token realm http:/],
    ['Bearer realm="https://u:p@auth.example.com/token"', /user info/],
    ['Bearer service="reg"', /without realm/],
    ['Bearer realm="not a url"', /invalid token realm/],
    ['Negotiate abc', /unsupported authentication scheme/],
    ['Basic realm="x"', /requires basic authentication and no credentials/],
  ])('%s: inconclusive AUTHENTICATION, no token request', async (h, message) => {
    const c = ctx();
    await expect(answerChallenge(parseChallenge(h)!, c)).rejects.toMatchObject({ kind: 'inconclusive', code: 'AUTHENTICATION', message: expect.stringMatching(message) });
    expect(c.sent).toEqual([]);
  });

  test.each([
    [500, '{"token":"T"}'], [200, 'not json'], [200, '{"token":""}'], [200, '{"token":"a\\r\\nX-Injected: 1"}'], [200, '{"token":7}'],
  ])('a token answer HTTP %i %s is refused', async (status, body) => {
    const c = ctx({ requestToken: async (url) => response(status, {}, body, url.href) });
    await expect(answerChallenge(bearer, c)).rejects.toMatchObject({ code: 'AUTHENTICATION' });
  });
});
