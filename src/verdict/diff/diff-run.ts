/**
 * `ajpbench diff` as a library call: replays a recorded trace (or a sample of its sessions) against
 * a candidate, and a primary and a secondary when given, in lockstep per exchange (the two or three
 * copies of a request go out together, and the next exchange of that slot waits for all answers),
 * and feeds each set of answers to the DiffEngine. Without a primary, the recorded responses are
 * the primary: status, headers, and the body by SHA-256, or field by field when the trace kept
 * response bodies (`--bodies all`).
 *
 * A recorded primary from a redacted trace has its cookie and credential values replaced by
 * REDACTED: the candidate's answers are redacted the same way before the comparison, so that a
 * cookie differs only in what redaction keeps (its name, attributes, a JSESSIONID's route).
 *
 * Exchanges go in trace order, `concurrency` at a time. Throws only UsageError (options no run can
 * have) and RuntimeError (the trace cannot be read, AJPBENCH_ERR_INPUT; is not a trace,
 * AJPBENCH_ERR_TRACE); a target that does not answer is compared (candidate: `no-response`) or
 * dropped (primary), and counted.
 */
import { AjpbenchError, RuntimeError, UsageError, describeFileError, errnoCode } from '../../errors.js';
import { checkPort } from '../../host-port.js';
import { MAX_CONCURRENCY } from '../../load/limits.js';
import { toReplayRequest, type ReplayRequest, type RewriteOptions } from '../../load/replay-request.js';
import { responseFetcher, type FetchOptions } from '../../load/response-fetcher.js';
import type { Target } from '../../load/target.js';
import { exchangeProblem } from '../../trace/exchange-shape.js';
import {
  DEFAULT_DIFF_BODY_BYTES,
  isFailure,
  observedFromTrace,
  type Observed,
  type ObservedResponse,
} from '../../trace/observed-response.js';
import { redactHeaders } from '../../trace/redaction.js';
import { KeySampler, sessionOfEvent } from '../../trace/session-sample.js';
import { TraceFormatError } from '../../trace/trace-errors.js';
import { openTrace, type OpenTrace } from '../../trace/trace-reader.js';
import type { DiffEvent, ExchangeEvent, TraceHeader } from '../../trace/trace-types.js';
import { DiffEngine, diffEvent } from './diff-engine.js';
import type { DiffCounts, DiffSummary } from './diff-summary.js';
import type { HeaderRules } from './header-rules.js';

export interface DiffRunOptions {
  trace: string;
  /** Undefined: the trace's recorded responses are the primary. */
  primary?: Target;
  candidate: Target;
  /** A second copy of the primary's version: what it and the primary disagree on is noise. */
  secondary?: Target;
  /** Keep this share (0-1) of sessions (JSESSIONID without route; an exchange without one by its id), by seed. */
  sample?: { share: number; seed: string };
  /** Compare at most this many exchanges. */
  requests?: number;
  /** Exchanges in flight at once (each is sent to every target together). */
  concurrency?: number;
  rewrite?: RewriteOptions;
  headers?: HeaderRules;
  /** Fields never reported (DiffEngineOptions.ignoreFields). */
  ignoreFields?: readonly string[];
  secret?: string;
  maxPacketSize?: number;
  forwarded?: boolean;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Body bytes kept per answer for a field-level comparison. */
  maxBodyBytes?: number;
  signal?: AbortSignal;
  /**
   * Once the trace is open, before anything is sent: its header, and the run's start in µs since
   * the Unix epoch (diff events count their `t` from it). Awaited: a `-o` trace is created here.
   */
  onStart?: (header: TraceHeader, startUs: number) => Promise<void> | void;
  /** Each exchange that did not compare equal, as the trace's diff event (`t`: µs since the run start). */
  onDiff?: (e: DiffEvent) => void;
  /** After each exchange. */
  onProgress?: (p: DiffCounts) => void;
  /** Exchanges skipped and lines unreadable, the first few one by one. */
  onIssue?: (message: string) => void;
}

export interface DiffRunResult {
  summary: DiffSummary;
  targets: { primary: string; candidate: string; secondary: string | null };
  /** What was read of the trace and left out. */
  trace: {
    exchanges: number;
    sampledOut: number;
    skippedMalformed: number;
    skippedTruncated: number;
    unreadableLines: number;
  };
  /** Answers each target gave (a primary of recorded responses: every exchange sent). */
  answered: { primary: number; candidate: number; secondary: number | null };
  /** Exchanges sent (to every target). */
  sent: number;
  stoppedBy: 'end of trace' | 'requests' | 'Ctrl-C';
  startedAt: string;
  elapsedMs: number;
  header: TraceHeader;
}

