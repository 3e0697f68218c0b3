/**
 * `--workers N` (issue 12, "every core"): the load of one replay spread over N worker_threads,
 * each with its own connections, trace reader and event loop (load/replay-worker.ts), and merged
 * back into one report of the same shape as a single thread's.
 *
 * The shares are exact: concurrency (connections per target) and a --requests limit are split as
 * evenly as whole numbers allow and add up to the total; the requests themselves are dealt
 * round-robin (worker i takes requests i, i + N, ... of the stream one thread would send:
 * TraceSourceOptions.stride), and so is an open-loop schedule (ConstantPacer's stride): the
 * workers' due times interleave into exactly the single schedule, each absolute from the common
 * start, so the rates sum to --rate with no drift and a stall still shows in every worker's
 * latency (from the due time). Merging (results/merge-results.ts, mergeWorkerReports) adds
 * histograms and counts; the generator's CPU is the whole process's, over N threads.
 */
import { Worker } from 'node:worker_threads';
import { RuntimeError, UsageError, type RuntimeErrorCode, type UsageErrorCode } from '../errors.js';
import { generatorWarning, judgeGenerator, GENERATOR_BOUND } from '../results/generator-report.js';
import { mergeWorkerReports } from '../results/merge-results.js';
import { SESSIONS_MOVED, sessionsWarning, type ProgressSnapshot, type ReplayReport } from '../results/replay-report.js';
import { GeneratorMonitor } from './generator-monitor.js';
import { MAX_CONCURRENCY } from './limits.js';
import { replay, type ReplayOptions } from './replay.js';
import type { FromWorker, WorkerInput } from './replay-worker.js';

/** The most worker threads: beyond the cores they only share them. */
export const MAX_WORKERS = 256;

