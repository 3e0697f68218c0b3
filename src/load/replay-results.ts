/**
 * ReplayResults: accumulates RequestResult records (it is a scheduler's ResultSink) into what a
 * replay reports (results/replay-report.ts): HDR latency histograms in µs (time to headers, time
 * to complete) overall, per route and per status class; throughput per second; errors by kind;
 * bytes; the per-worker share; and --verify mismatches. Constant memory: fixed histograms (made
 * once per group, so recording a request allocates nothing), capped tables, one counter per
 * second. Rendering is elsewhere (report/replay-table.ts, hgrm, the JSON of the report built here).
 */
import type { Histogram } from 'hdr-histogram-js';
import { ERROR_KINDS, type ErrorKind } from '../results/error-kinds.js';
import { clampUs, latencyReport, newLatencyHistogram, percentileUs } from '../results/latency-histogram.js';
import {
  MAX_ROUTES,
  MISMATCH_EXAMPLES,
  OTHER,
  statusClass,
  type ConnectionStats,
  type GroupReport,
  type MismatchReport,
  type ProgressSnapshot,
  type ReplayReport,
  type ScheduleStats,
} from '../results/replay-report.js';
import { PerSecondSeries } from './per-second-series.js';
import { isResponse, type Mismatch, type RequestResult } from './request-result.js';
import { SessionTally } from './session-tally.js';

interface Group {
  count: number;
  headersUs: Histogram;
  completeUs: Histogram;
}

function newGroup(): Group {
  return { count: 0, headersUs: newLatencyHistogram(), completeUs: newLatencyHistogram() };
}

export class ReplayResults {
  private origin = 0;
  private warmupMs = 0;
  private warmupSeen = 0;
  private warmupResponses = 0;
  private total = 0;
  private responses = 0;
  private errorsTotal = 0;
  private readonly errorCounts = new Map<ErrorKind, { count: number; example: string | null }>();
  private readonly overall = newGroup();
  private readonly routes = new Map<string, Group>();
  private readonly targetRoutes = new Map<number, Set<string>>();
  private readonly classes = new Map<string, Group>();
  private readonly statuses = new Map<number, number>();
  private readonly perSecondResponses: number[] = [];
  private readonly perSecondErrors: number[] = [];
  private readonly series = new PerSecondSeries();
  private bytesSent = 0;
  private bytesReceived = 0;
  private bodyBytes = 0;
  private lastEndMs = 0;
  private verified = 0;
  private verifiedOk = 0;
  private readonly mismatches = new Map<string, MismatchReport>();
  private progressAt = 0;
  private progressCount = 0;
  /** `--sessions`: the replayed sessions. */
  private readonly sessions: SessionTally | undefined;

  constructor(
    private readonly targets: string[],
    private readonly verifying = false,
    sessions = false,
  ) {
    this.sessions = sessions ? new SessionTally() : undefined;
  }

  /** The run's clock origin and warmup; call right before the scheduler starts. */
  begin(originMs: number, warmupMs: number): void {
    this.origin = this.progressAt = originMs;
    this.warmupMs = warmupMs;
  }

  add(r: RequestResult): void {
    this.sessions?.add(r);
    if (r.warmup) {
      this.warmupSeen++;
      if (isResponse(r)) this.warmupResponses++;
      return;
    }
    this.total++;
    if (r.endMs > this.lastEndMs) this.lastEndMs = r.endMs;
    this.bytesSent += r.bytesSent;
    this.bytesReceived += r.bytesReceived;
    this.bodyBytes += r.bodyBytes;
    const second = Math.max(0, Math.floor((r.endMs - this.origin - this.warmupMs) / 1000));
    while (this.perSecondResponses.length <= second) {
      this.perSecondResponses.push(0);
      this.perSecondErrors.push(0);
    }
    if (r.error !== null) {
      this.errorsTotal++;
      this.perSecondErrors[second] = (this.perSecondErrors[second] as number) + 1;
      const e = this.errorCounts.get(r.error);
      if (e === undefined) this.errorCounts.set(r.error, { count: 1, example: r.errorMessage });
      else e.count++;
    }
    const worker = this.workerOf(r);
    if (isResponse(r)) {
      this.responses++;
      this.perSecondResponses[second] = (this.perSecondResponses[second] as number) + 1;
      this.statuses.set(r.status, (this.statuses.get(r.status) ?? 0) + 1);
      const headersUs = r.headersMs >= 0 ? toUs(r.headersMs - r.intendedMs) : -1;
      const completeUs = toUs(r.endMs - r.intendedMs);
      record(this.overall, headersUs, completeUs);
      record(this.group(this.routes, worker, MAX_ROUTES), headersUs, completeUs);
      record(this.group(this.classes, statusClass(r.status), Infinity), headersUs, completeUs);
      this.series.add(second, completeUs, worker);
    } else {
      // No response: counted for the worker share all the same (the request went there).
      this.group(this.routes, worker, MAX_ROUTES).count++;
      this.series.add(second, null, worker);
    }
    if (this.verifying) this.addVerify(r.mismatches, r);
  }

