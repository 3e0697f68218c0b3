/** Exit codes shared by every command (README "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  /** A verdict failed: a threshold, a fairness test. */
  VerdictFailed: 1,
  /** Bad flags or arguments. */
  Usage: 2,
  /** Something failed at run time: a file that cannot be read, a backend that cannot be reached. */
  Runtime: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends a command with a given exit code and a message for stderr. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export function usageError(message: string): CommandError {
  return new CommandError(message, ExitCode.Usage);
}

export function runtimeError(message: string): CommandError {
  return new CommandError(message, ExitCode.Runtime);
}
