/**
 * Exchanges back in start order: a trace holds them in the order they completed, HAR prefers the
 * order they started. A min-heap by `t` (then id) of a bounded window puts them back: push each,
 * pop the earliest once the window is full, then the rest at the end.
 */
import type { ExchangeEvent } from './trace-types.js';

/** A min-heap of exchanges by start time: puts a completion-ordered stream back in start order. */
export class StartOrder {
  private readonly heap: ExchangeEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(e: ExchangeEvent): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (before(h[parent] as ExchangeEvent, e)) break;
      h[i] = h[parent] as ExchangeEvent;
      h[parent] = e;
      i = parent;
    }
  }

  pop(): ExchangeEvent {
    const h = this.heap;
    const top = h[0] as ExchangeEvent;
    const last = h.pop() as ExchangeEvent;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as ExchangeEvent, h[m] as ExchangeEvent)) m = l;
        if (r < h.length && before(h[r] as ExchangeEvent, h[m] as ExchangeEvent)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as ExchangeEvent, h[i] as ExchangeEvent];
        i = m;
      }
    }
    return top;
  }
}

/** By start time, then by id (ties keep the order the requests started in). */
function before(a: ExchangeEvent, b: ExchangeEvent): boolean {
  return a.t < b.t || (a.t === b.t && a.id <= b.id);
}
