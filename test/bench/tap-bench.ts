/**
 * Tap benchmark: the same closed-loop AJP load run directly against a minimal AJP responder and
 * then through `ajpbench record`'s tap (TapRecorder: forwarding, decoding, trace events serialised
 * to a null stream), in one session. Three processes, as deployed: the load client (this one), the
 * responder and the tap each run in their own, so the tap's CPU is measured alone.
 *
 * Figures: added latency at p50 and p99 (tap minus direct, µs), throughput through the tap as a
 * share of direct, the tap's CPU time per forwarded MB (both directions) and its share of a core.
 *
 *   node dist/test/bench/tap-bench.js [seconds]     standalone; tapBenchmarks() for run.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
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
  /** Bytes on the wire, both directions. */
  bytes: number;
}

export interface TapBenchResult {
  name: string;
  connections: number;
  responseBytes: number;
  direct: LoadRun;
  tap: LoadRun;
  addedP50Us: number;
  addedP99Us: number;
  /** Requests/s through the tap over requests/s direct. */
  throughputShare: number;
  /** The tap process's CPU (user + system) per MB forwarded, both directions. */
  tapCpuUsPerMb: number;
  /** The tap process's CPU time over wall time (1 = one core busy). */
  tapCores: number;
}

/** Runs the small-response (latency) and large-response (CPU per MB) loads; about 4 × minSeconds + startup. */
export async function tapBenchmarks(minSeconds: number): Promise<TapBenchResult[]> {
  const responder = await child('responder');
  try {
    const results: TapBenchResult[] = [];
    for (const [name, size] of [
      ['1 KiB responses', 1024],
      ['128 KiB responses', 128 * 1024],
    ] as const) {
      results.push(await compare(name, size, responder, minSeconds));
    }
    return results;
  } finally {
    responder.proc.kill();
  }
}

export function tapBenchRows(results: readonly TapBenchResult[]): string[] {
  const rows = [`ajpbench tap benchmark (node ${process.version}, ${TAP_BENCH_CONNECTIONS} connections closed loop, responder and tap in their own processes)`];
  for (const r of results) {
    const rps = (x: LoadRun): string => (x.requests / x.seconds).toFixed(0);
    rows.push(
      `${r.name.padEnd(18)} direct ${rps(r.direct).padStart(6)} req/s p50 ${r.direct.p50Us.toFixed(0).padStart(5)} us p99 ${r.direct.p99Us.toFixed(0).padStart(6)} us | ` +
        `tap ${rps(r.tap).padStart(6)} req/s p50 ${r.tap.p50Us.toFixed(0).padStart(5)} us p99 ${r.tap.p99Us.toFixed(0).padStart(6)} us | ` +
        `added p50 ${r.addedP50Us.toFixed(0).padStart(5)} us p99 ${r.addedP99Us.toFixed(0).padStart(5)} us, throughput ${(r.throughputShare * 100).toFixed(1)}% of direct, ` +
        `tap CPU ${r.tapCpuUsPerMb.toFixed(0)} us/MB (${(r.tapCores * 100).toFixed(0)}% of a core)`,
    );
  }
  const small = results[0];
  if (small !== undefined) {
    const ok = small.addedP99Us < P99_TARGET_US && small.throughputShare >= SHARE_TARGET;
    rows.push(
      `target: added p99 < ${P99_TARGET_US} us and >= ${SHARE_TARGET * 100}% of direct throughput at ${TAP_BENCH_CONNECTIONS} connections: ` +
        `${small.addedP99Us.toFixed(0)} us, ${(small.throughputShare * 100).toFixed(1)}%, ${ok ? 'MET' : 'MISSED'}`,
    );
  }
  return rows;
}

// ---- the load client ----------------------------------------------------------------------

async function compare(name: string, responseBytes: number, responder: Child, seconds: number): Promise<TapBenchResult> {
  await responder.ask({ cmd: 'size', size: responseBytes });
  const tap = await child('tap', { upstreamPort: responder.port });
  try {
    const warm = Math.min(1, seconds / 2);
    // Warm both paths (JIT, TCP buffers), then measure direct and through the tap back to back.
    await load(responder.port, responseBytes, warm);
    await load(tap.port, responseBytes, warm);
    const direct = await load(responder.port, responseBytes, seconds);
    const before = (await tap.ask({ cmd: 'cpu' })) as CpuReport;
    const through = await load(tap.port, responseBytes, seconds);
    const after = (await tap.ask({ cmd: 'cpu' })) as CpuReport;
    const cpuUs = after.user + after.system - before.user - before.system;
    const forwarded = after.bytes - before.bytes;
    return {
      name,
      connections: TAP_BENCH_CONNECTIONS,
      responseBytes,
      direct,
      tap: through,
      addedP50Us: through.p50Us - direct.p50Us,
      addedP99Us: through.p99Us - direct.p99Us,
      throughputShare: through.requests / through.seconds / (direct.requests / direct.seconds),
      tapCpuUsPerMb: cpuUs / (forwarded / 1e6),
      tapCores: cpuUs / 1e6 / ((after.wallMs - before.wallMs) / 1000),
    };
  } finally {
    tap.proc.kill('SIGINT');
  }
}

