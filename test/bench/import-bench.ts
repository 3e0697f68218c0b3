/**
 * Import throughput: a synthetic capture of many AJP connections (built with the test capture
 * builder) imported to a discarded trace, against tshark's AJP13 dissector on the same file in
 * the same run. Target: at least 20x tshark.
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
    const tsharkSeconds = tshark(['-T', 'fields', '-e', 'ajp13.code', '-e', 'ajp13.uri', '-e', 'ajp13.rstatus']);
    const tsharkJsonSeconds = tshark(['-Y', 'ajp13', '-T', 'json', '-j', 'ajp13']);
    return {
      captureBytes: statSync(file).size,
      packets: summary.packets,
      exchanges: summary.exchanges,
      ajpbenchSeconds,
      tsharkSeconds,
      tsharkJsonSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
