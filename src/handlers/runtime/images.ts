/**
 * Container image strings as ECS reports them (`host/repo:tag`, `host/repo@sha256:…`, or a tag plus a
 * separate `imageDigest`). Text operations only; the engine parses references (`parseReference`).
 */

/** Pins `image` to `digest`: `host/repo:tag` + `sha256:..` → `host/repo@sha256:..`. */
export function pinImage(image: string, digest?: string): string {
  if (!digest) return image;
  const at = image.indexOf('@');
  let name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  return `${name}@${digest}`;
}

/**
 * The digest an image string is pinned to (the text after its last `@`), or `undefined`. Not to be
 * confused with the engine's `digestOf(bytes)`, which hashes content.
 */
export function pinnedDigestOf(image: string): string | undefined {
  const at = image.lastIndexOf('@');
  return at >= 0 ? image.slice(at + 1) : undefined;
}