  private addVerify(ms: Mismatch[] | null, r: RequestResult): void {
    this.verified++;
    if (ms === null || ms.length === 0) {
      this.verifiedOk++;
      return;
    }
    for (const m of ms) {
      let rep = this.mismatches.get(m.kind);
      if (rep === undefined) {
        if (this.mismatches.size >= MAX_ROUTES)
          rep = this.mismatches.get(OTHER) ?? { kind: OTHER, count: 0, examples: [] };
        else rep = { kind: m.kind, count: 0, examples: [] };
        this.mismatches.set(rep.kind, rep);
      }
      rep.count++;
      if (rep.examples.length < MISMATCH_EXAMPLES)
        rep.examples.push({ exchangeId: r.exchangeId, uri: r.uri, expected: m.expected, actual: m.actual });
    }
  }

  /** The route, else the target (see foldTargets). Notes which routes each target named. */
  private workerOf(r: RequestResult): string {
    if (r.route === null) return this.targets[r.target] ?? '?';
    let seen = this.targetRoutes.get(r.target);
    if (seen === undefined) this.targetRoutes.set(r.target, (seen = new Set()));
    if (seen.size <= MAX_ROUTES) seen.add(r.route);
    return r.route;
  }

  /**
   * Requests whose response named no route (a request that already had a session gets no new
   * cookie) count for their target. A target that named exactly one route is that backend, so
   * its unnamed requests are folded into that route; a balancer (several routes) keeps them
   * under its own name.
   */
  private foldTargets(): Map<string, Group> {
    const out = new Map<string, Group>();
    for (const [k, g] of this.routes)
      out.set(k, { count: g.count, headersUs: copyHistogram(g.headersUs), completeUs: copyHistogram(g.completeUs) });
    for (const [i, label] of this.targets.entries()) {
      const routes = this.targetRoutes.get(i);
      const from = out.get(label);
      if (from === undefined || routes === undefined || routes.size !== 1) continue;
      const into = out.get([...routes][0] as string);
      if (into === undefined || this.targets.includes([...routes][0] as string)) continue;
      into.count += from.count;
      into.headersUs.add(from.headersUs);
      into.completeUs.add(from.completeUs);
      out.delete(label);
    }
    return out;
  }

  private group(map: Map<string, Group>, key: string, cap: number): Group {
    let g = map.get(key);
    if (g === undefined) {
      if (map.size >= cap) key = OTHER;
      g = map.get(key);
      if (g === undefined) {
        g = newGroup();
        map.set(key, g);
      }
    }
    return g;
  }

  /** For the live progress line. */
  progress(nowMs: number): ProgressSnapshot {
    const dt = nowMs - this.progressAt;
    const n = this.total + this.warmupSeen;
    const perSecond = dt > 0 ? ((n - this.progressCount) * 1000) / dt : 0;
    this.progressAt = nowMs;
    this.progressCount = n;
    const h = this.overall.completeUs;
    return {
      elapsedMs: nowMs - this.origin,
      requests: n,
      perSecond,
      p99Us: percentileUs(h, 99),
      errors: this.errorsTotal,
      warmup: nowMs - this.origin < this.warmupMs,
    };
  }

  /** The overall time-to-complete histogram (for --hgrm). */
  get completeHistogram(): Histogram {
    return this.overall.completeUs;
  }

