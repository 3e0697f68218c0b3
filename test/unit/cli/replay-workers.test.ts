/**
 * `replay --workers N` through the built binary (worker_threads run the compiled worker): exact
 * request counts and shares against one thread on the stub, the open-loop rate split, the same
 * report shape whatever N, and Ctrl-C with workers still printing and writing what was measured.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../../src/load/stub-container.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'bin/ajpbench');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-workers-'));

const run = (args: string[]): Promise<CliRun> => runCli(args);

let stub: StubContainer;
let target: string;
beforeAll(async () => {
  stub = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    bodySize: 256,
  });
  target = `ajp://${(stub.listeners[0] as { address: string }).address}`;
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

const json = (f: string): ReplayReport => JSON.parse(readFileSync(f, 'utf8')) as ReplayReport;

/** The keys of an object, nested, as paths (the report's shape without its values). */
function shape(v: unknown, at = ''): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [at];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => shape(x, `${at}.${k}`));
}

describe('replay --workers', () => {
  it('closed loop: 2 workers send exactly the requests of one thread, over the same connections, in the same shape', async () => {
    const reports: ReplayReport[] = [];
    for (const workers of [1, 2]) {
      const out = join(dir, `closed-${workers}.json`);
      const r = await run([
        'replay',
        trace,
        '--target',
        target,
        '--concurrency',
        '6',
        '--loop',
        '--requests',
        '3001',
        '--workers',
        String(workers),
        '--no-progress',
        '--json',
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      reports.push(json(out));
    }
    const [one, two] = reports as [ReplayReport, ReplayReport];
    for (const r of [one, two]) {
      expect(r.requests.total).toBe(3001);
      expect(r.requests.responses).toBe(3001);
      expect(r.schedule.sent).toBe(3001);
      expect(r.latency.timeToCompleteUs.count).toBe(3001);
      expect(r.byRoute.map((g) => [g.name, g.count])).toEqual([['tomcat1', 3001]]);
      // One connection per unit of concurrency, whichever thread holds it.
      expect(r.connections.map((c) => [c.target, c.opened])).toEqual([[target, 6]]);
      expect(r.schedule.model).toBe('closed loop, 6 concurrent');
      expect(r.config.concurrency).toBe(6);
    }
    // Every exchange of the trace is sent as often as one thread sends it: the same statuses.
    expect(two.statuses).toEqual(one.statuses);
    expect([one.config.workers, two.config.workers]).toEqual([1, 2]);
    expect([one.generator?.threads, two.generator?.threads]).toEqual([1, 2]);
    expect(shape(two).sort()).toEqual(shape(one).sort());
  });

  it('open loop: the rate is split exactly, the workers together send the single schedule', async () => {
    const out = join(dir, 'open.json');
    const r = await run([
      'replay',
      trace,
      '--target',
      target,
      '--rate',
      '400/s',
      '--duration',
      '2s',
      '--loop',
      '--concurrency',
      '8',
      '--workers',
      '2',
      '--no-progress',
      '--json',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rep = json(out);
    // Due at n × 2.5 ms below 2000 ms: requests 0 to 799, 400 per worker.
    expect(rep.schedule.sent).toBe(800);
    expect(rep.requests.total).toBe(800);
    expect(rep.config).toMatchObject({ rate: 400, workers: 2, concurrency: 8 });
    expect(rep.schedule.model).toBe('open loop, constant 400/s, up to 8 in flight');
  });

  it('open loop on 2 workers: a 1 s stall still shows for every request due during it (no coordinated omission per worker)', async () => {
    const out = join(dir, 'stall.json');
    const before = stub.stats.requests;
    const done = run([
      'replay',
      trace,
      '--target',
      target,
      '--rate',
      '200/s',
      '--duration',
      '3s',
      '--loop',
      '--concurrency',
      '8',
      '--workers',
      '2',
      '--no-progress',
      '--json',
      out,
    ]);
    // A fifth of the way in (100 requests served; a deadline, not a fixed sleep), the target stalls for 1 s.
    const deadline = Date.now() + 20_000;
    while (stub.stats.requests - before < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    stub.stall(1000);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const rep = json(out);
    expect(rep.requests.total).toBe(600);
    const h = decodeFromCompressedBase64(rep.latency.timeToCompleteUs.histogram, 32, false);
    // ~200 requests were due in the stalled second, from both workers: their latencies (from the due
    // time) spread over 0-1000 ms, so about a sixth of all is above 500 ms and the p90 is far above the
    // stub's 1 ms. A worker that hid the stall would halve that share.
    expect(h.maxValue).toBeGreaterThan(900_000);
    expect(h.getValueAtPercentile(90)).toBeGreaterThan(300_000);
    expect(rep.schedule.queued).toBeGreaterThan(100);
  });

  it('Ctrl-C with workers stops them all, and still prints and writes everything measured', async () => {
    const out = join(dir, 'int.json');
    const child = spawn(
      process.execPath,
      [bin, 'replay', trace, '--target', target, '--loop', '--duration', '60s', '--workers', '2', '--json', out],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // Until the stub has served a few hundred requests (a deadline, not a fixed sleep).
    const deadline = Date.now() + 20_000;
    const served = (): number => stub.stats.requests;
    const before = served();
    while (served() - before < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(stdout).toContain('Ctrl-C (results so far)');
    const rep = json(out);
    expect(rep.schedule.stoppedBy).toBe('signal');
    expect(rep.requests.total).toBeGreaterThan(100);
    expect(rep.config.workers).toBe(2);
    expect(rep.generator?.threads).toBe(2);
  });
});
