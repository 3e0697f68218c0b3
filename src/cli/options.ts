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
