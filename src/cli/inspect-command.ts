/** `ajpbench inspect`: the summary of a trace a person reads first, as tables or as JSON. */
import { Command } from 'commander';
import { renderSummaryTable } from '../report/summary-table.js';
import {
  DEFAULT_TOP_URIS,
  summarizeTrace,
  type TraceSummary,
  type TraceSummaryOptions,
} from '../report/trace-summary.js';
import { errnoCode } from '../errors.js';
import { TraceFormatError } from '../trace/trace-errors.js';
import { MAX_LINE_BYTES_LIMIT } from '../trace/trace-reader.js';
import { ExitCode, runtimeError } from './exit-codes.js';
import { cannotRead } from './files.js';
import { LineWriter } from './line-writer.js';
import type { RunContext } from './run-context.js';
import { readerWentAway } from './reader-gone.js';
import { parseInteger, parseSize } from './options.js';

interface InspectOptions {
  json?: boolean;
  top: number;
  maxLine?: number;
}

/** --max-line at least 1 KiB (a header line must fit), at most the longest line a string can hold. */
const MAX_LINE_RANGE = { min: 1024, max: MAX_LINE_BYTES_LIMIT };

const COLUMNS = `
What the tables show (latencies are the recorded ones, in milliseconds):
  Trace        the header: format version, the ajpbench that wrote it, the source (pcap file and
               ports, or tap listen -> upstream), start time, redaction and the body policy.
  Overview     exchanges (complete request/response pairs; the tables below count these),
               incomplete exchanges, first event and last event end (wall clock), time span,
               requests per second (exchanges started per second between the first and the last
               Forward Request), bytes in (request bodies) and out (response bodies), events read,
               unreadable lines (not JSON, not an event, or longer than --max-line; skipped, the
               first one's line number), malformed events (a field missing or of the wrong type;
               skipped, as replay skips them).
  Status       exchanges by status class 1xx..5xx, other (outside 100-599) and incomplete; share
               is of all requests (exchanges + incomplete).
  Methods      exchanges by HTTP method; share is of exchanges.
  Routes       exchanges by backend route (JSESSIONID jvmRoute suffix or route attribute; none
               when there is none).
  Workers      exchanges by tap worker label (only for traces recorded with --tap workers).
  Top URIs     the --top most requested URIs, the query string dropped, ;path parameters dropped,
               number segments folded to {n} and UUID / hex-id segments to {id}. At most 10,000
               distinct URIs are counted; later new ones count in (other).
  Latency      to headers: Forward Request to Send Headers; to end: Forward Request to End
               Response. count, mean, percentiles p50 p90 p99 p99.9 (HDR histogram, 3 significant
               digits) and max.
  CPing        CPing/CPong round trips: count, how many got no CPong, p50 p99 max.
  Connections  opened, closed (by reason: fin, rst, end of capture/recording, error), and bytes
               each way over the closed connections.
  Errors       decode and capture errors by stable code (AJP_ERR_..., CAPTURE_ERR_..., TAP_ERR_...).
  Incomplete   exchanges that never ended, by reason: closed, reset, end, gap, error.

Exit codes: 0 ok, 2 bad flags, 3 the trace cannot be read or is not a trace (or is a newer version).
`;

export function inspectCommand(ctx: RunContext): Command {
  return inspectDefinition().action(async (file: string, opts: InspectOptions) => {
    const summary = await summarize(file, {
      top: opts.top,
      ...(opts.maxLine === undefined ? {} : { maxLineBytes: opts.maxLine }),
    });
    const out = new LineWriter(process.stdout, 'stdout');
    try {
      if (opts.json === true) out.line(JSON.stringify(summary, null, 2));
      else
        out.line(
          renderSummaryTable(summary, {
            color: process.stdout.isTTY === true,
            title: file === '-' ? '(stdin)' : file,
          }).trimEnd(),
        );
      await out.close();
    } catch (e) {
      // `| head` took what it wanted: a quiet end, as a Unix filter's.
      if (!readerWentAway(e)) throw e;
    }
    ctx.exitCode = ExitCode.Ok;
  });
}

function inspectDefinition(): Command {
  return new Command('inspect')
    .summary('summarize a trace: rates, methods, statuses, routes, top URIs, latency, errors')
    .description(
      'Reads a trace (JSON Lines written by record or import) in one streaming pass, in constant memory, ' +
        'and prints what it holds: the header, counts by status class, method, route and worker, the top ' +
        'URIs, recorded latency percentiles, body bytes, CPing round trips, connections, errors and ' +
        'incomplete exchanges. Lines that are not valid JSON, or longer than --max-line, are counted, not fatal.',
    )
    .argument('<trace>', 'the trace file (.jsonl); - reads stdin')
    .option('--json', 'print the summary as one JSON object (numbers as numbers, latencies in µs)')
    .option('--top <n>', 'how many URIs to list', (v) => parseInteger(v, '--top'), DEFAULT_TOP_URIS)
    .option(
      '--max-line <size>',
      'skip (and count as unreadable) trace lines longer than this; default 64MiB, more when the trace keeps larger bodies',
      (v) => parseSize(v, '--max-line', MAX_LINE_RANGE),
    )
    .addHelpText('after', COLUMNS);
}

async function summarize(file: string, opts: TraceSummaryOptions): Promise<TraceSummary> {
  try {
    return await summarizeTrace(file === '-' ? process.stdin : file, opts);
  } catch (e) {
    if (e instanceof TraceFormatError) throw runtimeError(`${file}: ${e.message}`, 'AJPBENCH_ERR_TRACE');
    if (errnoCode(e) !== undefined) throw cannotRead(file, e);
    throw e;
  }
}
