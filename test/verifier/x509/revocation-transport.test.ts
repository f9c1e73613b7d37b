/**
 * Revocation fetches go through the engine's one HTTP client (registry/http.ts): its limits hold for
 * OCSP and CRL downloads, against a real loopback server.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { VerificationFailedError, VerificationInconclusiveError } from '../../../src/verifier/errors';
import { httpFetch } from '../../../src/verifier/x509/revocation-transport';

let server: http.Server;
let base: string;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? ''} ${Buffer.concat(chunks).toString('hex')}`);
      if (req.url === '/big') { res.end(Buffer.alloc(4096, 1)); return; }
      if (req.url === '/declared-big') { res.setHeader('Content-Length', '100000000'); res.write(Buffer.alloc(10)); return; }
      if (req.url === '/redirect') { res.statusCode = 302; res.setHeader('Location', '/target'); res.end(); return; }
      if (req.url === '/error-body') { res.statusCode = 500; res.end(Buffer.alloc(200_000, 2)); return; }
      if (req.url === '/hang') return;
      if (req.url === '/cut') { res.setHeader('Content-Length', '100'); res.write(Buffer.alloc(10)); res.destroy(); return; }
      res.end(Buffer.from('ok'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => { hits.length = 0; });

const get = (path: string, maxBytes = 1024, timeoutMs = 2000) => httpFetch(`${base}${path}`, { method: 'GET', timeoutMs, maxBytes });

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('httpFetch over the shared HTTP client', () => {
  test('a 200 body is returned; a POST carries its body and content type', async () => {
    const r = await httpFetch(`${base}/ocsp`, { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: Uint8Array.from([1, 2]), timeoutMs: 2000, maxBytes: 10 });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body).toString()).toBe('ok');
    expect(hits).toEqual(['POST /ocsp application/ocsp-request 0102']);
  });

  test('a 200 body over maxBytes is a definitive SIZE_LIMIT_EXCEEDED failure (streamed or declared)', async () => {
    for (const path of ['/big', '/declared-big']) {
      const e = await rejection(get(path));
      expect(e).toBeInstanceOf(VerificationFailedError);
      expect(e.code).toBe('SIZE_LIMIT_EXCEEDED');
    }
  });

  test('redirects are not followed: the 3xx status is the answer', async () => {
    const r = await get('/redirect');
    expect(r.status).toBe(302);
    expect(hits).toEqual(['GET /redirect  ']);
  });

  test('the body of a non-200 answer is capped, not read whole', async () => {
    const r = await get('/error-body', 1024 * 1024);
    expect(r.status).toBe(500);
    expect(r.body.length).toBeLessThanOrEqual(64 * 1024);
  });

  test('timeouts, refused connections and cut responses are transport failures (inconclusive)', async () => {
    const t = await rejection(get('/hang', 1024, 150));
    expect(t).toBeInstanceOf(VerificationInconclusiveError);
    expect(t.code).toBe('TIMEOUT');
    expect(t.message).toMatch(/timed out after 150 ms/);
    const refused = await rejection(httpFetch('http://127.0.0.1:1/ocsp', { method: 'GET', timeoutMs: 2000, maxBytes: 10 }));
    expect(refused).toBeInstanceOf(VerificationInconclusiveError);
    expect(refused.code).toBe('NETWORK');
    const cut = await rejection(get('/cut'));
    expect(cut).toBeInstanceOf(VerificationInconclusiveError);
  });

  test.each([
    ['https', 'https://127.0.0.1:1/crl', /unsupported protocol https/],
    ['file', 'file:///etc/passwd', /unsupported protocol file/],
    ['not a URL', 'http://exa mple/', /invalid URL/],
  ])('a %s URL is refused before any request (definitive)', async (_n, url, message) => {
    const e = await rejection(httpFetch(url, { method: 'GET', timeoutMs: 2000, maxBytes: 10 }));
    expect(e).toBeInstanceOf(VerificationFailedError);
    expect(e.code).toBe('REVOCATION_UNKNOWN');
    expect(e.message).toMatch(message);
    expect(hits).toEqual([]);
  });
});
