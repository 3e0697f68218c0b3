/**
 * The HTML report (`ajpbench report --html`, and `--html` on replay, compare, fairness, sweep):
 * one self-contained file that works offline. uPlot (a maintained, MIT, 50 kB canvas charting
 * library) is inlined from its dist file with its CSS; the data goes in as JSON in a
 * <script type="application/json">; a small script draws:
 *
 * - the latency percentile curve on a log scale (the HdrHistogram plot: x = 1/(1-p)), one line
 *   per run / target / sweep step;
 * - throughput (and errors) per second over time, and p99 per second when the results carry it;
 * - per-worker shares against the expected ones (fairness), with mod_jk's own count beside;
 * - compare side by side (throughput with its spread over rounds, p50/p99);
 * - the sweep curve (throughput and p99 against load) with the knee marked.
 *
 * Tables beside the charts carry the exact numbers, so the file is useful without JavaScript.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type { ReplayReport } from '../load/replay-results.js';
import type { FairnessVerdict } from '../verdict/fairness.js';
import { formatDeviation, formatP } from '../verdict/fairness.js';
import type { ThresholdResult } from '../verdict/threshold.js';
import { decodeHistogram } from './latency-histogram.js';

export interface HtmlRun {
  name: string;
  report: ReplayReport;
}

export interface HtmlCompareTarget {
  name: string;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50Us: number | null;
  p90Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  maxUs: number | null;
  p99MinUs: number | null;
  p99MaxUs: number | null;
  errors: number;
  total: number;
  bytesReceived: number;
  /** To the first target (null for the first). */
  rpsRatio: number | null;
  p99Ratio: number | null;
  /** Whether the difference to the first target is within the spread of the rounds. */
  withinNoise: { rps: boolean; p99: boolean } | null;
}

export interface HtmlCompare {
  rounds: number;
  targets: HtmlCompareTarget[];
}

export interface HtmlSweep {
  loadKind: 'concurrency' | 'rate';
  steps: { load: number; throughput: number; p99Us: number | null; p50Us: number | null; errors: number; total: number }[];
  /** Index of the knee step, or null. */
  knee: number | null;
  /** Sizing advice lines. */
  advice: string[];
}

export interface HtmlFairness {
  target: string;
  verdict: FairnessVerdict;
  /** mod_jk status worker's own request counts per member (--jk-status). */
  jkStatus?: { worker: string; count: number }[] | null;
  sticky?: { sessions: number; followUps: number; violations: { worker: string; count: number }[] } | null;
  /** Workers that stopped answering during the run (src/verdict/failover.ts). */
  failovers?: { worker: string; stoppedAtSecond: number; rateBefore: number; takeoverSeconds: number | null; errorsDuring: number }[];
}

