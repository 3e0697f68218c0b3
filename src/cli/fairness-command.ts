/** `ajpbench fairness`: is my balancer fair? Shares per worker against expected weights (docs/verdicts.md). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { formatHostPortUrl } from '../host-port.js';
import { renderFairness } from '../report/verdict-tables.js';
import type { HtmlFairness, HtmlReportInput } from '../report/html-input.js';
import { renderHtmlReport } from '../report/html-report.js';
import { DEFAULT_ALPHA, DEFAULT_TOLERANCE, parseExpect, parseShare, type ExpectedWeight } from '../verdict/fairness.js';
import { runFairness, type FairnessRunOptions, type FairnessRunResult } from '../verdict/fairness-run.js';
import { writeGeneratedTrace, type GeneratedRequest } from '../verdict/generated-trace.js';
import { renderJUnit, type JUnitCase } from '../verdict/junit.js';
import { formatP } from '../verdict/fairness.js';
import { ExitCode, usageError } from './exit-codes.js';
import type { RunContext } from './run-context.js';
import { asFlagParser, wholeNumber } from './options.js';
import { addLoadOptions, applyProfile, loadOptions, runLoad, type LoadFlags } from './load-flags.js';
import { cannotWrite, writeOutput } from './files.js';
import { checkThresholds, thresholdCases, type ThresholdOutcome } from './verdict-options.js';
import type { ReplayOptions } from '../load/replay.js';
import type { VerdictDocument } from '../results/verdict-document.js';

/** `--sessions` is fairness's own (synthetic sessions to open); replay's --sessions is --recorded-sessions here. */
interface FairnessFlags extends Omit<LoadFlags, 'sessions'> {
  expect: ExpectedWeight[];
  alpha: number;
  tolerance: number;
  path?: string;
  sticky?: boolean;
  sessions: number;
  followUps: number;
  stickyPath?: string;
  recordedSessions?: boolean;
  jkStatus?: string;
  jkBalancer?: string;
  tapTrace?: string;
}

export function fairnessCommand(ctx: RunContext): Command {
  const cmd = fairnessDefinition();
  return cmd.action(async (trace: string | undefined, flags: FairnessFlags) => {
    applyProfile(cmd, flags);
    if (flags.routeHeader === undefined) flags.routeHeader = 'X-Served-By';
    const result = await measureFairness(trace, flags);
    const name = ((result.report.config.targets as string[] | undefined) ?? []).join(' + ');
    const th = checkThresholds(result.report, flags.threshold);
    const text = renderFairness(result, name) + (th.text === '' ? '' : `\n${th.text}`);
    process.stdout.write(text);
    const pass = result.pass && th.failed === 0;
    writeFairness(result, flags, { name, text, pass, th });
    ctx.exitCode = pass ? ExitCode.Ok : ExitCode.VerdictFailed;
  });
}

function fairnessDefinition(): Command {
  const cmd = new Command('fairness')
    .summary("is my balancer fair? each worker's share against the expected weights (exit 1 when not)")
    .description(
      'Drives load through a balancer (mod_jk, mod_proxy_balancer, nginx upstream ...) and counts what each worker ' +
        'served: the route suffix of JSESSIONID in Set-Cookie, else the --route-header (default X-Served-By). With a trace ' +
        "it is replayed; without one, a GET of the target URL's path (or --path) is sent over and over. The verdict: a " +
        'chi-square goodness-of-fit test against --expect (p-value against --alpha) and the largest relative deviation ' +
        'of any worker (against --tolerance); both are printed, either failing exits 1.\n\n' +
        "--sticky opens sessions and follows each with its cookie: every follow-up must land on its session's worker. " +
        "--jk-status reads mod_jk's own counters (reset before the run) to print beside the shares measured on the wire.\n\n" +
        'Example: ajpbench fairness --target http://127.0.0.1/app/ --expect tomcat1=1,tomcat2=1 --requests 2000 --junit fairness.xml',
    )
    .argument('[trace]', "a trace file (.jsonl); without one, GET of the target's path")
    .requiredOption(
      '--expect <weights>',
      'expected weights per worker (route), e.g. tomcat1=1,tomcat2=1 or tomcat1=3,tomcat2=1',
      asFlagParser(parseExpect),
    )
    .option(
      '--alpha <p>',
      'significance level of the chi-square test',
      asFlagParser((v) => {
        const a = Number(v);
        if (!(a > 0 && a < 1))
          throw new RangeError(`--alpha takes a probability between 0 and 1, got ${JSON.stringify(v)}`);
        return a;
      }),
      DEFAULT_ALPHA,
    )
    .option(
      '--tolerance <share>',
      "largest relative deviation of any worker's share from its expected share (5% = 0.05)",
      asFlagParser((v) => parseShare(v, '--tolerance')),
      DEFAULT_TOLERANCE,
    )
    .option('--path <path>', "without a trace: the path (and query) to GET (default: the target URL's path, else /)")
    .option('--sticky', 'also check stickiness: open sessions, follow each with its cookie')
    .option('--sessions <n>', 'with --sticky: sessions to open', wholeNumber('--sessions', { min: 1 }), 20)
    .option(
      '--follow-ups <n>',
      'with --sticky: requests per session after the first',
      wholeNumber('--follow-ups', { min: 1 }),
      10,
    )
    .option('--sticky-path <path>', "with --sticky: the page that creates a session (default: the load's path)")
    .option(
      '--recorded-sessions',
      "replay the trace session by session (as replay --sessions); with --sticky, judge the trace's sessions " +
        '(each must stay on one worker) instead of opening synthetic ones',
    )
    .option(
      '--jk-status <url>',
      'mod_jk status worker URL (read_only=false), e.g. http://127.0.0.1/jkstatus: reset before, read after',
    )
    .option('--jk-balancer <name>', 'with --jk-status: the lb worker (default: every lb worker it lists)')
    .option(
      '--tap-trace <file>',
      'count workers by the tap labels of this trace, written by `ajpbench record --tap ...,worker=NAME` during the run',
    );
  return addLoadOptions(cmd, ['--json', '--hgrm', '--sessions']).option(
    '--json <file>',
    'write the numbers (shares, test, mod_jk view, stickiness, the run) as JSON',
  );
}

