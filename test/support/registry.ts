/**
 * Test registries on loopback:
 *  - startRegistry(): the real Debian `docker-registry` (distribution 2.8.2; NO referrers API).
 *  - startCountingProxy(): an HTTP reverse proxy counting requests and client connections.
 *  - startReferrersServer(): a small in-memory OCI distribution server that DOES speak the referrers API,
 *    with pagination, optional OCI-Filters-Applied, auth (basic / bearer challenge) and fault knobs.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as http from 'http';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';

export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  stop(): Promise<void>;
  /** Requests seen at the registry side (only when started with `countRequests`). */
  requestCount?(): number;
  /** Client connections (only when started with `countRequests`). */
  connectionStats?(): ConnectionStats;
}

export interface ConnectionStats {
  readonly current: number;
  readonly peak: number;
  readonly total: number;
}

/** A free TCP port on 127.0.0.1 (racy by nature; callers retry). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForV2(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      // 401: up, with auth configured
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * Spawns `/usr/bin/docker-registry serve` with its own config (filesystem storage in a temp dir, loopback,
 * no auth) and waits until `GET /v2/` answers 200.
 * With `countRequests`, the returned host is a counting proxy in front of the registry.
 */
export async function startRegistry(opts: {
  countRequests?: boolean;
  /** Require Basic auth checked against this htpasswd file (bcrypt entries), like `auth.htpasswd` in production. */
  htpasswdPath?: string;
} = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(tmpdir(), 'csi-registry-'));
  let lastErr = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      ...(opts.htpasswdPath ? ['auth:', '  htpasswd:', '    realm: csi-test', `    path: ${opts.htpasswdPath}`] : []),
      '',
    ].join('\n');
    const configPath = path.join(dir, 'config.yml');
    writeFileSync(configPath, config);
    const child = spawn(DOCKER_REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 10000) stderr += d.toString();
    });
    const url = `http://${host}`;
    if (!(await waitForV2(url, child, 10000))) {
      lastErr = stderr;
      child.kill('SIGKILL');
      continue;
    }
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const stopRegistry = async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    };
    if (!opts.countRequests) return { host, url, stop: stopRegistry };
    const proxy = await startCountingProxy(host);
    return {
      host: proxy.host,
      url: proxy.url,
      requestCount: () => proxy.requestCount(),
      connectionStats: () => proxy.connectionStats(),
      stop: async () => {
        await proxy.stop();
        await stopRegistry();
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start: ${lastErr}`);
}

export interface CountingProxy {
  readonly host: string;
  readonly url: string;
  requestCount(): number;
  /** Requests as `METHOD path`, in arrival order. */
  requests(): string[];
  connectionStats(): ConnectionStats;
  reset(): void;
  stop(): Promise<void>;
}

/** An HTTP reverse proxy on loopback in front of `targetHost` (host:port) that counts requests and connections. */
export async function startCountingProxy(targetHost: string): Promise<CountingProxy> {
  const [thost, tport] = splitHost(targetHost);
  const agent = new http.Agent({ keepAlive: true });
  let log: string[] = [];
  const conn = trackConnections();
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const up = http.request({
      host: thost, port: tport, method: req.method, path: req.url, headers: req.headers, agent,
    }, (ures) => {
      const headers = { ...ures.headers };
      // rewrite absolute Location headers back to the proxy
      if (typeof headers.location === 'string') {
        headers.location = headers.location.replace(`http://${targetHost}`, `http://${hostOf(server)}`);
      }
      res.writeHead(ures.statusCode ?? 502, headers);
      ures.pipe(res);
    });
    up.on('error', () => {
      res.destroy();
    });
    req.pipe(up);
  });
  conn.attach(server);
  await listen(server);
  const host = hostOf(server);
  return {
    host,
    url: `http://${host}`,
    requestCount: () => log.length,
    requests: () => [...log],
    connectionStats: () => conn.stats(),
    reset: () => {
      log = [];
      conn.reset();
    },
    stop: async () => {
      agent.destroy();
      await closeServer(server);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// In-memory OCI distribution server with the referrers API
// ---------------------------------------------------------------------------------------------------------

/** A fault injected into matching requests. Faults are consulted in insertion order; the first match wins. */
export interface Fault {
  /** Which requests: substring or RegExp on `METHOD /path?query`, or a predicate. Default: every request. */
  readonly match?: string | RegExp | ((method: string, url: string) => boolean);
  /** How many times this fault fires (default: unlimited). */
  times?: number;
  /** Respond with this status (and an OCI error body or `body`). */
  readonly status?: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** `Retry-After` header value (seconds) on the fault response. */
  readonly retryAfter?: number | string;
  /** Delay (ms) before responding (applies to the fault response or, without status, the real response). */
  readonly delayMs?: number;
  /** Destroy the connection without a response. */
  readonly reset?: boolean;
  /** Serve the real response but cut the body after this many bytes (Content-Length kept). */
  readonly truncateAt?: number;
  /** Serve the real response with its bytes altered (same length, one byte flipped). */
  readonly wrongBytes?: boolean;
  /** Serve the real response with this many extra bytes appended (Content-Length adjusted). */
  readonly extraBytes?: number;
  /** Serve the real headers but stream the body this slowly: ms between 1-byte chunks. */
  readonly trickleMs?: number;
}

export type ReferrersMode =
  /** Referrers API implemented. */
  | 'supported'
  /** Plain 404 "404 page not found" like docker-registry 2.8. */
  | 'unsupported-404'
  /** 200 with a non-index Content-Type. */
  | 'wrong-content-type';

export type ServerAuth =
  | { readonly type: 'basic'; readonly username: string; readonly password: string }
  | {
    readonly type: 'bearer';
    /** Credentials accepted by the token endpoint via basic auth (GET). */
    readonly username?: string;
    readonly password?: string;
    /** Accepted as refresh_token (POST form grant_type=refresh_token). */
    readonly identityToken?: string;
    /** Allow anonymous token requests. */
    readonly anonymous?: boolean;
    readonly service?: string;
    /** Token realm named in the challenge (default `http://<self>/token`); e.g. a proxy on another port. */
    readonly realm?: () => string;
  };

export interface ReferrersServerOptions {
  readonly referrers?: ReferrersMode;
  /** Page size of the referrers listing (Link rel="next" when more). Default: unlimited. */
  readonly pageSize?: number;
  /** When the artifactType filter is requested: apply it and say so (header / annotation / not at all). */
  readonly filtering?: 'header' | 'annotation' | 'none';
  readonly auth?: ServerAuth;
}

interface Stored {
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export interface ReferrersServer {
  readonly host: string;
  readonly url: string;
  readonly options: ReferrersServerOptions;
  requestCount(): number;
  /** `METHOD /path?query` in arrival order. */
  requests(): string[];
  /** Every request with the Host and Authorization headers it carried, in arrival order. */
  exchanges(): RecordedRequest[];
  /** Forgets every issued bearer token (they are answered 401 from now on, like expired ones). */
  revokeTokens(): void;
  connectionStats(): ConnectionStats;
  addFault(f: Fault): void;
  clearFaults(): void;
  /** Stores a blob; returns its digest. */
  putBlob(repo: string, bytes: Uint8Array): string;
  /** Stores a manifest (any media type), optionally tagged; returns its digest. */
  putManifest(repo: string, bytes: Uint8Array, mediaType: string, tag?: string): string;
  /** Changes the referrers mode at runtime. */
  setReferrersMode(mode: ReferrersMode): void;
  reset(): void;
  stop(): Promise<void>;
}

function sha256(b: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

function ociError(res: http.ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

/**
 * Starts the in-memory referrers-capable registry. Supports: `GET /v2/`, `GET|HEAD /v2/<name>/manifests/<ref>`,
 * `PUT /v2/<name>/manifests/<ref>`, `GET|HEAD /v2/<name>/blobs/<digest>`, monolithic uploads
 * (`POST /v2/<name>/blobs/uploads/` + `PUT <location>?digest=`), `GET /v2/<name>/referrers/<digest>`,
 * and the token endpoint `/token` for bearer auth.
 */
export async function startReferrersServer(options: ReferrersServerOptions = {}): Promise<ReferrersServer> {
  let mode: ReferrersMode = options.referrers ?? 'supported';
  const repos = new Map<string, { manifests: Map<string, Stored>; tags: Map<string, string>; blobs: Map<string, Buffer> }>();
  const uploads = new Map<string, string>();
  let faults: Fault[] = [];
  let log: string[] = [];
  let recorded: RecordedRequest[] = [];
  const conn = trackConnections();
  const issuedTokens = new Set<string>();

  const repoOf = (name: string) => {
    let r = repos.get(name);
    if (!r) {
      r = { manifests: new Map(), tags: new Map(), blobs: new Map() };
      repos.set(name, r);
    }
    return r;
  };
  const putBlob = (repo: string, bytes: Uint8Array) => {
    const d = sha256(bytes);
    repoOf(repo).blobs.set(d, Buffer.from(bytes));
    return d;
  };
  const putManifest = (repo: string, bytes: Uint8Array, mediaType: string, tag?: string) => {
    const d = sha256(bytes);
    const r = repoOf(repo);
    r.manifests.set(d, { mediaType, bytes: Buffer.from(bytes) });
    if (tag) r.tags.set(tag, d);
    return d;
  };

  let selfHost = '';

  const authorized = (req: http.IncomingMessage, res: http.ServerResponse, scopeRepo: string | undefined): boolean => {
    const auth = options.auth;
    if (!auth) return true;
    const h = req.headers.authorization ?? '';
    if (auth.type === 'basic') {
      const expected = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      if (h === expected) return true;
      ociError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': 'Basic realm="test"' });
      return false;
    }
    if (h.startsWith('Bearer ') && issuedTokens.has(h.slice(7))) return true;
    const service = auth.service ?? 'test-registry';
    const realm = auth.realm ? auth.realm() : `http://${selfHost}/token`;
    let challenge = `Bearer realm="${realm}",service="${service}"`;
    if (scopeRepo) challenge += `,scope="repository:${scopeRepo}:pull"`;
    ociError(res, 401, 'UNAUTHORIZED', 'authentication required', { 'WWW-Authenticate': challenge });
    return false;
  };

  const tokenEndpoint = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, u: URL) => {
    const auth = options.auth;
    if (!auth || auth.type !== 'bearer') return ociError(res, 404, 'NOT_FOUND', 'no token endpoint');
    let ok = false;
    if (req.method === 'GET') {
      const h = req.headers.authorization;
      if (h && auth.username !== undefined) {
        ok = h === 'Basic ' + Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64');
      } else if (!h && auth.anonymous) {
        ok = true;
      }
      if (u.searchParams.get('service') !== (auth.service ?? 'test-registry')) ok = false;
    } else if (req.method === 'POST') {
      const form = new URLSearchParams(body.toString());
      if (form.get('grant_type') === 'refresh_token' && auth.identityToken !== undefined) {
        ok = form.get('refresh_token') === auth.identityToken;
      } else if (form.get('grant_type') === 'password' && auth.username !== undefined) {
        ok = form.get('username') === auth.username && form.get('password') === auth.password;
      }
    }
    if (!ok) return ociError(res, 401, 'UNAUTHORIZED', 'bad credentials');
    const token = randomBytes(16).toString('hex');
    issuedTokens.add(token);
    const out = JSON.stringify({ token, access_token: token, expires_in: 300 });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) });
    res.end(out);
  };

  /** Writes a successful response, applying a body-altering fault if one is active. */
  const send = async (res: http.ServerResponse, status: number, headers: Record<string, string | number>, body: Buffer, head: boolean, fault: Fault | undefined): Promise<void> => {
    let payload = body;
    if (fault?.wrongBytes && payload.length > 0) {
      payload = Buffer.from(payload);
      payload[payload.length - 1] ^= 0x01;
    }
    if (fault?.extraBytes) payload = Buffer.concat([payload, Buffer.alloc(fault.extraBytes, 0x20)]);
    res.writeHead(status, { ...headers, 'Content-Length': payload.length });
    if (head) {
      res.end();
      return;
    }
    if (fault?.truncateAt !== undefined) {
      res.write(payload.subarray(0, fault.truncateAt));
      setTimeout(() => res.destroy(), 5);
      return;
    }
    if (fault?.trickleMs !== undefined) {
      for (let i = 0; i < payload.length; i++) {
        if (res.destroyed) return;
        res.write(payload.subarray(i, i + 1));
        await new Promise((r) => setTimeout(r, fault.trickleMs));
      }
      res.end();
      return;
    }
    res.end(payload);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    const method = req.method ?? 'GET';
    const u = new URL(req.url ?? '/', 'http://x');
    const line = `${method} ${u.pathname}${u.search}`;
    log.push(line);
    recorded.push({ method, url: `${u.pathname}${u.search}`, host: req.headers.host, authorization: req.headers.authorization });

    let fault: Fault | undefined;
    for (const f of faults) {
      const m = f.match;
      const hit = m === undefined ? true
        : typeof m === 'string' ? line.includes(m)
          : m instanceof RegExp ? m.test(line) : m(method, u.pathname + u.search);
      if (hit && (f.times === undefined || f.times > 0)) {
        fault = f;
        if (f.times !== undefined) f.times--;
        break;
      }
    }
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault!.delayMs));
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = { ...(fault.headers ?? {}) };
      if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
      const b = fault.body ?? JSON.stringify({ errors: [{ code: 'FAULT', message: `injected ${fault.status}` }] });
      res.writeHead(fault.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b), ...headers });
      res.end(b);
      return;
    }

    if (u.pathname === '/token') return tokenEndpoint(req, res, body, u);
    if (u.pathname === '/v2/' || u.pathname === '/v2') {
      if (!authorized(req, res, undefined)) return;
      return send(res, 200, { 'Content-Type': 'application/json' }, Buffer.from('{}'), method === 'HEAD', fault);
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(u.pathname)
      ?? /^\/v2\/(.+)\/(blobs\/uploads)\/([^/]*)$/.exec(u.pathname);
    if (!m) return ociError(res, 404, 'NOT_FOUND', 'not found');
    const [, name, kind, ref] = m;
    if (!authorized(req, res, name)) return;
    const r = repoOf(name);
    const head = method === 'HEAD';

    if (kind === 'blobs/uploads') {
      if (method === 'POST') {
        const id = randomBytes(8).toString('hex');
        uploads.set(id, name);
        res.writeHead(202, { 'Location': `/v2/${name}/blobs/uploads/${id}`, 'Content-Length': 0 });
        return res.end();
      }
      if (method === 'PUT' && uploads.has(ref)) {
        const digest = u.searchParams.get('digest') ?? '';
        if (sha256(body) !== digest) return ociError(res, 400, 'DIGEST_INVALID', 'digest mismatch');
        uploads.delete(ref);
        putBlob(name, body);
        res.writeHead(201, { 'Location': `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 });
        return res.end();
      }
      return ociError(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
    }
    if (kind === 'blobs') {
      const b = r.blobs.get(ref);
      if (!b) return ociError(res, 404, 'BLOB_UNKNOWN', 'blob unknown to registry');
      return send(res, 200, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': ref }, b, head, fault);
    }
    if (kind === 'manifests') {
      if (method === 'PUT') {
        const mt = String(req.headers['content-type'] ?? '');
        const d = putManifest(name, body, mt, ref.includes(':') ? undefined : ref);
        if (ref.includes(':') && ref !== d) return ociError(res, 400, 'DIGEST_INVALID', 'digest mismatch');
        res.writeHead(201, { 'Location': `/v2/${name}/manifests/${d}`, 'Docker-Content-Digest': d, 'Content-Length': 0 });
        return res.end();
      }
      const digest = ref.includes(':') ? ref : r.tags.get(ref);
      const stored = digest ? r.manifests.get(digest) : undefined;
      if (!digest || !stored) return ociError(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      return send(res, 200, { 'Content-Type': stored.mediaType, 'Docker-Content-Digest': digest }, stored.bytes, head, fault);
    }
    // referrers
    if (mode === 'unsupported-404') {
      const b = '404 page not found\n';
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(b) });
      return res.end(b);
    }
    if (mode === 'wrong-content-type') {
      return send(res, 200, { 'Content-Type': 'text/html' }, Buffer.from('<html>hello</html>'), head, fault);
    }
    let descs: Array<Record<string, unknown>> = [];
    for (const [d, s] of r.manifests) {
      let parsed: any;
      try {
        parsed = JSON.parse(s.bytes.toString());
      } catch {
        continue;
      }
      if (parsed?.subject?.digest !== ref) continue;
      const desc: Record<string, unknown> = { mediaType: s.mediaType, digest: d, size: s.bytes.length };
      const at = parsed.artifactType ?? parsed.config?.mediaType;
      if (at) desc.artifactType = at;
      if (parsed.annotations) desc.annotations = parsed.annotations;
      descs.push(desc);
    }
    descs.sort((a, b) => String(a.digest).localeCompare(String(b.digest)));
    const wanted = u.searchParams.get('artifactType');
    const filtering = options.filtering ?? 'header';
    const headers: Record<string, string> = { 'Content-Type': 'application/vnd.oci.image.index.v1+json' };
    const index: Record<string, unknown> = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' };
    if (wanted && filtering !== 'none') {
      descs = descs.filter((d) => d.artifactType === wanted);
      if (filtering === 'header') headers['OCI-Filters-Applied'] = 'artifactType';
      else index.annotations = { 'org.opencontainers.image.referrers.filtersApplied': 'artifactType' };
    }
    const pageSize = options.pageSize ?? Number.MAX_SAFE_INTEGER;
    const page = Number(u.searchParams.get('page') ?? '0');
    const slice = descs.slice(page * pageSize, (page + 1) * pageSize);
    if ((page + 1) * pageSize < descs.length) {
      const next = new URLSearchParams(u.searchParams);
      next.set('page', String(page + 1));
      headers.Link = `</v2/${name}/referrers/${ref}?${next.toString()}>; rel="next"`;
    }
    index.manifests = slice;
    return send(res, 200, headers, Buffer.from(JSON.stringify(index)), head, fault);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent) ociError(res, 500, 'UNKNOWN', String(e));
        else res.destroy();
      });
    });
  });
  conn.attach(server);
  await listen(server);
  selfHost = hostOf(server);
  return {
    host: selfHost,
    url: `http://${selfHost}`,
    options,
    requestCount: () => log.length,
    requests: () => [...log],
    exchanges: () => [...recorded],
    revokeTokens: () => issuedTokens.clear(),
    connectionStats: () => conn.stats(),
    addFault: (f) => {
      faults.push(f);
    },
    clearFaults: () => {
      faults = [];
    },
    putBlob,
    putManifest,
    setReferrersMode: (m) => {
      mode = m;
    },
    reset: () => {
      log = [];
      recorded = [];
      faults = [];
      conn.reset();
    },
    stop: () => closeServer(server),
  };
}

// ---------------------------------------------------------------------------------------------------------
// A recording HTTP server (a hostile redirect target, a token realm...)
// ---------------------------------------------------------------------------------------------------------

export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly host?: string;
  readonly authorization?: string;
}

export interface RecordingServer {
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Every request received, with its Host and Authorization headers. */
  requests(): RecordedRequest[];
  /** Replaces how requests are answered. */
  respondWith(handler: RecordingHandler): void;
  stop(): Promise<void>;
}

/** Answers one request: status, headers, body. */
export type RecordingHandler = (req: RecordedRequest) => { status: number; headers?: Record<string, string>; body?: string };

/** A loopback HTTP server that records every request and answers with `handler` (default 404). */
export async function startRecordingServer(handler?: RecordingHandler): Promise<RecordingServer> {
  let respond: RecordingHandler = handler ?? (() => ({ status: 404 }));
  const seen: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const r: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', host: req.headers.host, authorization: req.headers.authorization };
      seen.push(r);
      const out = respond(r);
      const body = out.body ?? '';
      res.writeHead(out.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...(out.headers ?? {}) });
      res.end(body);
    });
  });
  trackConnections().attach(server);
  await listen(server);
  const host = hostOf(server);
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    url: `http://${host}`,
    requests: () => [...seen],
    respondWith: (h) => {
      respond = h;
    },
    stop: () => closeServer(server),
  };
}

// ---------------------------------------------------------------------------------------------------------

function splitHost(h: string): [string, number] {
  const i = h.lastIndexOf(':');
  return [h.slice(0, i), Number(h.slice(i + 1))];
}

function hostOf(server: net.Server): string {
  const a = server.address() as net.AddressInfo;
  return `127.0.0.1:${a.port}`;
}

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function trackConnections() {
  let current = 0;
  let peak = 0;
  let total = 0;
  const sockets = new Set<net.Socket>();
  return {
    attach(server: net.Server) {
      server.on('connection', (s: net.Socket) => {
        sockets.add(s);
        current++;
        total++;
        peak = Math.max(peak, current);
        s.on('close', () => {
          sockets.delete(s);
          current--;
        });
      });
      (server as any).__sockets = sockets;
    },
    stats(): ConnectionStats {
      return { current, peak, total };
    },
    reset() {
      peak = current;
      total = current;
    },
  };
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    const sockets: Set<net.Socket> | undefined = (server as any).__sockets;
    server.close(() => resolve());
    if (sockets) for (const s of sockets) s.destroy();
  });
}
