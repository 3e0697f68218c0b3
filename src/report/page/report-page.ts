/**
 * The HTML report's page script. Compiled by tsconfig.page.json (DOM types, strict) and inlined
 * by html-report.ts as a module script after uPlot's IIFE build (the global `uPlot`), so it runs
 * from file:// without a request. It reads the JSON blob (page-data.ts: everything is computed
 * already) and draws each chart into its `.chart` element.
 *
 * Choices against what a five-target compare looked like at 1400 px:
 * - bar-chart axes name each bar by the part of its name that differs (the shared part becomes
 *   the axis title), fitted to the bar's slot (up to three lines, then an ellipsis) so labels
 *   never run into each other;
 * - per-second series carry a null between runs laid end to end (chart-data.ts puts it there),
 *   so no line joins two rounds;
 * - legends show a value while the cursor is off the chart (uPlot shows "--"): the run's summary
 *   over time, p99 on the percentile curve, the knee of a sweep, the first (baseline) target, the
 *   worker with the largest deviation;
 * - charts follow their container's width when the window is resized.
 */
import type { CategoryLabels, CompareData, FairnessData, PageData, RunSeries, SweepData } from './page-data.js';

const COLORS = [
  '#1f6feb',
  '#d1495b',
  '#2a9d8f',
  '#e9a03b',
  '#7b61ff',
  '#6c757d',
  '#00798c',
  '#edae49',
  '#8d6a9f',
  '#3d405b',
];
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
/** Ticks for a seconds axis: whole, readable steps. */
const SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
const HEIGHT = 320;

type Fmt = (v: number) => string;
type LegendValue = (u: uPlot, v: number | null, sidx: number, idx: number | null) => string;
type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

interface Drawn {
  el: HTMLElement;
  plot: uPlot;
}

const drawn: Drawn[] = [];

function color(i: number): string {
  return COLORS[i % COLORS.length] ?? '#1d2330';
}

function widthOf(el: HTMLElement): number {
  return Math.max(280, Math.min(1168, el.clientWidth || 900));
}

const fmtMs: Fmt = (v) => `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms`;
const fmtPct: Fmt = (v) => `${v.toFixed(2)}%`;
const fmtRate: Fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** 1/(1-p) as a percentile: 10 → 90%, 1000 → 99.9%. */
function pctLabel(x: number): string {
  if (x <= 1) return '0%';
  const p = 100 * (1 - 1 / x);
  const digits = Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 2);
  return `${p.toFixed(digits)}%`;
}

/** The hovered value, or `idle` while the cursor is off the chart (uPlot passes idx null then). */
function legend(fmt: Fmt, idle: string): LegendValue {
  return (_u, v, _sidx, idx) => (idx === null ? idle : v === null || v === undefined ? '–' : fmt(v));
}

/** As legend(), idle showing this series' value at the index `at`. */
function legendAt(fmt: Fmt, at: number, prefix = ''): LegendValue {
  return (u, v, sidx, idx) => {
    const shown = idx === null ? u.data[sidx]?.[at] : v;
    return shown === null || shown === undefined ? '–' : (idx === null ? prefix : '') + fmt(shown);
  };
}

function make(id: string, opts: ChartOptions, data: uPlot.AlignedData): void {
  const el = document.getElementById(id);
  if (el === null) return;
  try {
    const plot = new uPlot({ ...opts, width: widthOf(el), height: HEIGHT }, data, el);
    // Fill the legend with the idle values now, not at the first mouse move.
    plot.setLegend({ idxs: plot.series.map(() => null) });
    el.setAttribute('data-rendered', 'true');
    drawn.push({ el, plot });
  } catch (e) {
    const p = document.createElement('p');
    p.className = 'chart-error';
    p.textContent = `chart failed: ${e instanceof Error ? e.message : String(e)}`;
    el.replaceChildren(p);
    throw e;
  }
}

// ---- bar-chart categories ----

let measureCtx: CanvasRenderingContext2D | null = null;

function textWidth(s: string): number {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  if (measureCtx === null) return s.length * 7;
  measureCtx.font = AXIS_FONT;
  return measureCtx.measureText(s).width;
}

/** `s` cut in the middle with an ellipsis to fit `px`. */
function ellipsize(s: string, px: number): string {
  if (textWidth(s) <= px) return s;
  for (let keep = s.length - 1; keep > 1; keep--) {
    const head = Math.ceil(keep / 2);
    const t = `${s.slice(0, head)}…${s.slice(s.length - (keep - head))}`;
    if (textWidth(t) <= px) return t;
  }
  return '…';
}

/** Where a label may break: after these; after the first ones when that is enough (a URL into host:port and path). */
const BREAKS = ['/:?&@', '/:?&@.-_'];
const MAX_LINES = 3;

