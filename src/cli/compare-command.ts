/** `ajpbench compare`: one trace, one load model, several targets, interleaved rounds (docs/verdicts.md). */
import { Command } from 'commander';
import { noResponseError } from '../load/no-response.js';
import { RuntimeError } from '../errors.js';
import { MAX_ROUNDS, compare, type CompareResult } from '../verdict/compare.js';
import { renderCompareTable } from '../report/verdict-tables.js';
import type { HtmlReportInput } from '../report/html-input.js';
import { renderHtmlReport } from '../report/html-report.js';
import { renderJUnit, type JUnitSuite } from '../verdict/junit.js';
import { ExitCode, runtimeError, usageError } from './exit-codes.js';
import type { RunContext } from './run-context.js';
import { parseDuration, parseInteger } from './options.js';
import { addLoadOptions, applyProfile, loadOptions, runLine, runLoad, type LoadFlags } from './load-flags.js';
import { writeOutput } from './files.js';
import { checkThresholds, thresholdCases } from './verdict-options.js';
import type { VerdictDocument } from '../results/verdict-document.js';

interface CompareFlags extends LoadFlags {
  rounds: number;
  pause: number;
}

export function compareCommand(ctx: RunContext): Command {
  const cmd = compareDefinition();
  return cmd.action(async (trace: string, flags: CompareFlags) => {
    applyProfile(cmd, flags);
    const { targets, ...replay } = loadOptions(trace, flags, { durationMs: 10_000 });
    if (targets.length < 2) throw usageError('compare needs at least two --target');
    const result = await runLoad('compare', trace, flags, (signal) =>
      compare({
        replay: { ...replay, onIssue: (m) => process.stderr.write(`compare: ${m}\n`) },
        targets,
        rounds: flags.rounds,
        pauseMs: flags.pause,
        signal,
        onRun: (round, t, r) => {
          if (flags.progress)
            process.stderr.write(`compare: round ${round + 1}/${flags.rounds} ${t.label}: ${runLine(r)}\n`);
        },
      }),
    );
    if (result.targets.every((t) => t.rounds.every((r) => r.schedule.sent === 0)))
      throw runtimeError('compare was stopped before it measured anything', 'AJPBENCH_ERR_INTERRUPTED');
    const printed = printCompare(result, flags);
    writeCompare(result, flags, trace, printed);
    // Everything measured is out; a target that never answered fails the run.
    const dead = deadTargets(result);
    if (dead !== undefined) throw dead;
    ctx.exitCode = printed.pass ? ExitCode.Ok : ExitCode.VerdictFailed;
  });
}

function compareDefinition(): Command {
  const cmd = new Command('compare')
    .summary('run one trace against several targets in interleaved rounds and compare them side by side')
    .description(
      'Replays the same trace with the same load model against each --target in turn, interleaved in rounds ' +
        '(A B C, A B C, ...) so that the drift of a noisy machine hits all alike. Prints throughput, p50/p90/p99/p99.9/max, ' +
        "errors and bytes side by side, each target's ratio to the first, the spread over the rounds (min-max), and which " +
        'differences lie within that noise. Every round is one full replay (--duration or --requests; default 10 s; the trace is cycled). ' +
        'A target that never answered fails the run (exit 3) after all results are printed; Ctrl-C keeps the rounds run so far.\n\n' +
        'Example (mod_jk vs mod_proxy_http vs AJP direct vs HTTP direct):\n' +
        '  ajpbench compare trace.jsonl --target http://127.0.0.1/jk --target http://127.0.0.1/proxy \\\n' +
        '    --target ajp://127.0.0.1:8009 --target http://127.0.0.1:8080 --rate 200/s --duration 20s --rounds 3',
    )
    .argument('<trace>', 'the trace file (.jsonl)')
    .option(
      '--rounds <n>',
      `rounds (each target runs once per round; 1-${MAX_ROUNDS})`,
      (v) => parseInteger(v, '--rounds', { min: 1, max: MAX_ROUNDS }),
      3,
    )
    .option(
      '--pause <duration>',
      'pause between runs (connections close, the machine settles)',
      (v) => parseDuration(v, '--pause', { zero: true }),
      1000,
    );
  return addLoadOptions(cmd, ['--json', '--hgrm']).option(
    '--json <file>',
    'write the results (per target and round, histograms encoded) as JSON; ajpbench report reads it',
  );
}

