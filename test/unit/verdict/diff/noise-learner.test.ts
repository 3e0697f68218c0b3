/**
 * The engine with a secondary: a field in which primary and secondary differ is noise for that URI
 * pattern (here and later); a field only the candidate differs in is a regression. And sampling by
 * session keeps whole sessions.
 */
import { describe, expect, it } from 'vitest';
import { KeySampler, sessionOfExchange } from '../../../../src/trace/session-sample.js';
import { coveredBy, DiffEngine, diffEvent } from '../../../../src/verdict/diff/diff-engine.js';
import { NoiseLearner } from '../../../../src/verdict/diff/noise-learner.js';
import { json } from './responses.js';

describe('NoiseLearner', () => {
  it('remembers fields per URI pattern, and no more than its bound', () => {
    const l = new NoiseLearner(2);
    l.learn('/a/{n}', ['body:$.t', 'body:$.t']);
    l.learn('/b', ['header:date', 'status']);
    expect(l.isNoise('/a/{n}', 'body:$.t')).toBe(true);
    expect(l.isNoise('/b', 'body:$.t')).toBe(false);
    expect(l.isNoise('/b', 'header:date')).toBe(true);
    expect(l.isNoise('/b', 'status')).toBe(false);
    expect(l.forgotten).toBe(1);
    expect(l.learned()).toEqual([
      { pattern: '/a/{n}', field: 'body:$.t', seen: 1 },
      { pattern: '/b', field: 'header:date', seen: 1 },
    ]);
  });
});

describe('DiffEngine with a secondary', () => {
  const page = (node: string, price: number, now: number): ReturnType<typeof json> =>
    json({ node, now, price, items: [{ id: 1, at: now }] }, [['X-Served-By', node]]);

  it('makes what primary and secondary disagree on noise, and what only the candidate changes a regression', () => {
    const engine = new DiffEngine({ secondary: true });
    const d = engine.compare({
      id: 1,
      uri: '/shop/item/12',
      primary: page('p', 10, 100),
      secondary: page('s', 10, 101),
      candidate: page('c', 11, 102),
    });
    expect(d.pattern).toBe('/shop/item/{n}');
    expect(d.outcome).toBe('differs');
    expect(d.differences.map((x) => [x.field, x.noise])).toEqual([
      ['header:x-served-by', true],
      ['body:$.node', true],
      ['body:$.now', true],
      ['body:$.price', false],
      ['body:$.items[*].at', true],
    ]);
  });

  it('keeps noise learned for the pattern on later exchanges where primary and secondary agree', () => {
    const engine = new DiffEngine({ secondary: true });
    engine.compare({
      id: 1,
      uri: '/item/1',
      primary: page('p', 1, 1),
      secondary: page('s', 1, 2),
      candidate: page('c', 1, 3),
    });
    // Same node name and time on primary and secondary this time, the candidate differs in both: still noise.
    const d = engine.compare({
      id: 2,
      uri: '/item/2',
      primary: page('p', 1, 5),
      secondary: page('p', 1, 5),
      candidate: page('c', 1, 6),
    });
    expect(d.outcome).toBe('noise');
    // Another pattern learned nothing.
    const other = engine.compare({
      id: 3,
      uri: '/cart',
      primary: page('p', 1, 5),
      secondary: page('p', 1, 5),
      candidate: page('c', 1, 6),
    });
    expect(other.outcome).toBe('differs');
    const s = engine.summary();
    expect(s).toMatchObject({ secondary: true, compared: 3, equal: 0, differing: 1, noiseOnly: 2, dropped: 0 });
    expect(s.noise.learnedFields).toBe(4);
  });

  it('judges earlier exchanges again in the summary with noise learned after them', () => {
    const engine = new DiffEngine({ secondary: true });
    // Primary and secondary happen to agree on `at` here: the candidate's `at` counts, for now.
    const first = engine.compare({
      id: 1,
      uri: '/item/1',
      primary: json({ at: 5, v: 1 }),
      secondary: json({ at: 5, v: 1 }),
      candidate: json({ at: 6, v: 1 }),
    });
    const mixed = engine.compare({
      id: 2,
      uri: '/item/2',
      primary: json({ at: 5, v: 1 }),
      secondary: json({ at: 5, v: 1 }),
      candidate: json({ at: 6, v: 2 }),
    });
    expect([first.outcome, mixed.outcome]).toEqual(['differs', 'differs']);
    // Now they disagree on `at`: noise for /item/{n}, the first exchange included.
    engine.compare({
      id: 3,
      uri: '/item/3',
      primary: json({ at: 7 }),
      secondary: json({ at: 8 }),
      candidate: json({ at: 9 }),
    });
    expect(engine.counts()).toMatchObject({ differing: 2, noiseOnly: 1 });
    const s = engine.summary();
    expect(s).toMatchObject({ compared: 3, differing: 1, noiseOnly: 2 });
    expect(s.byKind).toEqual([{ kind: 'body', exchanges: 1, differences: 1 }]);
    expect(s.groups.map((g) => [g.field, g.differences, g.noise])).toEqual([
      ['body:$.v', 1, 0],
      ['body:$.at', 0, 3],
    ]);
    expect(s.groups[1]?.examples.every((e) => e.noise)).toBe(true);
    expect(s.noise.differences).toBe(3);
  });

  it('without a secondary every difference counts, and a failed secondary teaches nothing', () => {
    const plain = new DiffEngine();
    expect(plain.compare({ id: 1, uri: '/x', primary: page('p', 1, 1), candidate: page('c', 1, 2) }).outcome).toBe(
      'differs',
    );
    const engine = new DiffEngine({ secondary: true });
    const d = engine.compare({
      id: 1,
      uri: '/x',
      primary: page('p', 1, 1),
      secondary: { error: 'reset' },
      candidate: page('c', 1, 2),
    });
    expect(d.differences.every((x) => !x.noise)).toBe(true);
  });

  it('never calls a candidate without an answer noise', () => {
    const engine = new DiffEngine({ secondary: true });
    const d = engine.compare({
      id: 1,
      uri: '/x',
      primary: page('p', 1, 1),
      secondary: { error: 'refused' },
      candidate: { error: 'refused' },
    });
    expect(d).toMatchObject({ outcome: 'differs', differences: [{ kind: 'no-response', noise: false }] });
  });

  it('writes a diff event of the exchange, bounded', () => {
    const engine = new DiffEngine();
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    const more = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i + 1]));
    const d = engine.compare({ id: 9, uri: '/api/v1/x', primary: json(many), candidate: json(more) });
    const e = diffEvent(d, 1234);
    expect(e).toMatchObject({
      event: 'diff',
      t: 1234,
      id: 9,
      uri: '/api/v1/x',
      pattern: '/api/v1/x',
      outcome: 'differs',
      more: 8,
    });
    expect(e.differences).toHaveLength(32);
    expect(e.differences[0]).toEqual({ kind: 'body', field: 'body:$.k0', before: '0', after: '1', noise: false });
  });
});