/** `s` in pieces that each end at a break opportunity. */
function breakable(s: string, after: string): string[] {
  const out: string[] = [];
  let piece = '';
  for (const ch of s) {
    piece += ch;
    if (after.includes(ch)) {
      out.push(piece);
      piece = '';
    }
  }
  if (piece !== '') out.push(piece);
  return out;
}

/** Pieces filled greedily into lines of at most `px` (a piece wider than that is a line of its own). */
function wrap(pieces: string[], px: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const t of pieces) {
    if (line !== '' && textWidth(line + t) > px) {
      lines.push(line);
      line = '';
    }
    line += t;
  }
  lines.push(line);
  return lines;
}

/**
 * A label that fits `px`: wrapped after separators onto at most three lines; a line still too
 * wide, or the rest beyond the third line, is cut in the middle with an ellipsis (the end of a
 * name tells targets apart as often as its start).
 */
function fitLabel(s: string, px: number): string {
  if (textWidth(s) <= px) return s;
  let lines: string[] = [];
  for (const after of BREAKS) {
    lines = wrap(breakable(s, after), px);
    if (lines.length <= MAX_LINES && lines.every((l) => textWidth(l) <= px)) break;
  }
  const kept =
    lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES - 1), lines.slice(MAX_LINES - 1).join('')] : lines;
  return kept.map((l) => ellipsize(l, px)).join('\n');
}

/** Room for the tallest label: uPlot spaces lines at 1.5 × the 12 px font. */
function labelAxisSize(_u: uPlot, values: string[] | null): number {
  const lines = Math.max(1, ...(values ?? []).map((v) => v.split('\n').length));
  return 22 + 18 * lines;
}

function categoryScale(n: number): uPlot.Scale {
  return { time: false, range: () => [-0.5, n - 0.5] };
}

/**
 * One tick per category, labelled with its short name fitted to its slot. The chart element
 * carries what the axis shows (data-axis-labels): canvas text is otherwise out of the DOM's reach.
 */
function categoryAxis(chartId: string, labels: CategoryLabels, title: string): uPlot.Axis {
  return {
    label: labels.common === null ? title : `${title} (${labels.common})`,
    font: AXIS_FONT,
    size: labelAxisSize,
    gap: 6,
    splits: () => labels.short.map((_, i) => i),
    values: (u, splits) => {
      const slot = u.bbox.width / devicePixelRatio / Math.max(1, labels.short.length) - 8;
      const shown = splits.map((v) =>
        Number.isInteger(v) && labels.short[v] !== undefined ? fitLabel(labels.short[v], slot) : '',
      );
      document
        .getElementById(chartId)
        ?.setAttribute('data-axis-labels', JSON.stringify({ slot, font: AXIS_FONT, labels: shown }));
      return shown;
    },
  };
}

function barPaths(): uPlot.Series.PathBuilder {
  const bars = uPlot.paths.bars;
  if (bars === undefined) throw new Error('this uPlot build has no bars path');
  return bars({ size: [0.6, 90] });
}

/** A series drawn as marks only (no line). */
function marks(label: string, stroke: string, size: number, fill: string, value: LegendValue): uPlot.Series {
  return { label, stroke, width: 0, paths: () => null, points: { show: true, size, width: 2, fill }, value };
}

function categoryLegend(labels: CategoryLabels, at: number): LegendValue {
  return (_u, v, _sidx, idx) => labels.names[idx ?? at] ?? (v === null ? '' : String(v));
}

// ---- the charts ----

function latencyCurve(d: PageData): void {
  if (d.names.length === 0 || d.curve.x.length === 0) return;
  const xs = d.curve.x;
  // Off the chart, the legend shows p99 (x = 100), else the point nearest it.
  let at = 0;
  xs.forEach((x, i) => {
    if (Math.abs(Math.log10(x) - 2) < Math.abs(Math.log10(xs[at] ?? 1) - 2)) at = i;
  });
  const series: uPlot.Series[] = [
    { label: 'percentile', value: (_u, v, _s, idx) => pctLabel(idx === null ? (xs[at] ?? 1) : v) },
  ];
  d.names.forEach((n, i) =>
    series.push({
      label: n,
      stroke: color(i),
      width: 2,
      points: { show: false },
      spanGaps: false,
      value: legendAt(fmtMs, at),
    }),
  );
  make(
    'chart-latency',
    {
      title: 'Latency by percentile',
      scales: { x: { time: false, distr: 3, log: 10 }, y: { distr: 3, log: 10 } },
      axes: [
        {
          label: 'percentile',
          splits: (_u, _ax, min, max) => {
            // Ticks at the powers of ten of 1/(1-p): 0%, 90%, 99%, 99.9% ...
            const out: number[] = [];
            for (let v = 1; v <= max * 1.0001; v *= 10) if (v >= min / 1.0001) out.push(v);
            return out;
          },
          values: (_u, splits) => splits.map(pctLabel),
        },
        { label: 'ms', size: 60 },
      ],
      series,
    },
    [xs, ...d.curve.ys],
  );
}

