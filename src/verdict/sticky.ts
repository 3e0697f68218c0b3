/**
 * The stickiness check of `fairness --sticky`: open sessions through the balancer, then follow
 * each with its cookie; every follow-up must land on the worker named by the route suffix of its
 * session id (mod_jk sticky_session, mod_proxy_balancer stickysession, Tomcat's jvmRoute).
 * Where a follow-up landed is read from the route header (X-Served-By), else from a new session
 * cookie the backend set (a worker that does not know the session starts a new one); with
 * neither, the follow-up's worker is unknown and counted as such.
 *
 * Bounded: `sessions × (1 + followUps)` requests at most, `concurrency` sessions at a time, each
 * request with a timeout; only http:// targets (a balancer in front of the workers).
 */
import { Agent, request } from 'node:http';
import { routeFromSetCookie } from './route.js';

export interface StickyOptions {
  /** http://host:port/path: the balancer and the path that opens a session. */
  url: string;
  sessions: number;
  followUps: number;
  /** Lowercase header naming the backend (x-served-by); null: none. */
  routeHeader: string | null;
  concurrency: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface StickyWorker {
  worker: string;
  sessions: number;
  followUps: number;
  /** Follow-ups of this worker's sessions that landed elsewhere. */
  violations: number;
  /** Where they went instead. */
  landedOn: Record<string, number>;
}

export interface StickyResult {
  url: string;
  /** Sessions asked for, and opened (a session cookie with a route came back). */
  sessions: number;
  opened: number;
  followUps: number;
  violations: number;
  /** Follow-ups whose worker could not be told (no route header, no new cookie). */
  unknown: number;
  /** Requests that failed (no response, or 5xx). */
  errors: number;
  byWorker: StickyWorker[];
  pass: boolean;
  failures: string[];
}

interface Answer {
  status: number;
  route: string | null;
  cookieRoute: string | null;
  cookie: string | null;
}

function fetchOnce(
  agent: Agent,
  url: URL,
  cookie: string | null,
  routeHeader: string | null,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent,
        method: 'GET',
        headers: { 'user-agent': 'ajpbench fairness --sticky', accept: '*/*', ...(cookie === null ? {} : { cookie }) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const set = res.headers['set-cookie'] ?? [];
          let cookieRoute: string | null = null;
          let newCookie: string | null = null;
          for (const c of set) {
            const r = routeFromSetCookie(c);
            if (r !== null) {
              cookieRoute = r.route;
              newCookie = r.cookie;
            }
          }
          const h = routeHeader === null ? undefined : res.headers[routeHeader];
          const route = typeof h === 'string' && h !== '' ? h : null;
          resolve({ status: res.statusCode ?? 0, route, cookieRoute, cookie: newCookie });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function checkStickiness(opts: StickyOptions): Promise<StickyResult> {
  const url = new URL(opts.url);
  if (url.protocol !== 'http:') throw new RangeError('--sticky needs an http:// target (the balancer)');
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const by = new Map<string, StickyWorker>();
  let opened = 0;
  let followUps = 0;
  let violations = 0;
  let unknown = 0;
  let errors = 0;
  let next = 0;
  const one = async (): Promise<void> => {
    const first = await fetchOnce(agent, url, null, opts.routeHeader, opts.timeoutMs).catch(() => null);
    if (first === null || first.status >= 500 || first.status === 0) {
      errors++;
      return;
    }
    if (first.cookie === null || first.cookieRoute === null) return;
    opened++;
    const home = first.cookieRoute;
    let w = by.get(home);
    if (w === undefined) {
      w = { worker: home, sessions: 0, followUps: 0, violations: 0, landedOn: {} };
      by.set(home, w);
    }
    w.sessions++;
    for (let i = 0; i < opts.followUps && opts.signal?.aborted !== true; i++) {
      const a: Answer | null = await fetchOnce(agent, url, first.cookie, opts.routeHeader, opts.timeoutMs).catch(
        () => null,
      );
      followUps++;
      w.followUps++;
      if (a === null || a.status >= 500 || a.status === 0) {
        errors++;
        continue;
      }
      const landed = a.route ?? a.cookieRoute;
      if (landed === null) {
        unknown++;
        continue;
      }
      if (landed !== home) {
        violations++;
        w.violations++;
        w.landedOn[landed] = (w.landedOn[landed] ?? 0) + 1;
      }
    }
  };
  const worker = async (): Promise<void> => {
    while (next < opts.sessions && opts.signal?.aborted !== true) {
      next++;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, opts.sessions)) }, worker));
  } finally {
    agent.destroy();
  }
  const failures: string[] = [];
  if (opened === 0)
    failures.push(
      `no session was opened: ${opts.url} set no JSESSIONID cookie with a route (point --sticky at a page that creates a session)`,
    );
  if (violations > 0) {
    const list = [...by.values()]
      .filter((w) => w.violations > 0)
      .map((w) => `${w.worker}: ${w.violations} of ${w.followUps}`);
    failures.push(`${violations} follow-ups left their session's worker (${list.join(', ')})`);
  }
  if (opened > 0 && unknown === followUps && followUps > 0)
    failures.push('no follow-up said where it landed: give --route-header (e.g. X-Served-By)');
  return {
    url: opts.url,
    sessions: opts.sessions,
    opened,
    followUps,
    violations,
    unknown,
    errors,
    byWorker: [...by.values()].sort((a, b) => a.worker.localeCompare(b.worker)),
    pass: failures.length === 0,
    failures,
  };
}
