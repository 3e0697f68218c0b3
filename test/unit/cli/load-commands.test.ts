/**
 * replay, compare and sweep through the built binary: flag bounds (exit 2), a backend that never
 * answers (exit 3 after the results are printed and written), Ctrl-C (what was measured is kept).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForStartAt } from '../../../src/cli/start-at.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { runCli } from '../../fixtures/run-cli.js';

const root = join(import.meta.dirname, '../../..');
const bin = join(root, 'bin/ajpbench');
const trace = join(root, 'captures/lab-mixed.trace.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'ajpbench-load-cmds-'));
const DEAD = 'ajp://127.0.0.1:1';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; a run that has not ended after `timeoutMs` is killed (and fails the test by its code). */
const run = (args: string[], timeoutMs = 30_000): Promise<Run> => runCli(args, { timeoutMs });

/** Starts the CLI, sends SIGINT after `afterMs`, and waits for the exit. */
async function interrupted(args: string[], afterMs: number): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), afterMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), afterMs + 20_000);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearTimeout(timer);
  clearTimeout(kill);
  return { code: code ?? -1, stdout, stderr };
}

let stub: StubContainer;
let t1: string;
let t2: string;
beforeAll(async () => {
  stub = await StubContainer.start({
    listen: [
      { host: '127.0.0.1', port: 0, route: 'tomcat1', protocol: 'ajp' },
      { host: '127.0.0.1', port: 0, route: 'tomcat2', protocol: 'ajp' },
    ],
    bodySize: 256,
  });
  [t1, t2] = stub.listeners.map((l) => `ajp://${l.address}`) as [string, string];
});
afterAll(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

const json = (f: string): Record<string, unknown> => JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;

describe('flag bounds: out of range is a usage error (exit 2) that says the range, never a run that blows up', () => {
  it('replay --concurrency, --rate, --speed, --timeout, --duration, --requests and a target port', async () => {
    const cases: [string[], RegExp][] = [
      [['--concurrency', '99999999999'], /--concurrency takes a whole number from 1 to 10000/],
      [['--concurrency', '0'], /--concurrency takes a whole number from 1 to 10000/],
      [['--rate', '99999999999/s'], /--rate takes at most 1000000\/s/],
      [['--timing', 'recorded', '--speed', '1e-9'], /--speed takes a factor from 0\.001 to 1000000/],
      [['--timeout', '1000h'], /--timeout takes a duration above 0/],
      [['--timeout', '0s'], /--timeout takes a duration above 0/],
      [['--duration', '0s'], /--duration takes a duration above 0/],
      [['--requests', '99999999999999999999'], /--requests takes a whole number/],
    ];
    for (const [flags, msg] of cases) {
      const r = await run(['replay', trace, '--target', t1, ...flags], 15_000);
      expect([r.code, r.stderr], flags.join(' ')).toEqual([2, expect.stringMatching(msg)]);
    }
    const port0 = await run(['replay', trace, '--target', 'ajp://127.0.0.1:0']);
    expect([port0.code, port0.stderr]).toEqual([2, expect.stringMatching(/--target: .*port 0 .*1 to 65535/)]);
    expect((await run(['replay', trace, '--target', 'http://127.0.0.1:65536/app'])).code).toBe(2);
    expect(await run(['replay', '--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/--concurrency <n>[\s\S]*1-10000/),
    });
  });

  it('compare --rounds, sweep step lists and --in-flight', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['compare', trace, '--target', t1, '--target', t2, '--rounds', '0'],
        /--rounds takes a whole number from 1 to 100/,
      ],
      [
        ['compare', trace, '--target', t1, '--target', t2, '--rounds', '1000000'],
        /--rounds takes a whole number from 1 to 100/,
      ],
      [['compare', trace, '--target', t1, '--target', t2, '--concurrency', '99999999999'], /1 to 10000/],
      [['sweep', trace, '--target', t1, '--concurrency', '1,99999999999'], /1 to 10000/],
      [['sweep', trace, '--target', t1, '--concurrency', '1,2,...,65536'], /1 to 10000/],
      [
        ['sweep', trace, '--target', t1, '--rates', '10,20', '--in-flight', '99999999'],
        /--in-flight takes a whole number from 1 to 10000/,
      ],
      [['sweep', trace, '--target', t1, '--rates', '10,1e12'], /at most 1000000/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args, 15_000);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringMatching(msg)]);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });

  it("sweep --profile: the profile's one concurrency does not become sweep's steps", async () => {
    // steady.json sets concurrency 64; with --rates, sweep must sweep the rates (and find nobody home).
    const r = await run([
      'sweep',
      trace,
      '--profile',
      'steady',
      '--rates',
      '10,20',
      '--target',
      DEAD,
      '--duration',
      '300ms',
      '--warmup',
      '0s',
      '--pause',
      '0s',
    ]);
    expect(r.stderr).not.toMatch(/sweep needs one of/);
    expect(r.stdout).toMatch(/^Sweep by rate: /);
    expect(r.stdout).toMatch(/│ +10 │/);
    expect(r.code).toBe(3);
  });
});

