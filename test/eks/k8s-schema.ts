/**
 * Validates Kubernetes objects against the Kubernetes OpenAPI schemas kept in test/fixtures/kubernetes
 * (see PROVENANCE.md there), with ajv. Two kinds of fixture are read:
 *
 * - OpenAPI v3 `components.schemas` files (the admissionregistration.k8s.io/v1 fixture; refs
 *   `#/components/schemas/...`), loaded as they were before the v2 fixture existed: one ajv document
 *   `k8s`, no format checks, vendor keywords ignored.
 * - OpenAPI v2 `definitions` files (the workload fixture written by extract.mjs; refs
 *   `#/definitions/...`), loaded as one ajv document `k8s-v2` whose refs resolve inside it unchanged.
 *   The v2 dialect differs from JSON Schema in a few places, handled explicitly here (see
 *   {@link fromOpenApiV2}).
 *
 * Both: the published schemas do not forbid unknown fields (the API server prunes or, with
 * `kubectl --validate=strict` / field validation `Strict`, rejects them using the same schemas). To
 * catch a misspelt field as the API server's strict field validation does, every object schema that
 * lists `properties` (and declares neither `additionalProperties` nor
 * `x-kubernetes-preserve-unknown-fields`) is closed here with `additionalProperties: false`.
 *
 * A name present in several files (ObjectMeta is in both fixtures) is validated with the first file
 * of the list that has it.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'kubernetes');

export const ADMISSIONREGISTRATION_FILE = 'admissionregistration.k8s.io-v1.schemas.json';
export const WORKLOADS_FILE = 'workloads-v1.definitions.json';

/** Schema files, in lookup order. */
export const SCHEMA_FILES = [ADMISSIONREGISTRATION_FILE, WORKLOADS_FILE];

export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/**
 * A resource quantity as a string, from the grammar published in the Quantity definition's description:
 * `<signedNumber><suffix>`, number `digits | digits.digits | digits. | .digits`, suffix a binary SI
 * suffix (Ki..Ei), a decimal SI suffix (m, k, M..E, or none) or a decimal exponent (`e`/`E` and a signed
 * number).
 */
export const QUANTITY_PATTERN = '^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+))?$';

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const INT64 = { min: -(2 ** 63), max: 2 ** 63 - 1 };
/** RFC 3339 as Go's time.Parse(time.RFC3339) reads metav1.Time (fractional seconds allowed). */
const RFC3339 = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/;

type Schema = Record<string, any>;
export type KubernetesValidator = (name: string, object: unknown) => ErrorObject[];

function close(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(close);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.properties && typeof o.properties === 'object' && o.additionalProperties === undefined && o['x-kubernetes-preserve-unknown-fields'] !== true) {
    o.additionalProperties = false;
  }
  for (const v of Object.values(o)) close(v);
}

/** Every schema reachable in `node` (properties, items, additionalProperties, allOf...), depth first. */
function forEachSchema(node: Schema, visit: (s: Schema) => void): void {
  if (!node || typeof node !== 'object') return;
  visit(node);
  for (const s of Object.values(node.properties ?? {})) forEachSchema(s as Schema, visit);
  for (const k of ['items', 'additionalProperties', 'else']) if (node[k] && typeof node[k] === 'object') forEachSchema(node[k], visit);
  for (const k of ['allOf', 'anyOf', 'oneOf']) for (const s of node[k] ?? []) forEachSchema(s, visit);
}

/**
 * OpenAPI v2 definitions (as published, descriptions removed) → JSON-schema definitions ajv validates
 * as the API server decodes and validates objects. Documented in PROVENANCE.md:
 *
 * 1. `IntOrString` (v2: `type: string, format: int-or-string`) accepts an int32 or a string.
 * 2. `Quantity` (v2: `type: string`) accepts a JSON number or a string matching {@link QUANTITY_PATTERN}.
 * 3. Formats are checked (ajv formats registered in {@link kubernetesValidator}): `int32` / `int64`
 *    integers in range, `date-time` RFC 3339; any other format is refused at load time.
 * 4. Optional properties accept `null` (the API server's JSON decoding treats `null` as "not set",
 *    e.g. `metadata.creationTimestamp: null` in kubectl output): each property not in `required`
 *    becomes `{ if: { type: 'null' }, else: <published schema> }`; the wrapper's own `if` errors are
 *    dropped from the results. A required property set to `null` still fails.
 * 5. Object schemas with `properties` are closed (`additionalProperties: false`), as for v3.
 * 6. `x-kubernetes-*` keywords are declared to ajv as annotations (they describe list/map merging for
 *    strategic merge patch and server-side apply and unions; they do not constrain a created object),
 *    so ajv runs in strict mode and refuses any other unknown keyword.
 */
export function fromOpenApiV2(published: Record<string, Schema>): Record<string, Schema> {
  const defs: Record<string, Schema> = JSON.parse(JSON.stringify(published));
  if (defs[INT_OR_STRING]) defs[INT_OR_STRING] = { type: ['integer', 'string'], minimum: INT32.min, maximum: INT32.max };
  if (defs[QUANTITY]) defs[QUANTITY] = { type: ['string', 'number'], pattern: QUANTITY_PATTERN };
  close(defs);
  for (const def of Object.values(defs)) {
    forEachSchema(def, (s) => {
      if (!s.properties) return;
      const required = new Set<string>(s.required ?? []);
      for (const [name, prop] of Object.entries<Schema>(s.properties)) {
        if (!required.has(name)) s.properties[name] = { if: { type: 'null' }, else: prop };
      }
    });
  }
  return defs;
}

