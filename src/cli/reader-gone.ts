/**
 * `ajpbench ... | head`: the reader took what it wanted and closed the pipe. The output writers
 * (LineWriter, TraceWriter) turn the EPIPE into a RuntimeError AJPBENCH_ERR_OUTPUT with the system
 * error as its cause; a command that writes to stdout ends quietly on it, as a Unix filter does,
 * whether or not bin's process guard is there to catch it first.
 */
import { errnoCode, RuntimeError } from '../errors.js';

export function readerWentAway(e: unknown): boolean {
  return e instanceof RuntimeError && e.code === 'AJPBENCH_ERR_OUTPUT' && errnoCode(e.cause) === 'EPIPE';
}
