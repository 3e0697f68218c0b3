/**
 * The salvage path end to end through bin/ajpbench: a capture cut at snaplen 200 is imported
 * (every exchange truncated), inspect counts them, replay skips them and says so, and
 * --include-truncated replays them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../../src/load/stub-container.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const capture = join(root, 'captures/lab-mixed-s200.pcap');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-truncated-cli-'));
const trace = join(dir, 's200.jsonl');

const run = (args: string[]): Promise<CliRun> => runCli(args);

let stub: StubContainer;
let target: string;
beforeAll(async () => {
  stub = await StubContainer.start({ listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }] });
  target = `ajp://${stub.listeners[0]?.address}`;
  const r = await run(['import', capture, '--port', '28009,29009,28109,29109', '-o', trace, '--no-progress']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a snaplen-200 capture through import, inspect and replay', () => {
  it('inspect counts the truncated exchanges and the bytes they lack', async () => {
    const r = await run(['inspect', trace, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { exchanges: number; truncated: { exchanges: number; missingBytes: number } };
    expect(s.exchanges).toBe(44);
    expect(s.truncated.exchanges).toBe(44);
    expect(s.truncated.missingBytes).toBeGreaterThan(100_000);
  });

  it('replay skips them and says how many; --include-truncated replays all 44', async () => {
    const skipped = await run(['replay', trace, '--target', target, '--no-progress', '--concurrency', '4']);
    expect(skipped.stderr + skipped.stdout).toContain(
      'skipped 44 truncated exchanges (the capture lacked bytes of them; --include-truncated replays what is known)',
    );
    const out = join(dir, 'r.json');
    const all = await run([
      'replay',
      trace,
      '--target',
      target,
      '--no-progress',
      '--concurrency',
      '4',
      '--include-truncated',
      '--json',
      out,
    ]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr + all.stdout).not.toContain('truncated exchange');
    const report = JSON.parse(readFileSync(out, 'utf8')) as ReplayReport;
    expect(report.requests.total).toBe(44);
    expect(report.requests.responses).toBe(44);
  });
});
