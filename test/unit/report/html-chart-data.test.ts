/**
 * The data the HTML report's page draws (src/report/page/chart-data.ts): runs laid end to end
 * break between rounds, a run's partial last second is not drawn as a rate, bar labels drop the
 * part all names share; and the page is one file with its compiled script inlined.
 */
import { describe, expect, it } from 'vitest';
import type { ReplayOptions, ReplayOutcome } from '../../../src/load/replay.js';
import { ReplayResults } from '../../../src/load/replay-results.js';
import { parseTarget } from '../../../src/load/target.js';
import type { HtmlReportInput } from '../../../src/report/html-input.js';
import { renderHtmlReport, segmentsOf } from '../../../src/report/html-report.js';
import { categoryLabels, chartData, runSeries, segmentsFor } from '../../../src/report/page/chart-data.js';
import type { PageData } from '../../../src/report/page/page-data.js';
import { poolReports } from '../../../src/results/merge-results.js';
import { compare } from '../../../src/verdict/compare.js';
import { fairnessVerdict, parseExpect } from '../../../src/verdict/fairness.js';
import { buildReport, steady, type SyntheticRequest } from '../verdict/report-fixture.js';

/** `rate`/s for `seconds`, then a few in-flight requests finishing just after: the last second is partial, as in a real run. */
function round(rate: number, seconds: number, p99Us = 5000): ReturnType<typeof buildReport> {
  const tail: SyntheticRequest[] = Array.from({ length: 3 }, (_, i) => ({
    atMs: seconds * 1000 + 5 + i * 5,
    latencyMs: 4,
  }));
  const r = buildReport([...steady(rate * seconds, seconds, [2, 3, 4]), ...tail]);
  for (const s of r.throughput.series) s.p99Us = p99Us;
  return r;
}

const base: ReplayOptions = {
  trace: 't.jsonl',
  targets: [],
  model: 'closed',
  concurrency: 1,
  limits: { warmupMs: 0, durationMs: 1000, requests: Infinity },
};

describe('per-second series', () => {
  it('a run that ended part way through its last second: that second is no rate', () => {
    const r = round(100, 10);
    expect(r.throughput.series).toHaveLength(11);
    expect(r.measuredMs).toBe(10_015);
    const s = runSeries(r, segmentsOf([r]));
    expect(s.x).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s.responses.slice(0, 10)).toEqual(Array(10).fill(100));
    expect(s.responses[10]).toBeNull();
    expect(s.errors[10]).toBeNull();
    // A latency, not a count: kept.
    expect(s.p99?.[10]).toBe(5);
    expect(s.summary.p99Ms).toBeGreaterThan(0);
  });

  it('a last second covered whole is kept; covered mostly, its count is scaled to a second', () => {
    const r = buildReport(steady(1000, 10, [2]), { measuredMs: 10_000 });
    const s = runSeries(r, segmentsOf([r]));
    expect(s.responses).toEqual(Array(10).fill(100));
    expect(s.p99).not.toBeNull();
    // 80 responses in the 0.8 s the run lasted into its last second: 100/s, not a drop to 80.
    const short = buildReport(steady(980, 9.8, [2]), { measuredMs: 9800 });
    const t = runSeries(short, segmentsOf([short]));
    expect(t.responses).toHaveLength(10);
    expect(t.responses[9]).toBeCloseTo(100, 6);
  });

  it('segments laid end to end get a null point between them, and never a drop', () => {
    const rounds = [round(100, 10), round(120, 10), round(90, 10)];
    const pooled = poolReports(rounds.map((report, i) => ({ name: `round ${i + 1}`, report })));
    const s = runSeries(pooled, segmentsOf(rounds));
    expect(s.x).toHaveLength(33 + 2);
    expect(s.x[11]).toBe(10.5);
    expect(s.x[23]).toBe(21.5);
    expect([s.responses[11], s.responses[23]]).toEqual([null, null]);
    const values = s.responses.filter((v): v is number => v !== null);
    expect(Math.min(...values)).toBe(90);
    // The line is broken after every round's partial last second.
    expect(s.responses.map((v, i) => (v === null ? i : -1)).filter((i) => i >= 0)).toEqual([10, 11, 22, 23, 34]);
  });

  it('segments: given ones win; a compare target splits evenly into its rounds; otherwise one run', () => {
    const r = round(100, 10);
    const pooled = poolReports([
      { name: 'round 1', report: r },
      { name: 'round 2', report: round(100, 10) },
    ]);
    expect(pooled.measuredMs).toBe(2 * r.measuredMs);
    expect(segmentsFor({ name: 'a', report: pooled }, 2)).toEqual([
      { seconds: 11, measuredMs: r.measuredMs },
      { seconds: 11, measuredMs: r.measuredMs },
    ]);
    expect(
      segmentsFor(
        {
          name: 'a',
          report: pooled,
          segments: [
            { seconds: 12, measuredMs: 12_000 },
            { seconds: 10, measuredMs: 9000 },
          ],
        },
        2,
      ),
    ).toEqual([
      { seconds: 12, measuredMs: 12_000 },
      { seconds: 10, measuredMs: 9000 },
    ]);
    // Given segments that do not add up to the series are ignored.
    expect(segmentsFor({ name: 'a', report: pooled, segments: [{ seconds: 5, measuredMs: 5000 }] }, null)).toEqual([
      { seconds: 22, measuredMs: pooled.measuredMs },
    ]);
    expect(segmentsFor({ name: 'a', report: pooled }, 3)).toEqual([{ seconds: 22, measuredMs: pooled.measuredMs }]);
    expect(segmentsFor({ name: 'a', report: pooled }, null)).toHaveLength(1);
  });
});

