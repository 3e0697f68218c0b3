/** The ajpbench command line: commander wiring only; each command is a thin layer over the library. */
import { Command, CommanderError } from 'commander';
import { decodeCommand } from './decode-command.js';
import { inspectCommand } from './inspect-command.js';
import { AjpbenchError, ExitCode } from './exit-codes.js';
import { importCommand } from './import-command.js';
import { recordCommand } from './record-command.js';
import { replayCommand } from './replay-command.js';
import { reportCommand } from './report-command.js';
import { compareCommand } from './compare-command.js';
import { fairnessCommand } from './fairness-command.js';
import { sweepCommand } from './sweep-command.js';
import { auditCommand } from './audit-command.js';
import { serveCommand } from './serve-command.js';
import { diffCommand } from './diff-command.js';
import { filterCommand } from './filter-command.js';
import { mergeCommand } from './merge-command.js';
import { exportCommand } from './export-command.js';
import type { RunContext } from './run-context.js';
import { toolVersion } from './version.js';

export function buildProgram(ctx: RunContext = { exitCode: ExitCode.Ok }): Command {
  const program = new Command('ajpbench')
    .description('Record, replay and load-test AJP13 traffic between web servers (mod_jk, mod_proxy_ajp) and Tomcat.')
    .version(toolVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a verdict failed (threshold, fairness, audit finding), 2 usage error, 3 runtime failure.\n' +
        'Add --debug (or set AJPBENCH_DEBUG=1) to print the stack of a failure.',
    );
  program.addCommand(decodeCommand(ctx));
  program.addCommand(importCommand(ctx));
  program.addCommand(inspectCommand(ctx));
  program.addCommand(filterCommand(ctx));
  program.addCommand(mergeCommand(ctx));
  program.addCommand(exportCommand(ctx));
  program.addCommand(recordCommand(ctx));
  program.addCommand(replayCommand(ctx));
  program.addCommand(serveCommand(ctx));
  program.addCommand(reportCommand(ctx));
  program.addCommand(compareCommand(ctx));
  program.addCommand(fairnessCommand(ctx));
  program.addCommand(sweepCommand(ctx));
  program.addCommand(auditCommand(ctx));
  program.addCommand(diffCommand(ctx));
  // Every subcommand reports usage errors through exitOverride so that main() maps them to exit 2.
  for (const cmd of [program, ...program.commands])
    cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** `--debug` anywhere on the command line, or AJPBENCH_DEBUG=1: print the stack of a failure. */
function debugRequested(argv: readonly string[]): boolean {
  const env = process.env.AJPBENCH_DEBUG;
  return argv.includes('--debug') || (env !== undefined && env !== '' && env !== '0');
}

/**
 * The one place where a failure becomes an exit code and a line on stderr: an AjpbenchError says
 * which (UsageError 2, RuntimeError 3), anything else is a bug and exit 3. The stack is printed
 * only when debugging was asked for.
 */
export function reportFailure(
  e: unknown,
  debug: boolean,
  write: (s: string) => void = (s) => process.stderr.write(s),
): ExitCode {
  if (e instanceof AjpbenchError) {
    write(`ajpbench: ${e.message}\n`);
    if (debug && e.stack !== undefined) write(`${e.stack}\n`);
    return e.exitCode;
  }
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  write(`ajpbench: internal error: ${what}${debug ? '' : ' (run with --debug for the stack, and please report it)'}\n`);
  if (debug && e instanceof Error && e.stack !== undefined) write(`${e.stack}\n`);
  return ExitCode.Runtime;
}

/** Runs the CLI and returns the exit code (never calls process.exit itself). */
export async function main(argv: string[]): Promise<number> {
  const ctx: RunContext = { exitCode: ExitCode.Ok };
  const debug = debugRequested(argv);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(
      argv.filter((a) => a !== '--debug'),
      { from: 'user' },
    );
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    return reportFailure(e, debug);
  }
  return ctx.exitCode;
}

/**
 * Last-resort guards for the process that runs the CLI (bin/ajpbench), not for tests that call
 * main(): a closed stdout (`| head`) ends the run quietly, and a failure that escaped every command
 * still ends in one line and exit 3 rather than a stack trace.
 */
export function installProcessGuards(argv: readonly string[]): void {
  const debug = debugRequested(argv);
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      // The reader went away: nothing more can be shown, and that is not a failure of the run.
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.Ok);
      throw e;
    });
  }
  const fatal = (e: unknown): void => {
    process.exitCode = reportFailure(e, debug);
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}
