/**
 * Failover, as seen from the client side of a fairness run: a worker that served requests and then
 * served none for at least two whole seconds stopped answering; the others took its load once,
 * together, they served at least `recovery` (90%) of the rate all workers served before it.
 * Read from replay's per-second series, so it works for any balancer in front of the workers.
 */
import type { ReplayReport } from '../results/replay-report.js';

export interface FailoverEvent {
  worker: string;
  /** The first second (of the measured window) in which the worker served nothing. */
  stoppedAtSecond: number;
  /** Requests per second all workers served before it stopped (median of up to 5 seconds). */
  rateBefore: number;
  /** Seconds from the stop until the others took its load; null when they did not within the run. */
  takeoverSeconds: number | null;
  /** Errors clients saw from the stop until the takeover (or the end of the run). */
  errorsDuring: number;
}

type Series = ReplayReport['throughput']['series'];

export function findFailovers(series: Series, notWorkers: readonly string[] = [], recovery = 0.9): FailoverEvent[] {
  // The last second is cut short by the end of the run: it says nothing about a stop.
  const full = series.slice(0, -1);
  const counts = (s: number, w: string): number => full[s]?.workers?.[w] ?? 0;
  const names = new Set(full.flatMap((p) => Object.keys(p.workers ?? {})).filter((w) => !notWorkers.includes(w)));
  const events: FailoverEvent[] = [];
  for (const w of names) {
    for (let s = 1; s + 1 < full.length; s++) {
      if (!(counts(s - 1, w) > 0 && counts(s, w) === 0 && counts(s + 1, w) === 0)) continue;
      const totals = (t: number): number => [...names].reduce((sum, n) => sum + counts(t, n), 0);
      const before = Array.from({ length: Math.min(5, s) }, (_, i) => totals(s - 1 - i)).sort((a, b) => a - b);
      const rateBefore = before[Math.floor(before.length / 2)] ?? 0;
      let takeover: number | null = null;
      let errorsDuring = 0;
      for (let t = s; t < full.length; t++) {
        errorsDuring += full[t]?.errors ?? 0;
        const others = [...names].filter((n) => n !== w).reduce((sum, n) => sum + counts(t, n), 0);
        if (others >= recovery * rateBefore) {
          takeover = t - s;
          break;
        }
      }
      events.push({ worker: w, stoppedAtSecond: s, rateBefore, takeoverSeconds: takeover, errorsDuring });
      break; // one stop per worker: what follows is the same outage
    }
  }
  return events.sort((a, b) => a.stoppedAtSecond - b.stoppedAtSecond);
}
