/** `ajpbench record`: transparent AJP taps between the web server and Tomcat, writing one trace (docs/record.md). */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  TapListenError,
  TapRecorder,
  recorderFigures,
  type RecordProgress,
  type RecordSummary,
  type TapSpec,
} from '../capture/index.js';
import {
  DiscardTraceOutput,
  RotatingTraceWriter,
  TraceWriter,
  type TraceHeader,
  type TraceOutput,
} from '../trace/index.js';
import { formatHostPort, parseHostPort, type HostPort } from '../host-port.js';
import { ExitCode, runtimeError, usageError } from './exit-codes.js';
import { cannotWrite, writeOutput } from './files.js';
import type { RunContext } from './run-context.js';
import {
  addMetricsOptions,
  metricsFlagWithout,
  startMetrics,
  type MetricsFlags,
  type RunningMetrics,
} from './metrics-options.js';
import {
  addMirrorOptions,
  createRecordMirror,
  mirrorStatus,
  mirrorSummaryText,
  reportMirrorVerdicts,
  type RecordMirror,
  type RecordMirrorFlags,
} from './mirror-options.js';
import { asFlagParser, parseDuration, parseInteger, parseSize } from './options.js';
import { parseThreshold, type Threshold } from '../verdict/threshold.js';
import type { MirrorStats } from '../verdict/shadow-mirror.js';
import { addTraceOptions, NO_TRACE_OPTIONS, traceOptionsFrom, type TraceFlags } from './trace-options.js';
import { toolVersion } from './version.js';

interface RecordFlags extends TraceFlags, MetricsFlags, RecordMirrorFlags {
  /** false: --no-trace, nothing written (the metrics monitor alone). */
  trace: boolean;
  listen?: HostPort;
  upstream?: HostPort;
  worker?: string;
  tap?: TapSpec[];
  output?: string;
  rotate?: number;
  keep?: number;
  keepFor?: number;
  gzip?: boolean;
  duration?: number;
  maxExchanges?: number;
  drain: number;
  connectTimeout: number;
  keepalive?: number;
  maxPacketSize: number;
  tracer: 'thread' | 'inline';
  status?: boolean;
  json?: string;
  html?: string;
  threshold?: Threshold[];
}

/** Status line refresh on a terminal. */
const STATUS_EVERY_MS = 1000;
/** Below this, --rotate would start a file every few events. */
const MIN_ROTATE_BYTES = 1024;
const MAX_ROTATE_BYTES = 1024 ** 4;

/** `LISTEN=UPSTREAM[@WORKER]`, e.g. `127.0.0.1:19009=127.0.0.1:18009@tomcat1`. */
export function parseTap(value: string): TapSpec {
  const eq = value.indexOf('=');
  if (eq < 0)
    throw usageError(`--tap takes LISTEN=UPSTREAM[@WORKER], got ${JSON.stringify(value)}`, 'AJPBENCH_ERR_TARGET');
  const rest = value.slice(eq + 1);
  const at = rest.indexOf('@');
  const worker = at < 0 ? undefined : rest.slice(at + 1);
  if (worker !== undefined && !/^[\w.-]{1,64}$/.test(worker)) {
    throw new InvalidArgumentError(
      `--tap: the worker name after @ takes letters, digits, _ . - (at most 64), got ${JSON.stringify(worker)}`,
    );
  }
  return {
    listen: parseHostPort(value.slice(0, eq), '--tap (listen side)', { allowZeroPort: true }),
    upstream: parseHostPort(at < 0 ? rest : rest.slice(0, at), '--tap (upstream side)'),
    ...(worker === undefined ? {} : { worker }),
  };
}