describe('a backend that never answers is a runtime failure (exit 3), after what was measured is printed and written', () => {
  it('replay: nothing listening', async () => {
    const out = join(dir, 'dead.json');
    const r = await run(['replay', trace, '--target', DEAD, '--json', out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'ajpbench: no request got a response from ajp://127.0.0.1:1: connection refused (44 errors)\n',
    );
    expect(r.stdout).toContain('connect-refused');
    expect(json(out)).toMatchObject({ requests: { total: 44, responses: 0, errors: 44 } });
  });

  it('replay: a host that does not resolve', async () => {
    const r = await run(['replay', trace, '--target', 'ajp://no-such-host.invalid:8009', '--connect-timeout', '3s']);
    expect(r.code).toBe(3);
    // One line; the reason is the most frequent kind (a slow resolver can turn some into connect timeouts).
    expect(r.stderr).toMatch(
      /^ajpbench: no request got a response from ajp:\/\/no-such-host\.invalid:8009: .*\(44 errors[^)\n]*\)\n$/,
    );
  });

  it('compare: the target that never answered fails the run; the others are still printed and written', async () => {
    const out = join(dir, 'cmp-dead.json');
    const r = await run([
      'compare',
      trace,
      '--target',
      t1,
      '--target',
      DEAD,
      '--requests',
      '20',
      '--rounds',
      '1',
      '--pause',
      '0s',
      '--json',
      out,
      '--no-progress',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Compare: 2 targets');
    expect(r.stderr).toMatch(/no request got a response from ajp:\/\/127\.0\.0\.1:1: connection refused/);
    expect(existsSync(out)).toBe(true);
  });

  it('sweep: every step failed, so no growth and no knee is claimed', async () => {
    const out = join(dir, 'sweep-dead.json');
    const r = await run([
      'sweep',
      trace,
      '--target',
      DEAD,
      '--concurrency',
      '1,2',
      '--requests',
      '10',
      '--pause',
      '0s',
      '--json',
      out,
      '--no-progress',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).not.toMatch(/still grew/);
    expect(r.stdout).toMatch(/Knee: none found/);
    expect(r.stderr).toMatch(/no request got a response from ajp:\/\/127\.0\.0\.1:1/);
    expect(existsSync(out)).toBe(true);
  });
});

describe('Ctrl-C keeps what was measured', () => {
  it('compare stopped while the first target runs: prints and writes it, names the targets not run, exit 0', async () => {
    const out = join(dir, 'cmp-int.json');
    const r = await interrupted(
      [
        'compare',
        trace,
        '--target',
        t1,
        '--target',
        t2,
        '--duration',
        '20s',
        '--rounds',
        '2',
        '--json',
        out,
        '--no-progress',
      ],
      1500,
    );
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Compare: 1 target');
    expect(r.stdout).toMatch(/stopped by Ctrl-C.*not run: ajp:\/\/127\.0\.0\.1:\d+/);
    expect(json(out)).toMatchObject({ kind: 'ajpbench-compare', result: { interrupted: true } });
  });

  it('sweep stopped during a step: prints the steps so far, exit 0', async () => {
    const out = join(dir, 'sweep-int.json');
    const r = await interrupted(
      ['sweep', trace, '--target', t1, '--concurrency', '1,2,4', '--duration', '20s', '--json', out, '--no-progress'],
      1500,
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Ctrl-C during step 1/);
    expect(existsSync(out)).toBe(true);
  });

  it('stopped before anything was measured (waiting for --start-at): exit 3, AJPBENCH_ERR_INTERRUPTED, one line', async () => {
    const at = new Date(Date.now() + 60_000).toISOString();
    for (const cmd of [
      ['replay', trace, '--target', t1],
      ['compare', trace, '--target', t1, '--target', t2],
      ['sweep', trace, '--target', t1, '--concurrency', '1,2'],
    ]) {
      const r = await interrupted([...cmd, '--start-at', at, '--no-progress'], 800);
      expect([r.code, r.stdout], cmd[0]).toEqual([3, '']);
      expect(r.stderr).toMatch(/stopped before it (started|measured anything)/);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });
});

describe('waitForStartAt', () => {
  it('a stop that came before the wait ends it at once (false)', async () => {
    const stop = new AbortController();
    stop.abort();
    const t0 = Date.now();
    expect(await waitForStartAt(new Date(Date.now() + 30_000), { signal: stop.signal })).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
