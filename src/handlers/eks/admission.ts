/**
 * `admission.k8s.io/v1` AdmissionReview: reading the request, finding every container image of the
 * object (Pods and the pod templates of workload controllers), and writing the answer.
 *
 * The body comes from the API server, which serializes its own decoded object, so it has no
 * duplicate keys; `JSON.parse` is enough to read it. Everything else is checked: a field of the wrong
 * type, a container without an image, a kind the webhook does not know are reported, never skipped.
 */
import { isObject } from '../runtime/values';

/** Most images read from one object: a larger object is refused (ENFORCE) rather than half-verified. */
export const MAX_IMAGES = 256;
/** Longest `status.message` written (the API server and kubectl show it whole). */
export const MAX_MESSAGE_CHARS = 8000;
/** Kubernetes shows warnings; it may truncate those over 256 characters. */
export const MAX_WARNING_CHARS = 256;
export const MAX_WARNINGS = 16;
/** Longest `uid` echoed (Kubernetes UIDs are 36 characters). */
const MAX_UID_CHARS = 128;

/** Where a kind keeps its pod spec (JSON pointer tokens). */
const POD_SPEC_PATH: Record<string, readonly string[]> = {
  '/Pod': ['spec'],
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** The kinds the webhook reads: `group/Kind` (core group empty). */
export const SUPPORTED_KINDS = Object.keys(POD_SPEC_PATH);

/** The container lists of a pod spec, in the order the webhook reports them. */
export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

export interface AdmissionRequest {
  readonly uid: string;
  /** `group/Kind`, e.g. `apps/Deployment`, `/Pod`. */
  readonly kind: string;
  readonly operation: string;
  readonly subResource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly dryRun: boolean;
  readonly object: unknown;
  readonly userName?: string;
}

/** One container image of the object. */
export interface ContainerImage {
  /** `containers`, `initContainers` or `ephemeralContainers`. */
  readonly list: typeof CONTAINER_LISTS[number];
  readonly container: string;
  readonly image: string;
  /** JSON pointer of the `image` field. */
  readonly pointer: string;
}

/**
 * Reads an AdmissionReview. `{ error, uid? }` when it is not one: `uid` is there when the request
 * had a usable one (then the answer can still be an AdmissionReview).
 */
export function parseAdmissionReview(text: string): AdmissionRequest | { error: string; uid?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `the body is not JSON: ${(e as Error).message}` };
  }
  if (!isObject(doc)) return { error: 'the body is not a JSON object' };
  const req = doc.request;
  const uid = isObject(req) && typeof req.uid === 'string' && req.uid.length > 0 && req.uid.length <= MAX_UID_CHARS && !/[\u0000-\u001f]/.test(req.uid) ? req.uid : undefined;
  const fail = (error: string) => ({ error, ...(uid !== undefined ? { uid } : {}) });
  if (doc.apiVersion !== 'admission.k8s.io/v1') return fail(`apiVersion is ${JSON.stringify(doc.apiVersion ?? null)}, not "admission.k8s.io/v1"`);
  if (doc.kind !== 'AdmissionReview') return fail(`kind is ${JSON.stringify(doc.kind ?? null)}, not "AdmissionReview"`);
  if (!isObject(req)) return fail('request is missing or not an object');
  if (uid === undefined) return fail('request.uid is missing or not a valid UID');
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== 'string' || typeof (kind.group ?? '') !== 'string') return fail('request.kind is missing or not a GroupVersionKind');
  if (typeof req.operation !== 'string') return fail('request.operation is missing');
  if (req.dryRun !== undefined && req.dryRun !== null && typeof req.dryRun !== 'boolean') return fail('request.dryRun is not a boolean');
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v.slice(0, 253) : undefined);
  return {
    uid,
    kind: `${kind.group ?? ''}/${kind.kind}`,
    operation: req.operation,
    subResource: str(req.subResource),
    namespace: str(req.namespace),
    name: str(req.name) ?? str(metadataName(req.object)),
    dryRun: req.dryRun === true,
    object: req.object,
    userName: isObject(req.userInfo) ? str(req.userInfo.username) : undefined,
  };
}

