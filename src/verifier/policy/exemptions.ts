/**
 * Exemption globs: images admitted without verification. One implementation for the handlers (which
 * admit by them) and the constructs' synth-time scope check (which warns about images they do not
 * cover). Matching happens on canonical forms only (see `canonicalScope`).
 */
import { canonicalScope, formatReference, parseReference, repositoryScope, scopeRegistry } from '../reference';

/** Compiles a glob: `**` any characters, `*` any characters but `/`, `?` one character but `/`. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/**
 * An exemption glob with its registry host in canonical form (`canonicalScope` of the part before the
 * first `/`), so that it is written against the same spelling the image is matched in.
 */
export function canonicalExemption(glob: string): string {
  const slash = glob.indexOf('/');
  if (slash <= 0) return glob;
  const host = glob.slice(0, slash);
  // A host with glob characters cannot be canonicalised as an address: lower-case it only.
  if (/[*?]/.test(host)) return glob.slice(0, slash).toLowerCase() + glob.slice(slash);
  return canonicalScope(glob).slice(0, -glob.slice(slash).length) + glob.slice(slash);
}

/**
 * Returns the exemption pattern matching `image`, if any. Matched against the image's canonical forms
 * only (`registry/repository` and the full reference, registry host canonical), never the spelling
 * the caller wrote: `LOCALHOST:5000/tools/x` and `localhost:5000/tools/x` are one image. A reference
 * that does not parse is never exempt (it fails verification instead).
 */
export function matchExemption(patterns: readonly RegExp[], sources: readonly string[], image: string): string | undefined {
  let candidates: string[];
  try {
    const ref = parseReference(image);
    candidates = [formatReference({ ...ref, registry: scopeRegistry(ref.registry) }), repositoryScope(ref)];
  } catch {
    return undefined;
  }
  for (let i = 0; i < patterns.length; i++) {
    if (candidates.some((c) => patterns[i].test(c))) return sources[i];
  }
  return undefined;
}
