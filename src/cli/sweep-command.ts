/** `ajpbench sweep`: step the load up and find the knee (docs/verdicts.md "Sweep and the knee"). */
import { Command, InvalidArgumentError } from 'commander';
import { MAX_CONCURRENCY, MAX_RATE_PER_SECOND } from '../load/limits.js';
import { noResponseError } from '../load/no-response.js';
import { renderSweep } from '../report/verdict-tables.js';
import type { HtmlReportInput } from '../report/html-input.js';
import { renderHtmlReport } from '../report/html-report.js';
import { DEFAULT_LATENCY_FACTOR, DEFAULT_MIN_GAIN } from '../verdict/knee.js';
import { parseSteps, sweep, type SweepMode, type SweepResult } from '../verdict/sweep.js';
import { renderJUnit, type JUnitSuite } from '../verdict/junit.js';
import { ExitCode, runtimeError, usageError } from './exit-codes.js';
import type { RunContext } from './run-context.js';
import { asFlagParser, parseConcurrency, parseDuration } from './options.js';
import { addLoadOptions, applyProfile, loadOptions, runLine, runLoad, type LoadFlags } from './load-flags.js';
import type { ReplayOptions } from '../load/replay.js';
import { writeOutput } from './files.js';
import { checkThresholds, thresholdCases } from './verdict-options.js';
import type { VerdictDocument } from '../results/verdict-document.js';

/** Sweep steps --concurrency itself, and has no --rate, --timing or --speed. */
interface SweepFlags extends Omit<LoadFlags, 'concurrency' | 'rate' | 'timing' | 'speed'> {
  concurrency?: number[];
  rates?: number[];
  inFlight: number;
  pause: number;
  minGain: number;
  latencyFactor: number;
}

function positiveNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n > 0)) throw new InvalidArgumentError(`${flag} takes a number above zero, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function sweepCommand(ctx: RunContext): Command {
  const cmd = sweepDefinition();
  return cmd.action(async (trace: string, flags: SweepFlags) => {
    // A profile's one concurrency is not a list of steps: sweep's --concurrency stays as given.
    applyProfile(cmd, flags, ['concurrency']);
    const { mode, steps } = stepsFrom(flags);
    const replay = loadOptions(trace, stepFlags(flags, mode), { durationMs: 10_000 });
    const result = await runLoad('sweep', trace, flags, (signal) => runSweep(replay, mode, steps, flags, signal));
    if (result.steps.every((s) => s.report.schedule.sent === 0))
      throw runtimeError('sweep was stopped before it measured anything', 'AJPBENCH_ERR_INTERRUPTED');
    const verdict = stepThresholds(result, mode, flags.threshold);
    const text = renderSweep(result) + verdict.text;
    process.stdout.write(text);
    const name = replay.targets.map((t) => t.label).join(' + ');
    writeSweep(result, flags, { trace, mode, steps, name, text, verdict });
    // Everything measured is out; a sweep in which no step got a response measured nothing but the failure.
    const failures = result.steps.map((s) => noResponseError(s.report, name));
    const first = failures[0];
    if (first !== undefined && failures.every((f) => f !== undefined)) throw first;
    ctx.exitCode = verdict.pass ? ExitCode.Ok : ExitCode.VerdictFailed;
  });
}

function sweepDefinition(): Command {
  const cmd = new Command('sweep')
    .summary('step the load up and find the knee (where throughput stops growing and p99 jumps)')
    .description(
      'Runs the trace once per step, stepping up closed-loop concurrency (--concurrency 1,2,4,...,256) or the open-loop ' +
        'rate (--rates 100,200,...,1000), and finds the knee: the step after which throughput stops growing (less than ' +
        `${DEFAULT_MIN_GAIN} of the added load comes out as throughput) while p99 grows ${DEFAULT_LATENCY_FACTOR}x or more. ` +
        'Prints the steps, the knee and what it means for sizing (Apache MaxRequestWorkers / ThreadsPerChild, mod_jk ' +
        "connection_pool_size, Tomcat's AJP connector maxThreads). Each step is one replay (--duration or --requests; " +
        'default 10 s; the trace is cycled). Steps where every request failed take no part in the knee; a sweep in which no ' +
        'step got a response exits 3 after printing. Ctrl-C keeps the steps run so far.\n\n' +
        'Example: ajpbench sweep trace.jsonl --target ajp://127.0.0.1:8009 --concurrency 1,2,4,...,128 --duration 10s',
    )
    .argument('<trace>', 'the trace file (.jsonl)')
    .option(
      '--concurrency <steps>',
      `closed-loop steps: 1,2,4,8 or 1,2,...,256 (doubling) or 10,20,...,100 (whole numbers, 1-${MAX_CONCURRENCY})`,
      asFlagParser((v) => parseSteps(v, '--concurrency', { max: MAX_CONCURRENCY, integer: true })),
    )
    .option(
      '--rates <steps>',
      `open-loop steps in requests/s: 100,200,...,1000 (at most ${MAX_RATE_PER_SECOND})`,
      asFlagParser((v) => parseSteps(v, '--rates', { max: MAX_RATE_PER_SECOND })),
    )
    .option(
      '--in-flight <n>',
      `with --rates: most requests in flight (= connections; 1-${MAX_CONCURRENCY})`,
      parseConcurrency('--in-flight'),
      256,
    )
    .option('--pause <duration>', 'pause between steps', (v) => parseDuration(v, '--pause', { zero: true }), 1000)
    .option(
      '--min-gain <share>',
      'knee: the gain below which throughput counts as flat',
      positiveNumber('--min-gain'),
      DEFAULT_MIN_GAIN,
    )
    .option(
      '--latency-factor <x>',
      'knee: the p99 growth that counts as sharp',
      positiveNumber('--latency-factor'),
      DEFAULT_LATENCY_FACTOR,
    );
  return addLoadOptions(cmd, ['--json', '--hgrm', '--concurrency', '--rate', '--timing', '--speed']).option(
    '--json <file>',
    'write the steps (each with its full results) and the knee as JSON',
  );
}

/** --concurrency steps (closed loop) or --rates steps (open loop): one of the two. */
function stepsFrom(flags: SweepFlags): { mode: SweepMode; steps: number[] } {
  if (flags.concurrency !== undefined && flags.rates === undefined)
    return { mode: 'concurrency', steps: flags.concurrency };
  if (flags.rates !== undefined && flags.concurrency === undefined) return { mode: 'rate', steps: flags.rates };
  throw usageError('sweep needs one of --concurrency 1,2,4,... or --rates 100,200,...');
}

/** Every step is a closed-loop replay; sweep() sets its concurrency, or its rate with --in-flight connections. */
function stepFlags(flags: SweepFlags, mode: SweepMode): LoadFlags {
  return { ...flags, concurrency: mode === 'rate' ? flags.inFlight : 1, rate: undefined, timing: 'closed', speed: 1 };
}

function runSweep(
  replay: ReplayOptions,
  mode: SweepMode,
  steps: number[],
  flags: SweepFlags,
  signal: AbortSignal,
): Promise<SweepResult> {
  return sweep({
    replay: { ...replay, onIssue: (m) => process.stderr.write(`sweep: ${m}\n`) },
    mode,
    steps,
    knee: { minGain: flags.minGain, latencyFactor: flags.latencyFactor },
    pauseMs: flags.pause,
    signal,
    onStep: (i, load, r) => {
      if (flags.progress) process.stderr.write(`sweep: step ${i + 1}/${steps.length} ${mode} ${load}: ${runLine(r)}\n`);
    },
  });
}

interface StepVerdict {
  /** Printed after the sweep table (empty without --threshold). */
  text: string;
  pass: boolean;
  suites: JUnitSuite[];
}

/**
 * Thresholds per step: the sweep passes when at least its first step meets them all, and the
 * highest step that does is the load the setup carries within them.
 */
function stepThresholds(result: SweepResult, mode: SweepMode, thresholds: SweepFlags['threshold']): StepVerdict {
  if (thresholds === undefined) return { text: '', pass: true, suites: [] };
  const perStep = result.steps.map((s) => ({ s, t: checkThresholds(s.report, thresholds) }));
  const ok = perStep.filter((x) => x.t.failed === 0).map((x) => x.s.load);
  const failedNames = (x: (typeof perStep)[number]): string =>
    x.t.results
      .filter((r) => !r.pass)
      .map((r) => r.threshold.text)
      .join(', ');
  const line = perStep.map((x) => `${x.s.load} ${x.t.failed === 0 ? 'pass' : `FAIL (${failedNames(x)})`}`).join('; ');
  const highest =
    ok.length === 0
      ? 'No step meets every threshold.\n'
      : `Highest step meeting every threshold: ${mode} ${Math.max(...ok)}\n`;
  return {
    text: `\nThresholds per step: ${line}\n${highest}`,
    pass: perStep[0]?.t.failed === 0,
    suites: perStep.map((x) => ({
      name: `sweep ${mode} ${x.s.load}`,
      timestamp: x.s.report.startedAt,
      cases: thresholdCases(x.t.results, 'ajpbench.sweep'),
    })),
  };
}

/** --html, --junit and --json. */
function writeSweep(
  result: SweepResult,
  flags: SweepFlags,
  run: { trace: string; mode: SweepMode; steps: number[]; name: string; text: string; verdict: StepVerdict },
): void {
  const { mode, verdict } = run;
  const html: HtmlReportInput = {
    title: `ajpbench sweep: ${run.name}`,
    subtitle: [`trace ${run.trace}`, `${mode} ${run.steps.join(', ')}`],
    runs: result.steps.map((s) => ({ name: `${mode} ${s.load}`, report: s.report })),
    sweep: result.summary,
    ...(flags.threshold === undefined ? {} : { verdict: { pass: verdict.pass, lines: [] } }),
  };
  if (flags.html !== undefined) writeOutput(flags.html, renderHtmlReport(html));
  if (flags.junit !== undefined) writeOutput(flags.junit, renderJUnit(verdict.suites));
  if (flags.json !== undefined) {
    const doc: VerdictDocument = {
      kind: 'ajpbench-sweep',
      version: 1,
      pass: verdict.pass,
      result: {
        mode,
        knee: result.knee,
        advice: result.advice,
        stoppedEarly: result.stoppedEarly,
        steps: result.steps,
      },
      text: run.text,
      html,
    };
    writeOutput(flags.json, JSON.stringify(doc) + '\n');
  }
}
