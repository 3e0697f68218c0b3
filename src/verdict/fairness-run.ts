/**
 * `ajpbench fairness`: drive load through a balancer with the replay engine, count what each
 * worker served (route from Set-Cookie JSESSIONID, the route header, as replay attributes it),
 * judge the shares against the expected weights (fairness.ts), and optionally compare with mod_jk's
 * own counters (--jk-status) and check stickiness (--sticky).
 */
import { findFailovers, type FailoverEvent } from './failover.js';
import { replayParallel } from '../load/parallel-replay.js';
import type { ReplayOptions } from '../load/replay.js';
import type { ReplayReport } from '../results/replay-report.js';
import { fairnessVerdict, type ExpectedWeight, type FairnessVerdict } from './fairness.js';
import {
  jkCountsByRoute,
  pickBalancers,
  readJkStatus,
  resetJkStatus,
  settleJkStatus,
  type JkBalancer,
} from './jk-status.js';
import { RuntimeError } from '../errors.js';
import { tapCounts } from './tap-counts.js';
import { checkStickiness, type StickyOptions, type StickyResult } from './sticky.js';
import { judgeSessionStickiness, type SessionStickyResult } from './session-sticky.js';

export interface FairnessRunOptions {
  replay: ReplayOptions;
  expected: ExpectedWeight[];
  alpha?: number;
  tolerance?: number;
  jkStatus?: {
    url: string;
    balancer?: string;
    timeoutMs?: number;
    /** How long to wait for mod_jk's counters to settle after the run (default 5 s). */
    settleMs?: number;
    /** For tests: the status reader. */
    read?: (url: string, timeoutMs: number) => Promise<JkBalancer[]>;
  };
  sticky?: StickyOptions;
  /**
   * Judge stickiness on the trace's own sessions, replayed with `replay.sessions` (each must stay
   * on one worker), instead of opening synthetic ones (`sticky`).
   */
  stickyRecorded?: boolean;
  /**
   * A trace that `ajpbench record --tap` (one tap per worker, labelled) wrote during the run: the
   * workers are counted from its tap labels instead of the routes seen on the wire.
   */
  tapTrace?: string;
  /** For tests: the replay function. */
  replayFn?: (o: ReplayOptions) => Promise<{ report: ReplayReport }>;
}

export interface JkComparison {
  url: string;
  balancers: string[];
  /** Per worker (route): measured on the wire and counted by mod_jk. */
  workers: { worker: string; measured: number; jk: number; difference: number }[];
  /** True when every worker's counts agree. */
  agree: boolean;
  note: string;
}

export interface FairnessRunResult {
  report: ReplayReport;
  /** Requests attributed per worker. */
  counts: Record<string, number>;
  /** Requests with no worker known (failed before an answer, or no route in the answer). */
  unattributed: number;
  /** Where the workers came from. */
  source: 'wire' | 'tap';
  verdict: FairnessVerdict;
  jk: JkComparison | null;
  sticky: StickyResult | null;
  /** --sticky --recorded-sessions: the trace's sessions, each kept on one worker or not. Absent in older results. */
  sessionSticky?: SessionStickyResult | null;
  /** Workers that stopped answering during the run, and how long until the others took their load. */
  failovers: FailoverEvent[];
  pass: boolean;
  failures: string[];
}

/** Per-worker counts from a replay report: routes; a group named after a target is not a worker. */
export function workerCounts(
  report: ReplayReport,
  targetLabels: string[],
): { counts: Map<string, number>; unattributed: number } {
  const counts = new Map<string, number>();
  let unattributed = 0;
  for (const g of report.byRoute) {
    if (targetLabels.includes(g.name)) unattributed += g.count;
    else counts.set(g.name, g.count);
  }
  return { counts, unattributed };
}

