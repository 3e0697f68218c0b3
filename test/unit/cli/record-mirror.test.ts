/** `ajpbench record --mirror` through the built binary, with test containers: flags, summary, diff events, --json, --threshold. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DiffEvent } from '../../../src/trace/index.js';
import type { MirrorStats } from '../../../src/verdict/shadow-mirror.js';
import { AjpTestClient } from '../../fixtures/ajp-test-client.js';
import { AjpTestContainer } from '../../fixtures/ajp-test-container.js';
import { closedPort, readTrace, withTimeout } from '../../fixtures/tap-fixtures.js';
import { runCli, startCli } from '../../fixtures/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ajpbench-record-mirror-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function container(route: string): Promise<AjpTestContainer> {
  const c = await AjpTestContainer.start({ route, bodyBytes: 32 });
  cleanups.push(() => c.close());
  return c;
}

describe('ajpbench record --mirror', () => {
  it.each([
    [['--mirror-secondary', 'ajp://127.0.0.1:1'], '--mirror-secondary needs --mirror'],
    [['--mirror-sample', '10%'], '--mirror-sample needs --mirror'],
    [['--threshold', 'diffs<1%'], '--threshold on record needs --mirror'],
    [['--html', 'x.html'], '--html on record needs --mirror'],
    [['--mirror', 'http://127.0.0.1:1'], '--mirror takes ajp://host:port'],
    [
      ['--mirror', 'ajp://127.0.0.1:1', '--mirror', 'ajp://127.0.0.1:2'],
      'one candidate for all taps or one per tap (1)',
    ],
    [
      [
        '--mirror',
        'ajp://127.0.0.1:1',
        '--mirror-secondary',
        'ajp://127.0.0.1:2',
        '--mirror-secondary',
        'ajp://127.0.0.1:3',
      ],
      'one per --mirror (1)',
    ],
    [['--mirror', 'ajp://127.0.0.1:1', '--mirror-sample', '150%'], '--mirror-sample takes a share'],
    [['--mirror', 'ajp://127.0.0.1:1', '--threshold', 'p99<5ms'], 'record --mirror checks diffs only'],
  ])('refuses %j before listening (exit 2)', async (flags, message) => {
    const r = await runCli(['record', '--listen', '127.0.0.1:0', '--upstream', '127.0.0.1:1', ...flags], {
      timeoutMs: 15_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/^record: 127/m);
  });

  it('mirrors, writes diff events, the summary, --json, and fails --threshold (exit 1) after a complete trace', async () => {
    const production = await container('tomcat1');
    const candidate = await container('tomcat2');
    const listen = await closedPort();
    const file = join(dir, 'trace.jsonl');
    const json = join(dir, 'summary.json');
    const html = join(dir, 'mirror.html');
    const run = await startCli([
      'record',
      '--listen',
      `127.0.0.1:${listen}`,
      '--upstream',
      `127.0.0.1:${production.port}`,
      '--mirror',
      `ajp://127.0.0.1:${candidate.port}`,
      '--mirror-secret',
      'mirror-s3cret',
      '--max-exchanges',
      '3',
      '--threshold',
      'diffs<50%',
      '-o',
      file,
      '--json',
      json,
      '--html',
      html,
    ]);
    cleanups.push(run.kill);
    const client = await AjpTestClient.connect(listen);
    for (const path of ['/a', '/b?size=64', '/c']) expect((await client.request(path)).status).toBe(200);
    client.close();
    const code = await withTimeout(run.exit, 15_000, 'record to stop');
    const stderr = run.stderr();

    expect(stderr).toContain(`record: mirroring to ajp://127.0.0.1:${candidate.port}`);
    expect(stderr).toMatch(
      /mirror -> 127\.0\.0\.1:\d+: 3 exchanges, 3 mirrored, 3 compared: 0 equal, 3 differ \((header 3|.*header 3.*)\)/,
    );
    expect(stderr).toContain('header:x-served-by');
    expect(stderr).toMatch(/FAIL\s+diffs<50%/);
    expect(code).toBe(1);
    expect(candidate.received.map((r) => r.attributes.find((a) => a.name === 'secret')?.value)).toEqual([
      'mirror-s3cret',
      'mirror-s3cret',
      'mirror-s3cret',
    ]);

    const { events } = await readTrace(file);
    const diffs = events.filter((e): e is DiffEvent => e.event === 'diff');
    expect(diffs).toHaveLength(3);
    expect(diffs[0]?.differences.map((d) => d.field)).toContain('header:x-served-by');
    const ids = events.filter((e) => e.event === 'exchange').map((e) => (e as { id: number }).id);
    expect(diffs.map((d) => d.id).sort()).toEqual(ids.sort());

    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      record: { exchanges: number; eventsAppended: number };
      mirror: MirrorStats & { candidates: string[] };
      diff: { compared: number; differing: number };
    };
    expect(report.record).toMatchObject({ exchanges: 3, eventsAppended: 3 });
    expect(report.mirror).toMatchObject({ seen: 3, mirrored: 3, compared: 3, differing: 3, dropped: 0 });
    expect(report.diff).toMatchObject({ compared: 3, differing: 3 });
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('Differences: candidate against primary');
    expect(page).toContain('header:<wbr>x-served-by');
  });

  it('a candidate that is down costs nothing but dropped copies: exit 0, production answered', async () => {
    const production = await container('tomcat1');
    const listen = await closedPort();
    const run = await startCli([
      'record',
      '--listen',
      `127.0.0.1:${listen}`,
      '--upstream',
      `127.0.0.1:${production.port}`,
      '--mirror',
      `ajp://127.0.0.1:${await closedPort()}`,
      '--max-exchanges',
      '2',
      '-o',
      join(dir, 'down.jsonl'),
    ]);
    cleanups.push(run.kill);
    const client = await AjpTestClient.connect(listen);
    for (const path of ['/a', '/b']) expect((await client.request(path)).status).toBe(200);
    client.close();
    expect(await withTimeout(run.exit, 15_000, 'record to stop')).toBe(0);
    const stderr = run.stderr();
    expect(stderr).toMatch(/is down \(.*ECONNREFUSED/);
    expect(stderr).toMatch(/2 exchanges, 0 mirrored, 0 compared: .* 2 dropped \(candidate-down 2\)/);
  });
});
