/**
 * Load engine benchmark: requests per second and client CPU µs per request for ajpbench's AJP
 * client and each HTTP client (its own on net, undici's dispatch(), and undici's request() as
 * most Node scripts use it), against one stub server (`ajpbench serve`, its own process) in the
 * same run, with autocannon (npm) and wrk (Debian, when installed) driving the same HTTP listener
 * as the reference. Rounds (AJPBENCH_BENCH_ROUNDS, default 3) alternate the order of the rows. Every generator runs in its own process, measured alone:
 * ajpbench and autocannon by process.cpuUsage() in load-runner.ts, wrk by the shell's `times`.
 * Then a large replay (1M exchanges by default) checks that memory stays bounded (peak RSS).
 *
 * Targets: the AJP client costs no more CPU per request than autocannon's HTTP; requests per
 * CPU-second (issue 12) of ajpbench AJP >= 0.6x wrk's, of ajpbench HTTP >= 0.4x wrk's and >= 1.5x
 * autocannon's; --workers 2 >= 1.7x the throughput of --workers 1 (same stub, same concurrency);
 * the large replay stays under 200 MB RSS. Everything on loopback; every run is bounded in time.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunnerResult, RunnerSpec } from './load-runner.js';

export interface LoadBenchRow {
  name: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Client CPU (user + system) per request, µs. */
  cpuUsPerRequest: number;
  /** Requests per second of client CPU (the issue's measure: 1e6 / cpuUsPerRequest). */
  requestsPerCpuSecond: number;
  maxRssMB: number | null;
  errors: number;
  note?: string;
}

export interface LoadBenchReport {
  rows: LoadBenchRow[];
  /** Lines to print: the rows, the targets and whether they were met. */
  lines: string[];
}

const here = fileURLToPath(new URL('.', import.meta.url));
const bin = join(here, '../../../bin/ajpbench');
const runner = join(here, 'load-runner.js');
const CONNECTIONS = 16;

/** The rows measured in every round, in this order on even rounds and reversed on odd ones. */
const NAMES = {
  ajp: 'ajpbench replay, AJP',
  net: 'ajpbench replay, HTTP (--http-client net)',
  dispatch: 'ajpbench replay, HTTP (undici dispatch)',
  request: 'ajpbench-style replay, HTTP (undici request)',
  autocannon: 'autocannon, HTTP',
  wrk: 'wrk, HTTP (1 thread)',
  w1: 'ajpbench replay, AJP, --workers 1',
  w2: 'ajpbench replay, AJP, --workers 2',
} as const;

export async function loadBenchmarks(
  minSeconds: number,
  largeExchanges = Number(process.env.AJPBENCH_BENCH_LARGE ?? 1_000_000),
  rounds = Math.max(1, Number(process.env.AJPBENCH_BENCH_ROUNDS ?? 3)),
): Promise<LoadBenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-load-bench-'));
  const server = await startStub();
  const byRound: Map<string, LoadBenchRow>[] = [];
  const rows: LoadBenchRow[] = [];
  const lines: string[] = [];
  try {
    const trace = join(dir, 'small.jsonl');
    await writeTrace(trace, 64);
    const durationMs = Math.max(1000, minSeconds * 1000);
    const ajpbench = (target: string, over: Partial<Extract<RunnerSpec, { tool: 'ajpbench' }>> = {}) =>
      runNode({ tool: 'ajpbench', trace, target, connections: CONNECTIONS, durationMs, loop: true, ...over });
    const http = `http://${server.http}`;
    const runs: [string, () => Promise<RunnerResult | undefined>][] = [
      [NAMES.ajp, () => ajpbench(`ajp://${server.ajp}`)],
      [NAMES.net, () => ajpbench(http, { httpClient: 'net' })],
      [NAMES.dispatch, () => ajpbench(http, { httpClient: 'undici' })],
      [NAMES.request, () => ajpbench(http, { httpClient: 'undici-request' })],
      [
        NAMES.autocannon,
        () => runNode({ tool: 'autocannon', url: `${http}/app/echo.jsp`, connections: CONNECTIONS, durationMs }),
      ],
      [NAMES.wrk, () => runWrk(`${http}/app/echo.jsp`, durationMs)],
      [NAMES.w1, () => ajpbench(`ajp://${server.ajp}`, { workers: 1 })],
      [NAMES.w2, () => ajpbench(`ajp://${server.ajp}`, { workers: 2 })],
    ];
    // Alternated (A B C, C B A, ...) so that a drift of the machine's load over the run does not
    // favour the rows measured first; every ratio is taken within one round.
    for (let r = 0; r < rounds; r++) {
      const got = new Map<string, LoadBenchRow>();
      for (const [name, run] of r % 2 === 0 ? runs : [...runs].reverse()) {
        const result = await run();
        if (result !== undefined) got.set(name, row(name, result));
      }
      byRound.push(got);
    }
    for (const [name] of runs) {
      const all = byRound.map((m) => m.get(name)).filter((x): x is LoadBenchRow => x !== undefined);
      const mid = median(all, (x) => x.requestsPerCpuSecond);
      if (mid !== undefined)
        rows.push({ ...mid, note: `req/CPU-s by round: ${all.map((x) => fmt(x.requestsPerCpuSecond)).join(', ')}` });
    }
    if (!byRound.some((m) => m.has(NAMES.wrk))) lines.push('wrk: not installed, row skipped (apt-get install wrk)');
    if (largeExchanges > 0) {
      const big = join(dir, 'large.jsonl');
      await writeTrace(big, largeExchanges);
      const r = row(
        `ajpbench replay, AJP, ${largeExchanges.toLocaleString('en-US')}-exchange trace`,
        await runNode({
          tool: 'ajpbench',
          trace: big,
          target: `ajp://${server.ajp}`,
          connections: CONNECTIONS,
          loop: false,
        }),
      );
      rows.push(r);
    }
  } finally {
    server.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  lines.push(`${rounds} round(s), rows alternated; each row is the round with the median requests per CPU-second`);
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(48)} ${fmt(r.requestsPerSecond).padStart(8)} req/s ${r.cpuUsPerRequest.toFixed(1).padStart(7)} µs CPU/req ${fmt(r.requestsPerCpuSecond).padStart(8)} req/CPU-s` +
        `${r.maxRssMB === null ? '' : ` ${r.maxRssMB.toFixed(0).padStart(5)} MB RSS`}${r.errors > 0 ? ` ${r.errors} errors` : ''}` +
        `${r.note === undefined ? '' : `  (${r.note})`}`,
    );
  }
  const ajp = rows.find((r) => r.name === NAMES.ajp);
  const ac = rows.find((r) => r.name === NAMES.autocannon);
  if (ajp !== undefined && ac !== undefined) {
    lines.push(
      `target: AJP client CPU/request <= autocannon's: ${ajp.cpuUsPerRequest.toFixed(1)} vs ${ac.cpuUsPerRequest.toFixed(1)} µs, ${ajp.cpuUsPerRequest <= ac.cpuUsPerRequest ? 'MET' : 'MISSED'}`,
    );
  }
  lines.push(...ratioLines(byRound));
  const large = rows.find((r) => r.name.includes('-exchange trace'));
  if (large !== undefined && large.maxRssMB !== null) {
    lines.push(
      `target: large replay peak RSS < 200 MB: ${large.maxRssMB.toFixed(0)} MB, ${large.maxRssMB < 200 ? 'MET' : 'MISSED'}`,
    );
  }
  return { rows, lines };
}

