/**
 * `record --metrics` and `import - --metrics` through the built binary: the endpoint counts what
 * went through while the command runs, --no-trace writes nothing, flags that make no sense
 * together are usage errors, a metrics address in use is exit 3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AjpTestClient } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import { sampleSum, sampleValue } from '../../fixtures/prom-text.js';
import { BIN, runCli } from '../../fixtures/run-cli.js';
import { withTimeout } from '../../fixtures/tap-fixtures.js';

const CAPTURE = join(import.meta.dirname, '../../../captures/lab-mixed.pcap');
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number>;
}

/** Starts the binary and resolves once stderr has matched every pattern (their first groups). */
async function start(args: string[], wait: RegExp[]): Promise<Running & { found: string[] }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr?.setEncoding('utf8');
  const exit = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const found = await withTimeout(
    new Promise<string[]>((resolve, reject) => {
      child.stderr?.on('data', (c: string) => {
        err += c;
        const m = wait.map((re) => re.exec(err)?.[1]);
        if (m.every((x) => x !== undefined)) resolve(m);
      });
      void exit.then((code) => reject(new Error(`exited with ${code}: ${err}`)));
    }),
    10_000,
    'the command to start',
  );
  return { child, found, stdout: () => out, stderr: () => err, exit };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return res.text();
}

/** Polls the endpoint until `cond` holds on its text; the last text when it does. */
async function scrapeUntil(url: string, cond: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
  let text = '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    text = await scrape(url);
    if (cond(text)) return text;
    if (Date.now() > deadline) throw new Error(`the metrics did not get there within ${timeoutMs} ms:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('record --metrics', () => {
  it('--no-trace: a pure monitor; the endpoint counts the exchanges per worker and closes at stop', async () => {
    const c = await AjpTestContainer.start({ route: 'tomcat1' });
    cleanups.push(() => c.close());
    const r = await start(
      [
        'record',
        '--tap',
        `0=127.0.0.1:${c.port}@tomcat1`,
        '--no-trace',
        '--metrics',
        '0',
        '--uri-group',
        'app=/app/**',
      ],
      [
        /^record: 127\.0\.0\.1:(\d+) -> /m,
        /^record: metrics at (\S+)$/m,
        /^record: (no trace \(--no-trace\)), decoded on a tracer thread; Ctrl-C to stop$/m,
      ],
    );
    const [tapPort, url] = r.found as [string, string];
    const client = await AjpTestClient.connect(Number(tapPort));
    for (let i = 0; i < 5; i++) await client.request(`/app/item/${i}`);
    await client.request('/other');
    const labels = { worker: 'tomcat1', method: 'GET', status_class: '2xx' };
    const text = await scrapeUntil(url, (t) => sampleValue(t, 'ajpbench_exchanges_total', labels) === 6);
    expect(
      sampleValue(text, 'ajpbench_exchange_duration_seconds_count', { worker: 'tomcat1', status_class: '2xx' }),
    ).toBe(6);
    expect(
      sampleValue(text, 'ajpbench_uri_exchanges_total', { worker: 'tomcat1', uri: 'app', status_class: '2xx' }),
    ).toBe(5);
    expect(sampleValue(text, 'ajpbench_open_connections', { worker: 'tomcat1' })).toBe(1);
    expect(sampleValue(text, 'ajpbench_bytes_total', { worker: 'tomcat1', direction: 'to_container' })).toBeGreaterThan(
      0,
    );
    client.close();
    r.child.kill('SIGTERM');
    expect(await withTimeout(r.exit, 10_000, 'record to stop')).toBe(0);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).toMatch(/6 exchanges \(tomcat1 6\)/);
    expect(r.stderr()).toContain('no trace written (--no-trace)');
    await expect(fetch(url)).rejects.toThrow();
  });

  it('refuses trace flags with --no-trace, URI flags without --metrics, and a metrics address in use (exit 3)', async () => {
    const tap = ['record', '--tap', '0=127.0.0.1:1@a'];
    for (const [extra, message] of [
      [['--no-trace', '-o', 'x.jsonl'], '-o says what to do with the trace, and --no-trace writes none'],
      [['--no-trace', '--max-body', '1KiB'], '--max-body says'],
      [['--uri-group', 'a=/x'], '--uri-group needs --metrics'],
      [['--metrics', '0', '--uri-top', '1001'], '--uri-top takes a whole number from 0 to 1000'],
    ] as const) {
      const run = await runCli([...tap, ...extra], { timeoutMs: 15_000 });
      expect([run.code, run.stderr]).toEqual([2, expect.stringContaining(message)]);
    }
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    cleanups.push(() => new Promise((r) => busy.close(r)));
    const port = (busy.address() as AddressInfo).port;
    const run = await runCli([...tap, '--no-trace', '--metrics', `127.0.0.1:${port}`], { timeoutMs: 15_000 });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`cannot listen on 127.0.0.1:${port} for --metrics: address already in use`);
  });
});

describe('import - --metrics', () => {
  it('serves while a live capture streams in, counts every exchange, and writes no trace with --no-trace', async () => {
    const r = await start(
      ['import', '-', '--port', 'auto', '--no-trace', '--no-progress', '--metrics', '0'],
      [/^import: metrics at (\S+)$/m],
    );
    const url = r.found[0] as string;
    r.child.stdin?.write(readFileSync(CAPTURE));
    // lab-mixed.pcap holds 44 exchanges (docs/import.md); the stream stays open, so they are counted live.
    const text = await scrapeUntil(url, (t) => sampleSum(t, 'ajpbench_exchanges_total') === 44);
    expect(sampleSum(text, 'ajpbench_exchange_duration_seconds_count')).toBe(44);
    expect(sampleSum(text, 'ajpbench_cping_rtt_seconds_count')).toBe(44);
    r.child.stdin?.end();
    expect(await withTimeout(r.exit, 10_000, 'import to end')).toBe(0);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).toMatch(/44 exchanges.* -> no trace \(--no-trace\)/);
  });

  it('refuses --metrics for a file', async () => {
    const run = await runCli(['import', CAPTURE, '--metrics', '0'], { timeoutMs: 15_000 });
    expect([run.code, run.stderr]).toEqual([
      2,
      expect.stringContaining('--metrics serves a live capture read from stdin'),
    ]);
  });
});