function timeAxis(endToEnd: boolean): uPlot.Axis {
  return {
    label: endToEnd ? 'seconds after the warmup (rounds end to end, a gap between them)' : 'seconds after the warmup',
    incrs: SECONDS,
  };
}

function overTime(d: PageData): void {
  const t = d.time;
  if (t === null) return;
  // The half-second points are the breaks between rounds.
  const idleX = legend((x) => (Number.isInteger(x) ? String(x) : 'between rounds'), 'whole run');
  const series: uPlot.Series[] = [{ label: 'second', value: idleX }];
  // Each run on its own x (its gaps between rounds); joined, a run has no value at another's x.
  const tables: uPlot.AlignedData[] = [];
  t.runs.forEach((r: RunSeries, i) => {
    const name = d.names[i] ?? `run ${i + 1}`;
    series.push({
      label: `${name} responses/s`,
      stroke: color(i),
      width: 2,
      value: legend(fmtRate, `${fmtRate(r.summary.responsesPerSecond)} avg`),
    });
    series.push({
      label: `${name} errors/s`,
      stroke: color(i),
      width: 1,
      dash: [4, 4],
      value: legend(fmtRate, `${fmtRate(r.summary.errorsPerSecond)} avg`),
    });
    tables.push([r.x, r.responses, r.errors]);
  });
  make(
    'chart-time',
    {
      title: 'Throughput over time',
      scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [timeAxis(t.endToEnd), { label: 'per second', size: 60 }],
      series,
    },
    uPlot.join(tables),
  );
  const lat = document.getElementById('chart-time-latency');
  if (!t.hasP99) {
    if (lat !== null) {
      const p = document.createElement('p');
      p.innerHTML =
        '<small>Latency over time: these results carry no per-second latency (only per-second counts).</small>';
      lat.replaceChildren(p);
    }
    return;
  }
  const ls: uPlot.Series[] = [{ label: 'second', value: idleX }];
  const lt: uPlot.AlignedData[] = [];
  t.runs.forEach((r, i) => {
    ls.push({
      label: `${d.names[i] ?? `run ${i + 1}`} p99`,
      stroke: color(i),
      width: 2,
      value: legend(fmtMs, r.summary.p99Ms === null ? '–' : fmtMs(r.summary.p99Ms)),
    });
    lt.push([r.x, r.p99 ?? r.x.map(() => null)]);
  });
  make(
    'chart-time-latency',
    {
      title: 'Latency p99 over time',
      scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [timeAxis(t.endToEnd), { label: 'ms', size: 60 }],
      series: ls,
    },
    uPlot.join(lt),
  );
}

function fairness(f: FairnessData): void {
  const at = f.focus;
  const series: uPlot.Series[] = [
    { label: 'worker', value: categoryLegend(f.workers, at) },
    {
      label: 'measured %',
      fill: 'rgba(31,111,235,0.55)',
      stroke: '#1f6feb',
      paths: barPaths(),
      points: { show: false },
      value: legendAt(fmtPct, at),
    },
    marks('expected %', '#d1495b', 14, '#fff', legendAt(fmtPct, at)),
  ];
  const data: uPlot.AlignedData = [f.workers.names.map((_, i) => i), f.observed, f.expected];
  if (f.jk !== null) {
    series.push(marks('mod_jk status %', '#2a9d8f', 9, '#2a9d8f', legendAt(fmtPct, at)));
    data.push(f.jk);
  }
  make(
    'chart-fairness',
    {
      title: 'Share per worker: measured (bars) and expected (circles)',
      scales: {
        x: categoryScale(f.workers.names.length),
        y: { range: (_u, _min, max) => [0, Math.max(max * 1.15, 10)] },
      },
      axes: [categoryAxis('chart-fairness', f.workers, 'worker'), { label: '% of requests', size: 60 }],
      series,
    },
    data,
  );
}

