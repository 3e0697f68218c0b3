/**
 * The load options, one set for every command that drives load (replay, compare, fairness, sweep):
 * the flags, defined here once; a --profile under them (load-profile.ts); the ReplayOptions they
 * make; and the run around the engine: --start-at, Ctrl-C (stops the run, which still reports) and
 * the mapping of what the trace reader throws.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import type { PingOptions } from '../load/ajp-client.js';
import { MAX_CONCURRENCY, MAX_RATE_PER_SECOND, MAX_SPEED, MIN_SPEED } from '../load/limits.js';
import { MAX_WORKERS } from '../load/parallel-replay.js';
import { HTTP_CLIENT_KINDS, type HttpClientKind, type LoadModel, type ReplayOptions } from '../load/replay.js';
import { parseHeaderFlag, type RewriteOptions } from '../load/replay-request.js';
import { parseTarget, type Target } from '../load/target.js';
import type { ReplayReport } from '../results/replay-report.js';
import { TraceFormatError } from '../trace/trace-errors.js';
import { runtimeError, usageError } from './exit-codes.js';
import { cannotRead } from './files.js';
import {
  checkMaxPacketSizeFlag,
  collect,
  collectList,
  parseBoundedRate,
  parseConcurrency,
  parseDuration,
  parseInteger,
  parsePing,
  parseSpeed,
  wholeNumber,
} from './options.js';
import { addStartAtOption, startAt, type StartAtFlags } from './start-at.js';
import { addVerdictOptions, type VerdictFlags } from './verdict-options.js';

export { applyProfile } from './load-profile.js';

export interface LoadFlags extends VerdictFlags, StartAtFlags {
  target?: string[];
  concurrency: number;
  workers: number;
  rate?: number;
  timing: 'closed' | 'recorded';
  speed: number;
  duration?: number;
  requests?: number;
  warmup: number;
  loop?: boolean;
  sessions?: boolean;
  includeTruncated?: boolean;
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
  httpClient: HttpClientKind;
  routeHeader?: string;
  verify?: boolean;
  verifyHeaders?: string[];
  json?: string;
  hgrm?: string;
  progress: boolean;
}

/**
 * Adds the load options to `cmd`, but the long flags in `exclude` (a command that writes its own
 * --json, or steps --concurrency itself), then --threshold, --html, --junit and --start-at.
 */
export function addLoadOptions(cmd: Command, exclude: readonly string[] = []): Command {
  for (const opt of loadOptionList()) {
    if (opt.long === undefined || !exclude.includes(opt.long)) cmd.addOption(opt);
  }
  return addStartAtOption(addVerdictOptions(cmd));
}

