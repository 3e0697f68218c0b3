import { describe, expect, it } from 'vitest';
import { fairnessVerdict, formatP, parseExpect, parseShare } from '../../../src/verdict/fairness.js';
import { UsageError } from '../../../src/errors.js';

const counts = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));

describe('parseExpect / parseShare', () => {
  it('parses weights', () => {
    expect(parseExpect('tomcat1=1,tomcat2=1')).toEqual([
      { worker: 'tomcat1', weight: 1 },
      { worker: 'tomcat2', weight: 1 },
    ]);
    expect(parseExpect(' a=3 , b = 1.5,c')).toEqual([
      { worker: 'a', weight: 3 },
      { worker: 'b', weight: 1.5 },
      { worker: 'c', weight: 1 },
    ]);
  });
  it('rejects nonsense', () => {
    expect(() => parseExpect('')).toThrow(/no worker/);
    expect(() => parseExpect('a=0')).toThrow(/above zero/);
    expect(() => parseExpect('a=1,a=2')).toThrow(/twice/);
    expect(() => parseExpect('a=x,b=1')).toThrow(UsageError);
    // One worker always passes a chi-square test (0 degrees of freedom): a mistake, not a verdict.
    expect(() => parseExpect('garbage')).toThrow(/one worker/);
    expect(() => parseExpect('tomcat1=1')).toThrow(UsageError);
    expect(() => parseExpect('a b=1,c=1')).toThrow(/worker=weight/);
  });
  it('shares', () => {
    expect(parseShare('5%', '--tolerance')).toBe(0.05);
    expect(parseShare('0.05', '--tolerance')).toBe(0.05);
    expect(() => parseShare('150%', '--tolerance')).toThrow(/--tolerance/);
  });
});

describe('fairnessVerdict', () => {
  const even = parseExpect('tomcat1=1,tomcat2=1');
  it('round robin 1:1 passes', () => {
    const v = fairnessVerdict(counts({ tomcat1: 1000, tomcat2: 1000 }), even);
    expect(v.pass).toBe(true);
    expect(v.chiSquare.statistic).toBe(0);
    expect(v.chiSquare.pValue).toBe(1);
    expect(v.largestDeviation?.relativeDeviation).toBe(0);
    expect(v.failures).toEqual([]);
  });
  it('a small random deviation passes both checks', () => {
    // 1030 vs 970: X² = 1.8, p = 0.18; deviation 3% < 5%.
    const v = fairnessVerdict(counts({ tomcat1: 1030, tomcat2: 970 }), even);
    expect(v.chiSquare.statistic).toBeCloseTo(1.8, 10);
    expect(v.chiSquare.pValue).toBeCloseTo(0.17971249487899976, 9);
    expect(v.largestDeviation).toEqual({
      worker: 'tomcat1',
      relativeDeviation: expect.closeTo(0.03, 10) as number,
      pass: true,
    });
    expect(v.pass).toBe(true);
  });
  it('3:1 traffic expected 1:1 fails both', () => {
    const v = fairnessVerdict(counts({ tomcat1: 1500, tomcat2: 500 }), even);
    expect(v.pass).toBe(false);
    expect(v.chiSquare.pass).toBe(false);
    expect(v.largestDeviation?.pass).toBe(false);
    expect(Math.abs(v.largestDeviation?.relativeDeviation ?? 0)).toBeCloseTo(0.5, 10);
    expect(v.failures).toHaveLength(2);
    expect(v.failures[0]).toMatch(/chi-square 500\.00 \(df 1\)/);
  });
  it('3:1 traffic expected 3:1 passes', () => {
    expect(fairnessVerdict(counts({ tomcat1: 1500, tomcat2: 500 }), parseExpect('tomcat1=3,tomcat2=1')).pass).toBe(
      true,
    );
  });
  it('the tolerance alone can fail a run the chi-square accepts (small sample)', () => {
    // 12 vs 8: X² = 0.8 (p 0.37) but 20% off.
    const v = fairnessVerdict(counts({ tomcat1: 12, tomcat2: 8 }), even, { tolerance: 0.05 });
    expect(v.chiSquare.pass).toBe(true);
    expect(v.largestDeviation?.pass).toBe(false);
    expect(v.pass).toBe(false);
  });
  it('the chi-square alone can fail a run within tolerance (large sample)', () => {
    const v = fairnessVerdict(counts({ tomcat1: 102_000, tomcat2: 98_000 }), even, { tolerance: 0.05 });
    expect(v.largestDeviation?.pass).toBe(true);
    expect(v.chiSquare.pass).toBe(false);
  });
  it('a worker that got nothing (failover) is -100%', () => {
    const v = fairnessVerdict(counts({ tomcat1: 2000 }), even);
    expect(v.workers.find((w) => w.worker === 'tomcat2')?.relativeDeviation).toBe(-1);
    expect(v.pass).toBe(false);
  });
  it('an unexpected worker fails the run', () => {
    const v = fairnessVerdict(counts({ tomcat1: 1000, tomcat2: 1000, tomcat3: 5 }), even);
    expect(v.unexpected).toEqual(['tomcat3']);
    expect(v.pass).toBe(false);
    expect(v.failures.at(-1)).toMatch(/tomcat3/);
  });
  it("requests to an unexpected worker do not skew the expected workers' shares", () => {
    const v = fairnessVerdict(counts({ tomcat1: 1000, tomcat2: 1000, tomcat3: 200 }), even);
    expect(v.workers.filter((w) => w.expectedShare > 0).map((w) => [w.worker, w.share, w.relativeDeviation])).toEqual([
      ['tomcat1', 0.5, 0],
      ['tomcat2', 0.5, 0],
    ]);
    expect(v.failures).toHaveLength(1);
    expect(v.failures[0]).toMatch(/tomcat3/);
  });
  it('nothing attributed fails, tiny samples get a note', () => {
    expect(fairnessVerdict(counts({}), even).failures[0]).toMatch(/no request/);
    expect(fairnessVerdict(counts({ tomcat1: 2, tomcat2: 2 }), even).notes[0]).toMatch(/below 5/);
  });
  it('formats p-values', () => {
    expect(formatP(0.5)).toBe('0.5000');
    expect(formatP(1e-9)).toBe('1.00e-9');
    expect(formatP(0)).toBe('0');
  });
});
