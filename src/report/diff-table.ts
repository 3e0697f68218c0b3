/**
 * The terminal summary of a comparison (`ajpbench diff`, later `record --mirror` on exit): what was
 * compared against what, the counts, the differences by kind, then the differences grouped by URI
 * pattern and field with an example each: regressions first, noise apart. Rendering only.
 */
import Table from 'cli-table3';
import { printable } from '../trace/uri-fold.js';
import type { DiffGroup, DiffSummary } from '../verdict/diff/diff-summary.js';
import type { DiffReport } from '../verdict/diff/diff-run.js';
import { int, pct } from './summary-table.js';

/** Groups shown per table; the rest are counted in one line (--json has them all, up to the summary's bound). */
export const DIFF_GROUPS_SHOWN = 20;

export function renderDiffTable(r: DiffReport): string {
  const head = [
    `Diff: ${int(r.sent)} exchanges of ${printable(r.file)} sent in lockstep${r.sample === null ? '' : ` (a ${fmtShare(r.sample)} sample of sessions)`}; stopped by ${r.stoppedBy === 'requests' ? '--requests' : r.stoppedBy}, ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  primary    ${printable(r.targets.primary)}`,
    `  candidate  ${printable(r.targets.candidate)}`,
    ...(r.targets.secondary === null
      ? ['  secondary  none: every difference counts (give --secondary to learn noise)']
      : [`  secondary  ${printable(r.targets.secondary)} (noise: what it and the primary disagree on)`]),
    '',
  ];
  const skipped = r.trace.skippedMalformed + r.trace.skippedTruncated;
  const skips =
    skipped > 0 || r.trace.unreadableLines > 0
      ? `  skipped: ${int(r.trace.skippedTruncated)} truncated, ${int(r.trace.skippedMalformed)} malformed exchanges, ${int(r.trace.unreadableLines)} unreadable lines\n`
      : '';
  const body = renderDiffSummary(r.summary);
  const cut = body.indexOf('\n') + 1;
  return head.join('\n') + '\n' + body.slice(0, cut) + skips + body.slice(cut);
}

/**
 * The counts and the grouped differences of any comparison (offline or a mirror's): the counts
 * line first, then by kind, what was dropped, and the tables of differences and of noise.
 */
export function renderDiffSummary(s: DiffSummary): string {
  const out: string[] = [countsLine(s)];
  if (s.byKind.length > 0)
    out.push(`  differing by kind: ${s.byKind.map((k) => `${k.kind} ${int(k.exchanges)}`).join(', ')}`);
  if (s.dropped > 0)
    out.push(`  dropped: ${s.droppedBy.map((d) => `${int(d.count)} ${printable(d.reason)}`).join('; ')}`);
  const regressions = s.groups.filter((g) => g.differences > 0);
  const noise = s.groups.filter((g) => g.differences === 0 && g.noise > 0);
  if (regressions.length > 0)
    out.push('', 'Differences (by URI pattern and field)', groupTable(regressions, 'differences'));
  if (noise.length > 0)
    out.push('', 'Noise (primary and secondary differ here too; not counted)', groupTable(noise, 'noise'));
  if (s.groupsLeftOut > 0)
    out.push(`  ${int(s.groupsLeftOut)} more differences in groups past the bound (counted above)`);
  return out.join('\n') + '\n';
}

export function countsLine(s: DiffSummary): string {
  return `  compared ${int(s.compared)}: equal ${int(s.equal)} (${pct(s.equal, s.compared)}), differing ${int(s.differing)} (${pct(s.differing, s.compared)}), noise only ${int(s.noiseOnly)}, dropped ${int(s.dropped)}`;
}

function groupTable(groups: DiffGroup[], which: 'differences' | 'noise'): string {
  const t = new Table({
    head: ['pattern', 'field', 'exchanges', 'example: exchange, before → after'],
    colAligns: ['left', 'left', 'right', 'left'],
    style: { head: [], border: [], compact: true },
    wordWrap: true,
    colWidths: [null, null, null, 70],
  });
  for (const g of groups.slice(0, DIFF_GROUPS_SHOWN)) {
    const e = g.examples.find((x) => x.noise === (which === 'noise')) ?? g.examples[0];
    t.push([
      printable(g.pattern),
      printable(g.field),
      int(which === 'differences' ? g.differences : g.noise),
      e === undefined
        ? ''
        : `#${e.id}${e.path === undefined ? '' : ` ${e.path}`}: ${show(e.before)} → ${show(e.after)}`,
    ]);
  }
  const rest = groups.length - DIFF_GROUPS_SHOWN;
  return t.toString() + (rest > 0 ? `\n  and ${int(rest)} more groups (in --json and --html)` : '');
}

function show(v: string | null): string {
  return v === null ? '(absent)' : v;
}

function fmtShare(share: number): string {
  return `${Number((share * 100).toPrecision(4))}%`;
}
