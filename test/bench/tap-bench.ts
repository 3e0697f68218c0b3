/**
 * Tap benchmark: the same AJP load run directly against a minimal AJP responder, through a plain
 * `socket.pipe` relay (what any user-space hop costs on this machine), and through `ajpbench
 * record`'s tap (TapRecorder: forwarding, decoding, trace events serialised to a null stream), in
 * one session. The load client (this process), the responder and the relay/tap each run in their
 * own process, as deployed, so the tap's CPU is measured alone.
 *
 * Two loads per response size, 16 connections each, one exchange at a time per connection:
 * - paced: a fixed request rate well below saturation; added latency at p50 and p99 (tap minus
 *   direct, µs) and the tap's CPU per exchange and per forwarded MB;
 * - closed loop: every connection sends its next request as soon as the last one is answered;
 *   throughput through the tap as a share of direct. On a machine with fewer cores than busy
 *   processes (client, responder, tap) this measures CPU contention as much as the tap.
 *
 *   node dist/test/bench/tap-bench.js [seconds]     standalone; tapBenchmarks() + tapBenchRows() for run.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TapRecorder } from '../../src/capture/index.js';
import { AjpEncoder, CPONG_FRAME, END_RESPONSE_REUSE_FRAME } from '../../src/protocol/index.js';
import { TraceWriter } from '../../src/trace/index.js';
import { sampleRequest } from './codec-bench.js';

const ROLE_ENV = 'AJPBENCH_TAP_BENCH_ROLE';
export const TAP_BENCH_CONNECTIONS = 16;
/** Targets from the issue: added p99 latency, throughput share at 16 connections. */
const P99_TARGET_US = 50;
const SHARE_TARGET = 0.95;

export interface LoadRun {
  requests: number;
  seconds: number;
  p50Us: number;
  p99Us: number;
  /** The relay's or tap's CPU (user + system) over the run, µs; 0 direct. */
  cpuUs: number;
  /** Bytes through the relay or tap, both directions; 0 direct. */
  forwardedBytes: number;
}

export interface PathRuns {
  direct: LoadRun;
  /** A plain socket.pipe relay in its own process: the cost of any hop. */
  pipe: LoadRun;
  tap: LoadRun;
}

export interface TapBenchResult {
  name: string;
  connections: number;
  responseBytes: number;
  /** Requests per second of the paced load, all connections. */
  pacedRate: number;
  paced: PathRuns;
  closedLoop: PathRuns;
  /** Paced: tap p50/p99 minus direct, µs. */
  addedP50Us: number;
  addedP99Us: number;
  /** Closed loop: requests/s through the tap over requests/s direct. */
  throughputShare: number;
  /** Closed loop: the pipe relay's share, for reference. */
  pipeThroughputShare: number;
  /** Paced: the tap process's CPU per MB forwarded (both directions) and per exchange, µs. */
  tapCpuUsPerMb: number;
  tapCpuUsPerExchange: number;
  pipeCpuUsPerExchange: number;
}

const LOADS = [
  { name: '1 KiB responses', size: 1024, pacedRate: 2000 },
  { name: '128 KiB responses', size: 128 * 1024, pacedRate: 400 },
] as const;

/** Both loads for both sizes; about 12 × minSeconds plus start-up. */
export async function tapBenchmarks(minSeconds: number): Promise<TapBenchResult[]> {
  const responder = await child('responder');
  try {
    const results: TapBenchResult[] = [];
    for (const l of LOADS) results.push(await compare(l.name, l.size, l.pacedRate, responder, minSeconds));
    return results;
  } finally {
    responder.proc.kill();
  }
}

export function tapBenchRows(results: readonly TapBenchResult[]): string[] {
  const f = (n: number): string => n.toFixed(0);
  const rps = (x: LoadRun): string => f(x.requests / x.seconds);
  const lat = (x: LoadRun): string => `p50 ${f(x.p50Us).padStart(5)} p99 ${f(x.p99Us).padStart(6)} us`;
  const rows = [
    `ajpbench tap benchmark (node ${process.version}, ${cpus().length} CPUs, ${TAP_BENCH_CONNECTIONS} connections; client, responder and relay/tap in their own processes)`,
  ];
  for (const r of results) {
    const p = r.paced;
    const c = r.closedLoop;
    rows.push(
      `${r.name}, paced ${r.pacedRate} req/s: direct ${lat(p.direct)} | pipe relay ${lat(p.pipe)} | tap ${lat(p.tap)} | ` +
        `tap adds p50 ${f(r.addedP50Us)} us, p99 ${f(r.addedP99Us)} us; tap CPU ${f(r.tapCpuUsPerExchange)} us/exchange (pipe relay ${f(r.pipeCpuUsPerExchange)}), ${f(r.tapCpuUsPerMb)} us/MB`,
      `${r.name}, closed loop: direct ${rps(c.direct)} req/s | pipe relay ${rps(c.pipe)} req/s (${(r.pipeThroughputShare * 100).toFixed(1)}%) | ` +
        `tap ${rps(c.tap)} req/s (${(r.throughputShare * 100).toFixed(1)}% of direct)`,
    );
  }
  const small = results[0];
  if (small !== undefined) {
    const ok = small.addedP99Us < P99_TARGET_US && small.throughputShare >= SHARE_TARGET;
    rows.push(
      `target: added p99 < ${P99_TARGET_US} us and >= ${SHARE_TARGET * 100}% of direct throughput at ${TAP_BENCH_CONNECTIONS} connections: ` +
        `${f(small.addedP99Us)} us, ${(small.throughputShare * 100).toFixed(1)}%, ${ok ? 'MET' : 'MISSED'}`,
    );
  }
  return rows;
}

