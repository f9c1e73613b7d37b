// Renders docs/bench-table.md from bench/results.json (so the README table always matches the numbers).
import { readFileSync, writeFileSync } from 'node:fs';
const root = new URL('..', import.meta.url).pathname;
const r = JSON.parse(readFileSync(`${root}bench/results.json`, 'utf8'));
const m = r.machine;
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const wf = r.notes.warmFloor;
const hm = r.notes.handlerMemory;
const rows = [
  ['Warm verify p50 ÷ its floor (`ratioWarmToFloor`)', `${r.ratioWarmToFloor} (${r.warmVerifyP50Ms} ms)`,
    `floor ${wf.ms} ms = ${wf.criticalPathRoundTrips} dependent round trips × ${wf.loopbackRoundTripMs} ms loopback + ${r.notes.engineInMemoryVerifyMs} ms engine`, '≤ 1.25', r.offBy.ratioWarmToFloor],
  ['Engine ÷ crypto (`ratioEngineToCrypto`)', `${r.ratioEngineToCrypto} (${r.notes.engineInMemoryVerifyMs} ms)`,
    `crypto ${r.cryptoMsPerChain} ms (envelope + chain signatures with node:crypto)`, '≤ 1.25', r.offBy.ratioEngineToCrypto],
  ['100 images at once ÷ registry (`ratioFanOutToRegistry`)', `${r.ratioFanOutToRegistry} (${r.notes.fanOut.hundredImagesMs} ms)`,
    `${r.notes.registryAlone.concurrentRequests} bare GETs at once: ${r.notes.registryAlone.concurrentMs} ms`, '≤ 1.2', r.offBy.ratioFanOutToRegistry],
  ['Bundled hook handler, 100 images × 10 passes (`handlerMaxRssMb`)', `${r.handlerMaxRssMb} MB peak RSS; ${hm.firstPassMb} → ${hm.lastPassMb} MB after pass 1 → 10`,
    `bare \`node\` ≈ ${hm.rssBeforeLoadMb ?? '?'} MB`, '≤ 128 MB, no growth', r.offBy.handlerMaxRssMb],
  ['Cached verdict (`cachedVerifyMs`)', `${r.cachedVerifyMs} ms`, '-', '< 0.1 ms', r.offBy.cachedVerifyMs],
  ['Registry requests per uncached image (`registryRequestsPerImage`)', `${r.registryRequestsPerImage}`, '4 for a digest reference', '≤ 4 (+1 Signer revocation call)', r.offBy.registryRequestsPerImage],
  ...Object.keys(r.bundleBytes).map((h) => [`Bundle \`${h}\` (\`bundleBytes\`)`, `${r.bundleBytes[h]} B (${kb(r.bundleBytes[h])})`, '-', '≤ 1 MB', r.offBy.bundleBytes[h]]),
  ...Object.keys(r.coldLoadMs).map((h) => [`Cold load \`${h}\` (\`coldLoadMs\`, net of bare \`node\`)`, `${r.coldLoadMs[h].netMs} ms (raw ${r.coldLoadMs[h].rawMs} ms)`, `bare \`node\` ${r.coldLoadMs[h].baselineMs} ms`, '≤ 150 ms', r.offBy.coldLoadMs[h]]),
];
const status = (s) => (s === 'met' ? '✅ met' : s === 'reference' ? '' : `❌ ${s}`);
const lines = [
  '## Performance',
  '',
  `Measured by \`npx projen bench\` (bench/run.ts) in one run on ${m.cpu}, ${m.cores} vCPUs, ${m.ramGb} GB RAM, Node ${m.node}, ${m.os}`
    + ` (${m.date.slice(0, 10)}; 1-minute load average ${m.loadAverage1mAtStart} at start: the machine was shared).`
    + ` Each number is a median over ${m.rounds} rounds. Chain: ${m.chain}. Registry: ${m.registry}.`,
  '',
  '| Metric | Measured | Floor (same run) | Target | Status |',
  '|---|---|---|---|---|',
  ...rows.map(([a, b, c, d, e]) => `| ${a} | ${b} | ${c} | ${d} | ${status(e)} |`),
  '',
  'How the floors are measured (same run, `notes` in bench/results.json):',
  '',
  `- Dependent round trips: a timing proxy in front of the registry records every request of one uncached verification;`
    + ` the longest chain of requests that start only after the previous one ended is ${wf.criticalPathRoundTrips}`
    + ` (of ${wf.requestsPerVerification} requests: the manifest and the signature listing are fetched in parallel).`
    + ` The loopback round trip is the median of sequential keep-alive manifest GETs (${wf.loopbackRoundTripMs} ms).`,
  `- The engine alone: the same image and signature served from memory, ${r.notes.engineInMemoryVerifyMs} ms per verification.`,
  `- The registry alone: ${r.notes.registryAlone.concurrentRequests} bare manifest GETs at once through 16 keep-alive sockets`
    + ' (the verifier\'s own bound), the number of requests the 100-image fan-out sends.',
  `- Memory: the bundled admission-hook handler runs in its own plain \`node\` process (no ts-node) against the AWS API fake;`
    + ` RSS is read after a GC at the end of each pass, the peak from the kernel (VmHWM). Figures for the whole benchmark process`
    + ` (${r.notes.benchProcessMaxRssMb} MB, with ts-node) are not the handler's.`,
  '- Cold-load numbers are small differences of two noisy process start times; a negative net value means "within noise".',
  '',
];
writeFileSync(`${root}docs/bench-table.md`, lines.join('\n'));
// Keep the README's table identical to the numbers: replace what stands between its markers.
const readme = readFileSync(`${root}README.md`, 'utf8');
const body = lines.join('\n').replace(/^## Performance\n\n/, '').trim();
const updated = readme.replace(/<!-- bench-table -->[\s\S]*<!-- \/bench-table -->/, `<!-- bench-table -->\n${body}\n<!-- /bench-table -->`);
writeFileSync(`${root}README.md`, updated);
console.log(lines.join('\n'));
