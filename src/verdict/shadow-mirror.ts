/**
 * The live mirror of `record --mirror` (docs/record.md, Mirror): every exchange a tap forwarded is
 * sent again to a candidate (and a secondary) by ajpbench's own AJP clients, and the candidate's
 * answer is compared with production's. Diffy's model: production is the primary, the candidate the
 * new version, the secondary a second copy of production whose differences from the primary are
 * noise (timestamps, random ids, per-node values), learned per URI pattern and field.
 *
 * After, never before, never in the way: `observe` is the tap's observer and sees an exchange only
 * once its End Response was forwarded; it samples, checks the size and queues (MirrorLane), nothing
 * more. Copies go out on a later turn over their own connections; a slow or dead candidate costs
 * dropped copies (counted), not production latency. The candidate's answers go only to the comparator.
 */
import type { HostPort } from '../host-port.js';
import type { RequestResult } from '../load/index.js';
import {
  KeySampler,
  redactHeaders,
  sessionOfEvent,
  sessionOfExchange,
  type ExchangeDetail,
  type ExchangeEvent,
  type HeaderPair,
  type Observed,
  type ObservedResponse,
  type TraceEvent,
} from '../trace/index.js';
import { MirrorLane, type MirrorCopy, type MirrorDropReason } from './mirror-lane.js';
import type { MirrorComparator } from './mirror-comparator.js';

export interface MirrorTarget {
  candidate: HostPort;
  secondary?: HostPort;
  /** Which exchanges go to this candidate (one per tap); absent: every exchange no earlier target took. */
  matches?: (e: ExchangeEvent) => boolean;
}

export interface ShadowMirrorOptions {
  targets: readonly MirrorTarget[];
  comparator: MirrorComparator;
  /** Share of sessions mirrored, 0 to 1 (default 1); a request without a session is sampled by its exchange id. */
  sample?: number;
  /** Seed of the sampling hash: the same seed mirrors the same sessions. */
  sampleSeed?: string;
  secret?: string;
  maxPacketSize?: number;
  /** Requests in flight at most to each candidate (and each secondary); default 8. */
  connections?: number;
  /**
   * Copies waiting at most per candidate; default DEFAULT_MIRROR_QUEUE. Kept short on purpose: a copy
   * that waits long is stale and lives long enough to reach the old generation, whose collections
   * then pause the forwarding thread (a queue of 1000 added about 5 ms to production's p99 in the bench,
   * 64 about 0.5 ms).
   */
  maxQueued?: number;
  /** Body bytes held by the copies waiting for one candidate at most; default 64 MiB. */
  maxQueuedBytes?: number;
  connectTimeoutMs?: number;
  /** A candidate answer that takes longer is a failure (`no-response`); default 10 s. */
  requestTimeoutMs?: number;
  /**
   * Body bytes held for the comparison (request bodies to send, responses to compare field by field);
   * a request body above it is not mirrored (`tooLarge`), a response body above it compares by SHA-256.
   * The recorder must be asked for as much (TapRecorderOptions.detailBytes). Default 1 MiB.
   */
  maxBodyBytes?: number;
  /** Production headers are compared redacted (cookie and credential values), as the trace writes them. */
  redact: boolean;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The candidate went down or came back. */
  onNotice?: (message: string) => void;
  /**
   * The recorder's --max-exchanges: exchanges past it (forwarded during the drain, not in the trace) are
   * not mirrored, so that every diff event names an exchange the trace holds.
   */
  maxExchanges?: number;
}

export interface MirrorStats {
  /** Exchanges the taps forwarded (and the mirror saw). */
  seen: number;
  /** Left out by --mirror-sample. */
  sampledOut: number;
  /** Not mirrored: the request body was larger than the bytes held for it. */
  tooLarge: number;
  /** Sent to the candidate over a connection it accepted (answered, or failed after connecting). */
  mirrored: number;
  /** Compared with production's answer (a candidate failure included: a `no-response` difference). */
  compared: number;
  equal: number;
  /** Differences the secondary showed too, only. */
  noise: number;
  /** At least one difference that is not noise. */
  differing: number;
  /** Exchanges differing, per kind of difference (status, header, body, no-response) that is not noise. */
  differingByKind: Record<string, number>;
  /** Copies not compared: queue full, candidate down, still waiting at stop. */
  dropped: number;
  droppedBy: Record<MirrorDropReason, number>;
  /** Candidate answers that failed once connected (timeout, reset, protocol error). */
  candidateErrors: number;
  /** Secondary answers that failed (those copies taught nothing about noise). */
  secondaryErrors: number;
  /** Copies waiting now. */
  queued: number;
  /** Candidates found down now. */
  candidatesDown: number;
  /** `diff` events given to the trace. */
  diffEvents: number;
}

/** What an appended event goes to: the recorder (TapRecorder.append) and its trace start. */
export interface MirrorOutput {
  append(e: TraceEvent): void;
  /** The trace's startTimeUs: a diff event's `t` counts from it. */
  startTimeUs: number;
}

