/**
 * A capture file or stream (pcap, pcapng) to a trace: packets → TCP segments → connections →
 * AJP messages → trace events, streamed, in constant memory per open connection.
 */
import { version as nodeVersion } from 'node:process';
import type { TraceHeader, TraceEvent, TraceOptions, TraceOutput } from '../trace/index.js';
import { TRACE_FORMAT, TRACE_MINOR_VERSION, TRACE_VERSION } from '../trace/index.js';
import { readCaptureBatches } from './capture-reader.js';
import type { CaptureIssue } from './capture-types.js';
import { FlowTable } from './flow-table.js';
import { decodeTcpSegment } from './packet-decoder.js';

export interface ImportOptions {
  ports: number[] | 'auto';
  trace: TraceOptions;
  /** The capture's name for the trace header (a file name, or "-" for stdin). */
  sourceName: string;
  /** The ajpbench version for the trace header. */
  tool: string;
  maxPacketSize?: number;
  /** Stops reading; what was read so far is traced and the trace completed. */
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  progressEveryMs?: number;
  onIssue?: (issue: CaptureIssue) => void;
  /** Sees every event as it is decoded, before it is written (a metrics monitor of `import -`); must not throw. */
  observe?: (event: TraceEvent) => void;
  /** Classic pcap through pcap-parser (the default) or the built-in reader (faster; see capture-reader.ts). */
  classicPcap?: 'pcap-parser' | 'builtin';
}

export interface ImportProgress {
  packets: number;
  /** Captured bytes read. */
  bytes: number;
  exchanges: number;
  elapsedMs: number;
}

export interface ImportSummary extends ImportProgress {
  /** Trace events written, header not counted. 0: nothing was written, not even a header (no output was opened). */
  events: number;
  tcpSegments: number;
  /** Packets that were not TCP segments we could use, by reason. */
  skipped: Record<string, number>;
  flows: number;
  ignoredSegments: number;
  incomplete: number;
  errors: number;
  cpings: number;
  missingBytes: number;
  captureIssues: number;
  /** The import was stopped (Ctrl-C) before the end of its input. */
  stopped: boolean;
}

export async function importCapture(
  input: string | NodeJS.ReadableStream,
  openWriter: (header: TraceHeader) => Promise<TraceOutput>,
  opts: ImportOptions,
): Promise<ImportSummary> {
  const started = Date.now();
  const summary: ImportSummary = {
    events: 0,
    packets: 0,
    bytes: 0,
    exchanges: 0,
    elapsedMs: 0,
    tcpSegments: 0,
    skipped: {},
    flows: 0,
    ignoredSegments: 0,
    incomplete: 0,
    errors: 0,
    cpings: 0,
    missingBytes: 0,
    captureIssues: 0,
    stopped: false,
  };
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

function header(opts: ImportOptions, startUs: number): TraceHeader {
  return {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    minorVersion: TRACE_MINOR_VERSION,
    tool: `${opts.tool} (node ${nodeVersion})`,
    source: { kind: 'pcap', file: opts.sourceName, ports: opts.ports },
    startTime: new Date(Math.floor(startUs / 1000)).toISOString(),
    startTimeUs: startUs,
    options: opts.trace,
  };
}
