/**
 * --workers: the shares add up exactly, the workers' requests and open-loop schedules interleave
 * into exactly what one thread would send, and their reports merge into the single thread's.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectiveWorkers, splitEvenly, workerOptions } from '../../../src/load/parallel-replay.js';
import { ConstantPacer } from '../../../src/load/pacer.js';
import type { ReplayOptions } from '../../../src/load/replay.js';
import { TraceRequestSource } from '../../../src/load/request-source.js';
import { decodeHistogram } from '../../../src/results/latency-histogram.js';
import { mergeWorkerReports } from '../../../src/results/merge-results.js';
import { buildReport, steady, type SyntheticRequest } from '../verdict/report-fixture.js';

const trace = join(import.meta.dirname, '../../../captures/lab-mixed.trace.jsonl');

const base: ReplayOptions = {
  trace,
  targets: [{ protocol: 'ajp', host: '127.0.0.1', port: 8009, prefix: '', label: 'ajp://127.0.0.1:8009' }],
  model: 'closed',
  concurrency: 10,
  limits: { warmupMs: 0, durationMs: Infinity, requests: 1001 },
  workers: 3,
};

describe('splitting the load', () => {
  it('splits whole numbers exactly, the larger shares first', () => {
    expect(splitEvenly(10, 3)).toEqual([4, 3, 3]);
    expect(splitEvenly(1001, 4)).toEqual([251, 250, 250, 250]);
    for (const [t, n] of [
      [7, 7],
      [100, 3],
      [1, 1],
      [65_535, 16],
    ] as const)
      expect(splitEvenly(t, n).reduce((a, b) => a + b, 0)).toBe(t);
  });
  it('each worker gets its share of connections and measured requests, and its place in the stream', () => {
    const ws = [0, 1, 2].map((i) => workerOptions(base, i, 3));
    expect(ws.map((w) => w.concurrency)).toEqual([4, 3, 3]);
    expect(ws.map((w) => w.limits.requests)).toEqual([334, 334, 333]);
    expect(ws.map((w) => w.stride)).toEqual([
      { every: 3, offset: 0 },
      { every: 3, offset: 1 },
      { every: 3, offset: 2 },
    ]);
    expect(ws.every((w) => w.workers === 1)).toBe(true);
  });
  it('never more workers than connections or measured requests', () => {
    expect(effectiveWorkers({ ...base, workers: 16, concurrency: 4 })).toBe(4);
    expect(effectiveWorkers({ ...base, workers: 16, limits: { ...base.limits, requests: 2 } })).toBe(2);
    expect(effectiveWorkers({ ...base, workers: undefined })).toBe(1);
  });
  it('an open-loop rate: the workers’ due times are exactly the single schedule, so the rates sum with no drift', () => {
    const one = new ConstantPacer(1234);
    const n = 3;
    const parts = Array.from({ length: n }, (_, i) => new ConstantPacer(1234, { every: n, offset: i }));
    // A long run: request 3,000,000 (40 minutes in) is still due exactly when the single pacer says.
    for (const seq of [0, 1, 2, 3, 1000, 2_999_999, 3_000_000]) {
      const w = seq % n;
      const k = Math.floor(seq / n);
      expect((parts[w] as ConstantPacer).dueMs(k)).toBe(one.dueMs(seq));
    }
  });
});

describe('a strided trace source', () => {
  async function ids(stride?: { every: number; offset: number }): Promise<number[]> {
    const src = await TraceRequestSource.open(trace, stride === undefined ? {} : { stride });
    const out: number[] = [];
    for (;;) {
      const r = src.next();
      if (r !== undefined) out.push(r.exchangeId);
      else if (src.exhausted) break;
      else await src.waitForMore();
    }
    src.close();
    return out;
  }
  it('N workers together read exactly the exchanges of one, each once, worker i taking i, i + N, ...', async () => {
    const all = await ids();
    expect(all.length).toBeGreaterThan(10);
    const parts = await Promise.all([0, 1, 2].map((offset) => ids({ every: 3, offset })));
    expect(parts.map((p) => p.length)).toEqual(splitEvenly(all.length, 3));
    for (const [i, p] of parts.entries()) expect(p).toEqual(all.filter((_, k) => k % 3 === i));
  });
});

describe('mergeWorkerReports', () => {
  // One thread's requests, and the same requests dealt round robin to three workers.
  const reqs: SyntheticRequest[] = [
    ...steady(3000, 10, [1, 2, 3, 5, 8, 13, 21], { route: 'tomcat1' }),
    ...steady(300, 10, [40, 50], { route: 'tomcat2', status: 404 }),
    ...steady(30, 10, [5], { error: 'timeout' }),
  ];
  const single = buildReport(reqs, { measuredMs: 10_000 });
  const parts = [0, 1, 2].map((w) =>
    buildReport(
      reqs.filter((_, i) => i % 3 === w),
      { measuredMs: 10_000 },
    ),
  );
  const merged = mergeWorkerReports(parts, { concurrency: 12, requests: null, workers: 3 });

  it('counts, histograms, statuses, errors and shares are the single thread’s exactly', () => {
    expect(merged.requests).toEqual(single.requests);
    for (const phase of ['timeToCompleteUs', 'timeToHeadersUs'] as const) {
      const a = decodeHistogram(merged.latency[phase].histogram);
      const b = decodeHistogram(single.latency[phase].histogram);
      expect(a.totalCount).toBe(b.totalCount);
      for (const p of [1, 10, 50, 90, 99, 99.9, 100]) expect(a.getValueAtPercentile(p)).toBe(b.getValueAtPercentile(p));
      const { histogram: _h1, ...restA } = merged.latency[phase];
      const { histogram: _h2, ...restB } = single.latency[phase];
      expect(restA).toEqual(restB);
    }
    expect(merged.statuses).toEqual(single.statuses);
    expect(merged.errors).toEqual(single.errors);
    expect(merged.workers).toEqual(single.workers);
    expect(merged.byStatusClass.map((g) => [g.name, g.count])).toEqual(
      single.byStatusClass.map((g) => [g.name, g.count]),
    );
    expect(merged.throughput.series.map((s) => [s.responses, s.errors, s.workers])).toEqual(
      single.throughput.series.map((s) => [s.responses, s.errors, s.workers]),
    );
    expect(merged.bytes).toEqual(single.bytes);
  });
  it('the same shape as one thread’s report, with the run’s own settings', () => {
    expect(Object.keys(merged).sort()).toEqual(Object.keys(single).sort());
    expect(merged.config).toMatchObject({ concurrency: 12, workers: 3, requests: null });
    expect(merged.connections).toEqual(single.connections);
  });
});
