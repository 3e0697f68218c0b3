/**
 * Decodes one direction of one connection, read as a stream of chunks, into messages and errors:
 * the library side of `ajpbench decode`.
 */
import { MAGIC_TO_CONTAINER, MAGIC_TO_WEB_SERVER } from './constants.js';
import { ConversationDecoder, type MessageSink } from './conversation-decoder.js';
import type { AjpProtocolError } from './errors.js';
import type { AjpMessage, Direction, FrameInfo } from './messages.js';

export interface DecodeStreamOptions {
  /** `auto` tells the direction from the first magic in the stream. */
  direction: Direction | 'auto';
  maxPacketSize?: number;
  strict?: boolean;
}

export interface DecodeStreamSummary {
  direction: Direction | undefined;
  frames: number;
  errors: number;
  bytes: number;
}

export async function decodeByteStream(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  opts: DecodeStreamOptions,
  onMessage: (msg: AjpMessage, info: FrameInfo) => void,
  onError: (err: AjpProtocolError) => void,
  /** Awaited after each chunk: lets the consumer apply back-pressure (a full stdout). */
  afterChunk?: () => Promise<void>,
): Promise<DecodeStreamSummary> {
  const summary: DecodeStreamSummary = { direction: opts.direction === 'auto' ? undefined : opts.direction, frames: 0, errors: 0, bytes: 0 };
  const sink: MessageSink = {
    message: (msg, info) => {
      summary.frames++;
      onMessage(msg, info);
    },
    error: (err) => {
      summary.errors++;
      onError(err);
    },
  };
  // One direction only: Get Body Chunks are not visible, so bodies are followed by their lengths (§9).
  const decoder = new ConversationDecoder({ maxPacketSize: opts.maxPacketSize, strict: opts.strict, oneSided: true });
  for await (const chunk of chunks) {
    summary.bytes += chunk.length;
    summary.direction ??= directionFromMagic(chunk);
    decoder.push(summary.direction ?? 'to-container', chunk, sink);
    if (afterChunk !== undefined) await afterChunk();
  }
  decoder.end(sink);
  return summary;
}

/** The direction of the first magic found in `chunk`, if any. */
export function directionFromMagic(chunk: Buffer): Direction | undefined {
  for (let i = 0; i + 1 < chunk.length; i++) {
    const v = ((chunk[i] as number) << 8) | (chunk[i + 1] as number);
    if (v === MAGIC_TO_CONTAINER) return 'to-container';
    if (v === MAGIC_TO_WEB_SERVER) return 'to-web-server';
  }
  return undefined;
}

/**
 * Hex text to bytes: pairs of hex digits, separated by anything that is not a hex digit
 * (spaces, newlines, colons). `#` starts a comment to the end of the line; a leading `0x` is
 * dropped. Throws on an odd number of digits.
 */
export function parseHexText(text: string): Buffer {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').replace(/\b0x/gi, ''))
    .join('')
    .replace(/[^0-9a-fA-F]/g, '');
  if (digits.length % 2 !== 0) throw new RangeError(`hex input has an odd number of digits (${digits.length})`);
  return Buffer.from(digits, 'hex');
}
