/** Plain-text tables (cli-table3) for compare, fairness and sweep. Rendering only. */
import Table from 'cli-table3';
import { GENERATOR_BOUND } from '../results/generator-report.js';
import { bytes, int, ms } from './summary-table.js';
import { printable } from '../trace/uri-fold.js';
import { formatDeviation, formatP } from '../verdict/fairness.js';
import type { FairnessRunResult } from '../verdict/fairness-run.js';
import type { SweepResult } from '../verdict/sweep.js';
import type { CompareSummary } from '../verdict/compare.js';

type Align = 'left' | 'right';

function table(head: string[], rows: string[][], aligns: Align[]): string {
  const t = new Table({ head, colAligns: aligns, style: { head: [], border: [], compact: true } });
  for (const r of rows) t.push(r);
  return t.toString();
}

const right = (n: number): Align[] => Array<Align>(n).fill('right');

export function renderCompareTable(c: CompareSummary): string {
  const ratio = (r: number | null, noise: boolean | undefined): string =>
    r === null ? '-' : `${r.toFixed(2)}x${noise === true ? ' ~' : ''}`;
  const rows = c.targets.map((t) => [
    printable(t.name),
    t.rps.toFixed(1),
    c.rounds > 1 ? `${t.rpsMin.toFixed(1)}-${t.rpsMax.toFixed(1)}` : '-',
    ratio(t.rpsRatio, t.withinNoise?.rps),
    ms(t.p50Us),
    ms(t.p90Us),
    ms(t.p99Us),
    c.rounds > 1 ? `${ms(t.p99MinUs)}-${ms(t.p99MaxUs)}` : '-',
    ratio(t.p99Ratio, t.withinNoise?.p99),
    ms(t.p999Us),
    ms(t.maxUs),
    int(t.errors),
    bytes(t.bytesReceived),
    generatorCell(t.generatorCpu, t.generatorBound),
  ]);
  const out = [
    `Compare: ${c.targets.length} target${c.targets.length === 1 ? '' : 's'}, ${c.rounds} round${c.rounds === 1 ? '' : 's'} interleaved`,
    table(
      [
        'target',
        'resp/s',
        'rounds',
        'vs 1st',
        'p50 ms',
        'p90 ms',
        'p99 ms',
        'rounds',
        'vs 1st',
        'p99.9 ms',
        'max ms',
        'errors',
        'received',
        'gen CPU',
      ],
      rows,
      ['left', ...right(13)],
    ),
  ];
  const bound = c.targets.filter((t) => t.generatorBound === true).map((t) => printable(t.name));
  if (bound.length > 0) out.push(`${GENERATOR_BOUND}: ${bound.join(', ')} (! in gen CPU)`);
  const notes: string[] = [];
  for (const t of c.targets.slice(1)) {
    if (t.withinNoise === null) continue;
    const within = [t.withinNoise.rps ? 'throughput' : '', t.withinNoise.p99 ? 'p99' : ''].filter((x) => x !== '');
    const beyond = [!t.withinNoise.rps ? 'throughput' : '', !t.withinNoise.p99 ? 'p99' : ''].filter((x) => x !== '');
    notes.push(
      `  ${printable(t.name)}: ${beyond.length > 0 ? `${beyond.join(' and ')} differ${beyond.length === 1 ? 's' : ''} beyond the noise` : ''}${beyond.length > 0 && within.length > 0 ? '; ' : ''}${within.length > 0 ? `${within.join(' and ')} within the noise` : ''}`,
    );
  }
  if (c.rounds < 2) notes.push('  one round: no spread to judge noise by (use --rounds 3 or more)');
  out.push(`Noise (~: the min-max ranges over the rounds overlap with the first target's):\n${notes.join('\n')}`);
  const sessions = c.targets.filter((t) => t.sessions !== undefined);
  if (sessions.length > 0)
    out.push(
      `Sessions (--sessions, over the rounds):\n${sessions
        .map((t) => {
          const x = t.sessions as NonNullable<typeof t.sessions>;
          return `  ${printable(t.name)}: ${int(x.started)} started, ${int(x.kept)} kept on one worker, ${int(x.broken)} moved, ${int(x.renewed)} given a new id again`;
        })
        .join('\n')}`,
    );
  return out.join('\n') + '\n';
}

