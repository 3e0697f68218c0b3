/**
 * The load options of compare, fairness and sweep are replay's: they are copied from the replay
 * command's own definitions (so the flags, defaults and profile fields stay one list), and turned
 * into ReplayOptions by replay's toReplayOptions.
 */
import { Command } from 'commander';
import { loadProfile, replayCommand, toReplayOptions, type ReplayFlags } from './replay-command.js';
import type { ReplayOptions } from '../load/replay.js';
import { runtimeError } from './exit-codes.js';
import { cannotRead } from './files.js';
import type { RunContext } from './run-context.js';
import { TraceFormatError } from '../trace/trace-errors.js';
import { startAt as waitToStart } from './verdict-options.js';

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
export function loadOptions(
  trace: string,
  flags: ReplayFlags,
  defaults: { durationMs?: number; requests?: number } = {},
): ReplayOptions {
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

/** --start-at; a Ctrl-C during the wait ends the command with AJPBENCH_ERR_INTERRUPTED (verdict-options.ts). */
export async function startAt(flags: ReplayFlags, signal: AbortSignal, name: string): Promise<void> {
  await waitToStart(flags, signal, name);
}

/**
 * What the replay engine throws is typed already (UsageError for options, RuntimeError for the
 * trace: src/load/replay.ts); this maps what a caller may still meet from the trace reader itself.
 * Never a class of Node error as a whole: a RangeError or an ERR_* code is a bug, not a bad flag.
 */
export function loadError(e: unknown, trace: string): unknown {
  if (e instanceof TraceFormatError) return runtimeError(`${trace}: ${e.message}`, 'AJPBENCH_ERR_TRACE');
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return cannotRead(trace, e);
  return e;
}
