/** inspect counts the diff events of record --mirror and diff -o, and refuses malformed ones. */
import { describe, expect, it } from 'vitest';
import { renderSummaryTable } from '../../../src/report/summary-table.js';
import { TraceSummaryBuilder } from '../../../src/report/trace-summary.js';
import type { DiffEvent, TraceEvent } from '../../../src/trace/trace-types.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';

const diff = (id: number, outcome: DiffEvent['outcome']): DiffEvent => ({
  event: 'diff',
  t: id * 10,
  id,
  uri: '/a',
  pattern: '/a',
  outcome,
  differences: [{ kind: 'status', field: 'status', before: '200', after: '500', noise: outcome === 'noise' }],
});

describe('inspect and diff events', () => {
  it('counts diff events by outcome, not as unknown kinds, and a malformed one as malformed', () => {
    const b = new TraceSummaryBuilder(testTraceHeader({ minorVersion: 2 }));
    const bad = { event: 'diff', t: 5, id: 1, outcome: 'maybe', differences: [] } as unknown as TraceEvent;
    for (const e of [diff(1, 'differs'), diff(2, 'noise'), diff(3, 'differs'), bad]) b.add(e);
    const s = b.build();
    expect(s).toMatchObject({ unknownEvents: 0, malformedEvents: 1, diffs: { events: 3, differing: 2, noiseOnly: 1 } });
    expect(renderSummaryTable(s)).toMatch(/diff events\s*│?\s*3: 2 differing, 1 noise only/);
  });
});
