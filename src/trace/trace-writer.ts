/**
 * Streaming trace writer. Files are created with mode 0600: traces come from production and may
 * hold what redaction does not cover (URIs, bodies). Writes respect back-pressure: `write()`
 * returns a promise only when the stream is full, so a producer awaits it only then.
 */
import { once } from 'node:events';
import { createWriteStream, chmodSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { TraceEvent, TraceHeader } from './trace-types.js';

export class TraceWriter {
  private closed = false;
  private eventCount = 0;
  private byteCount = 0;

  private constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
    readonly path: string | undefined,
  ) {}

  /** A new trace file (truncated if it exists), mode 0600, starting with the header line. */
  static async create(path: string, header: TraceHeader): Promise<TraceWriter> {
    const out = createWriteStream(path, { flags: 'w', mode: 0o600 });
    await once(out, 'open');
    chmodSync(path, 0o600); // an existing file keeps its old mode through createWriteStream
    const w = new TraceWriter(out, true, path);
    await w.writeLine(header);
    return w;
  }

  /** A trace written to a stream the caller owns (stdout). */
  static async toStream(out: Writable, header: TraceHeader): Promise<TraceWriter> {
    const w = new TraceWriter(out, false, undefined);
    await w.writeLine(header);
    return w;
  }

  get events(): number {
    return this.eventCount;
  }

  /** Bytes written so far, header line included (what the file holds once flushed). */
  get bytes(): number {
    return this.byteCount;
  }

  /** Resolves at once unless the stream is full; then when it has drained. */
  write(event: TraceEvent): Promise<void> | undefined {
    this.eventCount++;
    return this.writeLine(event);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsStream) {
      this.out.end();
      await once(this.out, 'finish');
    } else {
      // Not ours to end (stdout): make sure what we wrote has been handed over.
      await new Promise<void>((resolve, reject) => this.out.write('', (e) => (e ? reject(e) : resolve())));
    }
  }

  private writeLine(value: TraceHeader | TraceEvent): Promise<void> | undefined {
    if (this.closed) throw new Error('trace writer is closed');
    const line = JSON.stringify(value) + '\n';
    this.byteCount += Buffer.byteLength(line);
    const ok = this.out.write(line);
    return ok ? undefined : once(this.out, 'drain').then(() => undefined);
  }
}
