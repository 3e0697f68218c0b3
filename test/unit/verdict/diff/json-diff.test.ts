/** The JSON field diff: nested objects, arrays, type changes, missing and added keys, bounds. */
import { describe, expect, it } from 'vitest';
import { childPath, diffJson, foldJsonPath, parseJsonBody } from '../../../../src/verdict/diff/json-diff.js';

describe('diffJson', () => {
  it('finds nothing in equal values whatever the key order', () => {
    expect(diffJson({ a: 1, b: { c: [1, 2, { d: null }] } }, { b: { c: [1, 2, { d: null }] }, a: 1 })).toEqual({
      differences: [],
      more: 0,
    });
  });

  it('names the nested path of a changed value, with both values', () => {
    const r = diffJson({ user: { id: 7, name: 'ann' } }, { user: { id: 7, name: 'bob' } });
    expect(r.differences).toEqual([{ path: '$.user.name', change: 'changed', before: 'ann', after: 'bob' }]);
  });

  it('compares arrays index by index and lists extra items as added or removed', () => {
    const r = diffJson({ items: [{ p: 1 }, { p: 2 }, { p: 3 }] }, { items: [{ p: 1 }, { p: 5 }] });
    expect(r.differences).toEqual([
      { path: '$.items[1].p', change: 'changed', before: 2, after: 5 },
      { path: '$.items[2]', change: 'removed', before: { p: 3 } },
    ]);
    expect(diffJson([1], [1, 'x']).differences).toEqual([{ path: '$[1]', change: 'added', after: 'x' }]);
  });

  it('reports a type change once at its path, without walking into it', () => {
    const r = diffJson({ n: 1, o: { a: 1, b: 2 }, z: null }, { n: '1', o: [1, 2], z: false });
    expect(r.differences).toEqual([
      { path: '$.n', change: 'type', before: 1, after: '1' },
      { path: '$.o', change: 'type', before: { a: 1, b: 2 }, after: [1, 2] },
      { path: '$.z', change: 'type', before: null, after: false },
    ]);
  });

  it('lists keys missing on one side as removed or added', () => {
    const r = diffJson({ a: 1, gone: true }, { a: 1, fresh: 'x' });
    expect(r.differences).toEqual([
      { path: '$.gone', change: 'removed', before: true },
      { path: '$.fresh', change: 'added', after: 'x' },
    ]);
  });

  it('quotes keys that are not identifiers, and folds array indexes for grouping', () => {
    expect(childPath('$', 'a b')).toBe('$["a b"]');
    expect(childPath('$', 'x-y')).toBe('$["x-y"]');
    expect(foldJsonPath('$.items[12].tags[0]["a b"]')).toBe('$.items[*].tags[*]["a b"]');
    expect(diffJson({ 'a.b': 1 }, { 'a.b': 2 }).differences[0]?.path).toBe('$["a.b"]');
  });

  it('lists at most maxDifferences and counts the rest', () => {
    const a = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i + 1]));
    const r = diffJson(a, b, { maxDifferences: 3 });
    expect(r.differences.map((d) => d.path)).toEqual(['$.k0', '$.k1', '$.k2']);
    expect(r.more).toBe(7);
  });

  it('compares a subtree below maxDepth as a whole', () => {
    const deep = (v: number): unknown => ({ a: { b: { c: { d: v } } } });
    expect(diffJson(deep(1), deep(2), { maxDepth: 2 }).differences).toEqual([
      { path: '$.a.b', change: 'changed', before: { c: { d: 1 } }, after: { c: { d: 2 } } },
    ]);
    expect(diffJson(deep(1), deep(1), { maxDepth: 2 }).differences).toEqual([]);
  });

  it('parses UTF-8 JSON bodies and refuses what is not JSON', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,"é"]}'))).toEqual({ a: [1, 'é'] });
    expect(parseJsonBody(Buffer.from('<html>'))).toBeUndefined();
    expect(parseJsonBody(Buffer.from([0x7b, 0xff, 0x7d]))).toBeUndefined();
  });
});
