/** `ajpbench fairness`: is my balancer fair? Shares per worker against expected weights (docs/verdicts.md). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { formatHostPortUrl } from '../host-port.js';
import { renderFairness } from '../report/verdict-tables.js';
import type { HtmlReportInput } from '../report/html-input.js';
import { renderHtmlReport } from '../report/html-report.js';
import { DEFAULT_ALPHA, DEFAULT_TOLERANCE, parseExpect, parseShare, type ExpectedWeight } from '../verdict/fairness.js';
import { runFairness, type FairnessRunResult } from '../verdict/fairness-run.js';
import { writeGeneratedTrace } from '../verdict/generated-trace.js';
import { renderJUnit, type JUnitCase } from '../verdict/junit.js';
import { formatP } from '../verdict/fairness.js';
import { ExitCode, usageError } from './exit-codes.js';
import type { RunContext } from './run-context.js';
import { parseInteger } from './options.js';
import type { ReplayFlags } from './replay-command.js';
import { applyProfile, copyLoadOptions, loadError, loadOptions, startAt, stopOnSignal } from './load-flags.js';
import { writeOutput } from './files.js';
import { checkThresholds, thresholdCases } from './verdict-options.js';
import type { VerdictDocument } from '../results/verdict-document.js';

interface FairnessFlags extends ReplayFlags {
  expect: ExpectedWeight[];
  alpha: number;
  tolerance: number;
  path?: string;
  sticky?: boolean;
  sessions: number;
  followUps: number;
  stickyPath?: string;
  jkStatus?: string;
  jkBalancer?: string;
  tapTrace?: string;
}

const wrap =
  <T>(f: (v: string) => T) =>
  (v: string): T => {
    try {
      return f(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };

const atLeast1 =
  (flag: string) =>
  (v: string): number => {
    const n = parseInteger(v, flag);
    if (n < 1) throw new InvalidArgumentError(`${flag} takes at least 1`);
    return n;
  };

export function fairnessCommand(ctx: RunContext): Command {
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
      wrap(parseExpect),
    )
    .option(
      '--alpha <p>',
      'significance level of the chi-square test',
      wrap((v) => {
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
      wrap((v) => parseShare(v, '--tolerance')),
      DEFAULT_TOLERANCE,
    )
    .option('--path <path>', "without a trace: the path (and query) to GET (default: the target URL's path, else /)")
    .option('--sticky', 'also check stickiness: open sessions, follow each with its cookie')
    .option('--sessions <n>', 'with --sticky: sessions to open', atLeast1('--sessions'), 20)
    .option('--follow-ups <n>', 'with --sticky: requests per session after the first', atLeast1('--follow-ups'), 10)
    .option('--sticky-path <path>', "with --sticky: the page that creates a session (default: the load's path)")
    .option(
      '--jk-status <url>',
      'mod_jk status worker URL (read_only=false), e.g. http://127.0.0.1/jkstatus: reset before, read after',
    )
    .option('--jk-balancer <name>', 'with --jk-status: the lb worker (default: every lb worker it lists)')
    .option(
      '--tap-trace <file>',
      'count workers by the tap labels of this trace, written by `ajpbench record --tap ...,worker=NAME` during the run',
    );
  copyLoadOptions(cmd, ctx, ['--json', '--hgrm']);
  cmd.option('--json <file>', 'write the numbers (shares, test, mod_jk view, stickiness, the run) as JSON');
  return cmd.action(async (traceArg: string | undefined, flags: FairnessFlags) => {
    applyProfile(cmd, flags);
    if (flags.routeHeader === undefined) flags.routeHeader = 'X-Served-By';
    let dir: string | undefined;
    let trace = traceArg;
    const stop = stopOnSignal('fairness');
    let result: FairnessRunResult;
    try {
      // Without a trace: one GET, cycled. The target's URL path is the request's path.
      let base = loadOptions(trace ?? '-', flags, { requests: 2000 });
      const t0 = base.targets[0];
      if (t0 === undefined) throw usageError('fairness needs --target');
      // The path the load GETs without a trace, and that --sticky opens sessions on.
      const path = flags.path ?? (t0.prefix === '' ? '/' : t0.prefix);
      if (trace === undefined) {
        const t = t0;
        if (!path.startsWith('/')) throw usageError(`--path must start with /, got ${JSON.stringify(path)}`);
        dir = mkdtempSync(join(tmpdir(), 'ajpbench-fairness-'));
        trace = join(dir, 'generated.trace.jsonl');
        await writeGeneratedTrace(trace, { path, target: t });
        base = { ...base, trace, loop: true, targets: base.targets.map((x) => ({ ...x, prefix: '' })) };
      }
      const first = base.targets[0];
      if (flags.sticky === true && first?.protocol !== 'http')
        throw usageError('--sticky needs an http:// --target (the balancer)');
      await startAt(flags, stop.signal, 'fairness');
      const stickyUrl = formatHostPortUrl('http', t0, flags.stickyPath ?? path);
      result = await runFairness({
        replay: { ...base, signal: stop.signal, onIssue: (m) => process.stderr.write(`fairness: ${m}\n`) },
        expected: flags.expect,
        alpha: flags.alpha,
        tolerance: flags.tolerance,
        ...(flags.tapTrace === undefined ? {} : { tapTrace: flags.tapTrace }),
        ...(flags.jkStatus === undefined
          ? {}
          : {
              jkStatus: {
                url: flags.jkStatus,
                ...(flags.jkBalancer === undefined ? {} : { balancer: flags.jkBalancer }),
              },
            }),
        ...(flags.sticky === true
          ? {
              sticky: {
                url: stickyUrl,
                sessions: flags.sessions,
                followUps: flags.followUps,
                routeHeader: flags.routeHeader.toLowerCase(),
                concurrency: Math.min(flags.concurrency, 16),
                timeoutMs: flags.timeout,
                signal: stop.signal,
              },
            }
          : {}),
      });
    } catch (e) {
      throw loadError(e, trace ?? '-');
    } finally {
      stop.done();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
    const target = result.report.config.targets as string[] | undefined;
    const name = (target ?? []).join(' + ');
    let text = renderFairness(result, name);
    const th = checkThresholds(result.report, flags.threshold);
    if (th.text !== '') text += `\n${th.text}`;
    process.stdout.write(text);
    const pass = result.pass && th.failed === 0;
    const html: HtmlReportInput = {
      title: `ajpbench fairness: ${name}`,
      subtitle: [
        `expected ${flags.expect.map((e) => `${e.worker}=${e.weight}`).join(',')}`,
        `started ${result.report.startedAt}`,
      ],
      runs: [{ name, report: result.report }],
      fairness: {
        target: name,
        verdict: result.verdict,
        jkStatus: result.jk === null ? null : result.jk.workers.map((w) => ({ worker: w.worker, count: w.jk })),
        failovers: result.failovers,
        sticky:
          result.sticky === null
            ? null
            : {
                sessions: result.sticky.opened,
                followUps: result.sticky.followUps,
                violations: result.sticky.byWorker
                  .filter((w) => w.violations > 0)
                  .map((w) => ({ worker: w.worker, count: w.violations })),
              },
      },
      thresholds: th.results,
      verdict: {
        pass,
        lines: pass
          ? ['the shares follow the expected weights']
          : [...result.failures, ...th.results.filter((r) => !r.pass).map((r) => r.message)],
      },
    };
    if (flags.html !== undefined) writeOutput(flags.html, renderHtmlReport(html));
    if (flags.junit !== undefined)
      writeOutput(
        flags.junit,
        renderJUnit([
          {
            name: `fairness ${name}`,
            timestamp: result.report.startedAt,
            timeS: result.report.schedule.elapsedMs / 1000,
            properties: {
              expect: flags.expect.map((e) => `${e.worker}=${e.weight}`).join(','),
              alpha: String(flags.alpha),
              tolerance: String(flags.tolerance),
            },
            cases: [...fairnessCases(result), ...thresholdCases(th.results, 'ajpbench.fairness')],
            output: text,
          },
        ]),
      );
    if (flags.json !== undefined) {
      const doc: VerdictDocument = {
        kind: 'ajpbench-fairness',
        version: 1,
        pass,
        result: { ...result, thresholds: th.results },
        text,
        html,
      };
      writeOutput(flags.json, JSON.stringify(doc) + '\n');
    }
    ctx.exitCode = pass ? ExitCode.Ok : ExitCode.VerdictFailed;
  });
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
