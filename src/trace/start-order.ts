/**
 * Exchanges back in start order: a trace holds them in the order they completed, HAR prefers the
 * order they started. A min-heap by `t` (then id) of a bounded window puts them back: push each,
 * pop the earliest once the window is full, then the rest at the end.
 */
import { MinHeap } from './min-heap.js';
import type { ExchangeEvent } from './trace-types.js';

/** A min-heap of exchanges by start time: puts a completion-ordered stream back in start order. */
export class StartOrder {
  private readonly heap = new MinHeap<ExchangeEvent>(before);

  get size(): number {
    return this.heap.size;
  }

  push(e: ExchangeEvent): void {
    this.heap.push(e);
  }

  /** The earliest exchange held; only when size > 0. */
  pop(): ExchangeEvent {
    return this.heap.pop() as ExchangeEvent;
  }
}

/** By start time, then by id (ties keep the order the requests started in). */
function before(a: ExchangeEvent, b: ExchangeEvent): boolean {
  return a.t < b.t || (a.t === b.t && a.id < b.id);
}