/**
 * The issue-12 targets, each a ratio of two rows of the same round (requests per CPU-second against
 * wrk, the floor: C, one thread, the same server and concurrency, and against autocannon), given as
 * the median over the rounds with every round's value.
 */
function ratioLines(byRound: Map<string, LoadBenchRow>[]): string[] {
  const out: string[] = [];
  const check = (what: string, a: string, b: string, min: number, by: (r: LoadBenchRow) => number): void => {
    const ratios = byRound
      .map((m) => [m.get(a), m.get(b)] as const)
      .filter(([x, y]) => x !== undefined && y !== undefined && by(y) > 0)
      .map(([x, y]) => by(x as LoadBenchRow) / by(y as LoadBenchRow));
    const mid = median(ratios, (x) => x);
    if (mid === undefined) return;
    out.push(
      `target: ${what} >= ${min}x: ${mid.toFixed(2)}x (rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')}), ${mid >= min ? 'MET' : 'MISSED'}`,
    );
  };
  const perCpu = (r: LoadBenchRow): number => r.requestsPerCpuSecond;
  check("ajpbench AJP requests per CPU-second vs wrk's", NAMES.ajp, NAMES.wrk, 0.6, perCpu);
  for (const http of [NAMES.net, NAMES.dispatch, NAMES.request]) {
    check(`${http} requests per CPU-second vs wrk's`, http, NAMES.wrk, 0.4, perCpu);
    check(`${http} requests per CPU-second vs autocannon's`, http, NAMES.autocannon, 1.5, perCpu);
  }
  check(
    `--workers 2 throughput vs --workers 1 (${availableParallelism()} cores shared with the stub server)`,
    NAMES.w2,
    NAMES.w1,
    1.7,
    (r) => r.requestsPerSecond,
  );
  if (!byRound.some((m) => m.has(NAMES.wrk)))
    out.push('no wrk row: the ratios to wrk are not measured (npm run lab -- install brings wrk)');
  return out;
}

