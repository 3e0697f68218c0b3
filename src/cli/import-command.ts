/** `ajpbench import`: a pcap or pcapng capture (or tcpdump live on stdin) to a trace. */
import { Command } from 'commander';
import { CaptureFormatError, importCapture, type ImportProgress, type ImportSummary } from '../capture/index.js';
import { TraceWriter, type TraceHeader } from '../trace/index.js';
import { errnoCode } from '../errors.js';
import { AjpbenchError, ExitCode, RuntimeError, runtimeError } from './exit-codes.js';
import { cannotRead, cannotWrite, statInput } from './files.js';
import type { RunContext } from './run-context.js';
import { readerWentAway } from './reader-gone.js';
import { importHarFile, isHarInput } from './import-har.js';
import { checkMaxPacketSizeFlag, parseInteger } from './options.js';
import { addTraceOptions, collectPorts, traceOptionsFrom, type TraceFlags } from './trace-options.js';
import { toolVersion } from './version.js';

interface ImportFlags extends TraceFlags {
  output?: string;
  port?: number[] | 'auto';
  maxPacketSize: number;
  progress?: boolean;
}

/** Files above this size get a progress line on stderr. */
const PROGRESS_ABOVE_BYTES = 4 * 1024 * 1024;

export function importCommand(ctx: RunContext): Command {
  return importDefinition().action(async (capture: string, flags: ImportFlags) => {
    checkMaxPacketSizeFlag(flags.maxPacketSize);
    if (flags.output === '-') flags.output = undefined;
    if (capture !== '-' && isHarInput(capture)) {
      if (await importHarFile(capture, flags, flags.output)) ctx.exitCode = ExitCode.Ok;
      return;
    }
    const size = capture === '-' ? 0 : statInput(capture).size;
    const showProgress = flags.progress !== false && (capture === '-' || size > PROGRESS_ABOVE_BYTES);
    const summary = await runImport(capture, flags, size, showProgress);
    // `| head` took what it wanted and closed the pipe: the run ends quietly, as a Unix filter's does.
    if (summary === undefined) return;
    if (showProgress) process.stderr.write('\n');
    if (summary.events === 0) throw nothingToWrite(summary, capture, flags.port ?? [8009]);
    process.stderr.write(summaryLine(summary, flags.output));
    ctx.exitCode = ExitCode.Ok;
  });
}

function importDefinition(): Command {
  const cmd = new Command('import')
    .summary('decode a pcap/pcapng capture (or tcpdump on stdin), or a HAR file, into a trace')
    .description(
      'Reads a capture made with tcpdump or Wireshark (pcap or pcapng; Ethernet, Linux cooked SLL/SLL2, ' +
        'BSD loopback or raw IP; IPv4 and IPv6; VLAN tags), reassembles every TCP connection to the AJP ports, ' +
        'and writes one trace event per exchange, CPing, connection, incomplete exchange and error (JSON Lines, ' +
        'docs/trace-format.md). Every request seen on the wire ends up as an exchange or an incomplete event.\n\n' +
        'Live, passively, with nothing in the path:\n' +
        "  tcpdump -i lo -U -w - 'tcp port 8009' | ajpbench import - -o live.jsonl\n" +
        'Ctrl-C (or the end of input) completes and flushes the trace.\n\n' +
        'A HAR file (a browser session saved from developer tools, or ajpbench export --har) becomes a trace too: ' +
        'one exchange per entry, replayable over AJP (docs/trace-tools.md); --port and --max-packet-size do not apply.',
    )
    .argument('<capture>', 'pcap or pcapng file, - for a stream on stdin, or a .har file')
    .option('-o, --output <trace.jsonl>', 'trace file to write (mode 0600); default: stdout')
    .option(
      '--port <ports>',
      "Tomcat's AJP port(s): repeatable, comma lists, or auto (any flow that starts with an AJP frame); default 8009",
      collectPorts,
    )
    .option(
      '--max-packet-size <bytes>',
      'largest AJP packet, header included (8192-65536)',
      (v) => parseInteger(v, '--max-packet-size'),
      8192,
    )
    .option('--no-progress', 'no progress line on stderr');
  return addTraceOptions(cmd);
}

