/**
 * What every import shares, on one thread or several: the reading loop (capture chunks → packets →
 * TCP segments, counted into the summary, progress, a stop on abort, the trace completed however
 * the loop ends) and the trace output opened with the first event.
 */
import type { TraceHeader, TraceOutput, TraceRecord } from '../trace/index.js';
import { readCaptureBatches } from './capture-reader.js';
import type { TcpSegment } from './capture-types.js';
import type { ImportOptions, ImportSummary } from './import-options.js';
import { decodeTcpSegment } from './packet-decoder.js';

/** What an import does with what the walk reads. */
export interface CaptureWalker {
  /** The first packet, before its segment: the trace starts at its time. */
  first(timestampUs: number): void;
  /** A TCP segment, with the index of its packet in the capture. */
  segment(seg: TcpSegment, packet: number): void;
  /** After each chunk's packets: write what they produced (reading waits for it). */
  chunkDone(): Promise<void>;
  /** Completes the trace after the last chunk or a stop; after a failure too (its own failure then ignored). */
  finish(): Promise<void>;
}

/**
 * Reads `input` to its end (or until opts.signal aborts: `summary.stopped`), one batch of packets
 * per chunk read (an await per packet would cost more than decoding it). A failure of the input or
 * of the walker is thrown after `finish`: everything read before it is still traced.
 */
export async function walkCapture(
  input: string | NodeJS.ReadableStream,
  opts: ImportOptions,
  summary: ImportSummary,
  started: number,
  walker: CaptureWalker,
): Promise<void> {
  const every = opts.progressEveryMs ?? 1000;
  let lastProgress = started;
  try {
    for await (const batch of readCaptureBatches(input, {
      onIssue: (i) => {
        summary.captureIssues++;
        opts.onIssue?.(i);
      },
      ...(opts.classicPcap === undefined ? {} : { classicPcap: opts.classicPcap }),
    })) {
      if (opts.signal?.aborted === true) {
        summary.stopped = true;
        break;
      }
      for (const packet of batch) {
        const index = summary.packets++;
        summary.bytes += packet.data.length;
        if (index === 0) walker.first(packet.timestampUs);
        const seg = decodeTcpSegment(packet);
        if (typeof seg === 'string') summary.skipped[seg] = (summary.skipped[seg] ?? 0) + 1;
        else {
          summary.tcpSegments++;
          walker.segment(seg, index);
        }
      }
      await walker.chunkDone();
      if (opts.onProgress !== undefined && Date.now() - lastProgress >= every) {
        lastProgress = Date.now();
        opts.onProgress({ ...summary, elapsedMs: lastProgress - started });
      }
    }
  } catch (e) {
    // Input torn down by a stop request: not an error, the trace is completed below.
    if (opts.signal?.aborted !== true) {
      await walker.finish().catch(() => undefined);
      throw e;
    }
    summary.stopped = true;
  }
  await walker.finish();
}

/**
 * The trace output, opened with the first record written, not the first packet: an input that
 * holds no AJP traffic (or no packet at all, or is not a capture) leaves no output behind, not
 * even a header-only trace that would read as a valid, empty one.
 */
export class LazyTraceOutput {
  private writer: TraceOutput | undefined;
  private opening: Promise<TraceOutput> | undefined;

  constructor(
    private readonly open: (header: TraceHeader) => Promise<TraceOutput>,
    /** The header, asked for when the output opens (the trace's start is known by then). */
    private readonly header: () => TraceHeader,
  ) {}

  /** Writes `records` in order, waiting whenever the output is full. */
  async write(records: readonly TraceRecord[]): Promise<void> {
    if (records.length === 0) return;
    // A failed open rejects again here, without a second attempt.
    const writer = (this.writer ??= await (this.opening ??= this.open(this.header())));
    for (const r of records) {
      const wait = writer.write(r);
      if (wait !== undefined) await wait;
    }
  }

  /** Closes the output if it was opened. */
  async close(): Promise<void> {
    await this.writer?.close();
  }
}