export function recordCommand(ctx: RunContext): Command {
  return recordDefinition().action(async (flags: RecordFlags, cmd: Command) => {
    const taps = checkFlags(flags, cmd);
    const mirror = createRecordMirror(flags, taps);
    const output = flags.trace ? traceOutputFor(flags) : discardOutput();
    const monitor = await startMetrics(flags);
    const releaseStdio = holdStdioErrors();
    const onHangUp = (): void => void output.reopen();
    process.on('SIGHUP', onHangUp);
    let verdictFailed = false;
    try {
      const recorder = await startRecorder(taps, flags, output.open, monitor, mirror);
      announce(recorder, taps, flags.trace ? output.name : undefined, flags.rotate !== undefined, monitor, mirror);
      const summary = await untilStopped(recorder, flags, mirror);
      const name = flags.trace ? output.name : 'no trace';
      process.stderr.write(summaryText(summary, flags.trace ? output.files() : undefined, mirror));
      if (flags.json !== undefined) writeOutput(flags.json, recordJson(summary, mirror));
      if (mirror !== undefined) verdictFailed = !reportMirrorVerdicts(mirror, flags, summary, name);
      if (summary.outputError !== undefined)
        throw runtimeError(`the trace is incomplete: ${summary.outputError}`, 'AJPBENCH_ERR_TRACE_LOST');
    } finally {
      process.off('SIGHUP', onHangUp);
      releaseStdio();
      await monitor?.server.close();
    }
    ctx.exitCode = verdictFailed ? ExitCode.VerdictFailed : ExitCode.Ok;
  });
}

function recordDefinition(): Command {
  const cmd = new Command('record')
    .summary('sit between the web server and Tomcat as a transparent tap and record the AJP traffic')
    .description(
      'Listens where mod_jk (or mod_proxy_ajp) connects, opens one connection to Tomcat for each connection ' +
        'accepted, and forwards the bytes both ways unchanged, with back-pressure, half-close and resets passed ' +
        'on, CPing/CPong and connection reuse untouched. Decoding runs beside the forwarding and never delays it; ' +
        'every exchange, CPing, connection and error becomes a trace event (JSON Lines, docs/trace-format.md).\n\n' +
        'One tap:\n' +
        '  ajpbench record --listen 127.0.0.1:8009 --upstream 127.0.0.1:18009 -o trace.jsonl\n' +
        'One per mod_jk worker of a balancer, each labelled with its worker name:\n' +
        '  ajpbench record --tap 127.0.0.1:19009=127.0.0.1:18009@tomcat1 \\\n' +
        '                  --tap 127.0.0.1:29009=127.0.0.1:28009@tomcat2 -o trace.jsonl --rotate 100MB\n' +
        'then set worker.tomcat1.port=19009 and worker.tomcat2.port=29009 in workers.properties (docs/record.md).\n\n' +
        'Ctrl-C or SIGTERM stops accepting, lets in-flight exchanges finish (--drain), completes the trace and ' +
        "prints a summary; a second Ctrl-C stops waiting. An upstream that is down resets the web server's " +
        'connection and is recorded as an error; the tap keeps accepting. The trace never stops the traffic: ' +
        'if it cannot be written (a full disk, a reader of stdout gone) the tap says so once, keeps forwarding, ' +
        'and exits 3 at the end. Exit code 3 also when a listen address is in use or the trace cannot be opened.\n\n' +
        'Long runs: SIGHUP reopens the output (-o FILE is created again after logrotate renamed it; with --rotate ' +
        'the next numbered file starts); --keep and --keep-for delete old rotated files, --gzip compresses them.\n\n' +
        'Monitoring: --metrics 9464 serves Prometheus metrics at http://127.0.0.1:9464/metrics (exchanges, latency ' +
        'histograms, errors, CPing, connections and bytes per worker, URI group and status class); with --no-trace ' +
        'nothing is written and the tap is a pure monitor (docs/metrics.md).',
    )
    .option('--listen <host:port>', 'address to accept the web server on (with --upstream)', (v) =>
      parseHostPort(v, '--listen', { allowZeroPort: true }),
    )
    .option('--upstream <host:port>', "Tomcat's AJP connector (with --listen)", (v) => parseHostPort(v, '--upstream'))
    .option('--worker <name>', 'label for the --listen tap: the mod_jk worker name pointed at it')
    .option(
      '--tap <listen=upstream[@worker]>',
      'a tap; repeatable, for several workers in one process',
      (v: string, prev: TapSpec[] | undefined) => [...(prev ?? []), parseTap(v)],
    )
    .option('-o, --output <trace.jsonl>', 'trace file to write (mode 0600); - or default: stdout')
    .option(
      '--rotate <size>',
      'start a new numbered file (trace.0001.jsonl, trace.0002.jsonl, ...) every size, e.g. 100MB; 1KiB to 1024GiB',
      (v) => parseSize(v, '--rotate', { min: MIN_ROTATE_BYTES, max: MAX_ROTATE_BYTES }),
    )
    .option(
      '--keep <n>',
      'with --rotate: keep at most n files (the current one included), delete older ones; ≥ 1',
      (v) => parseInteger(v, '--keep', { min: 1 }),
    )
    .option(
      '--keep-for <duration>',
      'with --rotate: delete rotated files this long after they were closed (e.g. 7d); above 0, up to 24d',
      (v) => parseDuration(v, '--keep-for'),
    )
    .option('--gzip', 'with --rotate: compress every rotated file to FILE.gz (the last one stays plain)')
    .option('--duration <duration>', 'stop after this long (e.g. 30s, 10m, 2h); above 0, up to 24d', (v) =>
      parseDuration(v, '--duration'),
    )
    .option('--max-exchanges <n>', 'stop after this many exchanges (the trace holds exactly n); ≥ 1', (v) =>
      parseInteger(v, '--max-exchanges', { min: 1 }),
    )
    .option(
      '--drain <duration>',
      'on stop, how long in-flight exchanges may take to finish; 0 to 24d',
      (v) => parseDuration(v, '--drain', { zero: true }),
      5000,
    )
    .option(
      '--connect-timeout <duration>',
      'an upstream that does not accept within this is treated as down; above 0, up to 24d',
      (v) => parseDuration(v, '--connect-timeout'),
      10_000,
    )
    .option(
      '--keepalive <duration>',
      'TCP keepalive on both sides of every connection, first probe after this idle time (as socket_keepalive); 1s to 24d',
      (v) => {
        const ms = parseDuration(v, '--keepalive');
        if (ms < 1000)
          throw new InvalidArgumentError(`--keepalive takes a duration from 1s up to 24d, got ${JSON.stringify(v)}`);
        return ms;
      },
    )
    .option(
      '--max-packet-size <bytes>',
      "largest AJP packet, header included, as the connector's packetSize; 8192 to 65536",
      (v) => parseInteger(v, '--max-packet-size', { min: 8192, max: 65536 }),
      8192,
    )
    .addOption(
      new Option(
        '--tracer <where>',
        'where the traffic is decoded for the trace: thread (a low-priority tracer thread: forwarding never waits ' +
          'for it, and on a saturated machine it falls behind and sheds tracing, never traffic) or inline (on the ' +
          'forwarding thread: less CPU for large bodies, but each exchange waits for its decode); --mirror decodes inline',
      )
        .choices(['thread', 'inline'])
        .default('thread'),
    )
    .option('--no-status', 'no live status line on stderr (shown only when stderr is a terminal)')
    .option('--no-trace', 'write no trace (no -o): forward and count only, e.g. as a pure --metrics monitor')
    .option('--json <file>', 'write the summary (with --mirror, the comparison too) as JSON at the end')
    .option('--html <file>', 'with --mirror, write the comparison as a self-contained HTML page at the end')
    .option(
      '--threshold <expr>',
      "with --mirror, check at the end: 'diffs<0.1%' (a share of compared exchanges) or 'diffs<5' (a count); repeatable, a failure exits 1",
      (v: string, prev: Threshold[] | undefined) => [...(prev ?? []), asFlagParser(parseThreshold)(v)],
    );
  return addMirrorOptions(addMetricsOptions(addTraceOptions(cmd)));
}