export const DEFAULT_MIRROR_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MIRROR_QUEUE_BYTES = 64 * 1024 * 1024;
/** Copies waiting per candidate by default (8 per mirror connection at the default 8). */
export const DEFAULT_MIRROR_QUEUE = 64;
/** Diff events held while no output is attached yet (the recorder still starting). */
const MAX_HELD_EVENTS = 10_000;

export class ShadowMirror {
  readonly lanes: MirrorLane[];
  private readonly stats: Omit<MirrorStats, 'queued' | 'candidatesDown'> = {
    seen: 0,
    sampledOut: 0,
    tooLarge: 0,
    mirrored: 0,
    compared: 0,
    equal: 0,
    noise: 0,
    differing: 0,
    differingByKind: {},
    dropped: 0,
    droppedBy: { 'queue-full': 0, 'candidate-down': 0, stopped: 0 },
    candidateErrors: 0,
    secondaryErrors: 0,
    diffEvents: 0,
  };
  private readonly sampler: KeySampler | undefined;
  private readonly maxBodyBytes: number;
  private output: MirrorOutput | undefined;
  private held: TraceEvent[] = [];
  /**
   * Answers waiting to be compared, one per event-loop turn: a candidate's connections tend to answer
   * together, and eight comparisons back to back (about 55 µs each) held the forwarding thread for
   * half a millisecond, which production's p99 showed.
   */
  private toCompare: [MirrorCopy, RequestResult, RequestResult | undefined][] = [];
  private comparing = false;
  /** Until attached, `t` counts from the mirror's start. */
  private readonly startUs = wallUs();

  constructor(private readonly opts: ShadowMirrorOptions) {
    if (opts.targets.length === 0) throw new RangeError('a mirror needs at least one candidate');
    const share = opts.sample ?? 1;
    this.sampler = share < 1 ? new KeySampler(share, opts.sampleSeed ?? '') : undefined;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MIRROR_BODY_BYTES;
    this.lanes = opts.targets.map(
      (t) =>
        new MirrorLane({
          candidate: t.candidate,
          ...(t.secondary === undefined ? {} : { secondary: t.secondary }),
          ...(opts.secret === undefined ? {} : { secret: opts.secret }),
          ...(opts.maxPacketSize === undefined ? {} : { maxPacketSize: opts.maxPacketSize }),
          connections: opts.connections ?? 8,
          maxQueued: opts.maxQueued ?? DEFAULT_MIRROR_QUEUE,
          maxQueuedBytes: opts.maxQueuedBytes ?? DEFAULT_MIRROR_QUEUE_BYTES,
          connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
          requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
          keepBodyBytes: this.maxBodyBytes,
          backoffMs: opts.backoffMs ?? 1000,
          maxBackoffMs: opts.maxBackoffMs ?? 30_000,
          onAnswered: (copy, candidate, secondary) => this.enqueueCompare(copy, candidate, secondary),
          onDropped: (_copy, reason) => this.dropped(reason),
          onCandidateState: (up, message) =>
            opts.onNotice?.(
              up
                ? `mirror candidate ${formatTarget(t.candidate)} answers again`
                : `mirror candidate ${formatTarget(t.candidate)} is down (${message}); copies are dropped and counted, retrying with backoff`,
            ),
        }),
    );
  }

  /** The tap's observer (TapRecorderOptions.observe, with detailBytes = maxBodyBytes): samples and queues. */
  readonly observe = (e: TraceEvent, detail?: ExchangeDetail): void => {
    if (e.event !== 'exchange') return;
    if (this.opts.maxExchanges !== undefined && this.stats.seen >= this.opts.maxExchanges) return;
    this.stats.seen++;
    if (detail === undefined) {
      // detailBytes said no at its Forward Request: no lane would take a copy, so it is dropped for
      // the reason its lane gives (a sampled-out session is counted as such, by its trace form).
      if (this.sampler !== undefined && !this.sampler.keeps(sessionOfEvent(e) ?? `exchange ${e.id}`))
        this.stats.sampledOut++;
      else this.dropped(this.laneFor(e)?.refusal() ?? 'queue-full');
      return;
    }
    if (this.sampler !== undefined && !this.sampler.keeps(sessionKey(e, detail))) {
      this.stats.sampledOut++;
      return;
    }
    if (detail.requestBody.length < e.request.body.length) {
      this.stats.tooLarge++;
      return;
    }
    const lane = this.laneFor(e);
    lane?.offer({ event: e, detail });
  };

  /**
   * The tap's TapRecorderOptions.detailBytes: asked at each Forward Request, the body bytes to hold
   * for its copy, or 0 when no lane would take one now (then the exchange holds no bodies for nothing).
   */
  readonly detailBytes = (): number => (this.lanes.some((l) => l.wouldTake) ? this.maxBodyBytes : 0);

  /** Where diff events go; events compared before it was attached are appended now. */
  attach(output: MirrorOutput): void {
    this.output = output;
    const held = this.held;
    this.held = [];
    for (const e of held) output.append(e);
  }

