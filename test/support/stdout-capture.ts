/** Captures JSON lines written to stdout (the handlers' structured logs and EMF records). */
export interface Captured {
  readonly lines: any[];
  restore(): void;
  verdicts(): any[];
  emf(): any[];
  messages(): string[];
}

export function captureStdout(): Captured {
  const lines: any[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: any, ...rest: any[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        lines.push(JSON.parse(line));
      } catch {
        original(line + '\n');
      }
    }
    const cb = rest.find((r) => typeof r === 'function');
    if (cb) cb();
    return true;
  }) as any);
  return {
    lines,
    restore: () => spy.mockRestore(),
    verdicts: () => lines.filter((l) => l.message === 'verdict'),
    emf: () => lines.filter((l) => l._aws),
    messages: () => lines.map((l) => l.message).filter(Boolean),
  };
}
