import { describe, expect, it } from 'vitest';
import {
  GENERATOR_BOUND,
  generatorWarning,
  judgeGenerator,
  mergeGenerators,
  type GeneratorSample,
} from '../../../src/results/generator-report.js';

const sample = (over: Partial<GeneratorSample> = {}): GeneratorSample => ({
  threads: 1,
  wallMs: 1000,
  cpuMs: 300,
  cpuShare: 0.3,
  eventLoopDelayUs: { p50: 100, p99: 800, max: 1500 },
  ...over,
});

describe('judgeGenerator', () => {
  it('a generator with CPU and event loop to spare is not bound', () => {
    const g = judgeGenerator(sample(), 1000, 0, 1000);
    expect(g.bound).toBe(false);
    expect(generatorWarning(g)).toBeUndefined();
  });
  it('CPU above 90% of its cores binds it', () => {
    const g = judgeGenerator(sample({ cpuMs: 1820, cpuShare: 0.91, threads: 2, wallMs: 1000 }), 1000, 0, 10);
    expect(g.reasons).toEqual(['CPU 91% of its 2 cores (above 90%)']);
    expect(generatorWarning(g)).toBe(`${GENERATOR_BOUND} (CPU 91% of its 2 cores (above 90%))`);
  });
  it('event-loop delay p99 above half the p50 binds it, but only from 5 ms', () => {
    const late = sample({ eventLoopDelayUs: { p50: 1000, p99: 6000, max: 9000 } });
    expect(judgeGenerator(late, 11_000, 0, 1).bound).toBe(true);
    expect(judgeGenerator(late, 12_000, 0, 1).bound).toBe(false);
    // 4 ms of delay against a 0.2 ms p50: below the floor, the timer's jitter on a busy machine.
    expect(judgeGenerator(sample({ eventLoopDelayUs: { p50: 0, p99: 4000, max: 4000 } }), 200, 0, 1).bound).toBe(false);
    expect(judgeGenerator(late, null, 0, 1).bound).toBe(false);
  });
  it('a late loop with CPU to spare is put down to the machine, not to its own work', () => {
    const crowded = sample({ cpuShare: 0.3, eventLoopDelayUs: { p50: 1000, p99: 40_000, max: 90_000 } });
    expect(judgeGenerator(crowded, 400, 0, 1).reasons).toEqual([
      'event-loop delay p99 40.0 ms against a latency p50 of 0.40 ms (above 0.5 of it), with CPU at 30%: the machine held it (other processes on its cores), not its own work',
    ]);
    const busy = sample({ cpuShare: 0.8, eventLoopDelayUs: { p50: 1000, p99: 40_000, max: 90_000 } });
    expect(judgeGenerator(busy, 400, 0, 1).reasons[0]).not.toMatch(/the machine held it/);
  });
  it('a run shorter than 1 s is mostly start-up: its CPU and event-loop delay are not judged', () => {
    const short = sample({ wallMs: 40, cpuMs: 40, cpuShare: 1, eventLoopDelayUs: { p50: 0, p99: 9000, max: 9000 } });
    expect(judgeGenerator(short, 100, 0, 10).bound).toBe(false);
    expect(judgeGenerator({ ...short, wallMs: 1000, cpuMs: 1000 }, 100, 0, 10).reasons).toHaveLength(2);
  });
  it('open loop: 1% of the sends late binds it; with CPU to spare the reason names the machine', () => {
    const busy = sample({ cpuMs: 700, cpuShare: 0.7 });
    expect(judgeGenerator(busy, 1000, 10, 1000).reasons).toEqual(['1% of the sends left late']);
    expect(judgeGenerator(busy, 1000, 9, 1000).bound).toBe(false);
    expect(judgeGenerator(sample(), 1000, 10, 1000).reasons).toEqual([
      '1% of the sends left late, with CPU at 30%: the machine held it (other processes on its cores), not its own work',
    ]);
  });
});

describe('mergeGenerators', () => {
  const a = judgeGenerator(sample({ cpuMs: 500, cpuShare: 0.5 }), 1000, 0, 1);
  const b = judgeGenerator(sample({ cpuMs: 950, cpuShare: 0.95, wallMs: 1000 }), 1000, 0, 1);
  it('side by side: threads add, CPU share is all CPU over all thread time, the worst delay', () => {
    const m = mergeGenerators([a, b], true, 1000, 0, 2) as NonNullable<ReturnType<typeof mergeGenerators>>;
    expect(m.threads).toBe(2);
    expect(m.cpuMs).toBe(1450);
    expect(m.cpuShare).toBeCloseTo(0.725, 10);
    expect(m.eventLoopDelayUs.p99).toBe(800);
    // b alone was bound: the merge says so though the pooled CPU is below 90%.
    expect(m.bound).toBe(true);
    expect(m.reasons).toEqual(['1 of 2 runs were generator-bound on their own']);
  });
  it('one after another: the wall times add, the threads do not', () => {
    const m = mergeGenerators([a, a], false, 1000, 0, 2) as NonNullable<ReturnType<typeof mergeGenerators>>;
    expect(m.threads).toBe(1);
    expect(m.wallMs).toBe(2000);
    expect(m.cpuShare).toBeCloseTo(0.5, 10);
    expect(m.bound).toBe(false);
  });
  it('nothing to merge: undefined (older results files)', () => {
    expect(mergeGenerators([], true, null, 0, 0)).toBeUndefined();
  });
});