function vendorKeywords(node: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(node)) {node.forEach((n) => vendorKeywords(n, into));} else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('x-kubernetes-')) into.add(k);
      vendorKeywords(v, into);
    }
  }
  return into;
}

interface Entry {
  readonly ajv: Ajv;
  readonly ref: string;
  readonly published: Schema;
}

/** `apiVersion`/`kind` of a top-level object against its definition's published group-version-kind. */
function gvkErrors(published: Schema, object: unknown): ErrorObject[] {
  const gvks = published['x-kubernetes-group-version-kind'] as Array<{ group: string; version: string; kind: string }> | undefined;
  if (!gvks || !object || typeof object !== 'object' || Array.isArray(object)) return [];
  const o = object as Record<string, unknown>;
  const errors: ErrorObject[] = [];
  const check = (field: 'apiVersion' | 'kind', allowed: string[]) => {
    if (o[field] === undefined || o[field] === null || allowed.includes(o[field] as string)) return;
    errors.push({ instancePath: `/${field}`, schemaPath: '#/x-kubernetes-group-version-kind', keyword: 'x-kubernetes-group-version-kind', params: { allowedValues: allowed }, message: `must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}` });
  };
  check('apiVersion', gvks.map((g) => (g.group ? `${g.group}/${g.version}` : g.version)));
  check('kind', gvks.map((g) => g.kind));
  return errors;
}

/** Loads the fixtures (v3 component schemas and v2 definitions); returns a validator by schema name. */
export function kubernetesValidator(files: readonly string[] = SCHEMA_FILES): KubernetesValidator {
  const v3: Record<string, Schema> = {};
  const v2: Record<string, Schema> = {};
  const order: Array<[string, 'v3' | 'v2']> = [];
  for (const f of files) {
    const doc = JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8'));
    const [into, kind] = doc.definitions ? [v2, 'v2' as const] : [v3, 'v3' as const];
    const schemas = doc.definitions ?? doc.components?.schemas;
    if (!schemas) throw new Error(`${f}: neither definitions (OpenAPI v2) nor components.schemas (OpenAPI v3)`);
    for (const name of Object.keys(schemas)) order.push([name, kind]);
    Object.assign(into, schemas);
  }
  const entries = new Map<string, Entry>();

  // v3: unchanged. strict: false lets the x-kubernetes-* vendor keywords through; OpenAPI formats (int32, byte...) are not checked.
  const v3Schemas = JSON.parse(JSON.stringify(v3));
  close(v3Schemas);
  const ajv3 = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv3.addSchema({ $id: 'k8s', components: { schemas: v3Schemas } });

  const ajv2 = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true, validateFormats: true });
  for (const k of vendorKeywords(v2, new Set())) ajv2.addKeyword({ keyword: k, schemaType: ['string', 'array', 'object', 'boolean'] });
  ajv2.addFormat('int32', { type: 'number', validate: (x: number) => Number.isInteger(x) && x >= INT32.min && x <= INT32.max });
  ajv2.addFormat('int64', { type: 'number', validate: (x: number) => Number.isInteger(x) && x >= INT64.min && x <= INT64.max });
  ajv2.addFormat('date-time', { type: 'string', validate: (x: string) => RFC3339.test(x) && !Number.isNaN(Date.parse(x)) });
  ajv2.addSchema({ $id: 'k8s-v2', definitions: fromOpenApiV2(v2) });

  for (const [name, kind] of order) {
    if (entries.has(name)) continue;
    entries.set(name, kind === 'v3'
      ? { ajv: ajv3, ref: `k8s#/components/schemas/${name}`, published: v3[name] }
      : { ajv: ajv2, ref: `k8s-v2#/definitions/${name}`, published: v2[name] });
  }
  const compiled = new Map<string, ValidateFunction>();
  return (name, object) => {
    const entry = entries.get(name);
    if (!entry) throw new Error(`no schema ${name} in the fixtures`);
    let v = compiled.get(name);
    if (!v) {
      v = entry.ajv.compile({ $ref: entry.ref });
      compiled.set(name, v);
    }
    const errors = v(object) ? [] : (v.errors ?? []).filter((e) => e.keyword !== 'if');
    return [...gvkErrors(entry.published, object), ...errors];
  };
}

/** The definition name of a workload kind (`Pod`, `Deployment`, ... `CronJob`). */
export function definitionOf(kind: string): string {
  const group = { Pod: 'core', Deployment: 'apps', ReplicaSet: 'apps', StatefulSet: 'apps', DaemonSet: 'apps', Job: 'batch', CronJob: 'batch' }[kind];
  if (!group) throw new Error(`no workload definition for kind ${kind}`);
  return `io.k8s.api.${group}.v1.${kind}`;
}

/** `instancePath message` lines, for readable assertions. */
export function describeErrors(errors: readonly ErrorObject[]): string[] {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${(e.params as any).additionalProperty})` : ''}`);
}
