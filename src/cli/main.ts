/** The ajpbench command line: commander wiring only; each command is a thin layer over the library. */
import { Command, CommanderError } from 'commander';
import { decodeCommand } from './decode-command.js';
import { inspectCommand } from './inspect-command.js';
import { CommandError, ExitCode } from './exit-codes.js';
import { importCommand } from './import-command.js';
import { recordCommand } from './record-command.js';
import { replayCommand } from './replay-command.js';
import { reportCommand } from './report-command.js';
import { compareCommand } from './compare-command.js';
import { fairnessCommand } from './fairness-command.js';
import { sweepCommand } from './sweep-command.js';
import { serveCommand } from './serve-command.js';
import { toolVersion } from './version.js';


/** What a command's action reports back to main(). */
export interface RunContext {
  exitCode: number;
}

export function buildProgram(ctx: RunContext = { exitCode: ExitCode.Ok }): Command {
  const program = new Command('ajpbench')
    .description('Record, replay and load-test AJP13 traffic between web servers (mod_jk, mod_proxy_ajp) and Tomcat.')
    .version(toolVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a verdict failed (threshold, fairness), 2 usage error, 3 runtime failure.',
    );
  program.addCommand(decodeCommand(ctx));
  program.addCommand(importCommand(ctx));
  program.addCommand(inspectCommand(ctx));
  program.addCommand(recordCommand(ctx));
  program.addCommand(replayCommand(ctx));
  program.addCommand(serveCommand(ctx));
  program.addCommand(reportCommand(ctx));
  program.addCommand(compareCommand(ctx));
  program.addCommand(fairnessCommand(ctx));
  program.addCommand(sweepCommand(ctx));
  // Every subcommand reports usage errors through exitOverride so that main() maps them to exit 2.
  for (const cmd of [program, ...program.commands]) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Runs the CLI and returns the exit code (never calls process.exit itself). */
export async function main(argv: string[]): Promise<number> {
  const ctx: RunContext = { exitCode: ExitCode.Ok };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (e instanceof CommandError) {
      process.stderr.write(`ajpbench: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`ajpbench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return ExitCode.Runtime;
  }
  return ctx.exitCode;
}