/** Flags about what the trace holds or where it goes: meaningless with --no-trace. */
const TRACE_ONLY_FLAGS = [
  ['output', '-o'],
  ['rotate', '--rotate'],
  ['keep', '--keep'],
  ['keepFor', '--keep-for'],
  ['gzip', '--gzip'],
  ['redact', '--no-redact'],
  ['bodies', '--bodies'],
  ['maxBody', '--max-body'],
] as const;

/** The taps to run, once the flags that go together have been checked. */
function checkFlags(flags: RecordFlags, cmd: Command): TapSpec[] {
  const taps = tapsFrom(flags);
  const orphan = metricsFlagWithout(flags);
  if (orphan !== undefined) throw usageError(`${orphan} needs --metrics`);
  if (!flags.trace) {
    const given = TRACE_ONLY_FLAGS.find(([key]) => cmd.getOptionValueSource(key) === 'cli');
    if (given !== undefined) throw usageError(`${given[1]} says what to do with the trace, and --no-trace writes none`);
  }
  if (flags.output === '-') flags.output = undefined;
  if (flags.rotate !== undefined && flags.output === undefined)
    throw usageError('--rotate needs -o <file>: stdout cannot be rotated');
  for (const [flag, given] of [
    ['--keep', flags.keep],
    ['--keep-for', flags.keepFor],
    ['--gzip', flags.gzip],
  ] as const) {
    if (given !== undefined && flags.rotate === undefined) throw usageError(`${flag} needs --rotate`);
  }
  return taps;
}

