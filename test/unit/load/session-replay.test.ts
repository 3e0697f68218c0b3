/**
 * replay --sessions: each recorded session replayed as one, in order and one request at a time,
 * with a cookie jar that carries the target's session id; sessions counted and judged (kept on one
 * route, moved, renewed) under every load model, limit and loop; the jar's rewriting on its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { replay, type ReplayOptions } from '../../../src/load/replay.js';
import { toReplayRequest } from '../../../src/load/replay-request.js';
import { newResult, type SessionTag } from '../../../src/load/request-result.js';
import { sessionRequest, withSessionCookie, withUriSession } from '../../../src/load/session-jar.js';
import { TraceRequestSource } from '../../../src/load/request-source.js';
import { SessionRequestSource } from '../../../src/load/session-source.js';
import { SessionTally } from '../../../src/load/session-tally.js';
import { parseTarget } from '../../../src/load/target.js';
import type { SessionsReport } from '../../../src/results/replay-report.js';
import { mergeSessions } from '../../../src/results/merge-results.js';
import { startSessionServer, type SessionServer } from '../../fixtures/session-server.js';
import {
  recordedSessionId,
  sessionTraceEvents,
  writeSessionTrace,
  type SessionTraceOptions,
} from '../../fixtures/session-trace.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';
import { TraceWriter } from '../../../src/trace/index.js';
import { exchange } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-sessions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAPE: SessionTraceOptions = {
  sessions: 6,
  steps: 4,
  sessionPath: '/app/session.jsp',
  plainPath: '/app/echo.jsp',
  sessionless: 3,
  uriSessions: [2],
};

async function traceFile(name: string, o: SessionTraceOptions = SHAPE): Promise<string> {
  const file = join(dir, `${name}.trace.jsonl`);
  await writeSessionTrace(file, o);
  return file;
}

function options(trace: string, urls: string[], over: Partial<ReplayOptions> = {}): ReplayOptions {
  return {
    trace,
    targets: urls.map((u) => parseTarget(u)),
    model: 'closed',
    concurrency: 4,
    limits: { warmupMs: 0, durationMs: 20_000, requests: Infinity },
    sessions: true,
    routeHeader: 'x-served-by',
    ...over,
  };
}

/** The server's requests on the session page, grouped by the session they were served in. */
function bySession(s: SessionServer): Map<string, { url: string; cookie: string | null }[]> {
  const out = new Map<string, { url: string; cookie: string | null }[]>();
  for (const r of s.seen) {
    if (!r.url.startsWith('/app/session.jsp')) continue;
    out.set(r.session, [...(out.get(r.session) ?? []), { url: r.url, cookie: r.cookie }]);
  }
  return out;
}

describe('the cookie jar', () => {
  it('puts the target’s id in place of the recorded JSESSIONID, keeping the other cookies and their order', () => {
    expect(withSessionCookie('theme=dark; JSESSIONID=REC.tomcat1; lang=de', 'T9.tomcat2')).toBe(
      'theme=dark; JSESSIONID=T9.tomcat2; lang=de',
    );
    expect(withSessionCookie('JSESSIONID=a.t1; JSESSIONID=b.t1', 'x.t2')).toBe('JSESSIONID=x.t2');
    expect(withSessionCookie('theme=dark', 'x.t2')).toBe('theme=dark');
  });
  it('before the target set one, drops the recorded id (and the header when nothing else is left)', () => {
    expect(withSessionCookie('theme=dark; JSESSIONID=REC.tomcat1', null)).toBe('theme=dark');
    expect(withSessionCookie('JSESSIONID=REC.tomcat1', null)).toBeNull();
  });
  it('rewrites or removes ;jsessionid= path parameters', () => {
    expect(withUriSession('/app/cart.jsp;jsessionid=REC.tomcat1', 'T1.tomcat2')).toBe(
      '/app/cart.jsp;jsessionid=T1.tomcat2',
    );
    expect(withUriSession('/app/cart.jsp;jsessionid=REC.tomcat1', null)).toBe('/app/cart.jsp');
    expect(withUriSession('/app/plain.jsp', 'x')).toBe('/app/plain.jsp');
  });
  it('builds a fresh request without the clients’ cached wire forms, and leaves the trace’s request as it was', () => {
    const req = toReplayRequest(
      exchange({
        headers: [
          ['host', 'h'],
          ['cookie', 'JSESSIONID=REC.tomcat1; a=1'],
        ],
        uri: '/x;jsessionid=REC.tomcat1',
      }),
    );
    req.ajpFrame = Buffer.from('cached');
    req.httpHeaders = ['cookie', 'JSESSIONID=REC.tomcat1'];
    req.http1Bytes = Buffer.from('GET /x;jsessionid=REC.tomcat1 HTTP/1.1\r\n\r\n');
    req.http1Key = 'net';
    const tag: SessionTag = { instance: 3, key: 'REC', pass: 0, steps: 2 };
    const out = sessionRequest(req, 'T.tomcat2', tag, 1, 42);
    expect(out).not.toBe(req);
    expect(out.ajpFrame).toBeUndefined();
    expect(out.httpHeaders).toBeUndefined();
    expect(out.http1Bytes).toBeUndefined();
    expect(out.http1Key).toBeUndefined();
    expect(out.headers.find((h) => h.name === 'cookie')).toEqual({
      name: 'cookie',
      value: 'JSESSIONID=T.tomcat2; a=1',
      coded: true,
    });
    expect(out.uri).toBe('/x;jsessionid=T.tomcat2');
    expect(out.displayUri).toBe('/x;jsessionid=REC.tomcat1');
    expect([out.session, out.sessionStep, out.sessionReadyMs]).toEqual([tag, 1, 42]);
    expect(req.headers.find((h) => h.name === 'cookie')?.value).toBe('JSESSIONID=REC.tomcat1; a=1');
    expect(req.ajpFrame?.toString()).toBe('cached');
  });
});