  /** Live figures (the status line, the summary). */
  get summary(): MirrorStats {
    let queued = 0;
    let down = 0;
    for (const l of this.lanes) {
      queued += l.queued;
      if (l.candidateDown) down++;
    }
    return {
      ...this.stats,
      differingByKind: { ...this.stats.differingByKind },
      droppedBy: { ...this.stats.droppedBy },
      queued,
      candidatesDown: down,
    };
  }

  /** At stop, after the taps drained: sends what is queued and waits for answers until `deadline` (Date.now() ms). */
  async finish(deadline: number): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.finish(deadline)));
    this.compareAll();
  }

  private laneFor(e: ExchangeEvent): MirrorLane | undefined {
    const targets = this.opts.targets;
    for (let i = 0; i < targets.length; i++) {
      const m = (targets[i] as MirrorTarget).matches;
      if (m === undefined || m(e)) return this.lanes[i];
    }
    return undefined;
  }

  private dropped(reason: MirrorDropReason): void {
    this.stats.dropped++;
    this.stats.droppedBy[reason]++;
    this.opts.comparator.drop(DROP_PHRASES[reason]);
  }

  private enqueueCompare(copy: MirrorCopy, candidate: RequestResult, secondary: RequestResult | undefined): void {
    this.toCompare.push([copy, candidate, secondary]);
    if (!this.comparing) {
      this.comparing = true;
      setImmediate(this.compareNext);
    }
  }

  private readonly compareNext = (): void => {
    const next = this.toCompare.shift();
    if (next !== undefined) this.compare(...next);
    if (this.toCompare.length > 0) setImmediate(this.compareNext);
    else this.comparing = false;
  };

  /** At stop: what is still waiting is compared now. */
  private compareAll(): void {
    for (let next = this.toCompare.shift(); next !== undefined; next = this.toCompare.shift()) this.compare(...next);
  }

  private compare(copy: MirrorCopy, candidate: RequestResult, secondary: RequestResult | undefined): void {
    const s = this.stats;
    s.mirrored++;
    if (candidate.error !== null && candidate.error !== 'status-5xx') s.candidateErrors++;
    if (secondary !== undefined && secondary.error !== null && secondary.error !== 'status-5xx') s.secondaryErrors++;
    const e = copy.event;
    const t = Math.max(0, Math.round(wallUs() - (this.output?.startTimeUs ?? this.startUs)));
    const diff = this.opts.comparator.compare(
      {
        id: e.id,
        uri: e.request.uri,
        ...(e.byteStrings === true ? { byteStrings: true } : {}),
        primary: this.production(copy),
        candidate: this.observed(candidate),
        ...(secondary === undefined ? {} : { secondary: this.observed(secondary) }),
      },
      t,
    );
    s.compared++;
    if (diff.outcome === 'equal') s.equal++;
    else if (diff.outcome === 'noise') s.noise++;
    else {
      s.differing++;
      const kinds = new Set<string>();
      for (const d of diff.differences) if (!d.noise) kinds.add(d.kind);
      for (const k of kinds) s.differingByKind[k] = (s.differingByKind[k] ?? 0) + 1;
    }
    const event = diff.event;
    if (event === undefined) return;
    s.diffEvents++;
    if (this.output !== undefined) this.output.append(event);
    else if (this.held.length < MAX_HELD_EVENTS) this.held.push(event);
  }

  /** Production's answer as the tap saw it; headers redacted as the trace writes them when it redacts. */
  private production(copy: MirrorCopy): ObservedResponse {
    const r = copy.event.response;
    const data = copy.detail.responseBody;
    return {
      status: r.status,
      headers: this.headers(copy.detail.responseHeaders),
      body: {
        length: r.body.length,
        sha256: r.body.sha256,
        data,
        ...(data.length < r.body.length ? { truncated: true } : {}),
      },
    };
  }

  private observed(rec: RequestResult): Observed {
    if (rec.error !== null && rec.error !== 'status-5xx') return { error: `${rec.error}: ${rec.errorMessage ?? ''}` };
    const kept = rec.response;
    if (kept === undefined) return { error: 'no response kept' };
    const body = kept.body.toTrace();
    const data = kept.body.retained();
    return {
      status: rec.status,
      headers: this.headers(kept.headers),
      body: {
        length: body.length,
        sha256: body.sha256,
        data,
        ...(data.length < body.length ? { truncated: true } : {}),
      },
    };
  }

  private headers(h: HeaderPair[]): HeaderPair[] {
    return this.opts.redact ? redactHeaders(h) : h;
  }
}

const DROP_PHRASES: Record<MirrorDropReason, string> = {
  'queue-full': 'mirror queue full',
  'candidate-down': 'candidate down',
  stopped: 'still queued at stop',
};

/** The session a copy belongs to (JSESSIONID without its route, from the unredacted request), else the exchange. */
function sessionKey(e: ExchangeEvent, d: ExchangeDetail): string {
  const headers: HeaderPair[] = d.request.headers.map((h) => [h.name, h.value]);
  return sessionOfExchange(headers, d.request.uri, d.responseHeaders) ?? `exchange ${e.id}`;
}

function formatTarget(t: HostPort): string {
  return `ajp://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

function wallUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
