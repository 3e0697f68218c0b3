/**
 * Decodes both directions of one AJP connection into typed messages.
 *
 * Server-bound body packets carry no type byte (§6), so whether a web-server→container packet is
 * a body or a message depends on the exchange: the first body packet follows a Forward Request
 * that has a Content-Length > 0 unasked, every later one answers a Get Body Chunk, and an empty
 * packet ends the body. Feed each direction's bytes in the order they were seen; a Get Body
 * Chunk is always seen before the body packet that answers it, because the web server only
 * sends that packet after receiving it.
 *
 * With only the web-server side at hand (`oneSided`), Get Body Chunks are invisible: the decoder
 * then counts body bytes against Content-Length, reads a chunked body until its empty packet, and
 * otherwise uses the §9 fallback: a packet whose first u16 equals its length − 2 is a body unless
 * it decodes cleanly as a message. In either mode such a packet is a body when its first byte is
 * no web-server→container type (the empty body packet 12 34 00 02 00 00 above all).
 */
import { MessageCode } from './constants.js';
import { AjpProtocolError, PayloadError } from './errors.js';
import { FrameDecoder, type FrameSink } from './frame-decoder.js';
import {
  decodeBody,
  decodePrefix,
  decodeToContainer,
  decodeToWebServer,
  type MessageDecodeOptions,
} from './message-decoder.js';
import {
  findHeader,
  hasChunkedBody,
  type AjpMessage,
  type Direction,
  type FrameInfo,
  type ToContainerMessage,
} from './messages.js';

export interface MessageSink {
  message(msg: AjpMessage, info: FrameInfo): void;
  error(err: AjpProtocolError): void;
}

export interface ConversationDecoderOptions extends MessageDecodeOptions {
  maxPacketSize?: number;
  onInvalid?: 'resync' | 'stop';
  /** Only the web-server → container side will be pushed. */
  oneSided?: boolean;
  /** The connection was joined in mid-stream (a capture that started late). */
  midStream?: boolean;
}

export class ConversationDecoder {
  private readonly toContainer: FrameDecoder;
  private readonly toWebServer: FrameDecoder;
  private readonly decodeOpts: MessageDecodeOptions;
  private readonly oneSided: boolean;
  private sink: MessageSink | undefined;

  /** Body packets the web server owes: one for a Forward Request with a body, one per Get Body Chunk. */
  private owedBodies = 0;
  /** One-sided: inside a request body; remaining Content-Length bytes, or -1 for a chunked body. */
  private bodyRemaining = 0;
  private inBody = false;
  /** Until a first Forward Request is seen (a capture joined mid-connection) the state is a guess. */
  private knowsState = false;

  private readonly containerFrames: FrameSink = {
    frame: (payload, offset) => this.onToContainer(payload, offset),
    error: (err) => this.sink?.error(err),
    partial: (prefix, offset, _direction, length) => this.onPartial('to-container', prefix, offset, length),
  };
  private readonly webServerFrames: FrameSink = {
    frame: (payload, offset) => this.onToWebServer(payload, offset),
    error: (err) => this.sink?.error(err),
    partial: (prefix, offset, _direction, length) => this.onPartial('to-web-server', prefix, offset, length),
  };

  constructor(opts: ConversationDecoderOptions = {}) {
    const frameOpts = { maxPacketSize: opts.maxPacketSize, onInvalid: opts.onInvalid, midStream: opts.midStream };
    this.toContainer = new FrameDecoder({ direction: 'to-container', ...frameOpts });
    this.toWebServer = new FrameDecoder({ direction: 'to-web-server', ...frameOpts });
    this.decodeOpts = { strict: opts.strict };
    this.oneSided = opts.oneSided === true;
  }

  push(direction: Direction, chunk: Buffer, sink: MessageSink): void {
    this.sink = sink;
    if (direction === 'to-container') this.toContainer.push(chunk, this.containerFrames);
    else this.toWebServer.push(chunk, this.webServerFrames);
  }

  /**
   * Bytes missing in one direction (a capture gap). Inside a frame whose header arrived, the frame
   * is decoded as far as it arrived (a message with `info.cut`, see FrameInfo) and frame sync and
   * the exchange state are kept: returns true. Otherwise the decoder resynchronises on the next
   * plausible frame and forgets the exchange state: returns false.
   */
  gap(direction: Direction, missing: number, sink?: MessageSink): boolean {
    if (sink !== undefined) this.sink = sink;
    const frames = direction === 'to-container' ? this.toContainer : this.toWebServer;
    const kept = frames.gap(missing, direction === 'to-container' ? this.containerFrames : this.webServerFrames);
    if (!kept) {
      this.owedBodies = 0;
      this.inBody = false;
      this.knowsState = false;
    }
    return kept;
  }

  /** End of both streams: reports any unfinished frame. */
  end(sink: MessageSink): void {
    this.sink = sink;
    this.toContainer.end(this.containerFrames);
    this.toWebServer.end(this.webServerFrames);
  }

  /** Bytes held for unfinished frames, both directions. */
  get bufferedBytes(): number {
    return this.toContainer.bufferedBytes + this.toWebServer.bufferedBytes;
  }

  private onToContainer(payload: Buffer, offset: number): void {
    const info: FrameInfo = { direction: 'to-container', offset, length: payload.length + 4 };
    try {
      const msg = this.isBody(payload)
        ? decodeBody(payload, this.decodeOpts)
        : decodeToContainer(payload, this.decodeOpts);
      this.track(msg);
      this.sink?.message(msg, info);
    } catch (e) {
      this.fail(e, info);
    }
  }

