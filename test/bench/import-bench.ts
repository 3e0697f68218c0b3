/**
 * Import throughput: a synthetic capture of many AJP connections (built with the test capture
 * builder) imported to a discarded trace, against tshark's AJP13 dissector on the same file in
 * the same run: its JSON dissection (`-T json`, the like-for-like of a trace) and its field
 * extraction (`-T fields` with the fields a trace keeps). Targets (issue 14): >= 50x tshark's
 * JSON, >= 10x its fields, >= 150 MB/s, peak RSS flat in the capture's size (measured in a fresh
 * process on the capture and on one twice its size).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { defaultImportThreads, importCapture } from '../../src/capture/index.js';
import { AjpEncoder, type ForwardRequest } from '../../src/protocol/index.js';
import { TraceWriter } from '../../src/trace/index.js';
import { LINKTYPE, tcpFrame, writePcap, type RecordSpec } from '../fixtures/capture-builder.js';
import { conversation, type Turn } from '../fixtures/tcp-conversation.js';
import { sampleRequest } from './codec-bench.js';
import { labCapture, pcapPrefix, type LabCapture } from './lab-capture.js';

export interface ImportBenchResult {
  captureBytes: number;
  packets: number;
  exchanges: number;
  ajpbenchSeconds: number;
  /** tshark printing three AJP13 fields per message (its cheapest output); undefined without tshark. */
  tsharkSeconds: number | undefined;
  /** tshark printing its whole AJP13 dissection as JSON: the like-for-like of a trace. */
  tsharkJsonSeconds: number | undefined;
  /** A fresh process importing the capture, and one twice its size: wall time (cold JIT included) and peak RSS. */
  fresh: FreshImport[];
  /** The import command on the capture with one thread and with threadedCount() (fastest of 2 alternating rounds). */
  threaded: FreshImport[];
}

/** The tshark fields a trace keeps: method, protocol, URI, addresses, server, port, ssl, headers, attributes, status, message, reuse, body data. */
export const TRACE_FIELDS = [
  'ajp13.code',
  'ajp13.method',
  'ajp13.ver',
  'ajp13.uri',
  'ajp13.raddr',
  'ajp13.rhost',
  'ajp13.srv',
  'ajp13.port',
  'ajp13.sslp',
  'ajp13.host',
  'ajp13.content_length',
  'ajp13.content_type',
  'ajp13.cookie',
  'ajp13.user_agent',
  'ajp13.query_string',
  'ajp13.route',
  'ajp13.req_attribute',
  'ajp13.rstatus',
  'ajp13.rmsg',
  'ajp13.set_cookie',
  'ajp13.reusep',
  'ajp13.rlen',
  'ajp13.data',
];

export interface FreshImport {
  captureBytes: number;
  threads: number;
  seconds: number;
  /** The process's CPU (user + system, every thread) over the import, in seconds. */
  cpuSeconds: number;
  maxRssBytes: number;
  exchanges: number;
}

