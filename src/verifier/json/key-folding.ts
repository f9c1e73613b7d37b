/**
 * Object keys as Go's `encoding/json` matches them to struct fields: case-insensitively, with ASCII and
 * Unicode simple case folding (so `K` and the Kelvin sign U+212A, `s` and the long s U+017F, are one
 * key). The strict parser rejects documents with two such keys; {@link findFoldedKeyCollision} checks
 * values that were not parsed from text.
 */

/** Nesting depth followed by default (the strict parser's default too). */
export const DEFAULT_MAX_DEPTH = 512;

const foldCache = new Map<number, string>();

function singleCodePoint(s: string): boolean {
  const n = s.length;
  if (n === 1) return true;
  if (n !== 2) return false;
  const c = s.charCodeAt(0);
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * Representative of a code point's case class: lower(upper(lower(c))), each step kept only when it
 * maps to a single code point (simple, not full, case mapping). Every Unicode simple-fold orbit
 * (`unicode.SimpleFold`) lands on one representative (K, k and the Kelvin sign on `k`; S, s and the
 * long s on `s`; Σ, σ and ς on `σ`); a few classes Go keeps apart are merged (dotless ı with i),
 * which only makes the check stricter.
 */
function foldCodePoint(cp: number): string {
  let r = foldCache.get(cp);
  if (r !== undefined) return r;
  const c = String.fromCodePoint(cp);
  let v = c;
  const l1 = v.toLowerCase();
  if (singleCodePoint(l1)) v = l1;
  const u = v.toUpperCase();
  if (singleCodePoint(u)) v = u;
  const l2 = v.toLowerCase();
  if (singleCodePoint(l2)) v = l2;
  r = v;
  foldCache.set(cp, r);
  return r;
}

/**
 * The case-folded form of an object key: two keys Go's decoder could match to the same struct field
 * fold to the same string.
 */
export function foldJsonKey(key: string): string {
  const n = key.length;
  let i = 0;
  for (; i < n; i++) if (key.charCodeAt(i) >= 0x80) break;
  if (i === n) return key.toLowerCase();
  let out = key.slice(0, i).toLowerCase();
  for (const ch of key.slice(i)) {
    const cp = ch.codePointAt(0)!;
    out += cp < 0x80 ? ch.toLowerCase() : foldCodePoint(cp);
  }
  return out;
}

/** True when Go's `encoding/json` could match `a` and `b` to the same field (ASCII + simple folding). */
export function jsonKeysCollide(a: string, b: string): boolean {
  return a === b || foldJsonKey(a) === foldJsonKey(b);
}

/**
 * Checks an already-parsed value (e.g. a trust policy given as an object) for object keys that
 * collide under Go's case folding, at any depth.
 * @returns a description of the first collision, or undefined
 */
export function findFoldedKeyCollision(value: unknown, maxDepth = DEFAULT_MAX_DEPTH): string | undefined {
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string, depth: number): string | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    if (depth > maxDepth) return `${path}: nested deeper than ${maxDepth}`;
    if (seen.has(v)) return undefined;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const r = walk(v[i], `${path}[${i}]`, depth + 1);
        if (r) return r;
      }
      return undefined;
    }
    const keys = Object.keys(v);
    const folded = new Map<string, string>();
    for (const k of keys) {
      const f = foldJsonKey(k);
      const prev = folded.get(f);
      if (prev !== undefined) return `${path}: keys ${JSON.stringify(prev)} and ${JSON.stringify(k)} are the same key to Go's encoding/json (case-insensitive match)`;
      folded.set(f, k);
    }
    for (const k of keys) {
      const r = walk((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
      if (r) return r;
    }
    return undefined;
  };
  return walk(value, '$', 0);
}
