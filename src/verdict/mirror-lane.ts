/**
 * One mirror candidate (and its secondary): a bounded queue of copies and ajpbench's own AJP clients,
 * so that nothing the candidate does reaches production. The tap only offers copies (an O(1) push);
 * sending happens later, on the event loop's next turn, never on the forwarding path.
 *
 * - Bounded: past `maxQueued` copies or `maxQueuedBytes` of their bodies waiting, a new copy is
 *   dropped and counted (`queue-full`), so large bodies cannot make the queue hold gigabytes. The
 *   clients keep at most `connections` requests in flight; a slow candidate fills the queue, never
 *   production's sockets.
 * - Down: a candidate that refuses, cannot be reached or does not accept in time is left alone for a
 *   backoff (doubling from `backoffMs` up to `maxBackoffMs`); meanwhile every copy is dropped and
 *   counted (`candidate-down`), then one copy probes it again.
 * - The secondary, when given, gets the same copy at the same time, over its own pool; its failure
 *   only means that copy teaches nothing about noise.
 */
import type { HostPort } from '../host-port.js';
import {
  AjpClient,
  AjpRequestEncoder,
  newResult,
  replayRequestFromWire,
  type ReplayRequest,
  type RequestResult,
} from '../load/index.js';
import type { ErrorKind } from '../results/error-kinds.js';
import type { ExchangeDetail, ExchangeEvent } from '../trace/index.js';

/** An exchange the tap forwarded, offered for mirroring. */
export interface MirrorCopy {
  event: ExchangeEvent;
  detail: ExchangeDetail;
}

/** Why a copy was not compared. */
export type MirrorDropReason = 'queue-full' | 'candidate-down' | 'stopped';

export interface MirrorLaneOptions {
  candidate: HostPort;
  secondary?: HostPort;
  /** The secret attribute sent to the candidate and the secondary (§8); production's is never forwarded. */
  secret?: string;
  maxPacketSize?: number;
  /** Requests in flight at most, to each of candidate and secondary. */
  connections: number;
  /** Copies waiting at most; a copy past it is dropped. */
  maxQueued: number;
  /** Body bytes (request and production response) held by waiting copies at most; a copy past it is dropped. */
  maxQueuedBytes: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Response body bytes kept for a field-level comparison (length and SHA-256 always). */
  keepBodyBytes: number;
  /** First wait after the candidate was found down; doubles on each failed probe up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Monotonic ms; default performance.now. */
  now?: () => number;
  /** A copy answered (or failed) by the candidate, with the secondary's answer when there is one. */
  onAnswered(copy: MirrorCopy, candidate: RequestResult, secondary: RequestResult | undefined): void;
  onDropped(copy: MirrorCopy, reason: MirrorDropReason): void;
  /** The candidate was found down (the message says why) or answers again. */
  onCandidateState?(up: boolean, message: string): void;
}

/** A connection that never came up: the candidate is down, not merely slow. */
const DOWN_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['connect-refused', 'connect-failed', 'connect-timeout']);

/** After the clients closed, how long their in-flight copies may take to report their end. */
const CLOSE_SETTLE_MS = 1000;

export class MirrorLane {
  readonly label: string;
  private readonly candidate: AjpClient;
  private readonly secondary: AjpClient | undefined;
  private readonly now: () => number;
  /** Taken from the head by index (no shift per copy); the taken part is cut off now and then. */
  private queue: (MirrorCopy | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inFlight = 0;
  private pumpScheduled = false;
  /** While the candidate is down: no copy is sent before this (monotonic ms). */
  private retryAt = 0;
  private backoffMs = 0;
  private down = false;
  /** A probe is in flight while down: the others wait for its answer rather than pile up. */
  private probing = false;
  private stopped = false;
  private idle: (() => void) | undefined;

  constructor(private readonly opts: MirrorLaneOptions) {
    this.now = opts.now ?? (() => performance.now());
    const encoder = new AjpRequestEncoder({
      ...(opts.secret === undefined ? {} : { secret: opts.secret }),
      ...(opts.maxPacketSize === undefined ? {} : { maxPacketSize: opts.maxPacketSize }),
    });
    const client = (target: HostPort): AjpClient =>
      new AjpClient({
        host: target.host,
        port: target.port,
        encoder,
        connections: opts.connections,
        connectTimeoutMs: opts.connectTimeoutMs,
        requestTimeoutMs: opts.requestTimeoutMs,
        keepResponseBytes: opts.keepBodyBytes,
        now: this.now,
      });
    this.candidate = client(opts.candidate);
    this.secondary = opts.secondary === undefined ? undefined : client(opts.secondary);
    this.label = this.candidate.label;
  }

  /** Copies waiting to be sent. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  get candidateDown(): boolean {
    return this.down;
  }

  /**
   * Whether a copy offered now would be queued: the hint the tap asks at each Forward Request, so
   * that an exchange whose copy would be dropped anyway holds no bodies (offer() still decides).
   */
  get wouldTake(): boolean {
    return this.refusal() === undefined;
  }

  /** Why a copy offered now would be dropped (before its bytes are known), or undefined if it would be queued. */
  refusal(): MirrorDropReason | undefined {
    if (this.stopped) return 'stopped';
    if (this.down && this.now() < this.retryAt) return 'candidate-down';
    if (this.queued >= this.opts.maxQueued || this.queuedBytes >= this.opts.maxQueuedBytes) return 'queue-full';
    return undefined;
  }

  /** From the tap's observer: queue the copy (or drop it), nothing more. */
  offer(copy: MirrorCopy): void {
    if (this.stopped) return this.opts.onDropped(copy, 'stopped');
    if (this.down && this.now() < this.retryAt) return this.opts.onDropped(copy, 'candidate-down');
    const bytes = copyBytes(copy);
    if (this.queued >= this.opts.maxQueued || this.queuedBytes + bytes > this.opts.maxQueuedBytes)
      return this.opts.onDropped(copy, 'queue-full');
    this.queue.push(copy);
    this.queuedBytes += bytes;
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      // After the current turn: the tap has forwarded and traced what was ready before a copy goes out.
      setImmediate(() => this.pump());
    }
  }