/** `TAP_BENCH_CONNECTIONS` connections, each sending the next request as soon as the last response ended. */
async function load(port: number, responseBytes: number, seconds: number): Promise<LoadRun> {
  const enc = new AjpEncoder();
  const request = Buffer.from(enc.forwardRequest(sampleRequest(1, 0)));
  const responseLength = responseFrames(responseBytes).length;
  const latencies: number[] = [];
  let requests = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  await Promise.all(
    Array.from({ length: TAP_BENCH_CONNECTIONS }, async () => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true });
      await once(s, 'connect');
      await new Promise<void>((resolve, reject) => {
        let got = 0;
        let t0 = process.hrtime.bigint();
        s.on('error', reject);
        s.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got < responseLength) return;
          // One exchange at a time per connection, as mod_jk does: the response is complete.
          got -= responseLength;
          const now = process.hrtime.bigint();
          latencies.push(Number(now - t0) / 1000);
          requests++;
          if (now >= deadline) {
            s.end();
            resolve();
            return;
          }
          t0 = now;
          s.write(request);
        });
        s.write(request);
      });
      s.destroy();
    }),
  );
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests, seconds: secs, p50Us: at(0.5), p99Us: at(0.99), bytes: requests * (request.length + responseLength) };
}

// ---- the two helper processes ---------------------------------------------------------------

interface CpuReport {
  user: number;
  system: number;
  bytes: number;
  wallMs: number;
}

interface Child {
  proc: ChildProcess;
  port: number;
  ask(msg: Record<string, unknown>): Promise<unknown>;
}

async function child(role: 'responder' | 'tap', args: Record<string, unknown> = {}): Promise<Child> {
  const proc = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [ROLE_ENV]: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: role === 'tap' && process.env.TAPPROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/tapprof'] : [],
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
  for (let off = 0; off < size; off += body.length) frames.push(enc.sendBodyChunk(body.subarray(0, Math.min(body.length, size - off))));
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

/** The tap as `ajpbench record` runs it, with its trace serialised into a stream that discards it. */
async function runTap(upstreamPort: number): Promise<void> {
  if (process.env.TAPMODE === 'pipe') {
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
    process.on('message', (m: { cmd: string }) => {
      if (m.cmd !== 'cpu') return;
      const cpu = process.cpuUsage();
      process.send?.({ user: cpu.user, system: cpu.system, bytes, wallMs: performance.now() } satisfies CpuReport);
    });
    process.send?.({ port: (server.address() as AddressInfo).port });
    return;
  }
  if (process.env.TAPMODE === 'proxy') {
    const { TapProxy } = await import('../../src/capture/index.js');
    const tp = new TapProxy({ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upstreamPort } });
    const a = await tp.start();
    process.on('message', (m: { cmd: string }) => {
      if (m.cmd !== 'cpu') return;
      const cpu = process.cpuUsage();
      const st = tp.stats;
      process.send?.({ user: cpu.user, system: cpu.system, bytes: st.bytesToContainer + st.bytesToWebServer, wallMs: performance.now() } satisfies CpuReport);
    });
    process.send?.({ port: a.port });
    return;
  }
  const nothing = new Writable({ write: (_c, _e, cb) => cb() });
  const recorder = await TapRecorder.start({
    taps: [{ listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: upstreamPort }, worker: 'bench' }],
    trace: { redact: true, bodies: 'request', maxBody: 1024 * 1024 },
    tool: 'ajpbench bench',
    openOutput: (h) => TraceWriter.toStream(nothing, h),
  });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd !== 'cpu') return;
    const cpu = process.cpuUsage();
    const p = recorder.progress;
    process.send?.({ user: cpu.user, system: cpu.system, bytes: p.bytesToContainer + p.bytesToWebServer, wallMs: performance.now() } satisfies CpuReport);
  });
  process.send?.({ port: recorder.addresses()[0]?.port });
}

const role = process.env[ROLE_ENV];
if (role !== undefined) {
  process.once('message', (m: { upstreamPort?: number }) => {
    void (role === 'tap' ? runTap(m.upstreamPort ?? 0) : runResponder());
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0)); // a normal exit, so --cpu-prof can write its profile
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? process.env.AJPBENCH_BENCH_SECONDS ?? '2');
  for (const row of tapBenchRows(await tapBenchmarks(seconds))) console.log(row);
}
