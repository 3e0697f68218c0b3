/** The generator's figures reach every table and the HTML report, and a generator-bound run says so in each. */
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../../src/report/html-report.js';
import { renderReplayTable } from '../../../src/report/replay-table.js';
import { renderCompareTable } from '../../../src/report/verdict-tables.js';
import { GENERATOR_BOUND, generatorWarning, judgeGenerator } from '../../../src/results/generator-report.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { summarize } from '../../../src/verdict/compare.js';
import { buildReport, steady } from '../verdict/report-fixture.js';

function run(cpuShare: number): ReplayReport {
  const r = buildReport(steady(100, 1, [5]), { measuredMs: 1000 });
  const generator = judgeGenerator(
    { threads: 1, wallMs: 1000, cpuMs: cpuShare * 1000, cpuShare, eventLoopDelayUs: { p50: 5, p99: 50, max: 90 } },
    5000,
    0,
    100,
  );
  const w = generatorWarning(generator);
  return { ...r, generator, warnings: w === undefined ? r.warnings : [w, ...r.warnings] };
}

describe('generator figures in the reports', () => {
  it('the replay table has a generator row, and the bound line among the warnings', () => {
    const idle = renderReplayTable(run(0.3));
    expect(idle).toMatch(/generator\s*│?\s*CPU 30% of 1 core, event-loop delay p99 0\.05 ms/);
    expect(idle).not.toContain(GENERATOR_BOUND);
    const bound = renderReplayTable(run(0.97));
    expect(bound).toContain(`! ${GENERATOR_BOUND} (CPU 97% of its 1 core (above 90%))`);
  });
  it('compare names the generator-bound targets under its table', () => {
    const t = (name: string, r: ReplayReport) => ({
      target: name,
      rounds: [r],
      pooled: r,
      rpsByRound: [r.requests.perSecond],
      p99ByRoundUs: [r.latency.timeToCompleteUs.p99],
    });
    const text = renderCompareTable(summarize([t('ajp://a', run(0.3)), t('ajp://b', run(0.95))], 1));
    expect(text).toContain('gen CPU');
    expect(text).toMatch(/30%/);
    expect(text).toMatch(/95% !/);
    expect(text).toContain(`${GENERATOR_BOUND}: ajp://b (! in gen CPU)`);
  });
  it('the HTML report shows the CPU share of each run and the bound line', () => {
    const html = renderHtmlReport({
      title: 't',
      runs: [
        { name: 'idle', report: run(0.3) },
        { name: 'busy', report: run(0.97) },
      ],
    });
    expect(html).toContain('<th>generator CPU</th>');
    expect(html).toContain('<td>30%</td>');
    expect(html).toContain(`97%<br><small>${GENERATOR_BOUND}</small>`);
  });
});
