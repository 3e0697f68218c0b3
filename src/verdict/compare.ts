/**
 * `ajpbench compare`: the same trace and load model against several targets, interleaved in
 * rounds (A B C, A B C, ...) so that the drift of a noisy machine hits all alike. Per target the
 * rounds are pooled (histograms merged); the spread of the rounds (min–max of throughput and p99)
 * says which differences to the first target are within the noise: a difference is noise when
 * the two targets' min–max ranges overlap.
 */
import { UsageError } from '../errors.js';
import { sleep } from '../load/limits.js';
import { replayParallel } from '../load/parallel-replay.js';
import type { ReplayOptions } from '../load/replay.js';
import type { Target } from '../load/target.js';
import { poolReports } from '../results/merge-results.js';
import type { ReplayReport } from '../results/replay-report.js';
import { childSignal } from './child-signal.js';

export interface CompareOptions {
  /** Everything but the targets (each round replays against one target). */
  replay: Omit<ReplayOptions, 'targets'>;
  targets: Target[];
  rounds: number;
  /** Pause between runs, ms (lets connections close and the machine settle). */
  pauseMs?: number;
  signal?: AbortSignal;
  onRun?: (round: number, target: Target, report: ReplayReport) => void;
  /** For tests: the replay function. */
  replayFn?: (o: ReplayOptions) => Promise<{ report: ReplayReport }>;
}

/** One target's row of the side-by-side comparison (the table and the HTML report draw it). */
export interface CompareTargetSummary {
  name: string;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  p50Us: number | null;
  p90Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  maxUs: number | null;
  p99MinUs: number | null;
  p99MaxUs: number | null;
  errors: number;
  total: number;
  bytesReceived: number;
  /** To the first target (null for the first). */
  rpsRatio: number | null;
  p99Ratio: number | null;
  /** Whether the difference to the first target is within the spread of the rounds. */
  withinNoise: { rps: boolean; p99: boolean } | null;
  /** The generator's CPU share over the rounds (null: not measured), and whether any round was generator-bound. */
  generatorCpu?: number | null;
  generatorBound?: boolean;
  /** `--sessions`: the replayed sessions over the rounds, and how many the target kept on one worker or moved. */
  sessions?: { started: number; kept: number; broken: number; renewed: number };
}

/** The side-by-side comparison: pooled statistics, ratios to the first target, noise calls. */
export interface CompareSummary {
  rounds: number;
  targets: CompareTargetSummary[];
}

export interface CompareTargetResult {
  target: string;
  /** One report per round. */
  rounds: ReplayReport[];
  /** The rounds pooled. */
  pooled: ReplayReport;
  rpsByRound: number[];
  p99ByRoundUs: (number | null)[];
}

export interface CompareResult {
  /** Rounds in which every target ran. */
  rounds: number;
  /** The targets that ran at least once, in --target order (all of them unless stopped). */
  targets: CompareTargetResult[];
  /** Targets the run was stopped before (Ctrl-C): nothing was measured for them. */
  notRun: string[];
  /** Stopped by the signal before every round was run. */
  interrupted: boolean;
  summary: CompareSummary;
}

/** Rounds at most: each keeps every target's report (histograms and series, for --json), and the noise range stops narrowing long before. */
export const MAX_ROUNDS = 100;

