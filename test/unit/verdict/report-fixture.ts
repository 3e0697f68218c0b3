/** Builds real ReplayReports from synthetic request records (through ReplayResults, as a run does). */
import { ReplayResults } from '../../../src/load/replay-results.js';
import { newResult } from '../../../src/load/request-result.js';
import type { ReplayReport, ScheduleStats } from '../../../src/results/replay-report.js';

export interface SyntheticRequest {
  /** Completion time, ms after the measured start. */
  atMs: number;
  latencyMs: number;
  status?: number;
  route?: string | null;
  error?: 'connect-refused' | 'status-5xx' | 'timeout';
}

export function schedule(elapsedMs: number, sent: number): ScheduleStats {
  return {
    model: 'closed',
    startMs: 0,
    elapsedMs,
    stoppedBy: 'duration',
    sent,
    warmupRequests: 0,
    abandoned: 0,
    notSent: 0,
    lateSends: 0,
    maxLateMs: 0,
    queued: 0,
    maxBacklog: 0,
  };
}

/** A report whose measured window starts at `startedAt` (no warmup) and lasts `measuredMs`. */
export function buildReport(
  requests: SyntheticRequest[],
  opts: { startedAt?: string; measuredMs?: number; target?: string } = {},
): ReplayReport {
  const results = new ReplayResults([opts.target ?? 'ajp://127.0.0.1:8009']);
  const origin = 1000;
  results.begin(origin, 0);
  let seq = 0;
  for (const q of requests) {
    const r = newResult();
    r.seq = seq++;
    r.intendedMs = r.sentMs = origin + q.atMs - q.latencyMs;
    r.endMs = origin + q.atMs;
    r.headersMs = r.endMs;
    r.error = q.error ?? null;
    r.status =
      q.error === 'connect-refused' || q.error === 'timeout' ? 0 : (q.status ?? (q.error === 'status-5xx' ? 500 : 200));
    if (r.status === 0) r.headersMs = -1;
    r.route = q.route ?? null;
    r.bytesSent = 100;
    r.bytesReceived = 1000;
    r.bodyBytes = 900;
    results.add(r);
  }
  const measuredMs = opts.measuredMs ?? Math.max(0, ...requests.map((q) => q.atMs));
  const report = results.report(
    schedule(measuredMs, requests.length),
    [],
    { warmupMs: 0, targets: [opts.target ?? 'ajp://127.0.0.1:8009'] },
    opts.startedAt ?? '2026-01-01T00:00:00.000Z',
  );
  // The accumulator ends the window at the last result; a run's report says how long it measured.
  report.measuredMs = measuredMs;
  report.requests.perSecond = measuredMs > 0 ? (report.requests.responses * 1000) / measuredMs : 0;
  return report;
}

/** `n` requests evenly over `seconds`, latencies cycling through `latenciesMs`. */
export function steady(
  n: number,
  seconds: number,
  latenciesMs: number[],
  extra: Partial<SyntheticRequest> = {},
): SyntheticRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    atMs: ((i + 0.5) * seconds * 1000) / n,
    latencyMs: latenciesMs[i % latenciesMs.length] as number,
    ...extra,
  }));
}
