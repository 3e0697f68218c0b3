/**
 * A response as one side of a comparison saw it: the recorded one in a trace, one fetched again from
 * a target (`ajpbench diff`), or a mirror's (`record --mirror`). The diff engine (verdict/diff/)
 * reads only this, so every source fills the same shape.
 */
import { BodyAccumulator } from './body-accumulator.js';
import { toWireString } from './trace-strings.js';
import type { HeaderPair, TraceBody, TraceResponse } from './trace-types.js';

/** The most body bytes kept for a field-level comparison by default; a longer body is compared by SHA-256 only. */
export const DEFAULT_DIFF_BODY_BYTES = 1024 * 1024;

export interface ObservedBody {
  length: number;
  /** SHA-256 (hex) of the whole body, always. */
  sha256: string;
  /** The bytes, when known (a copy owned by this object); the first bytes only when `truncated`. */
  data?: Buffer;
  /** Longer than what was kept: `data` holds a prefix, so only the hash and length compare. */
  truncated?: boolean;
}

export interface ObservedResponse {
  status: number;
  /** [name, value] wire strings in the order received; names as they came (AJP's `Content-Type` spelling, HTTP's lowercase). */
  headers: HeaderPair[];
  body: ObservedBody;
}

/** A side that gave no response: refused, reset, timed out, a protocol error. */
export interface ObservedFailure {
  error: string;
}

export type Observed = ObservedResponse | ObservedFailure;

export function isFailure(o: Observed): o is ObservedFailure {
  return 'error' in o;
}

/** A trace body as observed: its bytes when the trace kept them (`--bodies all`). */
export function observedBody(b: TraceBody): ObservedBody {
  const body: ObservedBody = { length: b.length, sha256: b.sha256 };
  if (b.data !== undefined) body.data = Buffer.from(b.data, 'base64');
  if (b.truncated === true || (body.data !== undefined && body.data.length < b.length)) body.truncated = true;
  return body;
}

/**
 * A recorded response as observed, its header strings as wire bytes (one char per byte: what an AJP
 * or HTTP client reads off the socket), whether the exchange was written as text or `byteStrings`.
 */
export function observedFromTrace(r: TraceResponse, byteStrings = false): ObservedResponse {
  const w = (s: string | null): string | null => (s === null ? null : toWireString(s, byteStrings));
  return {
    status: r.status,
    headers: r.headers.map(([n, v]) => [w(n) as string, w(v)]),
    body: observedBody(r.body),
  };
}

/** Collects a body as it arrives: length and SHA-256 of all of it, the bytes up to `maxBytes`. */
export class ObservedBodyCollector {
  private readonly acc: BodyAccumulator;

  constructor(private readonly maxBytes = DEFAULT_DIFF_BODY_BYTES) {
    this.acc = new BodyAccumulator(maxBytes > 0, maxBytes);
  }

  /** `data` may be a view into a socket chunk: what is kept is copied. */
  add(data: Buffer): void {
    this.acc.add(data);
  }

  get bytes(): number {
    return this.acc.bytes;
  }

  finish(): ObservedBody {
    const t = this.acc.toTrace();
    const body: ObservedBody = { length: t.length, sha256: t.sha256 };
    if (this.maxBytes > 0) body.data = Buffer.from(t.data ?? '', 'base64');
    if (t.truncated === true) body.truncated = true;
    return body;
  }
}
