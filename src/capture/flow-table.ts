/**
 * Follows the TCP connections of a capture: which side is Tomcat's (by port, or by the first AJP
 * magic with `auto`), each direction's reassembly, and the connection's life (SYN, FIN, RST, the
 * end of the capture). Each AJP connection gets a ConnectionTracer that turns its bytes into trace
 * events. A capture that starts in mid-connection resynchronises on the first plausible frame.
 */
import { joinHostPort } from '../host-port.js';
import { ConnectionTracer, type TracerShared } from '../trace/index.js';
import type { Direction } from '../protocol/index.js';
import type { TcpSegment } from './capture-types.js';
import { TcpReassembler, type Reassembled } from './tcp-reassembler.js';

export interface FlowTableOptions {
  /** Tomcat's AJP ports, or `auto`: every flow whose first payload is an AJP frame. */
  ports: number[] | 'auto';
  maxPacketSize?: number;
  /** `auto`: endpoint pairs remembered as not AJP, and pairs waiting for a first payload, each at most (default 65 536). */
  autoPairLimit?: number;
}

export interface FlowStats {
  /** AJP connections followed. */
  flows: number;
  /** Segments of flows that are not AJP (other ports, or not AJP under `auto`). */
  ignoredSegments: number;
  /** Bytes the capture lacked (dropped packets, snaplen). */
  missingBytes: number;
}

interface Flow {
  tracer: ConnectionTracer;
  tcp: Record<Direction, TcpReassembler>;
  fin: Record<Direction, boolean>;
}

/** Segments held while `auto` waits for a flow's first payload to tell which side is which. */
const AUTO_HOLD_LIMIT = 16;

/**
 * `auto` keeps two tables of endpoint pairs that are not (or not yet) AJP connections. Both are
 * bounded, so memory stays flat however many other flows a capture holds (a busy host's capture
 * without a port filter): past the limit the oldest pair is forgotten. What that forgets: a non-AJP
 * pair forgotten and seen again is judged again by its next payload (one look at two bytes; it is
 * taken for AJP only if that payload starts with 12 34 or 41 42); a pair forgotten while waiting
 * for its first payload loses its held handshake, so if it turns out to be AJP it is followed
 * from its first data, as a connection joined in mid-stream. At ~100 bytes a pair, 65 536 pairs
 * is ~6 MB per table.
 */
const AUTO_PAIR_LIMIT = 65_536;

export class FlowTable {
  private readonly flows = new Map<string, Flow>();
  /** `auto`: flows not yet classified, by their unordered endpoint pair. */
  private readonly undecided = new Map<string, TcpSegment[]>();
  /** `auto`: endpoint pairs known not to be AJP, and known AJP containers ("ip:port"). */
  private readonly notAjp = new Set<string>();
  private readonly containers = new Set<string>();
  private readonly autoPairLimit: number;
  private nextConn = 1;
  private lastUs = 0;
  readonly stats: FlowStats = { flows: 0, ignoredSegments: 0, missingBytes: 0 };

  constructor(
    private readonly shared: TracerShared,
    private readonly opts: FlowTableOptions,
  ) {
    this.autoPairLimit = Math.max(1, opts.autoPairLimit ?? AUTO_PAIR_LIMIT);
  }

  /** `auto`: endpoint pairs held in its tables of non-AJP and undecided flows (bounded, see AUTO_PAIR_LIMIT). */
  get autoPairs(): number {
    return this.notAjp.size + this.undecided.size;
  }

  segment(seg: TcpSegment): void {
    this.lastUs = seg.timestampUs;
    const direction = this.directionOf(seg);
    if (direction === undefined) return;
    const fromClient = direction === 'to-container';
    const client = fromClient ? joinHostPort(seg.src, seg.srcPort) : joinHostPort(seg.dst, seg.dstPort);
    const container = fromClient ? joinHostPort(seg.dst, seg.dstPort) : joinHostPort(seg.src, seg.srcPort);
    const key = `${client}>${container}`;
    let flow = this.flows.get(key);
    const isSyn = seg.flags.syn && fromClient && !seg.flags.ack;
    if (flow !== undefined && isSyn && flow.tracer.hasTraffic) {
      // The same four-tuple opens a new connection: the old one ended unseen.
      this.close(key, flow, 'end', seg.timestampUs);
      flow = undefined;
    }
    if (flow === undefined) {
      // Only a SYN or data starts following a flow; a stray ACK or FIN after a close does not.
      if (!seg.flags.syn && seg.payload.length === 0 && seg.missingBytes === 0) return;
      flow = this.open(key, client, container, seg);
    }
    const tcp = flow.tcp[direction];
    if (seg.flags.syn) {
      tcp.start(seg.seq + 1);
      if (seg.flags.ack) flow.tcp[opposite(direction)].start(seg.ack);
    }
    // What this segment acknowledges and the capture never had is a gap, declared before this
    // segment's data so that a response is decoded after its request. Only data segments do it:
    // a bare ACK may be captured ahead of the data it acknowledges when a capture reorders.
    if (seg.flags.ack && !seg.flags.syn && seg.payload.length > 0)
      this.deliver(flow, opposite(direction), flow.tcp[opposite(direction)].acknowledged(seg.ack), seg.timestampUs);
    if (seg.payload.length > 0) this.deliver(flow, direction, tcp.push(seg.seq, seg.payload), seg.timestampUs);
    if (seg.missingBytes > 0)
      this.deliver(flow, direction, tcp.pushMissing(seg.seq + seg.payload.length, seg.missingBytes), seg.timestampUs);
    if (seg.flags.rst) this.close(key, flow, 'rst', seg.timestampUs);
    else if (seg.flags.fin) {
      flow.fin[direction] = true;
      tcp.finished(seg.seq + seg.payload.length + seg.missingBytes);
      if (flow.fin[opposite(direction)]) this.close(key, flow, 'fin', seg.timestampUs);
    }
  }

