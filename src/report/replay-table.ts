/**
 * Renders a ReplayReport as plain-text tables (cli-table3) for `ajpbench replay`, and the live
 * progress line. Rendering only: every number comes from the report.
 */
import Table from 'cli-table3';
import type { Histogram } from 'hdr-histogram-js';
import { generatorLine } from '../results/generator-report.js';
import type { LatencyReport } from '../results/latency-histogram.js';
import type { GroupReport, ProgressSnapshot, ReplayReport, SessionsReport } from '../results/replay-report.js';
import { bytes, int, ms, pct } from './summary-table.js';
import { printable } from '../trace/uri-fold.js';

type Align = 'left' | 'right';

/** Sessions served by more than one worker, listed by name in the table. */
const LISTED_BROKEN = 10;

/** `--sessions`: counts, per first worker, and the first few sessions that moved. */
function sessionsSection(
  x: SessionsReport,
  trace: string | undefined,
  section: (heading: string, body: string) => void,
  table: (head: string[], rows: (string | number)[][], aligns: Align[]) => string,
): void {
  const lines = [
    table(
      [
        'started',
        'completed',
        'kept on one worker',
        'moved',
        'unknown worker',
        'with errors',
        'new id again',
        'requests',
        'without session',
      ],
      [[x.started, x.completed, x.kept, x.broken, x.unknown, x.withErrors, x.renewed, x.requests, x.sessionless]],
      Array<Align>(9).fill('right'),
    ),
  ];
  if (x.byRoute.length > 0)
    lines.push(
      table(
        ['first worker', 'sessions', 'moved'],
        x.byRoute.map((b) => [printable(b.route), b.sessions, b.broken]),
        ['left', 'right', 'right'],
      ),
    );
  const broken = x.list.filter((s) => s.routes.length > 1);
  if (broken.length > 0)
    lines.push(
      `  moved (a stickiness break)${x.broken > LISTED_BROKEN ? `, the first ${LISTED_BROKEN} of ${int(x.broken)}` : ''}:\n` +
        broken
          .slice(0, LISTED_BROKEN)
          .map(
            (s) =>
              `    ${printable(s.id)}${s.pass > 0 ? ` (pass ${s.pass + 1})` : ''}: ${s.routes.map(printable).join(' -> ')}, ${int(s.requests)} of ${int(s.steps)} requests`,
          )
          .join('\n'),
    );
  if (trace !== undefined) lines.unshift(`  ${trace}`);
  section('Sessions (--sessions: a session served by more than one worker moved)', lines.join('\n'));
}

/** `config.sessionsInTrace` in words, when the report has it. */
function inTrace(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const t = v as { sessions?: unknown; exchanges?: unknown; sessionless?: unknown };
  if (typeof t.sessions !== 'number' || typeof t.exchanges !== 'number' || typeof t.sessionless !== 'number')
    return undefined;
  return `the trace holds ${int(t.sessions)} sessions (${int(t.exchanges)} exchanges) and ${int(t.sessionless)} exchanges without a session`;
}

