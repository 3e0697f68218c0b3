/** Errors reading a trace. Codes are stable (docs/trace-format.md). */
export type TraceErrorCode =
  | 'TRACE_ERR_NOT_A_TRACE'
  | 'TRACE_ERR_NEWER_VERSION'
  | 'TRACE_ERR_BAD_LINE'
  | 'TRACE_ERR_LINE_TOO_LONG'
  | 'TRACE_ERR_EMPTY';

export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
  constructor(
    readonly code: TraceErrorCode,
    message: string,
    /** 1-based line number in the trace file. */
    readonly line: number,
  ) {
    super(message);
  }
}
