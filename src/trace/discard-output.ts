/** A trace output that keeps nothing: `record --no-trace` and `import - --no-trace`, where the metrics monitor is the point. */
import type { TraceRecord } from './serialized-event.js';
import type { TraceOutput } from './rotating-trace-writer.js';

export class DiscardTraceOutput implements TraceOutput {
  /** Events handed to it and let go (a recorder's summary counts them as written: to nowhere, as asked). */
  events = 0;

  write(_event: TraceRecord): undefined {
    this.events++;
    return undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