/** `metadata.name`, else `metadata.generateName` (Pods created by controllers have no name yet at admission). */
function metadataName(object: unknown): unknown {
  const meta = isObject(object) ? object.metadata : undefined;
  return isObject(meta) ? meta.name ?? meta.generateName : undefined;
}

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Every container image of the object, or `{ error }` when the object is not what its kind says (a
 * list that is not an array, a container without a string image...). `{ unsupported }` for a kind
 * the webhook does not read.
 */
export function containerImages(req: AdmissionRequest): { images: ContainerImage[] } | { error: string } | { unsupported: string } {
  const path = POD_SPEC_PATH[req.kind];
  if (!path) return { unsupported: `kind ${req.kind.replace(/^\//, '')} is not one the webhook reads (${SUPPORTED_KINDS.map((k) => k.replace(/^\//, '')).join(', ')})` };
  let node: unknown = req.object;
  if (!isObject(node)) return { error: 'request.object is missing or not an object' };
  for (const [i, token] of path.entries()) {
    node = (node as Record<string, unknown>)[token];
    if (!isObject(node)) return { error: `${path.slice(0, i + 1).join('.')} is missing or not an object` };
  }
  const spec = node as Record<string, unknown>;
  const images: ContainerImage[] = [];
  for (const list of CONTAINER_LISTS) {
    const entries = spec[list];
    if (entries === undefined || entries === null) continue;
    if (!Array.isArray(entries)) return { error: `${[...path, list].join('.')} is not an array` };
    for (const [i, c] of entries.entries()) {
      const where = `${[...path, list].join('.')}[${i}]`;
      if (!isObject(c)) return { error: `${where} is not an object` };
      const name = typeof c.name === 'string' && c.name.length > 0 ? c.name.slice(0, 253) : `#${i}`;
      if (typeof c.image !== 'string' || c.image.trim().length === 0) return { error: `${where} (container ${JSON.stringify(name)}) has no image` };
      if (c.image.length > 4096) return { error: `${where} (container ${JSON.stringify(name)}) has an image reference longer than 4096 characters` };
      images.push({ list, container: name, image: c.image, pointer: '/' + [...path, list, String(i), 'image'].map(escapePointer).join('/') });
      if (images.length > MAX_IMAGES) return { error: `the object has more than ${MAX_IMAGES} containers` };
    }
  }
  return { images };
}

/** True when the reference names its image by digest (`…@sha256:<64 hex>`), the only form the validating webhook admits in ENFORCE. */
export function isPinned(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

export interface ReviewAnswer {
  readonly allowed: boolean;
  readonly message?: string;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Record<string, string>;
  /** RFC 6902 operations (mutating webhook only). */
  readonly patch?: readonly JsonPatchOperation[];
}

export interface JsonPatchOperation {
  readonly op: 'test' | 'replace';
  readonly path: string;
  readonly value: string;
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** The AdmissionReview answer for `uid`. */
export function admissionResponse(uid: string, a: ReviewAnswer): Record<string, unknown> {
  const warnings = (a.warnings ?? []).slice(0, MAX_WARNINGS).map((w) => clip(w.replace(/[\r\n]+/g, ' '), MAX_WARNING_CHARS));
  if ((a.warnings ?? []).length > MAX_WARNINGS) warnings[MAX_WARNINGS - 1] = clip(`…and ${(a.warnings ?? []).length - MAX_WARNINGS + 1} more (see the webhook's logs)`, MAX_WARNING_CHARS);
  const response: Record<string, unknown> = { uid, allowed: a.allowed };
  if (!a.allowed) response.status = { code: 403, reason: 'Forbidden', message: clip(a.message ?? 'refused by the image signature webhook', MAX_MESSAGE_CHARS) };
  if (warnings.length > 0) response.warnings = warnings;
  if (a.auditAnnotations && Object.keys(a.auditAnnotations).length > 0) response.auditAnnotations = a.auditAnnotations;
  if (a.allowed && a.patch && a.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(a.patch), 'utf8').toString('base64');
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
