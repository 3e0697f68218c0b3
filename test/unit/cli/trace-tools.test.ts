/**
 * `ajpbench filter`, `merge`, `export --har` and `import file.har` through the built binary: pipes
 * with -, files (mode 0600), the summary on stderr, help, and the outputs read by inspect and replay.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../../src/load/stub-container.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { runCli } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const pcap = join(root, 'captures/lab-mixed.pcap');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-trace-tools-cli-'));

type Json = Record<string, unknown>;
const lines = (text: string): Json[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Json);
const exchangesIn = (text: string): Json[] => lines(text).filter((e) => e.event === 'exchange');
const inspectJson = async (file: string): Promise<Json> => {
  const r = await runCli(['inspect', file, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Json;
};

let stub: StubContainer;
let target: string;
beforeAll(async () => {
  stub = await StubContainer.start({ listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }] });
  target = `ajp://${stub.listeners[0]!.address}`;
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ajpbench filter', () => {
  it('pipes: reads stdin, writes stdout, and the summary goes to stderr', async () => {
    const r = await runCli(['filter', '-', '--method', 'POST', '--renumber'], { input: readFileSync(trace) });
    expect(r.code, r.stderr).toBe(0);
    const [header, ...events] = lines(r.stdout);
    expect(header).toMatchObject({ format: 'ajpbench-trace', minorVersion: 2 });
    expect((header!.derivedBy as Json[])[0]).toMatchObject({ kind: 'filter', input: '-', ids: 'renumbered' });
    expect(events.map((e) => e.id)).toEqual([...Array(12).keys()].map((i) => i + 1));
    expect(r.stderr).toMatch(/^filter: 12 of 44 exchanges kept, 12 of 122 events written -> stdout\n$/);
  });

  it('writes a file with mode 0600 that inspect and replay read', async () => {
    const out = join(dir, 'f.jsonl');
    const r = await runCli(['filter', trace, '--status', '2xx', '--drop-bodies', '--uri', '/app/*', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const s = await inspectJson(out);
    expect(s.exchanges).toBe(36);
    expect((s.trace as Json).derivedBy).toEqual([
      expect.objectContaining({ options: { uri: ['/app/*'], status: ['2xx'], dropBodies: true } }),
    ]);
    expect((await runCli(['inspect', out])).stdout).toMatch(
      /derived by .*filter of .*uri \/app\/\*; status 2xx; dropBodies true \(ids kept\)/,
    );
    const json = join(dir, 'f-replay.json');
    const rep = await runCli(['replay', out, '--target', target, '--requests', '36', '--json', json]);
    expect(rep.code, rep.stderr).toBe(0);
    expect((JSON.parse(readFileSync(json, 'utf8')) as ReplayReport).requests).toMatchObject({ total: 36, errors: 0 });
  });

  it('--from/--to take offsets and ISO times; --help explains the flags', async () => {
    const r = await runCli(['filter', trace, '--from', '200ms', '--to', '2026-11-23T16:05:02.891Z']);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...events] = lines(r.stdout);
    expect(header!.startTimeUs).toBe(1795449902491997 + 200_000);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect((e.t as number) + 200_000).toBeLessThan(399_003 + 200_000);
    const help = await runCli(['filter', '--help']);
    for (const flag of [
      '--uri',
      '--sample-by',
      '--rewrite-uri',
      '--redact-query',
      '--shift-time',
      '--renumber',
      'Examples',
    ])
      expect(help.stdout).toContain(flag);
  });

  it('--sample by session on a redacted trace is a usage error that says what to do', async () => {
    const r = await runCli(['filter', trace, '--sample', '10%']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/redaction.*--sample-by|--no-redact/);
    const byConn = await runCli(['filter', trace, '--sample', '50%', '--sample-by', 'connection', '--seed', 'x']);
    expect(byConn.code, byConn.stderr).toBe(0);
  });
});

describe('ajpbench merge', () => {
  it('merges two taps with an offset and labels; inspect counts both workers', async () => {
    const t1 = join(dir, 'tap1.jsonl');
    const t2 = join(dir, 'tap2.jsonl');
    expect((await runCli(['import', pcap, '--port', '28009,28109', '-o', t1])).code).toBe(0);
    expect((await runCli(['import', pcap, '--port', '29009,29109', '-o', t2])).code).toBe(0);
    const out = join(dir, 'merged.jsonl');
    const r = await runCli(['merge', t1, t2, '--offset', `${t2}=+1.5s`, '--label', `${t1}=tomcat1`, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${t2} (tap2, +1500ms)`);
    const [header] = lines(readFileSync(out, 'utf8'));
    expect(header!.source).toMatchObject({
      kind: 'merge',
      inputs: [{ label: 'tomcat1' }, { label: 'tap2', offsetUs: 1_500_000 }],
    });
    const s = await inspectJson(out);
    expect(s.exchanges).toBe(44);
    const workers = s.workers as { name: string; count: number }[];
    expect(workers.map((w) => w.name).sort()).toEqual(['tap2', 'tomcat1']);
    expect(workers.reduce((n, w) => n + w.count, 0)).toBe(44);
    const table = await runCli(['inspect', out]);
    expect(table.stdout).toContain(`merge #1 ${t1} (worker tomcat1)`);
    expect(table.stdout).toContain(`merge #2 ${t2} (worker tap2, clock +1500 ms)`);
    const json = join(dir, 'merged-replay.json');
    const rep = await runCli(['replay', out, '--target', target, '--requests', '44', '--json', json]);
    expect(rep.code, rep.stderr).toBe(0);
    expect((JSON.parse(readFileSync(json, 'utf8')) as ReplayReport).requests).toMatchObject({ total: 44, errors: 0 });
  });
});

describe('a hand-made header (no startTimeUs, no options, an unknown source)', () => {
  it('filter, merge and export still work on it', async () => {
    const exchange = readFileSync(trace, 'utf8')
      .split('\n')
      .find((l) => l.includes('"event":"exchange"'))!;
    const header = {
      format: 'ajpbench-trace',
      version: 1,
      tool: 't',
      startTime: '2026-01-01T00:00:00Z',
      source: { kind: 'x' },
    };
    const handMade = join(dir, 'hand-made.jsonl');
    writeFileSync(handMade, `${JSON.stringify(header)}\n${exchange}\n`);
    for (const args of [
      ['filter', handMade, '--drop-bodies'],
      ['merge', handMade, trace],
      ['export', handMade, '--har', '-'],
    ]) {
      const r = await runCli(args);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });
});

describe('ajpbench export --har and import file.har', () => {
  it('round trip through the CLI: the same exchanges come back, and replay runs them', async () => {
    const har = join(dir, 'lab.har');
    const e = await runCli(['export', trace, '--har', har]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toBe(`export: 44 HAR entries (78 other events not written) -> ${har}\n`);
    expect(statSync(har).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(har, 'utf8')) as { log: { version: string; entries: unknown[] } };
    expect(doc.log.version).toBe('1.2');
    const back = join(dir, 'back.jsonl');
    const i = await runCli(['import', har, '-o', back]);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stderr).toContain('44 exchanges from 44 entries');
    const original = new Map(exchangesIn(readFileSync(trace, 'utf8')).map((x) => [x.id, x]));
    for (const x of exchangesIn(readFileSync(back, 'utf8'))) expect(x).toEqual(original.get(x.id));
    const json = join(dir, 'har-replay.json');
    const rep = await runCli(['replay', back, '--target', target, '--requests', '44', '--json', json]);
    expect(rep.code, rep.stderr).toBe(0);
    expect((JSON.parse(readFileSync(json, 'utf8')) as ReplayReport).requests).toMatchObject({ total: 44, errors: 0 });
  });

  it('finds a HAR by its content without the .har name, and writes HAR to stdout with --har -', async () => {
    const out = await runCli(['export', trace, '--har', '-']);
    expect(out.code, out.stderr).toBe(0);
    const noExt = join(dir, 'session.json');
    writeFileSync(noExt, out.stdout);
    const i = await runCli(['import', noExt]);
    expect(i.code, i.stderr).toBe(0);
    expect(exchangesIn(i.stdout).length).toBe(44);
  });
});
