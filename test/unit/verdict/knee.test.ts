import { describe, expect, it } from 'vitest';
import { findKnee, type SweepPoint } from '../../../src/verdict/knee.js';

/** A closed-loop curve of a server with `capacity` rps and `serviceMs` latency: linear, then flat (Little's law). */
function closedLoop(concurrency: number[], capacity: number, serviceMs: number): SweepPoint[] {
  return concurrency.map((c) => {
    const throughput = Math.min((c * 1000) / serviceMs, capacity);
    return { load: c, throughput, p99: (c / throughput) * 1000 * 1.2 };
  });
}

describe('findKnee', () => {
  it('a closed-loop saturation: the last step before throughput flattens', () => {
    // 10 ms service time, 400 rps capacity: saturates at 4 concurrent.
    const pts = closedLoop([1, 2, 4, 8, 16, 32], 400, 10);
    const k = findKnee(pts);
    expect(k.index).toBe(2);
    expect(k.point?.load).toBe(4);
    expect(k.growth[0]).toMatchObject({ gain: 1, latencyGrowth: 1, saturated: false });
    expect(k.growth[2]).toMatchObject({ gain: 0, latencyGrowth: 2, saturated: true });
    expect(k.peak?.point.throughput).toBe(400);
  });
  it('an open-loop rate sweep: throughput follows the rate, then latency explodes', () => {
    const pts: SweepPoint[] = [
      { load: 100, throughput: 100, p99: 2000 },
      { load: 200, throughput: 200, p99: 2100 },
      { load: 400, throughput: 398, p99: 2600 },
      { load: 800, throughput: 520, p99: 900_000 },
      { load: 1600, throughput: 515, p99: 2_000_000 },
    ];
    expect(findKnee(pts).index).toBe(2);
  });
  it('no knee while it scales', () => {
    const pts = closedLoop([1, 2, 4, 8], 10_000, 5);
    const k = findKnee(pts);
    expect(k.index).toBeNull();
    expect(k.point).toBeNull();
  });
  it('latency noise without a throughput plateau is no knee; a plateau without latency growth neither', () => {
    const noisy: SweepPoint[] = [
      { load: 1, throughput: 100, p99: 10 },
      { load: 2, throughput: 195, p99: 30 },
      { load: 4, throughput: 390, p99: 12 },
    ];
    expect(findKnee(noisy).index).toBeNull();
    const flatButFast: SweepPoint[] = [
      { load: 1, throughput: 100, p99: 10 },
      { load: 2, throughput: 101, p99: 11 },
    ];
    expect(findKnee(flatButFast).index).toBeNull();
  });
  it('throughput falling counts; a step with no responses takes no part (no knee, no growth from it)', () => {
    expect(
      findKnee([
        { load: 10, throughput: 500, p99: 20 },
        { load: 20, throughput: 300, p99: 80 },
      ]).index,
    ).toBe(0);
    const dead = findKnee([
      { load: 10, throughput: 500, p99: 20 },
      { load: 20, throughput: 510, p99: 21 },
      { load: 40, throughput: 0, p99: null },
    ]);
    expect(dead.index).toBeNull();
    expect(dead.growth[1]).toMatchObject({ gain: null, latencyGrowth: null, saturated: false });
    const none = findKnee([
      { load: 1, throughput: 0, p99: null },
      { load: 2, throughput: 0, p99: null },
    ]);
    expect(none.index).toBeNull();
    expect(none.peak).toBeNull();
  });
  it('a one-step dip that recovers is noise, not the knee', () => {
    // Measured on a 2-core machine with 1 s steps: step 4 hit a pause, then throughput grew on.
    const pts: SweepPoint[] = [
      { load: 1, throughput: 506, p99: 14_573 },
      { load: 2, throughput: 992, p99: 6337 },
      { load: 4, throughput: 409, p99: 82_673 },
      { load: 8, throughput: 1115, p99: 25_084 },
      { load: 16, throughput: 1625, p99: 20_384 },
    ];
    expect(findKnee(pts).index).toBeNull();
    expect(findKnee(pts).growth[1]).toMatchObject({ saturated: false });
    // A plateau within 10% after the knee still counts.
    const flat: SweepPoint[] = [
      { load: 1, throughput: 500, p99: 2000 },
      { load: 2, throughput: 1000, p99: 2000 },
      { load: 4, throughput: 1020, p99: 4000 },
      { load: 8, throughput: 1080, p99: 8000 },
    ];
    expect(findKnee(flat).index).toBe(1);
    // Stricter: the 5.9% rise after step 4 breaks the plateau at 2, so the knee moves to 4.
    expect(findKnee(flat, { maxRecovery: 0.05 }).index).toBe(2);
  });
  it('thresholds are options', () => {
    const pts: SweepPoint[] = [
      { load: 1, throughput: 100, p99: 10 },
      { load: 2, throughput: 140, p99: 14 },
    ];
    expect(findKnee(pts).index).toBeNull();
    expect(findKnee(pts, { minGain: 0.6, latencyFactor: 1.3 }).index).toBe(0);
  });
  it('needs increasing load', () => {
    expect(() =>
      findKnee([
        { load: 2, throughput: 1, p99: 1 },
        { load: 2, throughput: 1, p99: 1 },
      ]),
    ).toThrow(RangeError);
    expect(findKnee([]).index).toBeNull();
  });
});

describe('findKnee with a generator-bound step', () => {
  it('a saturation the generator reached is never called a knee', () => {
    // The same curve as a real saturation, but from step 8 on the generator was at its limit.
    const pts = closedLoop([1, 2, 4, 8, 16, 32], 400, 10).map((p) =>
      p.load >= 8 ? { ...p, generatorBound: true } : p,
    );
    const k = findKnee(pts);
    expect(k.index).toBeNull();
    expect(k.growth[2]).toMatchObject({ gain: 0, latencyGrowth: 2, saturated: false, generatorBound: true });
    // Without the flag it is a knee at 4: the flag alone changed the call.
    expect(findKnee(closedLoop([1, 2, 4, 8, 16, 32], 400, 10)).index).toBe(2);
  });
});