/** `total` in `n` whole parts that add up to it exactly, the larger first (10 in 3: 4, 3, 3). */
export function splitEvenly(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  const extra = total - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The options of worker `i` of `n`. */
export function workerOptions(o: ReplayOptions, i: number, n: number): ReplayOptions {
  const requests = o.limits.requests === Infinity ? Infinity : (splitEvenly(o.limits.requests, n)[i] as number);
  return {
    ...o,
    workers: 1,
    concurrency: splitEvenly(o.concurrency, n)[i] as number,
    limits: { ...o.limits, requests },
    stride: { every: n, offset: i },
  };
}

/** Workers a run can use: at most one per connection (each needs one) and per measured request. */
export function effectiveWorkers(o: ReplayOptions): number {
  const n = Math.max(1, Math.floor(o.workers ?? 1));
  return Math.min(n, o.concurrency, o.limits.requests);
}

export interface ParallelOutcome {
  report: ReplayReport;
}

/** replay() on `workers` threads; with one it is replay() itself. */
export async function replayParallel(opts: ReplayOptions): Promise<ParallelOutcome> {
  if (
    opts.workers !== undefined &&
    !(Number.isInteger(opts.workers) && opts.workers >= 1 && opts.workers <= MAX_WORKERS)
  )
    throw new UsageError(`--workers takes a whole number from 1 to ${MAX_WORKERS}, got ${opts.workers}`);
  const n = effectiveWorkers(opts);
  if (n <= 1) return replay({ ...opts, workers: 1 });
  if (opts.concurrency > MAX_CONCURRENCY) return replay({ ...opts, workers: 1 }); // replay() refuses it by name
  const now = opts.now ?? (() => performance.now());
  const monitor = new GeneratorMonitor(n);
  monitor.start(now());
  const progress = new Array<ProgressSnapshot | undefined>(n);
  const workers = Array.from({ length: n }, (_, i) => startWorker(opts, i, n, progress));
  const onAbort = (): void => {
    for (const w of workers) w.worker.postMessage({ type: 'stop' });
  };
  if (opts.signal?.aborted === true) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const ticker =
    opts.onProgress === undefined
      ? undefined
      : setInterval(() => {
          const p = sumProgress(progress);
          if (p !== undefined) opts.onProgress?.(p);
        }, opts.progressIntervalMs ?? 1000);
  ticker?.unref();
  let reports: ReplayReport[];
  try {
    reports = await Promise.all(workers.map((w) => w.done));
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const sample = monitor.stop(now());
  const report = mergeWorkerReports(reports, {
    concurrency: opts.concurrency,
    requests: opts.limits.requests === Infinity ? null : opts.limits.requests,
    workers: n,
  });
  // The process's CPU over all N threads; each worker's event-loop delay, the worst of them.
  const eventLoopDelayUs = {
    p50: Math.max(...reports.map((r) => r.generator?.eventLoopDelayUs.p50 ?? 0)),
    p99: Math.max(...reports.map((r) => r.generator?.eventLoopDelayUs.p99 ?? 0)),
    max: Math.max(...reports.map((r) => r.generator?.eventLoopDelayUs.max ?? 0)),
  };
  report.generator = judgeGenerator(
    { ...sample, eventLoopDelayUs },
    report.latency.timeToCompleteUs.p50,
    report.schedule.lateSends,
    report.schedule.sent,
  );
  // Each worker judged itself against the whole process's CPU: only the merged verdict stands.
  // The same for moved sessions: the workers' counts are parts of the merged one.
  report.warnings = report.warnings.filter((w) => !w.includes(GENERATOR_BOUND) && !w.includes(SESSIONS_MOVED));
  const moved = sessionsWarning(report.sessions);
  if (moved !== undefined) report.warnings.push(moved);
  const bound = generatorWarning(report.generator);
  if (bound !== undefined) report.warnings.unshift(bound);
  return { report };
}

interface RunningWorker {
  worker: Worker;
  done: Promise<ReplayReport>;
}

function startWorker(
  opts: ReplayOptions,
  i: number,
  n: number,
  progress: (ProgressSnapshot | undefined)[],
): RunningWorker {
  const { signal: _s, onProgress: _p, onIssue: _i, now: _n, ...plain } = workerOptions(opts, i, n);
  const input: WorkerInput = {
    options: plain,
    progressIntervalMs: opts.onProgress === undefined ? null : (opts.progressIntervalMs ?? 1000),
  };
  const worker = new Worker(new URL('./replay-worker.js', import.meta.url), { workerData: input });
  const done = new Promise<ReplayReport>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') progress[i] = m.progress;
      else if (m.type === 'issue') {
        // Every worker reads the same trace: say its notes once.
        if (i === 0) opts.onIssue?.(m.message);
      } else if (m.type === 'done') {
        settled = true;
        resolve(m.report);
      } else {
        settled = true;
        reject(
          m.usage
            ? new UsageError(m.message, (m.code ?? 'AJPBENCH_ERR_USAGE') as UsageErrorCode)
            : new RuntimeError(m.message, (m.code ?? 'AJPBENCH_ERR_INTERNAL') as RuntimeErrorCode),
        );
      }
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new RuntimeError(`load worker ${i + 1} of ${n} exited (${code}) without results`));
    });
  });
  return { worker, done };
}

/** The workers' progress as one line's figures: counts and rates summed, the highest p99. */
function sumProgress(ps: (ProgressSnapshot | undefined)[]): ProgressSnapshot | undefined {
  const have = ps.filter((p): p is ProgressSnapshot => p !== undefined);
  if (have.length === 0) return undefined;
  const p99s = have.map((p) => p.p99Us).filter((x): x is number => x !== null);
  return {
    elapsedMs: Math.max(...have.map((p) => p.elapsedMs)),
    requests: have.reduce((s, p) => s + p.requests, 0),
    perSecond: have.reduce((s, p) => s + p.perSecond, 0),
    p99Us: p99s.length === 0 ? null : Math.max(...p99s),
    errors: have.reduce((s, p) => s + p.errors, 0),
    warmup: have.some((p) => p.warmup),
  };
}
