/**
 * The HTML report opened in headless Chromium (Debian's, driven by playwright-core): every chart
 * renders, with ink on its canvas, and no console error; a full-page screenshot is saved in the
 * test's temp dir (its path is printed) for a person to look at.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HtmlReportInput } from '../../src/report/html-input.js';
import { renderHtmlReport } from '../../src/report/html-report.js';
import { fairnessVerdict, parseExpect } from '../../src/verdict/fairness.js';
import { evaluateThresholds, parseThreshold } from '../../src/verdict/threshold.js';
import { buildReport, steady } from '../unit/verdict/report-fixture.js';
import { chromiumPath, withChromium } from './support/chromium.js';

const chromium = chromiumPath();
if (chromium === undefined && process.env.CI)
  throw new Error('CI is set, so not skipping: chromium is missing; run npm run lab -- install');
if (chromium === undefined) console.warn('html-report: skipped: chromium is not installed (npm run lab -- install)');

function lognormalish(n: number, baseMs: number): number[] {
  // A deterministic long-tailed set: most near base, a tail to ~40x.
  return Array.from(
    { length: n },
    (_, i) => baseMs * (1 + 0.3 * Math.sin(i) ** 2) * (i % 97 === 0 ? 40 : i % 13 === 0 ? 4 : 1),
  );
}

function sampleDocument(): HtmlReportInput {
  const jk = buildReport(
    steady(3000, 10, lognormalish(3000, 2), { route: 'tomcat1' }).map((r, i) => ({
      ...r,
      route: i % 2 === 0 ? 'tomcat1' : 'tomcat2',
    })),
    { measuredMs: 10_000 },
  );
  const proxy = buildReport(
    steady(2400, 10, lognormalish(2400, 3)).map((r, i) => ({
      ...r,
      route: i % 2 === 0 ? 'tomcat1' : 'tomcat2',
      ...(i % 400 === 0 ? { error: 'status-5xx' as const } : {}),
    })),
    { measuredMs: 10_000 },
  );
  // Per-second p99 (a field the results may carry): drawn as latency over time when present.
  for (const [i, s] of jk.throughput.series.entries()) (s as { p99Us?: number }).p99Us = 8000 + 500 * i;
  for (const [i, s] of proxy.throughput.series.entries()) (s as { p99Us?: number }).p99Us = 12_000 + 900 * i;
  const verdict = fairnessVerdict(
    new Map([
      ['tomcat1', 1510],
      ['tomcat2', 1490],
    ]),
    parseExpect('tomcat1=1,tomcat2=1'),
  );
  const thresholds = evaluateThresholds(jk, ['p99<50ms', 'errors<0.1%', 'rps>1000'].map(parseThreshold));
  return {
    title: 'ajpbench: report test',
    subtitle: ['synthetic data, every section'],
    runs: [
      { name: 'http://127.0.0.1/jk', report: jk },
      { name: 'http://127.0.0.1/proxy', report: proxy },
    ],
    thresholds,
    verdict: { pass: false, lines: thresholds.filter((t) => !t.pass).map((t) => t.message) },
    fairness: {
      target: 'http://127.0.0.1/jk',
      verdict,
      jkStatus: [
        { worker: 'tomcat1', count: 1512 },
        { worker: 'tomcat2', count: 1488 },
      ],
      sticky: { sessions: 20, followUps: 200, violations: [] },
    },
    compare: {
      rounds: 3,
      targets: [
        {
          name: 'http://127.0.0.1/jk',
          rps: 300,
          rpsMin: 290,
          rpsMax: 310,
          p50Us: 2100,
          p90Us: 2600,
          p99Us: 8000,
          p999Us: 80_000,
          maxUs: 90_000,
          p99MinUs: 7500,
          p99MaxUs: 8600,
          errors: 0,
          total: 9000,
          bytesReceived: 9_000_000,
          rpsRatio: null,
          p99Ratio: null,
          withinNoise: null,
        },
        {
          name: 'http://127.0.0.1/proxy',
          rps: 240,
          rpsMin: 236,
          rpsMax: 251,
          p50Us: 3100,
          p90Us: 3900,
          p99Us: 12_000,
          p999Us: 120_000,
          maxUs: 130_000,
          p99MinUs: 11_000,
          p99MaxUs: 13_000,
          errors: 18,
          total: 7200,
          bytesReceived: 7_200_000,
          rpsRatio: 0.8,
          p99Ratio: 1.5,
          withinNoise: { rps: false, p99: false },
        },
        {
          name: 'ajp://127.0.0.1:8009',
          rps: 305,
          rpsMin: 295,
          rpsMax: 312,
          p50Us: 1900,
          p90Us: 2400,
          p99Us: 7800,
          p999Us: 70_000,
          maxUs: 75_000,
          p99MinUs: 7400,
          p99MaxUs: 8200,
          errors: 0,
          total: 9150,
          bytesReceived: 9_150_000,
          rpsRatio: 1.02,
          p99Ratio: 0.98,
          withinNoise: { rps: true, p99: true },
        },
      ],
    },
    sweep: {
      loadKind: 'concurrency',
      steps: [1, 2, 4, 8, 16, 32, 64].map((c) => {
        const throughput = Math.min(c * 250, 1500) * (c > 16 ? 0.97 : 1);
        return {
          load: c,
          throughput,
          p50Us: (c / throughput) * 1e6 * 0.8,
          p99Us: (c / throughput) * 1e6 * 1.5,
          errors: 0,
          total: Math.round(throughput * 5),
        };
      }),
      knee: 3,
      advice: ['The knee is at concurrency 8: about 8 requests in flight.'],
    },
  };
}

/** Runs in the page (a string: this project compiles without the DOM types): each chart, and how much of its canvas is inked. */
const INSPECT_CHARTS = `(() => {
  const out = [];
  for (const el of Array.from(document.querySelectorAll('.chart'))) {
    let inked = 0;
    const canvases = Array.from(el.querySelectorAll('canvas'));
    for (const c of canvases) {
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < data.length; i += 4 * 7) if (data[i] > 0) inked++;
    }
    out.push({ id: el.id, rendered: el.getAttribute('data-rendered') === 'true', canvases: canvases.length, inked });
  }
  return { charts: out, count: document.body.getAttribute('data-charts-rendered') };
})()`;

