/**
 * `fairness --sticky --recorded-sessions`: stickiness judged on the trace's own sessions, replayed
 * with `--sessions` (load/session-source.ts), rather than on synthetic ones (sticky.ts). A session
 * passes when every response that named a worker named the same one; one served by two workers
 * was moved by the balancer (sticky_session off, a failover, a route that matches no worker).
 */
import type { SessionsReport } from '../results/replay-report.js';

export interface SessionStickyWorker {
  worker: string;
  /** Sessions this worker served first, and those of them that moved. */
  sessions: number;
  broken: number;
  /** Where the moved ones went next (from the sessions the report lists). */
  movedTo: Record<string, number>;
}

export interface SessionStickyResult {
  started: number;
  completed: number;
  kept: number;
  broken: number;
  /** Sessions no response of which named a worker. */
  unknown: number;
  byWorker: SessionStickyWorker[];
  pass: boolean;
  failures: string[];
}

export function judgeSessionStickiness(s: SessionsReport | undefined): SessionStickyResult {
  const failures: string[] = [];
  if (s === undefined || s.started === 0) {
    failures.push(
      'no session of the trace was replayed: its exchanges carry no JSESSIONID (Cookie, ;jsessionid= or Set-Cookie), or the run ended first',
    );
    return { started: 0, completed: 0, kept: 0, broken: 0, unknown: 0, byWorker: [], pass: false, failures };
  }
  const byWorker: SessionStickyWorker[] = s.byRoute.map((r) => ({
    worker: r.route,
    sessions: r.sessions,
    broken: r.broken,
    movedTo: {},
  }));
  for (const one of s.list) {
    const [home, next] = one.routes;
    if (home === undefined || next === undefined) continue;
    const w = byWorker.find((x) => x.worker === home);
    if (w !== undefined) w.movedTo[next] = (w.movedTo[next] ?? 0) + 1;
  }
  if (s.broken > 0) {
    const list = byWorker.filter((w) => w.broken > 0).map((w) => `${w.worker}: ${w.broken} of ${w.sessions}`);
    failures.push(`${s.broken} of ${s.started} sessions were served by more than one worker (${list.join(', ')})`);
  }
  if (s.unknown === s.started)
    failures.push('no response said which worker served it: give --route-header (e.g. X-Served-By)');
  return {
    started: s.started,
    completed: s.completed,
    kept: s.kept,
    broken: s.broken,
    unknown: s.unknown,
    byWorker: byWorker.sort((a, b) => a.worker.localeCompare(b.worker)),
    pass: failures.length === 0,
    failures,
  };
}
