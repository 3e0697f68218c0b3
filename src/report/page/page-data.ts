/**
 * The JSON the HTML report embeds for its page script: written by chart-data.ts (Node), read by
 * report-page.ts (the browser). Both compilations include this file, so the two sides cannot
 * disagree about a field. Everything here is ready to draw: the page does no statistics.
 *
 * Latencies are in ms. `null` in a series is a gap in the line (no value, or a break between runs).
 */

export interface PageData {
  /** The runs (one per run, target or sweep step), as the tables name them. */
  names: string[];
  /** Latency percentile curves on one x grid, x = 1/(1-p); null past a run's max. */
  curve: { x: number[]; ys: (number | null)[][] };
  /** Per-second series, one entry per run (same order as names); null when no run has seconds. */
  time: TimeData | null;
  fairness: FairnessData | null;
  compare: CompareData | null;
  sweep: SweepData | null;
}

/** One run's per-second series on its own x (seconds); its runs laid end to end have a null point between them. */
export interface RunSeries {
  x: number[];
  responses: (number | null)[];
  errors: (number | null)[];
  /** p99 per second, ms; null when the results carry none. */
  p99: (number | null)[] | null;
  /** Shown in the legend while the cursor is off the chart: the whole run's figures. */
  summary: { responsesPerSecond: number; errorsPerSecond: number; p99Ms: number | null };
}

export interface TimeData {
  runs: RunSeries[];
  /** Some run is several runs (compare's rounds) laid end to end. */
  endToEnd: boolean;
  /** Whether any run carries per-second p99. */
  hasP99: boolean;
}

/** Bar-chart categories: full names for the legend, short ones for the axis. */
export interface CategoryLabels {
  names: string[];
  /** The names without the part they all share (never empty, still distinct). */
  short: string[];
  /** What was taken off, e.g. "http://10.0.0.1/…", or null. */
  common: string | null;
}

export interface FairnessData {
  workers: CategoryLabels;
  /** Percentages. */
  observed: number[];
  expected: number[];
  /** mod_jk's own counts as percentages, or null without --jk-status. */
  jk: (number | null)[] | null;
  /** The worker the legend shows while the cursor is off the chart (the largest deviation). */
  focus: number;
}

export interface CompareData {
  targets: CategoryLabels;
  rps: number[];
  rpsMin: number[];
  rpsMax: number[];
  p50: (number | null)[];
  p99: (number | null)[];
}

export interface SweepData {
  loadKind: 'concurrency' | 'rate';
  load: number[];
  throughput: number[];
  p99: (number | null)[];
  knee: number | null;
}
