/**
 * Validates Kubernetes objects against the Kubernetes OpenAPI v3 schemas kept in
 * test/fixtures/kubernetes (see PROVENANCE.md there), with ajv.
 *
 * The published schemas do not forbid unknown fields (the API server prunes or, with
 * `kubectl --validate=strict` / field validation `Strict`, rejects them using the same schemas). To
 * catch a misspelt field as the API server's strict field validation does, every object schema that
 * lists `properties` (and declares neither `additionalProperties` nor
 * `x-kubernetes-preserve-unknown-fields`) is closed here with `additionalProperties: false`.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'kubernetes');

/** Schema files, merged (component names are unique across them). */
export const SCHEMA_FILES = ['admissionregistration.k8s.io-v1.schemas.json'];

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

/** Loads the fixtures' component schemas into one ajv instance. */
export function kubernetesValidator(files: readonly string[] = SCHEMA_FILES): (component: string, object: unknown) => ErrorObject[] {
  const schemas: Record<string, unknown> = {};
  for (const f of files) {
    const doc = JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8'));
    Object.assign(schemas, doc.components.schemas);
  }
  close(schemas);
  // strict: false lets the x-kubernetes-* vendor keywords through; OpenAPI formats (int32, byte...) are not checked.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'k8s', components: { schemas } });
  const compiled = new Map<string, ValidateFunction>();
  return (component, object) => {
    let v = compiled.get(component);
    if (!v) {
      if (!schemas[component]) throw new Error(`no schema ${component} in the fixtures`);
      v = ajv.compile({ $ref: `k8s#/components/schemas/${component}` });
      compiled.set(component, v);
    }
    return v(object) ? [] : [...(v.errors ?? [])];
  };
}

/** `instancePath message` lines, for readable assertions. */
export function describeErrors(errors: readonly ErrorObject[]): string[] {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${(e.params as any).additionalProperty})` : ''}`);
}