/** The load options, as replay lists them in --help (new Option objects on every call: one set per command). */
function loadOptionList(): Option[] {
  return [
    new Option('--target <url>', 'ajp://host:port or http://host:port[/prefix]; repeatable').argParser(collect),
    new Option(
      '--concurrency <n>',
      `concurrent requests (closed loop) or most in flight (open loop); connections per target (1-${MAX_CONCURRENCY})`,
    )
      .argParser(parseConcurrency('--concurrency'))
      .default(16),
    new Option(
      '--workers <n>',
      `threads that share the load, each with its own connections and event loop (1-${MAX_WORKERS}); results are merged exactly`,
    )
      .argParser(wholeNumber('--workers', { min: 1, max: MAX_WORKERS }))
      .default(1),
    new Option(
      '--rate <rate>',
      `open loop at a constant rate, e.g. 500/s (at most ${MAX_RATE_PER_SECOND}/s)`,
    ).argParser((v) => parseBoundedRate(v, '--rate')),
    new Option('--timing <mode>', "recorded: keep the trace's inter-arrival times (open loop)")
      .choices(['closed', 'recorded'])
      .default('closed'),
    new Option('--speed <factor>', `with --timing recorded: replay this many times faster (${MIN_SPEED}-${MAX_SPEED})`)
      .argParser(parseSpeed)
      .default(1),
    new Option('--duration <duration>', 'measure for this long after the warmup (e.g. 30s, 5m)').argParser((v) =>
      parseDuration(v, '--duration'),
    ),
    new Option('--requests <n>', 'measure this many requests after the warmup').argParser(
      wholeNumber('--requests', { min: 1 }),
    ),
    new Option('--warmup <duration>', 'send for this long first without measuring')
      .argParser((v) => parseDuration(v, '--warmup', { zero: true }))
      .default(0, 'none'),
    new Option('--loop', 'cycle the trace until --duration or --requests (default --duration 30s)'),
    new Option(
      '--sessions',
      "replay session by session: each recorded JSESSIONID's exchanges in order, one at a time, with the target's own session cookie",
    ),
    new Option(
      '--include-truncated',
      'also replay exchanges a damaged capture holds only in part (trace `truncated`), as far as known',
    ),
    new Option(
      '--profile <name|file>',
      'options from a profile (bundled: smoke, steady, stress, soak, fairness-ci); flags win',
    ),
    new Option('--secret <secret>', 'AJP secret attribute (default: $AJP_SECRET when set)'),
    new Option(
      '--ping [modes]',
      'CPing as mod_jk ping_mode: C after connect, P before each request, I after idle, A all (default CI)',
    ).argParser(parsePing),
    new Option('--ping-timeout <duration>', 'wait this long for a CPong')
      .argParser((v) => parseDuration(v, '--ping-timeout'))
      .default(10_000, '10s'),
    new Option('--ping-interval <duration>', 'idle time after which I pings')
      .argParser((v) => parseDuration(v, '--ping-interval'))
      .default(100_000, '100s'),
    new Option('--connect-timeout <duration>', 'connection timeout')
      .argParser((v) => parseDuration(v, '--connect-timeout'))
      .default(5_000, '5s'),
    new Option('--timeout <duration>', 'request timeout (send to end of response)')
      .argParser((v) => parseDuration(v, '--timeout'))
      .default(30_000, '30s'),
    new Option('--max-packet-size <bytes>', 'largest AJP packet, header included (8192-65536)')
      .argParser((v) => parseInteger(v, '--max-packet-size'))
      .default(8192),
    new Option('--rewrite-host <host[:port]>', 'replace the Host header (and AJP server_name/port)'),
    new Option(
      '--header <header>',
      "set a request header, 'Name: value' (replaces one of that name); repeatable",
    ).argParser(collect),
    new Option('--drop-header <name>', 'remove a request header; repeatable').argParser(collect),
    new Option('--forwarded', 'http:// targets: send remote_addr, ssl and port as X-Forwarded-For/-Proto/-Host/-Port'),
    new Option('--pipelining <n>', 'http:// targets: requests in flight per connection')
      .argParser(wholeNumber('--pipelining', { min: 1 }))
      .default(1),
    new Option(
      '--http-client <client>',
      'http:// targets: net (lean HTTP/1.1 on sockets, pre-encoded requests) or undici',
    )
      .choices(HTTP_CLIENT_KINDS)
      .default('net'),
    new Option(
      '--route-header <name>',
      'response header naming the backend (e.g. X-Served-By), when Set-Cookie names none',
    ),
    new Option('--verify', 'compare each response with the recorded one (status, body SHA-256, --verify-headers)'),
    new Option('--verify-headers <names>', 'response headers compared too (comma list; repeatable)').argParser(
      collectList,
    ),
    new Option('--json <file>', 'write everything measured as JSON (histograms encoded, mergeable)'),
    new Option('--hgrm <file>', 'write the time-to-complete distribution in HdrHistogram text format (ms)'),
    new Option('--no-progress', 'no live progress line on stderr'),
  ];
}

/** The engine's options from the flags (replay: the trace once, unless --loop). */
export function toReplayOptions(trace: string, f: LoadFlags): ReplayOptions {
  checkMaxPacketSizeFlag(f.maxPacketSize);
  const secret = f.secret ?? (process.env.AJP_SECRET || undefined);
  const ping = pingFrom(f);
  return {
    trace,
    targets: targetsFrom(f.target),
    model: loadModelFrom(f),
    concurrency: f.concurrency,
    workers: f.workers,
    ...(f.rate === undefined ? {} : { rate: f.rate }),
    speed: f.speed,
    limits: { warmupMs: f.warmup, durationMs: durationMsFrom(f), requests: f.requests ?? Infinity },
    loop: f.loop === true,
    ...(f.sessions === true ? { sessions: true } : {}),
    ...(f.includeTruncated === true ? { includeTruncated: true } : {}),
    rewrite: rewriteFrom(f),
    ...(secret === undefined ? {} : { secret }),
    ...(ping === undefined ? {} : { ping }),
    maxPacketSize: f.maxPacketSize,
    connectTimeoutMs: f.connectTimeout,
    requestTimeoutMs: f.timeout,
    forwarded: f.forwarded === true,
    pipelining: f.pipelining,
    httpClient: f.httpClient,
    ...(f.routeHeader === undefined ? {} : { routeHeader: f.routeHeader }),
    ...(f.verify === true || (f.verifyHeaders?.length ?? 0) > 0 ? { verify: { headers: f.verifyHeaders ?? [] } } : {}),
  };
}

