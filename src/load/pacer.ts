/**
 * Pacing, apart from sending (vegeta's Pacer). A pacer gives the time each request is due, from
 * the run's start, as a pure function of its position in the schedule. Because the schedule is
 * absolute, a scheduler that falls behind sends what is overdue at once and catches up rather
 * than drifting, and open-loop latency is measured from these times (no coordinated omission).
 */
import { UsageError } from '../errors.js';
import { MAX_SPEED, MIN_SPEED, checkRate } from './limits.js';
import type { ReplayRequest } from './replay-request.js';

export interface Pacer {
  /** When request number `seq` (0-based) is due, ms from the start; `req` is that request, `loop` its pass. */
  dueMs(seq: number, req: ReplayRequest, loop: number): number;
  /** For reports: what the pacer does. */
  readonly description: string;
}

/**
 * A constant rate: request n is due at n / rate. With --workers, worker `offset` of `every` sends
 * requests offset, offset + every, ... of that one schedule: its request n is due at
 * (n × every + offset) / rate. The workers' schedules interleave into exactly the single one, so
 * their rates sum to the rate exactly and none drifts (each is absolute from the common start).
 */
export class ConstantPacer implements Pacer {
  readonly description: string;
  private readonly intervalMs: number;

  constructor(
    readonly ratePerSecond: number,
    private readonly stride: { every: number; offset: number } = { every: 1, offset: 0 },
  ) {
    checkRate(ratePerSecond);
    this.intervalMs = 1000 / ratePerSecond;
    this.description = `constant ${ratePerSecond}/s`;
  }

  dueMs(seq: number): number {
    return (seq * this.stride.every + this.stride.offset) * this.intervalMs;
  }
}

/**
 * The trace's own timing: each request at its recorded Forward Request time, divided by `speed`.
 * Pass n of a looped trace is shifted by n × the pass span (the span plus one mean gap).
 */
export class RecordedPacer implements Pacer {
  readonly description: string;

  constructor(
    private readonly source: { readonly firstT: number; readonly passSpanUs: number | undefined },
    readonly speed: number,
  ) {
    if (!(speed >= MIN_SPEED && speed <= MAX_SPEED))
      throw new UsageError(`speed takes a factor from ${MIN_SPEED} to ${MAX_SPEED}, got ${speed}`);
    this.description = `recorded timing${speed === 1 ? '' : ` at ${speed}x`}`;
  }

  dueMs(_seq: number, req: ReplayRequest, loop: number): number {
    const offsetUs = loop === 0 ? 0 : loop * (this.source.passSpanUs ?? 0);
    return Math.max(0, req.t - this.source.firstT + offsetUs) / 1000 / this.speed;
  }
}
