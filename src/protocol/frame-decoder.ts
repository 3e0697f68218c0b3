/**
 * Push-style AJP13 frame splitter for one direction of one connection (§1).
 *
 * Fed Buffers of any size, it hands out whole packet payloads. A frame that arrived inside one
 * chunk is handed out as a view of that chunk (no copy). A frame that spans chunks is kept as a
 * list of views until its last byte arrives, then copied once into a buffer of its own. The
 * decoder never writes into a buffer it has handed out (the flaw of pg-protocol's reused buffer).
 * Memory held between calls is bounded by maxPacketSize: the length is checked before anything
 * is buffered.
 */
import {
  DEFAULT_MAX_PACKET_SIZE,
  FRAME_HEADER_SIZE,
  MAGIC_TO_CONTAINER,
  MAGIC_TO_WEB_SERVER,
  MAX_MAX_PACKET_SIZE,
  MessageCode,
  MIN_MAX_PACKET_SIZE,
} from './constants.js';
import { AjpProtocolError, type AjpErrorCode } from './errors.js';
import type { Direction } from './messages.js';

export interface FrameDecoderOptions {
  /** The stream's direction; `auto` takes it from the first magic seen. */
  direction: Direction | 'auto';
  /** Largest packet, header included: 8192 (default) to 65536, as Tomcat's packetSize. */
  maxPacketSize?: number;
  /**
   * After a bad header: `resync` (default, for sniffing) skips to the next plausible frame and
   * reports the skipped bytes; `stop` (a peer's view, §9: bad magic is fatal) reports once and
   * drops everything after.
   */
  onInvalid?: 'resync' | 'stop';
  /** The stream was joined in mid-connection (a capture started late): find the first plausible frame. */
  midStream?: boolean;
}

export interface FrameSink {
  /** A whole frame. `payload` is a view (see the module comment); `offset` is where its magic starts. */
  frame(payload: Buffer, offset: number, direction: Direction): void;
  error(err: AjpProtocolError): void;
  /**
   * A frame the stream lost bytes of (a gap, see `gap`): `prefix` is its payload as far as it
   * arrived (a copy), `length` its length on the wire, header included.
   */
  partial?(prefix: Buffer, offset: number, direction: Direction, length: number): void;
}

/** Bytes needed at a candidate position to judge it while resynchronising: header + 2 payload bytes. */
const RESYNC_PROBE = FRAME_HEADER_SIZE + 2;

export function checkMaxPacketSize(size: number): number {
  if (!Number.isInteger(size) || size < MIN_MAX_PACKET_SIZE || size > MAX_MAX_PACKET_SIZE) {
    throw new RangeError(
      `maxPacketSize must be an integer from ${MIN_MAX_PACKET_SIZE} to ${MAX_MAX_PACKET_SIZE}, got ${size}`,
    );
  }
  return size;
}

export class FrameDecoder {
  private direction: Direction | undefined;
  private magic: number;
  private readonly maxPayload: number;
  private readonly stopOnInvalid: boolean;

  /** Stream offset of the first byte of the next chunk pushed. */
  private received = 0;
  /** A frame in progress whose header is known: views of its bytes so far. */
  private pieces: Buffer[] = [];
  private piecesLength = 0;
  private frameLength = 0;
  private frameOffset = 0;
  /** Fewer bytes than a header (or a resync probe) needs: kept as a small copy until more arrive. */
  private head: Buffer | undefined;
  /** Resynchronising: where the bad bytes began and why. */
  private badStart = -1;
  private badCode: AjpErrorCode = 'AJP_ERR_BAD_MAGIC';
  private badReason = '';
  private stopped = false;
  /** Bytes still to come of a frame handed out in part (after a gap): dropped as they arrive. */
  private skipping = 0;