function median<T>(xs: T[], by: (x: T) => number): T | undefined {
  const sorted = [...xs].sort((a, b) => by(a) - by(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function row(name: string, r: RunnerResult): LoadBenchRow {
  return {
    name,
    requests: r.requests,
    seconds: r.seconds,
    requestsPerSecond: r.requests / r.seconds,
    cpuUsPerRequest: r.requests === 0 ? 0 : r.cpuUs / r.requests,
    requestsPerCpuSecond: r.cpuUs === 0 ? 0 : r.requests / (r.cpuUs / 1e6),
    maxRssMB: r.maxRssKiB > 0 ? r.maxRssKiB / 1024 : null,
    errors: r.errors,
  };
}

/** `ajpbench serve` with one AJP and one HTTP listener, in its own process; resolves with their addresses. */
function startStub(): Promise<{ child: ChildProcess; ajp: string; http: string }> {
  const child = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--listen',
      'http://127.0.0.1:0',
      '--body-size',
      '1KiB',
      '--duration',
      '1h',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const ajp = /listening on ajp:\/\/(\S+)/.exec(err)?.[1];
      const http = /listening on http:\/\/(\S+)/.exec(err)?.[1];
      if (ajp !== undefined && http !== undefined) resolve({ child, ajp, http });
    });
    child.once('exit', (code) => reject(new Error(`ajpbench serve exited (${code}): ${err}`)));
  });
}

/** One load-runner.ts run in a process of its own (also used by lab-load-bench.ts). */
export function runNode(spec: RunnerSpec): Promise<RunnerResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [runner, JSON.stringify(spec)],
      { maxBuffer: 1 << 20, timeout: 30 * 60_000 },
      (e, stdout, stderr) => {
        if (e !== null) return reject(new Error(`${spec.tool} run failed: ${e.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as RunnerResult);
      },
    );
  });
}

/**
 * `wrk -t1 -c<connections>` through a shell whose `times` prints the CPU the child used; undefined
 * when wrk is absent. Also used by lab-load-bench.ts against the lab's front ends.
 */
export function runWrk(
  url: string,
  durationMs: number,
  connections: number = CONNECTIONS,
): Promise<RunnerResult | undefined> {
  const secs = Math.max(1, Math.round(durationMs / 1000));
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', `command -v wrk >/dev/null || exit 127; wrk -t1 -c${connections} -d${secs}s ${url} && times`],
      { timeout: (secs + 30) * 1000 },
      (e, stdout) => {
        if (e !== null) return resolve(undefined);
        const total = /(\d+) requests in ([\d.]+)(m?s)/.exec(stdout);
        const times = [...stdout.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)];
        const child = times.at(-1);
        if (total === null || child === undefined) return resolve(undefined);
        const cpuS = Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4]);
        const errs = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
        const non2xx = Number(errs?.[1] ?? 0);
        const socketErrs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
        resolve({
          requests: Number(total[1]),
          seconds: Number(total[2]) / (total[3] === 'ms' ? 1000 : 1),
          cpuUs: cpuS * 1e6,
          maxRssKiB: 0,
          errors: non2xx + (socketErrs === null ? 0 : socketErrs.slice(1).reduce((a, b) => a + Number(b), 0)),
          non2xx,
        });
      },
    );
  });
}

/** A synthetic trace: GETs as mod_jk sends them (coded and string headers, route and req_attributes). */
export async function writeTrace(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string): Promise<void> | undefined =>
    out.write(s) ? undefined : new Promise((r) => out.once('drain', r));
  await write(
    JSON.stringify({
      format: 'ajpbench-trace',
      version: 1,
      minorVersion: 0,
      tool: 'load-bench',
      source: { kind: 'pcap', file: 'synthetic', ports: [8009] },
      startTime: '2026-01-01T00:00:00.000Z',
      startTimeUs: 0,
      options: { redact: true, bodies: 'request', maxBody: 1024 },
    }) + '\n',
  );
  const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  for (let i = 0; i < n; i++) {
    const line = JSON.stringify({
      event: 'exchange',
      id: i,
      conn: i % 16,
      t: i * 100,
      upstream: '127.0.0.1:8009',
      request: {
        method: 'GET',
        protocol: 'HTTP/1.1',
        uri: '/app/echo.jsp',
        query: `i=${i}`,
        remoteAddr: '127.0.0.1',
        remoteHost: null,
        serverName: 'www.example.com',
        serverPort: 80,
        isSsl: false,
        headers: [
          ['host', 'www.example.com'],
          ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
          ['accept', 'text/html'],
          ['Accept-Language', 'en-US,en;q=0.5'],
          ['content-length', '0'],
        ],
        attributes: { route: 'tomcat1' },
        reqAttributes: [
          ['AJP_REMOTE_PORT', String(40000 + (i % 20000))],
          ['AJP_LOCAL_ADDR', '127.0.0.1'],
        ],
        body: { length: 0, sha256: empty, data: '' },
      },
      response: {
        status: 200,
        message: '200',
        headers: [
          ['Content-Type', 'text/plain'],
          ['Content-Length', '1024'],
        ],
        body: { length: 1024, sha256: empty },
        reuse: true,
      },
      timing: { headersUs: 900, endUs: 1000 },
      route: 'tomcat1',
      routeSource: 'attribute',
      bodyRequests: 0,
    });
    const p = write(line + '\n');
    if (p !== undefined) await p;
  }
  await new Promise<void>((r) => out.end(r));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const secs = Number(process.env.AJPBENCH_BENCH_SECONDS ?? '5');
  const { lines } = await loadBenchmarks(secs);
  for (const l of lines) console.log(l);
}
