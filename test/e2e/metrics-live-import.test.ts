/**
 * `tcpdump -w - | ajpbench import - --no-trace --metrics`: a passive monitor, nothing in the path.
 * A private httpd with mod_jk (test/e2e/support/balancer-rig.ts) balances over two stub containers
 * on ports of their own, so the capture sees only this test's traffic; /metrics, polled with a
 * deadline, must count exactly what each container served (its route in the session cookie), per
 * container address (a capture has no worker names).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../src/load/stub-container.js';
import { parseSamples, sampleSum, sampleValue, type Sample } from '../fixtures/prom-text.js';
import { BIN } from '../fixtures/run-cli.js';
import { withTimeout } from '../fixtures/tap-fixtures.js';
import { httpRequest } from '../lab/http-client.js';
import { labForTests } from '../lab/lab.js';
import { startRig, type Rig } from './support/balancer-rig.js';

const lab = labForTests({ includeCapture: true, includeBrowser: false });

async function scrape(url: string): Promise<Sample[]> {
  return parseSamples(await (await fetch(url)).text());
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, tick?: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    tick?.();
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(lab === undefined)('tcpdump -w - | ajpbench import - --no-trace --metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-e2e-metrics-live-'));
  const stubs: StubContainer[] = [];
  let rig: Rig | undefined;

  beforeAll(async () => {
    for (const route of ['s1', 's2'])
      stubs.push(
        await StubContainer.start({ listen: [{ host: '127.0.0.1', port: 0, route, protocol: 'ajp' }], bodySize: 300 }),
      );
    const port = (s: StubContainer): number => s.listeners[0]?.port ?? 0;
    rig = await startRig({
      dir,
      backends: stubs.map((s, i) => ({ route: `s${i + 1}`, ajpPort: port(s), httpPort: port(s) })),
      sites: [{ kind: 'jk', name: 'live', weights: [1, 1] }],
    });
  }, 60_000);

  afterAll(async () => {
    await rig?.stop();
    for (const s of stubs) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts every exchange per container while the capture streams in; Ctrl-C ends it', async () => {
    const ports = stubs.map((s) => s.listeners[0]?.port ?? 0);
    const tcpdump = spawn(
      'tcpdump',
      ['-i', 'lo', '--immediate-mode', '-U', '-s', '0', '-w', '-', ports.map((p) => `tcp port ${p}`).join(' or ')],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const importer = spawn(
      process.execPath,
      [BIN, 'import', '-', '--port', ports.join(','), '--no-trace', '--no-progress', '--metrics', '0'],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    tcpdump.stdout?.pipe(importer.stdin as NodeJS.WritableStream);
    let stderr = '';
    importer.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => importer.once('close', (code) => resolve(code)));
    try {
      await until('the metrics endpoint', () => Promise.resolve(/metrics at \S+/.test(stderr)), 10_000);
      const url = /metrics at (\S+)/.exec(stderr)?.[1] as string;
      // Knock on a captured port until the importer has seen a connection: the pipeline is live.
      const knock = (): void => {
        const s = connect({ host: '127.0.0.1', port: ports[0] as number }, () => s.end());
        s.on('error', () => undefined);
      };
      await until(
        'the pipeline to see a connection',
        async () => sampleSum(await scrape(url), 'ajpbench_connections_total') > 0,
        15_000,
        knock,
      );

      const served: { route: string; method: string; requestBytes: number }[] = [];
      const base = rig?.urls.live as string;
      for (let i = 0; i < 46; i++) {
        const body = i % 8 === 0 ? Buffer.alloc(100 + i, 'q') : undefined;
        const method = body === undefined ? 'GET' : 'POST';
        const res = await httpRequest(`${base}/app/item/${i}`, { method, ...(body === undefined ? {} : { body }) });
        expect(res.status).toBe(200);
        const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('JSESSIONID=')) ?? '';
        const route = /^JSESSIONID=[^.;]+\.(\w+)/.exec(cookie)?.[1];
        if (route === undefined) throw new Error(`no route in ${JSON.stringify(cookie)}`);
        served.push({ route, method, requestBytes: body?.length ?? 0 });
      }
      let samples: Sample[] = [];
      await until(
        `${served.length} exchanges on /metrics`,
        async () => sampleSum((samples = await scrape(url)), 'ajpbench_exchanges_total') >= served.length,
        15_000,
      );
      for (const [i, route] of ['s1', 's2'].entries()) {
        const worker = `127.0.0.1:${ports[i]}`;
        const mine = served.filter((s) => s.route === route);
        expect(mine.length, route).toBeGreaterThan(0);
        for (const method of ['GET', 'POST'])
          expect(sampleValue(samples, 'ajpbench_exchanges_total', { worker, method, status_class: '2xx' }) ?? 0).toBe(
            mine.filter((s) => s.method === method).length,
          );
        expect(sampleSum(samples, 'ajpbench_exchange_duration_seconds_count', { worker })).toBe(mine.length);
        expect(sampleValue(samples, 'ajpbench_request_body_bytes_sum', { worker })).toBe(
          mine.reduce((n, s) => n + s.requestBytes, 0),
        );
        expect(sampleValue(samples, 'ajpbench_response_body_bytes_sum', { worker })).toBe(mine.length * 300);
      }
      expect(sampleSum(samples, 'ajpbench_exchanges_total')).toBe(served.length);
      expect(sampleSum(samples, 'ajpbench_errors_total')).toBe(0);

      // Ctrl-C: the terminal signals the whole pipeline.
      tcpdump.kill('SIGINT');
      importer.kill('SIGINT');
      expect(await withTimeout(closed, 15_000, 'import to end')).toBe(0);
      expect(stderr).toMatch(/46 exchanges.* -> no trace \(--no-trace\)/);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      tcpdump.kill('SIGKILL');
      importer.kill('SIGKILL');
    }
  });
});
