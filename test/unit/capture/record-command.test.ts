/** `ajpbench record` through the built binary: exit codes, SIGTERM with an exchange in flight, limits, summary. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ExchangeEvent } from '../../../src/trace/index.js';
import { AjpTestClient } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import { readTrace, waitFor, withTimeout } from '../../fixtures/tap-fixtures.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const bin = join(import.meta.dirname, '../../../bin/ajpbench');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-record-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const run = (args: string[]): Promise<CliRun> => runCli(args, { timeoutMs: 15_000 });

interface Running {
  child: ChildProcess;
  /** Listen ports in --tap order, from the start lines on stderr. */
  ports: number[];
  stderr: () => string;
  exit: Promise<number>;
}

/** Starts `ajpbench record`, resolves once every tap listens. */
async function start(args: string[], taps = 1): Promise<Running> {
  const child = spawn(process.execPath, [bin, 'record', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('error', () => undefined); // a test may close its end
  let err = '';
  child.stderr?.setEncoding('utf8');
  const exit = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ports = await withTimeout(
    new Promise<number[]>((resolve, reject) => {
      child.stderr?.on('data', (c: string) => {
        err += c;
        const found = [...err.matchAll(/^record: 127\.0\.0\.1:(\d+) -> /gm)].map((m) => Number(m[1]));
        if (found.length === taps) resolve(found);
      });
      void exit.then((code) => reject(new Error(`record exited with ${code}: ${err}`)));
    }),
    10_000,
    'record to listen',
  );
  return { child, ports, stderr: () => err, exit };
}

async function container(route: string): Promise<AjpTestContainer> {
  const c = await AjpTestContainer.start({ route });
  cleanups.push(() => c.close());
  return c;
}

describe('ajpbench record', () => {
  it('explains itself in --help, with the range of every numeric flag', async () => {
    const r = await run(['record', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--listen',
      '--upstream',
      '--tap',
      '--rotate',
      '--duration',
      '--max-exchanges',
      '--drain',
      '--bodies',
      '--no-redact',
      '--max-body',
      '--keep',
      '--keep-for',
      '--gzip',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const range of ['1KiB to 1024GiB', 'above 0, up to 24d', '0 to 24d', '≥ 1', '8192 to 65536', '0 to 16MiB'])
      expect(help).toContain(range);
  });

  it.each([
    [[], /nothing to record/],
    [['--listen', '127.0.0.1:19009'], /--listen and --upstream go together/],
    [['--tap', '127.0.0.1:19009'], /LISTEN=UPSTREAM/],
    [['--tap', '127.0.0.1:19009=127.0.0.1:0'], /host:port/],
    [['--tap', '127.0.0.1:19009=127.0.0.1:18009@bad name'], /worker name/],
    [['--listen', '1', '--upstream', '2', '--rotate', '10MB'], /--rotate needs -o/],
    [['--listen', '1', '--upstream', '2', '--duration', 'soon'], /--duration takes a duration/],
    [
      ['--listen', '1', '--upstream', '2', '--max-packet-size', '100'],
      /--max-packet-size takes a whole number from 8192 to 65536, got "100"/,
    ],
    [['--listen', '1', '--upstream', '2', '--max-packet-size', '70000'], /from 8192 to 65536/],
    // Node's timers fire at once past 2^31-1 ms: 1000h used to stop the recording at once, exit 0.
    [
      ['--listen', '1', '--upstream', '2', '--duration', '1000h'],
      /--duration takes a duration above 0 up to 24d \(the longest a timer can wait\), got "1000h"/,
    ],
    [['--listen', '1', '--upstream', '2', '--duration', '0s'], /--duration takes a duration above 0/],
    [['--listen', '1', '--upstream', '2', '--drain', '1000h'], /--drain takes a duration from 0 up to 24d/],
    [['--listen', '1', '--upstream', '2', '--connect-timeout', '0'], /--connect-timeout takes a duration above 0/],
    [
      ['--listen', '1', '--upstream', '2', '--connect-timeout', '1000h'],
      /--connect-timeout takes a duration above 0 up to 24d/,
    ],
    [['--listen', '1', '--upstream', '2', '--max-exchanges', '0'], /--max-exchanges takes a whole number ≥ 1, got "0"/],
    [
      ['--listen', '1', '--upstream', '2', '-o', 'x.jsonl', '--rotate', '100'],
      /--rotate takes a size from 1KiB to 1024GiB, got "100"/,
    ],
    [['--listen', '1', '--upstream', '2', '--max-body', '1GiB'], /--max-body takes a size from 0 to 16MiB, got "1GiB"/],
    [['--listen', '1', '--upstream', '2', '-o', 'x.jsonl', '--keep', '3'], /--keep needs --rotate/],
    [['--listen', '1', '--upstream', '2', '-o', 'x.jsonl', '--gzip'], /--gzip needs --rotate/],
    [['--listen', '1', '--upstream', '2', '-o', 'x.jsonl', '--keep-for', '7d'], /--keep-for needs --rotate/],
    [
      ['--listen', '1', '--upstream', '2', '-o', 'x.jsonl', '--rotate', '1MB', '--keep', '0'],
      /--keep takes a whole number ≥ 1, got "0"/,
    ],
  ])('exits 2 on bad flags: %j', async (args, message) => {
    const r = await run(['record', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 3 with a clear message when a listen address is in use', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    cleanups.push(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as AddressInfo).port;
    const out = join(dir, 'busy.jsonl');
    const r = await run([
      'record',
      '--tap',
      `127.0.0.1:0=127.0.0.1:1@a`,
      '--tap',
      `127.0.0.1:${port}=127.0.0.1:1@b`,
      '-o',
      out,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: address already in use`);
  });

  it('on SIGTERM lets the exchange in flight finish, writes every exchange, prints a summary and exits 0', async () => {
    const [c1, c2] = [await container('tomcat1'), await container('tomcat2')];
    const out = join(dir, 'signal.jsonl');
    const rec = await start(
      [
        '--tap',
        `127.0.0.1:0=127.0.0.1:${c1.port}@tomcat1`,
        '--tap',
        `127.0.0.1:0=127.0.0.1:${c2.port}@tomcat2`,
        '-o',
        out,
        '--drain',
        '5s',
      ],
      2,
    );
    const a = await AjpTestClient.connect(rec.ports[0] as number);
    const b = await AjpTestClient.connect(rec.ports[1] as number);
    for (let i = 0; i < 3; i++) await a.request(`/app/a${i}`);
    await b.request('/app/b0');
    const slow = b.request('/app/slow?delay=600&size=5000');
    await new Promise((r) => setTimeout(r, 100));
    rec.child.kill('SIGTERM');
    const res = await slow;
    expect(res.body.length).toBe(5000);
    expect(await withTimeout(rec.exit, 5000, 'exit')).toBe(0);
    expect(rec.stderr()).toMatch(/stopped \(signal\).*5 exchanges \(tomcat1 3, tomcat2 2\)/);
    expect(rec.stderr()).toContain(`events -> ${out}`);
    const { events } = await readTrace(out);
    const x = events.filter((e): e is ExchangeEvent => e.event === 'exchange');
    expect(x.map((e) => [e.request.uri, e.worker])).toEqual([
      ['/app/a0', 'tomcat1'],
      ['/app/a1', 'tomcat1'],
      ['/app/a2', 'tomcat1'],
      ['/app/b0', 'tomcat2'],
      ['/app/slow', 'tomcat2'],
    ]);
  });

  it('stops by itself at --max-exchanges and writes numbered files with --rotate', async () => {
    const c = await container('tomcat1');
    const out = join(dir, 'rot.jsonl');
    const rec = await start([
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      `127.0.0.1:${c.port}`,
      '--worker',
      'w',
      '-o',
      out,
      '--rotate',
      '2KiB',
      '--max-exchanges',
      '12',
    ]);
    const client = await AjpTestClient.connect(rec.ports[0] as number);
    for (let i = 0; i < 12; i++) await client.request(`/app/r${i}`);
    expect(await withTimeout(rec.exit, 5000, 'exit')).toBe(0);
    expect(rec.stderr()).toMatch(/stopped \(max-exchanges\)/);
    const files = [...rec.stderr().matchAll(/rot\.(\d{4})\.jsonl/g)].map((m) => m[0]);
    expect(files.length).toBeGreaterThan(1);
    let n = 0;
    for (const f of new Set(files))
      n += (await readTrace(join(dir, f))).events.filter((e) => e.event === 'exchange').length;
    expect(n).toBe(12);
  });
});

describe('ajpbench record over a long run', () => {
  it('SIGHUP after logrotate renamed the trace: the file is created again and the recording goes on, nothing lost', async () => {
    const c = await container('tomcat1');
    const out = join(dir, 'hup.jsonl');
    const rec = await start(['--listen', '127.0.0.1:0', '--upstream', `127.0.0.1:${c.port}`, '-o', out]);
    const client = await AjpTestClient.connect(rec.ports[0] as number);
    for (let i = 0; i < 3; i++) expect((await client.request(`/app/before${i}`)).status).toBe(200);
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('/app/before2'), 5000, 'three exchanges');
    renameSync(out, `${out}.1`);
    rec.child.kill('SIGHUP');
    await waitFor(() => existsSync(out), 5000, 'the trace created again');
    // Still forwarding on the same connection, and now writing the new file.
    for (let i = 0; i < 3; i++) expect((await client.request(`/app/after${i}`)).status).toBe(200);
    client.close();
    rec.child.kill('SIGTERM');
    expect(await withTimeout(rec.exit, 5000, 'exit')).toBe(0);
    const uris = async (f: string): Promise<string[]> =>
      (await readTrace(f)).events
        .filter((e): e is ExchangeEvent => e.event === 'exchange')
        .map((e) => e.request.uri ?? '');
    expect(await uris(`${out}.1`)).toEqual(['/app/before0', '/app/before1', '/app/before2']);
    expect(await uris(out)).toEqual(['/app/after0', '/app/after1', '/app/after2']);
  });
});

describe('ajpbench record when the trace cannot be written', () => {
  /** One request on a new connection through the tap: the tap still accepts and forwards. */
  async function oneRequest(port: number, uri: string): Promise<void> {
    const client = await AjpTestClient.connect(port);
    try {
      const res = await client.request(`${uri}?size=50`);
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(50);
    } finally {
      client.close();
    }
  }

  it('-o - whose reader went away (EPIPE): keeps accepting and forwarding, says so once, exits 3 at the end', async () => {
    const c = await container('tomcat1');
    const rec = await start(['--listen', '127.0.0.1:0', '--upstream', `127.0.0.1:${c.port}`, '-o', '-']);
    const port = rec.ports[0] as number;
    // Read the header line, then go away as `| head -1` would.
    let out = '';
    rec.child.stdout?.setEncoding('utf8');
    rec.child.stdout?.on('data', (d: string) => (out += d));
    await waitFor(() => out.includes('\n'), 5000, 'the header on stdout');
    expect(JSON.parse(out.split('\n')[0] as string)).toMatchObject({ format: 'ajpbench-trace' });
    rec.child.stdout?.destroy();
    // Traffic until the tap has noticed (the next trace write fails with EPIPE), then more.
    let i = 0;
    const deadline = Date.now() + 10_000;
    while (!/trace output failed/.test(rec.stderr())) {
      if (Date.now() > deadline) throw new Error(`no warning: ${rec.stderr()}`);
      await oneRequest(port, `/app/before${i++}`);
    }
    expect(rec.stderr()).toContain('cannot write stdout: the reader went away');
    for (let k = 0; k < 5; k++) await oneRequest(port, `/app/after${k}`);
    expect(rec.child.exitCode).toBeNull();
    rec.child.kill('SIGTERM');
    expect(await withTimeout(rec.exit, 5000, 'exit')).toBe(3);
    const err = rec.stderr();
    expect(err.match(/trace output failed/g)).toHaveLength(1);
    expect(err).toMatch(/stopped \(signal\) after [\d.]+ s: \d+ connections, \d+ exchanges/);
    expect(Number(/, (\d+) exchanges/.exec(err)?.[1])).toBe(i + 5);
    expect(err).toMatch(/\d+ trace events lost: cannot write stdout: the reader went away/);
    expect(err).toContain('ajpbench: the trace is incomplete: cannot write stdout: the reader went away');
  }, 30_000);

  it.runIf(existsSync('/dev/full'))(
    '-o /dev/full (a full disk): keeps forwarding, says so once, exits 3 at the end',
    async () => {
      const c = await container('tomcat1');
      const modeBefore = statSync('/dev/full').mode;
      const rec = await start([
        '--listen',
        '127.0.0.1:0',
        '--upstream',
        `127.0.0.1:${c.port}`,
        '-o',
        '/dev/full',
        '--max-exchanges',
        '6',
      ]);
      for (let k = 0; k < 6; k++) await oneRequest(rec.ports[0] as number, `/app/full${k}`);
      expect(await withTimeout(rec.exit, 5000, 'exit')).toBe(3);
      const err = rec.stderr();
      expect(err.match(/trace output failed/g)).toHaveLength(1);
      expect(err).toMatch(/stopped \(max-exchanges\).*6 exchanges/);
      expect(err).toContain('0 events -> /dev/full');
      expect(err).toContain('ajpbench: the trace is incomplete: cannot write /dev/full: no space left on the device');
      expect(statSync('/dev/full').mode).toBe(modeBefore);
    },
    30_000,
  );
});