export async function compare(opts: CompareOptions): Promise<CompareResult> {
  if (opts.targets.length < 2) throw new UsageError('compare needs at least two --target');
  if (!(Number.isInteger(opts.rounds) && opts.rounds >= 1 && opts.rounds <= MAX_ROUNDS))
    throw new UsageError(`--rounds takes a whole number from 1 to ${MAX_ROUNDS}, got ${opts.rounds}`);
  const run = opts.replayFn ?? replayParallel;
  const perTarget: ReplayReport[][] = opts.targets.map(() => []);
  let rounds = 0;
  outer: for (let round = 0; round < opts.rounds; round++) {
    for (const [i, target] of opts.targets.entries()) {
      if (opts.signal?.aborted === true) break outer;
      const child = childSignal(opts.signal);
      let report: ReplayReport;
      try {
        ({ report } = await run({
          ...opts.replay,
          targets: [target],
          ...(child.signal === undefined ? {} : { signal: child.signal }),
        }));
      } finally {
        child.dispose();
      }
      // A run cut short by the signal is kept: it is what was measured.
      (perTarget[i] as ReplayReport[]).push(report);
      opts.onRun?.(round, target, report);
      const last = round === opts.rounds - 1 && i === opts.targets.length - 1;
      if (!last && opts.pauseMs !== undefined && opts.pauseMs > 0) await sleep(opts.pauseMs, opts.signal);
    }
    rounds = round + 1;
  }
  // Stopped at any point: a run was cut short or never started.
  const interrupted = opts.signal?.aborted === true;
  const targets: CompareTargetResult[] = [];
  const notRun: string[] = [];
  opts.targets.forEach((t, i) => {
    const reps = perTarget[i] as ReplayReport[];
    if (reps.length === 0) return void notRun.push(t.label);
    targets.push({
      target: t.label,
      rounds: reps,
      pooled: poolReports(reps.map((report, r) => ({ name: `${t.label} round ${r + 1}`, report }))),
      rpsByRound: reps.map((r) => r.requests.perSecond),
      p99ByRoundUs: reps.map((r) => r.latency.timeToCompleteUs.p99),
    });
  });
  // The table's round count: what the targets ran (a stopped compare has fewer complete rounds).
  return {
    rounds,
    targets,
    notRun,
    interrupted,
    summary: summarize(targets, Math.max(rounds, ...targets.map((t) => t.rounds.length))),
  };
}

function range(values: (number | null)[]): [number, number] | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length === 0 ? null : [Math.min(...v), Math.max(...v)];
}

function overlaps(a: [number, number] | null, b: [number, number] | null): boolean {
  return a !== null && b !== null && a[0] <= b[1] && b[0] <= a[1];
}

/** The side-by-side numbers: pooled statistics, ratios to the first target, noise calls. */
export function summarize(targets: CompareTargetResult[], rounds: number): CompareSummary {
  const first = targets[0];
  const firstRps = range(first?.rpsByRound ?? []);
  const firstP99 = range(first?.p99ByRoundUs ?? []);
  return {
    rounds,
    targets: targets.map((t, i): CompareTargetSummary => {
      const l = t.pooled.latency.timeToCompleteUs;
      const rps = range(t.rpsByRound);
      const p99 = range(t.p99ByRoundUs);
      const base = first?.pooled;
      const baseRps = base?.requests.perSecond ?? 0;
      const baseP99 = base?.latency.timeToCompleteUs.p99 ?? null;
      return {
        name: t.target,
        rps: t.pooled.requests.perSecond,
        rpsMin: rps?.[0] ?? 0,
        rpsMax: rps?.[1] ?? 0,
        p50Us: l.p50,
        p90Us: l.p90,
        p99Us: l.p99,
        p999Us: l.p99_9,
        maxUs: l.max,
        p99MinUs: p99?.[0] ?? null,
        p99MaxUs: p99?.[1] ?? null,
        errors: t.pooled.requests.errors,
        total: t.pooled.requests.total,
        bytesReceived: t.pooled.bytes.received,
        // A target without responses has no throughput to compare (its errors say why), only a failure.
        rpsRatio:
          i === 0 || baseRps === 0 || t.pooled.requests.responses === 0 ? null : t.pooled.requests.perSecond / baseRps,
        p99Ratio: i === 0 || baseP99 === null || baseP99 === 0 || l.p99 === null ? null : l.p99 / baseP99,
        // One round has no spread: nothing can be called noise (either side; a stopped run may have fewer).
        withinNoise:
          i === 0 || rounds < 2 || t.rounds.length < 2 || (first?.rounds.length ?? 0) < 2
            ? null
            : { rps: overlaps(rps, firstRps), p99: overlaps(p99, firstP99) },
        generatorCpu: t.pooled.generator?.cpuShare ?? null,
        generatorBound: t.rounds.some((r) => r.generator?.bound === true) || t.pooled.generator?.bound === true,
        ...(t.pooled.sessions === undefined
          ? {}
          : {
              sessions: {
                started: t.pooled.sessions.started,
                kept: t.pooled.sessions.kept,
                broken: t.pooled.sessions.broken,
                renewed: t.pooled.sessions.renewed,
              },
            }),
      };
    }),
  };
}
