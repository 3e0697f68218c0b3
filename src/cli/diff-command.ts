/**
 * `ajpbench diff`: replays a trace against a candidate and a primary (or the recorded responses),
 * with an optional secondary for noise, and reports how the candidate's answers differ
 * (docs/diff.md). The library call is runDiff (src/verdict/diff/diff-run.ts).
 */
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { MAX_CONCURRENCY } from '../load/limits.js';
import { rewriteFrom } from './load-flags.js';
import { parseTarget, type Target } from '../load/target.js';
import type { HtmlReportInput } from '../report/html-input.js';
import { renderHtmlReport } from '../report/html-report.js';
import { renderDiffTable } from '../report/diff-table.js';
import type { VerdictDocument } from '../results/verdict-document.js';
import { TRACE_MINOR_VERSION, type DiffEvent, type TraceHeader } from '../trace/trace-types.js';
import { TraceWriter } from '../trace/trace-writer.js';
import {
  MAX_DIFF_CONCURRENCY,
  runDiff,
  toDiffReport,
  type DiffReport,
  type DiffRunOptions,
} from '../verdict/diff/diff-run.js';
import { headerRules } from '../verdict/diff/header-rules.js';
import { renderJUnit } from '../verdict/junit.js';
import { evaluateDiffThresholds, renderThresholds, type Threshold } from '../verdict/threshold.js';
import { ExitCode, runtimeError, usageError } from './exit-codes.js';
import { cannotWrite, statInput, writeOutput } from './files.js';
import {
  checkMaxPacketSizeFlag,
  collect,
  collectList,
  parseDuration,
  parseInteger,
  parseShare,
  parseSize,
  wholeNumber,
} from './options.js';
import type { RunContext } from './run-context.js';
import { addVerdictOptions, thresholdCases } from './verdict-options.js';
import { toolVersion } from './version.js';

interface DiffFlags {
  primary?: string;
  candidate: string;
  secondary?: string;
  sample?: number;
  seed: string;
  requests?: number;
  concurrency: number;
  header?: string[];
  dropHeader?: string[];
  rewriteHost?: string;
  ignoreHeader?: string[];
  ignore?: string[];
  compareHeaders?: string[];
  secret?: string;
  maxPacketSize: number;
  forwarded?: boolean;
  connectTimeout: number;
  timeout: number;
  maxBody: number;
  output?: string;
  json?: string;
  html?: string;
  junit?: string;
  threshold?: Threshold[];
  progress: boolean;
}

export function diffCommand(ctx: RunContext): Command {
  return diffDefinition().action(async (trace: string, flags: DiffFlags) => {
    // Usage first (exit 2), then the input (exit 3), before anything is sent or written.
    const options = diffOptions(trace, flags);
    checkThresholdMetrics(flags.threshold);
    statInput(trace);
    const output = new DiffOutput(flags.output);
    const result = await runWithSignals(options, flags, output);
    const report = toDiffReport(result, trace, flags.sample ?? null);
    const thresholds = evaluateDiffThresholds(report.summary, flags.threshold ?? []);
    const failed = thresholds.filter((t) => !t.pass).length;
    const text = renderDiffTable(report) + (thresholds.length > 0 ? `\n${renderThresholds(thresholds)}` : '');
    process.stdout.write(text);
    writeResults(report, flags, text, failed === 0, thresholds);
    // Everything compared is out; now what failed on the way.
    await output.close();
    const dead = deadTarget(report);
    if (dead !== undefined) throw dead;
    ctx.exitCode = failed > 0 ? ExitCode.VerdictFailed : ExitCode.Ok;
  });
}

