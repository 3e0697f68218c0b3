/** Buffered line output that respects back-pressure, so a large decode does not pile up in memory. */
import type { Writable } from 'node:stream';

const FLUSH_AT = 64 * 1024;

export class LineWriter {
  private pending: string[] = [];
  private size = 0;
  private draining: Promise<void> | undefined;

  constructor(private readonly out: Writable) {}

  line(text: string): void {
    this.pending.push(text);
    this.size += text.length + 1;
    if (this.size >= FLUSH_AT) this.flush();
  }

  /** Resolves when everything written so far has been handed to the stream and it has room again. */
  async ready(): Promise<void> {
    if (this.draining !== undefined) await this.draining;
  }

  async close(): Promise<void> {
    this.flush();
    await this.ready();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const ok = this.out.write(this.pending.join('\n') + '\n');
    this.pending = [];
    this.size = 0;
    if (!ok && this.draining === undefined) {
      this.draining = new Promise((resolve) => this.out.once('drain', () => { this.draining = undefined; resolve(); }));
    }
  }
}