interface OutputPlan {
  /** How the start line names it: the path or "stdout". */
  name: string;
  open: (header: TraceHeader) => Promise<TraceOutput>;
  /** The files written so far (for the summary). */
  files: () => readonly string[];
  /** SIGHUP: close the current file and open the next (a failure is the output's, reported as such). */
  reopen: () => Promise<void>;
}

/** --no-trace: the events are counted and let go. */
function discardOutput(): OutputPlan {
  return {
    name: 'nothing',
    open: () => Promise.resolve(new DiscardTraceOutput()),
    files: () => [],
    reopen: () => Promise.resolve(),
  };
}

function traceOutputFor(flags: RecordFlags): OutputPlan {
  const path = flags.output;
  const warn = (m: string): void => void process.stderr.write(`\nrecord: warning: ${m}\n`);
  if (path === undefined)
    return {
      name: 'stdout',
      open: (h) => TraceWriter.toStream(process.stdout, h, 'stdout'),
      files: () => ['stdout'],
      reopen: () => {
        warn('SIGHUP: the trace goes to stdout, which cannot be reopened; recording goes on');
        return Promise.resolve();
      },
    };
  let writer: RotatingTraceWriter | undefined;
  return {
    name: path,
    files: () => writer?.files ?? [],
    open: async (header) => {
      try {
        writer =
          flags.rotate === undefined
            ? await RotatingTraceWriter.reopening(path, header)
            : await RotatingTraceWriter.create(path, header, flags.rotate, {
                ...(flags.keep === undefined ? {} : { keep: flags.keep }),
                ...(flags.keepFor === undefined ? {} : { keepForMs: flags.keepFor }),
                ...(flags.gzip === true ? { gzip: true } : {}),
                onWarning: warn,
              });
        return writer;
      } catch (e) {
        throw cannotWrite(path, e);
      }
    },
    // Not yet open: nothing to reopen. A failed reopen is the output's failure, already reported.
    reopen: () => writer?.reopen().catch(() => undefined) ?? Promise.resolve(),
  };
}

/**
 * bin/ajpbench ends the process quietly when the reader of stdout or stderr goes away: right for a
 * command whose output is all it does, wrong for a tap, whose work is the forwarding. While the
 * taps run this command handles those errors itself: a failed stdout is a failed trace (the trace
 * writer counts and reports it), a failed stderr only means no more status lines. Returns the undo.
 */
function holdStdioErrors(): () => void {
  const ignore = (): void => undefined;
  const held = [process.stdout, process.stderr].map((stream) => {
    const listeners = stream.rawListeners('error') as ((err: Error) => void)[];
    for (const l of listeners) stream.off('error', l);
    stream.on('error', ignore);
    return { stream, listeners };
  });
  return () => {
    for (const { stream, listeners } of held) {
      stream.off('error', ignore);
      for (const l of listeners) stream.on('error', l);
    }
  };
}

/** How long a stop waits for the mirror's last copies, after the taps drained. */
const MIRROR_FINISH_MS = 5000;

