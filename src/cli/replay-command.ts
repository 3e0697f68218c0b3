/** `ajpbench replay`: replays a trace against AJP or HTTP targets as a load test (docs/replay.md). */
import { Command } from 'commander';
import { runFailure } from '../load/no-response.js';
import { replayParallel, type ParallelOutcome } from '../load/parallel-replay.js';
import type { ReplayOptions } from '../load/replay.js';
import { decodeHistogram } from '../results/latency-histogram.js';
import { progressLine, renderHgrm, renderReplayTable } from '../report/replay-table.js';
import { ExitCode } from './exit-codes.js';
import { writeOutput } from './files.js';
import { addLoadOptions, applyProfile, runLoad, toReplayOptions, type LoadFlags } from './load-flags.js';
import type { RunContext } from './run-context.js';
import { finishLoadVerdicts } from './verdict-options.js';

export function replayCommand(ctx: RunContext): Command {
  const cmd = replayDefinition();
  return cmd.action(async (trace: string, flags: LoadFlags) => {
    applyProfile(cmd, flags);
    const options = toReplayOptions(trace, flags);
    const { report } = await runLoad('replay', trace, flags, (signal) =>
      replayWithProgress(options, signal, flags.progress),
    );
    const name = options.targets.map((t) => t.label).join(' + ');
    if (flags.json !== undefined) writeOutput(flags.json, JSON.stringify(report, null, 2) + '\n');
    if (flags.hgrm !== undefined)
      writeOutput(flags.hgrm, renderHgrm(decodeHistogram(report.latency.timeToCompleteUs.histogram)));
    process.stdout.write(renderReplayTable(report, { color: process.stdout.isTTY === true }));
    // Thresholds, --html and --junit from the final report (src/cli/verdict-options.ts).
    const verdict = finishLoadVerdicts(report, flags, 'replay', name);
    // Everything measured is out; a run that got no response at all (or none to measure) fails now.
    const failure = runFailure(report, 'replay', name);
    if (failure !== undefined) throw failure;
    ctx.exitCode = verdict === 1 ? ExitCode.VerdictFailed : ExitCode.Ok;
  });
}

function replayDefinition(): Command {
  const cmd = new Command('replay')
    .summary('replay a trace against AJP or HTTP targets as a load test')
    .description(
      'Sends the exchanges of a trace (written by import or record) to one or more targets and measures them: ' +
        'latency (time to headers, time to complete) overall, per route and per status class, throughput per second, ' +
        'errors by kind, bytes, and the share each backend served. ajp:// targets get the recorded Forward Requests ' +
        'as mod_jk sends them; http:// targets get the same requests as HTTP/1.1. Several --target share the load round robin.\n\n' +
        'Load models: closed loop (--concurrency N, the default), open loop at a constant rate (--rate 500/s; latency ' +
        'counts from when each request was due, so a stall is not hidden), or the recorded timing (--timing recorded ' +
        '--speed 2). A failing target is measured; a run in which no request got a response prints and writes its ' +
        'results, then exits 3. Ctrl-C stops the run and still reports.\n\n' +
        'Example: ajpbench replay captures/lab-mixed.trace.jsonl --target ajp://127.0.0.1:8009 --rate 200/s --duration 30s --loop',
    )
    .argument('<trace>', 'the trace file (.jsonl)');
  return addLoadOptions(cmd);
}

/** The run, with the live progress line on a terminal (unless --no-progress). */
async function replayWithProgress(
  options: ReplayOptions,
  signal: AbortSignal,
  progress: boolean,
): Promise<ParallelOutcome> {
  const tty = process.stderr.isTTY === true && progress;
  // replay() throws only typed errors (UsageError, RuntimeError): main() maps them.
  const outcome = await replayParallel({
    ...options,
    signal,
    onIssue: (m) => process.stderr.write(`replay: ${m}\n`),
    ...(tty ? { onProgress: (p) => process.stderr.write(progressLine(p)) } : {}),
  });
  if (tty) process.stderr.write('\n');
  return outcome;
}
