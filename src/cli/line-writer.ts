/**
 * Buffered line output that respects back-pressure, so a large decode does not pile up in memory.
 * A stream that fails (a reader gone, a full disk) ends ready() and close() with a RuntimeError
 * (AJPBENCH_ERR_OUTPUT) instead of leaving them waiting for a 'drain' that never comes.
 */
import type { Writable } from 'node:stream';
import { describeFileError, RuntimeError } from '../errors.js';

const FLUSH_AT = 64 * 1024;

export class LineWriter {
  private pending: string[] = [];
  private size = 0;
  private draining: Promise<void> | undefined;
  private wake: ((err?: RuntimeError) => void) | undefined;
  private failure: RuntimeError | undefined;

  /** `name` is how an error message calls the output ("stdout", a path). */
  constructor(
    private readonly out: Writable,
    private readonly name = 'the output',
  ) {
    out.on('error', this.onError);
    out.on('drain', this.onDrain);
  }

  line(text: string): void {
    if (this.failure !== undefined) throw this.failure;
    this.pending.push(text);
    this.size += text.length + 1;
    if (this.size >= FLUSH_AT) this.flush();
  }

  /** Resolves when everything written so far has been handed to the stream and it has room again. */
  async ready(): Promise<void> {
    if (this.draining !== undefined) await this.draining;
    if (this.failure !== undefined) throw this.failure;
  }

  async close(): Promise<void> {
    this.flush();
    await this.ready();
  }

  private flush(): void {
    if (this.pending.length === 0 || this.failure !== undefined) return;
    const ok = this.out.write(this.pending.join('\n') + '\n');
    this.pending = [];
    this.size = 0;
    if (!ok && this.draining === undefined) {
      this.draining = new Promise<void>((resolve, reject) => {
        this.wake = (err) => (err === undefined ? resolve() : reject(err));
      });
      this.draining.catch(() => undefined); // also thrown by ready() and the next line()
    }
  }

  private readonly onDrain = (): void => {
    const wake = this.wake;
    this.draining = undefined;
    this.wake = undefined;
    wake?.();
  };

  private readonly onError = (err: Error): void => {
    if (this.failure !== undefined) return;
    this.failure = new RuntimeError(`cannot write ${this.name}: ${describeFileError(err)}`, 'AJPBENCH_ERR_OUTPUT', {
      cause: err,
    });
    this.pending = [];
    const wake = this.wake;
    this.draining = undefined;
    this.wake = undefined;
    wake?.(this.failure);
  };
}