  /**
   * Sends what is queued and waits for the answers, until `deadline` (Date.now() ms): what is still
   * queued or in flight then is dropped (`stopped`). Closes the clients. Once only.
   */
  async finish(deadline: number): Promise<void> {
    if (!this.stopped) {
      this.pump();
      await this.untilIdle(deadline);
      this.stopped = true;
      this.dropQueued('stopped');
    }
    // In-flight copies end as the sockets close: counted as stopped by settle(), a moment later.
    await Promise.all([this.candidate.close(), this.secondary?.close()]);
    await this.untilIdle(Date.now() + CLOSE_SETTLE_MS);
  }

  private async untilIdle(deadline: number): Promise<void> {
    if (this.queued === 0 && this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    this.idle = undefined;
    clearTimeout(timer);
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.stopped) return;
    if (this.down) {
      if (this.now() < this.retryAt || this.probing) return this.dropQueued('candidate-down');
      // One probe at a time while down: the other copies are dropped until it answers.
      const copy = this.take();
      if (copy !== undefined) {
        this.probing = true;
        this.send(copy);
      }
      return this.dropQueued('candidate-down');
    }
    // One copy a turn: answers come back together, and sending the next eight at once (encoding and
    // writing each) would hold the forwarding thread as long as comparing them did.
    if (this.inFlight < this.opts.connections) {
      const copy = this.take();
      if (copy !== undefined) this.send(copy);
      if (this.inFlight < this.opts.connections && this.queued > 0 && !this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(() => this.pump());
      }
    }
    this.checkIdle();
  }

  private take(): MirrorCopy | undefined {
    if (this.head >= this.queue.length) return undefined;
    const copy = this.queue[this.head];
    this.queue[this.head++] = undefined; // let it go now
    if (copy !== undefined) this.queuedBytes -= copyBytes(copy);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return copy;
  }

  private dropQueued(reason: MirrorDropReason): void {
    for (let copy = this.take(); copy !== undefined; copy = this.take()) this.opts.onDropped(copy, reason);
    this.checkIdle();
  }

  private send(copy: MirrorCopy): void {
    const req = replayRequestFromWire(copy.detail.request, copy.detail.requestBody, copy.event);
    this.inFlight++;
    let waiting = this.secondary === undefined ? 1 : 2;
    const candidate = this.start(this.candidate, req, () => {
      if (--waiting === 0) this.settle(copy, candidate, secondary);
    });
    const secondary =
      this.secondary === undefined
        ? undefined
        : this.start(this.secondary, req, () => {
            if (--waiting === 0) this.settle(copy, candidate, secondary);
          });
  }

  private start(client: AjpClient, req: ReplayRequest, done: () => void): RequestResult {
    const rec = newResult();
    rec.exchangeId = req.exchangeId;
    rec.uri = req.displayUri;
    rec.intendedMs = rec.sentMs = this.now();
    client.send(req, rec, done);
    return rec;
  }

  private settle(copy: MirrorCopy, candidate: RequestResult, secondary: RequestResult | undefined): void {
    this.inFlight--;
    this.probing = false;
    if (this.stopped) this.opts.onDropped(copy, 'stopped');
    else if (candidate.error !== null && DOWN_KINDS.has(candidate.error)) {
      this.markDown(candidate.errorMessage ?? candidate.error);
      this.opts.onDropped(copy, 'candidate-down');
    } else {
      if (this.down) this.markUp();
      this.opts.onAnswered(copy, candidate, secondary);
    }
    if (this.queued > 0 && !this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
    this.checkIdle();
  }

  private markDown(message: string): void {
    this.backoffMs = this.down ? Math.min(this.opts.maxBackoffMs, this.backoffMs * 2) : this.opts.backoffMs;
    this.retryAt = this.now() + this.backoffMs;
    if (!this.down) this.opts.onCandidateState?.(false, message);
    this.down = true;
  }

  private markUp(): void {
    this.down = false;
    this.backoffMs = 0;
    this.opts.onCandidateState?.(true, 'answers again');
  }

  private checkIdle(): void {
    if (this.idle !== undefined && this.inFlight === 0 && (this.queued === 0 || this.down || this.stopped)) {
      const idle = this.idle;
      this.idle = undefined;
      idle();
    }
  }
}

/** The body bytes a waiting copy holds. */
function copyBytes(copy: MirrorCopy): number {
  return copy.detail.requestBody.length + copy.detail.responseBody.length;
}
