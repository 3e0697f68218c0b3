/**
 * Options every load command shares for verdicts and reports: `--threshold` (k6 style, repeatable),
 * `--html`, `--junit`, `--start-at`. The commands evaluate thresholds on their final report here,
 * outside the load engine, and turn any failure into exit code 1.
 */
import { Command, InvalidArgumentError } from 'commander';
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
import { runtimeError, usageError } from './exit-codes.js';
import { writeOutput } from './files.js';

export interface VerdictFlags {
  threshold?: Threshold[];
  html?: string;
  junit?: string;
  startAt?: Date;
}

const collectThreshold = (v: string, prev: Threshold[] | undefined): Threshold[] => {
  try {
    return [...(prev ?? []), parseThreshold(v)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

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

export function addVerdictOptions(cmd: Command, opts: { junit?: boolean; startAt?: boolean } = {}): Command {
  cmd.option(
    '--threshold <expr>',
    "check at the end, k6 style: 'p99<50ms', 'errors<0.1%', 'rps>1000' (repeatable; any failure exits 1)",
    collectThreshold,
  );
  cmd.option('--html <file>', 'write a self-contained HTML report (charts work offline)');
  if (opts.junit !== false) cmd.option('--junit <file>', 'write the verdicts (thresholds, tests) as JUnit XML for CI');
  if (opts.startAt !== false)
    cmd.option(
      '--start-at <time>',
      'wait until this ISO 8601 time before starting (to start several generators together)',
      parseStartAt,
    );
  return cmd;
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
export async function startAt(flags: VerdictFlags, signal: AbortSignal, name: string): Promise<void> {
  if (flags.startAt === undefined) return;
  const started = await waitForStartAt(flags.startAt, { signal, log: (m) => process.stderr.write(`${name}: ${m}\n`) });
  if (!started)
    throw runtimeError(
      `${name} was stopped before it started (waiting for --start-at): nothing was measured`,
      'AJPBENCH_ERR_INTERRUPTED',
    );
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
