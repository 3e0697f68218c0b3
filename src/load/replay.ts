/**
 * replay(): the library entry behind `ajpbench replay`. Opens the trace as a streaming source,
 * builds one client per target, runs the chosen scheduler with ReplayResults as its sink, and
 * returns the report. A dead or failing target is measured (errors by kind), never thrown (the
 * caller decides what a run with no response means: src/load/no-response.ts). It throws only
 * UsageError for options no run can have, and RuntimeError for a trace that cannot be opened
 * (AJPBENCH_ERR_INPUT) or is not a trace (AJPBENCH_ERR_TRACE).
 */
import { AjpbenchError, RuntimeError, UsageError, describeFileError, errnoCode } from '../errors.js';
import { checkPort } from '../host-port.js';
import { TraceFormatError } from '../trace/trace-errors.js';
import { AjpClient, CPING_TRIES, type PingOptions } from './ajp-client.js';
import { AjpRequestEncoder } from './ajp-connection.js';
import { GeneratorMonitor } from './generator-monitor.js';
import { HttpClient } from './http-client.js';
import { Http1Client } from './http1-client.js';
import { MAX_TIMER_MS, MAX_SPEED, MIN_SPEED, checkConcurrency, checkRate, timerMs } from './limits.js';
import type { LoadClient } from './load-client.js';
import { ConstantPacer, RecordedPacer } from './pacer.js';
import type { RewriteOptions } from './replay-request.js';
import { generatorWarning, judgeGenerator } from '../results/generator-report.js';
import { sessionsWarning, type ProgressSnapshot, type ReplayReport } from '../results/replay-report.js';
import { ReplayResults } from './replay-results.js';
import { TraceRequestSource } from './request-source.js';
import { SessionRequestSource } from './session-source.js';
import { responseVerifier } from './response-verifier.js';
import { ClosedLoopScheduler, OpenLoopScheduler, type RunLimits, type SchedulerOptions } from './schedulers.js';
import type { Target } from './target.js';

export type LoadModel = 'closed' | 'open' | 'recorded';

/** `net`: Http1Client (pre-encoded requests, its own parser); `undici`: HttpClient on undici's dispatch(). */
export const HTTP_CLIENT_KINDS = ['net', 'undici'] as const;
export type HttpClientKind = (typeof HTTP_CLIENT_KINDS)[number];

export interface ReplayOptions {
  trace: string;
  targets: Target[];
  model: LoadModel;
  /** Closed loop: concurrent requests; open loop: most in flight. Also connections per target. */
  concurrency: number;
  /** Open loop: requests per second. */
  rate?: number;
  /** Recorded timing: speed factor (2 = twice as fast). */
  speed?: number;
  limits: RunLimits;
  loop?: boolean;
  /** Replay `truncated` exchanges too (as far as known); by default they are skipped and counted. */
  includeTruncated?: boolean;
  rewrite?: RewriteOptions;
  /** AJP secret attribute (§8). */
  secret?: string;
  ping?: PingOptions;
  maxPacketSize?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** HTTP targets: X-Forwarded-* from the AJP-only facts. */
  forwarded?: boolean;
  /** HTTP targets: requests per connection in flight (1: no pipelining). */
  pipelining?: number;
  /** HTTP targets: the lean client on net (the default) or undici's (HttpClient). */
  httpClient?: HttpClientKind;
  /** Lowercase name of a header naming the backend (X-Served-By). */
  routeHeader?: string;
  /** Compare responses with the recorded ones; `headers`: lowercase names to compare too. */
  verify?: { headers: string[] };
  /** --workers (load/parallel-replay.ts): threads that share the load; 1 (the default) is this thread. */
  workers?: number;
  /**
   * Replay the trace session by session (load/session-source.ts): each recorded JSESSIONID's
   * exchanges in order, one at a time, with a cookie jar that carries the target's own session id.
   */
  sessions?: boolean;
  /** Set by parallel-replay for each worker: its share of the requests and of the open-loop schedule. */
  stride?: { every: number; offset: number };
  signal?: AbortSignal;
  onProgress?: (p: ProgressSnapshot) => void;
  progressIntervalMs?: number;
  /** Exchanges skipped as unreadable, and similar notes. */
  onIssue?: (message: string) => void;
  now?: () => number;
}

