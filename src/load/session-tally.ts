/**
 * Counts replayed sessions (`--sessions`) from the result records, for ReplayResults: a session
 * starts with the record of its first step and ends with the record of its last (a session's
 * requests go one at a time, so they come in order); the routes its responses named say whether
 * the balancer kept it on one worker. Memory: one entry per session in progress, and the capped
 * lists of finished ones.
 */
import {
  MAX_LISTED_SESSIONS,
  MAX_SESSION_ROUTES,
  type SessionReport,
  type SessionsReport,
} from '../results/replay-report.js';
import type { RequestResult } from './request-result.js';

export class SessionTally {
  private readonly running = new Map<number, SessionReport>();
  private started = 0;
  private completed = 0;
  private requests = 0;
  private sessionless = 0;
  /** Of the finished sessions. */
  private readonly counts: Counts = { kept: 0, broken: 0, unknown: 0, withErrors: 0, renewed: 0, byRoute: new Map() };
  private readonly brokenList: SessionReport[] = [];
  private readonly keptList: SessionReport[] = [];
  private finished = 0;

  /** Every record, warmup included (a session that started in the warmup is left out). */
  add(r: RequestResult): void {
    const tag = r.session;
    if (tag === null) {
      if (!r.warmup) this.sessionless++;
      return;
    }
    let s = this.running.get(tag.instance);
    if (r.sessionStep === 0 && !r.warmup) {
      s = {
        id: tag.key,
        pass: tag.pass,
        steps: tag.steps,
        requests: 0,
        completed: false,
        errors: 0,
        targetSessions: 0,
        routes: [],
      };
      this.running.set(tag.instance, s);
      this.started++;
    }
    if (s === undefined) return;
    s.requests++;
    this.requests++;
    if (r.error !== null) s.errors++;
    if (r.sessionCookie !== null && r.sessionCookie !== '') s.targetSessions++;
    if (r.route !== null && !s.routes.includes(r.route) && s.routes.length < MAX_SESSION_ROUTES) s.routes.push(r.route);
    if (r.sessionStep >= tag.steps - 1) {
      s.completed = true;
      this.running.delete(tag.instance);
      this.finish(s);
    }
  }

  /** The sessions so far; those still under way count as started, not completed. */
  report(): SessionsReport {
    const counts: Counts = {
      ...this.counts,
      byRoute: new Map([...this.counts.byRoute].map(([k, v]) => [k, { ...v }])),
    };
    const cut = [...this.running.values()];
    for (const s of cut) count(counts, s);
    const brokenCut = cut.filter((s) => s.routes.length > 1);
    const keptCut = cut.filter((s) => s.routes.length <= 1);
    const list = [...this.brokenList, ...brokenCut, ...this.keptList, ...keptCut].slice(0, MAX_LISTED_SESSIONS);
    return {
      started: this.started,
      completed: this.completed,
      kept: counts.kept,
      broken: counts.broken,
      unknown: counts.unknown,
      withErrors: counts.withErrors,
      renewed: counts.renewed,
      requests: this.requests,
      sessionless: this.sessionless,
      byRoute: [...counts.byRoute]
        .map(([route, v]) => ({ route, ...v }))
        .sort((a, b) => b.sessions - a.sessions || a.route.localeCompare(b.route)),
      list,
      unlisted: this.finished + cut.length - list.length,
    };
  }

  private finish(s: SessionReport): void {
    this.completed++;
    this.finished++;
    count(this.counts, s);
    const list = s.routes.length > 1 ? this.brokenList : this.keptList;
    if (list.length < MAX_LISTED_SESSIONS) list.push(s);
  }
}

interface Counts {
  kept: number;
  broken: number;
  unknown: number;
  withErrors: number;
  renewed: number;
  byRoute: Map<string, { sessions: number; broken: number }>;
}

function count(c: Counts, s: SessionReport): void {
  if (s.errors > 0) c.withErrors++;
  if (s.targetSessions > 1) c.renewed++;
  const home = s.routes[0];
  if (home === undefined) {
    c.unknown++;
    return;
  }
  const broken = s.routes.length > 1;
  if (broken) c.broken++;
  else c.kept++;
  let r = c.byRoute.get(home);
  if (r === undefined) c.byRoute.set(home, (r = { sessions: 0, broken: 0 }));
  r.sessions++;
  if (broken) r.broken++;
}
