/** `ajpbench import`: a pcap or pcapng capture (or tcpdump live on stdin) to a trace. */
import { Command } from 'commander';
import {
  CaptureFormatError,
  defaultImportThreads,
  importCapture,
  MAX_IMPORT_THREADS,
  type ImportProgress,
  type ImportSummary,
} from '../capture/index.js';
import { DiscardTraceOutput, TraceWriter, type TraceHeader, type TraceOutput } from '../trace/index.js';
import { errnoCode } from '../errors.js';
import { AjpbenchError, ExitCode, RuntimeError, runtimeError, usageError } from './exit-codes.js';
import {
  addMetricsOptions,
  metricsFlagWithout,
  startMetrics,
  type MetricsFlags,
  type RunningMetrics,
} from './metrics-options.js';
import { cannotRead, cannotWrite, statInput } from './files.js';
import type { RunContext } from './run-context.js';
import { readerWentAway } from './reader-gone.js';
import { importHarFile, isHarInput } from './import-har.js';
import { checkOutputIsNotAnInput } from './trace-output.js';
import { checkMaxPacketSizeFlag, parseInteger } from './options.js';
import { addTraceOptions, NO_TRACE_OPTIONS, collectPorts, traceOptionsFrom, type TraceFlags } from './trace-options.js';
import { toolVersion } from './version.js';

interface ImportFlags extends TraceFlags, MetricsFlags {
  output?: string;
  /** false: --no-trace, nothing written (the metrics monitor alone). */
  trace: boolean;
  port?: number[] | 'auto';
  maxPacketSize: number;
  progress?: boolean;
  threads?: number;
}

/** Files above this size get a progress line on stderr. */
const PROGRESS_ABOVE_BYTES = 4 * 1024 * 1024;

export function importCommand(ctx: RunContext): Command {
  return importDefinition().action(async (capture: string, flags: ImportFlags, cmd: Command) => {
    checkMaxPacketSizeFlag(flags.maxPacketSize);
    checkMonitorFlags(capture, flags, cmd);
    if (flags.output === '-') flags.output = undefined;
    if (capture !== '-' && isHarInput(capture)) {
      if (!flags.trace) throw usageError('a HAR file is imported to a trace: --no-trace leaves nothing to do');
      if (await importHarFile(capture, flags, flags.output)) ctx.exitCode = ExitCode.Ok;
      return;
    }
    const size = capture === '-' ? 0 : statInput(capture).size;
    checkOutputIsNotAnInput(flags.output, [capture]); // `-o capture.pcap` would empty the capture first
    const showProgress = flags.progress !== false && (capture === '-' || size > PROGRESS_ABOVE_BYTES);
    const monitor = await startMetrics(flags);
    if (monitor !== undefined) process.stderr.write(`import: metrics at ${monitor.server.url}\n`);
    const summary = await runImport(capture, flags, size, showProgress, monitor).finally(() => monitor?.server.close());
    // `| head` took what it wanted and closed the pipe: the run ends quietly, as a Unix filter's does.
    if (summary === undefined) return;
    if (showProgress) process.stderr.write('\n');
    if (summary.events === 0) throw nothingToWrite(summary, capture, flags.port ?? [8009]);
    process.stderr.write(summaryLine(summary, flags.trace ? (flags.output ?? 'stdout') : 'no trace (--no-trace)'));
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
        'A passive monitor: tcpdump ... | ajpbench import - --no-trace --metrics 9464 serves Prometheus metrics of ' +
        'the live traffic at http://127.0.0.1:9464/metrics (docs/metrics.md).\n\n' +
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
    .option(
      '--threads <n>',
      `threads (1-${MAX_IMPORT_THREADS}): 1 decodes on the reading thread; N >= 2 reads on one and decodes on N - 1 ` +
        `worker threads, connections shared out among them, the trace identical to one thread's; ` +
        `default ${defaultImportThreads()} on this machine (one with --metrics)`,
      (v) => parseInteger(v, '--threads', { min: 1, max: MAX_IMPORT_THREADS }),
    )
    .option('--no-progress', 'no progress line on stderr')
    .option('--no-trace', 'write no trace (no -o): decode and count only, e.g. as a pure --metrics monitor');
  return addMetricsOptions(addTraceOptions(cmd));
}

/** Flags about the trace, meaningless with --no-trace. */
const TRACE_ONLY_FLAGS = [
  ['output', '-o'],
  ['redact', '--no-redact'],
  ['bodies', '--bodies'],
  ['maxBody', '--max-body'],
] as const;

/**
 * --metrics serves while the import runs: for a live capture on stdin. A file is read in one go
 * (seconds), over before a scraper would come: refused, with inspect named for its figures.
 */
function checkMonitorFlags(capture: string, flags: ImportFlags, cmd: Command): void {
  const orphan = metricsFlagWithout(flags);
  if (orphan !== undefined) throw usageError(`${orphan} needs --metrics`);
  if (flags.metrics !== undefined && capture !== '-')
    throw usageError(
      '--metrics serves a live capture read from stdin (tcpdump -w - ... | ajpbench import - --metrics PORT); ' +
        `a file is read in one go: ajpbench inspect gives its figures (import it first)`,
    );
  if (!flags.trace) {
    const given = TRACE_ONLY_FLAGS.find(([key]) => cmd.getOptionValueSource(key) === 'cli');
    if (given !== undefined) throw usageError(`${given[1]} says what to do with the trace, and --no-trace writes none`);
  }
}

/** The import; Ctrl-C completes and flushes the trace. Undefined when the reader of stdout went away. */
async function runImport(
  capture: string,
  flags: ImportFlags,
  size: number,
  showProgress: boolean,
  monitor: RunningMetrics | undefined,
): Promise<ImportSummary | undefined> {
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
    if (capture === '-') process.stdin.destroy(); // a read that waits on tcpdump returns at once
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const open = flags.trace ? openWriter(flags.output) : () => Promise.resolve(new DiscardTraceOutput());
    return await importCapture(capture === '-' ? process.stdin : capture, open, {
      ports: flags.port ?? [8009],
      // --no-trace: no body bytes are kept for a trace nobody writes (lengths, which the metrics read, still are).
      trace: flags.trace ? traceOptionsFrom(flags) : NO_TRACE_OPTIONS,
      sourceName: capture,
      tool: `ajpbench ${toolVersion()}`,
      maxPacketSize: flags.maxPacketSize,
      threads: flags.threads ?? defaultImportThreads(),
      signal: stop.signal,
      ...(monitor === undefined ? {} : { observe: monitor.metrics.observe }),
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

function openWriter(output: string | undefined): (header: TraceHeader) => Promise<TraceOutput> {
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

function summaryLine(s: ImportSummary, output: string): string {
  const skipped = Object.entries(s.skipped)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return (
    `import: ${s.stopped ? 'stopped; ' : ''}${s.packets} packets (${s.tcpSegments} TCP${skipped ? `; skipped ${skipped}` : ''}), ` +
    `${s.flows} AJP connections, ${s.exchanges} exchanges, ${s.incomplete} incomplete, ${s.errors} errors, ${s.cpings} CPings` +
    `${s.missingBytes > 0 ? `, ${s.missingBytes} bytes missing from the capture` : ''} in ${(s.elapsedMs / 1000).toFixed(2)} s` +
    `${output === 'stdout' ? '' : ` -> ${output}`}\n`
  );
}