/** Imports `file` in a fresh node process: what a user's `ajpbench import` costs, RSS included. */
export function freshImport(file: string, ports: number[] = [8009], threads = 1): FreshImport {
  const capture = new URL('../../src/capture/index.js', import.meta.url).href;
  const trace = new URL('../../src/trace/index.js', import.meta.url).href;
  const script = `
    const { Writable } = await import('node:stream');
    const { importCapture } = await import(${JSON.stringify(capture)});
    const { TraceWriter } = await import(${JSON.stringify(trace)});
    const discard = () => new Writable({ write: (_c, _e, done) => done() });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const s = await importCapture(${JSON.stringify(file)}, (h) => TraceWriter.toStream(discard(), h), {
      ports: ${JSON.stringify(ports)}, trace: { redact: true, bodies: 'request', maxBody: 1 << 20 }, sourceName: 'bench',
      tool: 'bench', threads: ${threads} });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6,
      maxRssBytes: process.resourceUsage().maxRSS * 1024, exchanges: s.exchanges }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return {
    captureBytes: statSync(file).size,
    threads,
    ...(JSON.parse(out) as Omit<FreshImport, 'captureBytes' | 'threads'>),
  };
}

/**
 * `ajpbench import FILE --port ... -o /dev/null --threads N` as a user runs it, timed from spawn
 * to exit like tshark is (startup, module loading and writing the trace included): main() in a
 * fresh node, with the process's CPU and peak RSS read at its end.
 */
export function cliImport(file: string, ports: number[], threads: number): FreshImport {
  const main = new URL('../../src/cli/main.js', import.meta.url).href;
  const args = [
    'import',
    file,
    '--port',
    ports.join(','),
    '-o',
    '/dev/null',
    '--no-progress',
    '--threads',
    String(threads),
  ];
  const script = `
    const m = await import(${JSON.stringify(main)});
    const code = await m.main(${JSON.stringify(args)});
    const u = process.resourceUsage();
    process.stdout.write(JSON.stringify({ code, cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRssBytes: u.maxRSS * 1024 }));`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = JSON.parse(r.stdout) as { code: number; cpuSeconds: number; maxRssBytes: number };
  if (out.code !== 0) throw new Error(`ajpbench import ${file} failed (exit ${out.code}): ${r.stderr}`);
  const exchanges = Number(/ (\d+) exchanges/.exec(r.stderr)?.[1] ?? NaN);
  return {
    captureBytes: statSync(file).size,
    threads,
    seconds,
    cpuSeconds: out.cpuSeconds,
    maxRssBytes: out.maxRssBytes,
    exchanges,
  };
}

/** tshark's AJP13 dissection of `file` (output discarded): seconds, or undefined without tshark. */
export function tsharkSeconds(file: string, ports: number[], output: 'json' | 'fields'): number | undefined {
  if (spawnSync('tshark', ['--version']).status !== 0) return undefined;
  const decode = ports.flatMap((p) => ['-d', `tcp.port==${p},ajp13`]);
  const args = output === 'json' ? ['-T', 'json'] : ['-T', 'fields', ...TRACE_FIELDS.flatMap((f) => ['-e', f])];
  const t0 = process.hrtime.bigint();
  execFileSync('tshark', ['-r', file, ...decode, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** The thread count compared with one: the default, or 2 where the default is one thread. */
export function threadedCount(): number {
  return Math.max(2, defaultImportThreads());
}

/**
 * `rounds` imports (the command, cliImport) per thread count, alternating (1, N, 1, N...: the machine's noise falls
 * on both), and the fastest of each: the figure least disturbed by another process.
 */
export function cliImports(file: string, ports: number[], threadCounts: number[], rounds = 2): FreshImport[] {
  const best = new Map<number, FreshImport>();
  for (let r = 0; r < rounds; r++)
    for (const threads of threadCounts) {
      const f = cliImport(file, ports, threads);
      const prev = best.get(threads);
      if (prev === undefined || f.seconds < prev.seconds) best.set(threads, f);
    }
  return threadCounts.map((t) => best.get(t) as FreshImport);
}

/** `connections` connections of `perConnection` exchanges each: GETs, small POSTs, 8 KB responses. */
export function syntheticCapture(connections: number, perConnection: number): Buffer {
  const enc = new AjpEncoder();
  const records: RecordSpec[] = [];
  let t = 1_700_000_000_000_000;
  for (let c = 0; c < connections; c++) {
    const turns: Turn[] = [];
    for (let i = 0; i < perConnection; i++) {
      const n = c * perConnection + i;
      const body = n % 4 === 0 ? 300 : 0;
      const req: ForwardRequest = sampleRequest(n, body);
      turns.push({
        from: 'client',
        bytes: Buffer.concat([
          enc.encode({ type: 'cping' }),
          enc.forwardRequest(req),
          ...(body > 0 ? [enc.body(Buffer.alloc(body, 1))] : []),
        ]),
      });
      turns.push({
        from: 'server',
        bytes: Buffer.concat([
          enc.encode({ type: 'cpong' }),
          enc.sendHeaders({ status: 200, message: '200', headers: [{ name: 'Content-Type', value: 'text/html' }] }),
          enc.sendBodyChunk(Buffer.alloc(n % 3 === 0 ? 8184 : 700, 0x61)),
          enc.endResponse(true),
        ]),
      });
    }
    const segs = conversation(turns, { clientPort: 20000 + c, serverPort: 8009, mss: 16384, startUs: t });
    t = (segs[segs.length - 1]?.timestampUs ?? t) + 1000;
    for (const s of segs)
      records.push({ timestampUs: s.timestampUs, data: tcpFrame(s, { linkType: LINKTYPE.ETHERNET }) });
  }
  return writePcap(records, { linkType: LINKTYPE.ETHERNET });
}

const discard = (): Writable => new Writable({ write: (_c, _e, done) => done() });

export async function importBenchmark(targetMb = 40): Promise<ImportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-import-bench-'));
  try {
    const perConnection = 50;
    const probe = syntheticCapture(1, perConnection);
    const connections = Math.max(1, Math.round((targetMb * 1e6) / probe.length));
    const file = join(dir, 'bench.pcap');
    writeFileSync(file, syntheticCapture(connections, perConnection));
    const opts = {
      ports: [8009],
      trace: { redact: true, bodies: 'request' as const, maxBody: 1 << 20 },
      sourceName: file,
      tool: 'bench',
    };
    await importCapture(file, (h) => TraceWriter.toStream(discard(), h), opts); // warm-up
    const start = process.hrtime.bigint();
    const summary = await importCapture(file, (h) => TraceWriter.toStream(discard(), h), opts);
    const ajpbenchSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const fields = tsharkSeconds(file, [8009], 'fields');
    const json = tsharkSeconds(file, [8009], 'json');
    const doubled = join(dir, 'bench-2x.pcap');
    writeFileSync(doubled, syntheticCapture(connections * 2, perConnection));
    const fresh = [freshImport(file), freshImport(doubled)];
    const threaded = cliImports(file, [8009], [1, threadedCount()]);
    return {
      captureBytes: statSync(file).size,
      packets: summary.packets,
      exchanges: summary.exchanges,
      ajpbenchSeconds,
      tsharkSeconds: fields,
      tsharkJsonSeconds: json,
      fresh,
      threaded,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LabImportBenchResult {
  capture: LabCapture;
  /** The import command with one thread and with threadedCount() (fastest of 2 alternating rounds each). */
  imports: FreshImport[];
  /** The first half of the capture, one thread: peak RSS against the whole capture's. */
  half: FreshImport;
  tsharkSeconds: number | undefined;
  tsharkJsonSeconds: number | undefined;
}

/** The lab capture (lab-capture.ts; skipped when the lab is not up and none is cached) imported and dissected. */
export async function labImportBenchmark(
  log: (line: string) => void = () => undefined,
): Promise<LabImportBenchResult | { skipped: string }> {
  const made = await labCapture(log);
  if ('skipped' in made) return made;
  const { capture } = made;
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-import-lab-bench-'));
  try {
    const imports = cliImports(capture.file, capture.ports, [1, threadedCount()]);
    const halfFile = join(dir, 'half.pcap');
    pcapPrefix(capture.file, halfFile, capture.bytes / 2);
    const half = cliImport(halfFile, capture.ports, 1);
    log('lab capture: tshark -T fields, then -T json (minutes)...');
    return {
      capture,
      imports,
      half,
      tsharkSeconds: tsharkSeconds(capture.file, capture.ports, 'fields'),
      tsharkJsonSeconds: tsharkSeconds(capture.file, capture.ports, 'json'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