export interface ReplayOutcome {
  report: ReplayReport;
  results: ReplayResults;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export async function replay(opts: ReplayOptions): Promise<ReplayOutcome> {
  checkOptions(opts);
  const l = opts.limits;
  const now = opts.now ?? (() => performance.now());
  const trace = await openSource(opts);
  const source = opts.sessions === true ? await sessionSource(trace, opts) : trace;
  const connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const common = {
    connections: opts.concurrency,
    connectTimeoutMs,
    requestTimeoutMs,
    now,
    ...(opts.routeHeader === undefined ? {} : { routeHeader: opts.routeHeader.toLowerCase() }),
    ...(opts.verify === undefined ? {} : { verify: { headers: opts.verify.headers.map((h) => h.toLowerCase()) } }),
  };
  let encoder: AjpRequestEncoder | undefined;
  const clients: LoadClient[] = opts.targets.map((t) => {
    if (t.protocol === 'ajp') {
      encoder ??= new AjpRequestEncoder({
        ...(opts.secret === undefined ? {} : { secret: opts.secret }),
        ...(opts.maxPacketSize === undefined ? {} : { maxPacketSize: opts.maxPacketSize }),
      });
      return new AjpClient({
        ...common,
        host: t.host,
        port: t.port,
        label: t.label,
        encoder,
        ...(opts.ping === undefined ? {} : { ping: opts.ping }),
      });
    }
    const http = {
      ...common,
      host: t.host,
      port: t.port,
      prefix: t.prefix,
      label: t.label,
      forwarded: opts.forwarded === true,
      pipelining: opts.pipelining ?? 1,
    };
    return opts.httpClient === 'undici' ? new HttpClient(http) : new Http1Client(http);
  });
  const results = new ReplayResults(
    opts.targets.map((t) => t.label),
    opts.verify !== undefined,
    opts.sessions === true,
  );
  const schedOpts: SchedulerOptions = {
    clients,
    source,
    sink: results,
    limits: l,
    concurrency: opts.concurrency,
    drainMs: drainMs(connectTimeoutMs, requestTimeoutMs, opts.ping),
    now,
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onIssue === undefined ? {} : { onIssue: opts.onIssue }),
    ...(opts.verify === undefined ? {} : { verify: responseVerifier(common.verify?.headers ?? []) }),
  };
  const scheduler =
    opts.model === 'closed'
      ? new ClosedLoopScheduler(schedOpts)
      : new OpenLoopScheduler(
          schedOpts,
          opts.model === 'open'
            ? new ConstantPacer(opts.rate as number, opts.stride)
            : new RecordedPacer(source, opts.speed ?? 1),
        );
  const startedAt = new Date().toISOString();
  results.begin(now(), l.warmupMs);
  const progress =
    opts.onProgress === undefined
      ? undefined
      : setInterval(
          () => opts.onProgress?.(results.progress(now())),
          Math.max(10, timerMs(opts.progressIntervalMs ?? 1000)),
        );
  progress?.unref();
  const monitor = new GeneratorMonitor();
  monitor.start(now());
  let schedule;
  let sample;
  try {
    schedule = await scheduler.run();
  } finally {
    sample = monitor.stop(now());
    if (progress !== undefined) clearInterval(progress);
    source.close();
    await Promise.all(clients.map((c) => c.close()));
  }
  const connections = clients.map((c, i) => ({ target: opts.targets[i]?.label ?? c.label, ...c.connectionStats() }));
  const report = results.report(
    schedule,
    connections,
    {
      ...describe(opts, trace.perPass, trace.skipped),
      ...trace.skips(),
      ...(source instanceof SessionRequestSource ? { sessionsInTrace: source.inTrace } : {}),
    },
    startedAt,
  );
  const skipped = trace.skipNote();
  if (skipped !== undefined) report.warnings.push(skipped);
  report.generator = judgeGenerator(
    sample,
    report.latency.timeToCompleteUs.p50,
    report.schedule.lateSends,
    report.schedule.sent,
  );
  const moved = sessionsWarning(report.sessions);
  if (moved !== undefined) report.warnings.push(moved);
  const bound = generatorWarning(report.generator);
  if (bound !== undefined) report.warnings.unshift(bound);
  return { report, results };
}

/**
 * How long requests in flight may take once the schedule ended: the longest a request can live.
 * Its response deadline counts from the send, so it is the connect (and with --ping, the CPing)
 * on each try, or the request timeout, whichever ends later; plus a second of slack.
 */
function drainMs(connectMs: number, requestMs: number, ping: PingOptions | undefined): number {
  const acquire = ping === undefined ? connectMs : CPING_TRIES * (connectMs + ping.timeoutMs);
  return Math.max(acquire, requestMs) + connectMs + 1000;
}

/**
 * --sessions: the whole trace read and grouped into sessions, before the clock starts. A --workers
 * thread takes whole sessions (the stride applies to them, not to requests).
 */
async function sessionSource(trace: TraceRequestSource, opts: ReplayOptions): Promise<SessionRequestSource> {
  try {
    return await SessionRequestSource.load(trace, {
      order: opts.model === 'recorded' ? 'recorded' : 'continuing',
      loop: opts.loop === true,
      ...(opts.stride === undefined ? {} : { stride: opts.stride }),
      ...(opts.onIssue === undefined ? {} : { onIssue: opts.onIssue }),
    });
  } catch (e) {
    trace.close();
    throw e;
  }
}