export interface HtmlReportInput {
  title: string;
  /** Lines under the title (command, time). */
  subtitle?: string[];
  runs: HtmlRun[];
  fairness?: HtmlFairness;
  compare?: HtmlCompare;
  sweep?: HtmlSweep;
  thresholds?: ThresholdResult[];
  /** The overall verdict, when the command has one. */
  verdict?: { pass: boolean; lines: string[] };
  generatedAt?: string;
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

const STEPS_PER_DECADE = 10;

/** Percentile curves of several histograms on one x grid (10^(k/10)), each ending with its max. */
export function alignedCurves(histograms: Histogram[]): { x: number[]; ys: (number | null)[][] } {
  const maxCount = Math.max(0, ...histograms.map((h) => h.totalCount));
  const x: number[] = [];
  const last = Math.max(10, maxCount) * 10 ** (1 / STEPS_PER_DECADE);
  for (let k = 0; ; k++) {
    const v = 10 ** (k / STEPS_PER_DECADE);
    x.push(v);
    if (v > last) break;
  }
  const ys = histograms.map((h) => {
    const n = h.totalCount;
    let maxShown = false;
    return x.map((v) => {
      if (n === 0) return null;
      if (v <= Math.max(10, n)) return Math.min(h.getValueAtPercentile(100 * (1 - 1 / v)), h.maxValue) / 1000;
      if (!maxShown) {
        maxShown = true;
        return h.maxValue / 1000;
      }
      return null;
    });
  });
  return { x, ys };
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

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function runTable(runs: HtmlRun[]): string {
  const rows = runs.map(({ name, report: r }) => {
    const l = r.latency.timeToCompleteUs;
    return [
      esc(name),
      num(r.requests.total),
      num(r.requests.perSecond, 1),
      ms(l.p50),
      ms(l.p90),
      ms(l.p99),
      ms(l.p99_9),
      ms(l.max),
      `${num(r.requests.errors)}${r.requests.total > 0 ? ` (${((100 * r.requests.errors) / r.requests.total).toFixed(2)}%)` : ''}`,
      bytes(r.bytes.received),
    ];
  });
  return table(['run', 'requests', 'responses/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'received'], rows, 'num');
}

/** Everything the page script draws, computed here so the page does no statistics. */
function chartData(input: HtmlReportInput): Record<string, unknown> {
  const runs = input.runs;
  const curves = alignedCurves(runs.map((r) => decodeHistogram(r.report.latency.timeToCompleteUs.histogram)));
  const seconds = Math.max(0, ...runs.map((r) => r.report.throughput.series.length));
  const time = Array.from({ length: seconds }, (_, i) => i);
  const perSecond = (r: ReplayReport, f: (s: ReplayReport['throughput']['series'][number]) => number | null): (number | null)[] =>
    time.map((t) => {
      const s = r.throughput.series[t];
      return s === undefined ? null : f(s);
    });
  const p99Series = runs.map((r) => perSecond(r.report, (s) => {
    const v = (s as { p99Us?: unknown }).p99Us;
    return typeof v === 'number' ? v / 1000 : null;
  }));
  const hasLatencyOverTime = p99Series.some((s) => s.some((v) => v !== null));
  const data: Record<string, unknown> = {
    names: runs.map((r) => r.name),
    curve: { x: curves.x, ys: curves.ys },
    time: {
      x: time,
      responses: runs.map((r) => perSecond(r.report, (s) => s.responses)),
      errors: runs.map((r) => perSecond(r.report, (s) => s.errors)),
      p99: hasLatencyOverTime ? p99Series : null,
    },
  };
  if (input.fairness !== undefined) {
    const v = input.fairness.verdict;
    const jk = input.fairness.jkStatus ?? null;
    const jkTotal = jk === null ? 0 : jk.reduce((s, w) => s + w.count, 0);
    data.fairness = {
      workers: v.workers.map((w) => w.worker),
      observed: v.workers.map((w) => 100 * w.share),
      expected: v.workers.map((w) => 100 * w.expectedShare),
      jk: jk === null ? null : v.workers.map((w) => {
        const c = jk.find((j) => j.worker === w.worker)?.count;
        return c === undefined || jkTotal === 0 ? null : (100 * c) / jkTotal;
      }),
    };
  }
  if (input.compare !== undefined) {
    const t = input.compare.targets;
    data.compare = {
      targets: t.map((x) => x.name),
      rps: t.map((x) => x.rps),
      rpsMin: t.map((x) => x.rpsMin),
      rpsMax: t.map((x) => x.rpsMax),
      p50: t.map((x) => (x.p50Us === null ? null : x.p50Us / 1000)),
      p99: t.map((x) => (x.p99Us === null ? null : x.p99Us / 1000)),
    };
  }
  if (input.sweep !== undefined) {
    const s = input.sweep;
    data.sweep = {
      loadKind: s.loadKind,
      load: s.steps.map((x) => x.load),
      throughput: s.steps.map((x) => x.throughput),
      p99: s.steps.map((x) => (x.p99Us === null ? null : x.p99Us / 1000)),
      knee: s.knee,
    };
  }
  return data;
}

function verdictBlock(input: HtmlReportInput): string {
  const parts: string[] = [];
  if (input.verdict !== undefined) {
    const v = input.verdict;
    parts.push(`<div class="verdict ${v.pass ? 'pass' : 'fail'}"><strong>${v.pass ? 'PASS' : 'FAIL'}</strong>${v.lines.map((l) => `<div>${esc(l)}</div>`).join('')}</div>`);
  }
  if (input.thresholds !== undefined && input.thresholds.length > 0) {
    parts.push(
      '<h2>Thresholds</h2>' +
        table(
          ['', 'threshold', 'measured'],
          input.thresholds.map((t) => [`<span class="${t.pass ? 'pass' : 'fail'}">${t.pass ? 'PASS' : 'FAIL'}</span>`, `<code>${esc(t.threshold.text)}</code>`, esc(t.message)]),
        ),
    );
  }
  return parts.join('\n');
}

function fairnessBlock(f: HtmlFairness): string {
  const v = f.verdict;
  const jk = f.jkStatus ?? null;
  const rows = v.workers.map((w) => [
    esc(w.worker),
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
    table(['worker', 'requests', 'share', 'expected', 'deviation', ...(jk === null ? [] : ['mod_jk count'])], rows, 'num'),
    `<p>Chi-square ${v.chiSquare.statistic.toFixed(3)} (df ${v.chiSquare.df}), p = ${formatP(v.chiSquare.pValue)} against alpha ${v.alpha}: <span class="${v.chiSquare.pass ? 'pass' : 'fail'}">${v.chiSquare.pass ? 'pass' : 'fail'}</span>. ` +
      `Largest deviation ${v.largestDeviation === null ? '–' : `${esc(v.largestDeviation.worker)} ${formatDeviation(v.largestDeviation.relativeDeviation)}`} against ±${(100 * v.tolerance).toFixed(1)}%: ` +
      `<span class="${v.largestDeviation?.pass === true ? 'pass' : 'fail'}">${v.largestDeviation?.pass === true ? 'pass' : 'fail'}</span>.</p>`,
    ...(sticky === null || sticky === undefined
      ? []
      : [
          `<p>Stickiness: ${num(sticky.sessions)} sessions, ${num(sticky.followUps)} follow-ups, ${num(sticky.violations.reduce((s, x) => s + x.count, 0))} landed on another worker${sticky.violations.length === 0 ? '' : ` (${sticky.violations.map((x) => `${esc(x.worker)}: ${x.count}`).join(', ')})`}.</p>`,
        ]),
    ...(f.failovers ?? []).map(
      (x) =>
        `<p>Failover: ${esc(x.worker)} stopped answering at second ${x.stoppedAtSecond} (${num(x.rateBefore)}/s before); ` +
        `${x.takeoverSeconds === null ? 'the others had not taken its load by the end of the run' : `the others took its load within ${x.takeoverSeconds + 1} s`}, ${num(x.errorsDuring)} client errors meanwhile.</p>`,
    ),
  ].join('\n');
}

function compareBlock(c: HtmlCompare): string {
  const ratio = (r: number | null): string => (r === null ? '1.00×' : `${r.toFixed(2)}×`);
  const rows = c.targets.map((t, i) => [
    esc(t.name),
    `${num(t.rps, 1)} <small>(${num(t.rpsMin, 1)}–${num(t.rpsMax, 1)})</small>`,
    i === 0 ? '–' : `${ratio(t.rpsRatio)}${t.withinNoise?.rps === true ? ' <small>noise</small>' : ''}`,
    ms(t.p50Us),
    ms(t.p90Us),
    `${ms(t.p99Us)} <small>(${ms(t.p99MinUs)}–${ms(t.p99MaxUs)})</small>`,
    i === 0 ? '–' : `${ratio(t.p99Ratio)}${t.withinNoise?.p99 === true ? ' <small>noise</small>' : ''}`,
    ms(t.p999Us),
    ms(t.maxUs),
    num(t.errors),
    bytes(t.bytesReceived),
  ]);
  return [
    `<h2>Compare (${c.rounds} round${c.rounds === 1 ? '' : 's'}, interleaved)</h2>`,
    '<div class="row"><div class="chart" id="chart-compare-rps"></div><div class="chart" id="chart-compare-latency"></div></div>',
    table(['target', 'responses/s (rounds min–max)', 'vs first', 'p50 ms', 'p90 ms', 'p99 ms (min–max)', 'vs first', 'p99.9 ms', 'max ms', 'errors', 'received'], rows, 'num'),
    '<p><small>"noise": the difference to the first target lies within the spread of the rounds (their min–max ranges overlap).</small></p>',
  ].join('\n');
}

function sweepBlock(s: HtmlSweep): string {
  const rows = s.steps.map((x, i) => [
    `${i === s.knee ? '<strong>knee</strong> ' : ''}${num(x.load)}`,
    num(x.throughput, 1),
    ms(x.p50Us),
    ms(x.p99Us),
    num(x.errors),
  ]);
  return [
    `<h2>Sweep (${s.loadKind})</h2>`,
    '<div class="chart" id="chart-sweep"></div>',
    table([s.loadKind === 'rate' ? 'rate /s' : 'concurrency', 'responses/s', 'p50 ms', 'p99 ms', 'errors'], rows, 'num'),
    `<div class="advice">${s.advice.map((a) => `<p>${esc(a)}</p>`).join('')}</div>`,
  ].join('\n');
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
  if (input.runs.length > 0) {
    sections.push(
      '<h2>Latency distribution (time to complete)</h2>',
      '<div class="chart" id="chart-latency"></div>',
      '<p><small>The HdrHistogram percentile plot: x is the percentile on a log scale (90%, 99%, 99.9% ...), y the latency in ms on a log scale. Each line ends at its max.</small></p>',
      runTable(input.runs),
      '<h2>Over time</h2>',
      '<div class="chart" id="chart-time"></div>',
      '<div class="chart" id="chart-time-latency"></div>',
    );
    const warnings = input.runs.flatMap((r) => r.report.warnings.map((w) => (input.runs.length > 1 ? `${r.name}: ${w}` : w)));
    if (warnings.length > 0) sections.push('<h2>Warnings</h2>', `<ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`);
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
.sub { color: #5b6475; margin: 0; } code { background: #f3f4f7; padding: 0 4px; border-radius: 3px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border-bottom: 1px solid #e8eaef; padding: 4px 10px; text-align: left; white-space: nowrap; }
table.num td:not(:first-child), table.num th:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f6f7f9; font-weight: 600; } small { color: #6b7385; }
.pass { color: #137333; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.verdict { padding: 10px 14px; border-radius: 6px; margin: 16px 0; } .verdict.pass { background: #e6f4ea; } .verdict.fail { background: #fce8e6; }
.verdict strong { font-size: 18px; display: block; } .verdict div { color: #1d2330; font-weight: 400; }
.chart { margin: 8px 0; min-height: 40px; } .row { display: flex; gap: 16px; flex-wrap: wrap; } .row .chart { flex: 1 1 480px; }
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
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** The page's drawing code (plain ES2017, no modules: it runs from file://). */
const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('ajpbench-data').textContent);
  var COLORS = ['#1f6feb', '#d1495b', '#2a9d8f', '#e9a03b', '#7b61ff', '#6c757d', '#00798c', '#edae49', '#8d6a9f', '#3d405b'];
  var drawn = 0;
  function color(i) { return COLORS[i % COLORS.length]; }
  function width(el) { return Math.max(320, Math.min(1160, el.clientWidth || 900)); }
  function pctLabel(x) {
    if (x <= 1) return '0%';
    var p = 100 * (1 - 1 / x);
    var digits = Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 2);
    return p.toFixed(digits) + '%';
  }
  // Ticks at the powers of ten of 1/(1-p): 0%, 90%, 99%, 99.9% ...
  function decades(u, axisIdx, min, max) {
    var out = [];
    for (var v = 1; v <= max * 1.0001; v *= 10) if (v >= min / 1.0001) out.push(v);
    return out;
  }
  var SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
  function fmtMs(v) { return v == null ? '–' : (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ms'; }
  function make(id, opts, data) {
    var el = document.getElementById(id);
    if (!el) return;
    try {
      opts.width = width(el);
      opts.height = opts.height || 320;
      new uPlot(opts, data, el);
      el.setAttribute('data-rendered', 'true');
      drawn++;
    } catch (e) {
      el.innerHTML = '<p class="chart-error">chart failed: ' + String(e && e.message || e).replace(/</g, '&lt;') + '</p>';
      throw e;
    }
  }
  var bars = uPlot.paths.bars({ size: [0.6, 90] });
  function categoryAxis(names) {
    return { values: function (u, splits) { return splits.map(function (v) { return Number.isInteger(v) && names[v] !== undefined ? names[v] : ''; }); }, splits: function () { return names.map(function (_, i) { return i; }); }, gap: 6, size: 40 };
  }
  function categoryScale(n) { return { time: false, range: function () { return [-0.5, n - 0.5]; } }; }

  // Latency percentile curve.
  if (D.names.length > 0 && D.curve.x.length > 0) {
    var series = [{ label: 'percentile', value: function (u, v) { return v == null ? '' : pctLabel(v); } }];
    D.names.forEach(function (n, i) { series.push({ label: n, stroke: color(i), width: 2, points: { show: false }, value: function (u, v) { return fmtMs(v); }, spanGaps: false }); });
    make('chart-latency', {
      title: 'Latency by percentile',
      scales: { x: { time: false, distr: 3, log: 10 }, y: { distr: 3, log: 10 } },
      axes: [
        { label: 'percentile', splits: decades, values: function (u, splits) { return splits.map(pctLabel); } },
        { label: 'ms', size: 60 },
      ],
      series: series,
    }, [D.curve.x].concat(D.curve.ys));
  }

  // Throughput (and errors) per second.
  if (D.time.x.length > 0) {
    var ts = [{ label: 'second' }];
    var td = [D.time.x];
    D.names.forEach(function (n, i) {
      ts.push({ label: n + ' responses/s', stroke: color(i), width: 2 });
      td.push(D.time.responses[i]);
      ts.push({ label: n + ' errors/s', stroke: color(i), width: 1, dash: [4, 4] });
      td.push(D.time.errors[i]);
    });
    make('chart-time', {
      title: 'Throughput over time',
      scales: { x: { time: false, range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [{ label: 'seconds after the warmup', incrs: SECONDS }, { label: 'per second', size: 60 }],
      series: ts,
    }, td);
    var lat = document.getElementById('chart-time-latency');
    if (D.time.p99) {
      var ls = [{ label: 'second' }];
      D.names.forEach(function (n, i) { ls.push({ label: n + ' p99', stroke: color(i), width: 2, value: function (u, v) { return fmtMs(v); } }); });
      make('chart-time-latency', { title: 'Latency p99 over time', scales: { x: { time: false } }, axes: [{ label: 'seconds after the warmup', incrs: SECONDS }, { label: 'ms', size: 60 }], series: ls }, [D.time.x].concat(D.time.p99));
    } else if (lat) {
      lat.innerHTML = '<p><small>Latency over time: these results carry no per-second latency (only per-second counts).</small></p>';
    }
  }

  // Per-worker shares against expected.
  if (D.fairness) {
    var f = D.fairness;
    var fx = f.workers.map(function (_, i) { return i; });
    var fs = [{ label: 'worker', value: function (u, v) { return f.workers[v] || ''; } },
      { label: 'measured %', fill: 'rgba(31,111,235,0.55)', stroke: '#1f6feb', paths: bars, points: { show: false }, value: function (u, v) { return v == null ? '' : v.toFixed(2) + '%'; } },
      { label: 'expected %', stroke: '#d1495b', width: 0, paths: function () { return null; }, points: { show: true, size: 14, width: 3, fill: '#fff' }, value: function (u, v) { return v == null ? '' : v.toFixed(2) + '%'; } }];
    var fd = [fx, f.observed, f.expected];
    if (f.jk) {
      fs.push({ label: 'mod_jk status %', stroke: '#2a9d8f', width: 0, paths: function () { return null; }, points: { show: true, size: 9, width: 2, fill: '#2a9d8f' }, value: function (u, v) { return v == null ? '' : v.toFixed(2) + '%'; } });
      fd.push(f.jk);
    }
    make('chart-fairness', {
      title: 'Share per worker: measured (bars) and expected (circles)',
      scales: { x: categoryScale(f.workers.length), y: { range: function (u, min, max) { return [0, Math.max(max * 1.15, 10)]; } } },
      axes: [categoryAxis(f.workers), { label: '% of requests', size: 60 }],
      series: fs,
    }, fd);
  }

  // Compare side by side.
  if (D.compare) {
    var c = D.compare;
    var cx = c.targets.map(function (_, i) { return i; });
    var short = c.targets.map(function (t) { return t.length > 28 ? t.slice(0, 27) + '…' : t; });
    make('chart-compare-rps', {
      title: 'Throughput (bars: mean of rounds; ticks: min and max)',
      scales: { x: categoryScale(c.targets.length), y: { range: function (u, min, max) { return [0, max * 1.15]; } } },
      axes: [categoryAxis(short), { label: 'responses/s', size: 60 }],
      series: [{ label: 'target', value: function (u, v) { return c.targets[v] || ''; } },
        { label: 'responses/s', fill: 'rgba(31,111,235,0.55)', stroke: '#1f6feb', paths: bars, points: { show: false } },
        { label: 'round min', stroke: '#1d2330', width: 0, paths: function () { return null; }, points: { show: true, size: 7, fill: '#1d2330' } },
        { label: 'round max', stroke: '#1d2330', width: 0, paths: function () { return null; }, points: { show: true, size: 7, fill: '#1d2330' } }],
    }, [cx, c.rps, c.rpsMin, c.rpsMax]);
    make('chart-compare-latency', {
      title: 'Latency: p99 (bars) and p50 (circles)',
      scales: { x: categoryScale(c.targets.length), y: { range: function (u, min, max) { return [0, max * 1.15]; } } },
      axes: [categoryAxis(short), { label: 'ms', size: 60 }],
      series: [{ label: 'target', value: function (u, v) { return c.targets[v] || ''; } },
        { label: 'p99', fill: 'rgba(209,73,91,0.55)', stroke: '#d1495b', paths: bars, points: { show: false }, value: function (u, v) { return fmtMs(v); } },
        { label: 'p50', stroke: '#1f6feb', width: 0, paths: function () { return null; }, points: { show: true, size: 10, width: 2, fill: '#fff' }, value: function (u, v) { return fmtMs(v); } }],
    }, [cx, c.p99, c.p50]);
  }

  // Sweep curve with the knee.
  if (D.sweep) {
    var s = D.sweep;
    var geometric = s.load.length > 2 && s.load[s.load.length - 1] / s.load[0] >= 8;
    var knee = s.knee;
    make('chart-sweep', {
      title: 'Sweep: throughput and p99 by ' + s.loadKind + (knee == null ? ' (no knee found)' : ' (knee at ' + s.load[knee] + ')'),
      scales: { x: geometric ? { time: false, distr: 3, log: 2 } : { time: false }, rps: { range: function (u, min, max) { return [0, max * 1.1]; } }, ms: { distr: 3, log: 10 } },
      axes: [
        { label: s.loadKind === 'rate' ? 'rate (requests/s)' : 'concurrency' },
        { scale: 'rps', label: 'responses/s', size: 60, stroke: '#1f6feb' },
        { scale: 'ms', label: 'p99 ms', side: 1, size: 60, stroke: '#d1495b', grid: { show: false } },
      ],
      series: [{ label: s.loadKind },
        { label: 'responses/s', scale: 'rps', stroke: '#1f6feb', width: 2, points: { show: true, size: 7 } },
        { label: 'p99', scale: 'ms', stroke: '#d1495b', width: 2, points: { show: true, size: 7 }, value: function (u, v) { return fmtMs(v); } }],
      hooks: { draw: [function (u) {
        if (knee == null) return;
        var x = Math.round(u.valToPos(s.load[knee], 'x', true));
        var ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#e9a03b';
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = '#b26b00';
        ctx.font = (12 * devicePixelRatio) + 'px system-ui, sans-serif';
        ctx.fillText('knee', x + 6 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
        ctx.restore();
      }] },
    }, [s.load, s.throughput, s.p99]);
  }
  document.body.setAttribute('data-charts-rendered', String(drawn));
})();
`;