// ---- the load client ----------------------------------------------------------------------

async function compare(
  name: string,
  responseBytes: number,
  pacedRate: number,
  responder: Child,
  seconds: number,
): Promise<TapBenchResult> {
  await responder.ask({ cmd: 'size', size: responseBytes });
  const pipe = await child('pipe', { upstreamPort: responder.port });
  const tap = await child('tap', { upstreamPort: responder.port });
  try {
    // Warm every path (JIT, TCP buffers) before measuring.
    const warm = Math.min(1, seconds / 2);
    for (const port of [responder.port, pipe.port, tap.port]) await load(port, responseBytes, warm);
    const runs = async (rate: number | undefined): Promise<PathRuns> => ({
      direct: await load(responder.port, responseBytes, seconds, rate),
      pipe: await measured(pipe, responseBytes, seconds, rate),
      tap: await measured(tap, responseBytes, seconds, rate),
    });
    const paced = await runs(pacedRate);
    const closedLoop = await runs(undefined);
    const share = (x: LoadRun): number =>
      x.requests / x.seconds / (closedLoop.direct.requests / closedLoop.direct.seconds);
    return {
      name,
      connections: TAP_BENCH_CONNECTIONS,
      responseBytes,
      pacedRate,
      paced,
      closedLoop,
      addedP50Us: paced.tap.p50Us - paced.direct.p50Us,
      addedP99Us: paced.tap.p99Us - paced.direct.p99Us,
      throughputShare: share(closedLoop.tap),
      pipeThroughputShare: share(closedLoop.pipe),
      tapCpuUsPerMb: paced.tap.cpuUs / (paced.tap.forwardedBytes / 1e6),
      tapCpuUsPerExchange: paced.tap.cpuUs / paced.tap.requests,
      pipeCpuUsPerExchange: paced.pipe.cpuUs / paced.pipe.requests,
    };
  } finally {
    pipe.proc.kill('SIGINT');
    tap.proc.kill('SIGINT');
  }
}

/** A load through a relay or tap process, with that process's CPU and forwarded bytes over the run. */
async function measured(
  via: Child,
  responseBytes: number,
  seconds: number,
  rate: number | undefined,
): Promise<LoadRun> {
  const before = (await via.ask({ cmd: 'cpu' })) as CpuReport;
  const run = await load(via.port, responseBytes, seconds, rate);
  const after = (await via.ask({ cmd: 'cpu' })) as CpuReport;
  return {
    ...run,
    cpuUs: after.user + after.system - before.user - before.system,
    forwardedBytes: after.bytes - before.bytes,
  };
}

/**
 * `TAP_BENCH_CONNECTIONS` connections, one exchange at a time each (as mod_jk uses a connection).
 * Without `ratePerSec` each sends its next request as soon as the last response ended; with it,
 * requests go out on a fixed schedule (spread over the connections), latency from the actual send.
 */
async function load(port: number, responseBytes: number, seconds: number, ratePerSec?: number): Promise<LoadRun> {
  const enc = new AjpEncoder();
  const request = Buffer.from(enc.forwardRequest(sampleRequest(1, 0)));
  const responseLength = responseFrames(responseBytes).length;
  const latencies: number[] = [];
  let requests = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  const intervalNs = ratePerSec === undefined ? 0n : BigInt(Math.round((TAP_BENCH_CONNECTIONS / ratePerSec) * 1e9));
  await Promise.all(
    Array.from({ length: TAP_BENCH_CONNECTIONS }, async (_, i) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true });
      await once(s, 'connect');
      await new Promise<void>((resolve, reject) => {
        let got = 0;
        let t0 = 0n;
        let next = started + (intervalNs * BigInt(i)) / BigInt(TAP_BENCH_CONNECTIONS);
        const send = (): void => {
          t0 = process.hrtime.bigint();
          s.write(request);
        };
        const schedule = (now: bigint): void => {
          next += intervalNs;
          const wait = next - now;
          if (intervalNs === 0n || wait <= 0n) send();
          else setTimeout(send, Number(wait / 1_000_000n));
        };
        s.on('error', reject);
        s.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got < responseLength) return;
          got -= responseLength; // the response is complete
          const now = process.hrtime.bigint();
          latencies.push(Number(now - t0) / 1000);
          requests++;
          if (now >= deadline) {
            s.end();
            resolve();
          } else schedule(now);
        });
        schedule(process.hrtime.bigint());
      });
      s.destroy();
    }),
  );
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests, seconds: secs, p50Us: at(0.5), p99Us: at(0.99), cpuUs: 0, forwardedBytes: 0 };
}

