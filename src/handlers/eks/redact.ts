/**
 * Redaction for everything the webhook-configuration handler writes (log lines, the CloudFormation
 * `Reason`): each secret value, and any URL that contains one, becomes `<redacted>`. Kubernetes error
 * bodies may echo field values (the webhook URL), so they pass through it too.
 */

export const REDACTED = '<redacted>';

/** Escapes a literal for a RegExp. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A function replacing every URL that contains one of `secrets`, then every remaining occurrence, with `<redacted>`. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const values = secrets.filter((s) => s.length > 0);
  if (values.length === 0) return (text) => text;
  const alternatives = values.map(literal).join('|');
  // A URL: scheme, "://" (possibly JSON-escaped as ":\/\/"), then anything up to whitespace, quotes,
  // angle brackets or a backslash (other than an escaped "/"); trailing punctuation stays outside.
  const char = '(?:[^\\s"\'<>`\\\\]|\\\\/)';
  const url = new RegExp(`[A-Za-z][A-Za-z0-9+.-]*:(?:\\\\?/){2}${char}*?(?:${alternatives})${char}*`, 'g');
  const bare = new RegExp(alternatives, 'g');
  const keepPunctuation = (m: string) => REDACTED + (/[.,:;!?)\]}]+$/.exec(m)?.[0] ?? '');
  return (text) => String(text).replace(url, keepPunctuation).replace(bare, REDACTED);
}
