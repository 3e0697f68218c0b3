/**
 * What a replay measured, as `replay --json` writes it and everything after the run reads it
 * (merging, thresholds, verdicts, tables, the HTML report): load fills these records
 * (load/replay-results.ts), the rest only reads them. docs/results.schema.json describes the
 * same shape, and results-file.ts checks a file against it.
 */
import type { ErrorKind } from './error-kinds.js';
import type { GeneratorReport } from './generator-report.js';
import type { LatencyReport } from './latency-histogram.js';

/** Distinct workers (routes, else targets) and mismatch kinds a report lists, overall and per second; further ones count under OTHER. */
export const MAX_ROUTES = 64;
/** The row that counts what fell beyond MAX_ROUTES. */
export const OTHER = '(other)';
/** Mismatch examples kept per kind. */
export const MISMATCH_EXAMPLES = 3;

/** The status class a response counts under in `byStatusClass`: `1xx` to `5xx`, else `other`. */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'other';

const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** Looked up, not built: replay calls it once per response. */
export function statusClass(status: number): StatusClass {
  return status >= 100 && status < 600 ? (STATUS_CLASSES[Math.floor(status / 100) - 1] as StatusClass) : 'other';
}

export type ScheduleStopReason = 'requests' | 'duration' | 'trace-end' | 'signal';

/** What the scheduler did (load/schedulers.ts counts it). */
export interface ScheduleStats {
  model: string;
  /** Clock time of the start (ms). */
  startMs: number;
  /** When the last result came in, ms after the start. */
  elapsedMs: number;
  stoppedBy: ScheduleStopReason;
  /** Requests handed to a client (warmup included). */
  sent: number;
  warmupRequests: number;
  /** Sent but neither finished nor failed when the run had to end (their results are not counted). */
  abandoned: number;
  /** Open loop: due and queued, but never sent because the run was stopped (Ctrl-C, or the drain time ran out). */
  notSent: number;
  /** Open loop: taken off the schedule more than LATE_MS (load/schedulers.ts) after their due time (the generator lagged). */
  lateSends: number;
  maxLateMs: number;
  /** Open loop: waited for a free connection (all `concurrency` busy). */
  queued: number;
  maxBacklog: number;
}

/** What a client's connections did (load/load-client.ts counts it). */
export interface ConnectionStats {
  /** Connections opened (successfully). */
  opened: number;
  /** Connection attempts that failed. */
  failed: number;
  /** Requests sent on a connection that had served one before. */
  reused: number;
  /** Connections closed because the response said not to reuse them (AJP End Response reuse=0). */
  closedNoReuse: number;
  /** Connections closed after an error (timeout, reset, protocol error). */
  closedOnError: number;
  /** CPing round trips made and failed (AJP --ping). */
  cpings: number;
  cpingFailures: number;
}

export interface GroupReport {
  name: string;
  count: number;
  /** Of the measured requests. */
  share: number;
  timeToHeadersUs: LatencyReport;
  timeToCompleteUs: LatencyReport;
}

export interface MismatchReport {
  kind: string;
  count: number;
  examples: { exchangeId: number; uri: string; expected: string | number | null; actual: string | number | null }[];
}

/** Sessions listed one by one in a report (broken ones first); the rest are only counted. */
export const MAX_LISTED_SESSIONS = 1000;
/** Routes kept per listed session. */
export const MAX_SESSION_ROUTES = 16;

/** One replayed session (`replay --sessions`). */
export interface SessionReport {
  /** The recorded session: its JSESSIONID without the route. */
  id: string;
  /** The pass over the trace (0 = first). */
  pass: number;
  /** Its exchanges in the trace, and those replayed (each got a response or failed). */
  steps: number;
  requests: number;
  /** Every exchange of it was replayed. */
  completed: boolean;
  /** Requests of it that failed (no response, or 5xx). */
  errors: number;
  /** Session ids the target handed out during it (Set-Cookie JSESSIONID): 1 when it kept the session, more when it started over. */
  targetSessions: number;
  /** The routes that served it, in the order seen; more than one is a stickiness break. */
  routes: string[];
}

/**
 * `replay --sessions`: sessions counted by their first request (one started during the warmup
 * is left out), and how the target's balancer kept them.
 */