  private onToWebServer(payload: Buffer, offset: number): void {
    const info: FrameInfo = { direction: 'to-web-server', offset, length: payload.length + 4 };
    try {
      const msg = decodeToWebServer(payload, this.decodeOpts);
      if (msg.type === 'get-body-chunk') this.owedBodies++;
      else if (msg.type === 'end-response') this.endExchange();
      this.knowsState ||= msg.type === 'end-response' || msg.type === 'cpong';
      this.sink?.message(msg, info);
    } catch (e) {
      this.fail(e, info);
    }
  }

  /** A frame cut by a gap: its message decoded from the prefix that arrived (decodePrefix). */
  private onPartial(direction: Direction, prefix: Buffer, offset: number, length: number): void {
    const payloadLength = length - 4;
    const body = direction === 'to-container' && this.isBodyPrefix(prefix, payloadLength);
    const decoded = decodePrefix(direction, prefix, body);
    if (decoded === undefined) {
      const type = prefix.length > 0 ? `type 0x${(prefix[0] as number).toString(16).padStart(2, '0')}` : 'no byte';
      this.sink?.error(
        new AjpProtocolError(
          'AJP_ERR_TRUNCATED',
          `a ${length}-byte packet (${type}) lost ${payloadLength - prefix.length} byte(s) and cannot be read in part`,
          offset,
          direction,
          length,
        ),
      );
      return;
    }
    const { msg, cutAt } = decoded;
    const info: FrameInfo = {
      direction,
      offset,
      length,
      ...(cutAt === undefined ? {} : { cut: { captured: prefix.length + 4, cutAt } }),
    };
    if (msg.type === 'body') this.track(msg, Math.max(0, payloadLength - 2));
    else if (msg.type === 'forward-request') {
      this.track(msg);
      // Its Content-Length may be past the cut: bodies are then told by their shape (§9).
      if (cutAt !== undefined) this.knowsState = false;
    }
    this.sink?.message(msg, info);
  }

  /** isBody for a frame of which only `prefix` arrived: its length is known from its header. */
  private isBodyPrefix(prefix: Buffer, payloadLength: number): boolean {
    if (this.owedBodies > 0 || (this.oneSided && this.inBody)) return true;
    if (prefix.length < 2 || (((prefix[0] as number) << 8) | (prefix[1] as number)) !== payloadLength - 2) return false;
    return !TO_CONTAINER_TYPES.has(prefix[0] as number) || !this.knowsState;
  }

  private isBody(payload: Buffer): boolean {
    if (payload.length === 0) return true; // 12 34 00 00: only ever the end of a body
    if (this.owedBodies > 0) return true;
    if (this.oneSided && this.inBody) return true;
    if (!selfConsistent(payload)) return false;
    // A body packet whose u16 is its length − 2 and whose first byte is no web-server→container
    // type: nothing else it can be. The empty end-of-body packet 12 34 00 02 00 00, which mod_jk
    // and mod_proxy_ajp send after a body's last byte (answering a Get Body Chunk that one
    // direction alone does not show), is the common case.
    if (!TO_CONTAINER_TYPES.has(payload[0] as number)) return true;
    // Both: a first byte that is also a type (a 514-767-byte chunk starts 02). With both directions
    // and a known state, a body would have been owed; with one, take it as a message only if it
    // decodes cleanly as one (§9).
    if (this.knowsState && !this.oneSided) return false;
    return looksLikeBody(payload, this.decodeOpts);
  }

  /** `bodyLength`: the body packet's length on the wire, when only part of its data arrived. */
  private track(msg: ToContainerMessage, bodyLength = msg.type === 'body' ? msg.data.length : 0): void {
    if (msg.type === 'forward-request') {
      this.knowsState = true;
      const length = findHeader(msg.headers, 'content-length');
      const contentLength = length === undefined || length === null ? 0 : Number.parseInt(length, 10) || 0;
      const chunked = hasChunkedBody(msg.headers);
      // §6.2: with Content-Length > 0 the first body packet follows unasked; a chunked body waits to be asked.
      this.owedBodies = contentLength > 0 ? 1 : 0;
      this.inBody = contentLength > 0 || chunked;
      this.bodyRemaining = chunked ? -1 : contentLength;
    } else if (msg.type === 'body') {
      if (this.owedBodies > 0) this.owedBodies--;
      if (bodyLength === 0) this.inBody = false;
      else if (this.bodyRemaining > 0) {
        this.bodyRemaining -= bodyLength;
        if (this.bodyRemaining <= 0) this.inBody = false;
      }
    } else if (msg.type === 'cping') {
      this.knowsState = true;
    }
  }

  private endExchange(): void {
    this.owedBodies = 0;
    this.inBody = false;
    this.knowsState = true;
  }

  private fail(e: unknown, info: FrameInfo): void {
    if (!(e instanceof PayloadError)) throw e; // a bug in the codec, not bad input: let it surface
    this.sink?.error(new AjpProtocolError(e.code, e.message, info.offset, info.direction, 0));
  }
}

/** Type bytes a web-server→container message can start with (§4, §7). */
const TO_CONTAINER_TYPES: ReadonlySet<number> = new Set([
  MessageCode.ForwardRequest,
  MessageCode.Shutdown,
  MessageCode.Ping,
  MessageCode.CPing,
]);

/** §6: a body packet's payload is `u16 n` and n bytes, so its u16 is its length − 2. */
function selfConsistent(payload: Buffer): boolean {
  return payload.length >= 2 && (((payload[0] as number) << 8) | (payload[1] as number)) === payload.length - 2;
}

/** §9 fallback for a self-consistent payload that also starts with a message type. */
function looksLikeBody(payload: Buffer, opts: MessageDecodeOptions): boolean {
  try {
    decodeToContainer(payload, { ...opts, strict: true });
    return false; // decodes cleanly as a message, so take it as one
  } catch {
    return true;
  }
}