describe('grouping a trace into sessions', () => {
  async function load(file: string, extra: { loop?: boolean; stride?: { every: number; offset: number } } = {}) {
    const trace = await TraceRequestSource.open(file);
    return SessionRequestSource.load(trace, { order: 'continuing', loop: extra.loop ?? false, ...extra });
  }
  it('one unit per session (its exchanges by recorded time, whatever order the trace lists them in), one per exchange without', async () => {
    const src = await load(await traceFile('group'));
    expect([src.units, src.sessions]).toEqual([9, 6]);
    // Take everything, ending each request at once: every session's steps come in recorded order.
    const steps = new Map<string, number[]>();
    let plain = 0;
    for (let r = src.next(); r !== undefined; r = src.next()) {
      if (r.session === undefined) plain++;
      else steps.set(r.session.key, [...(steps.get(r.session.key) ?? []), r.t]);
      src.ended(r, newResult());
    }
    expect(src.exhausted).toBe(true);
    expect(plain).toBe(3);
    expect([...steps.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5].map(recordedSessionId));
    for (const ts of steps.values()) {
      expect(ts).toHaveLength(4);
      expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    }
    src.close();
  });
  it('hands out a session’s next request only after the previous one ended', async () => {
    const src = await load(await traceFile('one-at-a-time', { ...SHAPE, sessions: 1, sessionless: 0 }));
    const first = src.next();
    expect(first?.sessionStep).toBe(0);
    expect(src.next()).toBeUndefined();
    expect(src.exhausted).toBe(false);
    const more = src.waitForMore();
    const rec = newResult();
    rec.sessionCookie = 'T1.tomcat2';
    rec.endMs = 123;
    src.ended(first!, rec);
    await more;
    const second = src.next();
    expect([second?.sessionStep, second?.sessionReadyMs]).toEqual([1, 123]);
    expect(second?.headers.find((h) => h.name === 'cookie')?.value).toBe('theme=dark; JSESSIONID=T1.tomcat2');
    src.close();
  });
  it('--workers: threads take whole sessions, every session exactly once', async () => {
    const file = await traceFile('stride');
    const keys = async (offset: number): Promise<string[]> => {
      const src = await load(file, { stride: { every: 2, offset } });
      const out = new Set<string>();
      for (let r = src.next(); r !== undefined; r = src.next()) {
        if (r.session !== undefined) out.add(r.session.key);
        src.ended(r, newResult());
      }
      src.close();
      return [...out];
    };
    const [a, b] = await Promise.all([keys(0), keys(1)]);
    expect(a.filter((k) => b.includes(k))).toEqual([]);
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3, 4, 5].map(recordedSessionId));
  });
  it('a redacted trace cannot tell sessions apart: its exchanges go without a session, and it says so', async () => {
    const file = join(dir, 'redacted.trace.jsonl');
    const events = await writeSessionTrace(file, { ...SHAPE, sessionless: 0 });
    expect(events.length).toBe(24);
    const redacted = join(dir, 'redacted2.trace.jsonl');
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(redacted, readFileSync(file, 'utf8').replace(/REC\d{4}ABCDEF0123456789/g, 'REDACTED'));
    const notes: string[] = [];
    const trace = await TraceRequestSource.open(redacted);
    const src = await SessionRequestSource.load(trace, {
      order: 'continuing',
      loop: false,
      onIssue: (m) => notes.push(m),
    });
    expect(src.sessions).toBe(0);
    expect(src.units).toBe(24);
    expect(notes.join('\n')).toMatch(/24 exchanges carry a redacted session id.*before format 1.2/);
    src.close();
  });
});