/**
 * The run. With a trace it is replayed; without one, a GET of the target URL's path (or --path)
 * is written to a temporary trace and cycled. Ctrl-C stops it, and what was measured still reports.
 */
async function measureFairness(trace: string | undefined, flags: FairnessFlags): Promise<FairnessRunResult> {
  const { sessions: _sessions, recordedSessions, ...load } = flags;
  if (recordedSessions === true && trace === undefined)
    throw usageError("--recorded-sessions needs a trace: the sessions it replays are the trace's");
  const base = {
    ...loadOptions(trace ?? '-', load, { requests: 2000 }),
    ...(recordedSessions === true ? { sessions: true } : {}),
  };
  const t0 = base.targets[0];
  if (t0 === undefined) throw usageError('fairness needs --target');
  // The path the load GETs without a trace, and that --sticky opens sessions on.
  const path = flags.path ?? (t0.prefix === '' ? '/' : t0.prefix);
  if (trace === undefined && !path.startsWith('/'))
    throw usageError(`--path must start with /, got ${JSON.stringify(path)}`);
  if (flags.sticky === true && recordedSessions !== true && t0.protocol !== 'http')
    throw usageError('--sticky needs an http:// --target (the balancer)');
  const stickyUrl = formatHostPortUrl('http', t0, flags.stickyPath ?? path);
  const generated = trace === undefined ? await generateTrace(path, t0) : undefined;
  try {
    // The generated trace holds the target's path already: the targets lose their prefix.
    const replay =
      generated === undefined
        ? base
        : { ...base, trace: generated.trace, targets: base.targets.map((x) => ({ ...x, prefix: '' })) };
    return await runLoad('fairness', replay.trace, flags, (signal) =>
      runFairness(fairnessOptions(replay, flags, stickyUrl, signal)),
    );
  } finally {
    generated?.remove();
  }
}

/** A one-GET trace in a temporary directory, and how to remove it. */
async function generateTrace(
  path: string,
  target: GeneratedRequest['target'],
): Promise<{ trace: string; remove: () => void }> {
  let dir: string | undefined;
  const remove = (): void => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  let trace = join(tmpdir(), 'ajpbench-fairness-*');
  try {
    dir = mkdtempSync(join(tmpdir(), 'ajpbench-fairness-'));
    trace = join(dir, 'generated.trace.jsonl');
    await writeGeneratedTrace(trace, { path, target });
    return { trace, remove };
  } catch (e) {
    remove();
    throw cannotWrite(trace, e);
  }
}

function fairnessOptions(
  replay: ReplayOptions,
  flags: FairnessFlags,
  stickyUrl: string,
  signal: AbortSignal,
): FairnessRunOptions {
  return {
    replay: { ...replay, signal, onIssue: (m) => process.stderr.write(`fairness: ${m}\n`) },
    expected: flags.expect,
    alpha: flags.alpha,
    tolerance: flags.tolerance,
    ...(flags.tapTrace === undefined ? {} : { tapTrace: flags.tapTrace }),
    ...(flags.jkStatus === undefined
      ? {}
      : {
          jkStatus: { url: flags.jkStatus, ...(flags.jkBalancer === undefined ? {} : { balancer: flags.jkBalancer }) },
        }),
    ...(flags.sticky === true && flags.recordedSessions === true ? { stickyRecorded: true } : {}),
    ...(flags.sticky === true && flags.recordedSessions !== true
      ? {
          sticky: {
            url: stickyUrl,
            sessions: flags.sessions,
            followUps: flags.followUps,
            routeHeader: (flags.routeHeader ?? 'X-Served-By').toLowerCase(),
            concurrency: Math.min(flags.concurrency, 16),
            timeoutMs: flags.timeout,
            signal,
          },
        }
      : {}),
  };
}

interface Verdict {
  /** The targets, as the run names them. */
  name: string;
  /** As printed. */
  text: string;
  pass: boolean;
  th: ThresholdOutcome;
}

