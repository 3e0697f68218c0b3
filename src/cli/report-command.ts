/**
 * `ajpbench report results.json [more.json ...]`: prints (and with --html draws) what a run wrote
 * with --json. Several replay results are merged as the runs of several generators: histograms
 * merged, counts summed, rates summed over the common window (src/results/merge-results.ts).
 * Result files of compare, fairness and sweep are drawn as they are.
 */
import { basename } from 'node:path';
import { Command } from 'commander';
import type { HtmlReportInput } from '../report/html-input.js';
import { renderHtmlReport } from '../report/html-report.js';
import { mergeReports, type MergedReport } from '../results/merge-results.js';
import type { ReplayReport } from '../results/replay-report.js';
import { readResultsFile } from '../results/results-file.js';
import { renderReplayTable } from '../report/replay-table.js';
import { renderJUnit } from '../verdict/junit.js';
import { ExitCode, usageError } from './exit-codes.js';
import type { RunContext } from './run-context.js';
import { writeOutput } from './files.js';
import {
  addVerdictOptions,
  checkThresholds,
  thresholdCases,
  type ThresholdOutcome,
  type VerdictFlags,
} from './verdict-options.js';
import type { VerdictDocument } from '../results/verdict-document.js';

interface ReportFlags extends VerdictFlags {
  json?: string;
  title?: string;
}

type Run = { name: string; report: ReplayReport };

export function reportCommand(ctx: RunContext): Command {
  return reportDefinition().action((files: string[], flags: ReportFlags) => {
    const { runs, docs } = readAll(files);
    if (docs.length > 0 && runs.length > 0)
      throw usageError('give either replay results (to merge) or one compare/fairness/sweep result, not both');
    if (docs.length > 1) throw usageError('one compare/fairness/sweep result at a time');
    const doc = docs[0];
    ctx.exitCode = doc === undefined ? showMerged(runs, flags) : showVerdict(doc.name, doc.doc, flags);
  });
}

function reportDefinition(): Command {
  const cmd = new Command('report')
    .summary('print, merge and draw results files (--json of replay, compare, fairness, sweep)')
    .description(
      'Reads results files written with --json. Several replay results are merged as the runs of several load ' +
        'generators started together (--start-at): latency histograms merged (not averaged), counts summed, rates ' +
        'summed over the window the runs have in common. --html writes one self-contained page with the charts ' +
        '(latency percentile curve, throughput over time, per-worker shares, compare, sweep with its knee).\n\n' +
        'Example: ajpbench report gen-0.json gen-1.json gen-2.json --html report.html',
    )
    .argument('<results...>', 'results files (.json)')
    .option('--json <file>', 'write the merged results (same format as replay --json)')
    .option('--title <text>', 'title of the HTML report');
  return addVerdictOptions(cmd);
}

/** Every file is read and checked before anything is printed or written. */
function readAll(files: string[]): { runs: Run[]; docs: { name: string; doc: VerdictDocument }[] } {
  const runs: Run[] = [];
  const docs: { name: string; doc: VerdictDocument }[] = [];
  for (const file of files) {
    const r = readResultsFile(file);
    if (r.kind === 'replay') runs.push({ name: basename(file), report: r.report });
    else docs.push({ name: basename(file), doc: r.doc });
  }
  return { runs, docs };
}

/** A compare, fairness or sweep result: printed and drawn as it is, with its own verdict. */
function showVerdict(name: string, doc: VerdictDocument, flags: ReportFlags): ExitCode {
  process.stdout.write(doc.text);
  if (flags.html !== undefined)
    writeOutput(flags.html, renderHtmlReport({ ...doc.html, title: flags.title ?? doc.html.title }));
  if (flags.json !== undefined) writeOutput(flags.json, JSON.stringify(doc, null, 2) + '\n');
  if (flags.threshold !== undefined)
    throw usageError(`--threshold applies to replay results; ${name} holds a ${doc.kind} verdict`);
  return doc.pass ? ExitCode.Ok : ExitCode.VerdictFailed;
}

/** Replay results, merged: the table, the thresholds, and --json, --html, --junit. */
function showMerged(runs: Run[], flags: ReportFlags): ExitCode {
  const merged: MergedReport = mergeReports(runs);
  if (runs.length > 1) process.stdout.write(renderMergeHeader(merged));
  process.stdout.write(renderReplayTable(merged, { color: process.stdout.isTTY === true }));
  const t = checkThresholds(merged, flags.threshold);
  if (t.text !== '') process.stdout.write(`\n${t.text}`);
  if (flags.json !== undefined) writeOutput(flags.json, JSON.stringify(merged, null, 2) + '\n');
  if (flags.html !== undefined) writeOutput(flags.html, renderHtmlReport(mergedHtml(runs, merged, t, flags.title)));
  if (flags.junit !== undefined)
    writeOutput(
      flags.junit,
      renderJUnit([
        { name: 'report', timestamp: merged.startedAt, cases: thresholdCases(t.results, 'ajpbench.report') },
      ]),
    );
  return t.failed > 0 ? ExitCode.VerdictFailed : ExitCode.Ok;
}

function mergedHtml(
  runs: Run[],
  merged: MergedReport,
  t: ThresholdOutcome,
  title: string | undefined,
): HtmlReportInput {
  return {
    title:
      title ?? (runs.length > 1 ? `ajpbench: ${runs.length} runs merged` : `ajpbench: ${runs[0]?.name ?? 'results'}`),
    subtitle:
      runs.length > 1
        ? [`merged: ${runs.map((r) => r.name).join(', ')}`, mergeLine(merged)]
        : [`started ${merged.startedAt}`],
    runs: runs.length > 1 ? [{ name: 'merged', report: merged }, ...runs] : runs,
    thresholds: t.results,
    ...(t.results.length > 0
      ? { verdict: { pass: t.failed === 0, lines: t.results.filter((r) => !r.pass).map((r) => r.message) } }
      : {}),
  };
}

function mergeLine(m: MergedReport): string {
  const w = m.merge.window;
  return w === null
    ? 'the runs do not overlap in time'
    : `common window ${new Date(w.startMs).toISOString()} – ${new Date(w.endMs).toISOString()} (${((w.endMs - w.startMs) / 1000).toFixed(1)} s)`;
}

function renderMergeHeader(m: MergedReport): string {
  const lines = [`Merged ${m.merge.runs.length} runs; ${mergeLine(m)}`];
  for (const r of m.merge.runs)
    lines.push(
      `  ${r.name}: ${r.rate.toFixed(1)} responses/s${r.seconds > 0 ? ` over ${r.seconds} s in the common window` : ' (its own rate)'}`,
    );
  lines.push(`  sum: ${m.requests.perSecond.toFixed(1)} responses/s`);
  return lines.join('\n') + '\n\n';
}