export interface SessionsReport {
  started: number;
  /** Every exchange replayed; the others were cut short by the end of the run. */
  completed: number;
  /** Served by one route throughout. */
  kept: number;
  /** Served by more than one route: the balancer moved them (stickiness broke, or a failover). */
  broken: number;
  /** No response of them named a route (no Set-Cookie route, no --route-header). */
  unknown: number;
  /** Sessions in which a request failed. */
  withErrors: number;
  /** Sessions for which the target handed out more than one session id (it lost the session: another worker, a restart, an expiry). */
  renewed: number;
  /** Measured requests inside sessions, and outside any. */
  requests: number;
  sessionless: number;
  /** Per route a session was first served by: sessions, and how many of them broke. */
  byRoute: { route: string; sessions: number; broken: number }[];
  /** Up to MAX_LISTED_SESSIONS sessions, broken ones first; `unlisted` counts the rest. */
  list: SessionReport[];
  unlisted: number;
}

/** The words of the warning sessionsWarning gives (parallel-replay drops the workers' own). */
export const SESSIONS_MOVED = 'replayed sessions were served by more than one worker';

/** A run's warning when the target's balancer moved replayed sessions between workers. */
export function sessionsWarning(s: SessionsReport | undefined): string | undefined {
  if (s === undefined || s.broken === 0) return undefined;
  return `${s.broken} of ${s.started} ${SESSIONS_MOVED}: the balancer did not keep them (not sticky, a failover, or a route that names no worker); see Sessions`;
}

export interface ReplayReport {
  /** Run settings as resolved (targets, model, limits, flags). */
  config: Record<string, unknown>;
  startedAt: string;
  schedule: ScheduleStats;
  /** Measured window: from the end of the warmup to the last result, ms. */
  measuredMs: number;
  requests: {
    /** Measured requests (warmup excluded) that ended, with or without a response. */
    total: number;
    /**
     * With a response (any status): headers and the end of it came. A reply cut short after its
     * headers is an error only, never a response (failResult).
     */
    responses: number;
    /** Failed (no response) or 5xx. */
    errors: number;
    /** Responses during the warmup (kept out of everything else; says whether the target ever answered). Absent in older results. */
    warmupResponses?: number;
    /** Ended responses per second over the measured window. */
    perSecond: number;
  };
  latency: { unit: 'µs'; timeToHeadersUs: LatencyReport; timeToCompleteUs: LatencyReport };
  byRoute: GroupReport[];
  byStatusClass: GroupReport[];
  statuses: { status: number; count: number }[];
  errors: { total: number; byKind: { kind: ErrorKind; count: number; example: string | null }[] };
  throughput: {
    intervalMs: 1000;
    /** Per second of the measured window: responses, errors, the p99 (µs) of the responses that ended in it, and requests per worker (route, else target). */
    series: {
      second: number;
      responses: number;
      errors: number;
      p99Us: number | null;
      workers: Record<string, number>;
    }[];
  };
  bytes: { sent: number; received: number; responseBodies: number };
  /** Share of requests per backend (route, else the target). */
  workers: { name: string; count: number; share: number }[];
  connections: (ConnectionStats & { target: string })[];
  verify: null | { compared: number; matched: number; mismatched: number; byKind: MismatchReport[] };
  /** The generator's own CPU, event-loop delay and late sends, and whether it was the bottleneck. Absent in older results. */
  generator?: GeneratorReport;
  /** `--sessions`: the replayed sessions. Absent without it, and in older results. */
  sessions?: SessionsReport;
  warnings: string[];
}

/** The live progress line's figures, taken while a run goes on. */
export interface ProgressSnapshot {
  elapsedMs: number;
  requests: number;
  /** Over the last progress interval. */
  perSecond: number;
  p99Us: number | null;
  errors: number;
  warmup: boolean;
}

/** Whether a parsed JSON value looks like a replay results file (`replay --json`). */
export function isReplayReport(v: unknown): v is ReplayReport {
  if (v === null || typeof v !== 'object') return false;
  const r = v as Partial<ReplayReport>;
  return (
    typeof r.startedAt === 'string' &&
    typeof r.measuredMs === 'number' &&
    r.requests !== undefined &&
    r.latency !== undefined &&
    r.throughput !== undefined &&
    Array.isArray(r.byRoute)
  );
}