interface Printed {
  text: string;
  /** Every threshold passed for every target. */
  pass: boolean;
  failed: number;
  suites: JUnitSuite[];
}

/** The table, what a stop left out, and the thresholds per target. */
function printCompare(result: CompareResult, flags: CompareFlags): Printed {
  let text = renderCompareTable(result.summary);
  if (result.interrupted) {
    text += `  stopped by Ctrl-C after ${result.rounds} complete round${result.rounds === 1 ? '' : 's'}${result.notRun.length > 0 ? `; not run: ${result.notRun.join(', ')}` : ''}\n`;
  }
  const suites: JUnitSuite[] = [];
  let failed = 0;
  if (flags.threshold !== undefined) {
    const parts: string[] = [];
    for (const t of result.targets) {
      const th = checkThresholds(t.pooled, flags.threshold);
      failed += th.failed;
      parts.push(`${t.target}: ${th.text}`);
      suites.push({
        name: `compare ${t.target}`,
        timestamp: t.pooled.startedAt,
        cases: thresholdCases(th.results, 'ajpbench.compare'),
      });
    }
    text += `\n${parts.join('')}`;
  }
  process.stdout.write(text);
  return { text, pass: failed === 0, failed, suites };
}

/** --html, --junit and --json. */
function writeCompare(
  result: CompareResult,
  flags: CompareFlags,
  trace: string,
  { text, pass, failed, suites }: Printed,
): void {
  const html: HtmlReportInput = {
    title: `ajpbench compare: ${result.targets.length} targets`,
    subtitle: [
      `trace ${trace}`,
      `${result.summary.rounds} rounds, interleaved${result.interrupted ? ' (stopped by Ctrl-C)' : ''}`,
    ],
    runs: result.targets.map((t) => ({ name: t.target, report: t.pooled })),
    compare: result.summary,
    ...(flags.threshold === undefined
      ? {}
      : {
          verdict: {
            pass,
            lines: pass ? ['every threshold passed for every target'] : [`${failed} threshold checks failed`],
          },
        }),
  };
  if (flags.html !== undefined) writeOutput(flags.html, renderHtmlReport(html));
  if (flags.junit !== undefined) writeOutput(flags.junit, renderJUnit(suites));
  if (flags.json !== undefined) {
    const doc: VerdictDocument = {
      kind: 'ajpbench-compare',
      version: 1,
      pass,
      result: {
        rounds: result.rounds,
        interrupted: result.interrupted,
        notRun: result.notRun,
        summary: result.summary,
        targets: result.targets.map((t) => ({ target: t.target, rounds: t.rounds })),
      },
      text,
      html,
    };
    writeOutput(flags.json, JSON.stringify(doc) + '\n');
  }
}

/** AJPBENCH_ERR_BACKEND naming every target that got no response in any round, or undefined. */
function deadTargets(result: CompareResult): RuntimeError | undefined {
  // Decided per round (each knows its warmup responses), said over the pooled counts.
  const dead = result.targets.filter(
    (t) =>
      t.rounds.every((r) => r.schedule.sent === 0 || noResponseError(r, t.target) !== undefined) &&
      t.rounds.some((r) => r.schedule.sent > 0),
  );
  const errors = dead.flatMap(
    (t) =>
      noResponseError(
        { ...t.pooled, requests: { ...t.pooled.requests, responses: 0, warmupResponses: 0 } },
        t.target,
      ) ?? [],
  );
  if (errors.length === 0) return undefined;
  return new RuntimeError(errors.map((e) => e.message).join('; '), 'AJPBENCH_ERR_BACKEND');
}
