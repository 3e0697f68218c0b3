/**
 * A trace split into numbered files by size, for recordings that run for days.
 *
 * Naming: `-o trace.jsonl --rotate 100MB` writes trace.0001.jsonl, trace.0002.jsonl, ... (the
 * number goes before the extension, four digits at least, so a plain `ls` lists them in order;
 * a name without an extension gets `.0001` appended). Every file starts with the same header
 * line, so each one is a valid trace by itself and `t` counts from the same start in all of
 * them. A file is closed once it holds `maxBytes` or more: it may exceed the size by one event.
 *
 * Long runs: `reopen()` (what SIGHUP calls) closes the current file and starts the next one at
 * once. Retention, checked each time a file is closed: `keep` files at most (the current one
 * included; the oldest closed ones are deleted), and closed files older than `keepForMs` (since
 * they were closed) deleted. With `gzip`, every file closed by a rotation is compressed to
 * `<file>.gz` (mode 0600) and the plain one deleted; the last file, closed at the end, stays plain.
 * Only files this writer wrote are ever deleted. Housekeeping never fails the trace: a file that
 * cannot be compressed or deleted is said (onWarning) and left as it is.
 *
 * `RotatingTraceWriter.reopening(path)` is the same writer for a single file that logrotate
 * rotates: every file is `path` itself, no size limit, and `reopen()` (SIGHUP, after logrotate
 * renamed the file) creates `path` again, header first.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { describeFileError, RuntimeError } from '../errors.js';
import type { TraceRecord } from './serialized-event.js';
import type { TraceHeader } from './trace-types.js';
import { TraceWriter } from './trace-writer.js';

/** What a producer of trace events writes to: a TraceWriter, or a RotatingTraceWriter. */
export interface TraceOutput {
  /**
   * Resolves at once (undefined) unless the output is full; then a promise to await before
   * writing more (it rejects if the output fails meanwhile). Throws once the output has failed.
   */
  write(event: TraceRecord): Promise<void> | undefined;
  /** Flushes and closes; rejects with the failure if the output failed. */
  close(): Promise<void>;
  /** Events taken by write(). */
  readonly events: number;
  /** Events confirmed written, when the output can tell (else every event taken counts as written). */
  readonly written?: number;
  /** Calls `listener` once when the output fails on its own, so the failure is known before the next write. */
  onFailure?(listener: (err: Error) => void): void;
  /** Closes the current file and opens the next (SIGHUP); outputs that cannot (stdout) leave it out. */
  reopen?(): Promise<void>;
}

export interface RotationOptions {
  /** Files kept at most, the current one included (at least 1); older closed files are deleted. */
  keep?: number;
  /** Closed files are deleted this long (ms) after they were closed. */
  keepForMs?: number;
  /** Compress every file closed by a rotation to `<file>.gz`. */
  gzip?: boolean;
  /** Housekeeping problems (a file that could not be compressed or deleted); the trace goes on. */
  onWarning?: (message: string) => void;
  /** Milliseconds since the epoch; default Date.now (tests move it). */
  now?: () => number;
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
  /** Files closed by a rotation and not deleted, oldest first, with when they were closed. */
  private readonly kept: { path: string; closedMs: number }[] = [];
  /** Compression and deletion under way; close() waits for it. */
  private housekeeping: Promise<void> = Promise.resolve();
  private index = 1;
  private eventCount = 0;
  /** Events confirmed in the files already closed. */
  private writtenBefore = 0;
  /** A rotation in progress; events written meanwhile wait in the backlog, in order. */
  private rotating: Promise<void> | undefined;
  private backlog: TraceRecord[] = [];
  private closed = false;
  private failure: Error | undefined;
  private failureListeners: ((err: Error) => void)[] = [];

  private constructor(
    private readonly nameOf: (n: number) => string,
    private readonly header: TraceHeader,
    private readonly maxBytes: number,
    first: TraceWriter,
    private readonly rotation: RotationOptions,
  ) {
    this.current = first;
    this.started = [nameOf(1)];
    first.onFailure(this.fail);
  }

