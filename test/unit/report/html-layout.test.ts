/**
 * The HTML report laid out in headless Chromium (Debian's, driven by playwright-core) at 1024 and
 * 1400 px: nothing is wider than the window, every table, chart and legend fits in its parent,
 * every chart draws without a console error or a request, bar labels fit their slots and legends
 * show values before any hover. The reports are built in-process from synthetic results (a
 * compare of five targets, a sweep, a fairness run, a replay); screenshots go to /tmp.
 *
 * Skipped when /usr/bin/chromium is missing (npm run lab -- install installs it), except on CI.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { ReplayOptions, ReplayOutcome } from '../../../src/load/replay.js';
import { ReplayResults } from '../../../src/load/replay-results.js';
import { parseTarget } from '../../../src/load/target.js';
import type { HtmlReportInput } from '../../../src/report/html-input.js';
import { renderHtmlReport } from '../../../src/report/html-report.js';
import { compare } from '../../../src/verdict/compare.js';
import { fairnessVerdict, parseExpect } from '../../../src/verdict/fairness.js';
import { sweep } from '../../../src/verdict/sweep.js';
import { evaluateThresholds, parseThreshold } from '../../../src/verdict/threshold.js';
import { chromiumPath, withChromium } from '../../e2e/support/chromium.js';
import { buildReport, steady, type SyntheticRequest } from '../verdict/report-fixture.js';

const chromium = chromiumPath();
if (chromium === undefined && process.env.CI)
  throw new Error('CI is set, so not skipping: chromium is missing; run npm run lab -- install');
if (chromium === undefined) console.warn('html-layout: skipped: chromium is not installed (npm run lab -- install)');

const WIDTHS = [1024, 1400];

/** A long-tailed latency set around `baseMs`. */
function latencies(n: number, baseMs: number): number[] {
  return Array.from(
    { length: n },
    (_, i) => baseMs * (1 + 0.3 * Math.sin(i) ** 2) * (i % 97 === 0 ? 40 : i % 13 === 0 ? 4 : 1),
  );
}

/** A run of `rate`/s for `seconds` whose last requests finish just after: a partial last second, as in a real run. */
function run(
  rate: number,
  seconds: number,
  baseMs: number,
  extra: Partial<SyntheticRequest> = {},
): ReturnType<typeof buildReport> {
  const n = Math.round(rate * seconds);
  const tail = Array.from({ length: 4 }, (_, i) => ({ atMs: seconds * 1000 + 3 + 4 * i, latencyMs: baseMs, ...extra }));
  const r = buildReport([...steady(n, seconds, latencies(n, baseMs), extra), ...tail]);
  for (const [i, s] of r.throughput.series.entries()) s.p99Us = Math.round(baseMs * 4000 * (1 + 0.1 * Math.sin(i)));
  return r;
}

const base: ReplayOptions = {
  trace: 'trace.jsonl',
  targets: [],
  model: 'closed',
  concurrency: 8,
  limits: { warmupMs: 0, durationMs: 10_000, requests: Infinity },
};
const outcome = (report: ReturnType<typeof buildReport>): ReplayOutcome => ({ report, results: new ReplayResults([]) });

const FIVE = [
  'http://10.20.30.41:8080/shop-jk',
  'http://10.20.30.41:8080/shop-proxy-ajp',
  'http://10.20.30.42:8080/shop',
  'ajp://10.20.30.43:8009',
  'ajp://10.20.30.44:8009',
];
/** Names too long for their bars even on three lines: cut with an ellipsis. */
const EIGHT = Array.from(
  { length: 8 },
  (_, i) => `http://backend-${i + 1}.datacenter-west.example.internal:8080/applications/checkout-service-v${i + 2}/api`,
);

/** Targets compared over three rounds, as `ajpbench compare ... --html` builds its page. */
async function compareOf(labels: string[]): Promise<HtmlReportInput> {
  const round = new Map<string, number>();
  const fake = async (o: ReplayOptions): Promise<ReplayOutcome> => {
    const label = o.targets[0]?.label ?? '';
    const i = labels.indexOf(label);
    const r = (round.get(label) ?? -1) + 1;
    round.set(label, r);
    return outcome(run(280 + 15 * i + 7 * r, 10, 2 + i * 0.4, i === 1 && r === 2 ? { error: 'status-5xx' } : {}));
  };
  const result = await compare({ replay: base, targets: labels.map(parseTarget), rounds: 3, replayFn: fake });
  return {
    title: `ajpbench compare: ${result.targets.length} targets`,
    subtitle: [
      'trace /var/tmp/ajpbench/captures/2026-11-27-production-shop-checkout.jsonl',
      `${result.rounds} rounds, interleaved`,
    ],
    runs: result.targets.map((t) => ({ name: t.target, report: t.pooled })),
    compare: result.summary,
  };
}

