/** The line diff summary: hunks where lines changed, were added or removed; bounds. */
import { describe, expect, it } from 'vitest';
import { diffText, splitLines } from '../../../../src/verdict/diff/text-diff.js';

const lines = (n: number, f: (i: number) => string = (i) => `line ${i + 1}`): string =>
  Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';

describe('diffText', () => {
  it('finds nothing in equal texts, and ignores CRLF against LF', () => {
    const r = diffText('a\r\nb\r\n', 'a\nb\n');
    expect(r).toMatchObject({ beforeLines: 2, afterLines: 2, removed: 0, added: 0, hunks: [] });
  });

  it('reports two separate changed lines as two hunks at their line numbers', () => {
    const before = lines(20);
    const after = lines(20, (i) => (i === 2 ? 'time 12:00:01' : i === 14 ? 'price 12' : `line ${i + 1}`));
    const r = diffText(before, after);
    expect(r.hunks).toEqual([
      { beforeLine: 3, afterLine: 3, removed: 1, added: 1, before: 'line 3', after: 'time 12:00:01' },
      { beforeLine: 15, afterLine: 15, removed: 1, added: 1, before: 'line 15', after: 'price 12' },
    ]);
    expect(r).toMatchObject({ removed: 2, added: 2, moreHunks: 0 });
  });

  it('shows an inserted and a deleted line without shifting the rest', () => {
    const before = 'a\nb\nc\nd\n';
    const after = 'a\nnew\nb\nc\n';
    const r = diffText(before, after);
    expect(r.hunks).toEqual([
      { beforeLine: 2, afterLine: 2, removed: 0, added: 1, before: '', after: 'new' },
      { beforeLine: 4, afterLine: 5, removed: 1, added: 0, before: 'd', after: '' },
    ]);
  });

  it('bounds the hunks listed and the edit search', () => {
    const before = lines(100);
    const after = lines(100, (i) => (i % 2 === 0 ? `x${i}` : `line ${i + 1}`));
    const r = diffText(before, after, { maxHunks: 5 });
    expect(r.hunks).toHaveLength(5);
    expect(r.moreHunks).toBe(45);
    expect(r.removed).toBe(50);
    // Past maxEdits, the differing middle is one hunk.
    const wide = diffText(
      lines(50),
      lines(50, (i) => `other ${i}`),
      { maxEdits: 10 },
    );
    expect(wide.hunks).toEqual([
      { beforeLine: 1, afterLine: 1, removed: 50, added: 50, before: 'line 1', after: 'other 0' },
    ]);
  });

  it('splits lines without a phantom last one', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\nb')).toEqual(['a', 'b']);
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
  });
});