export async function runFairness(opts: FairnessRunOptions): Promise<FairnessRunResult> {
  const run = opts.replayFn ?? replayParallel;
  let balancers: string[] = [];
  if (opts.jkStatus !== undefined) {
    const all = await (opts.jkStatus.read ?? readJkStatus)(opts.jkStatus.url, opts.jkStatus.timeoutMs ?? 5000);
    balancers = pickBalancers(all, opts.jkStatus.balancer).map((b) => b.name);
    if (balancers.length === 0)
      throw new RuntimeError(`mod_jk status at ${opts.jkStatus.url} lists no lb worker`, 'AJPBENCH_ERR_JK_STATUS');
    await resetJkStatus(opts.jkStatus.url, balancers, opts.jkStatus.timeoutMs);
  }
  const { report } = await run(opts.replay);
  const labels = opts.replay.targets.map((t) => t.label);
  let { counts, unattributed } = workerCounts(report, labels);
  if (opts.tapTrace !== undefined) {
    // The measured window on the wall clock, with a second's slack for the recorder's clock and
    // the requests still in flight when the window closed.
    const start =
      Date.parse(report.startedAt) + (typeof report.config.warmupMs === 'number' ? report.config.warmupMs : 0);
    const tap = await tapCounts(opts.tapTrace, start - 50, start + report.measuredMs + 1000);
    counts = tap.counts;
    unattributed = tap.unlabelled;
  }
  const verdict = fairnessVerdict(counts, opts.expected, {
    ...(opts.alpha === undefined ? {} : { alpha: opts.alpha }),
    ...(opts.tolerance === undefined ? {} : { tolerance: opts.tolerance }),
  });
  let jk: JkComparison | null = null;
  if (opts.jkStatus !== undefined) {
    // Read before the sticky check, which sends requests of its own.
    // mod_jk counts a request as it elects a member, in shared memory; a request still in a child
    // when the run ended may be counted a moment later: read until every request sent since the
    // reset (warmup included) is counted, or the counts stop moving, before comparing.
    const after = await settleJkStatus(opts.jkStatus.url, balancers, {
      expectedTotal: report.requests.total + report.schedule.warmupRequests,
      ...(opts.jkStatus.settleMs === undefined ? {} : { deadlineMs: opts.jkStatus.settleMs }),
      ...(opts.jkStatus.timeoutMs === undefined ? {} : { timeoutMs: opts.jkStatus.timeoutMs }),
      ...(opts.jkStatus.read === undefined ? {} : { read: opts.jkStatus.read }),
    });
    const jkCounts = jkCountsByRoute(after);
    const names = [
      ...new Set([...opts.expected.map((e) => e.worker), ...counts.keys(), ...jkCounts.map((j) => j.worker)]),
    ];
    const workers = names.map((worker) => {
      const measured = counts.get(worker) ?? 0;
      const j = jkCounts.find((x) => x.worker === worker)?.count ?? 0;
      return { worker, measured, jk: j, difference: j - measured };
    });
    const warmup = report.schedule.warmupRequests;
    const agree = workers.every((w) => w.difference === 0);
    const unlocked = after.filter((b) => b.lock !== 'Pessimistic').map((b) => b.name);
    jk = {
      url: opts.jkStatus.url,
      balancers,
      workers,
      agree,
      note:
        'mod_jk counts every request its lb worker routed since the reset' +
        (warmup > 0 ? ` (the ${warmup} warmup requests too)` : '') +
        (unattributed > 0 ? `, including ones that reached no worker on the wire (${unattributed})` : '') +
        ", and any other client's" +
        // Seen in CI: 499 counted for 500 served, with the default lock.
        (agree || unlocked.length === 0
          ? ''
          : `; with lock=Optimistic (${unlocked.join(', ')}) mod_jk updates these counters without a lock ` +
            'and loses some under concurrency: worker.NAME.lock=P makes them exact'),
    };
  }
  const sticky = opts.sticky === undefined ? null : await checkStickiness(opts.sticky);
  const sessionSticky = opts.stickyRecorded === true ? judgeSessionStickiness(report.sessions) : null;
  const failures = [
    ...verdict.failures,
    ...[...(sticky?.failures ?? []), ...(sessionSticky?.failures ?? [])].map((f) => `sticky: ${f}`),
  ];
  const failovers = findFailovers(report.throughput.series, labels);
  return {
    report,
    counts: Object.fromEntries(counts),
    unattributed,
    source: opts.tapTrace === undefined ? 'wire' : 'tap',
    verdict,
    jk,
    sticky,
    sessionSticky,
    failovers,
    pass: failures.length === 0,
    failures,
  };
}
