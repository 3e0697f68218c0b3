/**
 * The CLI's view of src/errors.ts: exit codes, and short constructors for the two error kinds.
 * Exit codes are decided by the error's class, in main(), never by its message.
 */
import { RuntimeError, UsageError, type RuntimeErrorCode, type UsageErrorCode } from '../errors.js';

export { AjpbenchError, ExitCode, RuntimeError, UsageError } from '../errors.js';

export function usageError(message: string, code: UsageErrorCode = 'AJPBENCH_ERR_USAGE'): UsageError {
  return new UsageError(message, code);
}

export function runtimeError(message: string, code: RuntimeErrorCode = 'AJPBENCH_ERR_INTERNAL'): RuntimeError {
  return new RuntimeError(message, code);
}
