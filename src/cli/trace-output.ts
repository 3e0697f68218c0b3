/**
 * What the commands that write a trace (filter, merge, import of a HAR) share: the output (a file,
 * mode 0600, or stdout for `-o -` and no -o), and the one-line form of an input trace's failures.
 */
import { statSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { TraceFormatError, TraceWriter, type TraceHeader } from '../trace/index.js';
import { AjpbenchError, runtimeError, usageError } from './exit-codes.js';
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

/**
 * Refuses an output that is one of the inputs (the same file by device and inode, whatever the path):
 * it would be truncated before it is read, and the input lost.
 */
export function checkOutputIsNotAnInput(output: string | undefined, inputs: readonly string[], flag = '-o'): void {
  if (output === undefined) return;
  const out = statOrUndefined(output);
  if (out === undefined) return;
  for (const input of inputs) {
    if (input === '-') continue;
    const st = statOrUndefined(input);
    if (st !== undefined && st.dev === out.dev && st.ino === out.ino)
      throw usageError(
        `${flag} ${output} is also the input ${input}: it would be emptied before it is read; write another file`,
      );
  }
}

function statOrUndefined(path: string): { dev: number; ino: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
