/** Parsers for command-line values; each throws a usage error naming the flag. */
import { InvalidArgumentError } from 'commander';
import { checkMaxPacketSize } from '../protocol/index.js';
import { usageError } from './exit-codes.js';

export function parseInteger(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} takes a whole number, got ${JSON.stringify(value)}`);
  return Number.parseInt(value, 10);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3 };

/** A byte size: `1048576`, `64KiB`, `1MiB`, `100MB` (decimal units are powers of 1000, *iB of 1024). */
export function parseSize(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = SIZE_UNITS[(m?.[2] ?? '?').toLowerCase()];
  if (m === null || unit === undefined) throw new InvalidArgumentError(`${flag} takes a size such as 65536, 64KiB or 1MiB, got ${JSON.stringify(value)}`);
  return Math.floor(Number(m[1]) * unit);
}

/** --max-packet-size: 8192 to 65536, as Tomcat's packetSize. */
export function checkMaxPacketSizeFlag(size: number): number {
  try {
    return checkMaxPacketSize(size);
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

const DURATION_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds: `500ms`, `5s`, `2m`, `1h`, `1.5s` (a bare number is seconds). */
export function parseDuration(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?\s*$/i.exec(value);
  const unit = m === null ? undefined : DURATION_UNITS[(m[2] ?? 's').toLowerCase()];
  if (m === null || unit === undefined) throw new InvalidArgumentError(`${flag} takes a duration such as 500ms, 5s, 2m or 1h, got ${JSON.stringify(value)}`);
  return Number(m[1]) * unit;
}

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, m: 1 / 60, min: 1 / 60, h: 1 / 3600 };

/** A rate in requests per second: `500/s`, `500`, `30000/m`, `10/h`. Must be above zero. */
export function parseRate(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([a-z]+))?\s*$/i.exec(value);
  const unit = m === null ? undefined : RATE_UNITS[(m[2] ?? 's').toLowerCase()];
  const rate = m === null || unit === undefined ? NaN : Number(m[1]) * unit;
  if (!(rate > 0)) throw new InvalidArgumentError(`${flag} takes a rate above zero such as 500/s or 30000/m, got ${JSON.stringify(value)}`);
  return rate;
}
