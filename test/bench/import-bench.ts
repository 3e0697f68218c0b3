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
import { importCapture } from '../../src/capture/index.js';
import { AjpEncoder, type ForwardRequest } from '../../src/protocol/index.js';
import { TraceWriter } from '../../src/trace/index.js';
import { LINKTYPE, tcpFrame, writePcap, type RecordSpec } from '../fixtures/capture-builder.js';
import { conversation, type Turn } from '../fixtures/tcp-conversation.js';
import { sampleRequest } from './codec-bench.js';

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
  fresh: { captureBytes: number; seconds: number; maxRssBytes: number }[];
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

/** Imports `file` in a fresh node process: what a user's `ajpbench import` costs, RSS included. */
function freshImport(file: string): { captureBytes: number; seconds: number; maxRssBytes: number } {
  const capture = new URL('../../src/capture/index.js', import.meta.url).href;
  const trace = new URL('../../src/trace/index.js', import.meta.url).href;
  const script = `
    const { Writable } = await import('node:stream');
    const { importCapture } = await import(${JSON.stringify(capture)});
    const { TraceWriter } = await import(${JSON.stringify(trace)});
    const discard = () => new Writable({ write: (_c, _e, done) => done() });
    const t0 = process.hrtime.bigint();
    await importCapture(${JSON.stringify(file)}, (h) => TraceWriter.toStream(discard(), h), {
      ports: [8009], trace: { redact: true, bodies: 'request', maxBody: 1 << 20 }, sourceName: 'bench', tool: 'bench' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(JSON.stringify({ seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { captureBytes: statSync(file).size, ...(JSON.parse(out) as { seconds: number; maxRssBytes: number }) };
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
    const tshark = (output: string[]): number | undefined => {
      if (spawnSync('tshark', ['--version']).status !== 0) return undefined;
      const t0 = process.hrtime.bigint();
      execFileSync('tshark', ['-r', file, '-d', 'tcp.port==8009,ajp13', ...output], {
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    const tsharkSeconds = tshark(['-T', 'fields', ...TRACE_FIELDS.flatMap((f) => ['-e', f])]);
    const tsharkJsonSeconds = tshark(['-T', 'json']);
    const doubled = join(dir, 'bench-2x.pcap');
    writeFileSync(doubled, syntheticCapture(connections * 2, perConnection));
    const fresh = [freshImport(file), freshImport(doubled)];
    return {
      captureBytes: statSync(file).size,
      packets: summary.packets,
      exchanges: summary.exchanges,
      ajpbenchSeconds,
      tsharkSeconds,
      tsharkJsonSeconds,
      fresh,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
