import { describe, expect, it } from 'vitest';
import { evaluateThresholds, parseThreshold, renderThresholds } from '../../../src/verdict/threshold.js';
import { buildReport, steady } from './report-fixture.js';

describe('parseThreshold', () => {
  it('latency with units (bare number = ms)', () => {
    expect(parseThreshold('p99<50ms')).toMatchObject({
      metric: { kind: 'latency', phase: 'complete', stat: 'percentile', percentile: 99 },
      op: '<',
      value: 50_000,
    });
    expect(parseThreshold('p(99.9) <= 1s').value).toBe(1_000_000);
    expect(parseThreshold('p99.9<200').value).toBe(200_000);
    expect(parseThreshold('headers.p50 < 500us')).toMatchObject({
      metric: { phase: 'headers', percentile: 50 },
      value: 500,
    });
    expect(parseThreshold('avg<10ms').metric).toMatchObject({ stat: 'mean' });
    expect(parseThreshold('max<2s').metric).toMatchObject({ stat: 'max' });
  });
  it('errors, rps, requests, mismatches', () => {
    expect(parseThreshold('errors<0.1%')).toMatchObject({ metric: { kind: 'errors', share: true }, value: 0.001 });
    expect(parseThreshold('errors<5')).toMatchObject({ metric: { kind: 'errors', share: false }, value: 5 });
    expect(parseThreshold('error_rate<0.01')).toMatchObject({ metric: { kind: 'errors', share: true }, value: 0.01 });
    expect(parseThreshold('rps>1000')).toMatchObject({ metric: { kind: 'rps' }, op: '>', value: 1000 });
    expect(parseThreshold('throughput>=10/s').op).toBe('>=');
    expect(parseThreshold('requests>=100').metric.kind).toBe('requests');
    expect(parseThreshold('mismatches<1%').metric).toEqual({ kind: 'mismatches', share: true });
  });
  it('rejects what it cannot read', () => {
    expect(() => parseThreshold('p99')).toThrow(/METRIC OP VALUE/);
    expect(() => parseThreshold('p101<5ms')).toThrow(/between 0 and 100/);
    expect(() => parseThreshold('p99<5%')).toThrow(/latency/);
    expect(() => parseThreshold('rps>5ms')).toThrow(/requests per second/);
    expect(() => parseThreshold('errors<200%')).toThrow(/at most 100%/);
    expect(() => parseThreshold('latency<5ms')).toThrow(/unknown metric/);
  });
});

describe('evaluateThresholds', () => {
  // 1000 requests over 10 s: latencies 1..100 ms evenly, 10 of them errors (5xx).
  const lat = Array.from({ length: 100 }, (_, i) => i + 1);
  const reqs = steady(1000, 10, lat).map((r, i) => (i % 100 === 0 ? { ...r, error: 'status-5xx' as const } : r));
  const report = buildReport(reqs, { measuredMs: 10_000 });
  it('checks each and says why', () => {
    const results = evaluateThresholds(
      report,
      ['p99<50ms', 'p50<=51ms', 'errors<0.1%', 'errors<=10', 'rps>50', 'rps>1000', 'max<101ms', 'mismatches<1'].map(
        parseThreshold,
      ),
    );
    expect(results.map((r) => r.pass)).toEqual([false, true, false, true, true, false, true, false]);
    expect(results[0]?.actual).toBeCloseTo(99_000, -2);
    expect(results[0]?.message).toMatch(/^p99 = 99\.\d ms not < 50\.0 ms$/);
    expect(results[2]?.actual).toBeCloseTo(0.01, 10);
    expect(results[4]?.actual).toBeCloseTo(100, 6);
    expect(results[7]?.message).toMatch(/did not --verify/);
    const text = renderThresholds(results);
    expect(text).toMatch(/^Thresholds \(4 passed, 4 failed\)/);
    expect(text).toMatch(/FAIL {2}p99<50ms/);
  });
  it('no response: latency thresholds fail with "nothing measured"', () => {
    const dead = buildReport(steady(10, 1, [5], { error: 'connect-refused' }), { measuredMs: 1000 });
    const [r] = evaluateThresholds(dead, [parseThreshold('p99<50ms')]);
    expect(r?.pass).toBe(false);
    expect(r?.message).toMatch(/nothing measured/);
  });
});

describe('generator threshold', () => {
  const report = buildReport(steady(100, 1, [5]), { measuredMs: 1000 });
  const withGenerator = (cpuShare: number): typeof report => ({
    ...report,
    generator: {
      threads: 1,
      wallMs: 1000,
      cpuMs: cpuShare * 1000,
      cpuShare,
      eventLoopDelayUs: { p50: 0, p99: 0, max: 0 },
      lateShare: 0,
      bound: cpuShare > 0.9,
      reasons: [],
    },
  });
  it("'generator<80%' passes below 80% of the generator's cores and fails above", () => {
    const t = parseThreshold('generator<80%');
    expect(t).toMatchObject({ metric: { kind: 'generator' }, op: '<', value: 0.8 });
    const [ok] = evaluateThresholds(withGenerator(0.42), [t]);
    expect(ok?.pass).toBe(true);
    expect(ok?.message).toBe('generator CPU = 42.0% < 80.0%');
    const [bad] = evaluateThresholds(withGenerator(0.97), [t]);
    expect(bad?.pass).toBe(false);
    expect(bad?.message).toBe('generator CPU = 97.0% not < 80.0%');
  });
  it('takes only a percentage; results without generator figures fail it, saying why', () => {
    expect(() => parseThreshold('generator<0.8')).toThrow(/percentage/);
    const [old] = evaluateThresholds(report, [parseThreshold('generator<80%')]);
    expect(old?.pass).toBe(false);
    expect(old?.message).toMatch(/do not carry generator figures/);
  });
});