function diffDefinition(): Command {
  const cmd = new Command('diff')
    .summary('replay a trace against a candidate and a primary, and report how their answers differ')
    .description(
      'Checks that a new backend answers as the old one does, on recorded traffic (as Diffy does): each exchange of ' +
        'the trace (or of a --sample of its sessions) is sent to the --primary and the --candidate (and the ' +
        '--secondary) together, and their answers are compared: status, headers (all but Date, Content-Length and the ' +
        'transport ones, session cookie ids masked; or only --compare-headers), and the body: SHA-256 first, then JSON ' +
        'field by field, text line by line, binary by size. Without --primary, the recorded responses are the primary. ' +
        'With --secondary (a second copy of the primary version), what primary and secondary disagree on (timestamps, ' +
        'random ids, node names) is learned as noise per URI pattern and field, and reported apart.\n\n' +
        "Exit codes: 0 done, 1 a --threshold failed (e.g. 'diffs<0.1%'), 2 usage, 3 the trace cannot be read or a " +
        'target never answered (after the results are printed and written).\n\n' +
        'Example: ajpbench diff trace.jsonl --primary ajp://10.0.0.1:8009 --candidate ajp://10.0.0.2:8009 \\\n' +
        "  --secondary ajp://10.0.0.3:8009 --sample 10% --threshold 'diffs<0.1%' --html diff.html",
    )
    .argument('<trace>', 'the trace file (.jsonl)')
    .option(
      '--primary <url>',
      'the version in production: ajp://host:port or http://host:port[/prefix] (default: the recorded responses)',
    )
    .requiredOption('--candidate <url>', 'the version to check: ajp://host:port or http://host:port[/prefix]')
    .option('--secondary <url>', 'a second copy of the primary version: its disagreements with the primary are noise')
    .option('--sample <share>', 'compare this share of sessions (10% or 0.1), each session whole', (v) =>
      parseShare(v, '--sample'),
    )
    .option('--seed <text>', 'which sessions a --sample keeps (the same seed keeps the same ones)', '')
    .option('--requests <n>', 'compare at most this many exchanges', wholeNumber('--requests', { min: 1 }))
    .option(
      '--concurrency <n>',
      `exchanges in flight (each goes to every target together; 1 keeps the trace order) (1-${MAX_DIFF_CONCURRENCY})`,
      wholeNumber('--concurrency', { min: 1, max: Math.min(MAX_DIFF_CONCURRENCY, MAX_CONCURRENCY) }),
      1,
    )
    .option(
      '--ignore-header <names>',
      'response headers never compared, besides the defaults (comma list; repeatable)',
      collectList,
    )
    .option(
      '--ignore <field>',
      "a field never reported, as the output names it: 'body:$.token' (and what is under it), 'header:x-request-id'; repeatable",
      collect,
    )
    .option('--compare-headers <names>', 'compare only these response headers (comma list; repeatable)', collectList)
    .option('--header <header>', "set a request header, 'Name: value'; repeatable", collect)
    .option('--drop-header <name>', 'remove a request header; repeatable', collect)
    .option('--rewrite-host <host[:port]>', 'replace the Host header (and AJP server_name/port)')
    .option('--secret <secret>', 'AJP secret attribute for ajp:// targets (default: $AJP_SECRET when set)')
    .option(
      '--max-packet-size <bytes>',
      'largest AJP packet, header included (8192-65536)',
      (v) => parseInteger(v, '--max-packet-size'),
      8192,
    )
    .option('--forwarded', 'http:// targets: send remote_addr, ssl and port as X-Forwarded-For/-Proto/-Host/-Port')
    .addOption(
      new Option('--connect-timeout <duration>', 'connection timeout')
        .argParser((v) => parseDuration(v, '--connect-timeout'))
        .default(5_000, '5s'),
    )
    .addOption(
      new Option('--timeout <duration>', 'response timeout (send to end of response)')
        .argParser((v) => parseDuration(v, '--timeout'))
        .default(30_000, '30s'),
    )
    .addOption(
      new Option(
        '--max-body <size>',
        'body bytes kept per answer for a field-level diff; longer ones compare by SHA-256',
      )
        .argParser((v) => parseSize(v, '--max-body', { min: 0, max: 64 * 1024 * 1024 }))
        .default(1024 * 1024, '1MiB'),
    )
    .option('-o, --output <file>', 'write the diff events (one per exchange that differed) as a trace')
    .option('--json <file>', 'write the results as JSON (ajpbench report reads it)')
    .option('--no-progress', 'no live progress line on stderr');
  return addVerdictOptions(cmd);
}