/** What `ajpbench diff --json` writes as its result (and `ajpbench report` reads back): the run without the trace header. */
export interface DiffReport extends Omit<DiffRunResult, 'header'> {
  /** The trace replayed. */
  file: string;
  /** The share of sessions sampled (0-1), null for all. */
  sample: number | null;
}

export function toDiffReport(r: DiffRunResult, file: string, sample: number | null): DiffReport {
  const { header: _header, ...rest } = r;
  return { file, sample, ...rest };
}

export const RECORDED_PRIMARY = 'recorded responses';
export const MAX_DIFF_CONCURRENCY = 256;
const LISTED_ISSUES = 5;

export async function runDiff(o: DiffRunOptions): Promise<DiffRunResult> {
  const concurrency = checkOptions(o);
  const trace = await open(o.trace);
  const startDate = new Date();
  const startedAt = startDate.toISOString();
  // A failure here ends the command (the unread trace is closed with the process).
  await o.onStart?.(trace.header, startDate.getTime() * 1000);
  const started = performance.now();
  const engine = new DiffEngine({
    secondary: o.secondary !== undefined,
    ...(o.headers === undefined ? {} : { headers: o.headers }),
    ...(o.ignoreFields === undefined ? {} : { ignoreFields: o.ignoreFields }),
  });
  const fetchOpts: FetchOptions = {
    connectTimeoutMs: o.connectTimeoutMs ?? 5_000,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    maxBodyBytes: o.maxBodyBytes ?? DEFAULT_DIFF_BODY_BYTES,
    connections: concurrency,
    ...(o.secret === undefined ? {} : { secret: o.secret }),
    ...(o.maxPacketSize === undefined ? {} : { maxPacketSize: o.maxPacketSize }),
    ...(o.forwarded === true ? { forwarded: true } : {}),
  };
  const primary = o.primary === undefined ? undefined : responseFetcher(o.primary, fetchOpts);
  const candidate = responseFetcher(o.candidate, fetchOpts);
  const secondary = o.secondary === undefined ? undefined : responseFetcher(o.secondary, fetchOpts);
  const sampler = o.sample === undefined ? undefined : new KeySampler(o.sample.share, o.sample.seed);
  const counts = { exchanges: 0, sampledOut: 0, skippedMalformed: 0, skippedTruncated: 0, unreadableLines: 0 };
  const answered = { primary: 0, candidate: 0, secondary: secondary === undefined ? null : 0 };
  const issue = (nth: number, message: string, what: string): void => {
    if (nth <= LISTED_ISSUES) o.onIssue?.(message);
    else if (nth === LISTED_ISSUES + 1) o.onIssue?.(`more ${what} follow: counted in the summary, not listed`);
  };
  let sent = 0;
  let stoppedBy: DiffRunResult['stoppedBy'] = 'end of trace';
  const limit = o.requests ?? Infinity;
  const redactLive = primary === undefined && trace.header.options?.redact === true;

  /** One exchange: every target at once, then the comparison. */
  const one = async (ev: ExchangeEvent, req: ReplayRequest): Promise<void> => {
    const [p, fetched, s] = await Promise.all([
      primary === undefined ? recorded(ev) : primary.fetch(req),
      candidate.fetch(req),
      secondary?.fetch(req),
    ]);
    // A redacted recording compared with a live answer: the live cookie values are redacted alike.
    const c = redactLive && !isFailure(fetched) ? { ...fetched, headers: redactHeaders(fetched.headers) } : fetched;
    if (!isFailure(c)) answered.candidate++;
    if (s !== undefined && !isFailure(s) && answered.secondary !== null) answered.secondary++;
    if (isFailure(p)) {
      engine.drop(`primary gave no answer: ${p.error}`);
    } else {
      answered.primary++;
      const d = engine.compare({
        id: ev.id,
        uri: ev.request.uri,
        ...(ev.byteStrings === true ? { byteStrings: true } : {}),
        primary: p,
        candidate: c,
        ...(s === undefined ? {} : { secondary: s }),
      });
      if (d.outcome !== 'equal') o.onDiff?.(diffEvent(d, Math.round((performance.now() - started) * 1000)));
    }
    o.onProgress?.(engine.counts());
  };

  const inFlight = new Set<Promise<void>>();
  try {
    for await (const ev of trace.events) {
      if (ev.event !== 'exchange') continue;
      if (o.signal?.aborted === true) {
        stoppedBy = 'Ctrl-C';
        break;
      }
      if (sent >= limit) {
        stoppedBy = 'requests';
        break;
      }
      counts.exchanges++;
      const req = usable(ev, counts, o.rewrite, issue);
      if (req === undefined) continue;
      if (sampler !== undefined && !sampler.keeps(sessionOfEvent(ev) ?? `exchange ${ev.id}`)) {
        counts.sampledOut++;
        continue;
      }
      sent++;
      const p: Promise<void> = one(ev, req).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    if (o.signal?.aborted === true) stoppedBy = 'Ctrl-C';
  } catch (e) {
    throw readError(e, o.trace);
  } finally {
    await Promise.all(inFlight);
    await Promise.all([primary?.close(), candidate.close(), secondary?.close()]);
  }
  return {
    summary: engine.summary(),
    targets: {
      primary: o.primary?.label ?? RECORDED_PRIMARY,
      candidate: o.candidate.label,
      secondary: o.secondary?.label ?? null,
    },
    trace: counts,
    answered,
    sent,
    stoppedBy,
    startedAt,
    elapsedMs: performance.now() - started,
    header: trace.header,
  };

  async function open(file: string): Promise<OpenTrace> {
    try {
      return await openTrace(file, {
        onIssue: (e) => {
          counts.unreadableLines++;
          issue(counts.unreadableLines, e.message, 'unreadable lines');
        },
      });
    } catch (e) {
      throw readError(e, file);
    }
  }
}

/** The exchange as a request to send, or undefined (counted, the first few said) when it cannot be sent as recorded. */
function usable(
  ev: ExchangeEvent,
  counts: DiffRunResult['trace'],
  rewrite: RewriteOptions | undefined,
  issue: (nth: number, message: string, what: string) => void,
): ReplayRequest | undefined {
  if ((ev as { truncated?: unknown }).truncated !== undefined) {
    counts.skippedTruncated++;
    issue(
      counts.skippedTruncated,
      `exchange ${ev.id} skipped: the capture holds it only in part (truncated)`,
      'truncated exchanges',
    );
    return undefined;
  }
  let problem = exchangeProblem(ev);
  if (problem === undefined) {
    try {
      return toReplayRequest(ev, rewrite);
    } catch (e) {
      problem = (e as Error).message;
    }
  }
  counts.skippedMalformed++;
  issue(
    counts.skippedMalformed,
    `exchange ${typeof ev.id === 'number' ? ev.id : '?'} skipped: ${problem}`,
    'malformed exchanges',
  );
  return undefined;
}

/** The recorded response, in the wire strings a fetched answer has. */
function recorded(ev: ExchangeEvent): Promise<Observed> {
  const r: ObservedResponse = observedFromTrace(ev.response, ev.byteStrings === true);
  return Promise.resolve(r);
}

function checkOptions(o: DiffRunOptions): number {
  for (const t of [o.primary, o.candidate, o.secondary]) if (t !== undefined) checkPort(t.port, t.label);
  const c = o.concurrency ?? 1;
  if (!Number.isInteger(c) || c < 1 || c > Math.min(MAX_CONCURRENCY, MAX_DIFF_CONCURRENCY))
    throw new UsageError(`diff concurrency is 1 to ${MAX_DIFF_CONCURRENCY}, got ${c}`);
  if (o.sample !== undefined && !(o.sample.share > 0 && o.sample.share <= 1))
    throw new UsageError(`a sample is above 0% and at most 100%, got ${o.sample.share * 100}%`);
  if (o.requests !== undefined && !(o.requests >= 1)) throw new UsageError('diff requests is at least 1');
  return c;
}

function readError(e: unknown, file: string): unknown {
  if (e instanceof AjpbenchError) return e;
  if (e instanceof TraceFormatError)
    return new RuntimeError(`${file}: ${e.message}`, 'AJPBENCH_ERR_TRACE', { cause: e });
  if (/^E[A-Z0-9]+$/.test(errnoCode(e) ?? ''))
    return new RuntimeError(`cannot read ${file}: ${describeFileError(e)}`, 'AJPBENCH_ERR_INPUT', { cause: e });
  return e;
}
