/**
 * One load-generator run in a process of its own, so that its CPU time is its own: `node
 * load-runner.js '<json spec>'` prints one JSON line {requests, seconds, cpuUs, maxRssKiB, errors}.
 * Used by load-bench.ts for ajpbench (AJP and HTTP) and for autocannon, against the same stub.
 */
import { createRequire } from 'node:module';
import { replayParallel } from '../../src/load/parallel-replay.js';
import { parseTarget } from '../../src/load/target.js';

export type RunnerSpec =
  | {
      tool: 'ajpbench';
      trace: string;
      target: string;
      connections: number;
      durationMs?: number;
      loop: boolean;
      workers?: number;
    }
  | { tool: 'autocannon'; url: string; connections: number; durationMs: number };

export interface RunnerResult {
  requests: number;
  seconds: number;
  cpuUs: number;
  maxRssKiB: number;
  errors: number;
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
  if (spec.tool === 'ajpbench') {
    const { report } = await replayParallel({
      trace: spec.trace,
      targets: [parseTarget(spec.target)],
      model: 'closed',
      concurrency: spec.connections,
      workers: spec.workers ?? 1,
      loop: spec.loop,
      limits: { warmupMs: 0, durationMs: spec.durationMs ?? Infinity, requests: Infinity },
    });
    requests = report.requests.total;
    errors = report.requests.errors;
  } else {
    const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
    const r = await autocannon({
      url: spec.url,
      connections: spec.connections,
      duration: spec.durationMs / 1000,
      pipelining: 1,
    });
    requests = r.requests.total;
    errors = r.errors + r.non2xx;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return { requests, seconds, cpuUs: cpu.user + cpu.system, maxRssKiB: Math.round(peakRss / 1024), errors };
}

const arg = process.argv[2];
if (arg !== undefined) {
  const result = await main(JSON.parse(arg) as RunnerSpec);
  process.stdout.write(JSON.stringify(result) + '\n');
}
