/**
 * Thresholds for every load command, k6 style: `--threshold 'p99<50ms' --threshold
 * 'errors<0.1%' --threshold 'rps>1000'`. Each is checked against the run's final report, listed
 * pass/fail, and any failure makes the exit code 1 (docs/verdicts.md lists the metrics).
 *
 * Grammar: `[headers.]METRIC OP VALUE[UNIT]`, spaces allowed, where
 * - latency (time to complete; `headers.` for time to headers): `p50`, `p99.9`, `p(99)`, any
 *   percentile 0-100, `mean` (`avg`), `max`, `min`; value with us/µs/ms/s, a bare number is ms;
 * - `errors`: with `%` the share of measured requests, else a count (also `error_rate` = share);
 * - `rps` (`throughput`): responses per second over the measured window;
 * - `requests`: measured requests; `mismatches`: --verify mismatches, count or `%` of compared;
 * - `generator`: the share of its cores the generator's CPU used (`generator<80%`): fails a run
 *   that measured ajpbench rather than the target (results/generator-report.ts);
 * - `diffs`: exchanges whose candidate answer differed from the primary's (not noise), a count or
 *   `%` of those compared: `ajpbench diff` and `record --mirror` (evaluateDiffThresholds);
 * - OP: `<`, `<=`, `>`, `>=`.
 */
import { decodeHistogram, percentileUs, type LatencyReport } from '../results/latency-histogram.js';
import type { ReplayReport } from '../results/replay-report.js';
import type { DiffSummary } from './diff/diff-summary.js';

export type ThresholdOp = '<' | '<=' | '>' | '>=';

export type ThresholdMetric =
  | { kind: 'latency'; phase: 'complete' | 'headers'; stat: 'percentile'; percentile: number }
  | { kind: 'latency'; phase: 'complete' | 'headers'; stat: 'mean' | 'max' | 'min' }
  | { kind: 'errors'; share: boolean }
  | { kind: 'mismatches'; share: boolean }
  | { kind: 'diffs'; share: boolean }
  | { kind: 'rps' }
  | { kind: 'requests' }
  | { kind: 'generator' };

export interface Threshold {
  /** As written. */
  text: string;
  metric: ThresholdMetric;
  op: ThresholdOp;
  /** Latency in µs, shares 0-1, counts, requests per second. */
  value: number;
}

export interface ThresholdResult {
  threshold: Threshold;
  /** null when the run has nothing to measure it by (no response: no latency). */
  actual: number | null;
  pass: boolean;
  /** `p99 = 41.2 ms < 50 ms`. */
  message: string;
}

const LATENCY_UNITS: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1_000_000 };

/** Parses one threshold; throws RangeError naming what is wrong. */
export function parseThreshold(text: string): Threshold {
  const m = /^\s*([a-z_][a-z0-9_.()]*)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(%|us|µs|ms|s|\/s)?\s*$/i.exec(
    text,
  );
  if (m === null) {
    throw new RangeError(
      `--threshold ${JSON.stringify(text)}: expected METRIC OP VALUE such as p99<50ms, errors<0.1%, rps>1000`,
    );
  }
  const name = (m[1] as string).toLowerCase();
  const op = m[2] as ThresholdOp;
  const number = Number(m[3]);
  const unit = m[4]?.toLowerCase();
  const bad = (why: string): never => {
    throw new RangeError(`--threshold ${JSON.stringify(text)}: ${why}`);
  };
  let metric: ThresholdMetric;
  let value = number;
  const latency = /^(?:(headers|ttfb|complete)\.)?(?:p\(?(\d+(?:\.\d+)?)\)?|(mean|avg|max|min))$/.exec(name);
  if (latency !== null) {
    const phase = latency[1] === 'headers' || latency[1] === 'ttfb' ? 'headers' : 'complete';
    if (latency[2] !== undefined) {
      const percentile = Number(latency[2]);
      if (!(percentile >= 0 && percentile <= 100)) bad('a percentile is between 0 and 100');
      metric = { kind: 'latency', phase, stat: 'percentile', percentile };
    } else {
      const stat = latency[3] === 'avg' ? 'mean' : (latency[3] as 'mean' | 'max' | 'min');
      metric = { kind: 'latency', phase, stat };
    }
    if (unit === '%' || unit === '/s') bad('a latency takes us, ms or s (a bare number is ms)');
    value = number * (LATENCY_UNITS[unit ?? 'ms'] as number);
  } else if (name === 'errors' || name === 'error_rate' || name === 'mismatches' || name === 'diffs') {
    if (unit !== undefined && unit !== '%') bad(`${name} takes a count or a percentage`);
    const share = unit === '%' || name === 'error_rate';
    if (share) value = unit === '%' ? number / 100 : number;
    if (share && value > 1) bad('a share is at most 100%');
    metric = name === 'mismatches' || name === 'diffs' ? { kind: name, share } : { kind: 'errors', share };
  } else if (name === 'rps' || name === 'throughput') {
    if (unit !== undefined && unit !== '/s') bad('rps takes requests per second');
    metric = { kind: 'rps' };
  } else if (name === 'generator') {
    if (unit !== '%') bad('generator takes a percentage of its cores, e.g. generator<80%');
    value = number / 100;
    metric = { kind: 'generator' };
  } else if (name === 'requests') {
    if (unit !== undefined) bad('requests takes a count');
    metric = { kind: 'requests' };
  } else {
    return bad(
      `unknown metric "${m[1]}" (p50, p99, p99.9, p(N), mean, max, min, headers.p99, errors, error_rate, rps, requests, mismatches, generator, diffs)`,
    );
  }
  return { text: text.trim(), metric, op, value };
}

