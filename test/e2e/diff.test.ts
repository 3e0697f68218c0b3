/**
 * `ajpbench diff` on the real-peer lab: the lab trace replayed to Tomcat 10.1 tomcat1 (primary)
 * and tomcat2 (candidate), the same webapp on two nodes. Without a secondary the per-node values
 * (the jvmRoute in the body, in X-Served-By and in the session cookie, session ids) are
 * differences; with a second node of the same version as the secondary they are noise, and what
 * only the candidate changes (another connector: HTTP instead of AJP) stays a difference.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../src/load/target.js';
import { runDiff, type DiffRunOptions, type DiffRunResult } from '../../src/verdict/diff/diff-run.js';
import { runCli } from '../fixtures/run-cli.js';
import { labForTests, type LabState } from '../lab/lab.js';

const lab = labForTests();
const root = join(import.meta.dirname, '../..');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-diff-e2e-'));

const fields = (r: DiffRunResult, noise: boolean): string[] =>
  r.summary.groups
    .filter((g) => (noise ? g.noise > 0 && g.differences === 0 : g.differences > 0))
    .map((g) => `${g.pattern} ${g.field}`);

describe.skipIf(lab === undefined)('ajpbench diff against the real-peer lab', () => {
  const state = lab as LabState;
  const t1 = state?.tomcats.tomcat1;
  const t2 = state?.tomcats.tomcat2;
  const run = (o: Partial<DiffRunOptions> & Pick<DiffRunOptions, 'candidate'>): Promise<DiffRunResult> =>
    runDiff({ trace, concurrency: 2, requestTimeoutMs: 20_000, ...o });

  it('shows the per-node values as differences without a secondary (AJP to AJP)', async () => {
    const r = await run({
      primary: parseTarget(`ajp://127.0.0.1:${t1.ajpPort}`),
      candidate: parseTarget(`ajp://127.0.0.1:${t2.ajpPort}`),
    });
    expect(r.answered).toEqual({ primary: 44, candidate: 44, secondary: null });
    expect(r.summary.differing).toBeGreaterThan(30);
    const f = fields(r, false);
    expect(f).toContain('/app/echo.jsp body:$.route');
    expect(f).toContain('/app/echo.jsp header:x-served-by');
    expect(f).toContain('/app/session.jsp body:$.sessionId');
    expect(f).toContain('/app/session.jsp header:set-cookie');
    const route = r.summary.groups.find((g) => g.field === 'body:$.route');
    expect(route?.examples[0]).toMatchObject({ before: '"tomcat1"', after: '"tomcat2"', noise: false });
    const cookie = r.summary.groups.find((g) => g.field === 'header:set-cookie');
    expect(cookie?.examples[0]?.before).toMatch(/^JSESSIONID=\{session\}\.tomcat1; Path=\/app/);
    expect(cookie?.examples[0]?.after).toMatch(/^JSESSIONID=\{session\}\.tomcat2; Path=\/app/);
    // Date differs between any two answers and is never compared.
    expect(f.some((x) => x.endsWith('header:date'))).toBe(false);
  });

  it('learns them as noise from a secondary node of the same version: nothing left to report', async () => {
    // The candidate is tomcat2 through its secret connector, the secondary tomcat2 through the plain one.
    const r = await run({
      primary: parseTarget(`ajp://127.0.0.1:${t1.ajpPort}`),
      secondary: parseTarget(`ajp://127.0.0.1:${t2.ajpPort}`),
      candidate: parseTarget(`ajp://127.0.0.1:${t2.ajpSecretPort}`),
      secret: state.secret,
    });
    expect(r.answered).toEqual({ primary: 44, candidate: 44, secondary: 44 });
    expect(r.summary).toMatchObject({ compared: 44, differing: 0 });
    expect(r.summary.noiseOnly).toBeGreaterThan(30);
    expect(fields(r, true)).toEqual(
      expect.arrayContaining(['/app/echo.jsp body:$.route', '/app/session.jsp body:$.sessionId']),
    );
  });

  it("keeps what only the candidate changes: tomcat2's HTTP connector against the AJP primary and secondary", async () => {
    const r = await run({
      primary: parseTarget(`ajp://127.0.0.1:${t1.ajpPort}`),
      secondary: parseTarget(`ajp://127.0.0.1:${t2.ajpPort}`),
      candidate: parseTarget(t2.baseUrl),
    });
    expect(r.answered.candidate).toBe(44);
    expect(r.summary.differing).toBeGreaterThan(0);
    const f = fields(r, false);
    // echo.jsp sees another local port and no AJP attributes: real differences of the connector.
    expect(f).toContain('/app/echo.jsp body:$.localPort');
    expect(f).not.toContain('/app/echo.jsp body:$.route');
    expect(fields(r, true)).toContain('/app/echo.jsp body:$.route');
  });

  it('through the CLI: the recorded responses (bodies kept) as the primary, a threshold, -o and --html', async () => {
    const full = join(dir, 'lab-bodies.jsonl');
    const imported = await runCli([
      'import',
      join(root, 'captures/lab-mixed.pcap'),
      '--port',
      '28009,29009,28109,29109',
      '--bodies',
      'all',
      '-o',
      full,
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    const out = join(dir, 'diffs.jsonl');
    const html = join(dir, 'diff.html');
    const r = await runCli([
      'diff',
      full,
      '--candidate',
      `ajp://127.0.0.1:${t1.ajpPort}`,
      '--secret',
      state.secret,
      '--threshold',
      'diffs<100%',
      '--threshold',
      'diffs<1',
      '-o',
      out,
      '--html',
      html,
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/primary {4}recorded responses/);
    expect(r.stdout).toMatch(/PASS {2}diffs<100%/);
    expect(r.stdout).toMatch(/FAIL {2}diffs<1 /);
    // The trace kept the bodies, so the recorded JSON is compared field by field.
    expect(r.stdout).toMatch(/body:\$\.\w+/);
    const events = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as { event: string; differences: unknown[] });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.event === 'diff' && e.differences.length > 0)).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('By URI pattern and field');
  });
});