function compare(c: CompareData): void {
  const x = c.targets.names.map((_, i) => i);
  const range: uPlot.Range.Function = (_u, _min, max) => [0, max * 1.15];
  make(
    'chart-compare-rps',
    {
      title: 'Throughput (bars: mean of rounds; ticks: min and max)',
      scales: { x: categoryScale(x.length), y: { range } },
      axes: [categoryAxis('chart-compare-rps', c.targets, 'target'), { label: 'responses/s', size: 60 }],
      series: [
        { label: 'target', value: categoryLegend(c.targets, 0) },
        {
          label: 'responses/s',
          fill: 'rgba(31,111,235,0.55)',
          stroke: '#1f6feb',
          paths: barPaths(),
          points: { show: false },
          value: legendAt(fmtRate, 0),
        },
        marks('round min', '#1d2330', 7, '#1d2330', legendAt(fmtRate, 0)),
        marks('round max', '#1d2330', 7, '#1d2330', legendAt(fmtRate, 0)),
      ],
    },
    [x, c.rps, c.rpsMin, c.rpsMax],
  );
  make(
    'chart-compare-latency',
    {
      title: 'Latency: p99 (bars) and p50 (circles)',
      scales: { x: categoryScale(x.length), y: { range } },
      axes: [categoryAxis('chart-compare-latency', c.targets, 'target'), { label: 'ms', size: 60 }],
      series: [
        { label: 'target', value: categoryLegend(c.targets, 0) },
        {
          label: 'p99',
          fill: 'rgba(209,73,91,0.55)',
          stroke: '#d1495b',
          paths: barPaths(),
          points: { show: false },
          value: legendAt(fmtMs, 0),
        },
        marks('p50', '#1f6feb', 10, '#fff', legendAt(fmtMs, 0)),
      ],
    },
    [x, c.p99, c.p50],
  );
}

function sweep(s: SweepData): void {
  const geometric = s.load.length > 2 && (s.load[s.load.length - 1] ?? 0) / (s.load[0] ?? 1) >= 8;
  const knee = s.knee;
  // Off the chart, the legend shows the knee (else the last step).
  const at = knee ?? s.load.length - 1;
  const xScale: uPlot.Scale = geometric ? { time: false, distr: 3, log: 2 } : { time: false };
  const drawKnee = (u: uPlot): void => {
    if (knee === null) return;
    const x = Math.round(u.valToPos(s.load[knee] ?? 0, 'x', true));
    const ctx = u.ctx;
    const px = devicePixelRatio;
    ctx.save();
    ctx.strokeStyle = '#e9a03b';
    ctx.lineWidth = 2 * px;
    ctx.setLineDash([6 * px, 4 * px]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#b26b00';
    ctx.font = `${12 * px}px system-ui, sans-serif`;
    ctx.fillText('knee', x + 6 * px, u.bbox.top + 14 * px);
    ctx.restore();
  };
  make(
    'chart-sweep',
    {
      title: `Sweep: throughput and p99 by ${s.loadKind}${knee === null ? ' (no knee found)' : ` (knee at ${s.load[knee] ?? '?'})`}`,
      scales: { x: xScale, rps: { range: (_u, _min, max) => [0, max * 1.1] }, ms: { distr: 3, log: 10 } },
      axes: [
        { label: s.loadKind === 'rate' ? 'rate (requests/s)' : 'concurrency' },
        { scale: 'rps', label: 'responses/s', size: 60, stroke: '#1f6feb' },
        { scale: 'ms', label: 'p99 ms', side: 1, size: 60, stroke: '#d1495b', grid: { show: false } },
      ],
      series: [
        { label: s.loadKind, value: legendAt(String, at, knee === null ? 'last: ' : 'knee: ') },
        {
          label: 'responses/s',
          scale: 'rps',
          stroke: '#1f6feb',
          width: 2,
          points: { show: true, size: 7 },
          value: legendAt(fmtRate, at),
        },
        {
          label: 'p99',
          scale: 'ms',
          stroke: '#d1495b',
          width: 2,
          points: { show: true, size: 7 },
          value: legendAt(fmtMs, at),
        },
      ],
      hooks: { draw: [drawKnee] },
    },
    [s.load, s.throughput, s.p99],
  );
}

/** Charts follow their container's width (a resized window, a printed page). */
function followWidth(): void {
  let pending = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const { el, plot } of drawn) {
        const width = widthOf(el);
        if (width !== plot.width) plot.setSize({ width, height: HEIGHT });
      }
    });
  });
}

function main(): void {
  const blob = document.getElementById('ajpbench-data');
  if (blob === null) throw new Error('the report has no data block (#ajpbench-data)');
  const d = JSON.parse(blob.textContent ?? '{}') as PageData;
  latencyCurve(d);
  overTime(d);
  if (d.fairness !== null) fairness(d.fairness);
  if (d.compare !== null) compare(d.compare);
  if (d.sweep !== null) sweep(d.sweep);
  followWidth();
  // Tests wait for this attribute (test/unit/report/html-layout.test.ts).
  document.body.setAttribute('data-charts-rendered', String(drawn.length));
}

main();
