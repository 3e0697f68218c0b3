import {
  AjpEncoder,
  ConversationDecoder,
  type AjpMessage,
  type AjpProtocolError,
  type ConversationDecoderOptions,
  type Direction,
  type FrameInfo,
} from '../../../src/protocol/index.js';

export interface Decoded {
  messages: { msg: AjpMessage; info: FrameInfo }[];
  errors: AjpProtocolError[];
}

/** Pushes `chunks` for one direction through a fresh conversation decoder and collects everything. */
export function decodeChunks(direction: Direction, chunks: Buffer[], opts: ConversationDecoderOptions = {}): Decoded {
  const out: Decoded = { messages: [], errors: [] };
  const sink = {
    message: (msg: AjpMessage, info: FrameInfo) => out.messages.push({ msg, info }),
    error: (e: AjpProtocolError) => out.errors.push(e),
  };
  const dec = new ConversationDecoder({ oneSided: direction === 'to-container', ...opts });
  for (const c of chunks) dec.push(direction, c, sink);
  dec.end(sink);
  return out;
}

export function decodeOne(direction: Direction, bytes: Buffer, opts: ConversationDecoderOptions = {}): AjpMessage {
  const out = decodeChunks(direction, [bytes], opts);
  if (out.errors.length > 0) throw out.errors[0];
  if (out.messages.length !== 1) throw new Error(`expected one message, got ${out.messages.length}`);
  return (out.messages[0] as { msg: AjpMessage }).msg;
}

/** Splits `bytes` into pieces at the given cut points. */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    pieces.push(bytes.subarray(prev, c));
    prev = c;
  }
  pieces.push(bytes.subarray(prev));
  return pieces;
}

/** A JSON-comparable form of a message: Buffers become hex. */
export function plain(msg: AjpMessage): unknown {
  return JSON.parse(
    JSON.stringify(msg, (_k, v: unknown) => (isBufferJson(v) ? Buffer.from(v.data).toString('hex') : v)),
  );
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((v as { data?: unknown }).data)
  );
}

export const encoder = new AjpEncoder();
