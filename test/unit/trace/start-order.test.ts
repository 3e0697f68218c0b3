import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StartOrder } from '../../../src/trace/start-order.js';
import { syntheticExchange } from '../../fixtures/trace-files.js';

describe('StartOrder', () => {
  it('pops exchanges by start time, ties by id, whatever order they were pushed in', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (starts) => {
        const heap = new StartOrder();
        starts.forEach((t, i) => heap.push(syntheticExchange({ id: i + 1, conn: 1, t })));
        const out: [number, number][] = [];
        while (heap.size > 0) {
          const e = heap.pop();
          out.push([e.t, e.id]);
        }
        const want = starts.map((t, i): [number, number] => [t, i + 1]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(out).toEqual(want);
      }),
    );
  });
});
