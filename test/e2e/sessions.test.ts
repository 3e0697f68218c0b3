/**
 * replay --sessions against the lab's real peers (two Tomcat 10.1 with jvmRoute tomcat1/tomcat2,
 * /app/session.jsp creates a session): a trace of recorded sessions, replayed through httpd's
 * mod_jk (sticky_session) and mod_proxy_ajp (stickysession) keeps every session on one worker, with
 * both workers used and exactly one session id handed out per session (the cookie jar carried
 * Tomcat's id); nginx round robin moves them, and the run says so; AJP direct to both Tomcats
 * keeps each session with its target. fairness --sticky --recorded-sessions passes and fails
 * accordingly. And a trace recorded through taps (a private mod_jk over taps in front of both
 * Tomcats, browsing users with real session cookies and one `;jsessionid=` user), replayed through
 * the lab's mod_jk and nginx. Everything through the built CLI, bounded in requests and time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TapRecorder } from '../../src/capture/index.js';
import type { ReplayReport, SessionsReport } from '../../src/results/replay-report.js';
import { TraceWriter } from '../../src/trace/index.js';
import { labForTests, type LabState } from '../lab/lab.js';
import { runCli, type CliRun } from '../fixtures/run-cli.js';
import { writeSessionTrace } from '../fixtures/session-trace.js';
import { freePort, startRig } from './support/balancer-rig.js';

const lab = labForTests();
const SESSIONS = 12;
const STEPS = 5;
const PLAIN = 6;

describe.skipIf(lab === undefined)('replay --sessions through real balancers and Tomcats', () => {
  const state = lab!;
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-sessions-'));
  const trace = join(dir, 'sessions.trace.jsonl');

  beforeAll(async () => {
    await writeSessionTrace(trace, {
      sessions: SESSIONS,
      steps: STEPS,
      sessionPath: state.paths.session,
      plainPath: state.paths.echo,
      sessionless: PLAIN,
      uriSessions: [3],
      host: { host: '127.0.0.1', port: state.frontends.jk.port },
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function replaySessions(
    name: string,
    targets: string[],
    extra: string[] = [],
    concurrency = 4,
  ): Promise<[CliRun, SessionsReport]> {
    const out = join(dir, `${name}.json`);
    const r = await runCli(
      [
        'replay',
        trace,
        ...targets.flatMap((t) => ['--target', t]),
        '--sessions',
        '--concurrency',
        String(concurrency),
        '--route-header',
        'X-Served-By',
        '--duration',
        '60s',
        '--no-progress',
        '--json',
        out,
        ...extra,
      ],
      { timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ReplayReport;
    expect(report.errors.total).toBe(0);
    return [r, report.sessions as SessionsReport];
  }

  it.each([
    ['mod_jk (sticky_session)', 'jk'],
    ['mod_proxy_ajp (stickysession)', 'proxyAjp'],
  ] as const)('%s keeps every replayed session on one worker, both workers used', async (_name, frontend) => {
    const [r, s] = await replaySessions(frontend, [state.frontends[frontend].baseUrl]);
    expect(s).toMatchObject({ started: SESSIONS, completed: SESSIONS, kept: SESSIONS, broken: 0, unknown: 0 });
    // Tomcat handed out one id per session and recognised it afterwards: the jar carried its id.
    expect(s.renewed).toBe(0);
    expect(s.list.every((x) => x.targetSessions === 1 && x.requests === STEPS)).toBe(true);
    expect([s.requests, s.sessionless]).toEqual([SESSIONS * STEPS, PLAIN]);
    expect(s.byRoute.map((b) => b.route).sort()).toEqual(['tomcat1', 'tomcat2']);
    expect(r.stdout).toMatch(/Sessions \(--sessions/);
    expect(r.stdout).not.toMatch(/moved \(a stickiness break\)/);
  });

  it('nginx round robin (not sticky) moves sessions between the workers, and the run reports them', async () => {
    // One session at a time, so round robin alternates inside every session. (With an even number
    // of sessions going in step, each one's next request can come round to the same worker by chance.)
    const [r, s] = await replaySessions('nginx', [state.frontends.nginx.baseUrl], [], 1);
    expect(s).toMatchObject({ started: SESSIONS, completed: SESSIONS, kept: 0, broken: SESSIONS });
    // The worker that did not know the session started a new one: the target lost it.
    expect(s.renewed).toBe(SESSIONS);
    expect(s.list.filter((x) => x.routes.length > 1).every((x) => x.targetSessions > 1)).toBe(true);
    expect(r.stdout).toMatch(/moved \(a stickiness break\)[^\n]*:\n\s+REC\d{4}ABCDEF0123456789: tomcat\d -> tomcat\d/);
  });

  it('AJP direct to both Tomcats: each session stays with the target it began on', async () => {
    const [, s] = await replaySessions('ajp', [
      `ajp://127.0.0.1:${state.tomcats.tomcat1.ajpPort}`,
      `ajp://127.0.0.1:${state.tomcats.tomcat2.ajpPort}`,
    ]);
    expect(s).toMatchObject({ started: SESSIONS, completed: SESSIONS, kept: SESSIONS, broken: 0, renewed: 0 });
    expect(s.byRoute).toEqual([
      { route: 'tomcat1', sessions: SESSIONS / 2, broken: 0 },
      { route: 'tomcat2', sessions: SESSIONS / 2, broken: 0 },
    ]);
  });

  it('recorded timing with --workers 2 through mod_jk: still every session kept and complete', async () => {
    const [, s] = await replaySessions(
      'jk-recorded',
      [state.frontends.jk.baseUrl],
      ['--timing', 'recorded', '--workers', '2'],
    );
    expect(s).toMatchObject({ started: SESSIONS, completed: SESSIONS, kept: SESSIONS, broken: 0, renewed: 0 });
  });

  it.each([
    [
      'jk',
      0,
      /Sticky \(the trace's sessions\): \d+ sessions replayed, \d+ completed, \d+ kept on one worker, 0 moved to another, 0 unknown: PASS/,
    ],
    ['nginx', 1, /sticky: [1-9]\d* of \d+ sessions were served by more than one worker/],
  ] as const)('fairness --sticky --recorded-sessions through %s: exit %i', async (frontend, code, text) => {
    const r = await runCli(
      [
        'fairness',
        trace,
        '--target',
        state.frontends[frontend].baseUrl,
        '--expect',
        'tomcat1=1,tomcat2=1',
        '--tolerance',
        '100%',
        '--alpha',
        '0.000001',
        '--sticky',
        '--recorded-sessions',
        // One session at a time through nginx (see above): round robin alternates inside each.
        '--concurrency',
        frontend === 'nginx' ? '1' : '4',
        '--requests',
        String(SESSIONS * STEPS + PLAIN),
        '--no-progress',
      ],
      { timeoutMs: 90_000 },
    );
    expect(r.stdout).toMatch(text);
    expect(r.code).toBe(code);
  });
});

describe.skipIf(lab === undefined)('replay --sessions of a trace recorded through taps (mod_jk to Tomcat)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-recorded-sessions-'));
  const trace = join(dir, 'recorded.trace.jsonl');
  const USERS = 8;
  const CLICKS = 4;

  /** One user: a first request that gets a session, then clicks with its cookie (user 0 by path parameter). */
  async function browse(base: string, user: number): Promise<void> {
    const page = `${base}${(lab as LabState).paths.session}`;
    const first = await fetch(page);
    await first.text();
    const id = /JSESSIONID=([^;]+)/.exec(first.headers.get('set-cookie') ?? '')?.[1];
    if (id === undefined) throw new Error('session.jsp set no JSESSIONID');
    for (let i = 0; i < CLICKS - 1; i++) {
      const r =
        user === 0
          ? await fetch(`${page};jsessionid=${id}`)
          : await fetch(page, { headers: { cookie: `theme=dark; JSESSIONID=${id}` } });
      await r.text();
    }
  }

  beforeAll(async () => {
    const state = lab as LabState;
    // Taps on free ports (the lab's own tap ports may be in use by record.test.ts elsewhere) in front
    // of both Tomcats, and a private mod_jk balancer (sticky) over the taps.
    const taps = [await freePort(), await freePort()];
    const recorder = await TapRecorder.start({
      taps: [
        {
          listen: { host: '127.0.0.1', port: taps[0] as number },
          upstream: { host: '127.0.0.1', port: state.tomcats.tomcat1.ajpPort },
          worker: 'tomcat1',
        },
        {
          listen: { host: '127.0.0.1', port: taps[1] as number },
          upstream: { host: '127.0.0.1', port: state.tomcats.tomcat2.ajpPort },
          worker: 'tomcat2',
        },
      ],
      // Not redacted: a redacted trace keeps only the route of a session id.
      trace: { redact: false, bodies: 'request', maxBody: 1024 },
      tool: 'ajpbench e2e',
      openOutput: (h) => TraceWriter.create(trace, h),
    });
    const rig = await startRig({
      dir,
      backends: [
        { route: 'tomcat1', ajpPort: taps[0] as number, httpPort: state.tomcats.tomcat1.httpPort },
        { route: 'tomcat2', ajpPort: taps[1] as number, httpPort: state.tomcats.tomcat2.httpPort },
      ],
      sites: [{ kind: 'jk', name: 'rec', weights: [1, 1] }],
    });
    try {
      const base = rig.urls.rec as string;
      await Promise.all(Array.from({ length: USERS }, (_, u) => browse(base, u)));
    } finally {
      await rig.stop();
      await recorder.stop();
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['mod_jk', 'jk', true],
    ['nginx', 'nginx', false],
  ] as const)(
    'through %s (%s): every recorded session found and replayed; kept on one worker: %s',
    async (_name, frontend, sticky) => {
      const out = join(dir, `${frontend}.json`);
      const r = await runCli(
        [
          'replay',
          trace,
          '--target',
          (lab as LabState).frontends[frontend].baseUrl,
          '--sessions',
          '--concurrency',
          sticky ? '4' : '1',
          '--route-header',
          'X-Served-By',
          '--duration',
          '60s',
          '--no-progress',
          '--json',
          out,
        ],
        { timeoutMs: 90_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(readFileSync(out, 'utf8')) as ReplayReport;
      const s = report.sessions as SessionsReport;
      expect(s).toMatchObject({ started: USERS, completed: USERS, requests: USERS * CLICKS, sessionless: 0 });
      expect(report.errors.total).toBe(0);
      if (sticky) {
        expect(s).toMatchObject({ kept: USERS, broken: 0, renewed: 0 });
        expect(s.byRoute.map((b) => b.route).sort()).toEqual(['tomcat1', 'tomcat2']);
      } else {
        expect(s).toMatchObject({ kept: 0, broken: USERS, renewed: USERS });
      }
    },
  );
});
