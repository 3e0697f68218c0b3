/**
 * `npm run bench`: prints throughput figures and ratios against a baseline measured in the same
 * run. Not part of `npm test`: speed targets live here, never in timed unit tests.
 *
 * Environment: AJPBENCH_BENCH_SECONDS (per row, default 2), AJPBENCH_BENCH_ROUNDS (load sections,
 * default 3); AJPBENCH_BENCH_ONLY=import runs only the import section (issue 14), AJPBENCH_BENCH_ONLY=lab only the last section (wrk and ajpbench through the
 * lab's httpd front ends, skipped when the lab is not up: npm run lab -- up).
 */
import { codecBenchmarks, type BenchResult } from './codec-bench.js';
import { captureBenchmarks } from './capture-bench.js';
import { defaultImportThreads } from '../../src/capture/index.js';
import { importBenchmark, labImportBenchmark, threadedCount, TRACE_FIELDS, type FreshImport } from './import-bench.js';
import { labLoadBenchmark } from './lab-load-bench.js';
import { loadBenchmarks } from './load-bench.js';
import { mirrorBenchmark, mirrorBenchRows } from './mirror-bench.js';
import { metricsBenchmark, metricsBenchRows } from './metrics-bench.js';
import { tapBenchmarks, tapBenchRows, tapSoak, tapSoakRows, tracerBenchmark, tracerBenchRows } from './tap-bench.js';

const minSeconds = Number(process.env.AJPBENCH_BENCH_SECONDS ?? '2');
const FR_TARGET = 500_000;
const only = process.env.AJPBENCH_BENCH_ONLY;
if (only !== undefined && only !== '' && only !== 'lab' && only !== 'import')
  throw new Error(`AJPBENCH_BENCH_ONLY takes lab or import (or nothing), got ${only}`);

async function labSection(): Promise<void> {
  console.log(
    '\nlab load (issue 12): wrk and ajpbench through httpd + mod_jk and httpd + mod_proxy_http, same run, same concurrency',
  );
  for (const line of await labLoadBenchmark(minSeconds)) console.log(line);
}

const IMPORT_TARGET_JSON = 50;
const IMPORT_TARGET_FIELDS = 10;
const IMPORT_TARGET_MBS = 150;
const met = (ok: boolean): string => (ok ? 'MET' : 'MISSED');

/** The targets for one capture: MB/s, and ratios against tshark's field extraction and JSON dissection. */
function importTargets(
  what: string,
  mb: number,
  seconds: number,
  fields: number | undefined,
  json: number | undefined,
  ports: string,
): void {
  const mbs = mb / seconds;
  console.log(
    `target: ${what}: import >= ${IMPORT_TARGET_MBS} MB/s: ${mbs.toFixed(1)} MB/s, ${met(mbs >= IMPORT_TARGET_MBS)}`,
  );
  if (fields === undefined || json === undefined) {
    console.log('tshark            not installed: no ratio (npm run lab -- install brings it)');
    return;
  }
  console.log(
    `tshark -T fields  same file in ${fields.toFixed(2)} s: ${(mb / fields).toFixed(1)} MB/s (the ${TRACE_FIELDS.length} AJP13 fields a trace keeps)`,
  );
  console.log(
    `tshark -T json    same file in ${json.toFixed(2)} s: ${(mb / json).toFixed(1)} MB/s (${ports} -T json: the whole dissection, like a trace)`,
  );
  const rj = json / seconds;
  const rf = fields / seconds;
  console.log(
    `target: ${what}: import >= ${IMPORT_TARGET_JSON}x tshark -T json: ${rj.toFixed(1)}x, ${met(rj >= IMPORT_TARGET_JSON)}`,
  );
  console.log(
    `target: ${what}: import >= ${IMPORT_TARGET_FIELDS}x tshark -T fields: ${rf.toFixed(1)}x, ${met(rf >= IMPORT_TARGET_FIELDS)}`,
  );
}

function freshRow(f: FreshImport, how = 'fresh process'): string {
  const mb = f.captureBytes / 1e6;
  return (
    `ajpbench import   ${how}, --threads ${f.threads}, ${mb.toFixed(1)} MB in ${f.seconds.toFixed(2)} s ` +
    `(CPU ${f.cpuSeconds.toFixed(2)} s): ${(mb / f.seconds).toFixed(1)} MB/s, ${fmt(f.exchanges / f.seconds)} exchanges/s, ` +
    `peak RSS ${(f.maxRssBytes / 1e6).toFixed(0)} MB`
  );
}

if (only === 'import') {
  await importSection();
  process.exit(0);
}

if (only === 'lab') {
  await labSection();
  process.exit(0);
}