  constructor(opts: FrameDecoderOptions) {
    this.direction = opts.direction === 'auto' ? undefined : opts.direction;
    this.magic = this.direction === undefined ? -1 : magicOf(this.direction);
    this.maxPayload = checkMaxPacketSize(opts.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE) - FRAME_HEADER_SIZE;
    this.stopOnInvalid = opts.onInvalid === 'stop';
    if (opts.midStream === true) this.lostSync(0, 'joined in mid-connection');
  }

  /**
   * `missing` bytes never arrived (a capture dropped them, or its snaplen cut them off); offsets go
   * on counting wire bytes. Inside a frame whose header arrived, the frame's length still says
   * where the next one starts: the frame goes to `sink.partial` as far as it arrived, the rest of
   * it is skipped when it comes, and frame sync is kept, so this returns true. A gap that runs past
   * the frame's end, or that hides a header, loses sync: decoding resumes at the next plausible
   * frame, and this returns false.
   */
  gap(missing: number, sink?: FrameSink): boolean {
    if (this.stopped || this.badStart >= 0) {
      this.received += missing;
      return false;
    }
    if (this.skipping > 0) {
      // Another hole in the tail of a frame already handed out in part.
      this.received += missing;
      if (missing <= this.skipping) {
        this.skipping -= missing;
        return true;
      }
      this.skipping = 0;
      this.lostSync(this.received, `${missing} byte(s) missing from the stream`);
      return false;
    }
    if (this.piecesLength > 0) {
      const whole = Buffer.concat(this.pieces, this.piecesLength);
      const rest = this.frameLength - this.piecesLength;
      this.pieces = [];
      this.piecesLength = 0;
      sink?.partial?.(
        whole.subarray(FRAME_HEADER_SIZE),
        this.frameOffset,
        this.direction as Direction,
        this.frameLength,
      );
      this.received += missing;
      if (missing <= rest) {
        this.skipping = rest - missing;
        return true;
      }
      this.lostSync(this.received, `${missing} byte(s) missing from the stream`);
      return false;
    }
    this.head = undefined;
    this.received += missing;
    this.lostSync(this.received, `${missing} byte(s) missing from the stream`);
    return false;
  }

  private lostSync(at: number, reason: string): void {
    this.badStart = at;
    this.badCode = 'AJP_ERR_RESYNC';
    this.badReason = reason;
  }

  /** The direction in force (undefined while `auto` has seen no magic yet). */
  get streamDirection(): Direction | undefined {
    return this.direction;
  }

  /** Bytes held for an unfinished frame. Never more than maxPacketSize. */
  get bufferedBytes(): number {
    return this.piecesLength + (this.head?.length ?? 0);
  }

  /** Total bytes pushed so far. */
  get offset(): number {
    return this.received;
  }

  push(chunk: Buffer, sink: FrameSink): void {
    const base = this.received;
    this.received += chunk.length;
    if (this.stopped || chunk.length === 0) return;
    let from = 0;
    if (this.skipping > 0) {
      from = Math.min(this.skipping, chunk.length);
      this.skipping -= from;
    }
    while (this.head !== undefined && from < chunk.length) {
      // A header or resync probe straddled chunks: join the few held bytes with a few new ones
      // (at most 12 bytes copied) and scan that; the rest of the chunk is scanned in place.
      const head = this.head;
      this.head = undefined;
      const take = Math.min(chunk.length - from, RESYNC_PROBE);
      this.scan(Buffer.concat([head, chunk.subarray(from, from + take)]), base + from - head.length, sink);
      from += take;
    }
    if (from < chunk.length && !this.stopped) this.scan(from === 0 ? chunk : chunk.subarray(from), base + from, sink);
  }

