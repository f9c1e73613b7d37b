/**
 * An ASCII sketch of a synthesized CloudWatch dashboard body: every widget as a box at its x/y/width/
 * height (3 characters per grid column, one line per grid row), titled with its title (or its type).
 * README.md's "Operating it" picture is this sketch of the example app's dashboard; the test keeps it current.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

const COL = 3;

export function sketch(body: { widgets: any[] }): string {
  const width = 24 * COL + 1;
  const height = Math.max(...body.widgets.map((w) => w.y + w.height)) + 1;
  const canvas = Array.from({ length: height }, () => Array<string>(width).fill(' '));
  const put = (x: number, y: number, c: string) => {
    const old = canvas[y][x];
    canvas[y][x] = (c === '+' || (old !== ' ' && old !== c)) ? '+' : c;
  };
  for (const w of body.widgets) {
    const x0 = w.x * COL, x1 = (w.x + w.width) * COL, y0 = w.y, y1 = w.y + w.height;
    for (let x = x0; x <= x1; x++) { put(x, y0, '-'); put(x, y1, '-'); }
    for (let y = y0; y <= y1; y++) { put(x0, y, '|'); put(x1, y, '|'); }
    for (const [x, y] of [[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) put(x, y, '+');
    const title = String(w.properties?.title ?? (w.type === 'text' ? 'header: runbook link' : w.type));
    // Word-wrap the title into the box (one space of padding each side).
    const room = x1 - x0 - 3;
    const lines: string[] = [];
    for (const word of title.split(' ')) {
      const last = lines[lines.length - 1];
      if (last !== undefined && last.length + 1 + word.length <= room) lines[lines.length - 1] = `${last} ${word}`;
      else lines.push(word.slice(0, room));
    }
    lines.slice(0, Math.max(1, y1 - y0 - 1)).forEach((line, i) => {
      [...line].forEach((c, k) => { canvas[y0 + 1 + i][x0 + 2 + k] = c; });
    });
  }
  return canvas.map((row) => row.join('').trimEnd()).join('\n');
}

/** The dashboard body of `template` with each `{ Ref: X }` / `Fn::GetAtt` rendered as `<X>`. */
export function dashboardBody(template: Template): any {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as any[];
  if (dashboards.length !== 1) throw new Error(`expected one dashboard, found ${dashboards.length}`);
  const body = dashboards[0].Properties.DashboardBody;
  const parts: any[] = body['Fn::Join'] ? body['Fn::Join'][1] : [body];
  const text = parts.map((p) => {
    if (typeof p === 'string') return p;
    if (p.Ref) return `<${p.Ref}>`;
    if (p['Fn::GetAtt']) return `<${p['Fn::GetAtt'].join('.')}>`;
    return '<?>';
  }).join('');
  return JSON.parse(text);
}

/** The sketch of the example app's dashboard. */
export function exampleSketch(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildExampleApp } = require('../../examples/app');
  const { stack } = buildExampleApp(new App());
  return sketch(dashboardBody(Template.fromStack(stack)));
}

if (require.main === module) {
  process.stdout.write(`${exampleSketch()}\n`);
}
