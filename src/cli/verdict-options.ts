/**
 * Options every load command shares for verdicts and reports: `--threshold` (k6 style, repeatable),
 * `--html`, `--junit` (report too). The commands evaluate thresholds on their final report here,
 * outside the load engine, and turn any failure into exit code 1.
 */
import type { Command } from 'commander';
import type { ReplayReport } from '../results/replay-report.js';
import {
  evaluateThresholds,
  metricName,
  parseThreshold,
  renderThresholds,
  type Threshold,
  type ThresholdResult,
} from '../verdict/threshold.js';
import { renderJUnit, type JUnitCase } from '../verdict/junit.js';
import { renderHtmlReport } from '../report/html-report.js';
import { writeOutput } from './files.js';
import { asFlagParser } from './options.js';

export interface VerdictFlags {
  threshold?: Threshold[];
  html?: string;
  junit?: string;
}

const collectThreshold = (v: string, prev: Threshold[] | undefined): Threshold[] => [
  ...(prev ?? []),
  asFlagParser(parseThreshold)(v),
];

/** --threshold, --html and --junit. */
export function addVerdictOptions(cmd: Command): Command {
  return cmd
    .option(
      '--threshold <expr>',
      "check at the end, k6 style: 'p99<50ms', 'errors<0.1%', 'rps>1000' (repeatable; any failure exits 1)",
      collectThreshold,
    )
    .option('--html <file>', 'write a self-contained HTML report (charts work offline)')
    .option('--junit <file>', 'write the verdicts (thresholds, tests) as JUnit XML for CI');
}

export interface ThresholdOutcome {
  results: ThresholdResult[];
  failed: number;
  text: string;
}

export function checkThresholds(report: ReplayReport, thresholds: Threshold[] | undefined): ThresholdOutcome {
  const results = evaluateThresholds(report, thresholds ?? []);
  return { results, failed: results.filter((r) => !r.pass).length, text: renderThresholds(results) };
}

/** One JUnit test case per threshold. */
export function thresholdCases(results: ThresholdResult[], classname: string): JUnitCase[] {
  return results.map((r) => ({
    name: `threshold ${r.threshold.text}`,
    classname,
    output: r.message,
    ...(r.pass
      ? {}
      : {
          failure: {
            message: r.message,
            type: 'ThresholdFailed',
            details: `${metricName(r.threshold.metric)}: ${r.message}`,
          },
        }),
  }));
}

/**
 * After a load command's run: prints the thresholds, writes --html and --junit, and returns the
 * exit code (1 when a threshold failed).
 */
export function finishLoadVerdicts(report: ReplayReport, flags: VerdictFlags, command: string, name: string): 0 | 1 {
  const t = checkThresholds(report, flags.threshold);
  if (t.text !== '') process.stdout.write(`\n${t.text}`);
  if (flags.html !== undefined) {
    writeOutput(
      flags.html,
      renderHtmlReport({
        title: `ajpbench ${command}: ${name}`,
        subtitle: [`started ${report.startedAt}`],
        runs: [{ name, report }],
        thresholds: t.results,
        ...(t.results.length > 0
          ? { verdict: { pass: t.failed === 0, lines: t.results.filter((r) => !r.pass).map((r) => r.message) } }
          : {}),
      }),
    );
  }
  if (flags.junit !== undefined) {
    writeOutput(
      flags.junit,
      renderJUnit([
        {
          name: `${command} ${name}`,
          timestamp: report.startedAt,
          timeS: report.schedule.elapsedMs / 1000,
          cases: thresholdCases(t.results, `ajpbench.${command}`),
        },
      ]),
    );
  }
  return t.failed > 0 ? 1 : 0;
}
