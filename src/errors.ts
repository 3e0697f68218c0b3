/**
 * The errors that end a command. Every layer may throw them (this module imports nothing); the CLI
 * maps them to exit codes in one place (src/cli/main.ts): a UsageError is exit 2, anything else
 * exit 3. Codes are stable: scripts match on them and docs/errors.md lists them, so never rename one.
 */

export const USAGE_ERROR_CODES = {
  AJPBENCH_ERR_USAGE: 'a flag or argument is malformed, out of range or missing',
  AJPBENCH_ERR_PROFILE: 'a --profile file cannot be read or names an unknown or bad option',
  AJPBENCH_ERR_TARGET: 'a --target, --listen, --upstream or --tap address is not one ajpbench can use',
} as const;

export const RUNTIME_ERROR_CODES = {
  AJPBENCH_ERR_INPUT: 'an input file cannot be read (missing, a directory, no permission, an I/O error)',
  AJPBENCH_ERR_TRACE: 'a trace file is not a trace, or is from a newer ajpbench',
  AJPBENCH_ERR_SESSIONS: 'replay --sessions: the trace holds more exchanges than a session replay keeps in memory',
  AJPBENCH_ERR_CAPTURE: 'a capture is not pcap or pcapng, is empty, or holds no AJP traffic',
  AJPBENCH_ERR_HAR:
    'a HAR file is not valid JSON or lacks a field HAR 1.2 requires; the message names the entry and field',
  AJPBENCH_ERR_RESULTS: 'a results file (replay --json and the like) is not valid; the message names the field',
  AJPBENCH_ERR_OUTPUT: 'an output file cannot be written (no permission, a full disk, the reader went away)',
  AJPBENCH_ERR_BACKEND: 'no request got a response: the backend is unreachable, refuses or does not answer',
  AJPBENCH_ERR_JK_STATUS: "mod_jk's status worker cannot be read (unreachable, not a status worker, an HTTP error)",
  AJPBENCH_ERR_LISTEN: 'a listening address cannot be bound (in use, not local, no permission)',
  AJPBENCH_ERR_TRACE_LOST:
    'traffic was forwarded but part of its trace could not be written (reported, never fatal to traffic)',
  AJPBENCH_ERR_INTERRUPTED: 'the run was stopped (Ctrl-C, SIGTERM) before it had measured anything',
  AJPBENCH_ERR_INTERNAL: 'an unexpected failure inside ajpbench (a bug: run with --debug and report the stack)',
} as const;

export type UsageErrorCode = keyof typeof USAGE_ERROR_CODES;
export type RuntimeErrorCode = keyof typeof RUNTIME_ERROR_CODES;
export type AjpbenchErrorCode = UsageErrorCode | RuntimeErrorCode;

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

/** An error meant for the user: one line, a stable code, and the exit code it ends the run with. */
export abstract class AjpbenchError extends Error {
  abstract readonly code: AjpbenchErrorCode;
  abstract readonly exitCode: ExitCode;
}

/** The command line asked for something that cannot be done as asked: exit 2. */
export class UsageError extends AjpbenchError {
  override readonly name = 'UsageError';
  readonly exitCode = ExitCode.Usage;
  constructor(
    message: string,
    readonly code: UsageErrorCode = 'AJPBENCH_ERR_USAGE',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The run failed for a reason outside the command line (a file, a peer, the disk): exit 3. */
export class RuntimeError extends AjpbenchError {
  override readonly name = 'RuntimeError';
  readonly exitCode = ExitCode.Runtime;
  constructor(
    message: string,
    readonly code: RuntimeErrorCode = 'AJPBENCH_ERR_INTERNAL',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The system error code of a Node error (ENOENT, EISDIR, ECONNREFUSED, ...), if it has one. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A short, human reason for a failed file operation: "no such file", "is a directory", ... */
export function describeFileError(e: unknown): string {
  switch (errnoCode(e)) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'EPIPE':
      return 'the reader went away';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