function row(r: BenchResult, baseline: BenchResult): string {
  const fps = r.frames / r.seconds;
  const mbps = r.bytes / r.seconds / 1e6;
  const ratio = mbps / (baseline.bytes / baseline.seconds / 1e6);
  return `${r.name.padEnd(44)} ${fmt(fps).padStart(10)} frames/s ${mbps.toFixed(0).padStart(7)} MB/s  ${(ratio * 100).toFixed(1).padStart(6)}% of Buffer.copy`;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`;
}

console.log(`ajpbench codec benchmark (node ${process.version}, ${minSeconds}s per row, 64 KiB chunks)`);
const results = codecBenchmarks(minSeconds);
const baseline = results[0] as BenchResult;
for (const r of results) console.log(row(r, baseline));
const fr = results.find((r) => r.name === 'full decode, Forward Requests only') as BenchResult;
const frRate = fr.frames / fr.seconds;
console.log(
  `target: full decoding of Forward Requests >= ${fmt(FR_TARGET)} msg/s on one core: ${fmt(frRate)} msg/s, ${frRate >= FR_TARGET ? 'MET' : 'MISSED'}`,
);

console.log('\ncapture reading (synthetic capture, 64 KiB chunks)');
for (const r of await captureBenchmarks(minSeconds)) console.log(row(r, baseline));

await importSection();

console.log(
  '\nload generator (same stub server in its own process; set AJPBENCH_BENCH_LARGE=0 to skip the 1M-exchange replay)',
);
for (const line of (await loadBenchmarks(minSeconds)).lines) console.log(line);

console.log('\ntap (record): the tracer alone, then the same load direct, through a relay and through the tap');
for (const line of tracerBenchRows(await tracerBenchmark(50_000))) console.log(line);
for (const line of tapBenchRows(await tapBenchmarks(minSeconds))) console.log(line);

console.log('\nmirror (record --mirror): production latency through a tap with and without a slow mirror candidate');
for (const line of mirrorBenchRows(await mirrorBenchmark(minSeconds))) console.log(line);
const soakSeconds = Number(process.env.AJPBENCH_TAP_SOAK_SECONDS ?? '0');
if (soakSeconds > 0) {
  console.log('\ntap soak (memory over a long run; AJPBENCH_TAP_SOAK_SECONDS=1800 for the 30-minute soak)');
  for (const line of tapSoakRows(await tapSoak(soakSeconds))) console.log(line);
} else console.log('\ntap soak: skipped (set AJPBENCH_TAP_SOAK_SECONDS=1800 for the 30-minute soak)');

console.log('\nmetrics monitor (record --metrics): the tap with /metrics scraped every 100 ms against the plain tap');
const metricsMemorySeconds = Number(process.env.AJPBENCH_METRICS_BENCH_MEMORY_SECONDS ?? '30');
for (const line of metricsBenchRows(await metricsBenchmark(minSeconds, metricsMemorySeconds))) console.log(line);

await labSection();

async function importSection(): Promise<void> {
  console.log('\nimport benchmark (synthetic pcap of mod_jk-style traffic, trace discarded)');
  const imp = await importBenchmark(Number(process.env.AJPBENCH_BENCH_IMPORT_MB ?? '40'));
  const mb = imp.captureBytes / 1e6;
  const mbs = mb / imp.ajpbenchSeconds;
  console.log(
    `ajpbench import   ${mb.toFixed(1)} MB, ${imp.packets} packets, ${imp.exchanges} exchanges in ${imp.ajpbenchSeconds.toFixed(2)} s (warm, in process, one thread): ${mbs.toFixed(1)} MB/s, ${fmt(imp.exchanges / imp.ajpbenchSeconds)} exchanges/s`,
  );
  for (const f of imp.fresh) console.log(freshRow(f));
  const [rss1, rss2] = imp.fresh.map((f) => f.maxRssBytes);
  if (rss1 !== undefined && rss2 !== undefined)
    console.log(
      `target: peak RSS flat in the capture's size: ${(rss2 / rss1).toFixed(2)}x for twice the capture, ${met(rss2 <= rss1 * 1.25)}`,
    );
  console.log(
    `the import command (-o /dev/null, spawn to exit as tshark is timed), one thread and ${threadedCount()} (fastest of 2 alternating rounds; default here: ${defaultImportThreads()}):`,
  );
  for (const f of imp.threaded) console.log(freshRow(f, 'command'));
  importTargets(
    'warm, one thread',
    mb,
    imp.ajpbenchSeconds,
    imp.tsharkSeconds,
    imp.tsharkJsonSeconds,
    '-d tcp.port==8009,ajp13',
  );
  for (const f of imp.threaded)
    importTargets(
      `command, --threads ${f.threads}`,
      mb,
      f.seconds,
      imp.tsharkSeconds,
      imp.tsharkJsonSeconds,
      '-d tcp.port==8009,ajp13',
    );

  console.log(
    '\nimport benchmark on a lab capture (httpd + mod_jk and mod_proxy_ajp to two Tomcats under load, tcpdump on loopback)',
  );
  const lab = await labImportBenchmark((line) => console.log(line));
  if ('skipped' in lab) console.log(`lab capture: skipped: ${lab.skipped}`);
  else {
    const c = lab.capture;
    const labMb = c.bytes / 1e6;
    console.log(
      `lab capture       ${labMb.toFixed(1)} MB, ${c.requests} requests, ${c.dropped} packets dropped by tcpdump, ports ${c.ports.join(',')} ` +
        `(${c.fresh ? 'captured now' : 'cached from an earlier run'}: ${c.file})`,
    );
    for (const f of lab.imports) console.log(freshRow(f, 'command'));
    console.log(freshRow(lab.half, 'command') + ' (the first half of the capture)');
    const whole = lab.imports[0] as FreshImport; // one thread, as the half
    console.log(
      `target: peak RSS flat in the capture's size: ${(whole.maxRssBytes / lab.half.maxRssBytes).toFixed(2)}x for twice the capture, ${met(whole.maxRssBytes <= lab.half.maxRssBytes * 1.25)}`,
    );
    const portsText = c.ports.map((p) => `-d tcp.port==${p},ajp13`).join(' ');
    for (const f of lab.imports)
      importTargets(
        `lab, command, --threads ${f.threads}`,
        labMb,
        f.seconds,
        lab.tsharkSeconds,
        lab.tsharkJsonSeconds,
        portsText,
      );
  }
}
