/**
 * Merging the results of several generators (`ajpbench report a.json b.json ...`), as when N
 * machines ran the same load with `--start-at`. Histograms are merged (counts added, so p99 is
 * the p99 of all requests, never an average of p99s); counts, bytes and errors are summed; the
 * rate is summed over the window the runs have in common:
 *
 * - each run measured from `startedAt + warmup` for `measuredMs` (wall clock);
 * - the common window is [latest start, earliest end];
 * - each run's rate is its responses in the whole seconds of its throughput series that lie in
 *   the common window (a second may stick out by at most SLACK_MS, the clocks' and start's
 *   jitter) divided by those seconds; the merged rate is the sum of the runs' rates.
 *
 * Runs that do not overlap get each its own rate, summed, with a warning (they were not one
 * load). The throughput series is summed second by second on the wall clock of the earliest run.
 */
import { generatorWarning, mergeGenerators, type GeneratorReport } from './generator-report.js';
import { mergeLatencyReports, type LatencyReport } from './latency-histogram.js';
import {
  MAX_LISTED_SESSIONS,
  MISMATCH_EXAMPLES,
  type GroupReport,
  type MismatchReport,
  type ReplayReport,
  type SessionsReport,
} from './replay-report.js';

/** A second of a run's series may start this much before the common window or end this much after it. */
export const SLACK_MS = 250;

export interface NamedReport {
  /** The file name, or a label. */
  name: string;
  report: ReplayReport;
}

export interface RunWindow {
  name: string;
  /** Wall-clock start and end of the measured window, ms since the epoch. */
  startMs: number;
  endMs: number;
  /** This run's rate within the common window (responses/s). */
  rate: number;
  /** Whole seconds of the series counted in that rate. */
  seconds: number;
}

export interface MergeInfo {
  runs: RunWindow[];
  /** The common window, or null when the runs do not overlap. */
  window: { startMs: number; endMs: number } | null;
}

export type MergedReport = ReplayReport & { merge: MergeInfo };

/** The wall-clock measured window of one run. */
export function runWindow(r: ReplayReport): { startMs: number; endMs: number } {
  const started = Date.parse(r.startedAt);
  if (!Number.isFinite(started)) throw new RangeError(`startedAt ${JSON.stringify(r.startedAt)} is not a time`);
  const warmup = typeof r.config.warmupMs === 'number' ? r.config.warmupMs : 0;
  const startMs = started + warmup;
  return { startMs, endMs: startMs + r.measuredMs };
}

/** Rate of one run within [w0, w1] from its per-second series (null when no whole second fits). */
function rateWithin(
  r: ReplayReport,
  startMs: number,
  w0: number,
  w1: number,
): { rate: number; seconds: number } | null {
  let responses = 0;
  let seconds = 0;
  for (const s of r.throughput.series) {
    const a = startMs + s.second * 1000;
    const b = a + 1000;
    if (b > startMs + r.measuredMs + SLACK_MS) break; // the last, partial second
    if (a >= w0 - SLACK_MS && b <= w1 + SLACK_MS) {
      responses += s.responses;
      seconds++;
    }
  }
  return seconds === 0 ? null : { rate: responses / seconds, seconds };
}

function mergeGroups(lists: GroupReport[][], total: number): GroupReport[] {
  const by = new Map<string, GroupReport[]>();
  for (const list of lists) for (const g of list) by.set(g.name, [...(by.get(g.name) ?? []), g]);
  return [...by.entries()]
    .map(([name, gs]) => {
      const count = gs.reduce((s, g) => s + g.count, 0);
      return {
        name,
        count,
        share: total === 0 ? 0 : count / total,
        timeToHeadersUs: mergeLatencyReports(gs.map((g) => g.timeToHeadersUs)),
        timeToCompleteUs: mergeLatencyReports(gs.map((g) => g.timeToCompleteUs)),
      };
    })
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

function sumBy<T>(items: T[], key: (t: T) => string | number, value: (t: T) => number): Map<string | number, number> {
  const m = new Map<string | number, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + value(it));
  return m;
}

/**
 * Merges the reports of several runs (one report is returned as it is, with its window). `parallel`:
 * the runs loaded side by side (their generators' threads add up), else one after another (poolReports).
 */
