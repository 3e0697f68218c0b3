/**
 * Capture reading benchmark: readCapture (classic pcap through pcap-parser or our record framer,
 * pcapng through our block reader), readCaptureBatches, and decodeTcpSegment over a ~50 MB synthetic capture of AJP
 * traffic (three 100-byte segments for every 8 KiB one), fed as a stream of 64 KiB chunks as
 * stdin delivers it, and read from a file. A Buffer.copy of the same chunks is the baseline;
 * tshark printing one field per frame is the reference the import's speed target is set against
 * (its row appears only when tshark is installed).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readCapture, readCaptureBatches } from '../../src/capture/capture-reader.js';
import type { CapturedPacket, ReadCaptureOptions } from '../../src/capture/capture-types.js';
import { decodeTcpSegment } from '../../src/capture/packet-decoder.js';
import { LINKTYPE, tcpFrame, writePcap, writePcapng, type RecordSpec } from '../fixtures/capture-builder.js';
import { chunked, type BenchResult } from './codec-bench.js';

const TARGET_BYTES = 50 * 1024 * 1024;

/** Segments of one connection pair: three small ones, then a full 8 KiB AJP packet, on Ethernet. */
export function syntheticRecords(targetBytes = TARGET_BYTES): RecordSpec[] {
  const small = Buffer.alloc(100, 0x41);
  const large = Buffer.alloc(8192, 0x42);
  const recs: RecordSpec[] = [];
  let bytes = 0;
  let seqA = 1000;
  let seqB = 5000;
  for (let i = 0; bytes < targetBytes; i++) {
    const toContainer = i % 2 === 0;
    const payload = i % 4 === 3 ? large : small;
    const data = tcpFrame({
      src: toContainer ? '10.0.0.1' : '10.0.0.2',
      dst: toContainer ? '10.0.0.2' : '10.0.0.1',
      srcPort: toContainer ? 40000 + (i % 64) : 8009,
      dstPort: toContainer ? 8009 : 40000 + (i % 64),
      seq: toContainer ? seqA : seqB,
      ack: toContainer ? seqB : seqA,
      flags: { ack: true, psh: true },
      payload,
    });
    if (toContainer) seqA += payload.length;
    else seqB += payload.length;
    recs.push({ timestampUs: 1_763_900_000_000_000 + i * 50, data });
    bytes += data.length + 16;
  }
  return recs;
}

async function timedAsync(
  name: string,
  minSeconds: number,
  pass: () => Promise<{ frames: number; bytes: number }>,
): Promise<BenchResult> {
  await pass(); // warm-up
  let frames = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  let seconds = 0;
  do {
    const r = await pass();
    frames += r.frames;
    bytes += r.bytes;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  } while (seconds < minSeconds);
  return { name, frames, bytes, seconds };
}

