/**
 * Chi-square goodness of fit, with the p-value from the regularized upper incomplete gamma
 * function: P(X² ≥ x) for df degrees of freedom is Q(df/2, x/2). Q is computed as in Numerical
 * Recipes (§6.2): a power series for P(a, x) when x < a + 1, where it converges fast, else a
 * continued fraction for Q(a, x) (modified Lentz), so neither tail loses precision by
 * subtraction from 1. ln Γ uses the Lanczos approximation (g = 7, 9 terms; ~15 digits).
 */

const EPS = 1e-15;
const FPMIN = 1e-300;
const MAX_ITERATIONS = 10_000;

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(z) for z > 0. */
export function lnGamma(z: number): number {
  if (!(z > 0)) throw new RangeError(`lnGamma needs z > 0, got ${z}`);
  if (z < 0.5) {
    // Reflection: Γ(z) Γ(1 - z) = π / sin(π z).
    return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  }
  const x = z - 1;
  let a = LANCZOS[0] as number;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(a, x) by its series; valid for any x ≥ 0, used for x < a + 1. */
function gammaSeries(a: number, x: number): number {
  let ap = a;
  let sum = 1 / a;
  let del = sum;
  for (let n = 0; n < MAX_ITERATIONS; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/** Q(a, x) by its continued fraction (modified Lentz); used for x ≥ a + 1. */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** The regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a). */
export function regularizedGammaP(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x). */
export function regularizedGammaQ(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

function checkGammaArgs(a: number, x: number): void {
  if (!(a > 0) || !Number.isFinite(a)) throw new RangeError(`incomplete gamma needs a > 0, got ${a}`);
  if (!(x >= 0)) throw new RangeError(`incomplete gamma needs x >= 0, got ${x}`);
}

/** P(X² ≥ x) for a chi-square variable with df degrees of freedom (the test's p-value). */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chi-square needs df > 0, got ${df}`);
  if (!(x >= 0)) throw new RangeError(`chi-square statistic must be >= 0, got ${x}`);
  return regularizedGammaQ(df / 2, x / 2);
}

export interface GoodnessOfFit {
  /** Σ (observed - expected)² / expected. */
  statistic: number;
  /** Categories - 1. */
  df: number;
  /** P(X² ≥ statistic) under the expected distribution; 1 when there is one category only. */
  pValue: number;
  /** Expected counts (total × weight share), in the order given. */
  expected: number[];
  /** Smallest expected count: below 5 the chi-square approximation is rough. */
  minExpected: number;
}

/**
 * Pearson's chi-square goodness-of-fit test of observed counts against expected weights (any
 * positive scale: 3,1 and 0.75,0.25 are the same). Both arrays in the same category order.
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], weights: readonly number[]): GoodnessOfFit {
  if (observed.length !== weights.length)
    throw new RangeError(`${observed.length} observed counts for ${weights.length} weights`);
  if (observed.length === 0) throw new RangeError('no categories');
  for (const w of weights)
    if (!(w > 0) || !Number.isFinite(w)) throw new RangeError(`weights must be positive, got ${w}`);
  for (const o of observed) if (!(o >= 0) || !Number.isFinite(o)) throw new RangeError(`counts must be >= 0, got ${o}`);
  const total = observed.reduce((s, o) => s + o, 0);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const expected = weights.map((w) => (total * w) / weightSum);
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i] as number;
    if (e > 0) statistic += ((observed[i] as number) - e) ** 2 / e;
  }
  const df = observed.length - 1;
  const pValue = df === 0 || total === 0 ? 1 : chiSquareSurvival(statistic, df);
  return { statistic, df, pValue, expected, minExpected: Math.min(...expected) };
}
