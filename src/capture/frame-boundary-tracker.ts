/**
 * Whether a tapped connection is in the middle of something, known on the forwarding thread while
 * the decoding happens on the tracer thread: a drain (TapProxy.stop) must decide at once and
 * exactly whether closing a connection now would cut an exchange off. Reads AJP packet headers
 * only (§1: magic, length) and the message type byte of each packet, and skips every payload:
 * - to the container, outside an exchange, a Forward Request (2) starts one and a CPing (10)
 *   waits for its CPong; inside one every packet is a request body chunk (no type byte, §3);
 * - to the web server, End Response (5) ends the exchange and CPong (9) the CPing;
 * - a packet partly received (header or payload) in either direction is under way too.
 * Bytes that are not a header where one is due (garbage) are skipped a byte at a time until a
 * magic is found, as the decoder resynchronises.
 */
import { MAGIC_TO_CONTAINER, MAGIC_TO_WEB_SERVER, MessageCode } from '../protocol/index.js';
import type { Direction } from '../protocol/index.js';

/** Where one direction stands: in a header (bytes of it seen) or skipping a payload. */
class DirectionState {
  /** Header bytes seen of the next packet: 0 (between packets) to 4; the type byte is read at 4. */
  headerAt = 0;
  length = 0;
  /** Payload bytes still to skip. */
  remaining = 0;

  constructor(
    readonly magic0: number,
    readonly magic1: number,
  ) {}

  get midPacket(): boolean {
    return this.headerAt > 0 || this.remaining > 0;
  }
}

export class FrameBoundaryTracker {
  private exchange = false;
  private cping = false;
  private readonly toContainer = new DirectionState(MAGIC_TO_CONTAINER >> 8, MAGIC_TO_CONTAINER & 0xff);
  private readonly toWebServer = new DirectionState(MAGIC_TO_WEB_SERVER >> 8, MAGIC_TO_WEB_SERVER & 0xff);

  /** An exchange or a CPing is under way, or a packet is partly received: closing now would cut it. */
  get busy(): boolean {
    return this.exchange || this.cping || this.toContainer.midPacket || this.toWebServer.midPacket;
  }

  push(direction: Direction, chunk: Buffer): void {
    const s = direction === 'to-container' ? this.toContainer : this.toWebServer;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (s.remaining > 0) {
        const skip = Math.min(s.remaining, n - i);
        s.remaining -= skip;
        i += skip;
        continue;
      }
      const b = chunk[i++] as number;
      switch (s.headerAt) {
        case 0:
          if (b === s.magic0) s.headerAt = 1;
          break;
        case 1:
          s.headerAt = b === s.magic1 ? 2 : b === s.magic0 ? 1 : 0;
          break;
        case 2:
          s.length = b << 8;
          s.headerAt = 3;
          break;
        case 3:
          s.length |= b;
          // An empty packet (an empty body chunk ends a request body, §3) has no type byte.
          s.headerAt = s.length === 0 ? 0 : 4;
          break;
        default:
          s.headerAt = 0;
          s.remaining = s.length - 1;
          this.packet(direction, b);
      }
    }
  }

  private packet(direction: Direction, type: number): void {
    if (direction === 'to-container') {
      if (this.exchange) return; // a request body chunk: its first byte is a length, not a type
      if (type === MessageCode.ForwardRequest) this.exchange = true;
      else if (type === MessageCode.CPing) this.cping = true;
      return;
    }
    if (type === MessageCode.EndResponse) this.exchange = false;
    else if (type === MessageCode.CPong) this.cping = false;
  }
}
