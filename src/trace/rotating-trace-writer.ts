/**
 * A trace split into numbered files by size, for recordings that run for days.
 *
 * Naming: `-o trace.jsonl --rotate 100MB` writes trace.0001.jsonl, trace.0002.jsonl, ... (the
 * number goes before the extension, four digits at least, so a plain `ls` lists them in order;
 * a name without an extension gets `.0001` appended). Every file starts with the same header
 * line, so each one is a valid trace by itself and `t` counts from the same start in all of
 * them. A file is closed once it holds `maxBytes` or more: it may exceed the size by one event.
 */
import { basename, dirname, extname, join } from 'node:path';
import type { TraceEvent, TraceHeader } from './trace-types.js';
import { TraceWriter } from './trace-writer.js';

/** What a producer of trace events writes to: a TraceWriter, or a RotatingTraceWriter. */
export interface TraceOutput {
  /** Resolves at once (undefined) unless the output is full; then a promise to await before writing more. */
  write(event: TraceEvent): Promise<void> | undefined;
  close(): Promise<void>;
  /** Events written. */
  readonly events: number;
}

/** The n-th file (1-based) of a rotated trace named `path`. */
export function rotatedPath(path: string, n: number): string {
  const name = basename(path);
  const ext = extname(name);
  const seq = String(n).padStart(4, '0');
  const file = ext === '' ? `${name}.${seq}` : `${name.slice(0, -ext.length)}.${seq}${ext}`;
  return join(dirname(path), file);
}

export class RotatingTraceWriter implements TraceOutput {
  private current: TraceWriter;
  private readonly written: string[];
  private index = 1;
  private eventCount = 0;
  /** A rotation in progress; events written meanwhile wait in the backlog, in order. */
  private rotating: Promise<void> | undefined;
  private backlog: TraceEvent[] = [];
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly header: TraceHeader,
    private readonly maxBytes: number,
    first: TraceWriter,
  ) {
    this.current = first;
    this.written = [rotatedPath(path, 1)];
  }

  static async create(path: string, header: TraceHeader, maxBytes: number): Promise<RotatingTraceWriter> {
    if (!Number.isFinite(maxBytes) || maxBytes <= 0) throw new RangeError(`rotation size must be positive, got ${maxBytes}`);
    const first = await TraceWriter.create(rotatedPath(path, 1), header);
    return new RotatingTraceWriter(path, header, maxBytes, first);
  }

  get events(): number {
    return this.eventCount;
  }

  /** Every file started so far, in order. */
  get files(): readonly string[] {
    return this.written;
  }

  write(event: TraceEvent): Promise<void> | undefined {
    if (this.closed) throw new Error('trace writer is closed');
    this.eventCount++;
    return this.put(event);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.rotating !== undefined) await this.rotating;
    await this.current.close();
  }

  private put(event: TraceEvent): Promise<void> | undefined {
    if (this.rotating !== undefined) {
      this.backlog.push(event);
      return this.rotating;
    }
    const wait = this.current.write(event);
    if (this.current.bytes < this.maxBytes) return wait;
    this.rotating = this.rotate();
    return this.rotating;
  }

  private async rotate(): Promise<void> {
    await this.current.close();
    this.index++;
    const path = rotatedPath(this.path, this.index);
    this.current = await TraceWriter.create(path, this.header);
    this.written.push(path);
    const backlog = this.backlog;
    this.backlog = [];
    this.rotating = undefined;
    let wait: Promise<void> | undefined;
    for (let i = 0; i < backlog.length; i++) {
      wait = this.put(backlog[i] as TraceEvent) ?? wait;
      if (this.rotating !== undefined) {
        // The file filled up again: the rest waits for the next one (nothing else was queued meanwhile).
        this.backlog.push(...backlog.slice(i + 1));
        return this.rotating;
      }
    }
    if (wait !== undefined) await wait;
  }
}
