/**
 * Metrics monitor benchmark (issue 17): `/metrics` scraped every 100 ms must change neither the
 * tap's forwarding latency nor its memory over time. In one run, with tap-bench.ts's client,
 * responder and relay (each hop in its own process):
 * - the paced 1 KiB load (16 connections, 2,000/s) direct, through the socket.pipe relay (the
 *   floor), through the tap, and through a tap with the metrics monitor whose endpoint a scraper
 *   process reads every SCRAPE_EVERY_MS; added latency p50/p99 over direct and CPU per exchange of each;
 * - memory over time: the tap and the scraped tap under the same paced load at the same time for
 *   `memorySeconds`, RSS and heap of both sampled every second; the scraped tap's last third's mean
 *   RSS against its first third's, beside the plain tap's.
 *
 * Targets, against the plain tap measured in the same run: added p50 ≤ 1.2x, added p99 ≤ 1.5x
 * (issue 13's ratios), RSS last third / first third ≤ 1.1; every scrape answered.
 *
 *   node dist/test/bench/metrics-bench.js [seconds] [memorySeconds]
 */
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { AjpMetrics } from '../../src/capture/index.js';
import type { ExchangeEvent } from '../../src/trace/index.js';
import { child, load, measured, type Child, type CpuReport, type LoadRun } from './tap-bench.js';

const SCRAPE_EVERY_MS = 100;
const CONNECTIONS = 16;
const RATE = 2000;
const MEMORY_RATE = 1000;
const RESPONSE_BYTES = 1024;
const P50_TARGET = 1.2;
const P99_TARGET = 1.5;
const GROWTH_TARGET = 1.1;

export interface MetricsBenchResult {
  /** AjpMetrics.observe() alone, one core: µs per exchange event (2 workers, 40 URI patterns), URIs repeating and every one new. */
  observeUs: number;
  observeFreshUs: number;
  seconds: number;
  direct: LoadRun;
  relay: LoadRun;
  tap: LoadRun;
  scrapedTap: LoadRun;
  /** Bytes the scraper read during the scraped tap's run, and failed scrapes (over the whole bench). */
  scrapedBytes: number;
  failedScrapes: number;
  /** Size of one scrape at the end, bytes. */
  scrapeSize: number;
  memorySeconds: number;
  /** [elapsed s, RSS MB, heap MB] samples. */
  tapMemory: [number, number, number][];
  scrapedMemory: [number, number, number][];
}

export async function metricsBenchmark(seconds: number, memorySeconds: number): Promise<MetricsBenchResult> {
  const responder = await child('responder');
  const relay = await child('pipe', { upstreamPort: responder.port });
  const tap = await child('tap', { upstreamPort: responder.port });
  const scraped = await child('tap', { upstreamPort: responder.port, metrics: true });
  const url = `http://127.0.0.1:${scraped.metricsPort}/metrics`;
  const scraper = await child('scraper', { url, everyMs: SCRAPE_EVERY_MS });
  try {
    const observeUs = observeCost(200_000, false);
    const observeFreshUs = observeCost(200_000, true);
    const warm = Math.min(1, seconds / 2);
    for (const port of [responder.port, relay.port, tap.port, scraped.port]) await load(port, RESPONSE_BYTES, warm);
    const direct = await load(responder.port, RESPONSE_BYTES, seconds, RATE, CONNECTIONS);
    const relayRun = await measured(relay, RESPONSE_BYTES, seconds, RATE, CONNECTIONS);
    const tapRun = await measured(tap, RESPONSE_BYTES, seconds, RATE, CONNECTIONS);
    const before = (await scraper.ask({ cmd: 'cpu' })) as CpuReport;
    const scrapedRun = await measured(scraped, RESPONSE_BYTES, seconds, RATE, CONNECTIONS);
    const after = (await scraper.ask({ cmd: 'cpu' })) as CpuReport;
    const memory = await memoryOverTime(tap, scraped, memorySeconds);
    const last = (await scraper.ask({ cmd: 'cpu' })) as CpuReport;
    const scrapeSize = (await (await fetch(url)).arrayBuffer()).byteLength;
    return {
      observeUs,
      observeFreshUs,
      seconds,
      direct,
      relay: relayRun,
      tap: tapRun,
      scrapedTap: scrapedRun,
      scrapedBytes: after.bytes - before.bytes,
      // A failed scrape subtracts 1e9 from the scraper's byte count (tap-bench.ts runScraper).
      failedScrapes: last.bytes < 0 ? Math.ceil(-last.bytes / 1e9) : 0,
      scrapeSize,
      memorySeconds,
      tapMemory: memory.tap,
      scrapedMemory: memory.scraped,
    };
  } finally {
    for (const c of [scraper, scraped, tap, relay]) c.proc.kill('SIGINT');
    responder.proc.kill();
  }
}