/** The generator's CPU share, `!` when it was the bottleneck; `-` for results without the figures. */
export function generatorCell(cpu: number | null | undefined, bound: boolean | undefined): string {
  if (cpu === null || cpu === undefined) return '-';
  return `${(cpu * 100).toFixed(0)}%${bound === true ? ' !' : ''}`;
}

export function renderFairness(r: FairnessRunResult, target: string): string {
  const v = r.verdict;
  const jk = r.jk;
  const head = [
    'worker',
    'requests',
    'share',
    'expected',
    'deviation',
    ...(jk === null ? [] : ['mod_jk', 'difference']),
  ];
  const rows = v.workers.map((w) => {
    const j = jk?.workers.find((x) => x.worker === w.worker);
    return [
      printable(w.worker),
      int(w.observed),
      `${(w.share * 100).toFixed(2)}%`,
      w.expectedShare === 0 ? 'not expected' : `${(w.expectedShare * 100).toFixed(2)}%`,
      w.relativeDeviation === null ? '-' : formatDeviation(w.relativeDeviation),
      ...(jk === null
        ? []
        : [
            int(j?.jk ?? 0),
            j === undefined ? '-' : j.difference === 0 ? '0' : `${j.difference > 0 ? '+' : ''}${j.difference}`,
          ]),
    ];
  });
  if (jk !== null) {
    for (const w of jk.workers) {
      if (v.workers.some((x) => x.worker === w.worker)) continue;
      rows.push([printable(w.worker), int(w.measured), '-', '-', '-', int(w.jk), `${w.difference}`]);
    }
  }
  const lines = [
    `Fairness: ${printable(target)}, ${int(v.attributed)} requests attributed to a worker${r.source === 'tap' ? ' by the tap labels of the recorded trace' : ''}${r.unattributed > 0 ? `, ${int(r.unattributed)} to none (${r.source === 'tap' ? 'no tap label or route' : 'failed, or no route'})` : ''}`,
    table(head, rows, ['left', ...right(head.length - 1)]),
    `  chi-square ${v.chiSquare.statistic.toFixed(3)} (df ${v.chiSquare.df}), p = ${formatP(v.chiSquare.pValue)}, alpha ${v.alpha}: ${v.chiSquare.pass ? 'PASS' : 'FAIL'}`,
    `  largest deviation ${v.largestDeviation === null ? '-' : `${printable(v.largestDeviation.worker)} ${formatDeviation(v.largestDeviation.relativeDeviation)}`}, tolerance ±${(v.tolerance * 100).toFixed(1)}%: ${v.largestDeviation?.pass === true ? 'PASS' : 'FAIL'}`,
  ];
  const errs = r.report.errors.byKind;
  if (errs.length > 0)
    lines.push(`  errors seen by clients: ${errs.map((e) => `${e.kind} ${int(e.count)}`).join(', ')}`);
  for (const f of r.failovers) {
    lines.push(
      `  failover: ${printable(f.worker)} stopped answering at second ${f.stoppedAtSecond} (of ${f.rateBefore}/s before); ` +
        (f.takeoverSeconds === null
          ? 'the others had not taken its load by the end of the run'
          : `the others took its load within ${f.takeoverSeconds + 1} s`) +
        `, ${int(f.errorsDuring)} client errors meanwhile`,
    );
  }
  for (const n of v.notes) lines.push(`  note: ${n}`);
  if (jk !== null) {
    lines.push(
      `  mod_jk status (${printable(jk.url)}, lb ${jk.balancers.join(', ')}): ${jk.agree ? 'agrees with the wire' : 'DIFFERS from the wire'}; ${jk.note}`,
    );
  }
  const rec = r.sessionSticky ?? null;
  const replayed = r.report.sessions;
  if (rec === null && replayed !== undefined)
    lines.push(
      `Sessions (the trace's, not judged: add --sticky): ${int(replayed.started)} replayed, ${int(replayed.kept)} kept on one worker, ${int(replayed.broken)} moved to another, ${int(replayed.unknown)} unknown`,
    );
  if (rec !== null) {
    lines.push(
      `Sticky (the trace's sessions): ${int(rec.started)} sessions replayed, ${int(rec.completed)} completed, ${int(rec.kept)} kept on one worker, ${int(rec.broken)} moved to another, ${int(rec.unknown)} unknown: ${rec.pass ? 'PASS' : 'FAIL'}`,
    );
    if (rec.byWorker.length > 0)
      lines.push(
        table(
          ['first worker', 'sessions', 'moved', 'moved to'],
          rec.byWorker.map((w) => [
            printable(w.worker),
            int(w.sessions),
            int(w.broken),
            Object.entries(w.movedTo)
              .map(([k, n]) => `${printable(k)} ${n}`)
              .join(', ') || '-',
          ]),
          ['left', ...right(2), 'left'],
        ),
      );
  }
  if (r.sticky !== null) {
    const s = r.sticky;
    lines.push(
      `Sticky: ${int(s.opened)} of ${int(s.sessions)} sessions opened, ${int(s.followUps)} follow-ups, ${int(s.violations)} landed elsewhere, ${int(s.unknown)} unknown, ${int(s.errors)} errors: ${s.pass ? 'PASS' : 'FAIL'}`,
    );
    if (s.byWorker.length > 0) {
      lines.push(
        table(
          ['session worker', 'sessions', 'follow-ups', 'violations', 'landed on'],
          s.byWorker.map((w) => [
            printable(w.worker),
            int(w.sessions),
            int(w.followUps),
            int(w.violations),
            Object.entries(w.landedOn)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || '-',
          ]),
          ['left', ...right(3), 'left'],
        ),
      );
    }
  }
  lines.push(r.pass ? 'Verdict: PASS' : `Verdict: FAIL\n${r.failures.map((f) => `  - ${f}`).join('\n')}`);
  return lines.join('\n') + '\n';
}

