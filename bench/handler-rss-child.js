/* eslint-disable */
// Runs the BUNDLED admission-hook handler alone in this process (plain node, no ts-node) and reports its
// memory: `node --expose-gc bench/handler-rss-child.js <bundle> <events.json> <out.json> <passes>`.
// The parent (bench/run.ts) starts the registry and the AWS API fake and points the environment at them.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

const [bundle, eventsFile, outFile, passesArg] = process.argv.slice(2);
const passes = Number(passesArg || 10);

// The handler writes one JSON log line per image; count them instead of printing them.
let logLines = 0;
const lastLines = [];
process.stdout.write = (chunk, enc, cb) => {
  logLines += String(chunk).split('\n').length - 1;
  lastLines.push(String(chunk).slice(0, 3000));
  if (lastLines.length > 4) lastLines.shift();
  if (typeof enc === 'function') enc();
  else if (typeof cb === 'function') cb();
  return true;
};

function peakRssMb() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / (1024 * 1024);
}

function context() {
  const end = Date.now() + 120000;
  return { functionName: 'bench-hook', awsRequestId: 'bench', getRemainingTimeInMillis: () => end - Date.now() };
}

async function main() {
  const rssBeforeLoadMb = process.memoryUsage().rss / (1024 * 1024);
  const { handler } = require(bundle);
  const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
  const afterPassMb = [];
  const peakAfterPassMb = [];
  let answers = 0;
  for (let p = 0; p < passes; p++) {
    for (const event of events) {
      // ECS invokes again with the hook's own hookDetails while it answers IN_PROGRESS.
      let res = await handler(event, context());
      answers++;
      for (let round = 0; res && res.hookStatus === 'IN_PROGRESS' && round < 20; round++) {
        res = await handler({ ...event, hookDetails: res.hookDetails }, context());
        answers++;
      }
      if (!res || res.hookStatus !== 'SUCCEEDED') {
        throw new Error(`pass ${p}: hook answered ${JSON.stringify(res)}\nlast log lines:\n${lastLines.join('')}`);
      }
    }
    if (global.gc) global.gc();
    afterPassMb.push(process.memoryUsage().rss / (1024 * 1024));
    peakAfterPassMb.push(peakRssMb());
  }
  writeFileSync(outFile, JSON.stringify({ rssBeforeLoadMb, afterPassMb, peakAfterPassMb, maxRssMb: peakRssMb(), answers, logLines }));
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
