/**
 * --profile: load options from a JSON file, or a bundled one (profiles/: smoke, steady, stress,
 * soak, fairness-ci). Its fields are the long flag names in camelCase, checked with the flags' own
 * parsers; a flag given on the command line (or from the environment) wins over its field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { usageError } from './exit-codes.js';
import {
  parseBoundedRate,
  parseConcurrency,
  parseDuration,
  parseInteger,
  parsePing,
  parseSpeed,
  wholeNumber,
} from './options.js';

/**
 * Profile fields: the long flag names in camelCase, with the values a flag takes (strings such as
 * "30s" and "500/s", numbers for counts, booleans for switches, arrays for repeatable flags).
 */
const PROFILE_FIELDS: Record<string, (v: unknown) => unknown> = {
  target: (v) => strings(v, '--target'),
  concurrency: (v) => parseConcurrency('--concurrency')(scalar(v)),
  rate: (v) => parseBoundedRate(scalar(v), '--rate'),
  timing: (v) => {
    if (v !== 'recorded' && v !== 'closed') throw new InvalidArgumentError('takes "recorded" or "closed"');
    return v;
  },
  speed: (v) => parseSpeed(scalar(v)),
  duration: (v) => parseDuration(scalar(v), '--duration'),
  requests: (v) => wholeNumber('--requests', { min: 1 })(scalar(v)),
  warmup: (v) => parseDuration(scalar(v), '--warmup', { zero: true }),
  loop: (v) => bool(v),
  ping: (v) => (v === true ? true : v === false ? undefined : parsePing(scalar(v))),
  pingTimeout: (v) => parseDuration(scalar(v), '--ping-timeout'),
  pingInterval: (v) => parseDuration(scalar(v), '--ping-interval'),
  connectTimeout: (v) => parseDuration(scalar(v), '--connect-timeout'),
  timeout: (v) => parseDuration(scalar(v), '--timeout'),
  maxPacketSize: (v) => parseInteger(scalar(v), '--max-packet-size'),
  rewriteHost: (v) => scalar(v),
  header: (v) => strings(v, '--header'),
  dropHeader: (v) => strings(v, '--drop-header'),
  forwarded: (v) => bool(v),
  pipelining: (v) => wholeNumber('--pipelining', { min: 1 })(scalar(v)),
  httpClient: (v) => {
    if (v !== 'net' && v !== 'undici') throw new InvalidArgumentError('takes "net" or "undici"');
    return v;
  },
  routeHeader: (v) => scalar(v),
  verify: (v) => bool(v),
  verifyHeaders: (v) =>
    strings(v, '--verify-headers')
      .flatMap((s) => s.split(',').map((x) => x.trim()))
      .filter((s) => s !== ''),
};

function scalar(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string') return v;
  throw new InvalidArgumentError(`takes a string or a number, got ${JSON.stringify(v)}`);
}
function bool(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`takes true or false, got ${JSON.stringify(v)}`);
  return v;
}
function strings(v: unknown, flag: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
    throw new InvalidArgumentError(`${flag} takes a string or a list of strings`);
  return list;
}

/** The bundled profiles: <package>/profiles, from dist/src/cli (built) or src/cli (tests on the sources). */
const PROFILES_DIR =
  [new URL('../../../profiles/', import.meta.url), new URL('../../profiles/', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((d) => existsSync(d)) ?? fileURLToPath(new URL('../../../profiles/', import.meta.url));

/** Reads a profile (a path, or the name of a bundled one: smoke, steady, stress, soak, fairness-ci). */
export function loadProfile(nameOrPath: string): Record<string, unknown> {
  const path = /^[a-z0-9-]+$/i.test(nameOrPath) ? `${PROFILES_DIR}${nameOrPath}.json` : nameOrPath;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw usageError(
      `--profile ${nameOrPath}: ${e instanceof SyntaxError ? `not valid JSON: ${e.message}` : (e as Error).message}`,
      'AJPBENCH_ERR_PROFILE',
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw usageError(
      `--profile ${nameOrPath}: must be a JSON object of option names to values`,
      'AJPBENCH_ERR_PROFILE',
    );
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k === 'description' || k === '$comment') continue;
    const parse = PROFILE_FIELDS[k];
    if (parse === undefined)
      throw usageError(
        `--profile ${nameOrPath}: unknown field "${k}" (fields: ${Object.keys(PROFILE_FIELDS).join(', ')})`,
        'AJPBENCH_ERR_PROFILE',
      );
    try {
      out[k] = parse(v);
    } catch (e) {
      throw usageError(`--profile ${nameOrPath}: field "${k}": ${(e as Error).message}`, 'AJPBENCH_ERR_PROFILE');
    }
  }
  return out;
}

/**
 * With --profile, `flags` takes the profile's values for the options of `cmd` not given on the
 * command line or from the environment (a field for an option the command lacks is ignored).
 */
export function applyProfile(cmd: Command, flags: { profile?: string }, skip: readonly string[] = []): void {
  if (flags.profile === undefined) return;
  const f = flags as Record<string, unknown>;
  for (const [k, v] of Object.entries(loadProfile(flags.profile))) {
    if (skip.includes(k) || !cmd.options.some((o) => o.attributeName() === k)) continue;
    const src = cmd.getOptionValueSource(k);
    if (src !== 'cli' && src !== 'env') f[k] = v;
  }
}
