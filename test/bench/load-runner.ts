/**
 * One load-generator run in a process of its own, so that its CPU time is its own: `node
 * load-runner.js '<json spec>'` prints one JSON line {requests, seconds, cpuUs, maxRssKiB, errors}.
 * Used by load-bench.ts for ajpbench (AJP and HTTP, each HTTP client) and for autocannon, against
 * the same stub.
 */
import { createRequire } from 'node:module';
import { replayParallel } from '../../src/load/parallel-replay.js';
import type { HttpClientKind } from '../../src/load/replay.js';
import { ReplayResults } from '../../src/load/replay-results.js';
import { TraceRequestSource } from '../../src/load/request-source.js';
import { ClosedLoopScheduler } from '../../src/load/schedulers.js';
import { parseTarget } from '../../src/load/target.js';
import { UndiciRequestClient } from './undici-request-client.js';

export type RunnerSpec =
  | {
      tool: 'ajpbench';
      trace: string;
      target: string;
      connections: number;
      durationMs?: number;
      loop: boolean;
      workers?: number;
      /** http:// targets: the client; `undici-request` is the bench's own (undici-request-client.ts). */
      httpClient?: HttpClientKind | 'undici-request';
    }
  | { tool: 'autocannon'; url: string; connections: number; durationMs: number };

export interface RunnerResult {
  requests: number;
  seconds: number;
  cpuUs: number;
  maxRssKiB: number;
  /** Socket errors plus responses whose status is not 2xx or 3xx. */
  errors: number;
  /** Of `errors`, the responses with a status other than 2xx or 3xx (when the tool tells them apart). */
  non2xx?: number;
  /** ajpbench only: responses per second over its measured window, as its report gives it. */
  perSecond?: number;
}

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  non2xx: number;
  duration: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
}) => Promise<AutocannonResult>;

async function main(spec: RunnerSpec): Promise<RunnerResult> {
  // Peak RSS sampled here: getrusage's maxRSS would carry over the parent's high-water mark
  // through fork and exec on Linux, so every run would report the bench process's own size.
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let requests = 0;
  let errors = 0;
  let non2xx = 0;
  let perSecond: number | undefined;
  if (spec.tool === 'ajpbench' && spec.httpClient === 'undici-request') {
    ({ requests, errors } = await undiciRequestRun(spec));
  } else if (spec.tool === 'ajpbench') {
    const httpClient = spec.httpClient;
    const { report } = await replayParallel({
      trace: spec.trace,
      targets: [parseTarget(spec.target)],
      model: 'closed',
      concurrency: spec.connections,
      workers: spec.workers ?? 1,
      loop: spec.loop,
      limits: { warmupMs: 0, durationMs: spec.durationMs ?? Infinity, requests: Infinity },
      ...(httpClient === undefined || httpClient === 'undici-request' ? {} : { httpClient }),
    });
    non2xx = report.statuses.reduce((n, s) => n + (s.status < 200 || s.status > 399 ? s.count : 0), 0);
    requests = report.requests.total;
    errors = report.requests.errors + non2xx;
    perSecond = report.requests.perSecond;
  } else {
    const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
    const r = await autocannon({
      url: spec.url,
      connections: spec.connections,
      duration: spec.durationMs / 1000,
      pipelining: 1,
    });
    requests = r.requests.total;
    non2xx = r.non2xx;
    errors = r.errors + r.non2xx;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return {
    requests,
    seconds,
    cpuUs: cpu.user + cpu.system,
    maxRssKiB: Math.round(peakRss / 1024),
    errors,
    non2xx,
    ...(perSecond === undefined ? {} : { perSecond }),
  };
}

/** The closed loop of replay() (same source, scheduler and results) around the bench's undici request() client. */
async function undiciRequestRun(
  spec: Extract<RunnerSpec, { tool: 'ajpbench' }>,
): Promise<{ requests: number; errors: number }> {
  const source = await TraceRequestSource.open(spec.trace, { loop: spec.loop });
  const target = parseTarget(spec.target);
  const client = new UndiciRequestClient(`http://${target.host}:${target.port}`, spec.connections);
  const results = new ReplayResults([client.label], false);
  const scheduler = new ClosedLoopScheduler({
    clients: [client],
    source,
    sink: results,
    limits: { warmupMs: 0, durationMs: spec.durationMs ?? Infinity, requests: Infinity },
    concurrency: spec.connections,
    drainMs: 5000,
  });
  results.begin(performance.now(), 0);
  const schedule = await scheduler.run();
  source.close();
  await client.close();
  const report = results.report(schedule, [], {}, new Date().toISOString());
  return { requests: report.requests.total, errors: report.requests.errors };
}

const arg = process.argv[2];
if (arg !== undefined) {
  const result = await main(JSON.parse(arg) as RunnerSpec);
  process.stdout.write(JSON.stringify(result) + '\n');
}
