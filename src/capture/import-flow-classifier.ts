/**
 * Which TCP segments belong to an AJP connection, and which way each goes: by Tomcat's ports, or
 * with `auto` by the first payload of each flow (an AJP magic, 12 34 or 41 42). Used by the flow
 * table of a single-threaded import and by the reading thread of a threaded one, which must
 * classify before it shards: `auto` learns containers ("ip:port") across flows, so the decision
 * for one flow can depend on another flow, possibly one another worker follows.
 */
import { joinHostPort } from '../host-port.js';
import type { Direction } from '../protocol/index.js';
import type { TcpSegment } from './capture-types.js';

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

export class FlowClassifier {
  /** `auto`: flows not yet classified, by their unordered endpoint pair. */
  private readonly undecided = new Map<string, TcpSegment[]>();
  /** `auto`: endpoint pairs known not to be AJP, and known AJP containers ("ip:port"). */
  private readonly notAjp = new Set<string>();
  private readonly containers = new Set<string>();
  private readonly autoPairLimit: number;
  /** Segments of flows that are not AJP (other ports, or not AJP under `auto`). */
  ignoredSegments = 0;

  constructor(
    private readonly ports: number[] | 'auto',
    autoPairLimit?: number,
  ) {
    this.autoPairLimit = Math.max(1, autoPairLimit ?? AUTO_PAIR_LIMIT);
  }

  /** `auto`: endpoint pairs held in its tables of non-AJP and undecided flows (bounded, see AUTO_PAIR_LIMIT). */
  get autoPairs(): number {
    return this.notAjp.size + this.undecided.size;
  }

  /**
   * Which way a segment goes, or undefined when it is not (or not yet) part of an AJP flow. When
   * `auto` decides a flow, the segments it held for it go to `replay` first, oldest first.
   */
  direction(seg: TcpSegment, replay: (held: TcpSegment) => void): Direction | undefined {
    const ports = this.ports;
    if (ports !== 'auto') {
      if (ports.includes(seg.dstPort)) return 'to-container';
      if (ports.includes(seg.srcPort)) return 'to-web-server';
      this.ignoredSegments++;
      return undefined;
    }
    return this.autoDirection(seg, replay);
  }

  /** The capture ended: flows still undecided are forgotten. */
  end(): void {
    this.undecided.clear();
  }

  private autoDirection(seg: TcpSegment, replay: (held: TcpSegment) => void): Direction | undefined {
    const dst = joinHostPort(seg.dst, seg.dstPort);
    const src = joinHostPort(seg.src, seg.srcPort);
    if (this.containers.has(dst)) return 'to-container';
    if (this.containers.has(src)) return 'to-web-server';
    const pair = src < dst ? `${src}|${dst}` : `${dst}|${src}`;
    if (this.notAjp.has(pair)) {
      this.ignoredSegments++;
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
      this.ignoredSegments += 1 + (this.undecided.get(pair)?.length ?? 0);
      this.undecided.delete(pair);
      return undefined;
    }
    const held = this.undecided.get(pair) ?? [];
    this.undecided.delete(pair);
    for (const h of held) replay(h);
    return this.containers.has(dst) ? 'to-container' : 'to-web-server';
  }

  private hold(pair: string, seg: TcpSegment): void {
    let held = this.undecided.get(pair);
    if (held === undefined) {
      if (this.undecided.size >= this.autoPairLimit) {
        const oldest = this.undecided.entries().next();
        if (oldest.done !== true) {
          this.undecided.delete(oldest.value[0]);
          this.ignoredSegments += oldest.value[1].length;
        }
      }
      this.undecided.set(pair, (held = []));
    }
    if (held.length >= AUTO_HOLD_LIMIT) {
      this.ignoredSegments++;
      return;
    }
    // The payload (0 or 1 byte) is copied: a view would keep its whole capture chunk alive.
    held.push({ ...seg, payload: Buffer.from(seg.payload) });
  }

  private rememberNotAjp(pair: string): void {
    if (this.notAjp.size >= this.autoPairLimit) {
      // A set iterates in insertion order: the first key is the oldest.
      const oldest = this.notAjp.keys().next();
      if (oldest.done !== true) this.notAjp.delete(oldest.value);
    }
    this.notAjp.add(pair);
  }
}
