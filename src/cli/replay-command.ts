/** `ajpbench replay`: replays a trace against AJP or HTTP targets as a load test (docs/replay.md). */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { PingOptions } from '../load/ajp-client.js';
import { MAX_CONCURRENCY, MAX_RATE_PER_SECOND, MAX_SPEED, MIN_SPEED } from '../load/limits.js';
import { runFailure } from '../load/no-response.js';
import { replay, type LoadModel, type ReplayOptions } from '../load/replay.js';
import { parseHeaderFlag } from '../load/replay-request.js';
import { parseTarget, type Target } from '../load/target.js';
import { progressLine, renderHgrm, renderReplayTable } from '../report/replay-table.js';
import { ExitCode, usageError } from './exit-codes.js';
import { writeOutput } from './files.js';
import type { RunContext } from './run-context.js';
import { checkMaxPacketSizeFlag, parseDuration, parseInteger, parseRate } from './options.js';
import { addVerdictOptions, finishLoadVerdicts, startAt, type VerdictFlags } from './verdict-options.js';

export interface ReplayFlags extends VerdictFlags {
  target?: string[];
  concurrency: number;
  rate?: number;
  timing: 'closed' | 'recorded';
  speed: number;
  duration?: number;
  requests?: number;
  warmup: number;
  loop?: boolean;
  profile?: string;
  secret?: string;
  ping?: string | true;
  pingTimeout: number;
  pingInterval: number;
  connectTimeout: number;
  timeout: number;
  maxPacketSize: number;
  rewriteHost?: string;
  header?: string[];
  dropHeader?: string[];
  forwarded?: boolean;
  pipelining: number;
  routeHeader?: string;
  verify?: boolean;
  verifyHeaders?: string[];
  json?: string;
  hgrm?: string;
  progress: boolean;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const collectList = (v: string, prev: string[] | undefined): string[] => [
  ...(prev ?? []),
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];
const positive =
  (flag: string) =>
  (v: string): number =>
    parseInteger(v, flag, { min: 1 });
/** --concurrency (and what else counts connections): 1 to MAX_CONCURRENCY (src/load/limits.ts says why). */
export const parseConcurrency =
  (flag: string) =>
  (v: string): number =>
    parseInteger(v, flag, { min: 1, max: MAX_CONCURRENCY });
/** --rate: above zero, at most MAX_RATE_PER_SECOND. */
export function parseBoundedRate(v: string, flag: string): number {
  const rate = parseRate(v, flag);
  if (rate > MAX_RATE_PER_SECOND)
    throw new InvalidArgumentError(`${flag} takes at most ${MAX_RATE_PER_SECOND}/s, got ${JSON.stringify(v)}`);
  return rate;
}
function parseSpeed(v: string): number {
  const n = Number(v.replace(/x$/i, ''));
  if (!(n >= MIN_SPEED && n <= MAX_SPEED))
    throw new InvalidArgumentError(
      `--speed takes a factor from ${MIN_SPEED} to ${MAX_SPEED} such as 2 or 0.5, got ${JSON.stringify(v)}`,
    );
  return n;
}
function parsePing(v: string): string {
  if (!/^[CPIA]+$/.test(v))
    throw new InvalidArgumentError(
      `--ping takes mod_jk ping_mode letters C, P, I or A (e.g. CI), got ${JSON.stringify(v)}`,
    );
  return v;
}

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
  requests: (v) => positive('--requests')(scalar(v)),
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
  pipelining: (v) => positive('--pipelining')(scalar(v)),
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

export function replayCommand(ctx: RunContext): Command {
  const cmd = new Command('replay')
    .summary('replay a trace against AJP or HTTP targets as a load test')
    .description(
      'Sends the exchanges of a trace (written by import or record) to one or more targets and measures them: ' +
        'latency (time to headers, time to complete) overall, per route and per status class, throughput per second, ' +
        'errors by kind, bytes, and the share each backend served. ajp:// targets get the recorded Forward Requests ' +
        'as mod_jk sends them; http:// targets get the same requests as HTTP/1.1. Several --target share the load round robin.\n\n' +
        'Load models: closed loop (--concurrency N, the default), open loop at a constant rate (--rate 500/s; latency ' +
        'counts from when each request was due, so a stall is not hidden), or the recorded timing (--timing recorded ' +
        '--speed 2). A failing target is measured; a run in which no request got a response prints and writes its ' +
        'results, then exits 3. Ctrl-C stops the run and still reports.\n\n' +
        'Example: ajpbench replay captures/lab-mixed.trace.jsonl --target ajp://127.0.0.1:8009 --rate 200/s --duration 30s --loop',
    )
    .argument('<trace>', 'the trace file (.jsonl)')
    .option('--target <url>', 'ajp://host:port or http://host:port[/prefix]; repeatable', collect)
    .option(
      '--concurrency <n>',
      `concurrent requests (closed loop) or most in flight (open loop); connections per target (1-${MAX_CONCURRENCY})`,
      parseConcurrency('--concurrency'),
      16,
    )
    .option('--rate <rate>', `open loop at a constant rate, e.g. 500/s (at most ${MAX_RATE_PER_SECOND}/s)`, (v) =>
      parseBoundedRate(v, '--rate'),
    )
    .addOption(
      new Option('--timing <mode>', "recorded: keep the trace's inter-arrival times (open loop)")
        .choices(['closed', 'recorded'])
        .default('closed'),
    )
    .option(
      '--speed <factor>',
      `with --timing recorded: replay this many times faster (${MIN_SPEED}-${MAX_SPEED})`,
      parseSpeed,
      1,
    )
    .option('--duration <duration>', 'measure for this long after the warmup (e.g. 30s, 5m)', (v) =>
      parseDuration(v, '--duration'),
    )
    .option('--requests <n>', 'measure this many requests after the warmup', positive('--requests'))
    .addOption(
      new Option('--warmup <duration>', 'send for this long first without measuring')
        .argParser((v) => parseDuration(v, '--warmup', { zero: true }))
        .default(0, 'none'),
    )
    .option('--loop', 'cycle the trace until --duration or --requests (default --duration 30s)')
    .option(
      '--profile <name|file>',
      'options from a profile (bundled: smoke, steady, stress, soak, fairness-ci); flags win',
    )
    .option('--secret <secret>', 'AJP secret attribute (default: $AJP_SECRET when set)')
    .option(
      '--ping [modes]',
      'CPing as mod_jk ping_mode: C after connect, P before each request, I after idle, A all (default CI)',
      parsePing,
    )
    .addOption(
      new Option('--ping-timeout <duration>', 'wait this long for a CPong')
        .argParser((v) => parseDuration(v, '--ping-timeout'))
        .default(10_000, '10s'),
    )
    .addOption(
      new Option('--ping-interval <duration>', 'idle time after which I pings')
        .argParser((v) => parseDuration(v, '--ping-interval'))
        .default(100_000, '100s'),
    )
    .addOption(
      new Option('--connect-timeout <duration>', 'connection timeout')
        .argParser((v) => parseDuration(v, '--connect-timeout'))
        .default(5_000, '5s'),
    )
    .addOption(
      new Option('--timeout <duration>', 'request timeout (send to end of response)')
        .argParser((v) => parseDuration(v, '--timeout'))
        .default(30_000, '30s'),
    )
    .option(
      '--max-packet-size <bytes>',
      'largest AJP packet, header included (8192-65536)',
      (v) => parseInteger(v, '--max-packet-size'),
      8192,
    )
    .option('--rewrite-host <host[:port]>', 'replace the Host header (and AJP server_name/port)')
    .option('--header <header>', "set a request header, 'Name: value' (replaces one of that name); repeatable", collect)
    .option('--drop-header <name>', 'remove a request header; repeatable', collect)
    .option('--forwarded', 'http:// targets: send remote_addr, ssl and port as X-Forwarded-For/-Proto/-Host/-Port')
    .option('--pipelining <n>', 'http:// targets: requests in flight per connection', positive('--pipelining'), 1)
    .option(
      '--route-header <name>',
      'response header naming the backend (e.g. X-Served-By), when Set-Cookie names none',
    )
    .option('--verify', 'compare each response with the recorded one (status, body SHA-256, --verify-headers)')
    .option('--verify-headers <names>', 'response headers compared too (comma list; repeatable)', collectList)
    .option('--json <file>', 'write everything measured as JSON (histograms encoded, mergeable)')
    .option('--hgrm <file>', 'write the time-to-complete distribution in HdrHistogram text format (ms)')
    .option('--no-progress', 'no live progress line on stderr');
  addVerdictOptions(cmd);
  return cmd.action(async (trace: string, flags: ReplayFlags) => {
    if (flags.profile !== undefined) {
      const profile = loadProfile(flags.profile);
      const f = flags as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(profile)) {
        const src = cmd.getOptionValueSource(k);
        if (src !== 'cli' && src !== 'env') f[k] = v;
      }
    }
    const options = toReplayOptions(trace, flags);
    const stop = new AbortController();
    const onSignal = (): void => {
      process.stderr.write('\nreplay: stopping (Ctrl-C again to quit at once)\n');
      stop.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const tty = process.stderr.isTTY === true && flags.progress;
    let outcome;
    try {
      await startAt(flags, stop.signal, 'replay');
      // replay() throws only typed errors (UsageError, RuntimeError): main() maps them.
      outcome = await replay({
        ...options,
        signal: stop.signal,
        onIssue: (m) => process.stderr.write(`replay: ${m}\n`),
        ...(tty ? { onProgress: (p) => process.stderr.write(progressLine(p)) } : {}),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (tty) process.stderr.write('\n');
    const { report, results } = outcome;
    const name = options.targets.map((t) => t.label).join(' + ');
    if (flags.json !== undefined) writeOutput(flags.json, JSON.stringify(report, null, 2) + '\n');
    if (flags.hgrm !== undefined) writeOutput(flags.hgrm, renderHgrm(results.completeHistogram));
    process.stdout.write(renderReplayTable(report, { color: process.stdout.isTTY === true }));
    // Thresholds, --html and --junit from the final report (src/cli/verdict-options.ts).
    const verdict = finishLoadVerdicts(report, flags, 'replay', name);
    // Everything measured is out; a run that got no response at all (or none to measure) fails now.
    const failure = runFailure(report, 'replay', name);
    if (failure !== undefined) throw failure;
    ctx.exitCode = verdict === 1 ? ExitCode.VerdictFailed : ExitCode.Ok;
  });
}

export function toReplayOptions(trace: string, f: ReplayFlags): ReplayOptions {
  checkMaxPacketSizeFlag(f.maxPacketSize);
  if (f.target === undefined || f.target.length === 0)
    throw usageError('replay needs --target ajp://host:port or http://host:port (or a profile that names one)');
  const targets: Target[] = f.target.map((t) => {
    try {
      return parseTarget(t);
    } catch (e) {
      throw e instanceof UsageError ? new UsageError(`--target: ${e.message}`, e.code) : e;
    }
  });
  let model: LoadModel = 'closed';
  if (f.timing === 'recorded') {
    if (f.rate !== undefined) throw usageError('--rate and --timing recorded exclude each other: pick one schedule');
    model = 'recorded';
  } else if (f.rate !== undefined) model = 'open';
  let durationMs = f.duration ?? Infinity;
  if (f.loop === true && f.duration === undefined && f.requests === undefined) durationMs = 30_000;
  const headers = (f.header ?? []).map((h) => {
    try {
      return parseHeaderFlag(h);
    } catch (e) {
      throw usageError(`--header: ${(e as Error).message}`);
    }
  });
  const secret = f.secret ?? (process.env.AJP_SECRET || undefined);
  const ping: PingOptions | undefined =
    f.ping === undefined
      ? undefined
      : { modes: f.ping === true ? 'CI' : f.ping, timeoutMs: f.pingTimeout, intervalMs: f.pingInterval };
  return {
    trace,
    targets,
    model,
    concurrency: f.concurrency,
    ...(f.rate === undefined ? {} : { rate: f.rate }),
    speed: f.speed,
    limits: { warmupMs: f.warmup, durationMs, requests: f.requests ?? Infinity },
    loop: f.loop === true,
    rewrite: {
      ...(f.rewriteHost === undefined ? {} : { rewriteHost: f.rewriteHost }),
      ...(headers.length === 0 ? {} : { setHeaders: headers }),
      ...(f.dropHeader === undefined ? {} : { dropHeaders: f.dropHeader }),
    },
    ...(secret === undefined ? {} : { secret }),
    ...(ping === undefined ? {} : { ping }),
    maxPacketSize: f.maxPacketSize,
    connectTimeoutMs: f.connectTimeout,
    requestTimeoutMs: f.timeout,
    forwarded: f.forwarded === true,
    pipelining: f.pipelining,
    ...(f.routeHeader === undefined ? {} : { routeHeader: f.routeHeader }),
    ...(f.verify === true || (f.verifyHeaders?.length ?? 0) > 0 ? { verify: { headers: f.verifyHeaders ?? [] } } : {}),
  };
}
