/**
 * OCI distribution writes of one repository, over the shared RegistryClient (origin and plain-HTTP rule, token
 * auth with a pull+push scope, bounded retries on 408/429/5xx, deadlines): blob uploads (POST + PUT), manifest
 * PUTs, and the tag-schema referrers index (`<alg>-<hex>`) merged read-modify-write.
 */
import { VerificationFailedError } from '../errors';
import { digestOf, parseDigest } from '../reference';
import { Descriptor, LIMITS, MEDIA_TYPE } from '../types';
import { RegistryClient, RegistryClientOptions } from './client';
import { header } from './http';
import { MANIFEST_MEDIA_TYPES, parseIndexManifests, referrersTag } from './source';

/** An OCI error body's codes and messages, for messages (`DENIED: ...`). */
function ociErrorSummary(body: Buffer): string {
  try {
    const j = JSON.parse(body.toString('utf8'));
    if (Array.isArray(j?.errors) && j.errors.length) {
      return j.errors.slice(0, 3).map((e: any) => `${String(e?.code ?? '')}: ${String(e?.message ?? '')}`).join('; ');
    }
  } catch {
    // not JSON
  }
  return '';
}

/** The manifest a PUT stored, and whether the registry said it indexed the subject (`OCI-Subject`). */
export interface PushedManifest {
  readonly descriptor: Descriptor;
  /** The `OCI-Subject` response header: the registry's referrers API now lists this manifest for that subject. */
  readonly ociSubject?: string;
}

export class RegistryPusher {
  public readonly client: RegistryClient;

  /** @throws ConfigurationError INVALID_OPTIONS when a plain-HTTP registry is not loopback */
  public constructor(target: { registry: string; repository: string }, options: RegistryClientOptions = {}) {
    this.client = new RegistryClient(target, options, ['pull', 'push']);
  }

