/**
 * Thresholds, --junit, --html and --start-at on `ajpbench replay`, and `ajpbench report` merging
 * several local runs started together, through the built binary against stub containers.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../../src/load/stub-container.js';
import { decodeHistogram } from '../../../src/results/latency-histogram.js';
import type { MergedReport } from '../../../src/results/merge-results.js';
import type { ReplayReport } from '../../../src/results/replay-report.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-verdicts-'));

const run = (args: string[]): Promise<CliRun> => runCli(args);

let stub: StubContainer;
let target: string;
beforeAll(async () => {
  stub = await StubContainer.start({
    listen: [{ host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' }],
    bodySize: 256,
    latencyMs: 2,
  });
  target = `ajp://${stub.listeners[0]?.address ?? ''}`;
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

const json = <T>(f: string): T => JSON.parse(readFileSync(f, 'utf8')) as T;

describe('replay --threshold', () => {
  it('all pass: exit 0, listed; --junit has one passing case each; --html is written', async () => {
    const junit = join(dir, 'pass.xml');
    const html = join(dir, 'pass.html');
    const r = await run([
      'replay',
      trace,
      '--target',
      target,
      '--requests',
      '200',
      '--loop',
      '--concurrency',
      '4',
      '--threshold',
      'p99<2s',
      '--threshold',
      'errors<1%',
      '--threshold',
      'rps>1',
      '--junit',
      junit,
      '--html',
      html,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Thresholds \(3 passed, 0 failed\)/);
    expect(r.stdout).toMatch(/PASS {2}p99<2s/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="ajpbench" tests="3" failures="0"/);
    expect(xml).toContain('name="threshold errors&lt;1%"');
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain('id="chart-latency"');
    expect(page).not.toMatch(/<script[^>]+src=/);
  });
  it('one fails: exit 1, the failure says by how much', async () => {
    const junit = join(dir, 'fail.xml');
    const r = await run([
      'replay',
      trace,
      '--target',
      target,
      '--requests',
      '100',
      '--loop',
      '--concurrency',
      '2',
      '--threshold',
      'p50<1us',
      '--threshold',
      'requests>=100',
      '--junit',
      junit,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}p50<1us +p50 = [\d.]+ ms not < 0\.001 ms/);
    expect(r.stdout).toMatch(/PASS {2}requests>=100/);
    expect(readFileSync(junit, 'utf8')).toMatch(
      /<failure message="p50 = [\d.]+ ms not &lt; 0\.001 ms" type="ThresholdFailed">/,
    );
  });
  it('a threshold it cannot read is a usage error (exit 2)', async () => {
    const r = await run(['replay', trace, '--target', target, '--requests', '10', '--threshold', 'p99 is fast']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/METRIC OP VALUE/);
  });
  it('--start-at in the past starts at once; a bad time is a usage error', async () => {
    const r = await run([
      'replay',
      trace,
      '--target',
      target,
      '--requests',
      '20',
      '--loop',
      '--start-at',
      '2020-01-01T00:00:00Z',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/was [\d.]+ s ago: starting now/);
    expect((await run(['replay', trace, '--target', target, '--requests', '20', '--start-at', 'tomorrow'])).code).toBe(
      2,
    );
  });
});

describe('report: several generators merged', () => {
  it('three runs started together with --start-at merge into one: histograms added, rates summed over the common window', async () => {
    const startAt = new Date(Date.now() + 1500).toISOString();
    const files = [0, 1, 2].map((i) => join(dir, `gen-${i}.json`));
    const runs = await Promise.all(
      files.map((f, i) =>
        run([
          'replay',
          trace,
          '--target',
          target,
          '--loop',
          '--duration',
          '2s',
          '--concurrency',
          String(i + 1),
          '--start-at',
          startAt,
          '--json',
          f,
          '--no-progress',
        ]),
      ),
    );
    for (const r of runs) expect(r.code).toBe(0);
    const reports = files.map((f) => json<ReplayReport>(f));
    // They started within a few ms of each other.
    const starts = reports.map((r) => Date.parse(r.startedAt));
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(200);

    const mergedFile = join(dir, 'merged.json');
    const html = join(dir, 'merged.html');
    const r = await run(['report', ...files, '--json', mergedFile, '--html', html, '--threshold', 'requests>10']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Merged 3 runs; common window /);
    const m = json<MergedReport>(mergedFile);
    const total = reports.reduce((s, x) => s + x.requests.total, 0);
    expect(m.requests.total).toBe(total);
    expect(decodeHistogram(m.latency.timeToCompleteUs.histogram).totalCount).toBe(
      reports.reduce((s, x) => s + x.latency.timeToCompleteUs.count, 0),
    );
    const sumOfRates = reports.reduce((s, x) => s + x.requests.perSecond, 0);
    // Summed over the common whole seconds: close to the sum of each run's own rate.
    expect(m.requests.perSecond).toBeGreaterThan(sumOfRates * 0.7);
    expect(m.requests.perSecond).toBeLessThan(sumOfRates * 1.3);
    expect(m.merge.runs.every((x) => x.seconds >= 1)).toBe(true);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('merged: gen-0.json, gen-1.json, gen-2.json');
  });
  it('rejects what is not a results file', async () => {
    const r = await run(['report', join(root, 'package.json')]);
    expect(r.code).toBe(3); // file content, as inspect and import refuse a non-trace, a non-capture
    expect(r.stderr).toMatch(/not an ajpbench results file/);
    expect((await run(['report', join(dir, 'missing.json')])).code).toBe(3);
  });
});