export function mergeReports(inputs: readonly NamedReport[], parallel = true): MergedReport {
  if (inputs.length === 0) throw new RangeError('nothing to merge');
  const reports = inputs.map((i) => i.report);
  const windows = reports.map(runWindow);
  const w0 = Math.max(...windows.map((w) => w.startMs));
  const w1 = Math.min(...windows.map((w) => w.endMs));
  const overlap = w1 > w0;
  const warnings: string[] = [];
  const runs: RunWindow[] = inputs.map((inp, i) => {
    const w = windows[i] as { startMs: number; endMs: number };
    const r = inp.report;
    const own = r.requests.perSecond;
    const within = overlap ? rateWithin(r, w.startMs, w0, w1) : null;
    return {
      name: inp.name,
      startMs: w.startMs,
      endMs: w.endMs,
      rate: within?.rate ?? own,
      seconds: within?.seconds ?? 0,
    };
  });
  if (inputs.length > 1) {
    if (!overlap)
      warnings.push(
        "the runs do not overlap in time: the rate is the sum of each run's own rate (start them together with --start-at)",
      );
    else {
      const spread = Math.max(...windows.map((w) => w.startMs)) - Math.min(...windows.map((w) => w.startMs));
      if (spread > 1000)
        warnings.push(
          `the runs started ${(spread / 1000).toFixed(1)} s apart: only the ${((w1 - w0) / 1000).toFixed(1)} s they share count for the rate`,
        );
      const short = runs.filter((r) => r.seconds === 0).map((r) => r.name);
      if (short.length > 0)
        warnings.push(`no whole second of ${short.join(', ')} lies in the common window: its own rate is used`);
    }
  }
  const total = reports.reduce((s, r) => s + r.requests.total, 0);
  const responses = reports.reduce((s, r) => s + r.requests.responses, 0);
  const errors = reports.reduce((s, r) => s + r.requests.errors, 0);
  const byRoute = mergeGroups(
    reports.map((r) => r.byRoute),
    total,
  );
  const origin = Math.min(...windows.map((w) => w.startMs));
  type Point = ReplayReport['throughput']['series'][number];
  const series = new Map<number, Omit<Point, 'second'>>();
  reports.forEach((r, i) => {
    const shift = Math.round(((windows[i] as { startMs: number }).startMs - origin) / 1000);
    for (const s of r.throughput.series) {
      const at = series.get(s.second + shift) ?? { responses: 0, errors: 0, p99Us: null, workers: {} };
      at.responses += s.responses;
      at.errors += s.errors;
      // Percentiles of separate runs do not add up: the highest p99 is an upper bound of the merged one.
      const p99 = s.p99Us ?? null; // results files written before per-second p99 existed lack it
      if (p99 !== null) at.p99Us = Math.max(at.p99Us ?? 0, p99);
      for (const [w, n] of Object.entries(s.workers ?? {})) at.workers[w] = (at.workers[w] ?? 0) + n;
      series.set(s.second + shift, at);
    }
  });
  const lastSecond = Math.max(-1, ...series.keys());
  const errorKinds = new Map<string, { count: number; example: string | null }>();
  for (const r of reports) {
    for (const e of r.errors.byKind) {
      const k = errorKinds.get(e.kind);
      if (k === undefined) errorKinds.set(e.kind, { count: e.count, example: e.example });
      else k.count += e.count;
    }
  }
  const statuses = sumBy(
    reports.flatMap((r) => r.statuses),
    (s) => s.status,
    (s) => s.count,
  );
  const first = reports[0] as ReplayReport;
  const verifies = reports.map((r) => r.verify).filter((v): v is NonNullable<ReplayReport['verify']> => v !== null);
  const latency = (pick: (r: ReplayReport) => LatencyReport): LatencyReport => mergeLatencyReports(reports.map(pick));
  const sumSchedule = (k: 'sent' | 'warmupRequests' | 'abandoned' | 'notSent' | 'lateSends' | 'queued'): number =>
    reports.reduce((s, r) => s + r.schedule[k], 0);
  const timeToComplete = latency((r) => r.latency.timeToCompleteUs);
  // Only when every run measured its generator: a file from before then would make the figures look better.
  const generators = reports.map((r) => r.generator).filter((g): g is GeneratorReport => g !== undefined);
  const generator =
    generators.length === reports.length
      ? mergeGenerators(generators, parallel, timeToComplete.p50, sumSchedule('lateSends'), sumSchedule('sent'))
      : undefined;
  const sessions = mergeSessions(reports.map((r) => r.sessions).filter((x): x is SessionsReport => x !== undefined));
  return {
    config: { ...first.config, merged: inputs.map((i) => i.name) },
    startedAt: new Date(Math.min(...reports.map((r) => Date.parse(r.startedAt)))).toISOString(),
    schedule: {
      ...first.schedule,
      elapsedMs: Math.max(...reports.map((r) => r.schedule.elapsedMs)),
      sent: sumSchedule('sent'),
      warmupRequests: sumSchedule('warmupRequests'),
      abandoned: sumSchedule('abandoned'),
      notSent: sumSchedule('notSent'),
      lateSends: sumSchedule('lateSends'),
      queued: sumSchedule('queued'),
      maxLateMs: Math.max(...reports.map((r) => r.schedule.maxLateMs)),
      maxBacklog: Math.max(...reports.map((r) => r.schedule.maxBacklog)),
    },
    measuredMs: overlap && inputs.length > 1 ? w1 - w0 : Math.max(...reports.map((r) => r.measuredMs)),
    requests: { total, responses, errors, perSecond: runs.reduce((s, r) => s + r.rate, 0) },
    latency: {
      unit: 'µs',
      timeToHeadersUs: latency((r) => r.latency.timeToHeadersUs),
      timeToCompleteUs: timeToComplete,
    },
    byRoute,
    byStatusClass: mergeGroups(
      reports.map((r) => r.byStatusClass),
      total,
    ).sort((a, b) => a.name.localeCompare(b.name)),
    statuses: [...statuses.entries()]
      .sort((a, b) => (a[0] as number) - (b[0] as number))
      .map(([status, count]) => ({ status: status as number, count })),
    errors: {
      total: errors,
      // Kind order as the runs list them (the catalog order).
      byKind: [...errorKinds.entries()].map(([kind, e]) => ({
        kind: kind as ReplayReport['errors']['byKind'][number]['kind'],
        count: e.count,
        example: e.example,
      })),
    },
    throughput: {
      intervalMs: 1000,
      series: Array.from({ length: lastSecond + 1 }, (_, second) => ({
        second,
        ...(series.get(second) ?? { responses: 0, errors: 0, p99Us: null, workers: {} }),
      })),
    },
    bytes: {
      sent: reports.reduce((s, r) => s + r.bytes.sent, 0),
      received: reports.reduce((s, r) => s + r.bytes.received, 0),
      responseBodies: reports.reduce((s, r) => s + r.bytes.responseBodies, 0),
    },
    workers: byRoute.map((g) => ({ name: g.name, count: g.count, share: g.share })),
    connections: reports.flatMap((r) => r.connections),
    verify:
      verifies.length === 0
        ? null
        : {
            compared: verifies.reduce((s, v) => s + v.compared, 0),
            matched: verifies.reduce((s, v) => s + v.matched, 0),
            mismatched: verifies.reduce((s, v) => s + v.mismatched, 0),
            byKind: mergeMismatches(verifies.map((v) => v.byKind)),
          },
    ...(generator === undefined ? {} : { generator }),
    ...(sessions === undefined ? {} : { sessions }),
    warnings: [
      ...mergedGeneratorWarning(generator, reports),
      ...warnings,
      ...inputs.flatMap((inp) => inp.report.warnings.map((w) => (inputs.length > 1 ? `${inp.name}: ${w}` : w))),
    ],
    merge: { runs, window: overlap ? { startMs: w0, endMs: w1 } : null },
  };
}

