/**
 * The knee of a sweep: the step after which throughput stops growing while latency p99 grows
 * sharply (docs/verdicts.md "Knee"). For consecutive steps i and i+1, with load L (concurrency or
 * rate), throughput T and p99 latency P:
 *
 *   gain(i)    = ((T[i+1] - T[i]) / T[i]) / ((L[i+1] - L[i]) / L[i])
 *                 the share of the load's relative increase that came out as throughput
 *                 (1: it scaled, 0: flat, negative: it fell)
 *   latency(i) = P[i+1] / P[i]
 *
 * The knee is the first step i with gain(i) < minGain (default 0.5: at most half the
 * added load came out as throughput) and latency(i) ≥ latencyFactor (default 1.5), where the
 * plateau holds: no step after i+1 exceeds max(T[i], T[i+1]) by more than maxRecovery (default
 * 0.1, 10%), so a one-step dip (a GC pause, a noisy neighbour) is not taken for saturation. A step
 * that got no response (no throughput, no latency: every request failed) takes no part at all: it
 * says the target broke or was unreachable, not how much it carries, so neither growth nor a knee
 * is ever read from it. Nor is a knee read from a pair with a generator-bound step (the generator,
 * not the target, stopped the growth there: results/generator-report.ts). No such step: no knee
 * within the sweep.
 */

export interface SweepPoint {
  /** Concurrency or rate of the step. */
  load: number;
  /** Responses per second. */
  throughput: number;
  /** p99 latency, any unit (µs in ajpbench); null when nothing was measured. */
  p99: number | null;
  /** The generator was the bottleneck at this step: its saturation is ajpbench's, never a knee. */
  generatorBound?: boolean;
}

export interface KneeOptions {
  minGain?: number;
  latencyFactor?: number;
  maxRecovery?: number;
}

export interface StepGrowth {
  /** Index of the first step of the pair. */
  from: number;
  gain: number | null;
  latencyGrowth: number | null;
  saturated: boolean;
  /** Either step was generator-bound: the pair is never saturated. */
  generatorBound?: boolean;
}

export interface Knee {
  /** Index of the knee step, or null when the sweep found none. */
  index: number | null;
  /** The knee step's load, throughput and p99. */
  point: SweepPoint | null;
  /** Per pair of consecutive steps. */
  growth: StepGrowth[];
  minGain: number;
  latencyFactor: number;
  maxRecovery: number;
  /** Best throughput seen and its step. */
  peak: { index: number; point: SweepPoint } | null;
}

export const DEFAULT_MIN_GAIN = 0.5;
export const DEFAULT_LATENCY_FACTOR = 1.5;
export const DEFAULT_MAX_RECOVERY = 0.1;

export function findKnee(points: readonly SweepPoint[], opts: KneeOptions = {}): Knee {
  const minGain = opts.minGain ?? DEFAULT_MIN_GAIN;
  const latencyFactor = opts.latencyFactor ?? DEFAULT_LATENCY_FACTOR;
  const maxRecovery = opts.maxRecovery ?? DEFAULT_MAX_RECOVERY;
  for (let i = 1; i < points.length; i++) {
    if (!((points[i] as SweepPoint).load > (points[i - 1] as SweepPoint).load))
      throw new RangeError('sweep steps must have increasing load');
  }
  const growth: StepGrowth[] = [];
  let index: number | null = null;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i] as SweepPoint;
    const b = points[i + 1] as SweepPoint;
    if (!answered(a) || !answered(b)) {
      growth.push({ from: i, gain: null, latencyGrowth: null, saturated: false });
      continue;
    }
    const loadGrowth = (b.load - a.load) / a.load;
    const gain = (b.throughput - a.throughput) / a.throughput / loadGrowth;
    const latencyGrowth = (a.p99 as number) > 0 ? (b.p99 as number) / (a.p99 as number) : null;
    const later = Math.max(0, ...points.slice(i + 2).map((p) => p.throughput));
    const plateau = later <= Math.max(a.throughput, b.throughput) * (1 + maxRecovery);
    const generatorBound = a.generatorBound === true || b.generatorBound === true;
    const saturated =
      !generatorBound && plateau && latencyGrowth !== null && gain < minGain && latencyGrowth >= latencyFactor;
    growth.push({ from: i, gain, latencyGrowth, saturated, ...(generatorBound ? { generatorBound } : {}) });
    if (saturated && index === null) index = i;
  }
  let peak: Knee['peak'] = null;
  points.forEach((p, i) => {
    if (answered(p) && (peak === null || p.throughput > peak.point.throughput)) peak = { index: i, point: p };
  });
  return {
    index,
    point: index === null ? null : (points[index] as SweepPoint),
    growth,
    minGain,
    latencyFactor,
    maxRecovery,
    peak,
  };
}

/** A step that got responses: throughput and a latency to compare. */
export function answered(p: SweepPoint): boolean {
  return p.throughput > 0 && p.p99 !== null;
}
