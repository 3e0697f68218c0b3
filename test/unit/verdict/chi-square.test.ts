import { describe, expect, it } from 'vitest';
import {
  chiSquareGoodnessOfFit,
  chiSquareSurvival,
  lnGamma,
  regularizedGammaP,
  regularizedGammaQ,
} from '../../../src/verdict/chi-square.js';

describe('lnGamma', () => {
  it('matches factorials and Γ(1/2) = √π', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 13);
    expect(lnGamma(2)).toBeCloseTo(0, 13);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(lnGamma(101)).toBeCloseTo(363.73937555556347, 9); // ln(100!)
    expect(lnGamma(0.1)).toBeCloseTo(2.252712651734206, 12);
  });
});

describe('regularized incomplete gamma', () => {
  it('P + Q = 1 on both sides of a + 1', () => {
    for (const a of [0.5, 1, 3.7, 50]) {
      for (const x of [0.01, 0.5, a, a + 1, 2 * a + 3, 100])
        expect(regularizedGammaP(a, x) + regularizedGammaQ(a, x)).toBeCloseTo(1, 12);
    }
  });
  it('Q(1, x) = e^-x and Q(1/2, x) = erfc(√x)', () => {
    for (const x of [0.1, 1, 5, 30]) expect(regularizedGammaQ(1, x)).toBeCloseTo(Math.exp(-x), 14);
    // erfc(1) = 0.157299207050285
    expect(regularizedGammaQ(0.5, 1)).toBeCloseTo(0.157299207050285, 12);
  });
  it('edges', () => {
    expect(regularizedGammaQ(2, 0)).toBe(1);
    expect(regularizedGammaP(2, 0)).toBe(0);
    expect(() => regularizedGammaQ(0, 1)).toThrow(RangeError);
    expect(() => regularizedGammaQ(1, -1)).toThrow(RangeError);
  });
});

describe('chiSquareSurvival (the p-value), against table values', () => {
  const cases: [number, number, number][] = [
    // [statistic, df, p]
    [3.841458820694124, 1, 0.05],
    [6.634896601021214, 1, 0.01],
    [10.827566170662733, 1, 0.001],
    [9.21034037197618, 2, 0.01],
    [5.991464547107979, 2, 0.05],
    [7.814727903251178, 3, 0.05],
    [18.307038053275146, 10, 0.05],
    [23.209251158954356, 10, 0.01],
    [124.34211340400407, 100, 0.05],
    [1074.679448803441, 1000, 0.05], // scipy.stats.chi2.ppf(0.95, 1000)
    [0.00015708785790970184, 1, 0.99],
    [1, 1, 0.31731050786291404],
  ];
  it.each(cases)('X² = %f, df %i → p = %f', (x, df, p) => {
    expect(chiSquareSurvival(x, df)).toBeCloseTo(p, 9);
  });
  it('rounded table values', () => {
    expect(chiSquareSurvival(3.841, 1)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(9.21, 2)).toBeCloseTo(0.01, 4);
  });
  it('df 2 is exactly e^(-x/2)', () => {
    for (const x of [0.3, 4, 20, 200]) expect(chiSquareSurvival(x, 2) / Math.exp(-x / 2)).toBeCloseTo(1, 12);
  });
  it('far tails stay finite and ordered', () => {
    const p = chiSquareSurvival(1000, 1);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(1e-200);
    expect(chiSquareSurvival(0, 5)).toBe(1);
    expect(chiSquareSurvival(1e-9, 50)).toBeCloseTo(1, 12);
  });
});

describe('chiSquareGoodnessOfFit', () => {
  it('a textbook die: 60 rolls', () => {
    // Observed 5, 8, 9, 8, 10, 20 against a fair die: X² = 13.4, df 5, p = 0.0199.
    const fit = chiSquareGoodnessOfFit([5, 8, 9, 8, 10, 20], [1, 1, 1, 1, 1, 1]);
    expect(fit.statistic).toBeCloseTo(13.4, 10);
    expect(fit.df).toBe(5);
    expect(fit.pValue).toBeCloseTo(0.019905220334775, 8);
    expect(fit.expected).toEqual([10, 10, 10, 10, 10, 10]);
  });
  it('weights on any scale', () => {
    const a = chiSquareGoodnessOfFit([750, 250], [3, 1]);
    const b = chiSquareGoodnessOfFit([750, 250], [0.75, 0.25]);
    expect(a.statistic).toBe(0);
    expect(a.pValue).toBe(1);
    expect(b.statistic).toBeCloseTo(0, 12);
  });
  it('3:1 traffic judged against 1:1 is far off', () => {
    const fit = chiSquareGoodnessOfFit([1500, 500], [1, 1]);
    expect(fit.statistic).toBe(500);
    expect(fit.pValue).toBeLessThan(1e-100);
  });
  it('one category: nothing to test', () => {
    expect(chiSquareGoodnessOfFit([7], [1]).pValue).toBe(1);
  });
  it('rejects bad input', () => {
    expect(() => chiSquareGoodnessOfFit([1, 2], [1])).toThrow(RangeError);
    expect(() => chiSquareGoodnessOfFit([1, 2], [1, 0])).toThrow(RangeError);
  });
});
