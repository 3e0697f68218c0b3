/**
 * `replay --sessions` and `fairness --sticky --recorded-sessions` through the built binary: the
 * session table, the JSON and the HTML report; --workers threads dealing whole sessions; a target
 * that does not keep sessions reported, and failed by fairness; Ctrl-C mid-session still reports.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import type { VerdictDocument } from '../../../src/results/verdict-document.js';
import type { FairnessRunResult } from '../../../src/verdict/fairness-run.js';
import { BIN, runCli } from '../../fixtures/run-cli.js';
import { startSessionServer, type SessionServer } from '../../fixtures/session-server.js';
import { writeSessionTrace } from '../../fixtures/session-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-replay-sessions-'));
const trace = join(dir, 'sessions.trace.jsonl');
let keeps: SessionServer;
let keeps2: SessionServer;
let forgets: SessionServer;

beforeAll(async () => {
  await writeSessionTrace(trace, { sessions: 8, steps: 3, sessionPath: '/app/session.jsp', sessionless: 4 });
  keeps = await startSessionServer({ route: 'tomcat1' });
  keeps2 = await startSessionServer({ route: 'tomcat2' });
  forgets = await startSessionServer({ route: 'tomcat1', forget: { routes: ['tomcat1', 'tomcat2'] } });
});
afterAll(async () => {
  await keeps.close();
  await keeps2.close();
  await forgets.close();
  rmSync(dir, { recursive: true, force: true });
});

const json = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;

describe('replay --sessions', () => {
  it('--workers 2: whole sessions dealt to the threads, merged into one session count; table, JSON and HTML', async () => {
    const out = join(dir, 'w2.json');
    const html = join(dir, 'w2.html');
    const r = await runCli([
      'replay',
      trace,
      '--target',
      keeps.url,
      '--sessions',
      '--workers',
      '2',
      '--concurrency',
      '4',
      '--no-progress',
      '--json',
      out,
      '--html',
      html,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Sessions \(--sessions.*\n {2}the trace holds 8 sessions \(24 exchanges\) and 4 exchanges without a session/,
    );
    const s = json<ReplayReport>(out).sessions;
    expect(s).toMatchObject({ started: 8, completed: 8, kept: 8, broken: 0, requests: 24, sessionless: 4 });
    expect(json<ReplayReport>(out).config.workers).toBe(2);
    expect(keeps.seen.every((x) => x.concurrent === 1)).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('<h2>Sessions</h2>');
  });

  it('a target that does not keep sessions (--workers 2): the moved sessions are listed and warned of once', async () => {
    const out = join(dir, 'forget.json');
    const html = join(dir, 'forget.html');
    const r = await runCli([
      'replay',
      trace,
      '--target',
      forgets.url,
      '--sessions',
      '--workers',
      '2',
      '--no-progress',
      '--json',
      out,
      '--html',
      html,
    ]);
    expect(r.code).toBe(0);
    const s = json<ReplayReport>(out).sessions;
    expect(s).toMatchObject({ started: 8, kept: 0, broken: 8, renewed: 8 });
    // Said once, for the whole run, not per --workers thread.
    expect(json<ReplayReport>(out).warnings.filter((w) => w.includes('sessions were served by more than one'))).toEqual(
      [expect.stringMatching(/^8 of 8 replayed sessions/)],
    );
    expect(r.stdout).toMatch(
      /moved \(a stickiness break\):\n\s+REC\d{4}ABCDEF0123456789: tomcat\d -> tomcat\d, 3 of 3 requests/,
    );
    expect(readFileSync(html, 'utf8')).toMatch(/Sessions served by more than one worker.*REC\d{4}ABCDEF0123456789/s);
  });

  it('Ctrl-C mid-session prints and writes the sessions so far, the cut ones not completed', async () => {
    const slow = await startSessionServer({ route: 'tomcat1', delayMs: 200 });
    const out = join(dir, 'sigint.json');
    try {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'replay',
          trace,
          '--target',
          slow.url,
          '--sessions',
          '--concurrency',
          '2',
          '--no-progress',
          '--json',
          out,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      // Wait until some requests were served, then stop it.
      const deadline = Date.now() + 10_000;
      while (slow.seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(0);
      expect(stdout).toMatch(/Ctrl-C/);
      const s = json<ReplayReport>(out).sessions;
      expect(s?.started).toBeGreaterThan(0);
      expect(s?.completed).toBeLessThan(8);
      expect(s?.list.some((x) => !x.completed)).toBe(true);
    } finally {
      await slow.close();
    }
  });
});

describe('compare --sessions', () => {
  it('says per target how many sessions it kept and moved', async () => {
    const r = await runCli([
      'compare',
      trace,
      '--target',
      keeps.url,
      '--target',
      forgets.url,
      '--sessions',
      '--rounds',
      '1',
      '--concurrency',
      '1',
      '--requests',
      '28',
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `Sessions (--sessions, over the rounds):\n  ${keeps.url}: 8 started, 8 kept on one worker, 0 moved, 0 given a new id again\n` +
        `  ${forgets.url}: 8 started, 0 kept on one worker, 8 moved, 8 given a new id again`,
    );
  });
});

describe('fairness --sticky --recorded-sessions', () => {
  it("judges the trace's own sessions: kept on one worker passes", async () => {
    // Two workers that keep their sessions; each replayed session stays with the target it began on.
    const out = join(dir, 'fair-keep.json');
    const r = await runCli([
      'fairness',
      trace,
      '--target',
      keeps.url,
      '--target',
      keeps2.url,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--tolerance',
      '100%',
      '--alpha',
      '0.000001',
      '--sticky',
      '--recorded-sessions',
      '--concurrency',
      '2',
      '--requests',
      '28',
      '--no-progress',
      '--json',
      out,
      '--html',
      join(dir, 'fair-keep.html'),
    ]);
    expect(readFileSync(join(dir, 'fair-keep.html'), 'utf8')).toMatch(
      /Stickiness \(the trace's sessions\): \d+ sessions replayed, \d+ kept on one worker, 0 moved to another/,
    );
    expect(r.stdout).toMatch(
      /Sticky \(the trace's sessions\): \d+ sessions replayed, \d+ completed, \d+ kept on one worker, 0 moved to another, 0 unknown: PASS/,
    );
    expect(r.code).toBe(0);
    const sticky = json<VerdictDocument & { result: FairnessRunResult }>(out).result.sessionSticky;
    expect(sticky?.started).toBeGreaterThanOrEqual(8);
    expect(sticky).toMatchObject({ broken: 0, pass: true });
    expect(sticky?.byWorker.map((w) => w.worker)).toEqual(['tomcat1', 'tomcat2']);
  });

  it('sessions moved between workers fail it (exit 1), by worker', async () => {
    const junit = join(dir, 'fair-forget.xml');
    const r = await runCli([
      'fairness',
      trace,
      '--target',
      forgets.url,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--tolerance',
      '100%',
      '--alpha',
      '0.000001',
      '--sticky',
      '--recorded-sessions',
      '--concurrency',
      '2',
      '--requests',
      '28',
      '--no-progress',
      '--junit',
      junit,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /sticky: [1-9]\d* of \d+ sessions were served by more than one worker \(tomcat\d: \d+ of \d+/,
    );
    expect(readFileSync(junit, 'utf8')).toMatch(/sticky sessions \(the trace sessions\)[\s\S]*<failure/);
  });

  it('without --sticky the sessions are replayed and shown, not judged', async () => {
    const r = await runCli([
      'fairness',
      trace,
      '--target',
      forgets.url,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--tolerance',
      '100%',
      '--alpha',
      '0.000001',
      '--recorded-sessions',
      '--concurrency',
      '2',
      '--requests',
      '28',
      '--no-progress',
    ]);
    expect(r.stdout).toMatch(
      /Sessions \(the trace's, not judged: add --sticky\): \d+ replayed, \d+ kept on one worker, [1-9]\d* moved/,
    );
    expect(r.code).toBe(0);
  });

  it('without a trace there are no recorded sessions: a usage error', async () => {
    const r = await runCli([
      'fairness',
      '--target',
      keeps.url,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--recorded-sessions',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--recorded-sessions needs a trace/);
  });
});