describe('a compare of five targets', () => {
  it('each target breaks between its rounds; no second inside a round is drawn as a drop', async () => {
    const labels = [
      'http://10.0.0.11:8080/app',
      'http://10.0.0.12:8080/app',
      'http://10.0.0.13:8080/app',
      'http://10.0.0.14:8080/app',
      'http://10.0.0.15:8080/app',
    ];
    const fake = async (o: ReplayOptions): Promise<ReplayOutcome> => ({
      report: round(100 + 10 * labels.indexOf(o.targets[0]?.label ?? ''), 10),
      results: new ReplayResults([]),
    });
    const r = await compare({ replay: base, targets: labels.map(parseTarget), rounds: 3, replayFn: fake });
    // As compare-command builds it (no segments given).
    const input: HtmlReportInput = {
      title: 't',
      runs: r.targets.map((t) => ({ name: t.target, report: t.pooled })),
      compare: r.summary,
    };
    const d = chartData(input);
    expect(d.time?.endToEnd).toBe(true);
    for (const [i, s] of (d.time?.runs ?? []).entries()) {
      const rate = 100 + 10 * i;
      expect(s.responses.filter((v) => v !== null && v < rate)).toEqual([]);
      expect(s.responses.filter((v) => v === null)).toHaveLength(5);
      expect(s.summary.responsesPerSecond).toBeCloseTo((rate * 30 + 9) / 30.045, 0);
    }
    // A compare stopped in its third round: the first target ran three times, the rest twice.
    const stopped: HtmlReportInput = {
      ...input,
      runs: r.targets.map((t, i) => ({
        name: t.target,
        report: poolReports(
          t.rounds.slice(0, i === 0 ? 3 : 2).map((report, k) => ({ name: `round ${k + 1}`, report })),
        ),
      })),
      compare: { ...r.summary, rounds: 2 },
    };
    const cut = chartData(stopped).time?.runs ?? [];
    expect(cut.map((s) => s.responses.filter((v) => v === null).length)).toEqual([5, 3, 3, 3, 3]);
    expect(d.compare?.targets).toEqual({
      names: labels,
      short: ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14', '10.0.0.15'],
      common: 'http://…:8080/app',
    });
  });
});

describe('categoryLabels', () => {
  it('drops the shared prefix and suffix at a / or :', () => {
    expect(categoryLabels(['http://127.0.0.1/jk', 'http://127.0.0.1/proxy'])).toMatchObject({
      short: ['jk', 'proxy'],
      common: 'http://127.0.0.1/…',
    });
    expect(categoryLabels(['ajp://10.0.0.11:8009', 'ajp://10.0.0.12:8009'])).toMatchObject({
      short: ['10.0.0.11', '10.0.0.12'],
      common: 'ajp://…:8009',
    });
    // Nothing shared at a separator: as they are.
    expect(categoryLabels(['tomcat1', 'tomcat2'])).toMatchObject({ short: ['tomcat1', 'tomcat2'], common: null });
    expect(categoryLabels(['http://a/x', 'ajp://b:8009'])).toMatchObject({
      short: ['http://a/x', 'ajp://b:8009'],
      common: null,
    });
    // A name that is all prefix would become empty: as they are.
    expect(categoryLabels(['http://a/', 'http://a/b'])).toMatchObject({
      short: ['http://a/', 'http://a/b'],
      common: null,
    });
    expect(categoryLabels(['only'])).toMatchObject({ short: ['only'], common: null });
  });
});

describe('renderHtmlReport', () => {
  it('one file: the compiled page script inlined as a module, the data as JSON the page reads', () => {
    const jk = round(100, 10);
    const verdict = fairnessVerdict(
      new Map([
        ['tomcat1', 520],
        ['tomcat2', 480],
      ]),
      parseExpect('tomcat1=1,tomcat2=1'),
    );
    const input: HtmlReportInput = {
      title: 'a <b> report',
      runs: [{ name: 'http://127.0.0.1/jk', report: jk }],
      fairness: { target: 'x', verdict },
    };
    const html = renderHtmlReport(input);
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/i);
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => m[1])).toEqual([' type="application/json" id="ajpbench-data"', '', ' type="module"']);
    // The compiled page (not a template string): reads the blob, marks the body when done.
    expect(scripts[2]?.[2]).toContain("getElementById('ajpbench-data')");
    expect(scripts[2]?.[2]).toContain('data-charts-rendered');
    const data = JSON.parse(scripts[0]?.[2] ?? '') as PageData;
    expect(data).toEqual(JSON.parse(JSON.stringify(chartData(input))));
    expect(data.fairness?.focus).toBe(verdict.workers.findIndex((w) => w.worker === verdict.largestDeviation?.worker));
    expect(html).toContain('<title>a &lt;b&gt; report</title>');
    // Tables sit in a box that scrolls on its own rather than widening the page.
    expect(html).toMatch(/<div class="table-wrap"><table class="num">/);
  });
});
