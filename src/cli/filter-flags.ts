/** The value parsers of `ajpbench filter`'s flags; each says what is wrong as commander's bad flag value. */
import { InvalidArgumentError } from 'commander';
import { parseSubstitution, statusMatcher, type FilterSpec, type TimePoint } from '../trace/index.js';
import { asFlagParser, collectList, parseDuration, parseInteger } from './options.js';

export function collectStatus(value: string, previous: string[] | undefined): string[] {
  const items = collectList(value, undefined);
  asFlagParser(() => statusMatcher(items))(value); // says what is wrong now, as a bad flag value
  return [...(previous ?? []), ...items];
}

export function collectConns(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), ...collectList(value, undefined).map((v) => parseInteger(v, '--conn', { min: 1 }))];
}

export function collectSubstitution(value: string, previous: string[] | undefined): string[] {
  asFlagParser(parseSubstitution)(value);
  return [...(previous ?? []), value];
}

export function collectHeader(value: string, previous: [string, string][] | undefined): [string, string][] {
  const colon = value.indexOf(':');
  const name = colon < 0 ? '' : value.slice(0, colon).trim();
  if (name === '' || /[\s\r\n]/.test(name))
    throw new InvalidArgumentError(`--set-header takes 'Name: value', got ${JSON.stringify(value)}`);
  return [...(previous ?? []), [name, value.slice(colon + 1).trim()]];
}

/** `10%` or `0.1`: a share from 0 to 1. */
export function parseShare(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(value);
  const share = m === null ? NaN : Number(m[1]) / (m[2] === '%' ? 100 : 1);
  if (!(share > 0 && share <= 1))
    throw new InvalidArgumentError(
      `--sample takes a share above 0 up to 100%, such as 10% or 0.1, got ${JSON.stringify(value)}`,
    );
  return share;
}

/** An offset from the trace start (90s, 1h, +5m) or an ISO 8601 time. */
export function parseTimePoint(value: string, flag: string): TimePoint {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    if (!Number.isFinite(Date.parse(v)))
      throw new InvalidArgumentError(
        `${flag} takes an ISO 8601 time or an offset such as 90s, got ${JSON.stringify(value)}`,
      );
    return { at: v };
  }
  const ms = parseOffset(v.replace(/^\+/, ''), flag);
  return { offsetUs: Math.round(ms * 1000) };
}

/** +2h, -90s (moves the clock) or an ISO 8601 time (the instant the trace is to start at). */
export function parseShift(value: string): NonNullable<FilterSpec['shiftTime']> {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    if (!Number.isFinite(Date.parse(v)))
      throw new InvalidArgumentError(
        `--shift-time takes +DURATION, -DURATION or an ISO 8601 time, got ${JSON.stringify(value)}`,
      );
    return { to: v };
  }
  const sign = v.startsWith('-') ? -1 : 1;
  if (!/^[+-]/.test(v))
    throw new InvalidArgumentError(
      `--shift-time takes +DURATION, -DURATION (e.g. +2h) or an ISO 8601 time, got ${JSON.stringify(value)}`,
    );
  return { byUs: sign * Math.round(parseOffset(v.slice(1), '--shift-time') * 1000) };
}

/** A duration of zero or more, in milliseconds, as parseDuration reads it (a bare number is seconds). */
function parseOffset(value: string, flag: string): number {
  return parseDuration(value, flag, { zero: true, maxMs: Number.MAX_SAFE_INTEGER / 1000 });
}
