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
import { describeFileError, RuntimeError } from '../errors.js';
import type { TraceEvent, TraceHeader } from './trace-types.js';
import { TraceWriter } from './trace-writer.js';

/** What a producer of trace events writes to: a TraceWriter, or a RotatingTraceWriter. */
export interface TraceOutput {
  /**
   * Resolves at once (undefined) unless the output is full; then a promise to await before
   * writing more (it rejects if the output fails meanwhile). Throws once the output has failed.
   */
  write(event: TraceEvent): Promise<void> | undefined;
  /** Flushes and closes; rejects with the failure if the output failed. */
  close(): Promise<void>;
  /** Events taken by write(). */
  readonly events: number;
  /** Events confirmed written, when the output can tell (else every event taken counts as written). */
  readonly written?: number;
  /** Calls `listener` once when the output fails on its own, so the failure is known before the next write. */
  onFailure?(listener: (err: Error) => void): void;
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
  private readonly started: string[];
  private index = 1;
  private eventCount = 0;
  /** Events confirmed in the files already closed. */
  private writtenBefore = 0;
  /** A rotation in progress; events written meanwhile wait in the backlog, in order. */
  private rotating: Promise<void> | undefined;
  private backlog: TraceEvent[] = [];
  private closed = false;
  private failure: Error | undefined;
  private failureListeners: ((err: Error) => void)[] = [];

  private constructor(
    private readonly path: string,
    private readonly header: TraceHeader,
    private readonly maxBytes: number,
    first: TraceWriter,
  ) {
    this.current = first;
    this.started = [rotatedPath(path, 1)];
    first.onFailure(this.fail);
  }

  static async create(path: string, header: TraceHeader, maxBytes: number): Promise<RotatingTraceWriter> {
    if (!Number.isFinite(maxBytes) || maxBytes <= 0)
      throw new RangeError(`rotation size must be positive, got ${maxBytes}`);
    const first = await TraceWriter.create(rotatedPath(path, 1), header);
    return new RotatingTraceWriter(path, header, maxBytes, first);
  }

  get events(): number {
    return this.eventCount;
  }

  /** Events confirmed written, over every file. */
  get written(): number {
    return this.writtenBefore + this.current.written;
  }

  /** Every file started so far, in order. */
  get files(): readonly string[] {
    return this.started;
  }

  onFailure(listener: (err: Error) => void): void {
    if (this.failure !== undefined) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  write(event: TraceEvent): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new Error('trace writer is closed');
    this.eventCount++;
    return this.put(event);
  }

  async close(): Promise<void> {
    if (this.closed) {
      if (this.failure !== undefined) throw this.failure;
      return;
    }
    this.closed = true;
    while (this.rotating !== undefined && this.failure === undefined) await this.rotating.catch(() => undefined);
    try {
      await this.current.close();
    } catch (e) {
      this.fail(e);
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private put(event: TraceEvent): Promise<void> | undefined {
    if (this.rotating !== undefined) {
      this.backlog.push(event);
      return this.rotating;
    }
    const wait = this.current.write(event);
    if (this.current.bytes < this.maxBytes) return wait;
    this.rotating = this.rotate();
    // A caller may not await every wait it was handed; the failure also reaches onFailure.
    this.rotating.catch(() => undefined);
    return this.rotating;
  }

  private async rotate(): Promise<void> {
    const path = rotatedPath(this.path, this.index + 1);
    try {
      await this.current.close();
      const next = await TraceWriter.create(path, this.header).catch((e: unknown) => {
        throw new RuntimeError(`cannot write ${path}: ${describeFileError(e)}`, 'AJPBENCH_ERR_OUTPUT', { cause: e });
      });
      this.index++;
      this.writtenBefore += this.current.written;
      this.current = next;
      this.started.push(path);
      next.onFailure(this.fail);
    } catch (e) {
      this.fail(e);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- fail() has just set it
      throw this.failure;
    }
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

  /** The first failure wins: the backlog is never written, and every later write or close says why. */
  private readonly fail = (err: unknown): void => {
    if (this.failure !== undefined) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.backlog = [];
    const listeners = this.failureListeners;
    this.failureListeners = [];
    for (const l of listeners) l(this.failure);
  };
}
