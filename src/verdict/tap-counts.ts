/**
 * Worker counts from a trace recorded by `ajpbench record --tap` while the load ran: when the
 * workers sit behind taps (one per worker, labelled `worker=`), the tap label says which worker
 * served each request, with no need for a route in the response. Exchanges are counted by their
 * tap label (else their route) when their Forward Request falls within the run's wall-clock
 * window.
 */
import { openTrace } from '../trace/index.js';

export interface TapCounts {
  counts: Map<string, number>;
  /** Exchanges in the window with neither a tap label nor a route. */
  unlabelled: number;
  /** Exchanges outside the window (before the run, or after it). */
  outside: number;
}

/** Counts per worker of the exchanges recorded in [startMs, endMs] (wall clock, ms since the epoch). */
export async function tapCounts(file: string, startMs: number, endMs: number): Promise<TapCounts> {
  const t = await openTrace(file);
  const originUs = t.header.startTimeUs;
  const counts = new Map<string, number>();
  let unlabelled = 0;
  let outside = 0;
  for await (const e of t.events) {
    if (e.event !== 'exchange') continue;
    const atMs = (originUs + e.t) / 1000;
    if (atMs < startMs || atMs > endMs) {
      outside++;
      continue;
    }
    const w = e.worker ?? e.route;
    if (w === undefined || w === null) unlabelled++;
    else counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return { counts, unlabelled, outside };
}
