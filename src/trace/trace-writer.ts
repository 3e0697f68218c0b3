/**
 * Streaming trace writer. Files are created with mode 0600: traces come from production and may
 * hold what redaction does not cover (URIs, bodies). Writes respect back-pressure: `write()`
 * returns a promise only when the stream is full, so a producer awaits it only then.
 *
 * A stream that fails (a full disk, EIO, a reader that went away) never ends in an unhandled
 * 'error' event: the writer keeps the first failure as a RuntimeError (AJPBENCH_ERR_OUTPUT),
 * tells the onFailure listeners once, and every later write() and close() throws it. `written`
 * counts the events the stream confirmed, so a caller knows how many reached the output.
 */
import { once } from 'node:events';
import { createWriteStream, fchmod, fstat } from 'node:fs';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { describeFileError, RuntimeError } from '../errors.js';
import { SerializedEvent, type TraceRecord } from './serialized-event.js';
import type { TraceHeader } from './trace-types.js';

/**
 * What a trace file takes before write() asks the producer to wait. fs.WriteStream's default
 * (16 KiB) made an import wait for a thread-pool round trip every few hundred lines: importing
 * the 110 MB synthetic bench capture spent a fifth of its time idle. With 256 KiB it took
 * 0.79-0.85 s instead of 0.98-1.09 s (3 alternating runs each, -o /dev/null and -o a file);
 * 1 MiB gained nothing more.
 */
const WRITE_BUFFER_BYTES = 256 * 1024;
const fstatAsync = promisify(fstat);
const fchmodAsync = promisify(fchmod);

export class TraceWriter {
  private closed = false;
  private eventCount = 0;
  private byteCount = 0;
  /** Lines the stream confirmed written (the header included). */
  private linesDone = 0;
  private failure: RuntimeError | undefined;
  private failureListeners: ((err: RuntimeError) => void)[] = [];
  /** While the stream is full: one promise for every writer waiting for room. */
  private roomWait: Promise<void> | undefined;
  private releaseRoom: ((err?: RuntimeError) => void) | undefined;

  private constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
    readonly path: string | undefined,
    /** How messages name the output: the path, "stdout", ... */
    private readonly name: string,
  ) {
    out.on('error', this.onStreamError);
    out.on('drain', this.onDrain);
    out.on('close', this.onStreamClose);
  }

  /**
   * A new trace file (truncated if it exists), mode 0600, starting with the header line. Rejects
   * with the system error when the file cannot be opened; a write that fails later is a failure
   * of the writer (onFailure), not a rejection here.
   */
  static async create(path: string, header: TraceHeader): Promise<TraceWriter> {
    const out = createWriteStream(path, { flags: 'w', mode: 0o600, highWaterMark: WRITE_BUFFER_BYTES });
    try {
      const [fd] = (await once(out, 'open')) as [number];
      // An existing file keeps its old mode through createWriteStream. Only a regular file is
      // ours to change: `-o /dev/full` or a FIFO must not be chmod-ed (as root, that would stick).
      if ((await fstatAsync(fd)).isFile()) await fchmodAsync(fd, 0o600);
    } catch (e) {
      out.destroy();
      throw e;
    }
    const w = new TraceWriter(out, true, path, path);
    void w.writeLine(header); // a wait for room, if any, is released or fails with the stream
    return w;
  }

  /** A trace written to a stream the caller owns (stdout); `name` is how messages call it. */
  static toStream(out: Writable, header: TraceHeader, name = 'the trace output'): Promise<TraceWriter> {
    const w = new TraceWriter(out, false, undefined, name);
    void w.writeLine(header); // as in create()
    return Promise.resolve(w);
  }

  /** Events taken by write(). */
  get events(): number {
    return this.eventCount;
  }

  /** Events the stream confirmed written; after a failure, those that reached the output before it. */
  get written(): number {
    return Math.max(0, this.linesDone - 1);
  }

  /** Bytes handed to the stream so far, header line included (what the file holds once flushed). */
  get bytes(): number {
    return this.byteCount;
  }

  /** Why the output failed, if it did. */
  get failed(): RuntimeError | undefined {
    return this.failure;
  }

  /** `listener` is called once if the output fails, when it fails (at once if it already has). */
  onFailure(listener: (err: RuntimeError) => void): void {
    if (this.failure !== undefined) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  /**
   * Resolves at once (undefined) unless the stream is full; then a promise that resolves when it
   * has drained, or rejects if it fails first. Throws once the output has failed.
   */
  write(event: TraceRecord): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    this.eventCount++;
    return this.writeLine(event);
  }

  /** Flushes and closes (a stream we do not own is only flushed). Rejects with the failure, if any. */
  async close(): Promise<void> {
    if (this.closed) {
      if (this.failure !== undefined) throw this.failure;
      return;
    }
    this.closed = true;
    if (this.failure === undefined) {
      try {
        if (this.ownsStream) {
          this.out.end();
          await once(this.out, 'finish');
        } else {
          // Not ours to end (stdout): make sure what we wrote has been handed over.
          await new Promise<void>((resolve, reject) => this.out.write('', (e) => (e ? reject(e) : resolve())));
        }
      } catch (e) {
        this.fail(e);
      }
    }
    if (this.failure !== undefined) {
      if (this.ownsStream) this.out.destroy(); // release the file descriptor
      throw this.failure;
    }
  }

  private writeLine(value: TraceHeader | TraceRecord): Promise<void> | undefined {
    if (this.closed) throw new Error('trace writer is closed');
    const line = (value instanceof SerializedEvent ? value.json : JSON.stringify(value)) + '\n';
    this.byteCount += Buffer.byteLength(line);
    const ok = this.out.write(line, this.lineDone);
    return ok ? undefined : this.waitForRoom();
  }

  /** One bound callback for every line (no allocation per write): lines complete in order. */
  private readonly lineDone = (err?: Error | null): void => {
    if (err === undefined || err === null) this.linesDone++;
    else this.fail(err);
  };

  private waitForRoom(): Promise<void> {
    if (this.roomWait === undefined) {
      this.roomWait = new Promise<void>((resolve, reject) => {
        this.releaseRoom = (err) => (err === undefined ? resolve() : reject(err));
      });
      // A caller may not await every wait it was handed; the failure also reaches onFailure.
      this.roomWait.catch(() => undefined);
    }
    return this.roomWait;
  }

  private readonly onDrain = (): void => {
    const release = this.releaseRoom;
    this.roomWait = undefined;
    this.releaseRoom = undefined;
    release?.();
  };

  private readonly onStreamError = (err: Error): void => this.fail(err);

  private readonly onStreamClose = (): void => {
    // Closed under us (destroyed by its owner) before close(): nothing more can be written.
    if (!this.closed || this.out.writableLength > 0) this.fail(new Error('the output was closed'));
  };

  private fail(cause: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = new RuntimeError(`cannot write ${this.name}: ${describeFileError(cause)}`, 'AJPBENCH_ERR_OUTPUT', {
      cause,
    });
    const release = this.releaseRoom;
    this.roomWait = undefined;
    this.releaseRoom = undefined;
    release?.(this.failure);
    const listeners = this.failureListeners;
    this.failureListeners = [];
    for (const l of listeners) l(this.failure);
  }
}
