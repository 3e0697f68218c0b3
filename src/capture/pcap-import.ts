/**
 * A capture file or stream (pcap, pcapng) to a trace: packets → TCP segments → connections →
 * AJP messages → trace events, streamed, in constant memory per open connection.
 */
import type { TraceHeader, TraceEvent, TraceOutput } from '../trace/index.js';
import { readCaptureBatches } from './capture-reader.js';
import { FlowTable } from './flow-table.js';
import { emptySummary, header, type ImportOptions, type ImportSummary } from './import-options.js';
import { importThreaded } from './import-threads.js';
import { decodeTcpSegment } from './packet-decoder.js';

export type { ImportOptions, ImportProgress, ImportSummary } from './import-options.js';

export async function importCapture(
  input: string | NodeJS.ReadableStream,
  openWriter: (header: TraceHeader) => Promise<TraceOutput>,
  opts: ImportOptions,
): Promise<ImportSummary> {
  const threads = opts.observe === undefined ? (opts.threads ?? 1) : 1;
  if (threads > 1) return importThreaded(input, openWriter, opts, threads);
  const started = Date.now();
  const summary = emptySummary();
  let pending: TraceEvent[] = [];
  const count = (e: TraceEvent): void => {
    summary.events++;
    if (e.event === 'exchange') summary.exchanges++;
    else if (e.event === 'incomplete') summary.incomplete++;
    else if (e.event === 'error') summary.errors++;
    else if (e.event === 'cping') summary.cpings++;
    opts.observe?.(e);
    pending.push(e);
  };
  // The output is opened with the first event, not the first packet: an input that holds no AJP
  // traffic (or no packet at all, or is not a capture) leaves no output behind, not even a
  // header-only trace that would read as a valid, empty one.
  let writer: TraceOutput | undefined;
  let opening: Promise<TraceOutput> | undefined;
  let table: FlowTable | undefined;
  let startUs = 0;
  let nextId = 0;
  const start = (firstUs: number): FlowTable => {
    startUs = firstUs;
    return new FlowTable(
      { options: opts.trace, startUs, nextId: () => ++nextId, emit: count },
      { ports: opts.ports, maxPacketSize: opts.maxPacketSize },
    );
  };
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    // A failed open rejects again here, without a second attempt.
    writer ??= await (opening ??= openWriter(header(opts, startUs)));
    const events = pending;
    pending = [];
    for (const e of events) {
      const wait = writer.write(e);
      if (wait !== undefined) await wait;
    }
  };
  const every = opts.progressEveryMs ?? 1000;
  let lastProgress = started;
  try {
    // One batch per chunk read: an await per packet would cost more than decoding it.
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
        summary.packets++;
        summary.bytes += packet.data.length;
        table ??= start(packet.timestampUs);
        const seg = decodeTcpSegment(packet);
        if (typeof seg === 'string') summary.skipped[seg] = (summary.skipped[seg] ?? 0) + 1;
        else {
          summary.tcpSegments++;
          table.segment(seg);
        }
      }
      if (pending.length > 0) await flush();
      if (opts.onProgress !== undefined && Date.now() - lastProgress >= every) {
        lastProgress = Date.now();
        opts.onProgress({ ...summary, elapsedMs: lastProgress - started });
      }
    }
  } catch (e) {
    // Input torn down by a stop request: not an error, the trace is completed below.
    if (opts.signal?.aborted !== true) {
      // Everything read before the failure is still traced; the failure is what is reported.
      await finish().catch(() => undefined);
      throw e;
    }
    summary.stopped = true;
  }
  await finish();
  return summary;

  async function finish(): Promise<void> {
    summary.elapsedMs = Date.now() - started;
    if (table === undefined) return;
    table.end();
    summary.flows = table.stats.flows;
    summary.ignoredSegments = table.stats.ignoredSegments;
    summary.missingBytes = table.stats.missingBytes;
    await flush();
    await writer?.close();
  }
}
