/**
 * The HTML report (`ajpbench report --html`, and `--html` on replay, compare, fairness, sweep):
 * one self-contained file that works offline, drawn from an HtmlReportInput (html-input.ts).
 * uPlot (a maintained, MIT, 50 kB canvas charting library) is inlined from its dist file with
 * its CSS; the data goes in as JSON in a <script type="application/json"> (its type:
 * page/page-data.ts, built by page/chart-data.ts);
 * the page script (page/report-page.ts, compiled by tsconfig.page.json) draws:
 *
 * - the latency percentile curve on a log scale (the HdrHistogram plot: x = 1/(1-p)), one line
 *   per run / target / sweep step;
 * - throughput (and errors) per second over time, and p99 per second when the results carry it;
 * - per-worker shares against the expected ones (fairness), with mod_jk's own count beside;
 * - compare side by side (throughput with its spread over rounds, p50/p99);
 * - the sweep curve (throughput and p99 against load) with the knee marked;
 * - a comparison (`ajpbench diff`): its counts, then the differences grouped by URI pattern and
 *   field with examples, regressions and noise apart (tables only).
 *
 * Tables beside the charts carry the exact numbers, so the file is useful without JavaScript.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ReplayReport, SessionsReport } from '../results/replay-report.js';
import { GENERATOR_BOUND } from '../results/generator-report.js';
import type { CompareSummary } from '../verdict/compare.js';
import { formatDeviation, formatP } from '../verdict/fairness.js';
import type { SweepSummary } from '../verdict/sweep.js';
import type { DiffGroup } from '../verdict/diff/diff-summary.js';
import type { DiffReport } from '../verdict/diff/diff-run.js';
import type { HtmlFairness, HtmlReportInput, HtmlRun, HtmlSegment } from './html-input.js';
import { chartData } from './page/chart-data.js';

/** The segments of reports about to be laid end to end (pass the rounds of a compare target). */
export function segmentsOf(reports: readonly ReplayReport[]): HtmlSegment[] {
  return reports.map((r) => ({ seconds: r.throughput.series.length, measuredMs: r.measuredMs }));
}

let uplotAssets: { js: string; css: string } | undefined;

/** uPlot's IIFE build and CSS, read once from node_modules (MIT; the licence header stays in). */
function uplot(): { js: string; css: string } {
  if (uplotAssets === undefined) {
    const require = createRequire(import.meta.url);
    const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    uplotAssets = { js, css };
  }
  return uplotAssets;
}

let pageScript: string | undefined;

/**
 * The compiled page script, read once. Built next to this module in dist/ (tsconfig.page.json);
 * when this module runs from its .ts source (vitest), the build's copy in dist/ is used. It is
 * an ES module (a type-only import makes it one), inlined as <script type="module">: an inline
 * module needs no fetch, so it runs from file:// as well.
 */
