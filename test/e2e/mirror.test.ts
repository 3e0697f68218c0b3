/**
 * `ajpbench record --mirror` between real peers: httpd's mod_jk (`balancer_tap`) through a tap in
 * front of tomcat1 (production, release A); every exchange mirrored to tomcat2's Variant service
 * (release B, which answers differently on /app/release.jsp only) with tomcat2's normal service
 * (release A on another node) as the secondary. Exactly the variant endpoint's field must be
 * reported; the per-node values (jvmRoute, session ids, X-Served-By, Date) must come out as noise.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AjpClient, AjpRequestEncoder, newResult, type ReplayRequest } from '../../src/load/index.js';
import { TapRecorder } from '../../src/capture/index.js';
import { DiscardTraceOutput, type DiffEvent, type ExchangeEvent, type TraceEvent } from '../../src/trace/index.js';
import type { DiffSummary } from '../../src/verdict/diff/index.js';
import type { MirrorStats } from '../../src/verdict/shadow-mirror.js';
import { BIN } from '../fixtures/run-cli.js';
import { readTrace, withTimeout } from '../fixtures/tap-fixtures.js';
import { httpRequest, type HttpResult } from '../lab/http-client.js';
import { labForTests, type LabState } from '../lab/lab.js';

const lab = labForTests();
const ROUNDS = 16;

/** Polls until something accepts on `port`; rejects after `timeoutMs`. */
async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One GET straight to an AJP connector (Jasper compiles a page on its first request: warm the candidate up). */
async function ajpGet(port: number, uri: string): Promise<number> {
  const client = new AjpClient({
    host: '127.0.0.1',
    port,
    encoder: new AjpRequestEncoder(),
    connections: 1,
    connectTimeoutMs: 5000,
    requestTimeoutMs: 60_000,
  });
  const req: ReplayRequest = {
    type: 'forward-request',
    method: 'GET',
    protocol: 'HTTP/1.1',
    uri,
    remoteAddr: '127.0.0.1',
    remoteHost: null,
    serverName: 'localhost',
    serverPort: 80,
    isSsl: false,
    headers: [{ name: 'host', value: 'localhost' }],
    attributes: [],
    exchangeId: 0,
    t: 0,
    displayUri: uri,
    query: null,
    chunked: false,
    body: Buffer.alloc(0),
    expected: { status: 200, bodySha256: '', headers: [] },
  };
  const rec = newResult();
  rec.sentMs = performance.now();
  await new Promise<void>((resolve) => client.send(req, rec, resolve));
  await client.close();
  return rec.status;
}