export function renderReplayTable(r: ReplayReport, opts: { color?: boolean } = {}): string {
  const color = opts.color === true;
  const out: string[] = [];
  const section = (heading: string, body: string): void => {
    out.push(`${color ? `\x1b[1m${heading}\x1b[22m` : heading}\n${body}`);
  };
  const table = (head: string[], rows: (string | number)[][], aligns: Align[]): string => {
    const t = new Table({
      head,
      colAligns: aligns,
      style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [], compact: true },
    });
    for (const row of rows) t.push(row.map((c) => (typeof c === 'number' ? int(c) : c)));
    return t.toString();
  };
  const right = (n: number): Align[] => Array<Align>(n).fill('right');
  const c = r.config;
  const s = r.schedule;
  const targets = Array.isArray(c.targets) ? (c.targets as string[]).map(printable).join('\n') : '?';
  section(
    'Replay',
    table(
      [],
      [
        ['trace', printable(String(c.trace))],
        ['target', targets],
        ['model', s.model],
        [
          'stopped by',
          s.stoppedBy === 'trace-end'
            ? 'end of the trace'
            : s.stoppedBy === 'signal'
              ? 'Ctrl-C (results so far)'
              : `${s.stoppedBy} limit`,
        ],
        [
          'run time',
          `${(s.elapsedMs / 1000).toFixed(2)} s (warmup ${((c.warmupMs as number) / 1000).toFixed(1)} s, ${int(s.warmupRequests)} requests, not counted)`,
        ],
        [
          'requests',
          `${int(r.requests.total)} (${int(r.requests.responses)} responses, ${int(r.requests.errors)} errors)`,
        ],
        ['throughput', `${r.requests.perSecond.toFixed(1)} responses/s over ${(r.measuredMs / 1000).toFixed(2)} s`],
        ...(r.generator === undefined ? [] : [['generator', generatorLine(r.generator)]]),
      ],
      ['left', 'left'],
    ),
  );
  const latencyHead = ['latency (ms)', 'count', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'];
  const lrow = (label: string, l: LatencyReport): string[] => [
    label,
    int(l.count),
    ms(l.mean),
    ms(l.p50),
    ms(l.p90),
    ms(l.p99),
    ms(l.p99_9),
    ms(l.max),
  ];
  const fromWhat = s.model.startsWith('open') ? 'from the due time' : 'from the send';
  section(
    `Latency (${fromWhat})`,
    table(
      latencyHead,
      [lrow('to headers', r.latency.timeToHeadersUs), lrow('to complete', r.latency.timeToCompleteUs)],
      ['left', ...right(7)],
    ),
  );
  const groupRows = (gs: GroupReport[]): string[][] =>
    gs.map((g) => [
      printable(g.name),
      int(g.count),
      pct(g.count, r.requests.total),
      ms(g.timeToCompleteUs.p50),
      ms(g.timeToCompleteUs.p99),
      ms(g.timeToCompleteUs.max),
    ]);
  if (r.byStatusClass.length > 0)
    section(
      'By status class',
      table(['class', 'count', 'share', 'p50 ms', 'p99 ms', 'max ms'], groupRows(r.byStatusClass), [
        'left',
        ...right(5),
      ]),
    );
  if (r.byRoute.length > 0) {
    section(
      'Workers (route from Set-Cookie JSESSIONID, the route header, or the target)',
      table(['worker', 'requests', 'share', 'p50 ms', 'p99 ms', 'max ms'], groupRows(r.byRoute), ['left', ...right(5)]),
    );
  }
  if (r.sessions !== undefined) sessionsSection(r.sessions, inTrace(c.sessionsInTrace), section, table);
  if (r.errors.byKind.length === 0) section('Errors', '  none');
  else
    section(
      'Errors',
      table(
        ['kind', 'count', 'share', 'first message'],
        r.errors.byKind.map((e) => [
          e.kind,
          e.count,
          pct(e.count, r.requests.total),
          printable(e.example ?? '').slice(0, 80),
        ]),
        ['left', 'right', 'right', 'left'],
      ),
    );
  const series = r.throughput.series.map((x) => x.responses);
  if (series.length > 0) {
    // The last second is usually partial: leave it out of min/median unless it is the only one.
    const full = series.length > 1 ? series.slice(0, -1) : series;
    const sorted = [...full].sort((a, b) => a - b);
    section(
      'Throughput per second',
      table(
        ['seconds', 'min', 'median', 'max', 'errors/s max'],
        [
          [
            series.length,
            sorted[0] ?? 0,
            sorted[Math.floor(sorted.length / 2)] ?? 0,
            Math.max(...full),
            Math.max(0, ...r.throughput.series.map((x) => x.errors)),
          ],
        ],
        right(5),
      ) + (series.length > 1 ? `\n  ${sparkline(series)}` : ''),
    );
  }
  section(
    'Bytes',
    table(
      ['sent', 'received', 'response bodies'],
      [[bytes(r.bytes.sent), bytes(r.bytes.received), bytes(r.bytes.responseBodies)]],
      right(3),
    ),
  );
  section(
    'Connections',
    table(
      ['target', 'opened', 'failed', 'reused', 'closed (reuse=0)', 'closed (error)', 'CPings', 'CPing failures'],
      r.connections.map((k) => [
        printable(k.target),
        k.opened,
        k.failed,
        k.reused,
        k.closedNoReuse,
        k.closedOnError,
        k.cpings,
        k.cpingFailures,
      ]),
      ['left', ...right(7)],
    ),
  );
  if (r.verify !== null) {
    const v = r.verify;
    const rows: string[][] = [];
    for (const m of v.byKind) {
      for (const [i, e] of m.examples.entries()) {
        rows.push([
          i === 0 ? m.kind : '',
          i === 0 ? int(m.count) : '',
          `#${e.exchangeId} ${printable(e.uri)}`.slice(0, 60),
          short(e.expected),
          short(e.actual),
        ]);
      }
    }
    section(
      `Verify: ${int(v.matched)} of ${int(v.compared)} responses match the recording (${pct(v.matched, v.compared)})`,
      rows.length === 0
        ? '  no mismatch'
        : table(['mismatch', 'count', 'example exchange', 'recorded', 'replayed'], rows, [
            'left',
            'right',
            'left',
            'left',
            'left',
          ]),
    );
  }
  if (r.warnings.length > 0) section('Warnings', r.warnings.map((w) => `  ! ${w}`).join('\n'));
  return out.join('\n\n') + '\n';
}

function short(v: string | number | null): string {
  if (v === null) return '(none)';
  const t = printable(String(v));
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}

const BARS = '▁▂▃▄▅▆▇█';

function sparkline(values: number[], width = 60): string {
  // Fold into at most `width` columns (mean of each run).
  const cols: number[] = [];
  const per = Math.ceil(values.length / width);
  for (let i = 0; i < values.length; i += per) {
    const part = values.slice(i, i + per);
    cols.push(part.reduce((a, b) => a + b, 0) / part.length);
  }
  const max = Math.max(...cols, 1);
  return cols.map((v) => BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))]).join('');
}

/** The live progress line (stderr, when it is a terminal). */
export function progressLine(p: ProgressSnapshot): string {
  const p99 = p.p99Us === null ? '-' : `${(p.p99Us / 1000).toFixed(2)} ms`;
  return `\r${p.warmup ? 'warmup ' : ''}${(p.elapsedMs / 1000).toFixed(1)}s  ${int(p.requests)} requests  ${p.perSecond.toFixed(0)} req/s  p99 ${p99}  errors ${int(p.errors)}   `;
}

/**
 * HdrHistogram's percentile distribution text (.hgrm), as HdrHistogram's plotter and wrk2 read it.
 * Values in milliseconds (the histogram holds µs).
 */
export function renderHgrm(h: Histogram): string {
  return h.outputPercentileDistribution(5, 1000);
}
