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
  const summary: DecodeStreamSummary = {
    direction: opts.direction === 'auto' ? undefined : opts.direction,
    frames: 0,
    errors: 0,
    bytes: 0,
  };
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

/** What --hex takes besides the digits (docs/decode.md): said in every error, so the fix is plain. */
export const HEX_TEXT_ALLOWED =
  "pairs of hex digits, spaces, newlines, ':' and ',' between bytes, 0x before a byte, # comments";

/**
 * Hex text to bytes: hex digits, two per byte, with spaces, tabs, newlines, ':' and ',' anywhere
 * between them; `0x` before a byte is dropped and `#` starts a comment to the end of the line.
 * Anything else is refused with its offset rather than dropped: a stray character most often
 * means the text is not what the user thinks (an xxd dump with its text column, a paste cut short),
 * and silently skipping it would decode different bytes. Throws RangeError.
 */
export function parseHexText(text: string): Buffer {
  const digits: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfeff && i === 0) continue; // a byte order mark, as some editors save
    if (isHexDigit(c)) {
      // "0x" before a byte: the x follows a 0 that starts a number.
      const next = text.charCodeAt(i + 1);
      if (c === 0x30 && (next === 0x78 || next === 0x58) && !isHexDigit(text.charCodeAt(i - 1))) i++;
      else digits.push(c);
    } else if (c === 0x23) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol;
    } else if (!SEPARATORS.has(c))
      throw new RangeError(
        `hex input: ${JSON.stringify(String.fromCodePoint(text.codePointAt(i) ?? c))} at ${where(text, i)} is not a hex digit (allowed: ${HEX_TEXT_ALLOWED})`,
      );
  }
  if (digits.length % 2 !== 0)
    throw new RangeError(
      `hex input has an odd number of hex digits (${digits.length}): the last byte is missing a digit`,
    );
  const bytes = pairs(digits);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Space, tab, CR, LF, ':' and ','. */
const SEPARATORS = new Set([0x20, 0x09, 0x0d, 0x0a, 0x3a, 0x2c]);

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** "offset 19 (line 2, column 5)": offset from 0, line and column from 1, in characters. */
function where(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return `offset ${offset} (line ${line}, column ${offset - lineStart + 1})`;
}

/** Hex digit codes, two per byte, to the bytes. */
function pairs(digits: number[]): Uint8Array {
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++)
    out[i] = (hexValue(digits[2 * i] as number) << 4) | hexValue(digits[2 * i + 1] as number);
  return out;
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}