  report(
    schedule: ScheduleStats,
    connections: (ConnectionStats & { target: string })[],
    config: Record<string, unknown>,
    startedAt: string,
  ): ReplayReport {
    const measuredMs = Math.max(
      0,
      (this.lastEndMs === 0 ? this.origin + schedule.elapsedMs : this.lastEndMs) - this.origin - this.warmupMs,
    );
    const groups = (
      map: Map<string, Group>,
      order: (a: [string, Group], b: [string, Group]) => number,
    ): GroupReport[] =>
      [...map.entries()].sort(order).map(([name, g]) => ({
        name,
        count: g.count,
        share: this.total === 0 ? 0 : g.count / this.total,
        timeToHeadersUs: latencyReport(g.headersUs),
        timeToCompleteUs: latencyReport(g.completeUs),
      }));
    const byCount = (a: [string, Group], b: [string, Group]): number =>
      b[1].count - a[1].count || a[0].localeCompare(b[0]);
    const byRoute = groups(this.foldTargets(), byCount);
    return {
      config,
      startedAt,
      schedule,
      measuredMs,
      requests: {
        total: this.total,
        responses: this.responses,
        errors: this.errorsTotal,
        perSecond: measuredMs > 0 ? (this.responses * 1000) / measuredMs : 0,
        warmupResponses: this.warmupResponses,
      },
      latency: {
        unit: 'µs',
        timeToHeadersUs: latencyReport(this.overall.headersUs),
        timeToCompleteUs: latencyReport(this.overall.completeUs),
      },
      byRoute,
      byStatusClass: groups(this.classes, (a, b) => a[0].localeCompare(b[0])),
      statuses: [...this.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([status, count]) => ({ status, count })),
      errors: {
        total: this.errorsTotal,
        byKind: (Object.keys(ERROR_KINDS) as ErrorKind[]).flatMap((kind) => {
          const e = this.errorCounts.get(kind);
          return e === undefined ? [] : [{ kind, count: e.count, example: e.example }];
        }),
      },
      throughput: {
        intervalMs: 1000,
        series: this.perSecondResponses.map((responses, second) => ({
          second,
          responses,
          errors: this.perSecondErrors[second] ?? 0,
          p99Us: this.series.p99(second),
          workers: this.series.workersAt(second),
        })),
      },
      bytes: { sent: this.bytesSent, received: this.bytesReceived, responseBodies: this.bodyBytes },
      workers: byRoute.map((g) => ({ name: g.name, count: g.count, share: g.share })),
      connections,
      verify: this.verifying
        ? {
            compared: this.verified,
            matched: this.verifiedOk,
            mismatched: this.verified - this.verifiedOk,
            byKind: [...this.mismatches.values()].sort((a, b) => b.count - a.count),
          }
        : null,
      ...(this.sessions === undefined ? {} : { sessions: this.sessions.report() }),
      warnings: warnings(schedule, this.total, this.responses),
    };
  }
}

function record(g: Group, headersUs: number, completeUs: number): void {
  g.count++;
  if (headersUs >= 0) g.headersUs.recordValue(headersUs);
  g.completeUs.recordValue(completeUs);
}

function copyHistogram(h: Histogram): Histogram {
  const c = newLatencyHistogram();
  c.add(h);
  return c;
}

/** A latency in ms on the run's clock as the histograms record it (whole µs, up to one hour). */
function toUs(ms: number): number {
  return clampUs(ms * 1000);
}

function warnings(s: ScheduleStats, total: number, responses: number): string[] {
  const w: string[] = [];
  if (s.lateSends > 0 && s.lateSends >= Math.max(1, s.sent * 0.01)) {
    w.push(
      `the generator could not keep the rate: ${s.lateSends} of ${s.sent} requests were taken up more than 10 ms after their due time ` +
        `(up to ${s.maxLateMs.toFixed(0)} ms late: CPU or event-loop lag on this machine); their latency includes that delay`,
    );
  }
  if (s.queued > 0) {
    w.push(
      `${s.queued} requests waited for a free connection (all busy; backlog up to ${s.maxBacklog}): the target did not keep up ` +
        'with the rate at this concurrency; their latency counts from when they were due',
    );
  }
  if (s.notSent > 0)
    w.push(`${s.notSent} requests were due but never sent: the run stopped while they waited for a connection`);
  if (s.abandoned > 0) w.push(`${s.abandoned} requests were still in flight when the run ended; they are not counted`);
  if (total === 0) w.push('no request was measured (check --warmup against --duration / --requests)');
  else if (responses === 0)
    w.push(`none of the ${total} measured requests got a response: every one failed (see Errors)`);
  return w;
}
