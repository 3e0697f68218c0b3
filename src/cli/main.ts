/** The ajpbench command line: commander wiring only; each command is a thin layer over the library. */
import { Command, CommanderError } from 'commander';
import { AjpbenchError, ExitCode } from './exit-codes.js';
import type { RunContext } from './run-context.js';
import { toolVersion } from './version.js';

type CommandLoader = (ctx: RunContext) => Promise<Command>;

/**
 * Every subcommand, in the order --help lists them, loaded only when needed: a run loads the one
 * it names, not the modules of the fourteen others (prom-client, undici, the HTML report...). That
 * is about 0.13 s of start-up per run, a third of importing a 40 MB capture.
 */
const COMMANDS: Readonly<Record<string, CommandLoader>> = {
  decode: async (ctx) => (await import('./decode-command.js')).decodeCommand(ctx),
  import: async (ctx) => (await import('./import-command.js')).importCommand(ctx),
  inspect: async (ctx) => (await import('./inspect-command.js')).inspectCommand(ctx),
  filter: async (ctx) => (await import('./filter-command.js')).filterCommand(ctx),
  merge: async (ctx) => (await import('./merge-command.js')).mergeCommand(ctx),
  export: async (ctx) => (await import('./export-command.js')).exportCommand(ctx),
  record: async (ctx) => (await import('./record-command.js')).recordCommand(ctx),
  replay: async (ctx) => (await import('./replay-command.js')).replayCommand(ctx),
  serve: async (ctx) => (await import('./serve-command.js')).serveCommand(ctx),
  report: async (ctx) => (await import('./report-command.js')).reportCommand(ctx),
  compare: async (ctx) => (await import('./compare-command.js')).compareCommand(ctx),
  fairness: async (ctx) => (await import('./fairness-command.js')).fairnessCommand(ctx),
  sweep: async (ctx) => (await import('./sweep-command.js')).sweepCommand(ctx),
  audit: async (ctx) => (await import('./audit-command.js')).auditCommand(ctx),
  diff: async (ctx) => (await import('./diff-command.js')).diffCommand(ctx),
};

/** The subcommands `argv` needs: the one it names, or all of them (help, --version, a typo to suggest against). */
export function commandsFor(argv: readonly string[]): string[] {
  const first = argv.find((a) => !a.startsWith('-'));
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
}

export async function buildProgram(
  ctx: RunContext = { exitCode: ExitCode.Ok },
  names: readonly string[] = Object.keys(COMMANDS),
): Promise<Command> {
  const program = new Command('ajpbench')
    .description('Record, replay and load-test AJP13 traffic between web servers (mod_jk, mod_proxy_ajp) and Tomcat.')
    .version(toolVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a verdict failed (threshold, fairness, audit finding), 2 usage error, 3 runtime failure.\n' +
        'Add --debug (or set AJPBENCH_DEBUG=1) to print the stack of a failure.',
    );
  const commands = await Promise.all(names.map((n) => (COMMANDS[n] as CommandLoader)(ctx)));
  for (const cmd of commands) program.addCommand(cmd);
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
  const args = argv.filter((a) => a !== '--debug');
  try {
    const program = await buildProgram(ctx, commandsFor(args));
    await program.parseAsync(args, { from: 'user' });
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
