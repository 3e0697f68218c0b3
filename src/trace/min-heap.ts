/**
 * A binary min-heap on an array, for the few places that put a stream back in order within a
 * bounded window: replay's read-ahead (requests by recorded time), session replay's ready queue,
 * HAR export (exchanges by start time). `less` is a strict order; equal items come out in no
 * promised order, so callers that need one break ties in `less`.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The least item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const h = this.items;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(x, h[p] as T)) break;
      h[i] = h[p] as T;
      i = p;
    }
    h[i] = x;
  }

  /** Takes the least item out; undefined when empty. */
  pop(): T | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && this.less(h[r] as T, h[l] as T) ? r : l;
      if (!this.less(h[c] as T, last)) break;
      h[i] = h[c] as T;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