describe.skipIf(lab === undefined)(
  'record --mirror: mod_jk -> tap -> tomcat1, mirrored to a variant on tomcat2',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-mirror-'));
    const file = join(dir, 'mirror.jsonl');
    const json = join(dir, 'mirror.json');
    const answers: { path: string; res: HttpResult }[] = [];
    let stderr = '';
    let code = -1;
    let events: TraceEvent[] = [];
    let report: { mirror: MirrorStats; diff: DiffSummary };

    beforeAll(async () => {
      const state = lab as LabState;
      const p = state.ports;
      for (const port of [p.tomcat2AjpVariant, p.tomcat2Ajp])
        for (const page of ['release.jsp', 'echo.jsp']) expect(await ajpGet(port, `/app/${page}`)).toBe(200);
      // balancer_tap's other member gets a plain tap (not mirrored), so mod_jk keeps both members up, as
      // the other e2e files expect; its share of the traffic is simply not in this recording.
      const plain = await TapRecorder.start({
        taps: [
          { listen: { host: '127.0.0.1', port: p.tapTomcat2 }, upstream: { host: '127.0.0.1', port: p.tomcat2Ajp } },
        ],
        trace: { redact: true, bodies: 'none', maxBody: 0 },
        tool: 'ajpbench e2e',
        openOutput: () => Promise.resolve(new DiscardTraceOutput()),
      });
      try {
        const child = spawn(
          process.execPath,
          [
            BIN,
            'record',
            '--listen',
            `127.0.0.1:${p.tapTomcat1}`,
            '--upstream',
            `127.0.0.1:${p.tomcat1Ajp}`,
            '--worker',
            'tomcat1',
            '--mirror',
            `ajp://127.0.0.1:${p.tomcat2AjpVariant}`,
            '--mirror-secondary',
            `ajp://127.0.0.1:${p.tomcat2Ajp}`,
            '--threshold',
            'diffs<1%',
            '-o',
            file,
            '--json',
            json,
            '--no-status',
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (c: string) => (stderr += c));
        const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
        try {
          await listening(p.tapTomcat1, 10_000);
          const base = `http://127.0.0.1:${p.httpdJkTap}`;
          for (let i = 0; i < ROUNDS; i++) {
            for (const path of [state.paths.release, `${state.paths.echo}?i=${i}`]) {
              answers.push({ path, res: await httpRequest(base + path) });
            }
          }
          // Stop as an operator would: the mirror finishes its copies before the trace closes.
          child.kill('SIGINT');
          code = await withTimeout(exited, 30_000, 'record to stop');
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
        }
      } finally {
        await plain.stop();
      }
      ({ events } = await readTrace(file));
      report = JSON.parse(readFileSync(json, 'utf8')) as typeof report;
    }, 180_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** What tomcat1 served through the mirrored tap (mod_jk spreads the rest over the plain tap in front of tomcat2). */
    const served = (release: boolean): number =>
      answers.filter((a) => a.res.headers['x-served-by'] === 'tomcat1' && a.path.includes('release') === release)
        .length;

    it('production answered as without the mirror: release A, every time, from both members', () => {
      expect(answers).toHaveLength(ROUNDS * 2);
      for (const { path, res } of answers) {
        expect(res.status, path).toBe(200);
        if (path.includes('release'))
          expect((JSON.parse(res.body.toString()) as { release: string }).release).toBe('A');
      }
      expect(served(true)).toBeGreaterThan(0);
      expect(served(false)).toBeGreaterThan(0);
    });

    it('every exchange through the tap was mirrored and compared, none dropped', () => {
      const n = served(true) + served(false);
      expect(report.mirror).toMatchObject({
        seen: n,
        mirrored: n,
        compared: n,
        dropped: 0,
        candidateErrors: 0,
        secondaryErrors: 0,
      });
    });

    it('exactly the variant endpoint is reported: release.jsp, field $.release, A -> B', () => {
      const regressions = report.diff.groups.filter((g) => g.differences > 0);
      expect(regressions.map((g) => [g.pattern, g.field, g.differences])).toEqual([
        ['/app/release.jsp', 'body:$.release', served(true)],
      ]);
      expect(regressions[0]?.examples[0]).toMatchObject({ before: '"A"', after: '"B"', noise: false });
      expect(report.mirror.differing).toBe(served(true));
      const diffs = events.filter((e): e is DiffEvent => e.event === 'diff');
      const differs = diffs.filter((d) => d.outcome === 'differs');
      expect(differs).toHaveLength(served(true));
      const releaseIds = new Set(
        events
          .filter((e): e is ExchangeEvent => e.event === 'exchange' && e.request.uri === '/app/release.jsp')
          .map((e) => e.id),
      );
      for (const d of differs) {
        expect(releaseIds.has(d.id)).toBe(true);
        expect(d.differences.filter((x) => !x.noise).map((x) => x.field)).toEqual(['body:$.release']);
      }
    });

    it('the per-node values are noise, learned from the secondary, not regressions', () => {
      const noise = report.diff.groups.filter((g) => g.differences === 0 && g.noise > 0).map((g) => g.field);
      for (const field of ['body:$.node', 'body:$.sessionId', 'body:$.requestId', 'header:x-served-by'])
        expect(noise, field).toContain(field);
      expect(report.diff.groups.some((g) => g.field === 'header:date' && g.differences > 0)).toBe(false);
    });

    it('--threshold diffs<1% fails the run (exit 1) after a complete recording', () => {
      expect(stderr).toMatch(/FAIL\s+diffs<1%/);
      expect(stderr).toMatch(/record: stopped \(signal\)/);
      expect(code).toBe(1);
    });
  },
);
