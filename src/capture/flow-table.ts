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
import { FlowClassifier } from './import-flow-classifier.js';
import { TcpReassembler, type Reassembled } from './tcp-reassembler.js';

export interface FlowTableOptions {
  /** Tomcat's AJP ports, or `auto`: every flow whose first payload is an AJP frame. */
  ports: number[] | 'auto';
  maxPacketSize?: number;
  /** `auto`: endpoint pairs remembered as not AJP, and pairs waiting for a first payload, each at most (default 65 536; see FlowClassifier). */
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
  conn: number;
  tracer: ConnectionTracer;
  tcp: Record<Direction, TcpReassembler>;
  fin: Record<Direction, boolean>;
}

interface FlowNames {
  clientHost: string;
  clientPort: number;
  containerHost: string;
  containerPort: number;
  /** ip:port of each side, as the trace writes them. */
  client: string;
  container: string;
  key: string;
}

/** Endpoint pairs whose names are kept for reuse (see FlowTable.names). */
const NAME_CACHE = 8;

export class FlowTable {
  private readonly flows = new Map<string, Flow>();
  private readonly classifier: FlowClassifier;
  private nextConn = 1;
  private readonly nameCache: FlowNames[] = [];
  private nameNext = 0;
  private lastUs = 0;
  private readonly counts = { flows: 0, missingBytes: 0 };

  constructor(
    private readonly shared: TracerShared,
    private readonly opts: FlowTableOptions,
  ) {
    this.classifier = new FlowClassifier(opts.ports, opts.autoPairLimit);
  }

  get stats(): FlowStats {
    return { ...this.counts, ignoredSegments: this.classifier.ignoredSegments };
  }

  /** `auto`: endpoint pairs held in its tables of non-AJP and undecided flows (bounded, see FlowClassifier). */
  get autoPairs(): number {
    return this.classifier.autoPairs;
  }

  segment(seg: TcpSegment): void {
    this.lastUs = seg.timestampUs;
    const direction = this.classifier.direction(seg, (held) => this.segment(held));
    if (direction !== undefined) this.follow(seg, direction);
  }

  /**
   * A segment of an AJP flow whose direction is known (classified by the caller: a threaded
   * import classifies on its reading thread and hands each worker the segments of its flows).
   */
  follow(seg: TcpSegment, direction: Direction): void {
    const fromClient = direction === 'to-container';
    const names = this.names(seg, fromClient);
    const { client, container, key } = names;
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

  /**
   * A segment's endpoints as the trace names them, and its flow's key. Consecutive segments
   * mostly belong to a flow seen a moment ago (its two directions, a few connections in turn):
   * the names of the last NAME_CACHE endpoint pairs are reused instead of built again (the
   * profile of an import showed the three strings per segment as most of follow()'s time).
   */
  private names(seg: TcpSegment, fromClient: boolean): FlowNames {
    const clientHost = fromClient ? seg.src : seg.dst;
    const clientPort = fromClient ? seg.srcPort : seg.dstPort;
    const containerHost = fromClient ? seg.dst : seg.src;
    const containerPort = fromClient ? seg.dstPort : seg.srcPort;
    for (const n of this.nameCache)
      if (
        n.clientPort === clientPort &&
        n.containerPort === containerPort &&
        n.clientHost === clientHost &&
        n.containerHost === containerHost
      )
        return n;
    const client = joinHostPort(clientHost, clientPort);
    const container = joinHostPort(containerHost, containerPort);
    const made: FlowNames = {
      clientHost,
      clientPort,
      containerHost,
      containerPort,
      client,
      container,
      key: `${client}>${container}`,
    };
    this.nameCache[this.nameNext] = made;
    this.nameNext = (this.nameNext + 1) % NAME_CACHE;
    return made;
  }

  /**
   * The capture ended: every connection still open ends here, oldest first, at `lastUs` (by
   * default the last segment this table saw; a threaded import passes the capture's last).
   * `closing` hears each flow's conn before its last events (a threaded import orders by it).
   */
  end(lastUs = this.lastUs, closing?: (conn: number) => void): void {
    for (const [key, flow] of this.flows) {
      closing?.(flow.conn);
      this.close(key, flow, 'end', lastUs);
    }
    this.classifier.end();
  }

  private open(key: string, client: string, container: string, first: TcpSegment): Flow {
    this.counts.flows++;
    const sawStart = first.flags.syn;
    const conn = this.nextConn++;
    const tracer = new ConnectionTracer(this.shared, {
      conn,
      client,
      upstream: container,
      midStream: !sawStart,
      maxPacketSize: this.opts.maxPacketSize,
    });
    const flow: Flow = {
      conn,
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
        this.counts.missingBytes += p.gap;
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
}

function opposite(d: Direction): Direction {
  return d === 'to-container' ? 'to-web-server' : 'to-container';
}
