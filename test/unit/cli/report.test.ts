/** `ajpbench report` through the built binary (run `npx tsc` first): damaged results files end in one line, exit 3. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, steady } from '../verdict/report-fixture.js';
import { runCli, type CliRun } from '../../fixtures/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-report-cli-'));

const run = (args: string[]): Promise<CliRun> => runCli(args);

function results(name: string, change: (r: Record<string, unknown>) => void): string {
  const r = JSON.parse(JSON.stringify(buildReport(steady(100, 2, [1, 2, 3])))) as Record<string, unknown>;
  change(r);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(r));
  return file;
}

describe('ajpbench report on damaged results', () => {
  it('prints a good file', async () => {
    const r = await run(['report', results('good.json', () => undefined)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/throughput/);
  });

  it.each([
    [
      'latency: null',
      (r: Record<string, unknown>) => (r.latency = null),
      /^ajpbench: latency\.json: not valid replay results: latency is null, not an object\n$/,
    ],
    [
      'a histogram that is not base64',
      (r: Record<string, unknown>) =>
        ((r.latency as { timeToCompleteUs: { histogram: string } }).timeToCompleteUs.histogram = '!!not base64!!'),
      /latency\.timeToCompleteUs\.histogram does not decode/,
    ],
    ['requests: "lots"', (r: Record<string, unknown>) => (r.requests = 'lots'), /requests is a string, not an object/],
  ])('%s: exit 3, one line naming the field, nothing on stdout', async (name, change, says) => {
    const file = results(`${name.split(':')[0]?.replace(/ /g, '-')}.json`, change);
    const r = await run(['report', file]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(says);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stdout).toBe('');
  });

  it('refuses a JSON file that is not results with exit 3, a directory in words', async () => {
    const other = join(dir, 'other.json');
    writeFileSync(other, '{"hello":1}');
    const r = await run(['report', other]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/not an ajpbench results file/);
    const d = await run(['report', dir]);
    expect(d.code).toBe(3);
    expect(d.stderr).toBe(`ajpbench: cannot read ${dir}: is a directory\n`);
  });
});
