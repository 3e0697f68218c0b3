/**
 * Reading the latency histograms of a results file back: decode HdrHistogram's compressed base64
 * (as ReplayResults writes it), merge several (counts added, so percentiles of the union are
 * exact to the histogram's precision, never averaged), and sample the percentile curve that the
 * HdrHistogram plotter draws (x = 1 / (1 - percentile), on a log axis).
 */
import { decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { latencyReport, newLatencyHistogram, type LatencyReport } from '../load/replay-results.js';

/** Decodes one encoded histogram (µs); an empty string gives an empty histogram. */
export function decodeHistogram(encoded: string): Histogram {
  if (encoded === '') return newLatencyHistogram();
  return decodeFromCompressedBase64(encoded, 32, false);
}

/** Adds every encoded histogram into a fresh one. */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const out = newLatencyHistogram();
  for (const e of encoded) {
    if (e === '') continue;
    const h = decodeHistogram(e);
    out.add(h);
  }
  return out;
}

/** The LatencyReport (statistics + encoded histogram) of the merge of several. */
export function mergeLatencyReports(reports: readonly LatencyReport[]): LatencyReport {
  // One report: as it is (a decoded histogram's max is only the top of its bucket).
  if (reports.length === 1) return reports[0] as LatencyReport;
  return latencyReport(mergeHistograms(reports.map((r) => r.histogram)));
}

/** Value (µs) at a percentile (0-100) of an encoded histogram; null when it is empty. */
export function percentileOf(encoded: string, percentile: number): number | null {
  const h = decodeHistogram(encoded);
  if (h.totalCount === 0) return null;
  return Math.min(h.getValueAtPercentile(percentile), h.maxValue);
}

export interface CurvePoint {
  /** 0-100. */
  percentile: number;
  /** 1 / (1 - percentile/100): 1 at p0, 10 at p90, 100 at p99, 1000 at p99.9. */
  x: number;
  valueUs: number;
}

/**
 * The percentile curve: points at p = 100 (1 - 10^(-k/steps)) up to where one sample remains
 * (1 / (1 - p) ≤ count), then the max. `stepsPerDecade` points per power of ten on the x axis.
 */
export function percentileCurve(h: Histogram, stepsPerDecade = 10): CurvePoint[] {
  const n = h.totalCount;
  if (n === 0) return [];
  const points: CurvePoint[] = [];
  const maxX = Math.max(10, n);
  for (let k = 0; ; k++) {
    const x = 10 ** (k / stepsPerDecade);
    if (x > maxX) break;
    const percentile = 100 * (1 - 1 / x);
    points.push({ percentile, x, valueUs: Math.min(h.getValueAtPercentile(percentile), h.maxValue) });
  }
  points.push({ percentile: 100, x: maxX * 10 ** (1 / stepsPerDecade), valueUs: h.maxValue });
  return points;
}

export { encodeIntoCompressedBase64 as encodeHistogram };
