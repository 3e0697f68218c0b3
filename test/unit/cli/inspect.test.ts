/** `ajpbench inspect` end to end through the built binary (run `npx tsc` first): tables, JSON, exit codes. */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TraceSummary } from '../../../src/report/trace-summary.js';
import { TraceWriter } from '../../../src/trace/trace-writer.js';
import type { ExchangeEvent, TraceHeader } from '../../../src/trace/trace-types.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const run = (args: string[]): Promise<CliRun> => runCli(args);

const header: TraceHeader = {
  format: 'ajpbench-trace',
  version: 1,
  minorVersion: 0,
  tool: 'ajpbench 0.1.0',
  source: { kind: 'tap', taps: [{ listen: '127.0.0.1:8010', upstream: '127.0.0.1:8009', worker: 'jk-a' }] },
  startTime: '2025-03-01T12:00:00.000Z',
  startTimeUs: Date.parse('2025-03-01T12:00:00.000Z') * 1000,
  options: { redact: true, bodies: 'request', maxBody: 4096 },
};

function exchange(i: number, uri: string, status: number, endUs: number): ExchangeEvent {
  return {
    event: 'exchange',
    id: i,
    conn: 1,
    t: i * 10_000,
    upstream: '127.0.0.1:8009',
    worker: 'jk-a',
    request: {
      method: i % 4 === 0 ? 'POST' : 'GET',
      protocol: 'HTTP/1.1',
      uri,
      query: 'x=1',
      remoteAddr: null,
      remoteHost: null,
      serverName: 'www',
      serverPort: 80,
      isSsl: false,
      headers: [],
      attributes: {},
      reqAttributes: [],
      body: { length: i % 4 === 0 ? 100 : 0, sha256: '' },
    },
    response: { status, message: null, headers: [], body: { length: 1000, sha256: '' }, reuse: true },
    timing: { headersUs: endUs - 50, endUs },
    route: 'tc1',
    routeSource: 'cookie',
    bodyRequests: 0,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-inspect-'));
const trace = join(dir, 'shop.jsonl');

beforeAll(async () => {
  const w = await TraceWriter.create(trace, header);
  await w.write({
    event: 'connection',
    conn: 1,
    t: 0,
    state: 'open',
    client: '127.0.0.1:40000',
    upstream: '127.0.0.1:8009',
  });
  // 20 exchanges, 10 ms apart: 16 × 200, 3 × 404, 1 × 503; end times 100..2 000 µs (below 2048 µs
  // the HDR histogram is exact, so percentiles are the sorted values).
  for (let i = 0; i < 20; i++) {
    const status = i < 16 ? 200 : i < 19 ? 404 : 503;
    await w.write(exchange(i, i % 2 === 0 ? `/item/${i}` : '/cart', status, (i + 1) * 100));
  }
  await w.write({ event: 'cping', conn: 1, t: 5, rttUs: 250 });
  await w.write({
    event: 'incomplete',
    id: 20,
    conn: 1,
    t: 200_000,
    upstream: '127.0.0.1:8009',
    reason: 'end',
    seen: ['forward-request'],
    request: null,
    status: null,
  });
  await w.write({
    event: 'connection',
    conn: 1,
    t: 210_000,
    state: 'close',
    client: '127.0.0.1:40000',
    upstream: '127.0.0.1:8009',
    reason: 'end',
  });
  await w.close();
  appendFileSync(trace, '{"event":"exchange","id":21,"co\n'); // a recorder killed mid-write
});

describe('ajpbench inspect', () => {
  it('prints tables with the key numbers', async () => {
    const r = await run(['inspect', trace]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).not.toMatch(/\x1b\[/); // no colours when stdout is not a TTY
    expect(out).toMatch(/exchanges\s+│\s+20 │/);
    expect(out).toMatch(/requests per second\s+│\s+100\.00 │/); // 19 intervals over 190 ms
    expect(out).toMatch(/unreadable lines\s+│\s+1 \(first: line 26\) │/);
    expect(out).toMatch(/2xx\s+│\s+16 │\s+76\.2% │/); // of 21 requests (20 + 1 incomplete)
    expect(out).toMatch(/4xx\s+│\s+3 │/);
    expect(out).toMatch(/incomplete\s+│\s+1 │/);
    expect(out).toMatch(/GET\s+│\s+15 │\s+75\.0% │/);
    expect(out).toMatch(/\/item\/\{n\}\s+│\s+10 │/);
    expect(out).toMatch(/jk-a\s+│\s+20 │/);
    // endUs 0.1..2 ms: mean 1.05 ms, p50 the 10th (1 ms), p90 the 18th, p99 and up the 20th.
    expect(out).toMatch(/to end\s+│\s+20 │\s+1\.050 │\s+1\.000 │\s+1\.800 │\s+2\.000 │\s+2\.000 │\s+2\.000 │/);
    expect(out).toMatch(/to headers\s+│\s+20 │\s+1\.000 │\s+0\.950 │/);
    expect(out).toMatch(/tap 127\.0\.0\.1:8010 -> 127\.0\.0\.1:8009 \(worker jk-a\)/);
  });

  it('prints the summary as JSON with --json', async () => {
    const r = await run(['inspect', '--json', '--top', '1', trace]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as TraceSummary;
    expect(s).toMatchObject({
      exchanges: 20,
      events: 24,
      unreadableLines: 1,
      requestSpanUs: 190_000,
      requestsPerSecond: 100,
    });
    expect(s.statusClasses).toEqual({ '1xx': 0, '2xx': 16, '3xx': 0, '4xx': 3, '5xx': 1, other: 0, incomplete: 1 });
    expect(s.methods).toEqual([
      { name: 'GET', count: 15 },
      { name: 'POST', count: 5 },
    ]);
    expect(s.uris).toEqual({ top: [{ name: '/cart', count: 10 }], distinct: 2, capped: false, other: 0 });
    expect(s.latency.endUs).toEqual({ count: 20, mean: 1050, p50: 1000, p90: 1800, p99: 2000, p99_9: 2000, max: 2000 });
    expect(s.bytes).toEqual({ requestBodies: 500, responseBodies: 20_000 });
    expect(s.cping).toMatchObject({ count: 1, noCPong: 0, rttUs: { p50: 250 } });
    expect(s.connections).toMatchObject({ opened: 1, closed: 1, closedBy: [{ name: 'end', count: 1 }] });
    expect(s.trace.options).toEqual(header.options);
  });

  it('exits 3 for a missing file, a file that is not a trace, an empty one and a newer version', async () => {
    const missing = await run(['inspect', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot read .*nope\.jsonl: no such file or directory\n$/);

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    const notTrace = await run(['inspect', text]);
    expect(notTrace.code).toBe(3);
    expect(notTrace.stderr).toMatch(/notes\.txt: .*not an ajpbench trace/);

    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    expect((await run(['inspect', empty])).code).toBe(3);

    const newer = join(dir, 'v2.jsonl');
    writeFileSync(newer, JSON.stringify({ ...header, version: 2 }) + '\n');
    const r = await run(['inspect', newer]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/version 2 is newer .*upgrade ajpbench/);
    expect(r.stdout).toBe('');
  });

  it('exits 3 with one line for a directory, an empty file and /dev/null', async () => {
    const d = await run(['inspect', dir]);
    expect(d.code).toBe(3);
    expect(d.stderr).toBe(`ajpbench: cannot read ${dir}: is a directory\n`);
    const devNull = await run(['inspect', '/dev/null']);
    expect(devNull.code).toBe(3);
    expect(devNull.stderr).toBe('ajpbench: /dev/null: the trace is empty (no header line)\n');
    expect(devNull.stdout).toBe('');
  });

  it('counts exchanges whose fields have the wrong type as malformed (no stack trace)', async () => {
    const file = join(dir, 'odd-uris.jsonl');
    const w = await TraceWriter.create(file, header);
    await w.write(exchange(1, '/ok', 200, 100));
    await w.close();
    const odd = (uri: unknown): string =>
      JSON.stringify({ ...exchange(2, '/x', 200, 100), request: { ...exchange(2, '/x', 200, 100).request, uri } });
    appendFileSync(
      file,
      [odd(42), odd(['/a']), odd({ p: '/a' }), JSON.stringify({ ...exchange(3, '/y', 200, 100), timing: null })].join(
        '\n',
      ) + '\n',
    );
    const r = await run(['inspect', '--json', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: 5, exchanges: 1, malformedEvents: 4 });
    const table = await run(['inspect', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/malformed events \(skipped\)\s+│\s+4 │/);
  });

  it('skips a line over --max-line unread, counts it as unreadable and reads on', async () => {
    const file = join(dir, 'long-line.jsonl');
    const w = await TraceWriter.create(file, header);
    for (let i = 0; i < 5; i++) await w.write(exchange(i, '/before', 200, 100));
    await w.close();
    appendFileSync(
      file,
      JSON.stringify({ ...exchange(9, '/huge', 200, 100), pad: 'x'.repeat(2 * 1024 * 1024) }) + '\n',
    );
    appendFileSync(file, JSON.stringify(exchange(10, '/after', 200, 100)) + '\n');
    const r = await run(['inspect', '--json', '--max-line', '1MiB', file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exchanges: 6, unreadableLines: 1, firstUnreadableLine: 7 });
    expect((await run(['inspect', '--max-line', '0', file])).code).toBe(2);
    expect((await run(['inspect', '--max-line', '1GiB', file])).code).toBe(2);
  });

  it('a reader that goes away (| head) ends the run quietly, exit 0', async () => {
    const main = join(import.meta.dirname, '../../../dist/src/cli/main.js');
    // main() without bin's process guards: inspect's own handling of a closed stdout is what is tested.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import(${JSON.stringify(main)}).then(async (m) => { process.exitCode = await m.main(['inspect', '--json', ${JSON.stringify(trace)}]); })`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('exits 2 for a bad flag or a missing argument', async () => {
    expect((await run(['inspect', '--top', 'ten', trace])).code).toBe(2);
    expect((await run(['inspect', '--bogus', trace])).code).toBe(2);
    expect((await run(['inspect'])).code).toBe(2);
  });

  it('explains the tables in --help', async () => {
    const r = await run(['inspect', '--help']);
    expect(r.code).toBe(0);
    for (const word of [
      'Overview',
      'Status',
      'Routes',
      'Top URIs',
      'p99.9',
      'CPing',
      'Connections',
      'Incomplete',
      '--json',
      '--top',
    ]) {
      expect(r.stdout).toContain(word);
    }
    expect((await run(['--help'])).stdout).toMatch(/inspect/);
  });
});
