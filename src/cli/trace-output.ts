/**
 * What the commands that write a trace (filter, merge, import of a HAR) share: the output (a file,
 * mode 0600, or stdout for `-o -` and no -o), and the one-line form of an input trace's failures.
 */
import { errnoCode } from '../errors.js';
import { TraceFormatError, TraceWriter, type TraceHeader } from '../trace/index.js';
import { AjpbenchError, runtimeError } from './exit-codes.js';
import { cannotRead, cannotWrite } from './files.js';

/** `-o -` means stdout, as no -o does. */
export function outputPath(output: string | undefined): string | undefined {
  return output === '-' ? undefined : output;
}

/** The writer factory the library calls with the derived header. */
export function openTraceOutput(output: string | undefined): (header: TraceHeader) => Promise<TraceWriter> {
  return async (header) => {
    if (output === undefined) return TraceWriter.toStream(process.stdout, header, 'stdout');
    try {
      return await TraceWriter.create(output, header);
    } catch (e) {
      throw cannotWrite(output, e);
    }
  };
}

/**
 * A failure reading an input trace as one line: not a trace, newer, or a file error. `file` names the
 * input, unless the message already does (undefined).
 */
export function traceInputFailure(e: unknown, file: string | undefined): unknown {
  if (e instanceof AjpbenchError) return e;
  if (e instanceof TraceFormatError)
    return runtimeError(`${file === undefined ? '' : `${file}: `}${e.message}`, 'AJPBENCH_ERR_TRACE');
  if (/^E[A-Z0-9]+$/.test(errnoCode(e) ?? '')) return cannotRead(file ?? 'an input', e);
  return e;
}

/** Where a summary line says the trace went. */
export function outputName(output: string | undefined): string {
  return output === undefined ? 'stdout' : output;
}
