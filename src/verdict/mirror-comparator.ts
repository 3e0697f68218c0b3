/**
 * What the live mirror needs from a comparison engine: compare one exchange's three answers (production,
 * candidate, secondary), say the outcome, and give the trace event that records it. The engine itself
 * (verdict/diff/) is shared with the offline `ajpbench diff`; the mirror only feeds it.
 */
import type { HeaderPair, TraceEvent } from '../trace/index.js';

export interface MirrorObservedBody {
  length: number;
  /** SHA-256 (hex) of the whole body. */
  sha256: string;
  /** The bytes held (a prefix when `truncated`). */
  data?: Buffer;
  truncated?: boolean;
}

export interface MirrorObservedResponse {
  status: number;
  /** [name, value] wire strings in the order received. */
  headers: HeaderPair[];
  body: MirrorObservedBody;
}

/** No answer: refused, reset, timed out, a protocol error. */
export type MirrorObserved = MirrorObservedResponse | { error: string };

export interface MirrorExchange {
  id: number;
  uri: string | null;
  byteStrings?: boolean;
  primary: MirrorObservedResponse;
  candidate: MirrorObserved;
  secondary?: MirrorObserved;
}

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
