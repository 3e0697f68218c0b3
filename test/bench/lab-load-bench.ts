/**
 * The lab's load benchmark (issue 12, "on the real lab"): wrk and ajpbench driving the same cheap
 * page (a GET of the lab's echo.jsp, no body) through httpd + mod_jk and through httpd +
 * mod_proxy_http, same closed-loop concurrency (8 connections; wrk -t1 -c8), same duration
 * (AJPBENCH_BENCH_SECONDS), in rounds (AJPBENCH_BENCH_ROUNDS, default 3) whose order alternates
 * (wrk jk, ajpbench jk, wrk http, ajpbench http, then reversed) to spread the machine's noise.
 * ajpbench replays a one-exchange trace in a loop (`--protocol http`, default HTTP client) in a
 * process of its own (load-runner.ts), wrk through load-bench.ts's runWrk; both with their CPU.
 *
 * Targets: ajpbench's requests/s through mod_jk >= 0.8x wrk's (same round); the ratio
 * mod_proxy_http / mod_jk of ajpbench within 15% of wrk's (same round). A row with socket errors or
 * non-2xx/3xx responses is printed as invalid and left out of every ratio. Without a ready lab
 * (`npm run lab -- up`; AJPBENCH_LAB_DIR selects its run dir) the section prints one line and is
 * skipped. Run alone: `AJPBENCH_BENCH_ONLY=lab npm run bench` or `node dist/test/bench/lab-load-bench.js`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLabState, resolveConfig, type FrontEndName, type LabState } from '../lab/lab.js';
import { runNode, runWrk } from './load-bench.js';
import type { RunnerResult } from './load-runner.js';

const CONNECTIONS = 8;
const JK_TARGET = 0.8;
const APART_TARGET = 0.15;

type Tool = 'wrk' | 'ajpbench';
type Front = Extract<FrontEndName, 'jk' | 'proxyHttp'>;
const FRONT_LABEL: Record<Front, string> = { jk: 'httpd + mod_jk', proxyHttp: 'httpd + mod_proxy_http' };
const TOOL_LABEL: Record<Tool, string> = {
  wrk: `wrk -t1 -c${CONNECTIONS}`,
  ajpbench: `ajpbench -c${CONNECTIONS} (http)`,
};

export interface LabLoadRow {
  round: number;
  tool: Tool;
  front: Front;
  requests: number;
  requestsPerSecond: number;
  /** The generator's CPU (user + system) over its run, in cores (1 = one core busy all the time). */
  cpuShare: number;
  /** Socket errors plus non-2xx/3xx responses; a row with any is invalid. */
  errors: number;
  non2xx: number;
}

