/** `ajpbench export`: a trace in another format; HAR 1.2 for browser tools and HAR viewers (docs/trace-tools.md). */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import { exportHar, type HarExportSummary } from '../trace/index.js';
import { ExitCode, usageError } from './exit-codes.js';
import { statInput } from './files.js';
import { LineWriter } from './line-writer.js';
import { readerWentAway } from './reader-gone.js';
import type { RunContext } from './run-context.js';
import { checkOutputIsNotAnInput, traceInputFailure } from './trace-output.js';
import { toolVersion } from './version.js';

interface ExportFlags {
  har?: string;
}

export function exportCommand(ctx: RunContext): Command {
  return exportDefinition().action(async (input: string, flags: ExportFlags) => {
    if (flags.har === undefined) throw usageError('export needs an output format: --har FILE (or --har - for stdout)');
    if (input !== '-') statInput(input);
    const output = flags.har === '-' ? undefined : flags.har;
    checkOutputIsNotAnInput(output, [input], '--har');
    const summary = await runExport(input, output);
    if (summary === undefined) return;
    process.stderr.write(summaryLine(summary, output));
    ctx.exitCode = ExitCode.Ok;
  });
}

function exportDefinition(): Command {
  return new Command('export')
    .summary('write a trace as HAR 1.2, for browser developer tools and HAR viewers')
    .description(
      'Reads a trace in one streaming pass and writes it as a HAR 1.2 file: one entry per exchange, in the order ' +
        'requests started, with the request (method, URL from the Host header, headers, cookies, query, body), the ' +
        'response (status, headers, cookies, body when the trace kept it: --bodies all at import or record) and ' +
        'timings (wait: to Send Headers; receive: to End Response). Bodies that are not UTF-8 text are base64. ' +
        'What HAR has no field for (AJP attributes, connection and exchange numbers, body hashes) goes into ' +
        '_ajpbench, so `ajpbench import file.har` gives the trace back. Incomplete exchanges, connections, CPings ' +
        'and errors are not written (counted on stderr).\n\n' +
        'Example: ajpbench export captures/lab-mixed.trace.jsonl --har lab.har',
    )
    .argument('<trace>', 'the trace to read (.jsonl), or - for stdin')
    .option('--har <file>', 'write HAR 1.2 to this file (mode 0600), or - for stdout')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 2 bad flags, 3 the trace cannot be read or the output cannot be written.',
    );
}

async function runExport(input: string, output: string | undefined): Promise<HarExportSummary | undefined> {
  const stream: Writable = output === undefined ? process.stdout : createWriteStream(output, { mode: 0o600 });
  const out = new LineWriter(stream, output ?? 'stdout');
  try {
    const summary = await exportHar(
      input === '-' ? process.stdin : input,
      {
        line: (text) => {
          out.line(text);
          return out.ready();
        },
      },
      {
        creatorVersion: toolVersion(),
        onIssue: (e) => process.stderr.write(`export: ${e.code}: ${e.message}\n`),
        onMalformed: (what) => process.stderr.write(`export: skipped ${what}\n`),
      },
    );
    await out.close();
    if (output !== undefined) await endFile(stream);
    return summary;
  } catch (e) {
    if (output !== undefined) stream.destroy();
    if (output === undefined && readerWentAway(e)) return undefined;
    throw traceInputFailure(e, input);
  }
}

async function endFile(stream: Writable): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

function summaryLine(s: HarExportSummary, output: string | undefined): string {
  const notes = [
    s.otherEvents > 0 ? `${s.otherEvents} other events not written` : '',
    s.malformed > 0 ? `${s.malformed} malformed exchanges skipped` : '',
    s.unreadable > 0 ? `${s.unreadable} unreadable lines skipped` : '',
  ].filter((x) => x !== '');
  return `export: ${s.entries} HAR entries${notes.length > 0 ? ` (${notes.join(', ')})` : ''} -> ${output ?? 'stdout'}\n`;
}
