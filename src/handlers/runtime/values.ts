/**
 * Reading untrusted values in the handlers: events and errors. No imports, so pure modules (the EKS
 * AdmissionReview reader) can use it without loading the runtime.
 */

/** An error for a log line or a message: `Name: message` for an Error, else its string form. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** A plain JSON object (not null, not an array): how the handlers test event fields. */
export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