async function sweepRun(): Promise<HtmlReportInput> {
  const fake = async (o: ReplayOptions): Promise<ReplayOutcome> => {
    const c = o.concurrency;
    const rps = Math.min(c * 250, 1500) * (c > 16 ? 0.97 : 1);
    return outcome(run(rps / 10, 10, (c / rps) * 1000));
  };
  const result = await sweep({ replay: base, mode: 'concurrency', steps: [1, 2, 4, 8, 16, 32, 64], replayFn: fake });
  return {
    title: 'ajpbench sweep: ajp://10.20.30.43:8009',
    subtitle: ['trace trace.jsonl', 'concurrency 1, 2, 4, 8, 16, 32, 64'],
    runs: result.steps.map((s) => ({ name: `concurrency ${s.load}`, report: s.report })),
    sweep: result.summary,
  };
}

function fairnessRun(): HtmlReportInput {
  const workers = ['tomcat-node-a1', 'tomcat-node-a2', 'tomcat-node-b1', 'tomcat-node-b2'];
  const report = buildReport(
    steady(4000, 10, latencies(4000, 3)).map((q, i) => ({ ...q, route: workers[i % 7 === 0 ? 3 : i % 4] ?? null })),
  );
  const counts = new Map(report.byRoute.map((g) => [g.name, g.count]));
  const verdict = fairnessVerdict(counts, parseExpect(workers.map((w) => `${w}=1`).join(',')));
  const thresholds = evaluateThresholds(report, ['p99<50ms', 'errors<0.1%'].map(parseThreshold));
  return {
    title: 'ajpbench fairness: http://balancer.example.internal/app',
    runs: [{ name: 'http://balancer.example.internal/app', report }],
    fairness: {
      target: 'http://balancer.example.internal/app',
      verdict,
      jkStatus: workers.map((w) => ({ worker: w, count: (counts.get(w) ?? 0) + 3 })),
      sticky: { sessions: 40, followUps: 400, violations: [{ worker: 'tomcat-node-b2', count: 2 }] },
      failovers: [
        { worker: 'tomcat-node-b2', stoppedAtSecond: 6, rateBefore: 100, takeoverSeconds: 1, errorsDuring: 3 },
      ],
    },
    thresholds,
    verdict: { pass: verdict.pass, lines: verdict.failures },
  };
}

function replayRun(): HtmlReportInput {
  const report = run(300, 20, 2.5);
  report.warnings.push(
    '12 requests were sent late by more than 10 ms: the load generator could not keep up at http://10.20.30.41:8080/shop-jk/a/very/long/path/without/any/spaces/at/all/that/goes/on/and/on',
  );
  // replay --sessions: the Sessions tables, with a moved session whose id is long.
  report.sessions = {
    started: 1200,
    completed: 1180,
    kept: 1150,
    broken: 45,
    unknown: 5,
    withErrors: 3,
    renewed: 45,
    requests: 9000,
    sessionless: 300,
    byRoute: [
      { route: 'tomcat-node-a1', sessions: 600, broken: 20 },
      { route: 'tomcat-node-a2', sessions: 595, broken: 25 },
    ],
    list: Array.from({ length: 30 }, (_, i) => ({
      id: `0123456789ABCDEF0123456789ABCDEF${String(i).padStart(4, '0')}`,
      pass: i % 2,
      steps: 12,
      requests: 12,
      completed: true,
      errors: 0,
      targetSessions: 2,
      routes: ['tomcat-node-a1', 'tomcat-node-a2'],
    })),
    unlisted: 1170,
  };
  const thresholds = evaluateThresholds(report, ['p99<5ms', 'rps>100'].map(parseThreshold));
  return {
    title: 'ajpbench replay: http://10.20.30.41:8080/shop-jk',
    subtitle: ['started 2026-01-01T00:00:00.000Z'],
    runs: [{ name: 'http://10.20.30.41:8080/shop-jk', report }],
    thresholds,
    verdict: { pass: false, lines: thresholds.filter((t) => !t.pass).map((t) => t.message) },
  };
}

