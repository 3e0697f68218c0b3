/**
 * Verdicts end to end: fairness through real Apache httpd (mod_jk, mod_proxy_balancer) and nginx
 * in front of two stub containers at chosen weights (a private rig, test/e2e/support/balancer-rig.ts),
 * mod_jk's status worker beside the wire, stickiness through the lab's real balancers and Tomcats,
 * compare and sweep on stub containers, each through the built CLI with its exit code.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../src/load/stub-container.js';
import type { VerdictDocument } from '../../src/results/verdict-document.js';
import type { FairnessRunResult } from '../../src/verdict/fairness-run.js';
import type { SweepResult } from '../../src/verdict/sweep.js';
import { labForTests } from '../lab/lab.js';
import { startRig, type Rig } from './support/balancer-rig.js';
import { runCli, type CliRun } from '../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../..');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const lab = labForTests();

const run = (args: string[], timeoutMs = 120_000): Promise<CliRun> => runCli(args, { timeoutMs });

const doc = <T>(file: string): VerdictDocument & { result: T } =>
  JSON.parse(readFileSync(file, 'utf8')) as VerdictDocument & { result: T };

describe.skipIf(lab === undefined)('fairness through real balancers in front of stub containers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-verdicts-'));
  let stub1: StubContainer;
  let stub2: StubContainer;
  let rig: Rig;

  beforeAll(async () => {
    // One stub per worker (so one can be stopped alone), each with an AJP and an HTTP listener.
    stub1 = await StubContainer.start({
      listen: [
        { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' },
        { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'http' },
      ],
      bodySize: 200,
    });
    stub2 = await StubContainer.start({
      listen: [
        { host: '127.0.0.1', port: 0, route: 'tomcat2', protocol: 'ajp' },
        { host: '127.0.0.1', port: 0, route: 'tomcat2', protocol: 'http' },
      ],
      bodySize: 200,
    });
    const port = (s: StubContainer, i: number): number => s.listeners[i]?.port ?? 0;
    rig = await startRig({
      dir,
      backends: [
        { route: 'tomcat1', ajpPort: port(stub1, 0), httpPort: port(stub1, 1) },
        { route: 'tomcat2', ajpPort: port(stub2, 0), httpPort: port(stub2, 1) },
      ],
      sites: [
        { kind: 'jk', name: 'jk11', weights: [1, 1], status: true },
        { kind: 'jk', name: 'jk31', weights: [3, 1] },
        { kind: 'proxy-ajp', name: 'pb31', weights: [3, 1] },
        { kind: 'nginx', name: 'ng31', weights: [3, 1] },
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await rig?.stop();
    await stub1?.close();
    await stub2?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mod_jk lbfactor 1:1, expected 1:1: passes (exit 0); mod_jk status agrees with the wire; --junit and --json', async () => {
    const junit = join(dir, 'jk11.xml');
    const json = join(dir, 'jk11.json');
    const html = join(dir, 'jk11.html');
    const r = await run([
      'fairness',
      '--target',
      `${rig.urls.jk11}/app/`,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--requests',
      '1000',
      '--concurrency',
      '8',
      '--jk-status',
      `${rig.urls.jk11}/jkstatus`,
      '--junit',
      junit,
      '--json',
      json,
      '--html',
      html,
      '--no-progress',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/chi-square [\d.]+ \(df 1\), p = [\d.e-]+, alpha 0\.01: PASS/);
    expect(r.stdout).toMatch(/mod_jk status .*agrees with the wire/);
    expect(r.stdout).toMatch(/Verdict: PASS/);
    const d = doc<FairnessRunResult>(json);
    expect(d.kind).toBe('ajpbench-fairness');
    expect(d.result.counts.tomcat1 ?? 0).toBeGreaterThan(450);
    expect((d.result.counts.tomcat1 ?? 0) + (d.result.counts.tomcat2 ?? 0)).toBe(1000);
    expect(d.result.jk?.workers.find((w) => w.worker === 'tomcat1')).toMatchObject({
      measured: d.result.counts.tomcat1,
      jk: d.result.counts.tomcat1,
      difference: 0,
    });
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuites name="ajpbench" tests="2" failures="0"/);
    expect(readFileSync(html, 'utf8')).toContain('id="chart-fairness"');
    // The report command draws the saved result again.
    const again = await run(['report', json, '--html', join(dir, 'again.html')]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Verdict: PASS');
  });

  it('mod_jk lbfactor 3:1 configured, 1:1 expected: fails (exit 1), both checks say why', async () => {
    const junit = join(dir, 'jk31.xml');
    const r = await run([
      'fairness',
      '--target',
      `${rig.urls.jk31}/app/`,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--requests',
      '1000',
      '--concurrency',
      '8',
      '--junit',
      junit,
      '--no-progress',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/alpha 0\.01: FAIL/);
    expect(r.stdout).toMatch(/tolerance ±5\.0%: FAIL/);
    expect(r.stdout).toMatch(/Verdict: FAIL/);
    expect(readFileSync(junit, 'utf8')).toMatch(/failures="2"/);
    // The same balancer judged against its configured weights passes.
    const ok = await run([
      'fairness',
      '--target',
      `${rig.urls.jk31}/app/`,
      '--expect',
      'tomcat1=3,tomcat2=1',
      '--requests',
      '1000',
      '--concurrency',
      '8',
      '--no-progress',
    ]);
    expect(ok.code).toBe(0);
  });

  it('mod_proxy_balancer loadfactor 3:1 and nginx weight 3:1 are honoured', async () => {
    for (const site of ['pb31', 'ng31'] as const) {
      const json = join(dir, `${site}.json`);
      const r = await run([
        'fairness',
        '--target',
        `${rig.urls[site]}/app/`,
        '--expect',
        'tomcat1=3,tomcat2=1',
        '--requests',
        '1200',
        '--concurrency',
        '8',
        '--json',
        json,
        '--no-progress',
      ]);
      expect(r.code, `${site}\n${r.stdout}${r.stderr}`).toBe(0);
      const share = (doc<FairnessRunResult>(json).result.counts.tomcat1 ?? 0) / 1200;
      expect(share).toBeGreaterThan(0.7);
      expect(share).toBeLessThan(0.8);
    }
  });

  it('failover: a worker that stops mid-run shows as its share falling and fails the verdict', async () => {
    const json = join(dir, 'failover.json');
    const p = run([
      'fairness',
      '--target',
      `${rig.urls.jk11}/app/`,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--duration',
      '4s',
      '--concurrency',
      '4',
      '--json',
      json,
      '--no-progress',
    ]);
    // Stop tomcat2 once the run is well under way (bounded wait).
    const seen = stub2.stats.requests;
    for (let i = 0; i < 100 && stub2.stats.requests < seen + 100; i++) await new Promise((r) => setTimeout(r, 50));
    await stub2.close();
    const r = await p;
    expect(r.code).toBe(1);
    const d = doc<FairnessRunResult>(json).result;
    const t2 = d.verdict.workers.find((w) => w.worker === 'tomcat2');
    expect(t2?.share ?? 1).toBeLessThan(0.45);
    expect(t2?.observed ?? 0).toBeGreaterThan(0);
    // The time until the others took its load: tomcat1 alone carries the rate again, within the run.
    expect(d.failovers.map((f) => f.worker)).toEqual(['tomcat2']);
    expect(d.failovers[0]?.takeoverSeconds).not.toBeNull();
    expect(d.failovers[0]?.rateBefore).toBeGreaterThan(0);
    expect(r.stdout).toMatch(
      /failover: tomcat2 stopped answering at second \d+ .* the others took its load within \d+ s/,
    );
  });
});

describe.skipIf(lab === undefined)('stickiness through the lab balancers (real Tomcats, session.jsp)', () => {
  it("mod_jk (sticky_session) keeps every follow-up on its session's worker", async () => {
    const state = lab!;
    const url = `${state.frontends.jk.baseUrl}${state.paths.echo}`;
    const r = await run([
      'fairness',
      '--target',
      url,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--requests',
      '200',
      '--concurrency',
      '4',
      '--sticky',
      '--sticky-path',
      `${state.contextPath}/session.jsp`,
      '--sessions',
      '10',
      '--follow-ups',
      '5',
      '--no-progress',
    ]);
    expect(r.stdout).toMatch(
      /Sticky: 10 of 10 sessions opened, 50 follow-ups, 0 landed elsewhere, 0 unknown, 0 errors: PASS/,
    );
    expect(r.code).toBe(0);
  });
  it('nginx round robin (not sticky) is caught: violations by worker, exit 1', async () => {
    const state = lab!;
    const url = `${state.frontends.nginx.baseUrl}${state.paths.echo}`;
    const r = await run([
      'fairness',
      '--target',
      url,
      '--expect',
      'tomcat1=1,tomcat2=1',
      '--requests',
      '200',
      '--concurrency',
      '4',
      '--sticky',
      '--sticky-path',
      `${state.contextPath}/session.jsp`,
      '--sessions',
      '10',
      '--follow-ups',
      '4',
      '--no-progress',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Sticky: 10 of 10 sessions opened, 40 follow-ups, [1-9]\d* landed elsewhere/);
    expect(r.stdout).toMatch(/sticky: \d+ follow-ups left their session's worker \(tomcat\d: \d+ of \d+/);
  });
});

describe.skipIf(lab === undefined)('compare and sweep on stub containers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-verdicts-cs-'));
  let stub: StubContainer;
  let narrow: Rig;
  beforeAll(async () => {
    stub = await StubContainer.start({
      listen: [
        { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' },
        { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'http' },
      ],
      bodySize: 512,
      latencyMs: 20,
    });
    // httpd with 2 worker threads in front of the stub: capacity 2 / 20 ms = 100 requests/s.
    narrow = await startRig({
      dir,
      backends: [{ route: 'tomcat1', ajpPort: stub.listeners[0]?.port ?? 0, httpPort: stub.listeners[1]?.port ?? 0 }],
      sites: [
        { kind: 'jk', name: 'narrow', weights: [1] },
        { kind: 'proxy-http', name: 'narrowhttp', weights: [1] },
      ],
      httpdThreads: 2,
      keepAlive: false,
    });
  }, 60_000);
  afterAll(async () => {
    await narrow?.stop();
    await stub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('compare: AJP direct vs HTTP direct vs mod_jk, interleaved rounds, ratios and noise', async () => {
    const json = join(dir, 'compare.json');
    const html = join(dir, 'compare.html');
    const ajp = `ajp://${stub.listeners[0]?.address}`;
    const http = `http://${stub.listeners[1]?.address}`;
    const r = await run([
      'compare',
      trace,
      '--target',
      ajp,
      '--target',
      http,
      '--target',
      narrow.urls.narrow ?? '',
      '--rounds',
      '2',
      '--duration',
      '1s',
      '--concurrency',
      '2',
      '--pause',
      '100ms',
      '--json',
      json,
      '--html',
      html,
      '--threshold',
      'errors<1%',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr.match(/compare: round \d\/2 /g)).toHaveLength(6);
    // Interleaved: A B C A B C.
    const order = [...r.stderr.matchAll(/round (\d)\/2 (\S+):/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(order).toEqual([
      `1 ${ajp}`,
      `1 ${http}`,
      `1 ${narrow.urls.narrow}`,
      `2 ${ajp}`,
      `2 ${http}`,
      `2 ${narrow.urls.narrow}`,
    ]);
    expect(r.stdout).toMatch(/^Compare: 3 targets, 2 rounds interleaved/);
    expect(r.stdout).toMatch(/vs 1st/);
    const d = doc<{ summary: { targets: { name: string; rps: number; rpsRatio: number | null; p50Us: number }[] } }>(
      json,
    );
    const [a, , c] = d.result.summary.targets;
    expect(a?.rpsRatio).toBeNull();
    expect(c?.rpsRatio).toBeGreaterThan(0);
    // Every target sits behind the 20 ms stub.
    for (const t of d.result.summary.targets) expect(t.p50Us).toBeGreaterThan(19_000);
    expect(readFileSync(html, 'utf8')).toContain('id="chart-compare-rps"');
  });

  it('sweep: finds the knee of httpd with 2 workers in front of a 20 ms backend (MaxRequestWorkers bound)', async () => {
    const json = join(dir, 'sweep.json');
    const html = join(dir, 'sweep.html');
    const r = await run([
      'sweep',
      trace,
      '--target',
      narrow.urls.narrowhttp ?? '',
      '--concurrency',
      '1,2,...,16',
      '--duration',
      '1500ms',
      '--warmup',
      '300ms',
      '--pause',
      '100ms',
      '--json',
      json,
      '--html',
      html,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Sweep by concurrency: 5 steps/);
    const d = doc<Pick<SweepResult, 'knee' | 'steps'>>(json);
    const rps = d.result.steps.map((s) => s.report.requests.perSecond);
    // Capacity ~100/s: concurrency 1 gets ~50/s, then it flattens.
    expect(rps[0]).toBeGreaterThan(30);
    expect(rps[0]).toBeLessThan(60);
    for (const x of rps.slice(2)) expect(x).toBeLessThan(120);
    expect(d.result.knee.index === 1 || d.result.knee.index === 2).toBe(true);
    expect(r.stdout).toMatch(/Knee: concurrency [24]\n/);
    expect(r.stdout).toMatch(/requests are in flight/);
    expect(r.stdout).toMatch(/MaxRequestWorkers/);
    expect(readFileSync(html, 'utf8')).toContain('id="chart-sweep"');
  });
});
