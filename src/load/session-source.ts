/**
 * `--sessions`: the trace replayed session by session. Each recorded session (its JSESSIONID
 * without the route, trace/session-sample.ts) is one unit: its exchanges in recorded order, one at
 * a time (concurrency across sessions, never inside one), with a cookie jar (load/session-jar.ts)
 * that carries the JSESSIONID the target hands out. Exchanges without a session are units of one,
 * scheduled as without --sessions.
 *
 * A session's next request is handed out only once the previous one ended (`ended`, called by the
 * scheduler before it takes the next request). Which ready request goes first:
 * - `continuing`: sessions already under way, in the order they became ready, before a new one
 *   starts (closed loop and constant rate: N workers behave as N users, each going through a
 *   session to its end, rather than opening every session at once);
 * - `recorded`: the earliest recorded time (recorded timing); a request taken before it was due
 *   can be put back (`putBack`), so that a session that became ready in the meantime with an
 *   earlier time goes first.
 *
 * Grouping needs every exchange of a session before the session starts, so the trace is read
 * into memory first (at most MAX_SESSION_EXCHANGES exchanges); a loop cycles it there.
 */
import { RuntimeError } from '../errors.js';
import { MinHeap, REDACTED, sessionOfExchange, type HeaderPair } from '../trace/index.js';
import type { ReplayRequest } from './replay-request.js';
import type { RequestSource, TraceRequestSource } from './request-source.js';
import type { RequestResult, SessionTag } from './request-result.js';
import { sessionRequest } from './session-jar.js';

/** The most exchanges a session replay holds in memory (about 1-2 KB each). */
export const MAX_SESSION_EXCHANGES = 1_000_000;

export type SessionOrder = 'continuing' | 'recorded';

export interface SessionSourceOptions {
  order: SessionOrder;
  loop: boolean;
  /** --workers: this worker replays units offset, offset + every, ... (whole sessions). */
  stride?: { every: number; offset: number };
  onIssue?: (message: string) => void;
}

/** A session's exchanges (key set), or one exchange without a session (key null). */
interface Unit {
  key: string | null;
  requests: ReplayRequest[];
}

interface Running {
  tag: SessionTag;
  unit: Unit;
  /** The step handed out next. */
  next: number;
  /** The JSESSIONID the target set (route included); null before it set one. */
  cookie: string | null;
  /** When the previous step ended (run clock ms). */
  readyMs: number | undefined;
}

interface Ready {
  order: number;
  loop: number;
  /** A running session whose next step is ready, or a put-back request (`req` set). */
  run: Running | null;
  req: ReplayRequest | null;
}

export class SessionRequestSource implements RequestSource {
  loop = 0;
  readonly firstT: number;
  readonly passSpanUs: number | undefined;
  /** Units this thread replays (sessions and single exchanges), and sessions among them. */
  readonly units: number;
  readonly sessions: number;
  /** What the whole trace holds (every thread's share): sessions, their exchanges, and exchanges without one. */
  readonly inTrace: { sessions: number; exchanges: number; sessionless: number };
  private readonly list: Unit[];
  private nextUnit = 0;
  private instances = 0;
  private readySeq = 0;
  private readonly ready = new MinHeap<Ready>((a, b) => a.order < b.order);
  private readonly running = new Map<number, Running>();
  /** Running sessions with steps still to hand out (in flight or ready). */
  private unfinished = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly endWaiters: (() => void)[] = [];
  private closed = false;

  private constructor(
    private readonly trace: TraceRequestSource,
    units: Unit[],
    private readonly opts: SessionSourceOptions,
  ) {
    this.firstT = trace.firstT;
    this.passSpanUs = trace.passSpanUs;
    const stride = opts.stride ?? { every: 1, offset: 0 };
    this.list = units.filter((_, i) => i % stride.every === stride.offset);
    this.units = this.list.length;
    this.sessions = this.list.filter((u) => u.key !== null).length;
    const withKey = units.filter((u) => u.key !== null);
    this.inTrace = {
      sessions: withKey.length,
      exchanges: withKey.reduce((n, u) => n + u.requests.length, 0),
      sessionless: units.length - withKey.length,
    };
  }

  /**
   * Reads the whole trace from `trace` (opened without loop or stride) and groups its exchanges
   * into sessions. Throws RuntimeError AJPBENCH_ERR_SESSIONS past MAX_SESSION_EXCHANGES.
   */
  static async load(trace: TraceRequestSource, opts: SessionSourceOptions): Promise<SessionRequestSource> {
    const bySession = new Map<string, Unit>();
    const units: Unit[] = [];
    let redacted = 0;
    let n = 0;
    for (;;) {
      const req = trace.next();
      if (req === undefined) {
        if (trace.exhausted) break;
        await trace.waitForMore();
        continue;
      }
      if (++n > MAX_SESSION_EXCHANGES) {
        trace.close();
        throw new RuntimeError(
          `--sessions holds the trace in memory, at most ${MAX_SESSION_EXCHANGES} exchanges; this one has more ` +
            '(replay a part of it, or replay without --sessions)',
          'AJPBENCH_ERR_SESSIONS',
        );
      }
      let key = sessionOfRequest(req);
      if (key === REDACTED) {
        // A redacted trace keeps only the route: every session would look like one.
        redacted++;
        key = null;
      }
      if (key === null) {
        units.push({ key: null, requests: [req] });
        continue;
      }
      const unit = bySession.get(key);
      if (unit === undefined) {
        const u: Unit = { key, requests: [req] };
        bySession.set(key, u);
        units.push(u);
      } else unit.requests.push(req);
    }
    if (redacted > 0)
      opts.onIssue?.(
        `${redacted} exchange${redacted === 1 ? '' : 's'} carry a redacted session id (${REDACTED}): sessions cannot be told apart, ` +
          'so they are replayed as exchanges without a session (a trace redacted before format 1.2; one recorded or ' +
          'imported now keeps a pseudonym per session)',
      );
    if (bySession.size === 0 && n > 0 && redacted < n)
      opts.onIssue?.(
        'no exchange of the trace belongs to a session (no JSESSIONID in a Cookie, a ;jsessionid= parameter or a ' +
          'Set-Cookie): --sessions replays it as without',
      );
    // A trace lists exchanges as they completed: a session's in the order they were sent, and the
    // sessions in the order they began (Array.prototype.sort is stable).
    for (const u of bySession.values()) u.requests.sort((a, b) => a.t - b.t);
    units.sort((a, b) => (a.requests[0] as ReplayRequest).t - (b.requests[0] as ReplayRequest).t);
    return new SessionRequestSource(trace, units, opts);
  }