/**
 * The monitor's own cost per exchange, in this process: `n` exchange events with varied workers and
 * statuses; `fresh`: every URI new (ids in paths: the raw URI cache misses and the URI is folded).
 */
function observeCost(n: number, fresh: boolean): number {
  const m = new AjpMetrics({ processMetrics: false });
  const events: ExchangeEvent[] = Array.from({ length: 1000 }, (_, i) => ({
    event: 'exchange',
    id: i,
    conn: 1,
    t: 0,
    upstream: '127.0.0.1:18009',
    worker: i % 2 === 0 ? 'tomcat1' : 'tomcat2',
    request: {
      method: i % 10 === 0 ? 'POST' : 'GET',
      protocol: 'HTTP/1.1',
      uri: `/app/area${i % 40}/item/${i}`, // a fresh URI per event: the raw cache misses, the fold runs
      query: null,
      remoteAddr: '10.0.0.9',
      remoteHost: null,
      serverName: 'www',
      serverPort: 80,
      isSsl: false,
      headers: [],
      attributes: {},
      reqAttributes: [],
      body: { length: i % 10 === 0 ? 512 : 0, sha256: '' },
    },
    response: {
      status: i % 50 === 0 ? 503 : 200,
      message: 'OK',
      headers: [],
      body: { length: 1024, sha256: '' },
      reuse: true,
    },
    timing: { headersUs: 800 + (i % 300), endUs: 1200 + (i % 700) },
    route: null,
    routeSource: null,
    bodyRequests: 0,
  }));
  for (let i = 0; i < 20_000; i++) m.observe(events[i % events.length] as ExchangeEvent); // warm the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const e = events[i % events.length] as ExchangeEvent;
    if (fresh) e.request.uri = `/app/area${i % 40}/item/${i}`;
    m.observe(e);
  }
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

async function memoryOverTime(
  tap: Child,
  scraped: Child,
  seconds: number,
): Promise<{ tap: [number, number, number][]; scraped: [number, number, number][] }> {
  const out = { tap: [] as [number, number, number][], scraped: [] as [number, number, number][] };
  const started = Date.now();
  const sample = async (): Promise<void> => {
    const at = (Date.now() - started) / 1000;
    for (const [via, into] of [
      [tap, out.tap],
      [scraped, out.scraped],
    ] as const) {
      const r = (await via.ask({ cmd: 'cpu' })) as CpuReport;
      into.push([at, (r.rss ?? 0) / 1e6, (r.heapUsed ?? 0) / 1e6]);
    }
  };
  await sample();
  const timer = setInterval(() => void sample(), 1000);
  try {
    await Promise.all([
      load(tap.port, RESPONSE_BYTES, seconds, MEMORY_RATE, CONNECTIONS),
      load(scraped.port, RESPONSE_BYTES, seconds, MEMORY_RATE, CONNECTIONS),
    ]);
  } finally {
    clearInterval(timer);
  }
  await sample();
  return out;
}

