/**
 * --start-at: a load command waits until a wall-clock time before it starts, so that several
 * generators start together (docs/distributed.md); `ajpbench report` merges what they wrote.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { runtimeError, usageError } from './exit-codes.js';

export interface StartAtFlags {
  startAt?: Date;
}

/** Longest --start-at wait: a day (a time further out is a mistake, not a plan). */
export const MAX_START_WAIT_MS = 24 * 3_600_000;

/** An ISO 8601 time with a date, a time and a zone (2026-05-01T12:00:00Z). */
export function parseStartAt(v: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v.trim())) {
    throw new InvalidArgumentError(
      `--start-at takes an ISO 8601 time with a zone, such as 2026-05-01T12:00:00Z, got ${JSON.stringify(v)}`,
    );
  }
  const d = new Date(v.trim());
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`--start-at: ${JSON.stringify(v)} is not a valid time`);
  return d;
}

export function addStartAtOption(cmd: Command): Command {
  return cmd.option(
    '--start-at <time>',
    'wait until this ISO 8601 time before starting (to start several generators together)',
    parseStartAt,
  );
}

/**
 * Waits until `at` (wall clock). A time in the past starts at once with a note; one more than a
 * day ahead is a usage error. Resolves false when aborted, also by a stop that came before the wait.
 */
export async function waitForStartAt(
  at: Date,
  opts: { signal?: AbortSignal; log?: (line: string) => void; now?: () => number } = {},
): Promise<boolean> {
  const now = opts.now ?? Date.now;
  const wait = at.getTime() - now();
  if (!Number.isFinite(wait)) throw usageError(`--start-at: ${String(at)} is not a time`);
  if (wait > MAX_START_WAIT_MS) throw usageError(`--start-at ${at.toISOString()} is more than 24 h away`);
  // An 'abort' listener added now would never fire for a stop that already happened.
  if (opts.signal?.aborted === true) return false;
  if (wait <= 0) {
    if (wait < -1000) opts.log?.(`--start-at ${at.toISOString()} was ${(-wait / 1000).toFixed(1)} s ago: starting now`);
    return true;
  }
  opts.log?.(`waiting ${(wait / 1000).toFixed(1)} s until ${at.toISOString()} (--start-at)`);
  return new Promise<boolean>((resolve) => {
    const signal = opts.signal;
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    // setTimeout fires a little late, never early; long waits are re-armed so clock steps are noticed.
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const left = at.getTime() - now();
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
        return;
      }
      timer = setTimeout(arm, Math.min(left, 60_000));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
  });
}

/**
 * --start-at for a load command: waits, and a stop (Ctrl-C) during the wait ends the command
 * with AJPBENCH_ERR_INTERRUPTED, since nothing was measured.
 */
export async function startAt(flags: StartAtFlags, signal: AbortSignal, name: string): Promise<void> {
  if (flags.startAt === undefined) return;
  const started = await waitForStartAt(flags.startAt, { signal, log: (m) => process.stderr.write(`${name}: ${m}\n`) });
  if (!started)
    throw runtimeError(
      `${name} was stopped before it started (waiting for --start-at): nothing was measured`,
      'AJPBENCH_ERR_INTERRUPTED',
    );
}