async function startRecorder(
  taps: TapSpec[],
  flags: RecordFlags,
  openOutput: (h: TraceHeader) => Promise<TraceOutput>,
  monitor: RunningMetrics | undefined,
  mirror: RecordMirror | undefined,
): Promise<TapRecorder> {
  const observers = [monitor?.metrics.observe, mirror?.mirror.observe].filter((o) => o !== undefined);
  try {
    const recorder = await TapRecorder.start({
      taps,
      // --no-trace: no body bytes are kept for a trace nobody writes (lengths, which the metrics read, still are).
      trace: flags.trace ? traceOptionsFrom(flags) : NO_TRACE_OPTIONS,
      tool: `ajpbench ${toolVersion()}`,
      openOutput,
      drainMs: flags.drain,
      connectTimeoutMs: flags.connectTimeout,
      ...(flags.keepalive === undefined ? {} : { keepAliveMs: flags.keepalive }),
      maxPacketSize: flags.maxPacketSize,
      tracer: flags.tracer,
      ...(flags.maxExchanges === undefined ? {} : { maxExchanges: flags.maxExchanges }),
      ...(flags.duration === undefined ? {} : { durationMs: flags.duration }),
      onWarning: (m) => process.stderr.write(`\nrecord: warning: ${m}\n`),
      // The metrics monitor and the mirror both watch the events (either may be absent).
      ...(observers.length === 0 ? {} : { observe: (e, detail) => observers.forEach((o) => o(e, detail)) }),
      ...(mirror === undefined
        ? {}
        : {
            detailBytes: mirror.mirror.detailBytes,
            beforeClose: () => mirror.mirror.finish(Date.now() + Math.min(flags.mirrorTimeout, MIRROR_FINISH_MS)),
          }),
    });
    monitor?.metrics.readLiveFrom(() => recorderFigures(recorder));
    mirror?.mirror.attach({ append: (e) => recorder.append(e), startTimeUs: recorder.startTimeUs });
    return recorder;
  } catch (e) {
    if (e instanceof TapListenError) throw runtimeError(e.message, 'AJPBENCH_ERR_LISTEN');
    throw e;
  }
}

function announce(
  recorder: TapRecorder,
  taps: TapSpec[],
  /** Undefined: --no-trace. */
  output: string | undefined,
  rotated: boolean,
  monitor: RunningMetrics | undefined,
  mirror: RecordMirror | undefined,
): void {
  recorder.addresses().forEach((a, i) => {
    const t = taps[i] as TapSpec;
    process.stderr.write(
      `record: ${formatHostPort(a)} -> ${formatHostPort(t.upstream)}${t.worker === undefined ? '' : ` (${t.worker})`}\n`,
    );
  });
  if (monitor !== undefined) process.stderr.write(`record: metrics at ${monitor.server.url}\n`);
  if (mirror !== undefined)
    process.stderr.write(
      `record: mirroring to ${mirror.candidates.map((c) => `ajp://${c}`).join(', ')} (after production answered; the candidates' answers are only compared)\n`,
    );
  const decoding = recorder.tracerMode === 'thread' ? 'decoded on a tracer thread' : 'decoded on the forwarding thread';
  process.stderr.write(
    `record: ${output === undefined ? `no trace (--no-trace), ${decoding}` : `writing ${output}${rotated ? ' (rotated)' : ''}, ${decoding}`}; Ctrl-C to stop\n`,
  );
}

/** Waits for the recording to stop (a signal, --duration, --max-exchanges), with the status line meanwhile. */
async function untilStopped(
  recorder: TapRecorder,
  flags: RecordFlags,
  mirror: RecordMirror | undefined,
): Promise<RecordSummary> {
  let signals = 0;
  let statusShown = false;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      process.stderr.write(
        `${statusShown ? '\n' : ''}record: stopping; waiting up to ${flags.drain} ms for in-flight exchanges (Ctrl-C again to stop now)\n`,
      );
      statusShown = false;
      void recorder.stop('signal');
    } else recorder.cutShort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let last: RecordProgress = recorder.progress;
  const timer =
    flags.status !== false && process.stderr.isTTY
      ? setInterval(() => {
          if (signals > 0) return;
          const now = recorder.progress;
          process.stderr.write(statusLine(now, last, mirror?.mirror.summary));
          statusShown = true;
          last = now;
        }, STATUS_EVERY_MS)
      : undefined;
  try {
    return await recorder.finished;
  } finally {
    clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (statusShown) process.stderr.write('\n');
  }
}

function tapsFrom(flags: RecordFlags): TapSpec[] {
  const taps = [...(flags.tap ?? [])];
  if ((flags.listen === undefined) !== (flags.upstream === undefined))
    throw usageError('--listen and --upstream go together');
  if (flags.worker !== undefined && flags.listen === undefined)
    throw usageError('--worker labels the --listen tap; with --tap write LISTEN=UPSTREAM@WORKER');
  if (flags.worker !== undefined && !/^[\w.-]{1,64}$/.test(flags.worker))
    throw usageError(`--worker takes letters, digits, _ . - (at most 64), got ${JSON.stringify(flags.worker)}`);
  if (flags.listen !== undefined && flags.upstream !== undefined) {
    taps.unshift({
      listen: flags.listen,
      upstream: flags.upstream,
      ...(flags.worker === undefined ? {} : { worker: flags.worker }),
    });
  }
  if (taps.length === 0) throw usageError('nothing to record: give --listen and --upstream, or one or more --tap');
  const seen = new Set<string>();
  for (const t of taps) {
    const key = formatHostPort(t.listen);
    if (t.listen.port !== 0 && seen.has(key)) throw usageError(`two taps listen on ${key}`);
    seen.add(key);
  }
  return taps;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1);
}

