/**
 * What replay keeps per second of the measured window beyond counts: the p99 of the responses that
 * ended in it, and how many each worker answered (so a failover shows when a worker stopped and
 * when the others took its load). Histograms are kept only for the last few seconds; older
 * seconds are reduced to their p99, so a long soak does not hold one histogram per second.
 */
import type { Histogram } from 'hdr-histogram-js';
import { clampUs, newLatencyHistogram, percentileUs, SERIES_LATENCY_US } from '../results/latency-histogram.js';
import { MAX_ROUTES, OTHER } from '../results/replay-report.js';

/** Seconds behind the newest one whose histogram stays open for late results. */
const OPEN_SECONDS = 3;

export class PerSecondSeries {
  private readonly open = new Map<number, Histogram>();
  private readonly spare: Histogram[] = [];
  private readonly p99Us: (number | null)[] = [];
  private readonly workers = new Map<string, number[]>();
  private newest = -1;

  add(second: number, completeUs: number | null, worker: string): void {
    if (completeUs !== null && second > this.newest - OPEN_SECONDS) {
      let h = this.open.get(second);
      if (h === undefined) this.open.set(second, (h = this.spare.pop() ?? newLatencyHistogram(SERIES_LATENCY_US)));
      h.recordValue(clampUs(completeUs, SERIES_LATENCY_US));
    }
    if (second > this.newest) {
      this.newest = second;
      for (const s of [...this.open.keys()]) if (s <= second - OPEN_SECONDS) this.close(s);
    }
    const name = this.workers.has(worker) || this.workers.size < MAX_ROUTES ? worker : OTHER;
    let counts = this.workers.get(name);
    if (counts === undefined) this.workers.set(name, (counts = []));
    while (counts.length <= second) counts.push(0);
    counts[second] = (counts[second] as number) + 1;
  }

  /** p99 of the responses that ended in `second` (µs), null when none did. */
  p99(second: number): number | null {
    for (const s of [...this.open.keys()]) this.close(s);
    return this.p99Us[second] ?? null;
  }

  /** Requests each worker answered (or failed) in `second`; only workers with some. */
  workersAt(second: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, counts] of this.workers) {
      const n = counts[second] ?? 0;
      if (n > 0) out[name] = n;
    }
    return out;
  }

  private close(second: number): void {
    const h = this.open.get(second);
    if (h === undefined) return;
    this.open.delete(second);
    while (this.p99Us.length <= second) this.p99Us.push(null);
    this.p99Us[second] = percentileUs(h, 99);
    h.reset();
    this.spare.push(h);
  }
}
