/** `ajpbench diff` through the built binary, against stub containers: output, files, thresholds, exit codes. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StubContainer } from '../../../src/load/stub-container.js';
import { readResultsFile } from '../../../src/results/results-file.js';
import { BIN, runCli } from '../../fixtures/run-cli.js';

const trace = join(import.meta.dirname, '../../../captures/lab-mixed.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-diff-'));
let stubs: StubContainer[] = [];
const url = (i: number, protocol: 'ajp' | 'http' = 'ajp'): string =>
  `${protocol}://127.0.0.1:${stubs[i]?.listeners.find((l) => l.protocol === protocol)?.port ?? 0}`;

beforeAll(async () => {
  stubs = await Promise.all(
    ['node1', 'node2'].map((route) =>
      StubContainer.start({
        listen: [
          { host: '127.0.0.1', port: 0, route, protocol: 'ajp' },
          { host: '127.0.0.1', port: 0, route, protocol: 'http' },
        ],
        bodySize: 32,
      }),
    ),
  );
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
});

describe('ajpbench diff', () => {
  it('prints the differences, writes --json (report reads it), --html, -o and --junit, and fails a threshold with exit 1', async () => {
    const json = join(dir, 'diff.json');
    const html = join(dir, 'diff.html');
    const out = join(dir, 'diffs.trace.jsonl');
    const junit = join(dir, 'diff.xml');
    const r = await runCli([
      'diff',
      trace,
      '--primary',
      url(0),
      '--candidate',
      url(1, 'http'),
      '--threshold',
      'diffs<1%',
      '--json',
      json,
      '--html',
      html,
      '-o',
      out,
      '--junit',
      junit,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/compared 44: equal \d+ .*differing \d+/);
    expect(r.stdout).toMatch(/header:set-cookie .*JSESSIONID=\{session\}\.node1/s);
    expect(r.stdout).toMatch(/FAIL {2}diffs<1%/);
    const doc = readResultsFile(json);
    expect(doc.kind === 'verdict' && doc.doc.kind).toBe('ajpbench-diff');
    expect(readFileSync(html, 'utf8')).toContain('Differences: candidate against primary');
    expect(readFileSync(junit, 'utf8')).toContain('threshold diffs&lt;1%');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: 'ajpbench-trace', minorVersion: 2 });
    expect(lines.length).toBeGreaterThan(1);
    expect(JSON.parse(lines[1] as string)).toMatchObject({ event: 'diff', outcome: 'differs' });
    const again = await runCli(['report', json]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe(r.stdout);
    const inspect = await runCli(['inspect', out]);
    expect(inspect.stdout).toMatch(/diff events .*differing/);
  });

  it('passes with a secondary node whose differences are noise, and samples sessions', async () => {
    const r = await runCli([
      'diff',
      trace,
      '--primary',
      url(0),
      '--secondary',
      url(1),
      '--candidate',
      url(1, 'http'),
      '--threshold',
      'diffs<1%',
      '--sample',
      '50%',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/a 50% sample of sessions/);
    expect(r.stdout).toMatch(/differing 0 /);
    expect(r.stdout).toMatch(/Noise \(primary and secondary differ here too/);
    // The nodes differ only in their session cookie's route: ignored, nothing differs, even without a secondary.
    const ignored = await runCli([
      'diff',
      trace,
      '--primary',
      url(0),
      '--candidate',
      url(1),
      '--ignore',
      'header:Set-Cookie',
    ]);
    expect(ignored.code).toBe(0);
    expect(ignored.stdout).toMatch(/compared 44: equal 44 /);
    expect(ignored.stdout).not.toMatch(/set-cookie/);
  });

  it('refuses bad usage with exit 2, and a candidate that never answers with exit 3 after printing', async () => {
    const usage = [
      ['diff', trace],
      ['diff', trace, '--candidate', 'ftp://x'],
      ['diff', trace, '--candidate', url(0), '--secondary', url(1)],
      ['diff', trace, '--candidate', url(0), '--threshold', 'p99<5ms'],
      ['diff', trace, '--candidate', url(0), '--sample', '0%'],
      ['diff', trace, '--candidate', url(0), '--ignore', '$.token'],
    ];
    for (const args of usage) expect((await runCli(args)).code, args.join(' ')).toBe(2);
    expect((await runCli(['diff', join(dir, 'missing.jsonl'), '--candidate', url(0)])).code).toBe(3);
    const dead = await runCli([
      'diff',
      trace,
      '--primary',
      url(0),
      '--candidate',
      'ajp://127.0.0.1:1',
      '--requests',
      '3',
    ]);
    expect(dead.code).toBe(3);
    expect(dead.stdout).toMatch(/no-response 3/);
    expect(dead.stderr).toMatch(
      /AJPBENCH_ERR_BACKEND|no answer from the candidate ajp:\/\/127\.0\.0\.1:1 to 3 exchanges/,
    );
  });

  it('Ctrl-C stops sending, and what was compared is still printed and written', async () => {
    const slow = await StubContainer.start({
      listen: [{ host: '127.0.0.1', port: 0, route: 'slow', protocol: 'ajp' }],
      bodySize: 32,
      latencyMs: 150,
    });
    try {
      const out = join(dir, 'stopped.json');
      const args = [
        'diff',
        trace,
        '--primary',
        url(0),
        '--candidate',
        `ajp://127.0.0.1:${slow.listeners[0]?.port ?? 0}`,
      ];
      const child = spawn(process.execPath, [BIN, ...args, '--json', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      await new Promise((r) => setTimeout(r, 1200));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).toBe(0);
      expect(stdout).toMatch(/stopped by Ctrl-C/);
      const doc = readResultsFile(out);
      const sent = doc.kind === 'verdict' ? (doc.doc.result as { sent: number }).sent : 0;
      expect(sent).toBeGreaterThan(1);
      expect(sent).toBeLessThan(44);
    } finally {
      await slow.close();
    }
  });
});
