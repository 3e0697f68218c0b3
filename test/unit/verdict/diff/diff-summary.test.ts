/** The summary: counts by outcome and kind, groups by URI pattern and field, and its bounds. */
import { describe, expect, it } from 'vitest';
import { DiffSummaryBuilder, type ExchangeDiff } from '../../../../src/verdict/diff/diff-summary.js';
import { DiffEngine } from '../../../../src/verdict/diff/diff-engine.js';
import { json, response } from './responses.js';

const exchange = (id: number, pattern: string, fields: [string, boolean][]): ExchangeDiff => ({
  id,
  uri: pattern,
  pattern,
  outcome: fields.length === 0 ? 'equal' : fields.every(([, n]) => n) ? 'noise' : 'differs',
  differences: fields.map(([field, noise]) => ({ kind: 'body', field, before: `b${id}`, after: `a${id}`, noise })),
});

describe('DiffSummaryBuilder', () => {
  it('counts exchanges by outcome and kind, drops by reason, and groups by pattern and field', () => {
    const e = new DiffEngine();
    e.compare({ id: 1, uri: '/a', primary: response('x'), candidate: response('x') });
    e.compare({ id: 2, uri: '/a', primary: response('x', [], 200), candidate: response('y', [], 500) });
    e.compare({ id: 3, uri: '/b/7', primary: json({ v: 1 }), candidate: json({ v: 2 }) });
    e.compare({ id: 4, uri: '/b/8', primary: json({ v: 1 }), candidate: json({ v: 3 }) });
    e.compare({ id: 5, uri: '/c', primary: response('x'), candidate: { error: 'timeout' } });
    e.drop('primary: connection refused');
    e.drop('primary: connection refused');
    const s = e.summary();
    expect(s).toMatchObject({ secondary: false, compared: 5, equal: 1, differing: 4, noiseOnly: 0, dropped: 2 });
    expect(s.droppedBy).toEqual([{ reason: 'primary: connection refused', count: 2 }]);
    expect(s.byKind).toEqual([
      { kind: 'status', exchanges: 1, differences: 1 },
      { kind: 'body', exchanges: 3, differences: 3 },
      { kind: 'no-response', exchanges: 1, differences: 1 },
    ]);
    expect(s.groups[0]).toEqual({
      pattern: '/b/{n}',
      field: 'body:$.v',
      kind: 'body',
      differences: 2,
      noise: 0,
      examples: [
        { id: 3, uri: '/b/7', before: '1', after: '2', noise: false },
        { id: 4, uri: '/b/8', before: '1', after: '3', noise: false },
      ],
    });
  });

  it('keeps at most maxGroups groups and examples, counting the rest, and prefers regressions as examples', () => {
    const b = new DiffSummaryBuilder(true, 2, 2);
    b.add(exchange(1, '/p', [['f', true]]));
    b.add(exchange(2, '/p', [['f', true]]));
    b.add(exchange(3, '/p', [['f', false]]));
    b.add(exchange(4, '/p', [['f', true]]));
    b.add(exchange(5, '/q', [['g', false]]));
    b.add(
      exchange(6, '/r', [
        ['h', false],
        ['i', false],
      ]),
    );
    const s = b.summary(0);
    expect(s.groups.map((g) => `${g.pattern} ${g.field}`)).toEqual(['/p f', '/q g']);
    expect(s.groupsLeftOut).toBe(2);
    const p = s.groups[0];
    expect(p).toMatchObject({ differences: 1, noise: 3 });
    expect(p?.examples.map((x) => [x.id, x.noise])).toEqual([
      [1, true],
      [3, false],
    ]);
    expect(s).toMatchObject({ compared: 6, differing: 3, noiseOnly: 3, noise: { differences: 3 } });
  });

  it('holds a bounded summary over many distinct URIs', () => {
    const e = new DiffEngine({ maxGroups: 50 });
    for (let i = 0; i < 5000; i++)
      e.compare({ id: i, uri: `/page-${i}`, primary: json({ v: 1 }), candidate: json({ v: 2 }) });
    const s = e.summary();
    expect(s.groups).toHaveLength(50);
    expect(s.groupsLeftOut).toBe(4950);
    expect(s.differing).toBe(5000);
  });

  it('caps the drop reasons', () => {
    const b = new DiffSummaryBuilder(false);
    for (let i = 0; i < 30; i++) b.drop(`reason ${i}`);
    const s = b.summary(0);
    expect(s.dropped).toBe(30);
    expect(s.droppedBy).toHaveLength(21);
    expect(s.droppedBy[0]).toEqual({ reason: 'other', count: 10 });
  });

  it('counts a field once per exchange however many paths of it differ', () => {
    const e = new DiffEngine();
    e.compare({ id: 1, uri: '/l', primary: json({ items: [1, 2, 3] }), candidate: json({ items: [4, 5, 6] }) });
    e.compare({ id: 2, uri: '/l', primary: json({ items: [1] }), candidate: json({ items: [2] }) });
    const s = e.summary();
    expect(s.groups).toHaveLength(1);
    expect(s.groups[0]).toMatchObject({ field: 'body:$.items[*]', differences: 2 });
    expect(s.groups[0]?.examples.map((x) => x.path)).toEqual(['body:$.items[0]', 'body:$.items[0]']);
    expect(s.byKind).toEqual([{ kind: 'body', exchanges: 2, differences: 4 }]);
  });
});