  /** Uploads a blob (monolithic: `POST /blobs/uploads/` then `PUT <location>?digest=`); returns its descriptor. */
  public async pushBlob(bytes: Uint8Array, mediaType: string, maxBytes: number): Promise<Descriptor> {
    if (bytes.length > maxBytes) {
      throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `blob of ${bytes.length} bytes exceeds the limit of ${maxBytes} bytes`);
    }
    const digest = digestOf(bytes);
    const repo = this.client.repository;
    await this.client.withOp(async (op) => {
      const start = await this.client.send(op, `/v2/${repo}/blobs/uploads/`, { method: 'POST', maxBytes: 64 * 1024, what: 'blob upload start' });
      this.refuse(start, 'blob upload start', [202]);
      const location = header(start.headers, 'location');
      const url = location ? this.client.sameOrigin(location, start.url) : undefined;
      if (!url) {
        throw new VerificationFailedError('INVALID_MANIFEST',
          `blob upload start: ${this.client.registry} gave ${location ? 'an upload location on another origin' : 'no upload location'}`);
      }
      url.searchParams.set('digest', digest);
      const put = await this.client.send(op, url.pathname + url.search, {
        method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' }, maxBytes: 64 * 1024, what: `blob ${digest}`,
      });
      this.refuse(put, `blob ${digest} upload`, [201]);
    });
    return { mediaType, digest, size: bytes.length };
  }

  /** PUTs a manifest under `reference` (a tag, or its own digest when omitted). */
  public async pushManifest(bytes: Uint8Array, mediaType: string, reference?: string): Promise<PushedManifest> {
    if (bytes.length > LIMITS.MANIFEST_BYTES) {
      throw new VerificationFailedError('SIZE_LIMIT_EXCEEDED', `manifest of ${bytes.length} bytes exceeds the limit of ${LIMITS.MANIFEST_BYTES} bytes`);
    }
    const digest = digestOf(bytes);
    const ref = reference ?? digest;
    const res = await this.client.withOp((op) => this.client.send(op, `/v2/${this.client.repository}/manifests/${ref}`, {
      method: 'PUT', body: bytes, headers: { 'Content-Type': mediaType }, maxBytes: 64 * 1024, what: `manifest ${ref}`,
    }));
    this.refuse(res, `manifest ${ref} upload`, [201]);
    const stored = header(res.headers, 'docker-content-digest');
    if (stored && stored !== digest) {
      throw new VerificationFailedError('DIGEST_MISMATCH', `${this.client.registry} stored manifest ${ref} as ${stored}, not ${digest}`);
    }
    return { descriptor: { mediaType, digest, size: bytes.length }, ociSubject: header(res.headers, 'oci-subject') };
  }

  /**
   * Whether the registry serves the referrers API for `subject`: 200 with an OCI index (yes), 404 / another
   * content type (no: the tag schema is used). Other answers are errors (never a guess).
   */
  public async referrersApiSupported(subject: Descriptor): Promise<boolean> {
    const res = await this.client.withOp((op) => this.client.send(op, `/v2/${this.client.repository}/referrers/${subject.digest}`, {
      accept: MEDIA_TYPE.OCI_INDEX, maxBytes: LIMITS.MANIFEST_BYTES, what: 'referrers listing',
    }));
    if (res.status === 404) return false;
    this.client.expectOk(res, 'referrers listing');
    return (header(res.headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase() === MEDIA_TYPE.OCI_INDEX;
  }

  /**
   * Adds `entry` to the tag-schema index of `subject` (`sha256-<hex>`), keeping every entry already there:
   * read, merge, write, then read again; when the re-read lacks the entry (another writer replaced the index in
   * between) it merges again, up to `attempts` rounds. The distribution API has no conditional PUT, so a race is
   * still possible: two signers that both read the index before either writes, and each re-read before the other
   * writes, end with the LAST writer's index; the other signature stays stored (its manifest names the image as
   * `subject`) but is not listed until the image is signed again. Indexes replaced are not deleted.
   * @returns the index as written
   * @throws VerificationFailedError INVALID_MANIFEST when the tag holds something other than an OCI index
   */
  public async mergeIntoTagSchemaIndex(subject: Descriptor, entry: Descriptor, attempts = 3): Promise<Descriptor> {
    const tag = referrersTag(subject.digest);
    parseDigest(subject.digest);
    let written: Descriptor | undefined;
    for (let round = 0; round < attempts; round++) {
      const existing = await this.readTagSchemaIndex(tag);
      if (existing.some((d) => d.digest === entry.digest) && written) return written;
      const manifests = existing.some((d) => d.digest === entry.digest) ? existing : [...existing, entry];
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.OCI_INDEX, manifests }));
      written = (await this.pushManifest(bytes, MEDIA_TYPE.OCI_INDEX, tag)).descriptor;
      const after = await this.readTagSchemaIndex(tag);
      if (after.some((d) => d.digest === entry.digest)) return written;
    }
    throw new VerificationFailedError('INVALID_MANIFEST',
      `referrers tag ${tag} in ${this.client.scope} kept changing while the signature was added (concurrent signers?); the signature manifest is stored but not listed`);
  }

  /** The entries of the tag-schema index (none when the tag does not exist). */
  private async readTagSchemaIndex(tag: string): Promise<Descriptor[]> {
    // every manifest type accepted: a registry may answer 404 for a stored manifest the Accept header excludes,
    // and the tag would then be overwritten
    const res = await this.client.withOp((op) => this.client.send(op, `/v2/${this.client.repository}/manifests/${tag}`, {
      accept: MANIFEST_MEDIA_TYPES.join(', '), maxBytes: LIMITS.MANIFEST_BYTES, what: 'referrers tag index',
    }));
    if (res.status === 404) return [];
    this.client.expectOk(res, `referrers tag ${tag}`);
    const mt = (header(res.headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (mt !== MEDIA_TYPE.OCI_INDEX) {
      throw new VerificationFailedError('INVALID_MANIFEST', `referrers tag ${tag} holds ${JSON.stringify(mt)}, not an OCI image index; refusing to overwrite it`);
    }
    return [...parseIndexManifests(res.body, `referrers tag ${tag}`).manifests];
  }

  /** expectOk with the registry's own error codes appended to the message (DENIED, MANIFEST_INVALID ...). */
  private refuse(res: Parameters<RegistryClient['expectOk']>[0], what: string, ok: number[]): void {
    try {
      this.client.expectOk(res, what, 'failed', ok);
    } catch (e) {
      const summary = ociErrorSummary(res.body);
      if (summary && e instanceof Error) e.message += ` (${summary})`;
      throw e;
    }
  }
}