describe.skipIf(chromium === undefined)('HTML report in headless Chromium', () => {
  it('renders every chart without console errors; screenshot saved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ajpbench-html-'));
    const file = join(dir, 'report.html');
    const html = renderHtmlReport(sampleDocument());
    writeFileSync(file, html);
    // Self-contained: no external script, stylesheet or font.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/i);
    const shot = join(dir, 'report.png');
    const result = await withChromium(async (ctx) => {
      const page = await ctx.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
      });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      await page.waitForSelector('body[data-charts-rendered]', { timeout: 20_000 });
      const charts = await page.evaluate<{
        charts: { id: string; rendered: boolean; canvases: number; inked: number }[];
        count: string | null;
      }>(INSPECT_CHARTS);
      await page.screenshot({ path: shot, fullPage: true });
      return { errors, requests, ...charts };
    });
    console.log(`html-report: screenshot ${shot}`);
    expect(result.errors).toEqual([]);
    expect(result.requests).toEqual([]);
    const ids = result.charts.map((c) => c.id).sort();
    expect(ids).toEqual([
      'chart-compare-latency',
      'chart-compare-rps',
      'chart-fairness',
      'chart-latency',
      'chart-sweep',
      'chart-time',
      'chart-time-latency',
    ]);
    for (const c of result.charts) {
      expect(c, c.id).toMatchObject({ rendered: true, canvases: 1 });
      expect(c.inked, `${c.id} has lines on its canvas`).toBeGreaterThan(200);
    }
    expect(result.count).toBe('7');
  }, 90_000);
});
