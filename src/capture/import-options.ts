/** What an import is asked to do and what it reports, shared by its single-threaded and threaded forms. */
import { version as nodeVersion } from 'node:process';
import type { TraceEvent, TraceHeader, TraceOptions } from '../trace/index.js';
import { TRACE_FORMAT, TRACE_MINOR_VERSION, TRACE_VERSION } from '../trace/index.js';
import type { CaptureIssue } from './capture-types.js';

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
  /**
   * Threads: 1 (the default) decodes on this thread; N >= 2 reads on this thread and decodes on
   * N - 1 worker threads, connections sharded among them, the trace the same byte for byte
   * (import-threads.ts). With `observe`, one thread.
   */
  threads?: number;
  /** Tests only: a decode worker fails at this packet index (threads >= 2). */
  failWorkerAtPacket?: number;
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

export function emptySummary(): ImportSummary {
  return {
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
}

export function header(opts: ImportOptions, startUs: number): TraceHeader {
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