function statusLine(now: RecordProgress, last: RecordProgress, mirror: MirrorStats | undefined): string {
  const s = Math.max(0.001, (now.elapsedMs - last.elapsedMs) / 1000);
  const rate = (a: number, b: number): number => (a - b) / s;
  return (
    `\rrecord: ${now.open} open, ${now.connections} connections, ${now.exchanges} exchanges (${rate(now.exchanges, last.exchanges).toFixed(0)}/s), ` +
    `to Tomcat ${mb(rate(now.bytesToContainer, last.bytesToContainer))} MB/s, to web server ${mb(rate(now.bytesToWebServer, last.bytesToWebServer))} MB/s, ` +
    `${now.errors} errors${mirror === undefined ? '' : mirrorStatus(mirror)}   `
  );
}

/** --json: the record summary, and with --mirror the mirror's figures and the comparison's summary. */
function recordJson(s: RecordSummary, mirror: RecordMirror | undefined): string {
  return (
    JSON.stringify(
      {
        record: s,
        ...(mirror === undefined
          ? {}
          : { mirror: { candidates: mirror.candidates, ...mirror.mirror.summary }, diff: mirror.verdict.summary() }),
      },
      null,
      2,
    ) + '\n'
  );
}

/** `files` undefined: --no-trace. */
export function summaryText(s: RecordSummary, files: readonly string[] | undefined, mirror?: RecordMirror): string {
  const labels = Object.entries(s.exchangesByLabel)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `record: stopped (${s.stopReason}) after ${(s.elapsedMs / 1000).toFixed(1)} s: ${s.connections} connections, ` +
      `${s.exchanges} exchanges${labels === '' ? '' : ` (${labels})`}, ${s.incomplete} incomplete, ${s.cpings} CPings, ${s.errors} errors; ` +
      `${mb(s.bytesToContainer)} MB to Tomcat, ${mb(s.bytesToWebServer)} MB to the web server`,
  ];
  for (const t of s.taps) {
    const st = t.stats;
    lines.push(
      `  ${t.listen} -> ${t.upstream}${t.worker === undefined ? '' : ` ${t.worker}`}: ${st.connections} connections, ${st.exchanges} exchanges, ` +
        `${mb(st.bytesToContainer)} MB to Tomcat, ${mb(st.bytesToWebServer)} MB back, ${st.errors} errors` +
        `${st.upstreamFailures > 0 ? `, ${st.upstreamFailures} upstream connects failed` : ''}${st.resets > 0 ? `, ${st.resets} resets` : ''}`,
    );
  }
  const notes: string[] = [];
  if (s.exchangesNotRecorded > 0)
    notes.push(`${s.exchangesNotRecorded} exchanges after --max-exchanges forwarded but not recorded`);
  if (s.cutOff > 0) notes.push(`${s.cutOff} connections still busy at the drain deadline were closed`);
  if (s.eventsDropped > 0)
    notes.push(
      `${s.exchangesDropped} exchanges (${s.eventsDropped} trace events) forwarded but dropped from the trace (the output was too slow; see its dropped events)`,
    );
  if (s.tracesShed > 0)
    notes.push(`${s.tracesShed} connections no longer traced: the tracer fell behind (their traffic flowed on)`);
  if (s.outputError !== undefined) notes.push(`${s.eventsLost} trace events lost: ${s.outputError}`);
  if (notes.length > 0) lines.push(`  ${notes.join('; ')}`);
  if (mirror !== undefined)
    lines.push(...mirrorSummaryText(mirror.mirror.summary, mirror.candidates).map((l) => `  ${l}`));
  lines.push(
    files === undefined ? '  no trace written (--no-trace)' : `  ${s.eventsWritten} events -> ${files.join(', ')}`,
  );
  return lines.join('\n') + '\n';
}
