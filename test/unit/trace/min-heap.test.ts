import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../../src/trace/index.js';

describe('MinHeap', () => {
  it('pops any mix of pushes and pops in order (fast-check against a sorted list)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -50, max: 50 }), fc.constant(null)), { maxLength: 300 }),
        (ops) => {
          const heap = new MinHeap<number>((a, b) => a < b);
          const model: number[] = [];
          for (const op of ops) {
            if (op === null) {
              model.sort((a, b) => a - b);
              expect(heap.pop()).toBe(model.shift());
            } else {
              heap.push(op);
              model.push(op);
            }
            expect(heap.size).toBe(model.length);
          }
          model.sort((a, b) => a - b);
          expect(heap.peek()).toBe(model[0]);
          const rest: number[] = [];
          for (let x = heap.pop(); x !== undefined; x = heap.pop()) rest.push(x);
          expect(rest).toEqual(model);
        },
      ),
    );
  });
});