interface Layout {
  scrollWidth: number;
  innerWidth: number;
  /** Elements wider than, or sticking out of, their parent. */
  overflows: string[];
  charts: { id: string; rendered: boolean; inked: number }[];
  rendered: string | null;
  legendValues: string[];
  /** Bar-chart axis labels: each line's width against its slot. */
  axisLabels: { id: string; slot: number; lines: { text: string; width: number }[] }[];
}

/**
 * Runs in the page (playwright serialises the function): only what it declares below is used,
 * since this project compiles without the DOM types.
 */
function probeLayout(): Layout {
  interface Rect {
    left: number;
    right: number;
  }
  interface Node {
    id: string;
    tagName: string;
    className: unknown;
    parentElement: Node | null;
    clientWidth: number;
    scrollWidth: number;
    textContent: string | null;
    getBoundingClientRect(): Rect;
    getAttribute(name: string): string | null;
    querySelectorAll(sel: string): ArrayLike<Node>;
  }
  interface Canvas {
    width: number;
    height: number;
    getContext(kind: '2d'): {
      font: string;
      measureText(s: string): { width: number };
      getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
    } | null;
  }
  interface Win {
    innerWidth: number;
    document: {
      documentElement: Node;
      body: Node;
      querySelectorAll(sel: string): ArrayLike<Node>;
      createElement(tag: 'canvas'): Canvas;
    };
  }
  const w = globalThis as unknown as Win;
  const d = w.document;
  const all = (sel: string, from: { querySelectorAll(sel: string): ArrayLike<Node> } = d): Node[] =>
    Array.from(from.querySelectorAll(sel));
  const name = (e: Node): string =>
    `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${typeof e.className === 'string' && e.className ? `.${e.className.split(' ').join('.')}` : ''}`;
  const overflows: string[] = [];
  for (const e of all('.table-wrap, table, .chart, .row, .uplot, .u-legend, .verdict, h1, h2, p, ul')) {
    const p = e.parentElement;
    if (p === null) continue;
    const r = e.getBoundingClientRect();
    const pr = p.getBoundingClientRect();
    if (r.right > pr.right + 0.5 || r.left < pr.left - 0.5)
      overflows.push(
        `${name(e)} [${r.left.toFixed(0)}, ${r.right.toFixed(0)}] in ${name(p)} [${pr.left.toFixed(0)}, ${pr.right.toFixed(0)}]`,
      );
  }
  // A table in its box: the box may scroll, but at these widths it must not need to.
  for (const e of all('.table-wrap'))
    if (e.scrollWidth > e.clientWidth) overflows.push(`${name(e)} scrolls: ${e.scrollWidth} > ${e.clientWidth}`);
  const charts = all('.chart').map((el) => {
    let inked = 0;
    for (const c of all('canvas', el) as unknown as Canvas[]) {
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
      for (let i = 3; i < data.length; i += 4 * 7) if ((data[i] ?? 0) > 0) inked++;
    }
    return { id: el.id, rendered: el.getAttribute('data-rendered') === 'true', inked };
  });
  const ctx = d.createElement('canvas').getContext('2d');
  const axisLabels = all('[data-axis-labels]').map((el) => {
    const a = JSON.parse(el.getAttribute('data-axis-labels') ?? '{}') as {
      slot: number;
      font: string;
      labels: string[];
    };
    if (ctx !== null) ctx.font = a.font;
    const lines = a.labels
      .flatMap((l) => l.split('\n'))
      .map((text) => ({ text, width: ctx?.measureText(text).width ?? Infinity }));
    return { id: el.id, slot: a.slot, lines };
  });
  return {
    scrollWidth: d.documentElement.scrollWidth,
    innerWidth: w.innerWidth,
    overflows,
    charts,
    rendered: d.body.getAttribute('data-charts-rendered'),
    legendValues: all('.u-legend .u-value').map((e) => e.textContent ?? ''),
    axisLabels,
  };
}

async function open(
  page: Page,
  file: string,
  width: number,
): Promise<{ layout: Layout; errors: string[]; requests: string[] }> {
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
  });
  await page.setViewportSize({ width, height: 900 });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-charts-rendered]', { timeout: 20_000 });
  return { layout: await page.evaluate(probeLayout), errors, requests };
}

