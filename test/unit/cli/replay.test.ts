/** `ajpbench replay` and `ajpbench serve` through the built binary: output, files, profiles, exit codes, Ctrl-C. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'bin/ajpbench');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-replay-'));

const run = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCli(args, { env });

let stub: StubContainer;
let t1: string;
let t2: string;
beforeAll(async () => {
  stub = await StubContainer.start({
    listen: [
      { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' },
      { host: '127.0.0.1', port: 0, route: 'tomcat2', protocol: 'ajp' },
      { host: '127.0.0.1', port: 0, route: 'web1', protocol: 'http' },
    ],
    bodySize: 512,
  });
  [t1, t2] = stub.listeners.slice(0, 2).map((l) => `ajp://${l.address}`) as [string, string];
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

const json = (f: string): ReplayReport => JSON.parse(readFileSync(f, 'utf8')) as ReplayReport;

describe('ajpbench replay', () => {
  it('replays against two AJP stubs and prints the summary; --json has everything with mergeable histograms; --hgrm the distribution', async () => {
    const out = join(dir, 'r1.json');
    const hgrm = join(dir, 'r1.hgrm');
    const r = await run([
      'replay',
      trace,
      '--target',
      t1,
      '--target',
      t2,
      '--requests',
      '300',
      '--loop',
      '--concurrency',
      '4',
      '--json',
      out,
      '--hgrm',
      hgrm,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const heading of [
      'Replay',
      'Latency (from the send)',
      'By status class',
      'Workers',
      'Errors',
      'Throughput per second',
      'Bytes',
      'Connections',
    ])
      expect(r.stdout).toContain(heading);
    const rep = json(out);
    expect(rep.requests).toMatchObject({ total: 300, responses: 300, errors: 0 });
    expect(rep.schedule.stoppedBy).toBe('requests');
    expect(decodeFromCompressedBase64(rep.latency.timeToCompleteUs.histogram).totalCount).toBe(300);
    expect(rep.workers.map((w) => w.name)).toEqual(expect.arrayContaining(['tomcat1', 'tomcat2']));
    expect(rep.connections.map((c) => c.target)).toEqual([t1, t2]);
    expect(rep.config).toMatchObject({
      model: 'closed',
      concurrency: 4,
      requests: 300,
      loop: true,
      exchangesPerPass: 44,
    });
    expect(readFileSync(hgrm, 'utf8')).toMatch(/^\s+Value\s+Percentile\s+TotalCount/);
  });

  it('runs open loop at a rate with a warmup kept out of the results, and replays over HTTP', async () => {
    const out = join(dir, 'r2.json');
    const web = `http://${(stub.listeners[2] as { address: string }).address}`;
    const r = await run([
      'replay',
      trace,
      '--target',
      web,
      '--rate',
      '200/s',
      '--warmup',
      '300ms',
      '--duration',
      '700ms',
      '--loop',
      '--json',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Latency (from the due time)');
    const rep = json(out);
    expect(rep.schedule.model).toMatch(/^open loop, constant 200\/s/);
    expect(rep.schedule.warmupRequests).toBe(60);
    expect(rep.requests.total).toBe(140);
    expect(rep.workers[0]?.name).toBe('web1');
  });

  it('--verify counts mismatches by kind with examples (a stub is not the recorded application)', async () => {
    const out = join(dir, 'r3.json');
    const r = await run([
      'replay',
      trace,
      '--target',
      t1,
      '--verify',
      '--verify-headers',
      'Content-Type',
      '--json',
      out,
    ]);
    expect(r.code).toBe(0);
    const v = json(out).verify;
    expect(v?.compared).toBe(44);
    expect(v?.byKind.map((k) => k.kind)).toEqual(expect.arrayContaining(['body', 'header:content-type']));
    expect(v?.byKind[0]?.examples.length).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/Verify: \d+ of 44 responses match/);
  });

  it('takes options from a profile, a flag winning over it, and names a bad profile field', async () => {
    const out = join(dir, 'r4.json');
    const r = await run(['replay', trace, '--target', t1, '--profile', 'smoke', '--duration', '500ms', '--json', out]);
    expect(r.code).toBe(0);
    expect(json(out).config).toMatchObject({ concurrency: 2, durationMs: 500, loop: true });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ rate: 'fast' }));
    const e = await run(['replay', trace, '--target', t1, '--profile', bad]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/field "rate": --rate takes a rate/);
    writeFileSync(bad, JSON.stringify({ concurency: 3 }));
    expect((await run(['replay', trace, '--target', t1, '--profile', bad])).stderr).toMatch(
      /unknown field "concurency"/,
    );
  });

  it('bundled profiles all parse', async () => {
    const { loadProfile } = await import('../../../src/cli/load-profile.js');
    for (const p of ['smoke', 'steady', 'stress', 'soak', 'fairness-ci'])
      expect(Object.keys(loadProfile(p)).length).toBeGreaterThan(2);
  });

  it('usage errors stop it (exit 2); an unreadable trace is exit 3; a dead target is measured, then exit 3', async () => {
    const badUrl = await run(['replay', trace, '--target', 'ftp://x']);
    expect([badUrl.code, badUrl.stderr]).toEqual([2, expect.stringMatching(/--target: .*ajp:\/\/ or http:\/\//)]);
    expect((await run(['replay', trace])).code).toBe(2);
    expect((await run(['replay', trace, '--target', t1, '--rate', '10/s', '--timing', 'recorded'])).code).toBe(2);
    const missing = await run(['replay', join(dir, 'nope.jsonl'), '--target', t1]);
    expect([missing.code, missing.stderr]).toEqual([3, expect.stringMatching(/cannot read/)]);
    const out = join(dir, 'dead.json');
    const dead = await run(['replay', trace, '--target', 'ajp://127.0.0.1:1', '--json', out]);
    expect(dead.code).toBe(3);
    expect(json(out).errors.byKind).toEqual([{ kind: 'connect-refused', count: 44, example: expect.any(String) }]);
  });

  it('Ctrl-C stops the run and still prints and writes everything measured so far', async () => {
    const out = join(dir, 'int.json');
    const child = spawn(
      process.execPath,
      [bin, 'replay', trace, '--target', t1, '--loop', '--duration', '60s', '--json', out],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    await new Promise((r) => setTimeout(r, 1200));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(stdout).toContain('Ctrl-C (results so far)');
    const rep = json(out);
    expect(rep.schedule.stoppedBy).toBe('signal');
    expect(rep.requests.total).toBeGreaterThan(10);
  });
});

describe('ajpbench serve', () => {
  it('serves until --duration and reports what it served; a replay against it works', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--listen', '127.0.0.1:0', '--route', 'w9', '--duration', '3s'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    const addr = await new Promise<string>((resolve) =>
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /listening on (ajp:\/\/[\d.]+:\d+)/.exec(stderr);
        if (m !== null) resolve(m[1] as string);
      }),
    );
    const out = join(dir, 'serve.json');
    expect((await run(['replay', trace, '--target', addr, '--json', out])).code).toBe(0);
    expect(json(out).workers[0]?.name).toBe('w9');
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    expect(stderr).toMatch(/serve: \d+ connections, 44 requests/);
  });

  it('rejects bad flags with exit 2', async () => {
    expect((await run(['serve', '--listen', 'nope'])).code).toBe(2);
    expect((await run(['serve', '--fail-rate', '2'])).code).toBe(2);
  });
});