// ---- the helper processes -------------------------------------------------------------------

interface CpuReport {
  user: number;
  system: number;
  bytes: number;
}

interface Child {
  proc: ChildProcess;
  port: number;
  ask(msg: Record<string, unknown>): Promise<unknown>;
}

async function child(role: 'responder' | 'pipe' | 'tap', args: Record<string, unknown> = {}): Promise<Child> {
  const proc = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [ROLE_ENV]: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // AJPBENCH_TAP_BENCH_PROFILE=dir writes a CPU profile of the tap process there.
    execArgv:
      role === 'tap' && process.env.AJPBENCH_TAP_BENCH_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.AJPBENCH_TAP_BENCH_PROFILE}`]
        : [],
  });
  proc.send({ cmd: 'start', ...args });
  const [ready] = (await once(proc, 'message')) as [{ port: number }];
  let queue: Promise<unknown> = Promise.resolve();
  return {
    proc,
    port: ready.port,
    ask: (msg) => {
      const next = queue.then(async () => {
        proc.send(msg);
        const [reply] = (await once(proc, 'message')) as [unknown];
        return reply;
      });
      queue = next;
      return next;
    },
  };
}

/** Send Headers, the body in 8184-byte chunks, End Response reuse: one buffer, written at once. */
function responseFrames(size: number): Buffer {
  const enc = new AjpEncoder();
  const frames: Buffer[] = [
    enc.sendHeaders({
      status: 200,
      message: 'OK',
      headers: [
        { name: 'Content-Type', value: 'text/html;charset=UTF-8' },
        { name: 'Content-Length', value: String(size) },
      ],
    }),
  ];
  const body = Buffer.alloc(Math.min(size, enc.maxResponseBodyChunk), 'x');
  for (let off = 0; off < size; off += body.length)
    frames.push(enc.sendBodyChunk(body.subarray(0, Math.min(body.length, size - off))));
  frames.push(END_RESPONSE_REUSE_FRAME);
  return Buffer.concat(frames);
}

/** A minimal AJP container: answers each Forward Request with a fixed response, a CPing with a CPong. */
async function runResponder(): Promise<void> {
  let response = responseFrames(1024);
  const server = createServer({ noDelay: true }, (s: Socket) => {
    let held: Buffer | undefined;
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => {
      const buf = held === undefined ? chunk : Buffer.concat([held, chunk]);
      held = undefined;
      let pos = 0;
      while (buf.length - pos >= 4) {
        const len = buf.readUInt16BE(pos + 2);
        if (buf.length - pos < 4 + len) break;
        const type = buf[pos + 4];
        if (type === 2) s.write(response);
        else if (type === 10) s.write(CPONG_FRAME);
        pos += 4 + len;
      }
      if (pos < buf.length) held = Buffer.from(buf.subarray(pos));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.on('message', (m: { cmd: string; size?: number }) => {
    if (m.cmd === 'size') {
      response = responseFrames(m.size ?? 1024);
      process.send?.({ ok: true });
    }
  });
  process.send?.({ port: (server.address() as AddressInfo).port });
}

/** The reference hop: socket.pipe both ways, no decoding. */
async function runPipe(upstreamPort: number): Promise<void> {
  let bytes = 0;
  const server = createServer({ noDelay: true }, (c) => {
    const u = connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true });
    c.on('data', (d: Buffer) => (bytes += d.length));
    u.on('data', (d: Buffer) => (bytes += d.length));
    c.pipe(u);
    u.pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  answerCpu(() => bytes);
  process.send?.({ port: (server.address() as AddressInfo).port });
}

/** The tap as `ajpbench record` runs it, with its trace serialised into a stream that discards it. */
async function runTap(upstreamPort: number): Promise<void> {
  const nothing = new Writable({ write: (_c, _e, cb) => cb() });
  const recorder = await TapRecorder.start({
    taps: [
      { listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upstreamPort }, worker: 'bench' },
    ],
    trace: { redact: true, bodies: 'request', maxBody: 1024 * 1024 },
    tool: 'ajpbench bench',
    openOutput: (h) => TraceWriter.toStream(nothing, h),
  });
  answerCpu(() => {
    const p = recorder.progress;
    return p.bytesToContainer + p.bytesToWebServer;
  });
  process.send?.({ port: recorder.addresses()[0]?.port });
}

function answerCpu(bytes: () => number): void {
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd !== 'cpu') return;
    const cpu = process.cpuUsage();
    process.send?.({ user: cpu.user, system: cpu.system, bytes: bytes() } satisfies CpuReport);
  });
}

const role = process.env[ROLE_ENV];
if (role !== undefined) {
  process.once('message', (m: { upstreamPort?: number }) => {
    void (role === 'tap'
      ? runTap(m.upstreamPort ?? 0)
      : role === 'pipe'
        ? runPipe(m.upstreamPort ?? 0)
        : runResponder());
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0)); // a normal exit, so --cpu-prof can write its profile
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? process.env.AJPBENCH_BENCH_SECONDS ?? '2');
  for (const row of tapBenchRows(await tapBenchmarks(seconds))) console.log(row);
}
