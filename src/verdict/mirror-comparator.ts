/**
 * What the live mirror needs from a comparison engine: compare one exchange's answers (production,
 * candidate, secondary), say the outcome, and give the trace event that records it. The engine itself
 * (verdict/diff/, shared with the offline `ajpbench diff`) sits behind it (mirror-verdict.ts); the
 * mirror's tests use a double.
 */
import type { TraceEvent } from '../trace/index.js';
import type { ExchangeToCompare } from './diff/diff-engine.js';

/** One exchange's answers to compare: the engine's own input (production is the primary). */
export type MirrorExchange = ExchangeToCompare;

export interface MirrorComparison {
  /** equal; noise: every difference is one the secondary showed too; differs: at least one is not. */
  outcome: 'equal' | 'noise' | 'differs';
  differences: readonly { kind: string; noise: boolean }[];
  /** The trace event recording it (none when equal). */
  event?: TraceEvent;
}

export interface MirrorComparator {
  /** `tUs`: now, in µs since the trace start (the event's `t`). */
  compare(x: MirrorExchange, tUs: number): MirrorComparison;
  /** A copy that could not be compared; `reason` is a short fixed phrase the summary groups by. */
  drop(reason: string): void;
}