/**
 * The reports of one run's --workers threads (load/parallel-replay.ts) as the report one thread
 * would have written: histograms, counts, bytes, errors, statuses and per-worker shares added
 * exactly (as mergeReports does); the measured window is the longest worker's and the rate all
 * responses over it (the threads started together); the per-second series are summed second by
 * second (a second's p99 is the highest of the threads', an upper bound: separate histograms'
 * percentiles do not add); connections are summed per target; `total` restores the run's own
 * settings (the workers' configs hold their shares).
 */
export function mergeWorkerReports(
  reports: readonly ReplayReport[],
  total: { concurrency: number; requests: number | null; workers: number },
): ReplayReport {
  const { merge: _merge, ...m } = mergeReports(
    reports.map((report, i) => ({ name: `worker ${i + 1}`, report })),
    true,
  );
  const measuredMs = Math.max(...reports.map((r) => r.measuredMs));
  const first = reports[0] as ReplayReport;
  const connections = new Map<string, ReplayReport['connections'][number]>();
  for (const c of reports.flatMap((r) => r.connections)) {
    const at = connections.get(c.target);
    if (at === undefined) connections.set(c.target, { ...c });
    else
      for (const k of [
        'opened',
        'failed',
        'reused',
        'closedNoReuse',
        'closedOnError',
        'cpings',
        'cpingFailures',
      ] as const)
        at[k] += c[k];
  }
  return {
    ...m,
    config: { ...first.config, concurrency: total.concurrency, requests: total.requests, workers: total.workers },
    schedule: {
      ...m.schedule,
      model: first.schedule.model
        .replace(/^closed loop, \d+ concurrent/, `closed loop, ${total.concurrency} concurrent`)
        .replace(/up to \d+ in flight$/, `up to ${total.concurrency} in flight`),
      stoppedBy: reports.some((r) => r.schedule.stoppedBy === 'signal') ? 'signal' : first.schedule.stoppedBy,
      startMs: Math.min(...reports.map((r) => r.schedule.startMs)),
    },
    measuredMs,
    requests: {
      ...m.requests,
      perSecond: measuredMs > 0 ? (m.requests.responses * 1000) / measuredMs : 0,
      warmupResponses: reports.reduce((s, r) => s + (r.requests.warmupResponses ?? 0), 0),
    },
    connections: [...connections.values()],
    warnings: m.warnings.filter((w) => !/do not overlap|started .* apart|common window/.test(w)),
  };
}

