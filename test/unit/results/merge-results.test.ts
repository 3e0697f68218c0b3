import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../../src/results/latency-histogram.js';
import { mergeReports, poolReports } from '../../../src/results/merge-results.js';
import { isReplayReport } from '../../../src/results/replay-report.js';
import { buildReport, steady } from '../verdict/report-fixture.js';

describe('mergeReports', () => {
  // Generator A: 1000 fast requests (1-10 ms) in 10 s; generator B: 1000 slow ones (100-109 ms),
  // started 2 s later and measuring 10 s too: they share 8 s.
  const a = buildReport(steady(1000, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { route: 'tomcat1' }), {
    startedAt: '2026-01-01T00:00:00.000Z',
    measuredMs: 10_000,
  });
  const b = buildReport(
    steady(1000, 10, [100, 101, 102, 103, 104, 105, 106, 107, 108, 109], { route: 'tomcat2' }).map((r, i) =>
      i < 50 ? { ...r, error: 'timeout' as const } : r,
    ),
    { startedAt: '2026-01-01T00:00:02.000Z', measuredMs: 10_000 },
  );
  const all = buildReport(
    [
      ...steady(1000, 10, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { route: 'tomcat1' }),
      ...steady(1000, 10, [100, 101, 102, 103, 104, 105, 106, 107, 108, 109], { route: 'tomcat2' }).map((r, i) =>
        i < 50 ? { ...r, error: 'timeout' as const } : r,
      ),
    ],
    { measuredMs: 10_000 },
  );
  const m = mergeReports([
    { name: 'a.json', report: a },
    { name: 'b.json', report: b },
  ]);

  it('merges histograms, not averages: percentiles of the union', () => {
    expect(m.latency.timeToCompleteUs.count).toBe(1950);
    // Equal to the histogram's precision (3 significant digits): a decoded histogram knows its max
    // only as the top of the max's bucket, and percentiles at the top are capped by the max.
    for (const k of ['p50', 'p90', 'p99', 'p99_9', 'max', 'mean'] as const) {
      const want = all.latency.timeToCompleteUs[k] ?? 0;
      expect(Math.abs((m.latency.timeToCompleteUs[k] ?? 0) - want)).toBeLessThanOrEqual(want / 1000);
    }
    // The average of the two p90s (9 ms and 108 ms) would be ~58 ms; the union's p90 is a slow request.
    expect(m.latency.timeToCompleteUs.p90).toBeGreaterThan(100_000);
    expect(m.latency.timeToCompleteUs.p50).toBeLessThan(11_000);
    expect(decodeHistogram(m.latency.timeToCompleteUs.histogram).totalCount).toBe(1950);
  });
  it('sums counts, errors, bytes, workers', () => {
    expect(m.requests).toMatchObject({ total: 2000, responses: 1950, errors: 50 });
    expect(m.errors.byKind).toEqual([{ kind: 'timeout', count: 50, example: null }]);
    expect(m.bytes.sent).toBe(200_000);
    expect(m.workers).toEqual([
      { name: 'tomcat1', count: 1000, share: 0.5 },
      { name: 'tomcat2', count: 1000, share: 0.5 },
    ]);
    expect(m.byRoute.find((g) => g.name === 'tomcat2')?.timeToCompleteUs.count).toBe(950);
    expect(m.config.merged).toEqual(['a.json', 'b.json']);
  });
  it('sums rates over the common window', () => {
    expect(m.merge.window).toEqual({
      startMs: Date.parse('2026-01-01T00:00:02.000Z'),
      endMs: Date.parse('2026-01-01T00:00:10.000Z'),
    });
    expect(m.measuredMs).toBe(8000);
    // A: 100/s in its seconds 2-9; B: seconds 0-7, where the 50 timeouts (its first 0.5 s) had no response.
    expect(m.merge.runs[0]).toMatchObject({ rate: 100, seconds: 8 });
    expect(m.merge.runs[1]?.rate).toBeCloseTo(750 / 8, 10);
    expect(m.requests.perSecond).toBeCloseTo(100 + 750 / 8, 10);
    expect(m.warnings[0]).toMatch(/started 2\.0 s apart/);
  });
  it('sums the per-second series on the wall clock', () => {
    expect(m.throughput.series).toHaveLength(12);
    expect(m.throughput.series[0]).toMatchObject({ second: 0, responses: 100, errors: 0 });
    expect(m.throughput.series[2]).toMatchObject({ second: 2, responses: 150, errors: 50 });
    expect(m.throughput.series[5]).toMatchObject({ second: 5, responses: 200, errors: 0 });
    expect(m.throughput.series[11]).toMatchObject({ second: 11, responses: 100, errors: 0 });
    // Per-worker counts add up; the per-second p99 is the larger of the runs' (an upper bound).
    expect(m.throughput.series[5]?.workers).toEqual({ tomcat1: 100, tomcat2: 100 });
    // B started 2 s later: its second 3 is the merged second 5.
    expect(m.throughput.series[5]?.p99Us).toBe(
      Math.max(a.throughput.series[5]?.p99Us ?? 0, b.throughput.series[3]?.p99Us ?? 0),
    );
    expect(m.throughput.series[5]?.p99Us).toBeGreaterThanOrEqual(100_000);
  });
  it('runs started together: rates add up', () => {
    const x = buildReport(steady(500, 5, [2]), { startedAt: '2026-01-01T00:00:00.000Z', measuredMs: 5000 });
    const y = buildReport(steady(1000, 5, [2]), { startedAt: '2026-01-01T00:00:00.004Z', measuredMs: 5000 });
    const z = mergeReports([
      { name: 'x', report: x },
      { name: 'y', report: y },
      { name: 'x2', report: x },
    ]);
    expect(z.requests.perSecond).toBeCloseTo(100 + 200 + 100, 10);
    expect(z.warnings).toEqual([]);
  });
  it('runs that do not overlap: each own rate, and a warning', () => {
    const x = buildReport(steady(100, 1, [2]), { startedAt: '2026-01-01T00:00:00.000Z', measuredMs: 1000 });
    const y = buildReport(steady(100, 1, [2]), { startedAt: '2026-01-01T00:01:00.000Z', measuredMs: 1000 });
    const z = mergeReports([
      { name: 'x', report: x },
      { name: 'y', report: y },
    ]);
    expect(z.merge.window).toBeNull();
    expect(z.requests.perSecond).toBeCloseTo(200, 10);
    expect(z.warnings[0]).toMatch(/do not overlap/);
  });
  it('one report merges to itself', () => {
    const one = mergeReports([{ name: 'a', report: a }]);
    expect(one.latency).toEqual(a.latency);
    expect(one.requests.perSecond).toBe(100);
  });
  it('recognises results files', () => {
    expect(isReplayReport(a)).toBe(true);
    expect(isReplayReport({ kind: 'x' })).toBe(false);
  });
});

