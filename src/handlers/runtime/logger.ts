/**
 * Structured logs of the handlers: one JSON object per line on stdout, which CloudWatch Logs keeps as
 * a structured event. The EMF metric records (metrics.ts) are written the same way.
 */

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Writes one JSON line on stdout. */
export function writeLine(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

/**
 * A logger whose every line carries the `base` fields (handler, request id, task...). `filter`, when
 * given, rewrites each serialized line before it is written (a redactor of secrets), children included.
 */
export class JsonLogger {
  public constructor(private readonly base: Record<string, unknown>, private readonly filter?: (line: string) => string) {}

  public log(level: LogLevel, message: string, data: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ timestamp: new Date().toISOString(), ...this.base, ...data, level, message });
    process.stdout.write((this.filter ? this.filter(line) : line) + '\n');
  }
  public info(message: string, data?: Record<string, unknown>): void {
    this.log('INFO', message, data);
  }
  public warn(message: string, data?: Record<string, unknown>): void {
    this.log('WARN', message, data);
  }
  public error(message: string, data?: Record<string, unknown>): void {
    this.log('ERROR', message, data);
  }
  public child(extra: Record<string, unknown>): JsonLogger {
    return new JsonLogger({ ...this.base, ...extra }, this.filter);
  }
}