/** The library's options from the flags. */
function diffOptions(trace: string, f: DiffFlags): DiffRunOptions {
  checkMaxPacketSizeFlag(f.maxPacketSize);
  const secret = f.secret ?? (process.env.AJP_SECRET || undefined);
  const primary = f.primary === undefined ? undefined : target('--primary', f.primary);
  const secondary = f.secondary === undefined ? undefined : target('--secondary', f.secondary);
  if (secondary !== undefined && primary === undefined)
    throw usageError('--secondary needs --primary: noise is what the primary and the secondary disagree on');
  if (f.ignoreHeader !== undefined && f.compareHeaders !== undefined)
    throw usageError('--ignore-header and --compare-headers exclude each other: name what to compare, or what not to');
  return {
    trace,
    ...(primary === undefined ? {} : { primary }),
    candidate: target('--candidate', f.candidate),
    ...(secondary === undefined ? {} : { secondary }),
    ...(f.sample === undefined ? {} : { sample: { share: f.sample, seed: f.seed } }),
    ...(f.requests === undefined ? {} : { requests: f.requests }),
    concurrency: f.concurrency,
    rewrite: rewriteFrom(f),
    headers: headerRules({
      ...(f.compareHeaders === undefined ? {} : { compare: f.compareHeaders }),
      ...(f.ignoreHeader === undefined ? {} : { ignore: f.ignoreHeader }),
    }),
    ...(f.ignore === undefined ? {} : { ignoreFields: f.ignore.map(ignoredField) }),
    ...(secret === undefined ? {} : { secret }),
    maxPacketSize: f.maxPacketSize,
    ...(f.forwarded === true ? { forwarded: true } : {}),
    connectTimeoutMs: f.connectTimeout,
    requestTimeoutMs: f.timeout,
    maxBodyBytes: f.maxBody,
  };
}