describe('merging the generator figures', () => {
  const gen = (cpuShare: number) => ({
    threads: 1,
    wallMs: 10_000,
    cpuMs: cpuShare * 10_000,
    cpuShare,
    eventLoopDelayUs: { p50: 10, p99: 300, max: 900 },
    lateShare: 0,
    bound: cpuShare > 0.9,
    reasons: cpuShare > 0.9 ? [`CPU ${cpuShare * 100}%`] : [],
  });
  const run = (startedAt: string, cpuShare: number | null) => {
    const r = buildReport(steady(1000, 10, [5]), { startedAt, measuredMs: 10_000 });
    return cpuShare === null ? r : { ...r, generator: gen(cpuShare) };
  };
  it('processes side by side add their threads; the merged report is bound when one was', () => {
    const m = mergeReports([
      { name: 'a', report: run('2026-01-01T00:00:00.000Z', 0.4) },
      { name: 'b', report: run('2026-01-01T00:00:00.000Z', 0.95) },
    ]);
    expect(m.generator?.threads).toBe(2);
    expect(m.generator?.cpuShare).toBeCloseTo(0.675, 10);
    expect(m.generator?.bound).toBe(true);
  });
  it('pooled rounds keep one thread; a run without figures leaves the merge without them', () => {
    const p = poolReports([
      { name: 'r1', report: run('2026-01-01T00:00:00.000Z', 0.4) },
      { name: 'r2', report: run('2026-01-01T00:00:20.000Z', 0.6) },
    ]);
    expect(p.generator?.threads).toBe(1);
    expect(p.generator?.wallMs).toBe(20_000);
    expect(p.generator?.cpuShare).toBeCloseTo(0.5, 10);
    expect(p.generator?.bound).toBe(false);
    const old = mergeReports([
      { name: 'a', report: run('2026-01-01T00:00:00.000Z', 0.4) },
      { name: 'b', report: run('2026-01-01T00:00:00.000Z', null) },
    ]);
    expect(old.generator).toBeUndefined();
  });
});
