/**
 * The fairness verdict of `ajpbench fairness`: each worker's share of the requests against the
 * expected weights (mod_jk lbfactor, mod_proxy_balancer loadfactor, nginx weight). Two checks,
 * both printed, either failing fails the run:
 *
 * - a chi-square goodness-of-fit test: the p-value is the chance that a balancer honouring the
 *   weights with independent random picks would deviate at least this much; below `alpha` the
 *   weights are judged not honoured. (A round-robin balancer deviates far less than random picks,
 *   so it passes easily; one that ignores the weights fails with a p-value near zero.)
 * - the largest relative deviation of any worker's share from its expected share
 *   (|observed - expected| / expected), against `tolerance`: a plain-language bound that does not
 *   tighten as the sample grows, as the p-value does.
 *
 * A worker seen on the wire but not named in the expected weights fails the run (a typo in
 * --expect, or a backend that should not be in the pool).
 */
import { chiSquareGoodnessOfFit } from './chi-square.js';
import { UsageError } from '../errors.js';

export interface ExpectedWeight {
  worker: string;
  weight: number;
}

/** `tomcat1=1,tomcat2=1` or `tomcat1=3,tomcat2=1`; a bare name means weight 1. Throws UsageError. */
export function parseExpect(text: string): ExpectedWeight[] {
  const out: ExpectedWeight[] = [];
  const hint = 'worker=weight pairs for two or more workers, such as tomcat1=1,tomcat2=1';
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    // A worker is a route (jvmRoute, or an X-Served-By value): no spaces, no '=' of its own.
    const m = /^([A-Za-z0-9_.:-]+)\s*(?:=\s*(\d+(?:\.\d+)?))?$/.exec(item);
    if (m === null) throw new UsageError(`--expect takes ${hint}, got ${JSON.stringify(item)}`);
    const worker = m[1] as string;
    const weight = m[2] === undefined ? 1 : Number(m[2]);
    if (!(weight > 0)) throw new UsageError(`--expect: the weight of ${worker} must be above zero`);
    if (out.some((w) => w.worker === worker)) throw new UsageError(`--expect names ${worker} twice`);
    out.push({ worker, weight });
  }
  if (out.length === 0) throw new UsageError(`--expect names no worker: it takes ${hint}`);
  // One worker always "follows" its weight (a chi-square test with 0 degrees of freedom passes
  // whatever happened), so a single name is a mistake, not a verdict.
  if (out.length === 1)
    throw new UsageError(`--expect names one worker (${out[0]?.worker ?? ''}); a fairness test needs ${hint}`);
  return out;
}

/** `5%`, `0.05`, `5 %`: a share from 0 to 1. Throws UsageError. */
export function parseShare(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(text);
  const v = m === null ? NaN : Number(m[1]) / (m[2] === '%' ? 100 : 1);
  if (!(v >= 0 && v <= 1))
    throw new UsageError(`${flag} takes a share such as 5% or 0.05, got ${JSON.stringify(text)}`);
  return v;
}

export interface FairnessOptions {
  /** Significance level of the chi-square test (default 0.01). */
  alpha?: number;
  /** Largest relative deviation allowed for any worker (default 0.05). */
  tolerance?: number;
}

export interface WorkerShare {
  worker: string;
  observed: number;
  /** Of the attributed requests. */
  share: number;
  /** 0 for a worker not in the expected weights. */
  expectedShare: number;
  expectedCount: number;
  /** (share - expectedShare) / expectedShare; null for an unexpected worker. */
  relativeDeviation: number | null;
}

export interface FairnessVerdict {
  pass: boolean;
  alpha: number;
  tolerance: number;
  /** Requests attributed to a worker (the test's sample). */
  attributed: number;
  workers: WorkerShare[];
  chiSquare: { statistic: number; df: number; pValue: number; pass: boolean; minExpected: number };
  largestDeviation: { worker: string; relativeDeviation: number; pass: boolean } | null;
  /** Workers seen but not expected. */
  unexpected: string[];
  /** Why the run failed, one line each (empty when it passed). */
  failures: string[];
  /** Caveats that do not fail the run. */
  notes: string[];
}

export const DEFAULT_ALPHA = 0.01;
export const DEFAULT_TOLERANCE = 0.05;