function pageJs(): string {
  if (pageScript === undefined) {
    const candidates = [new URL('./page/report-page.js', import.meta.url)];
    if (import.meta.url.endsWith('.ts'))
      candidates.push(new URL('../../dist/src/report/page/report-page.js', import.meta.url));
    const found = candidates.map((u) => fileURLToPath(u)).find((f) => existsSync(f));
    if (found === undefined)
      throw new Error(
        "the HTML report's page script is not built (dist/src/report/page/report-page.js): run npm run build",
      );
    const js = readFileSync(found, 'utf8');
    // Inlined in a <script>: text that would end the element or open an HTML comment must not occur.
    if (/<\/script|<!--/i.test(js)) throw new Error(`${found} contains "</script" or "<!--", which cannot be inlined`);
    pageScript = js;
  }
  return pageScript;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function ms(us: number | null | undefined): string {
  if (us === null || us === undefined) return '–';
  const v = us / 1000;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function num(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A name (often a URL) that may wrap after '/', ':' and '?' rather than anywhere. */
function nameCell(s: string): string {
  return esc(s).replace(/[/:?]/g, '$&<wbr>');
}

/** A table in a box that scrolls sideways if a narrow window cannot hold it (never the page). */
function table(head: string[], rows: string[][], cls = ''): string {
  return `<div class="table-wrap"><table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

/** The generator's CPU share, with the generator-bound line under it when it was the bottleneck. */
function genCell(cpu: number | null | undefined, bound: boolean | undefined): string {
  if (cpu === null || cpu === undefined) return '–';
  return `${(cpu * 100).toFixed(0)}%${bound === true ? `<br><small>${esc(GENERATOR_BOUND)}</small>` : ''}`;
}

function runTable(runs: HtmlRun[]): string {
  const rows = runs.map(({ name, report: r }) => {
    const l = r.latency.timeToCompleteUs;
    return [
      nameCell(name),
      num(r.requests.total),
      num(r.requests.perSecond, 1),
      ms(l.p50),
      ms(l.p90),
      ms(l.p99),
      ms(l.p99_9),
      ms(l.max),
      `${num(r.requests.errors)}${r.requests.total > 0 ? ` (${((100 * r.requests.errors) / r.requests.total).toFixed(2)}%)` : ''}`,
      bytes(r.bytes.received),
      genCell(r.generator?.cpuShare, r.generator?.bound),
    ];
  });
  return table(
    [
      'run',
      'requests',
      'responses/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'errors',
      'received',
      'generator CPU',
    ],
    rows,
    'num',
  );
}

/** Broken sessions listed by name in the HTML report (the JSON lists up to MAX_LISTED_SESSIONS). */
const HTML_BROKEN_SESSIONS = 20;

/** `--sessions`: per run, sessions started, completed, kept on one worker or moved; the moved ones by name. */
function sessionsBlock(runs: HtmlRun[]): string[] {
  const withSessions = runs.filter((r) => r.report.sessions !== undefined);
  if (withSessions.length === 0) return [];
  const rows = withSessions.map(({ name, report }) => {
    const x = report.sessions as SessionsReport;
    return [
      nameCell(name),
      num(x.started),
      num(x.completed),
      num(x.kept),
      x.broken > 0 ? `<span class="fail">${num(x.broken)}</span>` : '0',
      num(x.unknown),
      num(x.withErrors),
      num(x.renewed),
      num(x.sessionless),
    ];
  });
  const routes = withSessions.flatMap(({ name, report }) =>
    (report.sessions as SessionsReport).byRoute.map((r) => [
      ...(withSessions.length > 1 ? [nameCell(name)] : []),
      esc(r.route),
      num(r.sessions),
      num(r.broken),
    ]),
  );
  const broken = withSessions.flatMap(({ name, report }) =>
    (report.sessions as SessionsReport).list
      .filter((x) => x.routes.length > 1)
      .map((x) => [
        ...(withSessions.length > 1 ? [nameCell(name)] : []),
        `<code>${esc(x.id)}</code>${x.pass > 0 ? ` <small>pass ${x.pass + 1}</small>` : ''}`,
        `${num(x.requests)} of ${num(x.steps)}`,
        esc(x.routes.join(' → ')),
      ]),
  );
  const runCol = withSessions.length > 1 ? ['run'] : [];
  const movedTotal = withSessions.reduce((n, r) => n + (r.report.sessions as SessionsReport).broken, 0);
  return [
    '<h2>Sessions</h2>',
    table(
      [
        'run',
        'started',
        'completed',
        'kept on one worker',
        'moved',
        'unknown worker',
        'with errors',
        'target set a new id again',
        'requests without a session',
      ],
      rows,
      'num',
    ),
    ...(routes.length === 0
      ? []
      : [table([...runCol, 'first worker', 'sessions', 'moved'], routes, withSessions.length > 1 ? '' : 'num')]),
    ...(broken.length === 0
      ? []
      : [
          `<p>Sessions served by more than one worker${movedTotal > Math.min(broken.length, HTML_BROKEN_SESSIONS) ? ` (the first ${Math.min(broken.length, HTML_BROKEN_SESSIONS)} of ${num(movedTotal)})` : ''}:</p>`,
          table([...runCol, 'recorded session', 'requests', 'workers'], broken.slice(0, HTML_BROKEN_SESSIONS)),
        ]),
  ];
}

function violations(list: { worker: string; count: number }[]): string {
  return list.length === 0 ? '' : ` (${list.map((x) => `${esc(x.worker)}: ${x.count}`).join(', ')})`;
}

function verdictBlock(input: HtmlReportInput): string {
  const parts: string[] = [];
  if (input.verdict !== undefined) {
    const v = input.verdict;
    parts.push(
      `<div class="verdict ${v.pass ? 'pass' : 'fail'}"><strong>${v.pass ? 'PASS' : 'FAIL'}</strong>${v.lines.map((l) => `<div>${esc(l)}</div>`).join('')}</div>`,
    );
  }
  if (input.thresholds !== undefined && input.thresholds.length > 0) {
    parts.push(
      '<h2>Thresholds</h2>' +
        table(
          ['', 'threshold', 'measured'],
          input.thresholds.map((t) => [
            `<span class="${t.pass ? 'pass' : 'fail'}">${t.pass ? 'PASS' : 'FAIL'}</span>`,
            `<code>${esc(t.threshold.text)}</code>`,
            esc(t.message),
          ]),
        ),
    );
  }
  return parts.join('\n');
}

function fairnessBlock(f: HtmlFairness): string {
  const v = f.verdict;
  const jk = f.jkStatus ?? null;
  const rows = v.workers.map((w) => [
    nameCell(w.worker),
    num(w.observed),
    `${(100 * w.share).toFixed(2)}%`,
    w.expectedShare === 0 ? 'not expected' : `${(100 * w.expectedShare).toFixed(2)}%`,
    w.relativeDeviation === null ? '–' : formatDeviation(w.relativeDeviation),
    ...(jk === null ? [] : [num(jk.find((j) => j.worker === w.worker)?.count ?? 0)]),
  ]);
  const sticky = f.sticky;
  return [
    `<h2>Fairness: ${esc(f.target)}</h2>`,
    '<div class="chart" id="chart-fairness"></div>',
    table(
      ['worker', 'requests', 'share', 'expected', 'deviation', ...(jk === null ? [] : ['mod_jk count'])],
      rows,
      'num',
    ),
    `<p>Chi-square ${v.chiSquare.statistic.toFixed(3)} (df ${v.chiSquare.df}), p = ${formatP(v.chiSquare.pValue)} against alpha ${v.alpha}: <span class="${v.chiSquare.pass ? 'pass' : 'fail'}">${v.chiSquare.pass ? 'pass' : 'fail'}</span>. ` +
      `Largest deviation ${v.largestDeviation === null ? '–' : `${esc(v.largestDeviation.worker)} ${formatDeviation(v.largestDeviation.relativeDeviation)}`} against ±${(100 * v.tolerance).toFixed(1)}%: ` +
      `<span class="${v.largestDeviation?.pass === true ? 'pass' : 'fail'}">${v.largestDeviation?.pass === true ? 'pass' : 'fail'}</span>.</p>`,
    ...(sticky === null || sticky === undefined
      ? []
      : [
          sticky.recorded === true
            ? `<p>Stickiness (the trace's sessions): ${num(sticky.sessions)} sessions replayed, ${num(sticky.followUps)} kept on one worker, ${num(sticky.violations.reduce((s, x) => s + x.count, 0))} moved to another${violations(sticky.violations)}.</p>`
            : `<p>Stickiness: ${num(sticky.sessions)} sessions, ${num(sticky.followUps)} follow-ups, ${num(sticky.violations.reduce((s, x) => s + x.count, 0))} landed on another worker${violations(sticky.violations)}.</p>`,
        ]),
    ...(f.failovers ?? []).map(
      (x) =>
        `<p>Failover: ${esc(x.worker)} stopped answering at second ${x.stoppedAtSecond} (${num(x.rateBefore)}/s before); ` +
        `${x.takeoverSeconds === null ? 'the others had not taken its load by the end of the run' : `the others took its load within ${x.takeoverSeconds + 1} s`}, ${num(x.errorsDuring)} client errors meanwhile.</p>`,
    ),
  ].join('\n');
}

function compareBlock(c: CompareSummary): string {
  const ratio = (r: number | null): string => (r === null ? '1.00×' : `${r.toFixed(2)}×`);
  const rows = c.targets.map((t, i) => [
    nameCell(t.name),
    `${num(t.rps, 1)}<br><small>${num(t.rpsMin, 1)}–${num(t.rpsMax, 1)}</small>`,
    i === 0 ? '–' : `${ratio(t.rpsRatio)}${t.withinNoise?.rps === true ? '<br><small>noise</small>' : ''}`,
    ms(t.p50Us),
    ms(t.p90Us),
    `${ms(t.p99Us)}<br><small>${ms(t.p99MinUs)}–${ms(t.p99MaxUs)}</small>`,
    i === 0 ? '–' : `${ratio(t.p99Ratio)}${t.withinNoise?.p99 === true ? '<br><small>noise</small>' : ''}`,
    ms(t.p999Us),
    ms(t.maxUs),
    num(t.errors),
    bytes(t.bytesReceived),
    genCell(t.generatorCpu, t.generatorBound),
  ]);
  return [
    `<h2>Compare (${c.rounds} round${c.rounds === 1 ? '' : 's'}, interleaved)</h2>`,
    // Side by side the bars of more than three targets get too narrow for their names.
    `<div class="row${c.targets.length > 3 ? ' stack' : ''}"><div class="chart" id="chart-compare-rps"></div><div class="chart" id="chart-compare-latency"></div></div>`,
    table(
      [
        'target',
        'responses/s (rounds min–max)',
        'vs first',
        'p50 ms',
        'p90 ms',
        'p99 ms (rounds min–max)',
        'vs first',
        'p99.9 ms',
        'max ms',
        'errors',
        'received',
        'generator CPU',
      ],
      rows,
      'num',
    ),
    '<p><small>"noise": the difference to the first target lies within the spread of the rounds (their min–max ranges overlap).</small></p>',
  ].join('\n');
}

function sweepBlock(s: SweepSummary): string {
  const rows = s.steps.map((x, i) => [
    `${i === s.knee ? '<strong>knee</strong> ' : ''}${num(x.load)}`,
    num(x.throughput, 1),
    ms(x.p50Us),
    ms(x.p99Us),
    num(x.errors),
    genCell(x.generatorCpu, x.generatorBound),
  ]);
  return [
    `<h2>Sweep (${s.loadKind})</h2>`,
    '<div class="chart" id="chart-sweep"></div>',
    table(
      [s.loadKind === 'rate' ? 'rate /s' : 'concurrency', 'responses/s', 'p50 ms', 'p99 ms', 'errors', 'generator CPU'],
      rows,
      'num',
    ),
    `<div class="advice">${s.advice.map((a) => `<p>${esc(a)}</p>`).join('')}</div>`,
  ].join('\n');
}

function diffBlock(d: DiffReport): string {
  const s = d.summary;
  const share = (n: number): string => (s.compared === 0 ? '–' : `${((100 * n) / s.compared).toFixed(1)}%`);
  const counts = table(
    ['', 'exchanges', 'share'],
    [
      ['compared', num(s.compared), ''],
      ['equal', num(s.equal), share(s.equal)],
      ['<strong>differing</strong>', `<strong>${num(s.differing)}</strong>`, share(s.differing)],
      ['noise only', num(s.noiseOnly), share(s.noiseOnly)],
      ['dropped (not compared)', num(s.dropped), ''],
      ...s.byKind.map((k) => [`differing in ${esc(k.kind)}`, num(k.exchanges), share(k.exchanges)]),
    ],
    'num',
  );
  const regressions = s.groups.filter((g) => g.differences > 0);
  const noise = s.groups.filter((g) => g.differences === 0 && g.noise > 0);
  return [
    '<h2>Differences: candidate against primary</h2>',
    `<p>primary <code>${esc(d.targets.primary)}</code>, candidate <code>${esc(d.targets.candidate)}</code>, ` +
      (d.targets.secondary === null
        ? 'no secondary: every difference counts.'
        : `secondary <code>${esc(d.targets.secondary)}</code>: what it and the primary disagree on is noise, reported apart.`) +
      ` ${num(d.sent)} exchanges of <code>${esc(d.file)}</code>${d.sample === null ? '' : ` (a ${(d.sample * 100).toPrecision(3)}% sample of sessions)`}, stopped by ${esc(d.stoppedBy)}.</p>`,
    counts,
    ...(s.droppedBy.length === 0
      ? []
      : [`<p>Dropped: ${s.droppedBy.map((x) => `${num(x.count)} ${esc(x.reason)}`).join('; ')}</p>`]),
    ...(regressions.length === 0
      ? ['<p class="pass">No difference outside the noise.</p>']
      : ['<h3>By URI pattern and field</h3>', diffGroupTable(regressions, false)]),
    ...(noise.length === 0 ? [] : ['<h3>Noise (not counted)</h3>', diffGroupTable(noise, true)]),
    ...(s.groupsLeftOut > 0
      ? [
          `<p><small>${num(s.groupsLeftOut)} more differences fell in groups past the bound: counted, not grouped.</small></p>`,
        ]
      : []),
  ].join('\n');
}

/** A field such as `body:$.items[*].price`: kept whole between its ':', '.' and '[' (a narrow column breaks there, not mid-name). */
function fieldCell(field: string): string {
  return `<code>${field
    .split(/(?=[.[])|(?<=:)/)
    .map(esc)
    .join('<wbr>')}</code>`;
}

function diffGroupTable(groups: DiffGroup[], noise: boolean): string {
  const value = (v: string | null): string => (v === null ? '<small>(absent)</small>' : `<code>${esc(v)}</code>`);
  return table(
    ['URI pattern', 'field', 'exchanges', 'examples: exchange, before → after'],
    groups.map((g) => [
      nameCell(g.pattern),
      fieldCell(g.field),
      num(noise ? g.noise : g.differences),
      g.examples
        .map(
          (e) =>
            `<div class="example">#${e.id}${e.path === undefined ? '' : ` <small>${esc(e.path)}</small>`}${e.noise && !noise ? ' <small>(noise)</small>' : ''}: ${value(e.before)} → ${value(e.after)}</div>`,
        )
        .join(''),
    ]),
    'diff',
  );
}

/** The whole page. */
export function renderHtmlReport(input: HtmlReportInput): string {
  const { js, css } = uplot();
  // Inside <script>, only "</" could end the element early; JSON's \u003c keeps it inert.
  const json = JSON.stringify(chartData(input)).replace(/</g, '\\u003c');
  const generated = input.generatedAt ?? new Date().toISOString();
  const sections: string[] = [verdictBlock(input)];
  if (input.fairness !== undefined) sections.push(fairnessBlock(input.fairness));
  if (input.compare !== undefined) sections.push(compareBlock(input.compare));
  if (input.sweep !== undefined) sections.push(sweepBlock(input.sweep));
  if (input.diff !== undefined) sections.push(diffBlock(input.diff));
  if (input.runs.length > 0) {
    sections.push(
      '<h2>Latency distribution (time to complete)</h2>',
      '<div class="chart" id="chart-latency"></div>',
      '<p><small>The HdrHistogram percentile plot: x is the percentile on a log scale (90%, 99%, 99.9% ...), y the latency in ms on a log scale. Each line ends at its max.</small></p>',
      runTable(input.runs),
      ...sessionsBlock(input.runs),
      '<h2>Over time</h2>',
      '<div class="chart" id="chart-time"></div>',
      '<div class="chart" id="chart-time-latency"></div>',
    );
    const warnings = input.runs.flatMap((r) =>
      r.report.warnings.map((w) => (input.runs.length > 1 ? `${r.name}: ${w}` : w)),
    );
    if (warnings.length > 0)
      sections.push('<h2>Warnings</h2>', `<ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ajpbench">
<title>${esc(input.title)}</title>
<style>${css}</style>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #1d2330; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e3e6ec; padding-bottom: 4px; }
h1, h2, p, li, .verdict div { overflow-wrap: anywhere; }
.sub { color: #5b6475; margin: 0; } code { background: #f3f4f7; padding: 0 4px; border-radius: 3px; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border-bottom: 1px solid #e8eaef; padding: 4px 10px; text-align: left; vertical-align: top; }
td:first-child { overflow-wrap: break-word; min-width: 8ch; }
table.num td:not(:first-child), table.num th:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
table.num td:not(:first-child) { white-space: nowrap; }
th { background: #f6f7f9; font-weight: 600; vertical-align: bottom; } small { color: #6b7385; }
.pass { color: #137333; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.verdict { padding: 10px 14px; border-radius: 6px; margin: 16px 0; } .verdict.pass { background: #e6f4ea; } .verdict.fail { background: #fce8e6; }
.verdict strong { font-size: 18px; display: block; } .verdict div { color: #1d2330; font-weight: 400; }
.chart { margin: 8px 0; min-height: 40px; min-width: 0; } .row { display: flex; gap: 16px; flex-wrap: wrap; } .row .chart { flex: 1 1 440px; } .row.stack .chart { flex-basis: 100%; }
.u-legend { text-align: left; } .u-legend .u-value { font-variant-numeric: tabular-nums; }
table.diff td:nth-child(3) { text-align: right; } table.diff td:nth-child(4) code { overflow-wrap: anywhere; } .example { margin: 2px 0; } h3 { font-size: 15px; margin: 16px 0 4px; }
.advice p { margin: 4px 0; } .chart-error { color: #b3261e; font-family: monospace; }
</style>
</head>
<body>
<h1>${esc(input.title)}</h1>
${(input.subtitle ?? []).map((l) => `<p class="sub">${esc(l)}</p>`).join('\n')}
<p class="sub"><small>Generated ${esc(generated)} by ajpbench. Self-contained: charts by uPlot (MIT), inlined.</small></p>
${sections.join('\n')}
<script type="application/json" id="ajpbench-data">${json}</script>
<script>${js}</script>
<script type="module">${pageJs()}</script>
</body>
</html>
`;
}