describe('replay --sessions against a server that keeps sessions', () => {
  let a: SessionServer;
  let b: SessionServer;
  beforeAll(async () => {
    a = await startSessionServer({ route: 'r1' });
    b = await startSessionServer({ route: 'r2' });
  });
  afterEach(() => {
    for (const s of [a, b]) {
      s.seen.length = 0;
      s.hits.clear();
    }
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('closed loop: every session in order, one request at a time, carrying the id the target set', async () => {
    const { report } = await replay(options(await traceFile('closed'), [a.url]));
    expect(a.seen.every((r) => r.concurrent === 1)).toBe(true);
    const sessions = bySession(a);
    expect(sessions.size).toBe(6);
    for (const [id, reqs] of sessions) {
      expect(reqs).toHaveLength(4);
      // The first carries no session (the recorded one is dropped); the others the target's, never the recorded one.
      expect(reqs[0]?.cookie ?? '').not.toMatch(/JSESSIONID/);
      for (const r of reqs.slice(1)) expect(`${r.cookie ?? ''} ${r.url}`).toContain(id);
    }
    expect(a.seen.some((r) => `${r.cookie ?? ''}${r.url}`.includes('REC'))).toBe(false);
    // The recorded session that used the path parameter keeps using it; the others keep their theme cookie.
    expect(a.seen.filter((r) => /;jsessionid=\d{6}\.r1$/.test(r.url))).toHaveLength(3);
    expect(a.seen.filter((r) => r.cookie === null || r.cookie.includes('theme=dark')).length).toBe(a.seen.length);
    const s = report.sessions as SessionsReport;
    expect(s).toMatchObject({ started: 6, completed: 6, kept: 6, broken: 0, unknown: 0, renewed: 0 });
    expect([s.requests, s.sessionless]).toEqual([24, 3]);
    expect(s.byRoute).toEqual([{ route: 'r1', sessions: 6, broken: 0 }]);
    expect(s.list.every((x) => x.targetSessions === 1 && x.completed && x.routes.join() === 'r1')).toBe(true);
    expect(report.config.sessions).toBe(true);
    expect(report.config.sessionsInTrace).toEqual({ sessions: 6, exchanges: 24, sessionless: 3 });
  });

  it('several targets: each session stays with one, the sessions dealt between them', async () => {
    const { report } = await replay(options(await traceFile('two'), [a.url, b.url]));
    for (const s of [a, b]) {
      const sessions = bySession(s);
      expect(sessions.size).toBe(3);
      for (const reqs of sessions.values()) expect(reqs).toHaveLength(4);
    }
    expect(report.sessions?.byRoute).toEqual([
      { route: 'r1', sessions: 3, broken: 0 },
      { route: 'r2', sessions: 3, broken: 0 },
    ]);
  });

  it('recorded timing and a constant rate: still one request at a time per session, every session complete', async () => {
    const file = await traceFile('open');
    for (const over of [
      { model: 'recorded', speed: 2 },
      { model: 'open', rate: 400 },
    ] as const) {
      a.seen.length = 0;
      const { report } = await replay(options(file, [a.url], over));
      expect(a.seen.every((r) => r.concurrent === 1)).toBe(true);
      expect(report.sessions).toMatchObject({ started: 6, completed: 6, kept: 6 });
      expect(report.requests.total).toBe(27);
    }
  });

  it('recorded timing: a session’s request is not due before its previous one ended (latency counts from then)', async () => {
    const slow = await startSessionServer({ route: 'r1', delayMs: 300 });
    try {
      // Recorded 1 ms apart, served in 300 ms: a session's third request is due by the recording at
      // 4 ms but can go only at about 600 ms; counted from the recording it would take 900 ms. The
      // bar sits halfway, so a crowded machine (load average 11 seen) cannot cross it either way.
      const { report } = await replay(
        options(await traceFile('slow', { ...SHAPE, sessions: 2, steps: 3, sessionless: 0 }), [slow.url], {
          model: 'recorded',
        }),
      );
      expect(slow.seen.every((r) => r.concurrent === 1)).toBe(true);
      expect(report.sessions).toMatchObject({ started: 2, completed: 2 });
      expect(report.latency.timeToCompleteUs.max ?? 0).toBeLessThan(600_000);
      expect(report.schedule.elapsedMs).toBeGreaterThanOrEqual(3 * 300);
    } finally {
      await slow.close();
    }
  });

  it('recorded timing: a request taken before it was due goes back, so a session ready meanwhile is not held up', async () => {
    // Session A at 0 and 20 ms, an exchange without a session at 600 ms. When A's first request is
    // out, the next ready one is the 600 ms exchange; A's second, ready at about 5 ms, must not wait for it.
    const file = join(dir, 'put-back.trace.jsonl');
    const events = sessionTraceEvents({ ...SHAPE, sessions: 1, steps: 2, sessionless: 1 });
    for (const e of events) {
      const plain = e.request.uri === '/app/echo.jsp';
      const second = e.request.headers.some(([n]) => n === 'cookie');
      e.t = plain ? 600_000 : second ? 20_000 : 0;
    }
    const w = await TraceWriter.create(file, testTraceHeader());
    for (const e of events) await w.write(e);
    await w.close();
    const { report } = await replay(options(file, [a.url], { model: 'recorded' }));
    expect(a.seen.map((r) => r.url)).toEqual(['/app/session.jsp', '/app/session.jsp', '/app/echo.jsp']);
    expect(report.latency.timeToCompleteUs.max ?? 0).toBeLessThan(300_000);
    expect(report.sessions).toMatchObject({ started: 1, completed: 1 });
  });

  it('--requests ends the run mid-session: those sessions are started, not completed', async () => {
    const { report } = await replay(
      options(await traceFile('limit'), [a.url], {
        concurrency: 2,
        limits: { warmupMs: 0, durationMs: 20_000, requests: 10 },
      }),
    );
    const s = report.sessions as SessionsReport;
    expect(report.requests.total).toBe(10);
    expect(s.requests + s.sessionless).toBe(10);
    expect(s.started).toBeGreaterThan(s.completed);
    expect(s.list.filter((x) => !x.completed).length).toBe(s.started - s.completed);
  });

  it('a looped trace replays each session again as a new one', async () => {
    const { report } = await replay(
      options(await traceFile('loop'), [a.url], {
        loop: true,
        limits: { warmupMs: 0, durationMs: 20_000, requests: 54 },
      }),
    );
    const s = report.sessions as SessionsReport;
    // Two passes' worth of requests; sessions of the next pass may start while the last ones of a pass go on.
    expect(s.started).toBeGreaterThanOrEqual(12);
    expect(s.kept).toBe(s.started);
    expect(bySession(a).size).toBe(s.started);
    expect(s.list.filter((x) => x.pass === 1)).toHaveLength(6);
  });

  it('a target that does not keep sessions: every session moved and renewed, and said so', async () => {
    const rr = await startSessionServer({ route: 'r1', forget: { routes: ['r1', 'r2'] } });
    try {
      const { report } = await replay(options(await traceFile('forget'), [rr.url]));
      const s = report.sessions as SessionsReport;
      expect(s).toMatchObject({ started: 6, completed: 6, kept: 0, broken: 6, renewed: 6 });
      expect(s.list.every((x) => x.routes.length === 2 && x.targetSessions === 4)).toBe(true);
      expect(report.warnings).toContainEqual(
        expect.stringMatching(/^6 of 6 replayed sessions were served by more than one worker/),
      );
    } finally {
      await rr.close();
    }
  });
});

describe('counting sessions', () => {
  const tag = (instance: number, steps: number): SessionTag => ({ instance, key: `k${instance}`, pass: 0, steps });
  const rec = (t: SessionTag, step: number, route: string | null, warmup = false) => ({
    ...newResult(),
    session: t,
    sessionStep: step,
    route,
    warmup,
  });
  it('a session started in the warmup is left out; one without a route is unknown; the cut ones are not completed', () => {
    const tally = new SessionTally();
    const w = tag(0, 2);
    tally.add(rec(w, 0, 'r1', true));
    tally.add(rec(w, 1, 'r1'));
    const u = tag(1, 1);
    tally.add(rec(u, 0, null));
    const cut = tag(2, 3);
    tally.add(rec(cut, 0, 'r1'));
    tally.add(rec(cut, 1, 'r2'));
    tally.add({ ...newResult(), warmup: false });
    const r = tally.report();
    expect(r).toMatchObject({ started: 2, completed: 1, kept: 0, broken: 1, unknown: 1, requests: 3, sessionless: 1 });
    expect(r.list.map((x) => [x.id, x.completed, x.routes])).toEqual([
      ['k2', false, ['r1', 'r2']],
      ['k1', true, []],
    ]);
  });
  it('merging the sessions of several threads adds them up', () => {
    const one: SessionsReport = {
      started: 2,
      completed: 2,
      kept: 1,
      broken: 1,
      unknown: 0,
      withErrors: 0,
      renewed: 1,
      requests: 8,
      sessionless: 1,
      byRoute: [{ route: 'r1', sessions: 2, broken: 1 }],
      list: [],
      unlisted: 2,
    };
    const m = mergeSessions([one, { ...one, byRoute: [{ route: 'r2', sessions: 2, broken: 1 }] }]);
    expect(m).toMatchObject({ started: 4, kept: 2, broken: 2, renewed: 2, requests: 16, unlisted: 4 });
    expect(m?.byRoute).toEqual([
      { route: 'r1', sessions: 2, broken: 1 },
      { route: 'r2', sessions: 2, broken: 1 },
    ]);
  });
});