/** Judges observed per-worker counts against the expected weights. */
export function fairnessVerdict(
  counts: ReadonlyMap<string, number>,
  expected: readonly ExpectedWeight[],
  opts: FairnessOptions = {},
): FairnessVerdict {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be between 0 and 1, got ${alpha}`);
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  const weightSum = expected.reduce((s, e) => s + e.weight, 0);
  const expectedNames = new Set(expected.map((e) => e.worker));
  const unexpected = [...counts.keys()].filter((w) => !expectedNames.has(w) && (counts.get(w) ?? 0) > 0).sort();
  const attributed = [...counts.values()].reduce((s, n) => s + n, 0);
  const observed = expected.map((e) => counts.get(e.worker) ?? 0);
  const fit = chiSquareGoodnessOfFit(
    observed,
    expected.map((e) => e.weight),
  );
  // Shares among the expected workers, as the chi-square sees them: requests that went to an
  // unexpected worker fail the run on their own and must not skew every expected worker's share.
  const expectedTotal = observed.reduce((s, n) => s + n, 0);
  const workers: WorkerShare[] = expected.map((e, i) => {
    const n = observed[i] as number;
    const share = expectedTotal === 0 ? 0 : n / expectedTotal;
    const expectedShare = e.weight / weightSum;
    return {
      worker: e.worker,
      observed: n,
      share,
      expectedShare,
      expectedCount: expectedTotal * expectedShare,
      relativeDeviation: expectedTotal === 0 ? null : (share - expectedShare) / expectedShare,
    };
  });
  for (const w of unexpected) {
    const n = counts.get(w) ?? 0;
    workers.push({
      worker: w,
      observed: n,
      share: n / attributed,
      expectedShare: 0,
      expectedCount: 0,
      relativeDeviation: null,
    });
  }
  let largest: FairnessVerdict['largestDeviation'] = null;
  for (const w of workers) {
    if (w.relativeDeviation === null) continue;
    if (largest === null || Math.abs(w.relativeDeviation) > Math.abs(largest.relativeDeviation)) {
      largest = { worker: w.worker, relativeDeviation: w.relativeDeviation, pass: true };
    }
  }
  if (largest !== null) largest.pass = Math.abs(largest.relativeDeviation) <= tolerance + 1e-12;
  // With unexpected workers the expected categories see only part of the sample: the chi-square
  // runs on what reached the expected workers, and the unexpected ones fail the run on their own.
  const chiPass = fit.pValue >= alpha;
  const failures: string[] = [];
  const notes: string[] = [];
  if (attributed === 0)
    failures.push(
      'no request could be attributed to a worker (no route in Set-Cookie, the route header or a tap label)',
    );
  else {
    if (!chiPass)
      failures.push(
        `chi-square ${fit.statistic.toFixed(2)} (df ${fit.df}): p = ${formatP(fit.pValue)} < alpha ${alpha}: the shares do not follow the expected weights`,
      );
    if (largest !== null && !largest.pass) {
      failures.push(
        `${largest.worker} is ${formatDeviation(largest.relativeDeviation)} off its expected share (tolerance ±${(tolerance * 100).toFixed(1)}%)`,
      );
    }
  }
  if (unexpected.length > 0)
    failures.push(
      `worker${unexpected.length > 1 ? 's' : ''} not in --expect served requests: ${unexpected.join(', ')}`,
    );
  if (attributed > 0 && fit.minExpected < 5)
    notes.push(
      `an expected count is below 5 (${fit.minExpected.toFixed(1)}): the chi-square p-value is only approximate; send more requests`,
    );
  return {
    pass: failures.length === 0,
    alpha,
    tolerance,
    attributed,
    workers,
    chiSquare: {
      statistic: fit.statistic,
      df: fit.df,
      pValue: fit.pValue,
      pass: chiPass,
      minExpected: fit.minExpected,
    },
    largestDeviation: largest,
    unexpected,
    failures,
    notes,
  };
}

export function formatP(p: number): string {
  if (p === 0) return '0';
  if (p < 1e-4) return p.toExponential(2);
  return p.toFixed(4);
}

export function formatDeviation(d: number): string {
  return `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%`;
}
