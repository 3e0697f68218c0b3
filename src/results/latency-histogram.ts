/**
 * Latency histograms, the one home of them (HdrHistogramJS's single builder with named settings):
 * the factory and its settings, the clamp applied before a value is recorded, the percentile
 * rule, encoding (HdrHistogram's compressed base64, as results files carry it), decoding and
 * merging (counts added, so percentiles of the union are exact to the histogram's precision,
 * never averaged), and the percentile curve that the HdrHistogram plotter draws (x = 1 / (1 -
 * percentile), on a log axis). Values are integers in µs.
 */
import {
  build as buildHistogram,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';

/** What a histogram keeps, by use. Every histogram grows (HdrHistogramJS's autoResize) past the range it was sized for. */
export interface HistogramSettings {
  /** Decimal digits kept: 3 is exact below 2048 µs and within 0.1% above; 2 exact below 256 µs, within 1% above. */
  readonly significantDigits: 2 | 3;
  /** The range the counts are allocated for at first (µs). */
  readonly sizedForUs: number;
  /** Larger values are recorded as this (clampUs). */
  readonly maxUs: number;
}

/** One hour in µs: replay's latencies above it are recorded as one hour. */
export const ONE_HOUR_US = 3_600_000_000;

/** Replay's latencies (time to headers, time to complete), overall and per group: what results files carry. */
export const LATENCY_US: HistogramSettings = { significantDigits: 3, sizedForUs: ONE_HOUR_US, maxUs: ONE_HOUR_US };

/** One point of replay's per-second series (its p99): two digits are plenty for a point of a time series, and small. */
export const SERIES_LATENCY_US: HistogramSettings = {
  significantDigits: 2,
  sizedForUs: ONE_HOUR_US,
  maxUs: ONE_HOUR_US,
};

/**
 * A trace's latencies and CPing round trips (`inspect`): sized for a minute, as nearly every
 * exchange is shorter, and grown for longer ones. Values past about 100 days are clamped: only a
 * corrupt trace has them, and HDR histograms refuse values beyond 2^53.
 */
export const TRACE_LATENCY_US: HistogramSettings = { significantDigits: 3, sizedForUs: 60_000_000, maxUs: 2 ** 43 };

/** A new, empty histogram (µs). Make one per group up front: recording into it allocates nothing. */
export function newLatencyHistogram(settings: HistogramSettings = LATENCY_US): Histogram {
  return buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: settings.sizedForUs,
    numberOfSignificantValueDigits: settings.significantDigits,
  });
}

/** A latency as the histogram records it: rounded to a whole µs, negative as 0, above the settings' max as the max. */
export function clampUs(us: number, settings: HistogramSettings = LATENCY_US): number {
  const v = Math.round(us);
  return v < 0 ? 0 : v > settings.maxUs ? settings.maxUs : v;
}

/**
 * The value at a percentile (0-100), µs; null when the histogram is empty. The histogram answers
 * with the highest value its bucket stands for, which can lie above every value recorded: the
 * answer is never above the max.
 */
export function percentileUs(h: Histogram, percentile: number): number | null {
  return h.totalCount === 0 ? null : Math.min(h.getValueAtPercentile(percentile), h.maxValue);
}

/** Microseconds (the unit is in the field that holds it: `endUs`, `rttUs`). Null when count is 0. */
export interface LatencyStats {
  count: number;
  /** Exact, from the sum. */
  mean: number | null;
  /** Percentiles from an HDR histogram (3 significant digits: exact below 2048 µs, within 0.1% above), never above max. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p99_9: number | null;
  /** Exact. */
  max: number | null;
}

/** Latency statistics plus the histogram, encoded in HdrHistogram's compressed base64 form (mergeable). */
export interface LatencyReport extends LatencyStats {
  histogram: string;
}

/** The statistics of a histogram, and the histogram encoded. */
export function latencyReport(h: Histogram): LatencyReport {
  const n = h.totalCount;
  return {
    count: n,
    mean: n === 0 ? null : Math.round(h.mean),
    p50: percentileUs(h, 50),
    p90: percentileUs(h, 90),
    p99: percentileUs(h, 99),
    p99_9: percentileUs(h, 99.9),
    max: n === 0 ? null : h.maxValue,
    histogram: encodeIntoCompressedBase64(h),
  };
}

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
  const merged = latencyReport(mergeHistograms(reports.map((r) => r.histogram)));
  // The inputs' max values are exact: the largest of them is the merge's, and no percentile lies above it,
  // so merging the parts of one run gives that run's figures exactly (--workers).
  const maxes = reports.map((r) => r.max).filter((m): m is number => m !== null);
  if (maxes.length === 0 || merged.max === null) return merged;
  const max = Math.min(merged.max, Math.max(...maxes));
  const cap = (v: number | null): number | null => (v === null ? null : Math.min(v, max));
  return { ...merged, max, p50: cap(merged.p50), p90: cap(merged.p90), p99: cap(merged.p99), p99_9: cap(merged.p99_9) };
}

/** Percentile curves of several histograms on one x grid. */
export interface PercentileCurves {
  /** 1 / (1 - percentile/100): 1 at p0, 10 at p90, 100 at p99, 1000 at p99.9; 10^(k/stepsPerDecade). */
  x: number[];
  /** Per histogram, the value (µs) at each x; each curve ends with its max at the first x past its count, then null. */
  ysUs: (number | null)[][];
}

/**
 * The percentile curves of several histograms on one x grid: x = 10^(k/stepsPerDecade) (the
 * percentile 100 (1 - 1/x)) up to where one sample remains (x ≤ count, at least 10), then one
 * point for the max; the grid runs one step past the largest count.
 */
export function percentileCurves(histograms: readonly Histogram[], stepsPerDecade = 10): PercentileCurves {
  const maxCount = Math.max(0, ...histograms.map((h) => h.totalCount));
  const x: number[] = [];
  const last = Math.max(10, maxCount) * 10 ** (1 / stepsPerDecade);
  for (let k = 0; ; k++) {
    const v = 10 ** (k / stepsPerDecade);
    x.push(v);
    if (v > last) break;
  }
  const ysUs = histograms.map((h) => {
    const n = h.totalCount;
    let maxShown = false;
    return x.map((v) => {
      if (n === 0) return null;
      if (v <= Math.max(10, n)) return percentileUs(h, 100 * (1 - 1 / v));
      if (!maxShown) {
        maxShown = true;
        return h.maxValue;
      }
      return null;
    });
  });
  return { x, ysUs };
}
