/** The one home of latency histograms: named settings, the clamp, the percentile rule, the percentile curve. */
import { describe, expect, it } from 'vitest';
import {
  LATENCY_US,
  ONE_HOUR_US,
  SERIES_LATENCY_US,
  TRACE_LATENCY_US,
  clampUs,
  decodeHistogram,
  latencyReport,
  mergeHistograms,
  newLatencyHistogram,
  percentileCurves,
  percentileUs,
} from '../../../src/results/latency-histogram.js';
import { buildReport, steady } from '../verdict/report-fixture.js';

describe('newLatencyHistogram', () => {
  it('keeps the digits its settings name: 3 within 0.1%, 2 within 1%', () => {
    const fine = newLatencyHistogram(LATENCY_US);
    const coarse = newLatencyHistogram(SERIES_LATENCY_US);
    for (const h of [fine, coarse]) h.recordValue(123_456);
    expect(Math.abs((percentileUs(fine, 50) ?? 0) - 123_456)).toBeLessThanOrEqual(123);
    expect(fine.getValueAtPercentile(50)).not.toBe(coarse.getValueAtPercentile(50));
    expect(Math.abs(coarse.getValueAtPercentile(50) - 123_456)).toBeLessThanOrEqual(1235);
  });

  it('grows past the range it was sized for (a trace summary sized for a minute records an hour)', () => {
    const h = newLatencyHistogram(TRACE_LATENCY_US);
    h.recordValue(ONE_HOUR_US);
    expect(h.maxValue).toBe(ONE_HOUR_US);
  });
});

describe('clampUs', () => {
  it('rounds to a whole µs, records a negative as 0 and anything past the max as the max', () => {
    expect(clampUs(1.4)).toBe(1);
    expect(clampUs(-5)).toBe(0);
    expect(clampUs(ONE_HOUR_US + 1)).toBe(ONE_HOUR_US);
    expect(clampUs(ONE_HOUR_US + 1, TRACE_LATENCY_US)).toBe(ONE_HOUR_US + 1);
    expect(clampUs(2 ** 50, TRACE_LATENCY_US)).toBe(2 ** 43);
  });
});

describe('percentileUs', () => {
  it('is null for an empty histogram and never above the max recorded', () => {
    const h = newLatencyHistogram();
    expect(percentileUs(h, 99)).toBeNull();
    h.recordValue(100_001);
    // The bucket holding 100001 stands for values up to 100031.
    expect(h.getValueAtPercentile(100)).toBeGreaterThan(100_001);
    expect(percentileUs(h, 100)).toBe(100_001);
    expect(latencyReport(h).p99).toBe(100_001);
  });
});

describe('encode, decode, merge', () => {
  it('a merge counts every sample of the histograms it adds', () => {
    const a = newLatencyHistogram();
    const b = newLatencyHistogram();
    for (let i = 1; i <= 90; i++) a.recordValue(i * 10);
    for (let i = 1; i <= 10; i++) b.recordValue(100_000 + i);
    const m = mergeHistograms([latencyReport(a).histogram, '', latencyReport(b).histogram]);
    expect(m.totalCount).toBe(100);
    expect(percentileUs(m, 90)).toBe(900);
    expect(percentileUs(m, 99)).toBeGreaterThan(100_000);
    expect(decodeHistogram('').totalCount).toBe(0);
  });
});

describe('percentileCurves', () => {
  it('samples 1/(1-p) per decade up to the sample count, then the max', () => {
    const h = decodeHistogram(
      buildReport(
        steady(
          1000,
          1,
          Array.from({ length: 1000 }, (_, i) => i + 1),
        ),
      ).latency.timeToCompleteUs.histogram,
    );
    const c = percentileCurves([h], 1);
    expect(c.x).toEqual([1, 10, 100, 1000, 10_000, 100_000]);
    const y = c.ysUs[0] ?? [];
    // x = 10 is p90.
    expect((y[1] ?? 0) / 1000).toBeCloseTo(900, -1);
    expect(y[4]).toBe(h.maxValue);
    expect(y[5]).toBeNull();
  });

  it('has an x grid even without histograms, and an empty histogram draws no point', () => {
    expect(percentileCurves([]).x.length).toBeGreaterThan(0);
    const c = percentileCurves([newLatencyHistogram()]);
    expect(c.ysUs[0]?.every((v) => v === null)).toBe(true);
  });
});