export async function captureBenchmarks(minSeconds: number): Promise<BenchResult[]> {
  const recs = syntheticRecords();
  const pcap = writePcap(recs, { linkType: LINKTYPE.ETHERNET });
  const pcapNs = writePcap(recs, { linkType: LINKTYPE.ETHERNET, nanosecond: true });
  const pcapng = writePcapng([
    {
      interfaces: [{ linkType: LINKTYPE.ETHERNET }],
      blocks: recs.map((r) => ({ kind: 'epb' as const, interfaceId: 0, ...r })),
    },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-capture-bench-'));
  const pcapFile = join(dir, 'synthetic.pcap');
  const pcapngFile = join(dir, 'synthetic.pcapng');
  writeFileSync(pcapFile, pcap);
  writeFileSync(pcapngFile, pcapng);
  const chunks = { pcap: chunked(pcap), pcapNs: chunked(pcapNs), pcapng: chunked(pcapng) };
  const target = Buffer.allocUnsafe(64 * 1024);
  let sunk = 0;

  type Input = () => NodeJS.ReadableStream | string;
  const builtin: ReadCaptureOptions = { classicPcap: 'builtin' };
  const readOnly = async (
    input: Input,
    bytes: number,
    opts?: ReadCaptureOptions,
  ): Promise<{ frames: number; bytes: number }> => {
    let frames = 0;
    for await (const p of readCapture(input(), opts)) {
      frames++;
      sunk += p.data.length;
    }
    return { frames, bytes };
  };
  const readAndDecode = async (
    input: Input,
    bytes: number,
    opts?: ReadCaptureOptions,
  ): Promise<{ frames: number; bytes: number }> => {
    let frames = 0;
    for await (const p of readCapture(input(), opts)) {
      frames++;
      const s = decodeTcpSegment(p);
      if (typeof s !== 'string') sunk += s.payload.length;
    }
    return { frames, bytes };
  };
  const batchesAndDecode = async (
    input: Input,
    bytes: number,
    opts?: ReadCaptureOptions,
  ): Promise<{ frames: number; bytes: number }> => {
    let frames = 0;
    for await (const batch of readCaptureBatches(input(), opts)) {
      for (const p of batch) {
        frames++;
        const s = decodeTcpSegment(p);
        if (typeof s !== 'string') sunk += s.payload.length;
      }
    }
    return { frames, bytes };
  };
  const packets: CapturedPacket[] = [];
  for await (const p of readCapture(Readable.from(chunks.pcap))) packets.push(p);

  try {
    const results = [
      await timedAsync('baseline: Buffer.copy of the pcap stream', minSeconds, () => {
        for (const c of chunks.pcap) c.copy(target);
        return Promise.resolve({ frames: recs.length, bytes: pcap.length });
      }),
      await timedAsync('read pcap µs (pcap-parser), stream', minSeconds, () =>
        readOnly(() => Readable.from(chunks.pcap), pcap.length),
      ),
      await timedAsync('read pcap ns (pcap-parser), stream', minSeconds, () =>
        readOnly(() => Readable.from(chunks.pcapNs), pcapNs.length),
      ),
      await timedAsync('read pcap µs (builtin framer), stream', minSeconds, () =>
        readOnly(() => Readable.from(chunks.pcap), pcap.length, builtin),
      ),
      await timedAsync('read pcap ns (builtin framer), stream', minSeconds, () =>
        readOnly(() => Readable.from(chunks.pcapNs), pcapNs.length, builtin),
      ),
      await timedAsync('read pcapng, stream', minSeconds, () =>
        readOnly(() => Readable.from(chunks.pcapng), pcapng.length),
      ),
      await timedAsync('decodeTcpSegment only', minSeconds, () => {
        for (const p of packets) {
          const s = decodeTcpSegment(p);
          if (typeof s !== 'string') sunk += s.missingBytes;
        }
        return Promise.resolve({ frames: packets.length, bytes: pcap.length });
      }),
      await timedAsync('read + decode, pcap stream', minSeconds, () =>
        readAndDecode(() => Readable.from(chunks.pcap), pcap.length),
      ),
      await timedAsync('read + decode, pcapng stream', minSeconds, () =>
        readAndDecode(() => Readable.from(chunks.pcapng), pcapng.length),
      ),
      await timedAsync('read + decode, pcap file', minSeconds, () => readAndDecode(() => pcapFile, pcap.length)),
      await timedAsync('read + decode, pcap file (builtin framer)', minSeconds, () =>
        readAndDecode(() => pcapFile, pcap.length, builtin),
      ),
      await timedAsync('read + decode, pcapng file', minSeconds, () => readAndDecode(() => pcapngFile, pcapng.length)),
      await timedAsync('batches + decode, pcap file (builtin framer)', minSeconds, () =>
        batchesAndDecode(() => pcapFile, pcap.length, builtin),
      ),
      await timedAsync('batches + decode, pcapng file', minSeconds, () =>
        batchesAndDecode(() => pcapngFile, pcapng.length),
      ),
    ];
    const tshark = tsharkPass(pcapFile, recs.length, pcap.length);
    if (tshark !== undefined) results.push(tshark);
    if (sunk < 0) console.log(sunk); // keep the work observable
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One run of `tshark -r file -T fields -e tcp.seq`, or undefined without tshark. */
function tsharkPass(file: string, frames: number, bytes: number): BenchResult | undefined {
  const start = process.hrtime.bigint();
  try {
    execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'tcp.seq'], { stdio: ['ignore', 'ignore', 'ignore'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return {
    name: 'reference: tshark -T fields -e tcp.seq, pcap file',
    frames,
    bytes,
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
  };
}