const PAGES: { name: string; input: () => Promise<HtmlReportInput> | HtmlReportInput; charts: string[] }[] = [
  {
    name: 'compare',
    input: () => compareOf(FIVE),
    charts: ['chart-compare-latency', 'chart-compare-rps', 'chart-latency', 'chart-time', 'chart-time-latency'],
  },
  {
    name: 'compare-8',
    input: () => compareOf(EIGHT),
    charts: ['chart-compare-latency', 'chart-compare-rps', 'chart-latency', 'chart-time', 'chart-time-latency'],
  },
  { name: 'sweep', input: sweepRun, charts: ['chart-latency', 'chart-sweep', 'chart-time', 'chart-time-latency'] },
  {
    name: 'fairness',
    input: fairnessRun,
    charts: ['chart-fairness', 'chart-latency', 'chart-time', 'chart-time-latency'],
  },
  { name: 'replay', input: replayRun, charts: ['chart-latency', 'chart-time', 'chart-time-latency'] },
];

describe.skipIf(chromium === undefined)('HTML report layout in headless Chromium', () => {
  it('fits 1024 and 1400 px: no overflow, every chart drawn, bar labels fit, legends filled; screenshots in /tmp', async () => {
    const files = await Promise.all(
      PAGES.map(async (p) => {
        const file = join(tmpdir(), `ajpbench-html-${p.name}.html`);
        writeFileSync(file, renderHtmlReport({ ...(await p.input()), generatedAt: '2026-01-01T00:00:00.000Z' }));
        return { ...p, file };
      }),
    );
    const seen = await withChromium(async (ctx) => {
      const out: { page: string; width: number; shot: string; layout: Layout; errors: string[]; requests: string[] }[] =
        [];
      for (const p of files) {
        for (const width of WIDTHS) {
          const page = await ctx.newPage();
          const r = await open(page, p.file, width);
          const shot = join(tmpdir(), `ajpbench-html-${p.name}-${width}.png`);
          await page.screenshot({ path: shot, fullPage: true });
          await page.close();
          out.push({ page: p.name, width, shot, ...r });
        }
      }
      return out;
    });
    console.log(`html-layout: screenshots ${seen.map((s) => s.shot).join(' ')}`);
    for (const s of seen) {
      const at = `${s.page} at ${s.width} px`;
      const p = files.find((f) => f.name === s.page);
      expect(s.errors, at).toEqual([]);
      expect(s.requests, at).toEqual([]);
      expect(s.layout.innerWidth, at).toBe(s.width);
      expect(s.layout.scrollWidth, at).toBeLessThanOrEqual(s.layout.innerWidth);
      expect(s.layout.overflows, at).toEqual([]);
      expect(s.layout.charts.map((c) => c.id).sort(), at).toEqual(p?.charts);
      for (const c of s.layout.charts) {
        expect(c, `${at}: ${c.id}`).toMatchObject({ rendered: true });
        expect(c.inked, `${at}: ${c.id} has lines on its canvas`).toBeGreaterThan(200);
      }
      expect(s.layout.rendered, at).toBe(String(p?.charts.length));
      // uPlot shows "--" until the cursor is over a chart; these legends show a value.
      expect(s.layout.legendValues.length, at).toBeGreaterThan(0);
      expect(
        s.layout.legendValues.filter((v) => v === '--' || v === ''),
        at,
      ).toEqual([]);
      for (const a of s.layout.axisLabels) {
        for (const l of a.lines) expect(l.width, `${at}: ${a.id} label "${l.text}"`).toBeLessThanOrEqual(a.slot);
      }
    }
    // The five targets' bar labels are whole (wrapped, not cut); the eight long ones are cut but keep a readable start and end.
    const labels = (page: string): Layout['axisLabels'] =>
      seen.filter((s) => s.page === page).flatMap((s) => s.layout.axisLabels);
    expect(
      labels('compare')
        .map((a) => a.id)
        .sort(),
    ).toEqual(['chart-compare-latency', 'chart-compare-latency', 'chart-compare-rps', 'chart-compare-rps']);
    for (const a of labels('compare')) expect(a.lines.map((l) => l.text).join('\n')).not.toContain('…');
    for (const a of labels('compare-8')) {
      expect(a.lines.some((l) => l.text.includes('…'))).toBe(true);
      expect(a.lines.length).toBeLessThanOrEqual(8 * 3);
      expect(a.lines.every((l) => l.text.replace('…', '').length >= 4)).toBe(true);
    }
  }, 120_000);
});