describe('ignored fields', () => {
  it('drop a field and every path under it, and nothing else', () => {
    expect(coveredBy('body:$.token', 'body:$.token')).toBe(true);
    expect(coveredBy('body:$.token.exp', 'body:$.token')).toBe(true);
    expect(coveredBy('body:$.token[*]', 'body:$.token')).toBe(true);
    expect(coveredBy('body:$.tokens', 'body:$.token')).toBe(false);
    const engine = new DiffEngine({ ignoreFields: ['body:$.meta', 'header:x-served-by'] });
    const d = engine.compare({
      id: 1,
      uri: '/x',
      primary: json({ meta: { at: 1, ids: [1] }, v: 1 }, [['X-Served-By', 'a']]),
      candidate: json({ meta: { at: 2, ids: [2] }, v: 1 }, [['X-Served-By', 'b']]),
    });
    expect(d.outcome).toBe('equal');
    const e = engine.compare({
      id: 2,
      uri: '/x',
      primary: json({ meta: 1, v: 1 }),
      candidate: json({ meta: 2, v: 2 }),
    });
    expect(e.differences.map((x) => x.field)).toEqual(['body:$.v']);
  });
});

describe('sampling by session', () => {
  it('keeps or leaves a session whole, whatever its route and request order, at about the share asked', () => {
    const sampler = new KeySampler(0.1, 'seed');
    let kept = 0;
    for (let i = 0; i < 2000; i++) {
      const id = `S${i.toString(16).toUpperCase().padStart(8, '0')}`;
      const first = sessionOfExchange([], '/app/login', [['Set-Cookie', `JSESSIONID=${id}.tomcat1; Path=/app`]]);
      const later = sessionOfExchange([['Cookie', `a=b; JSESSIONID=${id}.tomcat2`]], '/app/cart');
      const inUri = sessionOfExchange([], `/app/x;jsessionid=${id}.tomcat1`);
      expect(first).toBe(id);
      const verdicts = [first, later, inUri].map((s) => sampler.keeps(s as string));
      expect(new Set(verdicts).size).toBe(1);
      if (verdicts[0] === true) kept++;
    }
    expect(kept).toBeGreaterThan(140);
    expect(kept).toBeLessThan(260);
  });
});