/**
 * The engine's options for the verdict commands (compare, fairness, sweep): with neither
 * --duration nor --requests, `defaults` apply, and the trace is always cycled (--loop): a run is
 * as long as its limit says, not as the trace happens to be.
 */
export function loadOptions(
  trace: string,
  flags: LoadFlags,
  defaults: { durationMs?: number; requests?: number } = {},
): ReplayOptions {
  const f: LoadFlags = { ...flags, loop: true };
  if (f.duration === undefined && f.requests === undefined) {
    if (defaults.durationMs !== undefined) f.duration = defaults.durationMs;
    if (defaults.requests !== undefined) f.requests = defaults.requests;
  }
  return toReplayOptions(trace, f);
}

function targetsFrom(urls: string[] | undefined): Target[] {
  if (urls === undefined || urls.length === 0)
    throw usageError('replay needs --target ajp://host:port or http://host:port (or a profile that names one)');
  return urls.map((t) => {
    try {
      return parseTarget(t);
    } catch (e) {
      throw e instanceof UsageError ? new UsageError(`--target: ${e.message}`, e.code) : e;
    }
  });
}

function loadModelFrom(f: LoadFlags): LoadModel {
  if (f.timing === 'recorded') {
    if (f.rate !== undefined) throw usageError('--rate and --timing recorded exclude each other: pick one schedule');
    return 'recorded';
  }
  return f.rate !== undefined ? 'open' : 'closed';
}

/** --duration; --loop without a limit runs 30 s; otherwise the trace (or --requests) ends the run. */
function durationMsFrom(f: LoadFlags): number {
  if (f.loop === true && f.duration === undefined && f.requests === undefined) return 30_000;
  return f.duration ?? Infinity;
}

/** --header, --drop-header and --rewrite-host as the request rewrite (replay's and diff's). */
export function rewriteFrom(f: Pick<LoadFlags, 'header' | 'rewriteHost' | 'dropHeader'>): RewriteOptions {
  const headers = (f.header ?? []).map((h) => {
    try {
      return parseHeaderFlag(h);
    } catch (e) {
      throw usageError(`--header: ${(e as Error).message}`);
    }
  });
  return {
    ...(f.rewriteHost === undefined ? {} : { rewriteHost: f.rewriteHost }),
    ...(headers.length === 0 ? {} : { setHeaders: headers }),
    ...(f.dropHeader === undefined ? {} : { dropHeaders: f.dropHeader }),
  };
}

function pingFrom(f: LoadFlags): PingOptions | undefined {
  if (f.ping === undefined) return undefined;
  return { modes: f.ping === true ? 'CI' : f.ping, timeoutMs: f.pingTimeout, intervalMs: f.pingInterval };
}

/**
 * Runs a load command's measurement: --start-at waits first (a Ctrl-C during the wait ends the
 * command with AJPBENCH_ERR_INTERRUPTED); Ctrl-C (or SIGTERM) during the run aborts `signal`, and
 * the command still reports what was measured; what the trace reader throws is mapped (loadError).
 */
export async function runLoad<T>(
  name: string,
  trace: string,
  flags: StartAtFlags,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const stop = stopOnSignal(name);
  try {
    await startAt(flags, stop.signal, name);
    return await run(stop.signal);
  } catch (e) {
    throw loadError(e, trace);
  } finally {
    stop.done();
  }
}

/** One run (a round of compare, a step of sweep) in one line of progress. */
export function runLine(r: ReplayReport): string {
  const p99Ms = (r.latency.timeToCompleteUs.p99 ?? 0) / 1000;
  return `${r.requests.perSecond.toFixed(1)} responses/s, p99 ${p99Ms.toFixed(2)} ms, ${r.requests.errors} errors`;
}

/** Ctrl-C stops the run (the current replay ends and reports); the returned function unhooks. */
function stopOnSignal(name: string): { signal: AbortSignal; done: () => void } {
  const stop = new AbortController();
  const onSignal = (): void => {
    process.stderr.write(`\n${name}: stopping (Ctrl-C again to quit at once)\n`);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    done: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * What the replay engine throws is typed already (UsageError for options, RuntimeError for the
 * trace: src/load/replay.ts); this maps what a caller may still meet from the trace reader itself.
 * Never a class of Node error as a whole: a RangeError or an ERR_* code is a bug, not a bad flag.
 */
function loadError(e: unknown, trace: string): unknown {
  if (e instanceof TraceFormatError) return runtimeError(`${trace}: ${e.message}`, 'AJPBENCH_ERR_TRACE');
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return cannotRead(trace, e);
  return e;
}
