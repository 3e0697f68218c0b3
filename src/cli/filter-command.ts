/** `ajpbench filter`: cut, sample, mask and rewrite a trace into a smaller one (docs/trace-tools.md). */
import { Command, Option } from 'commander';
import { filterTrace, type FilterSpec, type FilterSummary, type SampleBy, type TimePoint } from '../trace/index.js';
import { ExitCode, usageError } from './exit-codes.js';
import { statInput } from './files.js';
import {
  collectConns,
  collectHeader,
  collectStatus,
  collectSubstitution,
  parseShare,
  parseShift,
  parseTimePoint,
} from './filter-flags.js';
import { collect, collectList, parseDuration, wholeNumber } from './options.js';
import { readerWentAway } from './reader-gone.js';
import type { RunContext } from './run-context.js';
import { checkOutputIsNotAnInput, openTraceOutput, outputName, outputPath, traceInputFailure } from './trace-output.js';
import { toolVersion } from './version.js';

interface FilterFlags {
  output?: string;
  uri?: string[];
  uriRegex?: string[];
  notUri?: string[];
  method?: string[];
  status?: string[];
  worker?: string[];
  conn?: number[];
  from?: TimePoint;
  to?: TimePoint;
  minLatency?: number;
  maxLatency?: number;
  hasHeader?: string[];
  head?: number;
  sample?: number;
  sampleBy?: SampleBy;
  seed?: string;
  exchangesOnly?: boolean;
  setHeader?: [string, string][];
  dropHeader?: string[];
  rewriteUri?: string[];
  redactHeader?: string[];
  redactQuery?: string[];
  dropBodies?: boolean;
  renumber?: boolean;
  shiftTime?: FilterSpec['shiftTime'];
}

const EXAMPLES = `
Selectors keep an exchange when it passes every one given (a repeated selector: any of its values).
Connection, CPing and error events are kept only when every selector given can judge them (--conn,
--worker, --from/--to, --sample-by connection); a selector about requests drops them.
Transforms act in this order: --rewrite-uri, --drop-header, --set-header, --redact-header,
--redact-query, --drop-bodies. Exchange ids are kept as in the input unless --renumber.

Examples:
  ajpbench filter day.jsonl --uri '/app/**' --not-uri '/app/health' --status 2xx,3xx -o app.jsonl
  ajpbench filter day.jsonl --from 2026-11-23T10:00:00Z --to 2026-11-23T11:00:00Z -o hour.jsonl
  ajpbench filter day.jsonl --sample 10% --seed demo -o sessions-10pct.jsonl     (whole sessions)
  ajpbench filter day.jsonl --redact-header x-api-key --redact-query token --drop-bodies -o share.jsonl
  ajpbench import live.pcap -o - | ajpbench filter - --min-latency 500ms | ajpbench inspect -

Exit codes: 0 ok, 2 bad flags, 3 the trace cannot be read or the output cannot be written.
`;

export function filterCommand(ctx: RunContext): Command {
  return filterDefinition().action(async (input: string, flags: FilterFlags) => {
    const spec = specOf(flags);
    const output = outputPath(flags.output);
    if (input !== '-') statInput(input);
    checkOutputIsNotAnInput(output, [input]);
    const summary = await runFilter(input, output, spec);
    if (summary === undefined) return; // the reader of stdout went away: a quiet end
    process.stderr.write(summaryLine(summary, output));
    ctx.exitCode = ExitCode.Ok;
  });
}