export function renderSweep(s: SweepResult): string {
  const rows = s.summary.steps.map((x, i) => {
    const g = s.knee.growth[i];
    // A step with no response, or one cut short, takes no part in the knee (knee.ts): say so in its row.
    const note = s.steps[i]?.stopped === true ? ' (partial)' : x.total > 0 && x.p99Us === null ? ' (no response)' : '';
    return [
      `${i === s.knee.index ? '> ' : ''}${x.load}`,
      `${x.throughput.toFixed(1)}${note}`,
      ms(x.p50Us),
      ms(x.p99Us),
      int(x.errors),
      g === undefined || g.gain === null ? '-' : g.gain.toFixed(2),
      g === undefined || g.latencyGrowth === null ? '-' : `${g.latencyGrowth.toFixed(2)}x`,
      generatorCell(x.generatorCpu, x.generatorBound),
    ];
  });
  const lines = [
    `Sweep by ${s.mode}: ${s.steps.length} step${s.steps.length === 1 ? '' : 's'}`,
    table(
      [
        s.mode === 'rate' ? 'rate /s' : 'concurrency',
        'resp/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'gain to next',
        'p99 to next',
        'gen CPU',
      ],
      rows,
      right(8),
    ),
    `  gain: the share of the next step's added load that came out as throughput; the knee (>) is the first step whose gain is below ${s.knee.minGain} while p99 grows ${s.knee.latencyFactor}x or more`,
  ];
  if (s.stoppedEarly !== null) lines.push(`  ${s.stoppedEarly}`);
  lines.push(s.knee.index === null ? 'Knee: none found' : `Knee: ${s.mode} ${s.knee.point?.load}`);
  for (const a of s.advice) lines.push(`  ${a}`);
  return lines.join('\n') + '\n';
}