/** `--ignore`: a field as the output names it; a header's name is lowercased as the output shows it. */
function ignoredField(text: string): string {
  const f = text.trim();
  if (!/^(status|no-response|body(:.+)?|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.test(f))
    throw usageError(
      `--ignore ${JSON.stringify(text)}: name a field as the output does: status, header:<name>, body, body:$.path, body:line N`,
    );
  // Grouped fields fold array indexes: body:$.items[3].at is ignored as body:$.items[*].at.
  return f.startsWith('header:') ? f.toLowerCase() : f.replace(/\[\d+\]/g, '[*]');
}

function target(flag: string, url: string): Target {
  try {
    return parseTarget(url);
  } catch (e) {
    throw e instanceof UsageError ? new UsageError(`${flag}: ${e.message}`, e.code) : e;
  }
}

/** A comparison measures no load: only `diffs` thresholds mean something here. */
function checkThresholdMetrics(thresholds: Threshold[] | undefined): void {
  const other = (thresholds ?? []).find((t) => t.metric.kind !== 'diffs');
  if (other !== undefined)
    throw usageError(`--threshold ${JSON.stringify(other.text)}: diff checks diffs thresholds only, e.g. 'diffs<0.1%'`);
}

/** The run, with Ctrl-C stopping it (what was compared is still reported) and a progress line on a terminal. */
async function runWithSignals(
  options: DiffRunOptions,
  flags: DiffFlags,
  output: DiffOutput,
): ReturnType<typeof runDiff> {
  const stop = new AbortController();
  const onSignal = (): void => {
    process.stderr.write('\ndiff: stopping (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = process.stderr.isTTY === true && flags.progress;
  let last = 0;
  try {
    return await runDiff({
      ...options,
      signal: stop.signal,
      onIssue: (m) => process.stderr.write(`diff: ${m}\n`),
      onStart: (header, startUs) => output.open(header, startUs),
      onDiff: (e) => output.write(e),
      ...(tty
        ? {
            onProgress: (p) => {
              const now = performance.now();
              if (now - last < 250) return;
              last = now;
              process.stderr.write(
                `\rdiff: compared ${p.compared}, equal ${p.equal}, differing ${p.differing}, noise only ${p.noiseOnly}, dropped ${p.dropped} `,
              );
            },
          }
        : {}),
    });
  } finally {
    if (tty) process.stderr.write('\n');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `-o`: the diff events as a trace (the input's header, minor version 2, this run's start). */
class DiffOutput {
  private writer: TraceWriter | undefined;
  private lost = 0;

  constructor(private readonly file: string | undefined) {}

  async open(input: TraceHeader, startUs: number): Promise<void> {
    if (this.file === undefined) return;
    const header: TraceHeader = {
      ...input,
      minorVersion: Math.max(TRACE_MINOR_VERSION, input.minorVersion),
      tool: `ajpbench ${toolVersion()} diff (node ${process.version})`,
      startTime: new Date(startUs / 1000).toISOString(),
      startTimeUs: startUs,
    };
    try {
      this.writer = await TraceWriter.create(this.file, header);
    } catch (e) {
      throw cannotWrite(this.file, e);
    }
  }

  write(e: DiffEvent): void {
    const w = this.writer;
    if (w === undefined) return;
    try {
      void w.write(e)?.catch(() => undefined);
    } catch {
      this.lost++;
    }
  }

  /** After the results are out: a failed output ends the run with exit 3, saying what it lost. */
  async close(): Promise<void> {
    const w = this.writer;
    if (w === undefined) return;
    try {
      await w.close();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw runtimeError(
        `${why}; ${w.written} diff events written, ${w.events - w.written + this.lost} lost`,
        'AJPBENCH_ERR_OUTPUT',
      );
    }
  }
}

/** --json (a verdict document `ajpbench report` reads), --html, --junit. */
function writeResults(
  report: DiffReport,
  flags: DiffFlags,
  text: string,
  pass: boolean,
  thresholds: ReturnType<typeof evaluateDiffThresholds>,
): void {
  const s = report.summary;
  const html: HtmlReportInput = {
    title: `ajpbench diff: ${report.targets.candidate} against ${report.targets.primary}`,
    subtitle: [`trace ${report.file}`, `started ${report.startedAt}`],
    runs: [],
    diff: report,
    thresholds,
    verdict: {
      pass,
      lines: [
        `${s.differing} of ${s.compared} exchanges differ${s.noiseOnly > 0 ? ` (${s.noiseOnly} more only in noise)` : ''}`,
        ...thresholds.filter((t) => !t.pass).map((t) => t.message),
      ],
    },
  };
  if (flags.html !== undefined) writeOutput(flags.html, renderHtmlReport(html));
  if (flags.junit !== undefined)
    writeOutput(
      flags.junit,
      renderJUnit([
        {
          name: `diff ${report.targets.candidate}`,
          timestamp: report.startedAt,
          timeS: report.elapsedMs / 1000,
          cases: thresholdCases(thresholds, 'ajpbench.diff'),
        },
      ]),
    );
  if (flags.json !== undefined) {
    const doc: VerdictDocument = { kind: 'ajpbench-diff', version: 1, pass, result: report, text, html };
    writeOutput(flags.json, JSON.stringify(doc) + '\n');
  }
}

/** AJPBENCH_ERR_BACKEND when a target never answered (nothing was comparable, or the candidate was silent throughout); AJPBENCH_ERR_INTERRUPTED when stopped before anything was sent. */
function deadTarget(r: DiffReport): Error | undefined {
  if (r.sent === 0 && r.stoppedBy === 'Ctrl-C')
    return runtimeError('diff was stopped before it compared anything', 'AJPBENCH_ERR_INTERRUPTED');
  if (r.sent === 0) return undefined;
  const silent: string[] = [];
  if (r.answered.primary === 0) silent.push(`the primary ${r.targets.primary}`);
  if (r.answered.candidate === 0) silent.push(`the candidate ${r.targets.candidate}`);
  if (r.answered.secondary === 0) silent.push(`the secondary ${r.targets.secondary ?? ''}`);
  if (silent.length === 0) return undefined;
  return runtimeError(`no answer from ${silent.join(' nor from ')} to ${r.sent} exchanges`, 'AJPBENCH_ERR_BACKEND');
}
