/**
 * A capture file or stream (pcap, pcapng) to a trace: packets → TCP segments → connections →
 * AJP messages → trace events, streamed, in constant memory per open connection.
 */
import type { TraceHeader, TraceEvent, TraceOutput } from '../trace/index.js';
import { LazyTraceOutput, walkCapture } from './capture-walk.js';
import { FlowTable } from './flow-table.js';
import { emptySummary, header, type ImportOptions, type ImportSummary } from './import-options.js';
import { importThreaded } from './import-threads.js';

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
  let table: FlowTable | undefined;
  let startUs = 0;
  let nextId = 0;
  const output = new LazyTraceOutput(openWriter, () => header(opts, startUs));
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    await output.write(events);
  };
  await walkCapture(input, opts, summary, started, {
    first: (firstUs) => {
      startUs = firstUs;
      table = new FlowTable(
        { options: opts.trace, startUs, nextId: () => ++nextId, emit: count },
        { ports: opts.ports, maxPacketSize: opts.maxPacketSize },
      );
    },
    segment: (seg) => (table as FlowTable).segment(seg),
    chunkDone: flush,
    finish: async () => {
      summary.elapsedMs = Date.now() - started;
      if (table === undefined) return;
      table.end();
      summary.flows = table.stats.flows;
      summary.ignoredSegments = table.stats.ignoredSegments;
      summary.missingBytes = table.stats.missingBytes;
      await flush();
      await output.close();
    },
  });
  return summary;
}