  /** End of stream: whatever is left is reported (a truncated frame, or bytes skipped while resyncing). */
  end(sink: FrameSink): void {
    const held = this.bufferedBytes;
    if (this.badStart >= 0) {
      this.reportBad(this.received, sink);
    } else if (held > 0 && !this.stopped) {
      const at = this.piecesLength > 0 ? this.frameOffset : this.received - held;
      sink.error(
        new AjpProtocolError(
          'AJP_ERR_END_OF_STREAM',
          this.piecesLength > 0
            ? `the stream ended ${this.frameLength - this.piecesLength} byte(s) short of a ${this.frameLength}-byte packet`
            : `the stream ended inside a packet header (${held} byte(s))`,
          at,
          this.direction,
          held,
        ),
      );
    }
    this.pieces = [];
    this.piecesLength = 0;
    this.head = undefined;
  }

  /** Completes the frame in `pieces` from the start of `chunk`; returns how much of chunk it used. */
  private continueFrame(chunk: Buffer, sink: FrameSink): number {
    const want = this.frameLength - this.piecesLength;
    if (chunk.length < want) {
      this.pieces.push(chunk);
      this.piecesLength += chunk.length;
      return chunk.length;
    }
    // The one copy: a frame that spanned chunks gets a buffer of its own.
    const whole = Buffer.allocUnsafe(this.frameLength);
    let at = 0;
    for (const piece of this.pieces) at += piece.copy(whole, at);
    chunk.copy(whole, at, 0, want);
    this.pieces = [];
    this.piecesLength = 0;
    sink.frame(whole.subarray(FRAME_HEADER_SIZE), this.frameOffset, this.direction as Direction);
    return want;
  }

  /** Splits `buf` (whose byte 0 is at stream offset `base`) from `pos` on. */
  private scan(buf: Buffer, base: number, sink: FrameSink): void {
    const end = buf.length;
    let pos = this.piecesLength > 0 ? this.continueFrame(buf, sink) : 0;
    while (pos < end && !this.stopped) {
      if (this.badStart >= 0) {
        pos = this.resync(buf, base, pos, sink);
        continue;
      }
      const avail = end - pos;
      if (avail < FRAME_HEADER_SIZE) {
        this.head = Buffer.from(buf.subarray(pos));
        return;
      }
      const magic = ((buf[pos] as number) << 8) | (buf[pos + 1] as number);
      const n = ((buf[pos + 2] as number) << 8) | (buf[pos + 3] as number);
      if (magic !== this.magic) {
        if (this.magic !== -1 || !this.adoptDirection(magic)) {
          this.invalid(base + pos, 'AJP_ERR_BAD_MAGIC', `expected ${hex4(this.magic)}, found ${hex4(magic)}`, sink);
          pos++;
          continue;
        }
      }
      if (n > this.maxPayload) {
        this.invalid(
          base + pos,
          'AJP_ERR_TOO_LARGE',
          `payload length ${n} exceeds ${this.maxPayload} (maxPacketSize - 4)`,
          sink,
        );
        pos++;
        continue;
      }
      const total = FRAME_HEADER_SIZE + n;
      if (avail >= total) {
        sink.frame(buf.subarray(pos + FRAME_HEADER_SIZE, pos + total), base + pos, this.direction as Direction);
        pos += total;
        continue;
      }
      // Incomplete: keep a view, copy nothing until the frame is whole.
      this.pieces = [pos === 0 ? buf : buf.subarray(pos)];
      this.piecesLength = avail;
      this.frameLength = total;
      this.frameOffset = base + pos;
      return;
    }
  }

  private invalid(at: number, code: AjpErrorCode, reason: string, sink: FrameSink): void {
    if (this.stopOnInvalid) {
      this.stopped = true;
      sink.error(new AjpProtocolError(code, `${reason}; decoding stopped`, at, this.direction, this.received - at));
      return;
    }
    this.badStart = at;
    this.badCode = code;
    this.badReason = reason;
  }