  /** Numbered files of about `maxBytes` each; RangeError for a size or retention no writer could use. */
  static async create(
    path: string,
    header: TraceHeader,
    maxBytes: number,
    rotation: RotationOptions = {},
  ): Promise<RotatingTraceWriter> {
    if (!Number.isFinite(maxBytes) || maxBytes <= 0)
      throw new RangeError(`rotation size must be positive, got ${maxBytes}`);
    checkRotation(rotation);
    const nameOf = (n: number): string => rotatedPath(path, n);
    const first = await TraceWriter.create(nameOf(1), header);
    return new RotatingTraceWriter(nameOf, header, maxBytes, first, rotation);
  }

  /** One file, `path`, created again by every reopen() (logrotate renamed the old one meanwhile). */
  static async reopening(path: string, header: TraceHeader): Promise<RotatingTraceWriter> {
    const first = await TraceWriter.create(path, header);
    return new RotatingTraceWriter(() => path, header, Infinity, first, {});
  }

  get events(): number {
    return this.eventCount;
  }

  /** Events confirmed written, over every file. */
  get written(): number {
    return this.writtenBefore + this.current.written;
  }

  /** Every file started so far, in order (a name reopened several times is listed once). */
  get files(): readonly string[] {
    return [...new Set(this.started)];
  }

  /** Closes the current file now and starts the next one (SIGHUP). Rejects if that fails (also reported by onFailure). */
  async reopen(): Promise<void> {
    if (this.closed || this.failure !== undefined) return;
    while (this.rotating !== undefined) await this.rotating.catch(() => undefined);
    if (this.closed || this.failure !== undefined) return;
    this.rotating = this.rotate();
    this.rotating.catch(() => undefined);
    await this.rotating;
  }

  onFailure(listener: (err: Error) => void): void {
    if (this.failure !== undefined) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  write(event: TraceRecord): Promise<void> | undefined {
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
    await this.housekeeping;
    if (this.failure !== undefined) throw this.failure;
  }

  private put(event: TraceRecord): Promise<void> | undefined {
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
    const path = this.nameOf(this.index + 1);
    const previous = this.nameOf(this.index);
    try {
      await this.current.close();
      if (previous !== path) this.closedFile(previous);
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
      wait = this.put(backlog[i] as TraceRecord) ?? wait;
      if (this.rotating !== undefined) {
        // The file filled up again: the rest waits for the next one (nothing else was queued meanwhile).
        this.backlog.push(...backlog.slice(i + 1));
        return this.rotating;
      }
    }
    if (wait !== undefined) await wait;
  }

  /** A rotation closed `path`: compress it and apply retention, in order, behind the writing. */
  private closedFile(path: string): void {
    const { gzip, keep, keepForMs } = this.rotation;
    const now = this.rotation.now ?? Date.now;
    const entry = { path, closedMs: now() };
    this.kept.push(entry);
    this.housekeeping = this.housekeeping.then(async () => {
      if (gzip === true && this.kept.includes(entry)) {
        try {
          await pipeline(createReadStream(path), createGzip(), createWriteStream(`${path}.gz`, { mode: 0o600 }));
          await unlink(path);
          entry.path = `${path}.gz`;
        } catch (e) {
          this.warn(`cannot compress ${path}: ${describeFileError(e)}; left as it is`);
          await unlink(`${path}.gz`).catch(() => undefined);
        }
      }
      const expired = keepForMs === undefined ? -Infinity : now() - keepForMs;
      // `keep` counts the current file too.
      const excess = keep === undefined ? 0 : this.kept.length + 1 - keep;
      const gone = this.kept.filter((k, i) => i < excess || k.closedMs <= expired);
      for (const k of gone) {
        try {
          await unlink(k.path);
          this.kept.splice(this.kept.indexOf(k), 1);
        } catch (e) {
          const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
          if (missing) this.kept.splice(this.kept.indexOf(k), 1);
          else this.warn(`cannot delete ${k.path} (retention): ${describeFileError(e)}`);
        }
      }
    });
  }

  private warn(message: string): void {
    try {
      this.rotation.onWarning?.(message);
    } catch {
      // A warning that cannot be shown changes nothing.
    }
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

function checkRotation(r: RotationOptions): void {
  if (r.keep !== undefined && !(Number.isSafeInteger(r.keep) && r.keep >= 1))
    throw new RangeError(`keep must be a whole number ≥ 1, got ${r.keep}`);
  if (r.keepForMs !== undefined && !(Number.isFinite(r.keepForMs) && r.keepForMs > 0))
    throw new RangeError(`keepForMs must be above 0, got ${r.keepForMs}`);
}
