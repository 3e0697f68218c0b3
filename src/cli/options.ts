/** Parsers for command-line values; each throws a usage error naming the flag. */
import { InvalidArgumentError } from 'commander';
import { MAX_CONCURRENCY, MAX_RATE_PER_SECOND, MAX_SPEED, MIN_SPEED } from '../load/limits.js';
import { checkMaxPacketSize } from '../protocol/index.js';
import { UsageError, usageError } from './exit-codes.js';

/** A repeatable flag: every value, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A repeatable flag of comma lists: every item, in order, empty ones dropped. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

/**
 * A parser of the library's (it says what is wrong with a UsageError, parseThreshold with a
 * RangeError) as a flag parser: the error becomes commander's own, reported like any bad flag value.
 */
export function asFlagParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (e) {
      throw e instanceof UsageError || e instanceof RangeError ? new InvalidArgumentError(e.message) : e;
    }
  };
}

/** An inclusive range for a whole-number flag. */
export interface IntegerRange {
  min?: number;
  max?: number;
}

/** A whole number within `range` (default 0 to 2^53-1), or a usage error that says the range. */
export function parseInteger(value: string, flag: string, range: IntegerRange = {}): number {
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const n = /^\s*\d+\s*$/.test(value) ? Number.parseInt(value, 10) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const allowed =
      max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
    throw new InvalidArgumentError(`${flag} takes ${allowed}, got ${JSON.stringify(value)}`);
  }
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** A flag parser for whole numbers within `range`, e.g. `wholeNumber('--requests', { min: 1 })`. */
export function wholeNumber(flag: string, range: IntegerRange = {}): (value: string) => number {
  return (value) => parseInteger(value, flag, range);
}

/** --concurrency (and what else counts connections): 1 to MAX_CONCURRENCY (src/load/limits.ts says why). */
export function parseConcurrency(flag: string): (value: string) => number {
  return wholeNumber(flag, { min: 1, max: MAX_CONCURRENCY });
}

/** A byte size: `1048576`, `64KiB`, `1MiB`, `100MB` (decimal units are powers of 1000, *iB of 1024). */
export function parseSize(value: string, flag: string, range: IntegerRange = {}): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = SIZE_UNITS[(m?.[2] ?? '?').toLowerCase()];
  if (m === null || unit === undefined)
    throw new InvalidArgumentError(`${flag} takes a size such as 65536, 64KiB or 1MiB, got ${JSON.stringify(value)}`);
  const size = Math.floor(Number(m[1]) * unit);
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (size < min || size > max)
    throw new InvalidArgumentError(
      `${flag} takes a size from ${formatSize(min)} to ${formatSize(max)}, got ${JSON.stringify(value)}`,
    );
  return size;
}

function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return String(bytes);
}

/** --max-packet-size: 8192 to 65536, as Tomcat's packetSize. */
export function checkMaxPacketSizeFlag(size: number): number {
  try {
    return checkMaxPacketSize(size);
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

const DURATION_UNITS: Record<string, number> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * The longest duration any flag takes: Node's timers fire at once past 2^31-1 ms (about 24.8
 * days), so a longer --duration would end a run immediately instead of never.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Which durations a flag takes: above zero (the default) or zero too, and at most `maxMs`. */
export interface DurationRange {
  zero?: boolean;
  maxMs?: number;
}

/** A duration in milliseconds: `500ms`, `5s`, `2m`, `1h`, `7d`, `1.5s` (a bare number is seconds). */
export function parseDuration(value: string, flag: string, range: DurationRange = {}): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h|d)?\s*$/i.exec(value);
  const unit = m === null ? undefined : DURATION_UNITS[(m[2] ?? 's').toLowerCase()];
  if (m === null || unit === undefined)
    throw new InvalidArgumentError(
      `${flag} takes a duration such as 500ms, 5s, 2m or 1h, got ${JSON.stringify(value)}`,
    );
  const ms = Number(m[1]) * unit;
  const maxMs = range.maxMs ?? MAX_DURATION_MS;
  if (ms > maxMs || (ms === 0 && range.zero !== true) || !Number.isFinite(ms)) {
    const from = range.zero === true ? 'from 0' : 'above 0';
    throw new InvalidArgumentError(
      `${flag} takes a duration ${from} up to ${formatDuration(maxMs)}, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

function formatDuration(ms: number): string {
  if (ms === MAX_DURATION_MS) return '24d (the longest a timer can wait)';
  for (const [unit, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= n && ms % n === 0) return `${ms / n}${unit}`;
  }
  return `${ms}ms`;
}

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, m: 1 / 60, min: 1 / 60, h: 1 / 3600 };

/** A rate in requests per second: `500/s`, `500`, `30000/m`, `10/h`. Must be above zero. */
export function parseRate(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([a-z]+))?\s*$/i.exec(value);
  const unit = m === null ? undefined : RATE_UNITS[(m[2] ?? 's').toLowerCase()];
  const rate = m === null || unit === undefined ? NaN : Number(m[1]) * unit;
  if (!(rate > 0))
    throw new InvalidArgumentError(
      `${flag} takes a rate above zero such as 500/s or 30000/m, got ${JSON.stringify(value)}`,
    );
  return rate;
}

/** --rate: above zero, at most MAX_RATE_PER_SECOND. */
export function parseBoundedRate(value: string, flag: string): number {
  const rate = parseRate(value, flag);
  if (rate > MAX_RATE_PER_SECOND)
    throw new InvalidArgumentError(`${flag} takes at most ${MAX_RATE_PER_SECOND}/s, got ${JSON.stringify(value)}`);
  return rate;
}

/** --speed: a factor from MIN_SPEED to MAX_SPEED, `2`, `0.5` or `2x`. */
export function parseSpeed(value: string): number {
  const n = Number(value.replace(/x$/i, ''));
  if (!(n >= MIN_SPEED && n <= MAX_SPEED))
    throw new InvalidArgumentError(
      `--speed takes a factor from ${MIN_SPEED} to ${MAX_SPEED} such as 2 or 0.5, got ${JSON.stringify(value)}`,
    );
  return n;
}

/** --ping: mod_jk ping_mode letters. */
export function parsePing(value: string): string {
  if (!/^[CPIA]+$/.test(value))
    throw new InvalidArgumentError(
      `--ping takes mod_jk ping_mode letters C, P, I or A (e.g. CI), got ${JSON.stringify(value)}`,
    );
  return value;
}

/** A share: `10%`, `0.5%` or `0.1` (a fraction); above 0, at most 1 (100%). */
export function parseShare(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%)?\s*$/.exec(value);
  const share = m === null ? NaN : Number(m[1]) / (m[2] === '%' ? 100 : 1);
  if (!(share > 0 && share <= 1))
    throw new InvalidArgumentError(
      `${flag} takes a share above 0 and at most 100%, such as 10% or 0.1, got ${JSON.stringify(value)}`,
    );
  return share;
}