export function metricsBenchRows(r: MetricsBenchResult): string[] {
  const f = (n: number): string => n.toFixed(0);
  const x2 = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}x` : 'n/a');
  const met = (ok: boolean): string => (ok ? 'MET' : 'MISSED');
  const lat = (x: LoadRun): string => `p50 ${f(x.p50Us)} p99 ${f(x.p99Us)} us`;
  const cpu = (x: LoadRun): string => `${f(x.cpuUs / Math.max(1, x.requests))} us CPU/exchange`;
  const added = (x: LoadRun, q: 'p50Us' | 'p99Us'): number => x[q] - r.direct[q];
  /** The scraped tap's added latency over the plain tap's; none when the tap added nothing measurable (noise). */
  const ratio = (q: 'p50Us' | 'p99Us'): number =>
    added(r.tap, q) > 1 ? added(r.scrapedTap, q) / added(r.tap, q) : NaN;
  const verdict = (v: number, target: number): string =>
    Number.isNaN(v) ? 'NOT MEASURABLE (the tap added nothing over direct: noise)' : met(v <= target);
  const thirds = (s: [number, number, number][]): [number, number] => {
    const x = s.slice(1); // the first sample is before the load: warm-up
    const n = Math.max(1, Math.floor(x.length / 3));
    const mean = (a: [number, number, number][]): number => a.reduce((m, v) => m + v[1], 0) / Math.max(1, a.length);
    return [mean(x.slice(0, n)), mean(x.slice(-n))];
  };
  const [tapEarly, tapLate] = thirds(r.tapMemory);
  const [scrEarly, scrLate] = thirds(r.scrapedMemory);
  const growth = scrLate / scrEarly;
  const r50 = ratio('p50Us');
  const r99 = ratio('p99Us');
  const heap = (s: [number, number, number][]): string =>
    `${(s[0]?.[2] ?? 0).toFixed(1)} -> ${(s[s.length - 1]?.[2] ?? 0).toFixed(1)} MB heap`;
  return [
    `ajpbench metrics benchmark (node ${process.version}, ${cpus().length} CPUs; ${CONNECTIONS} connections paced ${RATE}/s of ${RESPONSE_BYTES} B for ${r.seconds} s each; /metrics scraped every ${SCRAPE_EVERY_MS} ms by its own process)`,
    `AjpMetrics.observe() alone, one core, per exchange event (2 workers, 40 URI patterns): ${r.observeUs.toFixed(2)} us with URIs that repeat, ${r.observeFreshUs.toFixed(2)} us with a new URI every time (folded)`,
    `direct ${lat(r.direct)} | relay ${lat(r.relay)}, ${cpu(r.relay)} | tap ${lat(r.tap)}, ${cpu(r.tap)} | tap + metrics scraped ${lat(r.scrapedTap)}, ${cpu(r.scrapedTap)}`,
    `added p50: relay ${f(added(r.relay, 'p50Us'))} us, tap ${f(added(r.tap, 'p50Us'))} us, tap + metrics scraped ${f(added(r.scrapedTap, 'p50Us'))} us = ${x2(r50)} the tap's (target <= ${P50_TARGET}x: ${verdict(r50, P50_TARGET)})`,
    `added p99: relay ${f(added(r.relay, 'p99Us'))} us, tap ${f(added(r.tap, 'p99Us'))} us, tap + metrics scraped ${f(added(r.scrapedTap, 'p99Us'))} us = ${x2(r99)} the tap's (target <= ${P99_TARGET}x: ${verdict(r99, P99_TARGET)})`,
    `monitor CPU per exchange (scraped tap minus tap, scrapes included): ${f(r.scrapedTap.cpuUs / Math.max(1, r.scrapedTap.requests) - r.tap.cpuUs / Math.max(1, r.tap.requests))} us; ` +
      `one scrape ${(r.scrapeSize / 1024).toFixed(1)} KiB, ${(r.scrapedBytes / 1e6).toFixed(1)} MB scraped during the run, ${r.failedScrapes} scrapes failed (target 0: ${met(r.failedScrapes === 0)})`,
    `memory, ${r.memorySeconds} s at ${MEMORY_RATE}/s through both at once: tap RSS ${tapEarly.toFixed(1)} -> ${tapLate.toFixed(1)} MB (${heap(r.tapMemory)}); ` +
      `tap + metrics scraped RSS ${scrEarly.toFixed(1)} -> ${scrLate.toFixed(1)} MB (${heap(r.scrapedMemory)}), last third / first third ${growth.toFixed(3)} (target <= ${GROWTH_TARGET}: ${met(growth <= GROWTH_TARGET)})`,
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? process.env.AJPBENCH_BENCH_SECONDS ?? '2');
  const memorySeconds = Number(process.argv[3] ?? process.env.AJPBENCH_METRICS_BENCH_MEMORY_SECONDS ?? '30');
  for (const row of metricsBenchRows(await metricsBenchmark(seconds, memorySeconds))) console.log(row);
}