  /** The capture ended: every connection still open ends here. */
  end(): void {
    for (const [key, flow] of this.flows) this.close(key, flow, 'end', this.lastUs);
    this.undecided.clear();
  }

  private open(key: string, client: string, container: string, first: TcpSegment): Flow {
    this.stats.flows++;
    const sawStart = first.flags.syn;
    const tracer = new ConnectionTracer(this.shared, {
      conn: this.nextConn++,
      client,
      upstream: container,
      midStream: !sawStart,
      maxPacketSize: this.opts.maxPacketSize,
    });
    const flow: Flow = {
      tracer,
      tcp: { 'to-container': new TcpReassembler(), 'to-web-server': new TcpReassembler() },
      fin: { 'to-container': false, 'to-web-server': false },
    };
    this.flows.set(key, flow);
    tracer.open(first.timestampUs);
    return flow;
  }

  private deliver(flow: Flow, direction: Direction, pieces: Reassembled[], timeUs: number): void {
    for (const p of pieces) {
      if (Buffer.isBuffer(p)) flow.tracer.push(direction, p, timeUs);
      else {
        this.stats.missingBytes += p.gap;
        flow.tracer.gap(direction, p.gap, timeUs);
      }
    }
  }

  private close(key: string, flow: Flow, reason: 'fin' | 'rst' | 'end', timeUs: number): void {
    for (const direction of ['to-container', 'to-web-server'] as const) {
      this.deliver(flow, direction, flow.tcp[direction].flush(), timeUs);
    }
    flow.tracer.close(reason, timeUs);
    this.flows.delete(key);
  }

  /** Which way a segment goes, or undefined when it is not part of an AJP flow. */
  private directionOf(seg: TcpSegment): Direction | undefined {
    const ports = this.opts.ports;
    if (ports !== 'auto') {
      if (ports.includes(seg.dstPort)) return 'to-container';
      if (ports.includes(seg.srcPort)) return 'to-web-server';
      this.stats.ignoredSegments++;
      return undefined;
    }
    return this.autoDirection(seg);
  }

  private autoDirection(seg: TcpSegment): Direction | undefined {
    const dst = joinHostPort(seg.dst, seg.dstPort);
    const src = joinHostPort(seg.src, seg.srcPort);
    if (this.containers.has(dst)) return 'to-container';
    if (this.containers.has(src)) return 'to-web-server';
    const pair = src < dst ? `${src}|${dst}` : `${dst}|${src}`;
    if (this.notAjp.has(pair)) {
      this.stats.ignoredSegments++;
      return undefined;
    }
    if (seg.payload.length < 2) {
      // Hold the handshake so the connection starts cleanly once its first payload decides.
      this.hold(pair, seg);
      return undefined;
    }
    const magic = ((seg.payload[0] as number) << 8) | (seg.payload[1] as number);
    if (magic === 0x1234) this.containers.add(dst);
    else if (magic === 0x4142) this.containers.add(src);
    else {
      this.rememberNotAjp(pair);
      this.stats.ignoredSegments += 1 + (this.undecided.get(pair)?.length ?? 0);
      this.undecided.delete(pair);
      return undefined;
    }
    const held = this.undecided.get(pair) ?? [];
    this.undecided.delete(pair);
    for (const h of held) this.segment(h);
    return this.containers.has(dst) ? 'to-container' : 'to-web-server';
  }

  private hold(pair: string, seg: TcpSegment): void {
    let held = this.undecided.get(pair);
    if (held === undefined) {
      if (this.undecided.size >= this.autoPairLimit) {
        const oldest = this.undecided.entries().next();
        if (oldest.done !== true) {
          this.undecided.delete(oldest.value[0]);
          this.stats.ignoredSegments += oldest.value[1].length;
        }
      }
      this.undecided.set(pair, (held = []));
    }
    if (held.length >= AUTO_HOLD_LIMIT) {
      this.stats.ignoredSegments++;
      return;
    }
    // The payload (0 or 1 byte) is copied: a view would keep its whole capture chunk alive.
    held.push({ ...seg, payload: Buffer.from(seg.payload) });
  }

  private rememberNotAjp(pair: string): void {
    if (this.notAjp.size >= this.autoPairLimit) this.forgetOldest(this.notAjp);
    this.notAjp.add(pair);
  }

  /** A set iterates in insertion order: the first key is the oldest. */
  private forgetOldest(table: Set<string>): void {
    const oldest = table.keys().next();
    if (oldest.done !== true) table.delete(oldest.value);
  }
}

function opposite(d: Direction): Direction {
  return d === 'to-container' ? 'to-web-server' : 'to-container';
}