/** Lines to print: one when the lab is not up, else every row, the ratios and the targets. */
export async function labLoadBenchmark(
  minSeconds: number,
  rounds = Math.max(1, Number(process.env.AJPBENCH_BENCH_ROUNDS ?? 3)),
): Promise<string[]> {
  const runDir = resolveConfig().runDir;
  const state = readLabState(runDir);
  const skip = (why: string): string[] => [
    `lab: ${why}; section skipped (bring the lab up with npm run lab -- up; AJPBENCH_LAB_DIR selects its run dir)`,
  ];
  if (state === undefined) return skip(`not up (no ready lab in ${runDir})`);
  const url = (front: Front): string => state.frontends[front].baseUrl + state.paths.echo;
  for (const front of ['jk', 'proxyHttp'] as const) {
    const why = await probe(url(front));
    if (why !== undefined) return skip(`${FRONT_LABEL[front]} (${url(front)}) does not answer: ${why}`);
  }
  const secs = Math.max(1, Math.round(minSeconds));
  const durationMs = secs * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-lab-load-bench-'));
  const lines: string[] = [];
  const rows: LabLoadRow[] = [];
  const load0 = loadavg()[0] ?? 0;
  try {
    const traces: Record<Front, string> = { jk: join(dir, 'jk.jsonl'), proxyHttp: join(dir, 'proxy-http.jsonl') };
    for (const front of ['jk', 'proxyHttp'] as const) writeOneGetTrace(traces[front], state, front);
    // Warm-up (Tomcat's JIT, httpd's children, connection pools), not measured.
    for (const front of ['jk', 'proxyHttp'] as const) {
      if ((await runWrk(url(front), 2000, CONNECTIONS)) === undefined)
        return ['wrk: not installed or failed, lab section skipped (apt-get install wrk)'];
    }
    const runs: [Tool, Front][] = [
      ['wrk', 'jk'],
      ['ajpbench', 'jk'],
      ['wrk', 'proxyHttp'],
      ['ajpbench', 'proxyHttp'],
    ];
    for (let round = 1; round <= rounds; round++) {
      for (const [tool, front] of round % 2 === 1 ? runs : [...runs].reverse()) {
        const r =
          tool === 'wrk'
            ? await runWrk(url(front), durationMs, CONNECTIONS)
            : await runNode({
                tool: 'ajpbench',
                trace: traces[front],
                target: state.frontends[front].baseUrl,
                connections: CONNECTIONS,
                durationMs,
                loop: true,
              });
        if (r === undefined) {
          lines.push(
            `round ${round} ${FRONT_LABEL[front].padEnd(24)} ${TOOL_LABEL[tool].padEnd(22)} failed (no result)`,
          );
          continue;
        }
        const row = toRow(round, tool, front, r);
        rows.push(row);
        lines.push(rowLine(row));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const load1 = loadavg()[0] ?? 0;
  lines.unshift(
    `${rounds} round(s) of ${secs} s per row, ${CONNECTIONS} connections, GET ${state.paths.echo}; 1-min load average ${load0.toFixed(2)} before, ${load1.toFixed(2)} after`,
  );
  lines.push(...targetLines(rows, rounds));
  return lines;
}

function toRow(round: number, tool: Tool, front: Front, r: RunnerResult): LabLoadRow {
  return {
    round,
    tool,
    front,
    requests: r.requests,
    requestsPerSecond: r.perSecond ?? (r.seconds > 0 ? r.requests / r.seconds : 0),
    cpuShare: r.seconds > 0 ? r.cpuUs / 1e6 / r.seconds : 0,
    errors: r.errors,
    non2xx: r.non2xx ?? 0,
  };
}

function valid(r: LabLoadRow | undefined): r is LabLoadRow {
  return r !== undefined && r.errors === 0 && r.requestsPerSecond > 0;
}

function rowLine(r: LabLoadRow): string {
  const bad = r.errors > 0 ? `  INVALID: ${r.errors - r.non2xx} socket errors, ${r.non2xx} non-2xx/3xx responses` : '';
  return (
    `round ${r.round} ${FRONT_LABEL[r.front].padEnd(24)} ${TOOL_LABEL[r.tool].padEnd(22)} ` +
    `${fmt(r.requestsPerSecond).padStart(7)} req/s  generator CPU ${(r.cpuShare * 100).toFixed(0).padStart(3)}% of a core${bad}`
  );
}

function targetLines(rows: LabLoadRow[], rounds: number): string[] {
  const out: string[] = [];
  const get = (round: number, tool: Tool, front: Front): LabLoadRow | undefined =>
    rows.find((r) => r.round === round && r.tool === tool && r.front === front);
  const jk: number[] = [];
  const wrkRatio: number[] = [];
  const ajpRatio: number[] = [];
  const apart: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const wJk = get(round, 'wrk', 'jk');
    const aJk = get(round, 'ajpbench', 'jk');
    const wHttp = get(round, 'wrk', 'proxyHttp');
    const aHttp = get(round, 'ajpbench', 'proxyHttp');
    if (valid(wJk) && valid(aJk)) jk.push(aJk.requestsPerSecond / wJk.requestsPerSecond);
    if (valid(wJk) && valid(aJk) && valid(wHttp) && valid(aHttp)) {
      const w = wHttp.requestsPerSecond / wJk.requestsPerSecond;
      const a = aHttp.requestsPerSecond / aJk.requestsPerSecond;
      wrkRatio.push(w);
      ajpRatio.push(a);
      apart.push(a / w - 1);
    }
  }
  const medians = (['jk', 'proxyHttp'] as const).flatMap((front) =>
    (['wrk', 'ajpbench'] as const).map((tool) => {
      const mid = median(
        rows.filter((r) => r.tool === tool && r.front === front && valid(r)).map((r) => r.requestsPerSecond),
      );
      return `${tool} ${front} ${mid === undefined ? '-' : fmt(mid)}`;
    }),
  );
  out.push(`median req/s of the valid rows: ${medians.join(', ')}`);
  const cpu = rows.filter((r) => r.tool === 'ajpbench').map((r) => r.cpuShare);
  if (cpu.length > 0)
    out.push(
      `ajpbench generator CPU: ${cpu.map((c) => `${(c * 100).toFixed(0)}%`).join(', ')} of a core (near 100% means ajpbench, not the lab, was the bottleneck)`,
    );
  const list = (xs: number[], f: (x: number) => string): string => xs.map(f).join(', ');
  const x2 = (x: number): string => `${x.toFixed(2)}x`;
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const midJk = median(jk);
  out.push(
    midJk === undefined
      ? `target: ajpbench through mod_jk >= ${JK_TARGET}x wrk's requests/s: not measured (no valid round)`
      : `target: ajpbench through mod_jk >= ${JK_TARGET}x wrk's requests/s: ${x2(midJk)} (rounds: ${list(jk, x2)}), ${midJk >= JK_TARGET ? 'MET' : 'MISSED'}`,
  );
  const midApart = median(apart.map(Math.abs));
  if (midApart === undefined)
    out.push(`target: mod_proxy_http/mod_jk ratio within 15% of wrk's: not measured (no valid round)`);
  else {
    out.push(
      `mod_proxy_http / mod_jk requests/s: wrk ${x2(median(wrkRatio) ?? 0)} (rounds: ${list(wrkRatio, x2)}), ajpbench ${x2(median(ajpRatio) ?? 0)} (rounds: ${list(ajpRatio, x2)})`,
    );
    out.push(
      `target: ajpbench's mod_proxy_http/mod_jk ratio within ${APART_TARGET * 100}% of wrk's: ${(midApart * 100).toFixed(1)}% apart (median; rounds: ${list(apart, pct)}), ${midApart <= APART_TARGET ? 'MET' : 'MISSED'}`,
    );
  }
  return out;
}

/** undefined when the URL answers 2xx, else why not. */
async function probe(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.ok ? undefined : `status ${res.status}`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** A trace of one GET of the echo page, as wrk sends it (a Host header, nothing else), for one front end. */
function writeOneGetTrace(file: string, state: LabState, front: Front): void {
  const fe = state.frontends[front];
  const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const header = {
    format: 'ajpbench-trace',
    version: 1,
    minorVersion: 0,
    tool: 'lab-load-bench',
    source: { kind: 'pcap', file: 'synthetic', ports: [fe.port] },
    startTime: '2026-01-01T00:00:00.000Z',
    startTimeUs: 0,
    options: { redact: true, bodies: 'request', maxBody: 1024 },
  };
  const exchange = {
    event: 'exchange',
    id: 0,
    conn: 0,
    t: 0,
    upstream: `127.0.0.1:${fe.port}`,
    request: {
      method: 'GET',
      protocol: 'HTTP/1.1',
      uri: state.paths.echo,
      query: null,
      remoteAddr: '127.0.0.1',
      remoteHost: null,
      serverName: '127.0.0.1',
      serverPort: fe.port,
      isSsl: false,
      headers: [['Host', `127.0.0.1:${fe.port}`]],
      attributes: {},
      reqAttributes: [],
      body: { length: 0, sha256: empty, data: '' },
    },
    response: {
      status: 200,
      message: 'OK',
      headers: [['Content-Type', 'application/json']],
      body: { length: 0, sha256: empty },
      reuse: true,
    },
    timing: { headersUs: 1000, endUs: 1000 },
    route: null,
    routeSource: null,
    bodyRequests: 0,
  };
  writeFileSync(file, `${JSON.stringify(header)}\n${JSON.stringify(exchange)}\n`);
}

function median(xs: number[]): number | undefined {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const secs = Number(process.env.AJPBENCH_BENCH_SECONDS ?? '5');
  for (const l of await labLoadBenchmark(secs)) console.log(l);
}
