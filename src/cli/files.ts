/**
 * Files a command reads or writes, and how their failures are said: "cannot read FILE: why"
 * (AJPBENCH_ERR_INPUT) and "cannot write FILE: why" (AJPBENCH_ERR_OUTPUT), in words, one place.
 */
import { accessSync, constants, statSync, writeFileSync, type Stats } from 'node:fs';
import { describeFileError, type RuntimeError } from '../errors.js';
import { runtimeError } from './exit-codes.js';

export function cannotRead(file: string, e: unknown): RuntimeError {
  return runtimeError(`cannot read ${file}: ${describeFileError(e)}`, 'AJPBENCH_ERR_INPUT');
}

export function cannotWrite(file: string, e: unknown): RuntimeError {
  return runtimeError(`cannot write ${file}: ${describeFileError(e)}`, 'AJPBENCH_ERR_OUTPUT');
}

/** An input file's stat: a missing file, a directory or one not readable is refused here, before any output. */
export function statInput(file: string): Stats {
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    accessSync(file, constants.R_OK);
    return st;
  } catch (e) {
    throw cannotRead(file, e);
  }
}

/** Writes a whole output file (--json, --hgrm, --html, --junit). */
export function writeOutput(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw cannotWrite(file, e);
  }
}
