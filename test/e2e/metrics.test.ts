/**
 * `record --metrics` between real peers: a private httpd with mod_jk (test/e2e/support/balancer-rig.ts)
 * balancing over two taps of one `ajpbench record --no-trace --metrics` process, in front of the
 * lab's tomcat1 and tomcat2. A known set of requests goes through httpd; /metrics, polled with a
 * deadline, must count exactly what each Tomcat served (by its X-Served-By), by method and status
 * class, with histogram counts equal to the exchange counts and body-size sums equal to the bytes sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleSum, sampleValue, type Sample } from '../fixtures/prom-text.js';
import { BIN } from '../fixtures/run-cli.js';
import { withTimeout } from '../fixtures/tap-fixtures.js';
import { httpRequest } from '../lab/http-client.js';
import { labForTests, type LabState } from '../lab/lab.js';
import { freePort, startRig, type Rig } from './support/balancer-rig.js';

const lab = labForTests();

interface Sent {
  method: string;
  uriGroup: string;
  status: number;
  worker: string;
  requestBytes: number;
  responseBytes: number;
}

const statusClass = (s: number): string => `${Math.floor(s / 100)}xx`;

describe.skipIf(lab === undefined)('record --metrics: httpd + mod_jk -> two taps -> both Tomcats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-metrics-'));
  let rig: Rig | undefined;
  let child: ChildProcess | undefined;
  let exit: Promise<number>;
  let stderr = '';
  let metricsUrl = '';
  const sent: Sent[] = [];
  let samples: Sample[] = [];

  beforeAll(async () => {
    const state = lab as LabState;
    const [tap1, tap2] = [await freePort(), await freePort()];
    child = spawn(
      process.execPath,
      [
        BIN,
        'record',
        '--tap',
        `127.0.0.1:${tap1}=127.0.0.1:${state.ports.tomcat1Ajp}@tomcat1`,
        '--tap',
        `127.0.0.1:${tap2}=127.0.0.1:${state.ports.tomcat2Ajp}@tomcat2`,
        '--no-trace',
        '--metrics',
        '127.0.0.1:0',
        '--uri-group',
        `echo=${state.paths.echo}`,
        '--uri-group',
        `status=${state.paths.status}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    exit = new Promise((resolve) => child?.on('exit', (code) => resolve(code ?? -1)));
    child.stderr?.setEncoding('utf8');
    metricsUrl = await withTimeout(
      new Promise<string>((resolve, reject) => {
        child?.stderr?.on('data', (c: string) => {
          stderr += c;
          const m = /^record: metrics at (\S+)\n[^]*Ctrl-C to stop/m.exec(stderr);
          if (m !== null) resolve(m[1] as string);
        });
        void exit.then((code) => reject(new Error(`record exited with ${code}: ${stderr}`)));
      }),
      15_000,
      'record to start',
    );
    rig = await startRig({
      dir,
      backends: [
        { route: 'tomcat1', ajpPort: tap1, httpPort: state.ports.tomcat1Http },
        { route: 'tomcat2', ajpPort: tap2, httpPort: state.ports.tomcat2Http },
      ],
      sites: [{ kind: 'jk', name: 'm', weights: [1, 1] }],
    });
    const base = rig.urls.m as string;
    const go = async (method: string, path: string, uriGroup: string, body?: Buffer): Promise<void> => {
      const res = await httpRequest(base + path, { method, ...(body === undefined ? {} : { body }) });
      const worker = res.headers['x-served-by'];
      if (typeof worker !== 'string') throw new Error(`${method} ${path}: no X-Served-By (status ${res.status})`);
      sent.push({
        method,
        uriGroup,
        status: res.status,
        worker,
        requestBytes: body?.length ?? 0,
        responseBytes: res.body.length,
      });
    };
    // A known, bounded mix: 54 requests, sequential, through httpd's balancer.
    for (let i = 0; i < 30; i++) await go('GET', `${state.paths.echo}?i=${i}`, 'echo');
    for (let i = 0; i < 8; i++) await go('POST', state.paths.echo, 'echo', Buffer.alloc(500 + i, 'p'));
    for (let i = 0; i < 6; i++) await go('GET', `${state.paths.status}?code=404`, 'status');
    for (let i = 0; i < 6; i++) await go('GET', `${state.paths.status}?code=503`, 'status');
    for (let i = 0; i < 4; i++) await go('GET', `${state.paths.large}?size=20000`, `${state.paths.large}`);
    // Poll until the endpoint has counted every exchange (the tap decodes after forwarding).
    const deadline = Date.now() + 15_000;
    for (;;) {
      samples = parseSamples(await (await fetch(metricsUrl)).text());
      if (sampleSum(samples, 'ajpbench_exchanges_total') >= sent.length || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    await rig?.stop();
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('both Tomcats served, every response came back', () => {
    expect(sent).toHaveLength(54);
    expect(new Set(sent.map((s) => s.worker))).toEqual(new Set(['tomcat1', 'tomcat2']));
    expect(sent.filter((s) => s.status === 404)).toHaveLength(6);
    expect(sent.filter((s) => s.status === 503)).toHaveLength(6);
  });

  it('exchanges by worker, method and status class equal what each Tomcat served', () => {
    const want = new Map<string, number>();
    for (const s of sent) {
      const k = `${s.worker} ${s.method} ${statusClass(s.status)}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    const got = new Map(
      samples
        .filter((x) => x.name === 'ajpbench_exchanges_total')
        .map((x) => [`${x.labels.worker} ${x.labels.method} ${x.labels.status_class}`, x.value]),
    );
    expect(got).toEqual(want);
  });

  it('histogram counts equal the exchange counts; body sizes sum to the bytes sent and received', () => {
    for (const worker of ['tomcat1', 'tomcat2']) {
      const mine = sent.filter((s) => s.worker === worker);
      expect(sampleSum(samples, 'ajpbench_exchange_duration_seconds_count', { worker })).toBe(mine.length);
      expect(sampleSum(samples, 'ajpbench_time_to_headers_seconds_count', { worker })).toBe(mine.length);
      expect(sampleSum(samples, 'ajpbench_uri_duration_seconds_count', { worker })).toBe(mine.length);
      // +Inf bucket = count, and every exchange took more than 0 s.
      expect(sampleSum(samples, 'ajpbench_exchange_duration_seconds_bucket', { worker, le: '+Inf' })).toBe(mine.length);
      expect(sampleSum(samples, 'ajpbench_exchange_duration_seconds_sum', { worker })).toBeGreaterThan(0);
      for (const [cls, n] of [
        ['4xx', mine.filter((s) => s.status === 404).length],
        ['5xx', mine.filter((s) => s.status === 503).length],
      ] as const)
        expect(
          sampleValue(samples, 'ajpbench_exchange_duration_seconds_count', { worker, status_class: cls }) ?? 0,
        ).toBe(n);
      expect(sampleValue(samples, 'ajpbench_request_body_bytes_count', { worker })).toBe(mine.length);
      expect(sampleValue(samples, 'ajpbench_request_body_bytes_sum', { worker })).toBe(
        mine.reduce((n, s) => n + s.requestBytes, 0),
      );
      expect(sampleValue(samples, 'ajpbench_response_body_bytes_sum', { worker })).toBe(
        mine.reduce((n, s) => n + s.responseBytes, 0),
      );
      for (const group of ['echo', 'status']) {
        const n = mine.filter((s) => s.uriGroup === group).length;
        expect(sampleValue(samples, 'ajpbench_uri_duration_seconds_count', { worker, uri: group }) ?? 0).toBe(n);
      }
      expect(sampleValue(samples, 'ajpbench_bytes_total', { worker, direction: 'to_web_server' })).toBeGreaterThan(
        mine.reduce((n, s) => n + s.responseBytes, 0),
      );
      expect(sampleValue(samples, 'ajpbench_open_connections', { worker })).toBeGreaterThanOrEqual(1);
    }
    expect(sampleSum(samples, 'ajpbench_errors_total')).toBe(0);
    expect(sampleSum(samples, 'ajpbench_incomplete_exchanges_total')).toBe(0);
  });

  it('stops on SIGTERM with the same per-worker counts in its summary, and closes the endpoint', async () => {
    child?.kill('SIGTERM');
    expect(await withTimeout(exit, 15_000, 'record to stop')).toBe(0);
    const count = (w: string): number => sent.filter((s) => s.worker === w).length;
    expect(stderr).toContain(`${sent.length} exchanges (tomcat1 ${count('tomcat1')}, tomcat2 ${count('tomcat2')})`);
    expect(stderr).toContain('no trace written (--no-trace)');
    await expect(fetch(metricsUrl)).rejects.toThrow();
  });
});