  get exhausted(): boolean {
    return this.closed || (!this.unitsLeft() && this.ready.size === 0 && this.unfinished === 0);
  }

  next(): ReplayRequest | undefined {
    if (this.closed) return undefined;
    const more = this.unitsLeft();
    const top = this.ready.peek();
    if (top !== undefined && (!more || this.opts.order === 'continuing' || top.order <= this.unitOrder())) {
      this.ready.pop();
      this.loop = top.loop;
      return top.req ?? this.step(top.run as Running);
    }
    return more ? this.startUnit() : undefined;
  }

  /** Takes back a request handed out by next() but not sent (it was not yet due): next() gives it again in its turn. */
  putBack(req: ReplayRequest): void {
    const run = req.session === undefined ? null : (this.running.get(req.session.instance) ?? null);
    const loop = req.session?.pass ?? this.loop;
    const order = this.opts.order === 'recorded' ? this.recordedOrder(req, loop) : this.readySeq++;
    this.ready.push({ order, loop, run, req });
  }

  /** The scheduler's word that a request ended (or was dropped): its session's next step is ready. */
  ended(req: ReplayRequest, rec: RequestResult): void {
    const tag = req.session;
    if (tag === undefined) return;
    const run = this.running.get(tag.instance);
    if (run === undefined) return;
    // '' is a Set-Cookie that cleared the session (invalidated): the next request starts a new one.
    if (rec.sessionCookie !== null) run.cookie = rec.sessionCookie === '' ? null : rec.sessionCookie;
    run.readyMs = rec.endMs;
    if (run.next < run.unit.requests.length) {
      this.ready.push({ order: this.readyOrder(run), loop: tag.pass, run, req: null });
    } else {
      this.running.delete(tag.instance);
      this.unfinished--;
    }
    this.signal();
  }

  waitForMore(): Promise<void> {
    if (this.exhausted || this.ready.size > 0 || this.unitsLeft()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when the next request of any session ends (something may have become ready). */
  nextEnded(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.trace.close();
    this.signal();
  }

  private unitsLeft(): boolean {
    return this.list.length > 0 && (this.opts.loop || this.nextUnit < this.list.length);
  }

  /** The recorded order of the next unit to start. */
  private unitOrder(): number {
    const unit = this.list[this.nextUnit % this.list.length] as Unit;
    return this.recordedOrder(unit.requests[0] as ReplayRequest, Math.floor(this.nextUnit / this.list.length));
  }

  private startUnit(): ReplayRequest {
    const i = this.nextUnit++;
    const unit = this.list[i % this.list.length] as Unit;
    const pass = Math.floor(i / this.list.length);
    this.loop = pass;
    if (unit.key === null) return unit.requests[0] as ReplayRequest;
    const every = this.opts.stride?.every ?? 1;
    // Numbered across --workers threads too (each takes its own residue), so they never collide.
    const instance = this.instances++ * every + (this.opts.stride?.offset ?? 0);
    const run: Running = {
      tag: { instance, key: unit.key, pass, steps: unit.requests.length },
      unit,
      next: 0,
      cookie: null,
      readyMs: undefined,
    };
    this.running.set(instance, run);
    this.unfinished++;
    return this.step(run);
  }

  private step(run: Running): ReplayRequest {
    const step = run.next++;
    return sessionRequest(run.unit.requests[step] as ReplayRequest, run.cookie, run.tag, step, run.readyMs);
  }

  private readyOrder(run: Running): number {
    if (this.opts.order === 'continuing') return this.readySeq++;
    return this.recordedOrder(run.unit.requests[run.next] as ReplayRequest, run.tag.pass);
  }

  /** Recorded time from the first exchange, in µs, later passes after earlier ones. */
  private recordedOrder(req: ReplayRequest, pass: number): number {
    return pass * (this.passSpanUs ?? 0) + req.t - this.firstT;
  }

  private signal(): void {
    for (const w of this.waiters.splice(0)) w();
    for (const w of this.endWaiters.splice(0)) w();
  }
}

/** The recorded session of a request: its path parameter, Cookie, or the Set-Cookie of its recorded response. */
export function sessionOfRequest(req: ReplayRequest): string | null {
  const headers: HeaderPair[] = req.headers.map((h) => [h.name, h.value]);
  return sessionOfExchange(headers, req.uri, req.expected.headers);
}