function filterDefinition(): Command {
  return new Command('filter')
    .summary('select, sample, mask and rewrite the exchanges of a trace into a new trace')
    .description(
      'Reads a trace (a file, or - for stdin) in one streaming pass, in constant memory, and writes the events ' +
        'that pass the selectors, sampled and transformed, as a new trace (stdout unless -o). Its header records ' +
        'the filter applied (derivedBy), after what the input had been through. inspect and replay read it.',
    )
    .argument('<trace>', 'the trace to read (.jsonl), or - for stdin')
    .option('-o, --output <trace.jsonl>', 'the trace to write (mode 0600); - or none: stdout')
    .option('--uri <glob>', 'keep request paths matching (* within a segment, ** across; repeatable)', collect)
    .option('--uri-regex <re>', 'keep request paths matching this regular expression (repeatable)', collect)
    .option('--not-uri <glob>', 'drop request paths matching (repeatable)', collect)
    .option('--method <methods>', 'keep these methods (comma list, repeatable)', collectList)
    .option('--status <codes>', 'keep these statuses and classes, e.g. 2xx,404 (comma list)', collectStatus)
    .option('--worker <names>', 'keep these tap worker labels (comma list)', collectList)
    .option('--conn <numbers>', 'keep these connections (comma list)', collectConns)
    .option('--from <time>', 'keep events from here: an ISO 8601 time, or an offset from the start (90s, 1h)', (v) =>
      parseTimePoint(v, '--from'),
    )
    .option('--to <time>', 'keep events before here (as --from)', (v) => parseTimePoint(v, '--to'))
    .option('--min-latency <duration>', 'keep exchanges that took at least this long (100ms)', (v) =>
      parseDuration(v, '--min-latency', { zero: true }),
    )
    .option('--max-latency <duration>', 'keep exchanges that took at most this long', (v) =>
      parseDuration(v, '--max-latency', { zero: true }),
    )
    .option('--has-header <name>', 'keep requests that carry this header (any case; repeatable: all of them)', collect)
    .option('--head <n>', 'stop after writing this many exchanges', wholeNumber('--head', { min: 1 }))
    .option(
      '--sample <share>',
      'keep a deterministic share: 10% or 0.1 (of sessions, connections or exchanges)',
      parseShare,
    )
    .addOption(
      new Option(
        '--sample-by <unit>',
        'what --sample keeps whole: a session (JSESSIONID without route), a connection, an exchange',
      )
        .choices(['session', 'connection', 'exchange'])
        .default('session'),
    )
    .option('--seed <text>', 'the sampling seed: the same seed keeps the same sessions on every run', '')
    .option('--exchanges-only', 'write only exchange and incomplete events')
    .option(
      '--rewrite-uri <s#re#new#>',
      'rewrite request paths, sed style (s#^/old/#/new/#, flags g and i; repeatable)',
      collectSubstitution,
    )
    .option('--drop-header <name>', 'remove this header from requests and responses (repeatable)', collect)
    .option(
      '--set-header <Name: value>',
      'set this request header, replacing any of that name (repeatable)',
      collectHeader,
    )
    .option(
      '--redact-header <name>',
      'replace this header value by REDACTED, requests and responses (repeatable)',
      collect,
    )
    .option('--redact-query <param>', 'replace this query parameter value by REDACTED (repeatable)', collect)
    .option('--drop-bodies', 'remove body bytes (lengths and SHA-256 stay)')
    .option('--renumber', 'renumber exchange ids 1, 2, ... in output order (default: keep the input ids)')
    .option(
      '--shift-time <shift>',
      "move the trace's wall clock: +2h, -90s, or the ISO time it is to start at",
      parseShift,
    )
    .addHelpText('after', EXAMPLES);
}

/** The flags as the library's spec; only what was given, so the header records just that. */
function specOf(f: FilterFlags): FilterSpec {
  if (f.sample === undefined && (f.seed !== '' || f.sampleBy !== 'session'))
    throw usageError('--sample-by and --seed go with --sample');
  const spec: FilterSpec = {
    ...defined('uri', f.uri),
    ...defined('uriRegex', f.uriRegex),
    ...defined('notUri', f.notUri),
    ...defined('method', f.method),
    ...defined('status', f.status),
    ...defined('worker', f.worker),
    ...defined('conn', f.conn),
    ...defined('from', f.from),
    ...defined('to', f.to),
    ...defined('minLatencyUs', f.minLatency === undefined ? undefined : Math.round(f.minLatency * 1000)),
    ...defined('maxLatencyUs', f.maxLatency === undefined ? undefined : Math.round(f.maxLatency * 1000)),
    ...defined('hasHeader', f.hasHeader),
    ...defined('head', f.head),
    ...(f.sample === undefined ? {} : { sample: { share: f.sample, by: f.sampleBy ?? 'session', seed: f.seed ?? '' } }),
    ...(f.exchangesOnly === true ? { exchangesOnly: true } : {}),
    ...defined('rewriteUri', f.rewriteUri),
    ...defined('dropHeader', f.dropHeader),
    ...defined('setHeader', f.setHeader),
    ...defined('redactHeader', f.redactHeader),
    ...defined('redactQuery', f.redactQuery),
    ...(f.dropBodies === true ? { dropBodies: true } : {}),
    ...(f.renumber === true ? { renumber: true } : {}),
    ...defined('shiftTime', f.shiftTime),
  };
  if (spec.from !== undefined && spec.to !== undefined && 'offsetUs' in spec.from && 'offsetUs' in spec.to)
    if (spec.to.offsetUs <= spec.from.offsetUs) throw usageError('--to must be after --from');
  return spec;
}

function defined<K extends keyof FilterSpec>(key: K, value: FilterSpec[K] | undefined): Partial<FilterSpec> {
  return value === undefined ? {} : { [key]: value };
}

async function runFilter(
  input: string,
  output: string | undefined,
  spec: FilterSpec,
): Promise<FilterSummary | undefined> {
  try {
    return await filterTrace(input === '-' ? process.stdin : input, openTraceOutput(output), {
      spec,
      inputName: input,
      tool: `ajpbench ${toolVersion()}`,
      onIssue: (e) => process.stderr.write(`filter: ${e.code}: ${e.message}\n`),
      onMalformed: (what) => process.stderr.write(`filter: skipped ${what}\n`),
    });
  } catch (e) {
    if (output === undefined && readerWentAway(e)) return undefined;
    throw traceInputFailure(e, input);
  }
}

function summaryLine(s: FilterSummary, output: string | undefined): string {
  const skipped = [
    s.unreadable > 0 ? `${s.unreadable} unreadable lines` : '',
    s.malformed > 0 ? `${s.malformed} malformed events` : '',
  ].filter((x) => x !== '');
  return (
    `filter: ${s.exchangesOut} of ${s.exchangesIn} exchanges kept, ${s.eventsOut} of ${s.eventsIn} events written` +
    `${skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : ''}` +
    `${s.stoppedAtHead ? ' (stopped at --head)' : ''} -> ${outputName(output)}\n`
  );
}
