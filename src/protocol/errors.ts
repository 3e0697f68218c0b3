/**
 * The catalog of protocol errors. Codes are stable: they appear in decode output, trace `error`
 * events and docs/errors.md, so never rename one.
 */
import type { Direction } from './messages.js';

export const AJP_ERROR_CODES = {
  AJP_ERR_BAD_MAGIC: 'the packet does not start with the magic of its direction (12 34 or 41 42)',
  AJP_ERR_TOO_LARGE: 'the packet length exceeds maxPacketSize - 4',
  AJP_ERR_TRUNCATED: 'a field runs past the end of the packet payload',
  AJP_ERR_UNKNOWN_TYPE: 'the message type byte is not defined for this direction',
  AJP_ERR_BAD_METHOD: 'the method code is 0 or 28-254',
  AJP_ERR_UNKNOWN_HEADER_CODE: 'a coded header name 0xA0nn is outside the table',
  AJP_ERR_NULL_HEADER_NAME: 'a header name is the null string',
  AJP_ERR_UNKNOWN_ATTRIBUTE: 'an attribute code is 0x0E-0xFE (its value length is unknown, so decoding cannot go on)',
  AJP_ERR_MISSING_TERMINATOR: 'the Forward Request attribute list does not end with 0xFF',
  AJP_ERR_TRAILING_BYTES: 'bytes remain in the payload after the message',
  AJP_ERR_BAD_BODY_LENGTH: 'a body packet chunk length does not fit its packet length',
  AJP_ERR_END_OF_STREAM: 'the stream ended inside a packet',
  AJP_ERR_RESYNC: 'decoding resumed at the next plausible frame after missing bytes or a start in mid-connection',
  AJP_ERR_ENCODE: 'a message cannot be encoded (too large for the packet, or a field out of range)',
} as const;

export type AjpErrorCode = keyof typeof AJP_ERROR_CODES;

/** A decoding problem: which rule was broken, where, and how many bytes the decoder skipped over. */
export class AjpProtocolError extends Error {
  override readonly name = 'AjpProtocolError';
  constructor(
    readonly code: AjpErrorCode,
    message: string,
    /** Stream offset (in its direction) of the frame or byte where the problem starts. */
    readonly offset: number,
    readonly direction: Direction | undefined,
    /** Bytes dropped to get back in sync (resynchronisation), 0 when the frame boundary held. */
    readonly skipped = 0,
  ) {
    super(message);
  }

  toJSON(): { code: AjpErrorCode; message: string; offset: number; direction?: Direction; skipped: number } {
    return {
      code: this.code,
      message: this.message,
      offset: this.offset,
      ...(this.direction === undefined ? {} : { direction: this.direction }),
      skipped: this.skipped,
    };
  }
}

/** Thrown by encoders: a message that cannot go on the wire as given. */
export class AjpEncodeError extends Error {
  override readonly name = 'AjpEncodeError';
  readonly code = 'AJP_ERR_ENCODE' as const;
}

/**
 * Raised inside the payload parsers and caught at the frame boundary, where it becomes an
 * AjpProtocolError with the stream offset. Never escapes the codec.
 */
export class PayloadError extends Error {
  constructor(
    readonly code: AjpErrorCode,
    message: string,
    /** Offset within the payload. */
    readonly at: number,
  ) {
    super(message);
  }
}