/** The import; Ctrl-C completes and flushes the trace. Undefined when the reader of stdout went away. */
async function runImport(
  capture: string,
  flags: ImportFlags,
  size: number,
  showProgress: boolean,
): Promise<ImportSummary | undefined> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
    if (capture === '-') process.stdin.destroy(); // a read that waits on tcpdump returns at once
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await importCapture(capture === '-' ? process.stdin : capture, openWriter(flags.output), {
      ports: flags.port ?? [8009],
      trace: traceOptionsFrom(flags),
      sourceName: capture,
      tool: `ajpbench ${toolVersion()}`,
      maxPacketSize: flags.maxPacketSize,
      signal: stop.signal,
      onIssue: (i) => process.stderr.write(`import: ${i.code}: ${i.message}\n`),
      ...(showProgress ? { onProgress: (p: ImportProgress) => process.stderr.write(progressLine(p, size)) } : {}),
    });
  } catch (e) {
    if (flags.output === undefined && readerWentAway(e)) return undefined;
    throw importFailure(e, capture);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function openWriter(output: string | undefined): (header: TraceHeader) => Promise<TraceWriter> {
  return async (header) => {
    if (output === undefined) return TraceWriter.toStream(process.stdout, header, 'stdout');
    try {
      return await TraceWriter.create(output, header);
    } catch (e) {
      throw cannotWrite(output, e);
    }
  };
}

/** The failure of an import as one line: the capture's format, a file error while reading it, or the output's own error. */
function importFailure(e: unknown, capture: string): unknown {
  if (e instanceof AjpbenchError) return e;
  if (e instanceof CaptureFormatError)
    return runtimeError(`${capture}: ${e.code}: ${e.message}`, 'AJPBENCH_ERR_CAPTURE');
  if (errnoCode(e) !== undefined) return cannotRead(capture, e);
  return e;
}

/** No trace event came out of the input: nothing was written (not even a header), and that is a failure. */
function nothingToWrite(s: ImportSummary, capture: string, ports: number[] | 'auto'): RuntimeError {
  const where =
    ports === 'auto'
      ? 'no TCP connection starts with an AJP frame'
      : `no AJP traffic on port${ports.length === 1 ? '' : 's'} ${ports.join(',')}`;
  const read = `${s.packets} packets (${s.tcpSegments} TCP segments) read, nothing written`;
  if (s.stopped)
    return runtimeError(`${capture}: stopped before any AJP traffic was seen: ${read}`, 'AJPBENCH_ERR_INTERRUPTED');
  const hint = ports === 'auto' ? '' : '; give the port Tomcat listens on with --port, or try --port auto';
  return runtimeError(`${capture}: ${where}: ${read}${hint}`, 'AJPBENCH_ERR_CAPTURE');
}

function progressLine(p: ImportProgress, size: number): string {
  const mb = p.bytes / 1e6;
  const rate = p.elapsedMs > 0 ? mb / (p.elapsedMs / 1000) : 0;
  const share = size > 0 ? ` (${Math.min(100, (p.bytes / size) * 100).toFixed(0)}%)` : '';
  return `\rimport: ${p.packets} packets, ${mb.toFixed(1)} MB${share}, ${p.exchanges} exchanges, ${rate.toFixed(1)} MB/s   `;
}

function summaryLine(s: ImportSummary, output: string | undefined): string {
  const skipped = Object.entries(s.skipped)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return (
    `import: ${s.stopped ? 'stopped; ' : ''}${s.packets} packets (${s.tcpSegments} TCP${skipped ? `; skipped ${skipped}` : ''}), ` +
    `${s.flows} AJP connections, ${s.exchanges} exchanges, ${s.incomplete} incomplete, ${s.errors} errors, ${s.cpings} CPings` +
    `${s.missingBytes > 0 ? `, ${s.missingBytes} bytes missing from the capture` : ''} in ${(s.elapsedMs / 1000).toFixed(2)} s` +
    `${output === undefined ? '' : ` -> ${output}`}\n`
  );
}
