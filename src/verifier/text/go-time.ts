/**
 * Go `time` layouts notation prints in its messages.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

function offsetString(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  return `${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

/** Go `time.RFC1123Z`: `Mon, 02 Jan 2006 15:04:05 -0700` (UTC unless an offset in minutes is given). */
export function rfc1123z(d: Date, offsetMinutes = 0): string {
  const s = new Date(d.getTime() + offsetMinutes * 60_000);
  return `${DAYS[s.getUTCDay()]}, ${p2(s.getUTCDate())} ${MONTHS[s.getUTCMonth()]} ${s.getUTCFullYear()} `
    + `${p2(s.getUTCHours())}:${p2(s.getUTCMinutes())}:${p2(s.getUTCSeconds())} ${offsetString(offsetMinutes)}`;
}

/** Go `time.Time.String()` of a UTC time: `2006-01-02 15:04:05[.fff] +0000 UTC`. */
export function goUtcString(d: Date): string {
  const ms = d.getUTCMilliseconds();
  const frac = ms ? `.${String(ms).padStart(3, '0').replace(/0+$/, '')}` : '';
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} `
    + `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}${frac} +0000 UTC`;
}

/** Go `time.RFC3339` of a UTC time (whole seconds): `2006-01-02T15:04:05Z`. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
