/**
 * A line diff summary of two texts: which lines changed, as hunks (Myers' O((N+M)D) algorithm, the
 * one diff(1) and git use), each with its first line on both sides and a short before/after. Only
 * the lines between the common head and tail are diffed, and the edit distance is bounded: two
 * texts that differ everywhere cost one summary hunk, not quadratic time.
 */

export interface TextHunk {
  /** 1-based first line of the hunk in the before text (where it would go, when only lines were added). */
  beforeLine: number;
  afterLine: number;
  /** Lines removed from before, added in after. */
  removed: number;
  added: number;
  /** The first removed and the first added line (empty string when none). */
  before: string;
  after: string;
}

export interface TextDiffResult {
  beforeLines: number;
  afterLines: number;
  removed: number;
  added: number;
  hunks: TextHunk[];
  /** Hunks found beyond maxHunks (their lines are in removed and added). */
  moreHunks: number;
}

export interface TextDiffOptions {
  maxHunks?: number;
  /** Largest edit distance (lines removed plus added) searched for; beyond it the differing middle is one hunk. */
  maxEdits?: number;
}

export const DEFAULT_MAX_TEXT_HUNKS = 50;
// The search keeps one row of O(D) per step: 1000 edits cost at most about 4 MB.
const DEFAULT_MAX_EDITS = 1000;

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function diffText(before: string, after: string, opts: TextDiffOptions = {}): TextDiffResult {
  const a = splitLines(before);
  const b = splitLines(after);
  const maxHunks = opts.maxHunks ?? DEFAULT_MAX_TEXT_HUNKS;
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const ops = myers(x, y, opts.maxEdits ?? DEFAULT_MAX_EDITS);
  const result: TextDiffResult = {
    beforeLines: a.length,
    afterLines: b.length,
    removed: 0,
    added: 0,
    hunks: [],
    moreHunks: 0,
  };
  const push = (h: TextHunk): void => {
    result.removed += h.removed;
    result.added += h.added;
    if (result.hunks.length < maxHunks) result.hunks.push(h);
    else result.moreHunks++;
  };
  if (ops === undefined) {
    if (x.length + y.length > 0) push(hunk(x, y, 0, x.length, 0, y.length, head));
    return result;
  }
  // Walk the edit script: runs of removals and additions between kept lines are one hunk.
  let i = 0;
  let j = 0;
  let k = 0;
  while (k < ops.length) {
    if (ops[k] === KEEP) {
      i++;
      j++;
      k++;
      continue;
    }
    const i0 = i;
    const j0 = j;
    while (k < ops.length && ops[k] !== KEEP) {
      if (ops[k] === REMOVE) i++;
      else j++;
      k++;
    }
    push(hunk(x, y, i0, i, j0, j, head));
  }
  return result;
}

function hunk(x: string[], y: string[], i0: number, i1: number, j0: number, j1: number, head: number): TextHunk {
  return {
    beforeLine: head + i0 + 1,
    afterLine: head + j0 + 1,
    removed: i1 - i0,
    added: j1 - j0,
    before: i1 > i0 ? (x[i0] as string) : '',
    after: j1 > j0 ? (y[j0] as string) : '',
  };
}

const KEEP = 0;
const REMOVE = 1;
const ADD = 2;
type Op = typeof KEEP | typeof REMOVE | typeof ADD;

/** Myers' greedy shortest edit script; undefined when it needs more than maxEdits edits. */
function myers(x: string[], y: string[], maxEdits: number): Op[] | undefined {
  const n = x.length;
  const m = y.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    // Row d holds v for k in -d..d (index k + d): all that backtracking reads from it.
    trace.push(v.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let xi =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
          ? (v[offset + k + 1] as number)
          : (v[offset + k - 1] as number) + 1;
      let yi = xi - k;
      while (xi < n && yi < m && x[xi] === y[yi]) {
        xi++;
        yi++;
      }
      v[offset + k] = xi;
      if (xi >= n && yi >= m) return backtrack(trace, n, m, d);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], n: number, m: number, dEnd: number): Op[] {
  const ops: Op[] = [];
  let xi = n;
  let yi = m;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d] as Int32Array;
    const k = xi - yi;
    const down = k === -d || (k !== d && (v[d + k - 1] as number) < (v[d + k + 1] as number));
    const prevK = down ? k + 1 : k - 1;
    const prevX = v[d + prevK] as number;
    const prevY = prevX - prevK;
    while (xi > prevX && yi > prevY) {
      ops.push(KEEP);
      xi--;
      yi--;
    }
    ops.push(down ? ADD : REMOVE);
    if (down) yi--;
    else xi--;
  }
  while (xi > 0 && yi > 0) {
    ops.push(KEEP);
    xi--;
    yi--;
  }
  return ops.reverse();
}
