import { describe, expect, it } from 'vitest';
import { findFailovers } from '../../../src/verdict/index.js';

/** A per-second series from per-worker counts (and errors), as replay reports it. */
function series(rows: [Record<string, number>, number?][]) {
  return rows.map(([workers, errors = 0], second) => ({
    second,
    responses: Object.values(workers).reduce((a, b) => a + b, 0),
    errors,
    p99Us: 1000,
    workers,
  }));
}

describe('findFailovers', () => {
  it('finds the worker that stopped, the rate before, the takeover time and the errors meanwhile', () => {
    const s = series([
      [{ t1: 50, t2: 50 }],
      [{ t1: 50, t2: 50 }],
      [{ t1: 50, t2: 50 }],
      [{ t1: 40, t2: 0, lb: 30 }, 30],
      [{ t1: 70, t2: 0 }, 5],
      [{ t1: 95, t2: 0 }],
      [{ t1: 100, t2: 0 }],
      [{ t1: 30, t2: 0 }], // the last, partial second
    ]);
    expect(findFailovers(s, ['lb'])).toEqual([
      { worker: 't2', stoppedAtSecond: 3, rateBefore: 100, takeoverSeconds: 2, errorsDuring: 35 },
    ]);
  });

  it('reports no takeover when the others never reach 90% of the rate before', () => {
    const s = series([
      [{ a: 10, b: 10 }],
      [{ a: 10, b: 10 }],
      [{ a: 10, b: 0 }],
      [{ a: 12, b: 0 }],
      [{ a: 12, b: 0 }],
      [{ a: 1 }],
    ]);
    expect(findFailovers(s)).toEqual([
      { worker: 'b', stoppedAtSecond: 2, rateBefore: 20, takeoverSeconds: null, errorsDuring: 0 },
    ]);
  });

  it('a single quiet second, or a stop only in the cut-short last second, is not a failover', () => {
    expect(findFailovers(series([[{ a: 5, b: 5 }], [{ a: 5, b: 0 }], [{ a: 5, b: 5 }], [{ a: 5, b: 5 }]]))).toEqual([]);
    expect(findFailovers(series([[{ a: 5, b: 5 }], [{ a: 5, b: 5 }], [{ a: 5, b: 0 }]]))).toEqual([]);
  });
});