/** The trace as a request source; a file that cannot be read or is not a trace is a RuntimeError. */
async function openSource(opts: ReplayOptions): Promise<TraceRequestSource> {
  // --sessions reads the trace once, in file order, and does its own ordering, looping and striding.
  const sessions = opts.sessions === true;
  try {
    return await TraceRequestSource.open(opts.trace, {
      loop: opts.loop === true && !sessions,
      ...(opts.includeTruncated === true ? { includeTruncated: true } : {}),
      ...(opts.rewrite === undefined ? {} : { rewrite: opts.rewrite }),
      orderWindow: opts.model === 'recorded' && !sessions ? 4096 : 0,
      ...(opts.stride === undefined || sessions ? {} : { stride: opts.stride }),
      ...(opts.onIssue === undefined ? {} : { onIssue: opts.onIssue }),
    });
  } catch (e) {
    if (e instanceof AjpbenchError) throw e;
    if (e instanceof TraceFormatError)
      throw new RuntimeError(`${opts.trace}: ${e.message}`, 'AJPBENCH_ERR_TRACE', { cause: e });
    // System errors only (ENOENT, EISDIR, EACCES ...): Node's own ERR_* codes are bugs, not files.
    if (/^E[A-Z0-9]+$/.test(errnoCode(e) ?? ''))
      throw new RuntimeError(`cannot read ${opts.trace}: ${describeFileError(e)}`, 'AJPBENCH_ERR_INPUT', { cause: e });
    throw e;
  }
}

/**
 * Options no run can have are usage errors, found here before anything is opened (the CLI checks
 * its flags first, with the flag's name; this guards the library entry).
 */
function checkOptions(o: ReplayOptions): void {
  if (o.targets.length === 0) throw new UsageError('replay needs at least one target');
  for (const t of o.targets) checkPort(t.port, t.label);
  checkConcurrency(o.concurrency);
  const l = o.limits;
  if (o.loop === true && l.durationMs === Infinity && l.requests === Infinity)
    throw new UsageError('--loop needs a limit: --duration or --requests');
  if (!(l.warmupMs >= 0 && l.warmupMs <= MAX_TIMER_MS))
    throw new UsageError(`the warmup takes 0 to ${MAX_TIMER_MS} ms, got ${l.warmupMs}`);
  if (!(l.durationMs > 0)) throw new UsageError(`the duration must be above 0, got ${l.durationMs}`);
  if (!(l.requests >= 1)) throw new UsageError(`the request limit must be at least 1, got ${l.requests}`);
  if (o.model === 'open') checkRate(o.rate ?? NaN);
  if (o.model === 'recorded' && o.speed !== undefined && !(o.speed >= MIN_SPEED && o.speed <= MAX_SPEED)) {
    throw new UsageError(`speed takes a factor from ${MIN_SPEED} to ${MAX_SPEED}, got ${o.speed}`);
  }
  for (const [name, ms] of [
    ['connect timeout', o.connectTimeoutMs],
    ['request timeout', o.requestTimeoutMs],
    ['ping timeout', o.ping?.timeoutMs],
    ['ping interval', o.ping?.intervalMs],
  ] as const) {
    if (ms !== undefined && !(ms > 0 && ms <= MAX_TIMER_MS))
      throw new UsageError(`the ${name} takes above 0 to ${MAX_TIMER_MS} ms, got ${ms}`);
  }
  if (o.pipelining !== undefined && !(Number.isInteger(o.pipelining) && o.pipelining >= 1))
    throw new UsageError(`pipelining takes a whole number of at least 1, got ${o.pipelining}`);
  if (o.httpClient !== undefined && !HTTP_CLIENT_KINDS.includes(o.httpClient))
    throw new UsageError(`the HTTP client is one of ${HTTP_CLIENT_KINDS.join(', ')}, got ${String(o.httpClient)}`);
}

/** The settings as they go into the JSON report (never the secret itself). */
function describe(o: ReplayOptions, perPass: number | undefined, skipped: number): Record<string, unknown> {
  const lim = (v: number): number | null => (v === Infinity ? null : v);
  return {
    trace: o.trace,
    exchangesPerPass: perPass ?? null,
    skippedExchanges: skipped,
    targets: o.targets.map((t) => t.label),
    model: o.model,
    concurrency: o.concurrency,
    workers: o.workers ?? 1,
    rate: o.rate ?? null,
    speed: o.model === 'recorded' ? (o.speed ?? 1) : null,
    warmupMs: o.limits.warmupMs,
    durationMs: lim(o.limits.durationMs),
    requests: lim(o.limits.requests),
    loop: o.loop === true,
    sessions: o.sessions === true,
    secret: o.secret === undefined ? false : true,
    ping: o.ping ?? null,
    forwarded: o.forwarded === true,
    pipelining: o.pipelining ?? 1,
    httpClient: o.targets.some((t) => t.protocol !== 'ajp') ? (o.httpClient ?? 'net') : null,
    routeHeader: o.routeHeader ?? null,
    verify: o.verify ?? null,
    // Header names only: a --header value may be a credential.
    rewrite: {
      rewriteHost: o.rewrite?.rewriteHost ?? null,
      setHeaders: (o.rewrite?.setHeaders ?? []).map(([n]) => n),
      dropHeaders: o.rewrite?.dropHeaders ?? [],
    },
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
}
