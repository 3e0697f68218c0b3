/**
 * Renders a TraceSummary as plain-text tables (cli-table3) for `ajpbench inspect`. Rendering only:
 * every number comes from the summary. Colours only when asked (the command asks when stdout is a
 * TTY), so piped output and tests see plain text.
 */
import Table from 'cli-table3';
import type { LatencyStats } from '../results/latency-histogram.js';
import type { Count, TraceSummary } from './trace-summary.js';
import type { TraceDerivation } from '../trace/trace-types.js';
import { printable } from '../trace/uri-fold.js';

export interface SummaryTableOptions {
  /** ANSI colours for titles, headings and borders. */
  color?: boolean;
  /** Shown after "Trace" in the first heading (the file name). */
  title?: string;
}

type Align = 'left' | 'right';

export function renderSummaryTable(s: TraceSummary, opts: SummaryTableOptions = {}): string {
  const color = opts.color === true;
  const sections: string[] = [];
  const section = (heading: string, body: string): void => {
    sections.push(`${color ? `\x1b[1m${heading}\x1b[22m` : heading}\n${body}`);
  };
  const table = (head: string[], rows: (string | number)[][], aligns: Align[]): string => {
    const t = new Table({
      head,
      colAligns: aligns,
      // compact: no rule between rows, so that the whole summary fits a screen or two.
      style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [], compact: true },
    });
    for (const r of rows) t.push(r.map((c) => (typeof c === 'number' ? int(c) : c)));
    return t.toString();
  };
  const counts = (heading: string, label: string, rows: Count[], total: number): void => {
    if (rows.length === 0) {
      section(heading, '  none');
      return;
    }
    section(
      heading,
      table(
        [label, 'count', 'share'],
        rows.map((r) => [r.name, r.count, pct(r.count, total)]),
        ['left', 'right', 'right'],
      ),
    );
  };

  section(
    `Trace${opts.title === undefined ? '' : ' ' + printable(opts.title)}`,
    table([], traceRows(s), ['left', 'left']),
  );
  section('Overview', table([], overviewRows(s), ['left', 'right']));

  const requests = s.exchanges + s.statusClasses.incomplete;
  const statusRows: Count[] = (['1xx', '2xx', '3xx', '4xx', '5xx', 'other', 'incomplete'] as const)
    .filter((k) => k !== 'other' || s.statusClasses.other > 0)
    .map((k) => ({ name: k, count: s.statusClasses[k] }));
  counts('Status', 'class', requests === 0 ? [] : statusRows, requests);
  counts('Methods', 'method', s.methods, s.exchanges);
  counts('Routes', 'route', s.routes, s.exchanges);
  if (s.workers !== null) counts('Workers', 'worker', s.workers, s.exchanges);
  const uriRows = s.uris.other > 0 ? [...s.uris.top, { name: '(other)', count: s.uris.other }] : s.uris.top;
  const distinct = `${int(s.uris.distinct)}${s.uris.capped ? '+' : ''} distinct`;
  counts(
    `Top URIs (${int(s.uris.top.length)} of ${distinct}; query dropped, ids folded to {n}/{id})`,
    'uri',
    uriRows,
    s.exchanges,
  );

  const latencyHead = ['latency', 'count', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'];
  section(
    'Latency (recorded, milliseconds)',
    table(
      latencyHead,
      [latencyRow('to headers', s.latency.headersUs), latencyRow('to end', s.latency.endUs)],
      ['left', ...latencyHead.slice(1).map((): Align => 'right')],
    ),
  );
  if (s.cping.count === 0) section('CPing', '  none');
  else {
    const r = s.cping.rttUs;
    section(
      'CPing (round trip, milliseconds)',
      table(
        ['count', 'no CPong', 'p50', 'p99', 'max'],
        [[s.cping.count, s.cping.noCPong, ms(r.p50), ms(r.p99), ms(r.max)]],
        Array<Align>(5).fill('right'),
      ),
    );
  }
  const c = s.connections;
  if (c.opened === 0 && c.closed === 0) section('Connections', '  none');
  else {
    const reasons = c.closedBy.map((r) => `closed: ${r.name}`);
    const head = ['opened', 'closed', ...reasons, 'bytes to container', 'bytes to web server'];
    const row = [
      c.opened,
      c.closed,
      ...c.closedBy.map((r) => r.count),
      bytes(c.bytesToContainer),
      bytes(c.bytesToWebServer),
    ];
    section('Connections', table(head, [row], Array<Align>(head.length).fill('right')));
  }
  counts('Errors', 'code', s.errors.byCode, s.errors.count);
  counts('Incomplete exchanges', 'reason', s.incomplete.byReason, s.incomplete.count);
  return sections.join('\n\n') + '\n';
}

function traceRows(s: TraceSummary): string[][] {
  const t = s.trace;
  const o = t.options;
  return [
    ['format', `${printable(t.format)} ${t.version}.${t.minorVersion}`],
    ['tool', printable(t.tool)],
    ['source', source(s)],
    ['start', printable(t.startTime)],
    ['redaction', o === null ? 'unknown' : o.redact ? 'on (authorization and cookie values replaced)' : 'off'],
    ['bodies', o === null ? 'unknown' : `${printable(String(o.bodies))} (at most ${int(o.maxBody)} B kept per body)`],
    ...(t.derivedBy === undefined ? [] : [['derived by', derivations(t.derivedBy)]]),
  ];
}

/** A filter option's value as a person reads it: lists comma-separated, objects as JSON. */
function optionText(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `filter of day.jsonl: method GET; status 2xx (ids kept)`, one line per step. */
function derivations(steps: TraceDerivation[]): string {
  return steps
    .map((d) => {
      const opts = Object.entries(d.options)
        .map(([k, v]) => `${k} ${optionText(v)}`)
        .join('; ');
      return printable(`${d.kind} of ${d.input}: ${opts === '' ? 'everything' : opts} (ids ${d.ids})`);
    })
    .join('\n');
}

function source(s: TraceSummary): string {
  const src = s.trace.source;
  if (src === null) return 'unknown';
  if (src.kind === 'pcap') {
    const ports = Array.isArray(src.ports) ? src.ports.join(',') : String(src.ports);
    return printable(`pcap ${src.file} (ports ${ports})`);
  }
  if (src.kind === 'tap') {
    const taps = Array.isArray(src.taps) ? src.taps : [];
    return (
      taps
        .map((t) =>
          printable(`tap ${t.listen} -> ${t.upstream}${t.worker === undefined ? '' : ` (worker ${t.worker})`}`),
        )
        .join('\n') || 'tap'
    );
  }
  if (src.kind === 'har') return printable(`HAR ${src.file}${src.creator === undefined ? '' : ` (${src.creator})`}`);
  if (src.kind === 'merge') {
    return src.inputs
      .map((i) => {
        const offset = i.offsetUs === 0 ? '' : `, clock ${i.offsetUs > 0 ? '+' : ''}${i.offsetUs / 1000} ms`;
        return printable(`merge #${i.index} ${i.file} (worker ${i.label}${offset})`);
      })
      .join('\n');
  }
  return printable(String((src as { kind: unknown }).kind));
}

function overviewRows(s: TraceSummary): string[][] {
  const rows: string[][] = [
    ['exchanges', int(s.exchanges)],
    ['incomplete exchanges', int(s.incomplete.count)],
    ...(s.truncated.exchanges + s.truncated.incomplete === 0
      ? []
      : [
          [
            'truncated (capture lacks bytes)',
            `${int(s.truncated.exchanges)} exchanges, ${int(s.truncated.incomplete)} incomplete, ${bytes(s.truncated.missingBytes)} missing`,
          ],
        ]),
    ['first event', s.span.firstAt ?? (s.span.firstUs === null ? '-' : `+${duration(s.span.firstUs)}`)],
    ['last event end', s.span.lastAt ?? (s.span.lastUs === null ? '-' : `+${duration(s.span.lastUs)}`)],
    ['time span', duration(s.span.durationUs)],
    ['requests per second', s.requestsPerSecond === null ? '-' : s.requestsPerSecond.toFixed(2)],
    ['bytes in (request bodies)', bytes(s.bytes.requestBodies)],
    ['bytes out (response bodies)', bytes(s.bytes.responseBodies)],
    ['events', int(s.events)],
    [
      'unreadable lines',
      s.unreadableLines === 0 ? '0' : `${int(s.unreadableLines)} (first: line ${s.firstUnreadableLine ?? '?'})`,
    ],
  ];
  if (s.malformedEvents > 0) rows.push(['malformed events (skipped)', int(s.malformedEvents)]);
  if (s.unknownEvents > 0) rows.push(['unknown event kinds (skipped)', int(s.unknownEvents)]);
  if (s.dropped.reports > 0) {
    rows.push([
      'not traced (the tap fell behind)',
      `${int(s.dropped.exchanges)} exchanges, ${int(s.dropped.events)} events, in ${int(s.dropped.reports)} gaps (forwarded all the same)`,
    ]);
  }
  if (s.diffs.events > 0) {
    rows.push([
      'diff events',
      `${int(s.diffs.events)}: ${int(s.diffs.differing)} differing, ${int(s.diffs.noiseOnly)} noise only (ajpbench diff, record --mirror)`,
    ]);
  }
  return rows;
}

function latencyRow(label: string, l: LatencyStats): string[] {
  return [label, int(l.count), ms(l.mean), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p99_9), ms(l.max)];
}

export function int(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

export function ms(us: number | null): string {
  return us === null ? '-' : (us / 1000).toFixed(3);
}

export function pct(n: number, total: number): string {
  return total === 0 ? '-' : `${((100 * n) / total).toFixed(1)}%`;
}

export function bytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let unit = '';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit === '' ? `${int(n)} B` : `${int(n)} B (${v.toFixed(1)} ${unit})`;
}

export function duration(us: number): string {
  if (us < 1000) return `${int(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(3)} ms`;
  const text = `${(us / 1e6).toFixed(3)} s`;
  if (us < 60e6) return text;
  const total = Math.floor(us / 1e6);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return `${text} (${h}h ${String(m).padStart(2, '0')}m ${String(sec).padStart(2, '0')}s)`;
}