/**
 * The sessions of several runs (--workers threads deal whole sessions, so none is split): counts
 * summed, routes merged, the lists joined broken first up to the cap; undefined when no run had any.
 */
export function mergeSessions(all: readonly SessionsReport[]): SessionsReport | undefined {
  if (all.length === 0) return undefined;
  if (all.length === 1) return all[0];
  type Count = 'started' | 'completed' | 'kept' | 'broken' | 'unknown' | 'withErrors' | 'renewed' | 'requests';
  const sum = (k: Count | 'sessionless'): number => all.reduce((s, x) => s + x[k], 0);
  const byRoute = new Map<string, { sessions: number; broken: number }>();
  for (const r of all.flatMap((x) => x.byRoute)) {
    const at = byRoute.get(r.route) ?? { sessions: 0, broken: 0 };
    at.sessions += r.sessions;
    at.broken += r.broken;
    byRoute.set(r.route, at);
  }
  const listed = all.flatMap((x) => x.list);
  const list = [...listed.filter((s) => s.routes.length > 1), ...listed.filter((s) => s.routes.length <= 1)].slice(
    0,
    MAX_LISTED_SESSIONS,
  );
  return {
    started: sum('started'),
    completed: sum('completed'),
    kept: sum('kept'),
    broken: sum('broken'),
    unknown: sum('unknown'),
    withErrors: sum('withErrors'),
    renewed: sum('renewed'),
    requests: sum('requests'),
    sessionless: sum('sessionless'),
    byRoute: [...byRoute]
      .map(([route, v]) => ({ route, ...v }))
      .sort((a, b) => b.sessions - a.sessions || a.route.localeCompare(b.route)),
    list,
    unlisted: all.reduce((s, x) => s + x.unlisted, 0) + listed.length - list.length,
  };
}

/**
 * The generator-bound line of the merge, when the runs' own lines (listed after it) do not say it
 * already: runs each below the limit whose merged figures are not.
 */
function mergedGeneratorWarning(g: GeneratorReport | undefined, reports: ReplayReport[]): string[] {
  const w = generatorWarning(g);
  return w === undefined || reports.some((r) => r.generator?.bound === true) ? [] : [w];
}

/** --verify mismatches of several runs: one row per kind, counts summed, examples kept up to the cap, most first. */
function mergeMismatches(lists: MismatchReport[][]): MismatchReport[] {
  const byKind = new Map<string, MismatchReport>();
  for (const list of lists) {
    for (const m of list) {
      const k = byKind.get(m.kind);
      if (k === undefined)
        byKind.set(m.kind, { kind: m.kind, count: m.count, examples: m.examples.slice(0, MISMATCH_EXAMPLES) });
      else {
        k.count += m.count;
        for (const e of m.examples) if (k.examples.length < MISMATCH_EXAMPLES) k.examples.push(e);
      }
    }
  }
  return [...byKind.values()].sort((a, b) => b.count - a.count || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}

/**
 * Pools runs made one after another against the same target (compare's rounds, a long run in
 * slices): histograms merged and counts summed as in mergeReports, but the rate is all responses
 * over all measured time, and the per-second series are laid end to end.
 */
export function poolReports(inputs: readonly NamedReport[]): ReplayReport {
  if (inputs.length === 1) return (inputs[0] as NamedReport).report;
  const { merge: _merge, ...m } = mergeReports(inputs, false);
  const measuredMs = inputs.reduce((s, i) => s + i.report.measuredMs, 0);
  const series = inputs.flatMap((i) => i.report.throughput.series);
  return {
    ...m,
    measuredMs,
    requests: { ...m.requests, perSecond: measuredMs > 0 ? (m.requests.responses * 1000) / measuredMs : 0 },
    throughput: { intervalMs: 1000, series: series.map((s, second) => ({ ...s, second })) },
    // Rounds never overlap: the merge's overlap warnings do not apply.
    warnings: m.warnings.filter((w) => !/do not overlap|started .* apart|common window/.test(w)),
  };
}