  /** Scans for the next plausible frame start; returns where scanning should continue. */
  private resync(buf: Buffer, base: number, pos: number, sink: FrameSink): number {
    const end = buf.length;
    while (pos < end) {
      const c = this.nextMagicByte(buf, pos);
      if (c < 0) return end;
      if (end - c < RESYNC_PROBE && !this.probeFitsShort(buf, c)) {
        this.head = Buffer.from(buf.subarray(c));
        return end;
      }
      if (this.plausible(buf, c)) {
        this.reportBad(base + c, sink);
        return c;
      }
      pos = c + 1;
    }
    return end;
  }

  private reportBad(resumeAt: number, sink: FrameSink): void {
    const skipped = resumeAt - this.badStart;
    this.badStart = -1;
    // Resuming right at a frame after a gap or a late start lost nothing more: nothing to report.
    if (skipped === 0 && this.badCode === 'AJP_ERR_RESYNC') return;
    sink.error(
      new AjpProtocolError(
        this.badCode,
        `${this.badReason}; skipped ${skipped} byte(s) to resynchronise`,
        resumeAt - skipped,
        this.direction,
        skipped,
      ),
    );
  }

  private nextMagicByte(buf: Buffer, from: number): number {
    if (this.magic !== -1) return buf.indexOf(this.magic >> 8, from);
    const a = buf.indexOf(MAGIC_TO_CONTAINER >> 8, from);
    const b = buf.indexOf(MAGIC_TO_WEB_SERVER >> 8, from);
    return a < 0 ? b : b < 0 ? a : Math.min(a, b);
  }

  /** A short packet (payload < 2 bytes) can be judged with fewer than RESYNC_PROBE bytes. */
  private probeFitsShort(buf: Buffer, c: number): boolean {
    if (buf.length - c < FRAME_HEADER_SIZE) return false;
    const n = ((buf[c + 2] as number) << 8) | (buf[c + 3] as number);
    return n < 2 && buf.length - c >= FRAME_HEADER_SIZE + n;
  }

  /**
   * §9 resync heuristics: right magic, a length within the limit, and a payload that starts like
   * a message of this direction (a type byte it uses, or a body packet whose u16 is N − 2).
   */
  private plausible(buf: Buffer, c: number): boolean {
    const magic = ((buf[c] as number) << 8) | (buf[c + 1] as number);
    if (
      magic !== this.magic &&
      !(this.magic === -1 && (magic === MAGIC_TO_CONTAINER || magic === MAGIC_TO_WEB_SERVER))
    ) {
      return false;
    }
    const n = ((buf[c + 2] as number) << 8) | (buf[c + 3] as number);
    if (n > this.maxPayload) return false;
    const type = n > 0 ? (buf[c + 4] as number) : -1;
    if (magic === MAGIC_TO_WEB_SERVER) {
      return (
        type === MessageCode.SendBodyChunk ||
        type === MessageCode.SendHeaders ||
        type === MessageCode.EndResponse ||
        type === MessageCode.GetBodyChunk ||
        type === MessageCode.CPong
      );
    }
    if (n === 0) return true;
    if (
      type === MessageCode.ForwardRequest ||
      type === MessageCode.CPing ||
      type === MessageCode.Shutdown ||
      type === MessageCode.Ping
    ) {
      return true;
    }
    return n >= 2 && (((buf[c + 4] as number) << 8) | (buf[c + 5] as number)) === n - 2;
  }

  private adoptDirection(magic: number): boolean {
    if (magic === MAGIC_TO_CONTAINER) this.direction = 'to-container';
    else if (magic === MAGIC_TO_WEB_SERVER) this.direction = 'to-web-server';
    else return false;
    this.magic = magic;
    return true;
  }
}

export function magicOf(direction: Direction): number {
  return direction === 'to-container' ? MAGIC_TO_CONTAINER : MAGIC_TO_WEB_SERVER;
}

function hex4(v: number): string {
  return v < 0
    ? 'a magic'
    : v
        .toString(16)
        .padStart(4, '0')
        .replace(/(..)(..)/, '$1 $2');
}