function compare(actual: number, op: ThresholdOp, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
  }
}

function latencyValue(l: LatencyReport, m: Extract<ThresholdMetric, { kind: 'latency' }>): number | null {
  if (l.count === 0) return null;
  if (m.stat === 'percentile') return percentileUs(decodeHistogram(l.histogram), m.percentile);
  if (m.stat === 'mean') return l.mean;
  if (m.stat === 'max') return l.max;
  return percentileUs(decodeHistogram(l.histogram), 0);
}

/** The measured value of a metric in a report (null when there is none). */
export function metricValue(r: ReplayReport, m: ThresholdMetric): number | null {
  switch (m.kind) {
    case 'latency':
      return latencyValue(m.phase === 'headers' ? r.latency.timeToHeadersUs : r.latency.timeToCompleteUs, m);
    case 'errors':
      return m.share ? (r.requests.total === 0 ? null : r.requests.errors / r.requests.total) : r.requests.errors;
    case 'mismatches':
      if (r.verify === null) return null;
      return m.share ? (r.verify.compared === 0 ? null : r.verify.mismatched / r.verify.compared) : r.verify.mismatched;
    case 'rps':
      return r.requests.perSecond;
    case 'requests':
      return r.requests.total;
    case 'generator':
      return r.generator?.cpuShare ?? null;
    case 'diffs':
      return null;
  }
}

/** The value of a `diffs` threshold in a comparison's summary (null for any other metric, or nothing compared as a share). */
export function diffMetricValue(s: DiffSummary, m: ThresholdMetric): number | null {
  if (m.kind !== 'diffs') return null;
  return m.share ? (s.compared === 0 ? null : s.differing / s.compared) : s.differing;
}

export function metricName(m: ThresholdMetric): string {
  switch (m.kind) {
    case 'latency': {
      const base = m.stat === 'percentile' ? `p${m.percentile}` : m.stat;
      return m.phase === 'headers' ? `headers.${base}` : base;
    }
    case 'errors':
      return m.share ? 'error rate' : 'errors';
    case 'mismatches':
      return m.share ? 'mismatch rate' : 'mismatches';
    case 'diffs':
      return m.share ? 'diff rate' : 'diffs';
    case 'rps':
      return 'rps';
    case 'requests':
      return 'requests';
    case 'generator':
      return 'generator CPU';
  }
}

/** A value in the metric's natural unit: `41.2 ms`, `0.12%`, `1043.5/s`, `12`. */
export function formatMetric(m: ThresholdMetric, v: number): string {
  switch (m.kind) {
    case 'latency':
      return v >= 1_000_000 ? `${(v / 1_000_000).toFixed(3)} s` : `${(v / 1000).toFixed(v < 10_000 ? 3 : 1)} ms`;
    case 'errors':
    case 'mismatches':
    case 'diffs':
      return m.share ? `${(v * 100).toFixed(v < 0.01 ? 3 : 2)}%` : String(v);
    case 'rps':
      return `${v.toFixed(1)}/s`;
    case 'requests':
      return String(v);
    case 'generator':
      return `${(v * 100).toFixed(1)}%`;
  }
}

/** Checks every threshold against a report. */
export function evaluateThresholds(report: ReplayReport, thresholds: readonly Threshold[]): ThresholdResult[] {
  return evaluateBy(thresholds, (m) => metricValue(report, m), whyNotMeasured);
}

/** Checks `diffs` thresholds against a comparison's summary (a load metric there has no value: it fails, saying why). */
export function evaluateDiffThresholds(summary: DiffSummary, thresholds: readonly Threshold[]): ThresholdResult[] {
  return evaluateBy(
    thresholds,
    (m) => diffMetricValue(summary, m),
    (m) => (m.kind === 'diffs' ? 'no exchange was compared' : 'a comparison measures no load (use diffs)'),
  );
}

function whyNotMeasured(m: ThresholdMetric): string {
  switch (m.kind) {
    case 'mismatches':
      return 'the run did not --verify';
    case 'generator':
      return 'the results do not carry generator figures (written before ajpbench measured them)';
    case 'diffs':
      return 'a load run compares no responses (diffs is for ajpbench diff and record --mirror)';
    default:
      return 'nothing measured';
  }
}

function evaluateBy(
  thresholds: readonly Threshold[],
  valueOf: (m: ThresholdMetric) => number | null,
  why: (m: ThresholdMetric) => string,
): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = valueOf(t.metric);
    const name = metricName(t.metric);
    if (actual === null)
      return { threshold: t, actual, pass: false, message: `${name}: ${why(t.metric)} (threshold ${t.text})` };
    const pass = compare(actual, t.op, t.value);
    return {
      threshold: t,
      actual,
      pass,
      message: `${name} = ${formatMetric(t.metric, actual)} ${pass ? '' : 'not '}${t.op} ${formatMetric(t.metric, t.value)}`,
    };
  });
}

/** The threshold lines as printed after a run: `  PASS  p99 = 41.2 ms < 50 ms`. */
export function renderThresholds(results: readonly ThresholdResult[]): string {
  if (results.length === 0) return '';
  const failed = results.filter((r) => !r.pass).length;
  const lines = results.map((r) => `  ${r.pass ? 'PASS' : 'FAIL'}  ${r.threshold.text.padEnd(20)} ${r.message}`);
  return `Thresholds (${results.length - failed} passed, ${failed} failed)\n${lines.join('\n')}\n`;
}
