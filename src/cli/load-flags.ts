/**
 * The load options of compare, fairness and sweep are replay's: they are copied from the replay
 * command's own definitions (so the flags, defaults and profile fields stay one list), and turned
 * into ReplayOptions by replay's toReplayOptions.
 */
import { Command } from 'commander';
import { loadProfile, replayCommand, toReplayOptions, type ReplayFlags } from './replay-command.js';
import type { ReplayOptions } from '../load/replay.js';
import { runtimeError, usageError } from './exit-codes.js';
import type { RunContext } from './main.js';
import { TraceFormatError } from '../trace/trace-errors.js';
import { waitForStartAt } from './verdict-options.js';

/** Adds replay's options to `cmd`, but the long flags in `exclude`. */
export function copyLoadOptions(cmd: Command, ctx: RunContext, exclude: readonly string[]): Command {
  const template = replayCommand(ctx);
  for (const opt of template.options) {
    if (opt.long !== undefined && exclude.includes(opt.long)) continue;
    cmd.addOption(opt);
  }
  return cmd;
}

/** Profile values for the options not given on the command line (as replay does). */
export function applyProfile(cmd: Command, flags: ReplayFlags): void {
  if (flags.profile === undefined) return;
  const profile = loadProfile(flags.profile);
  const f = flags as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(profile)) {
    if (!cmd.options.some((o) => o.attributeName() === k)) continue;
    const src = cmd.getOptionValueSource(k);
    if (src !== 'cli' && src !== 'env') f[k] = v;
  }
}

/**
 * replay's options from the flags; with neither --duration nor --requests, `defaults` apply. The
 * verdict commands always cycle the trace (--loop): a run is as long as its limit says, not as
 * the trace happens to be.
 */
export function loadOptions(trace: string, flags: ReplayFlags, defaults: { durationMs?: number; requests?: number } = {}): ReplayOptions {
  const f: ReplayFlags = { ...flags, loop: true };
  if (f.duration === undefined && f.requests === undefined) {
    if (defaults.durationMs !== undefined) f.duration = defaults.durationMs;
    if (defaults.requests !== undefined) f.requests = defaults.requests;
  }
  return toReplayOptions(trace, f);
}

/** Ctrl-C stops the run (the current replay ends and reports); the returned function unhooks. */
export function stopOnSignal(name: string): { signal: AbortSignal; done: () => void } {
  const stop = new AbortController();
  const onSignal = (): void => {
    process.stderr.write(`\n${name}: stopping (Ctrl-C again to quit at once)\n`);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    done: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export async function startAt(flags: ReplayFlags, signal: AbortSignal, name: string): Promise<void> {
  if (flags.startAt !== undefined) await waitForStartAt(flags.startAt, { signal, log: (m) => process.stderr.write(`${name}: ${m}\n`) });
}

/** Maps what the replay engine throws to exit codes, as replay does. */
export function loadError(e: unknown, trace: string): unknown {
  if (e instanceof TraceFormatError) return runtimeError(`${trace}: ${e.message}`, 'AJPBENCH_ERR_TRACE');
  if (e instanceof RangeError) return usageError(e.message);
  if (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string') return runtimeError(`cannot read ${trace}: ${e.message}`, 'AJPBENCH_ERR_INPUT');
  return e;
}
