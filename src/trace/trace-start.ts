/**
 * A trace's time zero in microseconds since the Unix epoch, as the tools that move events in time
 * need it: `startTimeUs`, else (a trace written before that field, or a hand-made header) the ISO
 * `startTime`, else 0, so that a damaged header shifts times rather than making them NaN.
 */
import type { TraceHeader } from './trace-types.js';

export function traceStartUs(header: TraceHeader): number {
  const h = header as Partial<TraceHeader>;
  if (typeof h.startTimeUs === 'number' && Number.isSafeInteger(h.startTimeUs)) return h.startTimeUs;
  const ms = typeof h.startTime === 'string' ? Date.parse(h.startTime) : NaN;
  return Number.isFinite(ms) ? ms * 1000 : 0;
}
