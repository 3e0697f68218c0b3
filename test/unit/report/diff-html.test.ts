/**
 * The diff section of the HTML report: its tables hold the counts, the differences and the noise
 * with their examples (escaped), and laid out in headless Chromium at 1024 and 1400 px nothing is
 * wider than the window and the page script runs without an error. Skipped without Chromium.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../src/report/html-report.js';
import type { ObservedResponse } from '../../../src/trace/observed-response.js';
import { DiffEngine } from '../../../src/verdict/diff/diff-engine.js';
import type { DiffReport } from '../../../src/verdict/diff/diff-run.js';
import { evaluateDiffThresholds, parseThreshold } from '../../../src/verdict/threshold.js';
import { chromiumPath, withChromium } from '../../e2e/support/chromium.js';
import { json, response } from '../verdict/diff/responses.js';

const chromium = chromiumPath();

function diffReport(): DiffReport {
  const engine = new DiffEngine({ secondary: true });
  const page = (node: string, token: string, extra: Record<string, unknown> = {}): ObservedResponse =>
    json({ node, token, ...extra }, [['X-Served-By', node]]);
  for (let i = 0; i < 30; i++) {
    const uri = `/shop/${i % 3 === 0 ? 'very-long-category-name-that-goes-on-and-on' : 'item'}/${i}/detail`;
    engine.compare({
      id: i,
      uri,
      primary: page('tomcat1', `t${i}`, { price: 10, html: `<b>${'x'.repeat(300)}</b>` }),
      secondary: page('tomcat2', `u${i}`, { price: 10, html: `<b>${'x'.repeat(300)}</b>` }),
      candidate: page('tomcat3', `v${i}`, { price: i % 2 === 0 ? 11 : 10, html: `<i>${'y'.repeat(300)}</i>` }),
    });
  }
  engine.compare({
    id: 99,
    uri: '/t',
    primary: response('a\nb\n', [['Content-Type', 'text/plain']]),
    candidate: { error: 'connect: connection refused' },
  });
  engine.drop('primary gave no answer: reset');
  return {
    file: 'captures/production-2026-11-27.trace.jsonl',
    sample: 0.1,
    summary: engine.summary(),
    targets: {
      primary: 'ajp://10.0.0.1:8009',
      candidate: 'http://candidate.internal.example:8080/app',
      secondary: 'ajp://10.0.0.2:8009',
    },
    trace: { exchanges: 40, sampledOut: 8, skippedMalformed: 0, skippedTruncated: 0, unreadableLines: 0 },
    answered: { primary: 31, candidate: 30, secondary: 31 },
    sent: 32,
    stoppedBy: 'end of trace',
    startedAt: '2026-01-01T00:00:00.000Z',
    elapsedMs: 1234,
  };
}

function page(): string {
  const d = diffReport();
  const thresholds = evaluateDiffThresholds(d.summary, [parseThreshold('diffs<0.1%')]);
  return renderHtmlReport({
    title: 'ajpbench diff: http://candidate.internal.example:8080/app against ajp://10.0.0.1:8009',
    runs: [],
    diff: d,
    thresholds,
    verdict: { pass: false, lines: thresholds.map((t) => t.message) },
    generatedAt: '2026-01-01T00:00:00.000Z',
  });
}

describe('the diff section of the HTML report', () => {
  it('holds the counts, the differences and the noise with escaped examples', () => {
    const html = page();
    expect(html).toContain('Differences: candidate against primary');
    expect(html).toContain('<code>body:<wbr>$<wbr>.price</code>');
    expect(html).toContain('Noise (not counted)');
    expect(html).toContain('<code>header:<wbr>x-served-by</code>');
    expect(html).toContain('&lt;b&gt;');
    expect(html).not.toContain('<b>xxx');
    expect(html).toContain('connect: connection refused');
    expect(html).toContain('1 primary gave no answer: reset');
  });

  it.skipIf(chromium === undefined)('fits 1024 and 1400 px without overflow or a script error', async () => {
    const file = join(tmpdir(), 'ajpbench-html-diff.html');
    writeFileSync(file, page());
    const seen = await withChromium(async (ctx) => {
      const out: { width: number; errors: string[]; scrollWidth: number; overflowing: string[] }[] = [];
      for (const width of [1024, 1400]) {
        const p = await ctx.newPage();
        const errors: string[] = [];
        p.on('pageerror', (e) => errors.push(e.message));
        p.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        await p.setViewportSize({ width, height: 900 });
        await p.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        await p.waitForSelector('body[data-charts-rendered]', { timeout: 20_000 });
        const r = await p.evaluate(() => {
          const d = (
            globalThis as unknown as {
              document: {
                documentElement: { scrollWidth: number };
                querySelectorAll(s: string): ArrayLike<{ scrollWidth: number; clientWidth: number }>;
              };
            }
          ).document;
          return {
            scrollWidth: d.documentElement.scrollWidth,
            overflowing: Array.from(d.querySelectorAll('.table-wrap'))
              .filter((e) => e.scrollWidth > e.clientWidth)
              .map((e) => `${e.scrollWidth} > ${e.clientWidth}`),
          };
        });
        await p.screenshot({ path: join(tmpdir(), `ajpbench-html-diff-${width}.png`), fullPage: true });
        await p.close();
        out.push({ width, errors, ...r });
      }
      return out;
    });
    for (const s of seen) {
      expect(s.errors, `${s.width}`).toEqual([]);
      expect(s.scrollWidth, `${s.width}`).toBeLessThanOrEqual(s.width);
      expect(s.overflowing, `${s.width}`).toEqual([]);
    }
  });
});