/** --html, --junit and --json. */
function writeFairness(result: FairnessRunResult, flags: FairnessFlags, v: Verdict): void {
  const html = fairnessHtml(result, flags, v);
  if (flags.html !== undefined) writeOutput(flags.html, renderHtmlReport(html));
  if (flags.junit !== undefined)
    writeOutput(
      flags.junit,
      renderJUnit([
        {
          name: `fairness ${v.name}`,
          timestamp: result.report.startedAt,
          timeS: result.report.schedule.elapsedMs / 1000,
          properties: {
            expect: expectText(flags),
            alpha: String(flags.alpha),
            tolerance: String(flags.tolerance),
          },
          cases: [...fairnessCases(result), ...thresholdCases(v.th.results, 'ajpbench.fairness')],
          output: v.text,
        },
      ]),
    );
  if (flags.json !== undefined) {
    const doc: VerdictDocument = {
      kind: 'ajpbench-fairness',
      version: 1,
      pass: v.pass,
      result: { ...result, thresholds: v.th.results },
      text: v.text,
      html,
    };
    writeOutput(flags.json, JSON.stringify(doc) + '\n');
  }
}

function expectText(flags: FairnessFlags): string {
  return flags.expect.map((e) => `${e.worker}=${e.weight}`).join(',');
}

function fairnessHtml(result: FairnessRunResult, flags: FairnessFlags, { name, pass, th }: Verdict): HtmlReportInput {
  return {
    title: `ajpbench fairness: ${name}`,
    subtitle: [`expected ${expectText(flags)}`, `started ${result.report.startedAt}`],
    runs: [{ name, report: result.report }],
    fairness: {
      target: name,
      verdict: result.verdict,
      jkStatus: result.jk === null ? null : result.jk.workers.map((w) => ({ worker: w.worker, count: w.jk })),
      failovers: result.failovers,
      sticky: stickyHtml(result),
    },
    thresholds: th.results,
    verdict: {
      pass,
      lines: pass
        ? ['the shares follow the expected weights']
        : [...result.failures, ...th.results.filter((r) => !r.pass).map((r) => r.message)],
    },
  };
}

function stickyHtml(result: FairnessRunResult): HtmlFairness['sticky'] {
  const rec = result.sessionSticky ?? null;
  if (rec !== null)
    return {
      recorded: true,
      sessions: rec.started,
      followUps: rec.kept,
      violations: rec.byWorker.filter((w) => w.broken > 0).map((w) => ({ worker: w.worker, count: w.broken })),
    };
  if (result.sticky === null) return null;
  return {
    sessions: result.sticky.opened,
    followUps: result.sticky.followUps,
    violations: result.sticky.byWorker
      .filter((w) => w.violations > 0)
      .map((w) => ({ worker: w.worker, count: w.violations })),
  };
}

function fairnessCases(r: FairnessRunResult): JUnitCase[] {
  const v = r.verdict;
  const c = 'ajpbench.fairness';
  const shares = v.workers
    .map(
      (w) =>
        `${w.worker}: ${w.observed} (${(w.share * 100).toFixed(2)}%, expected ${(w.expectedShare * 100).toFixed(2)}%)`,
    )
    .join('\n');
  const chi = `chi-square ${v.chiSquare.statistic.toFixed(3)} (df ${v.chiSquare.df}), p = ${formatP(v.chiSquare.pValue)}`;
  const dev =
    v.largestDeviation === null
      ? 'no worker attributed'
      : `${v.largestDeviation.worker} ${(v.largestDeviation.relativeDeviation * 100).toFixed(2)}%`;
  const cases: JUnitCase[] = [
    {
      name: `chi-square p >= ${v.alpha}`,
      classname: c,
      output: `${chi}\n${shares}`,
      ...(v.chiSquare.pass && v.attributed > 0
        ? {}
        : { failure: { message: `${chi} < alpha ${v.alpha}`, details: shares } }),
    },
    {
      name: `largest deviation <= ${(v.tolerance * 100).toFixed(1)}%`,
      classname: c,
      output: dev,
      ...(v.largestDeviation?.pass === true
        ? {}
        : { failure: { message: `largest deviation ${dev}`, details: shares } }),
    },
  ];
  if (v.unexpected.length > 0)
    cases.push({
      name: 'no unexpected worker',
      classname: c,
      failure: { message: `not in --expect: ${v.unexpected.join(', ')}` },
    });
  const rec = r.sessionSticky ?? null;
  if (rec !== null)
    cases.push({
      name: 'sticky sessions (the trace sessions)',
      classname: c,
      output: `${rec.started} sessions, ${rec.kept} kept on one worker, ${rec.broken} broken, ${rec.unknown} unknown`,
      ...(rec.pass ? {} : { failure: { message: rec.failures.join('; ') } }),
    });
  if (r.sticky !== null) {
    const s = r.sticky;
    cases.push({
      name: 'sticky sessions',
      classname: c,
      output: `${s.opened} sessions, ${s.followUps} follow-ups, ${s.violations} violations`,
      ...(s.pass ? {} : { failure: { message: s.failures.join('; ') } }),
    });
  }
  return cases;
}
