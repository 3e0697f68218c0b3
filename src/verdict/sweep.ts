/**
 * `ajpbench sweep`: steps the load up (closed-loop concurrency, or open-loop rate), one replay per
 * step, and finds the knee (knee.ts): the step after which throughput stops growing while p99
 * grows sharply. The sizing advice turns the knee into the settings it bounds, by Little's law:
 * requests in flight = throughput × mean latency.
 */
import { UsageError } from '../errors.js';
import { MAX_CONCURRENCY, MAX_RATE_PER_SECOND, sleep } from '../load/limits.js';
import { replayParallel } from '../load/parallel-replay.js';
import type { ReplayOptions } from '../load/replay.js';
import { GENERATOR_BOUND } from '../results/generator-report.js';
import type { ReplayReport } from '../results/replay-report.js';
import { childSignal } from './child-signal.js';
import { answered, findKnee, type Knee, type KneeOptions, type SweepPoint } from './knee.js';

export type SweepMode = 'concurrency' | 'rate';

export interface SweepOptions {
  /** The load of every step; the mode sets concurrency (closed loop) or rate (open loop). */
  replay: ReplayOptions;
  mode: SweepMode;
  steps: number[];
  knee?: KneeOptions;
  /** Stop the sweep after a step where more than this share of requests failed (default 0.5). */
  stopOnErrorShare?: number;
  pauseMs?: number;
  signal?: AbortSignal;
  onStep?: (index: number, load: number, report: ReplayReport) => void;
  replayFn?: (o: ReplayOptions) => Promise<{ report: ReplayReport }>;
}

export interface SweepStep {
  load: number;
  report: ReplayReport;
  /** Cut short by Ctrl-C: its numbers are partial, and it takes no part in the knee. */
  stopped?: true;
}

/** The sweep's steps, knee and advice, as the table and the HTML report draw them. */
export interface SweepSummary {
  loadKind: 'concurrency' | 'rate';
  steps: {
    load: number;
    throughput: number;
    p99Us: number | null;
    p50Us: number | null;
    errors: number;
    total: number;
    /** The generator's CPU share at the step (null: not measured), and whether it was the bottleneck. */
    generatorCpu?: number | null;
    generatorBound?: boolean;
  }[];
  /** Index of the knee step, or null. */
  knee: number | null;
  /** Sizing advice lines. */
  advice: string[];
}

export interface SweepResult {
  mode: SweepMode;
  steps: SweepStep[];
  knee: Knee;
  /** Why the sweep ended before its last step, if it did. */
  stoppedEarly: string | null;
  advice: string[];
  summary: SweepSummary;
}

const MAX_STEPS = 64;

/** What a step list may hold: at most `max`, and whole numbers only when `integer` (concurrency). */
export interface StepRange {
  max?: number;
  integer?: boolean;
}

/**
 * Parses a step list: `1,2,4,8`, or with `...` a progression up to the last value: `1,2,...,256`
 * (two values: geometric when the last value is reached by multiplying, else arithmetic; three
 * values say which: `100,200,300,...,1000`). Throws UsageError.
 */
export function parseSteps(text: string, flag: string, range: StepRange = {}): number[] {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = (why: string): never => {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: ${why}`);
  };
  const num = (s: string): number => {
    const n = Number(s.replace(/\/s$/i, ''));
    if (!(n > 0) || !Number.isFinite(n)) bad(`${JSON.stringify(s)} is not a number above zero`);
    // Checked before a progression is built from it, which is then bounded by its last value.
    if (range.integer === true && !(Number.isInteger(n) && n <= (range.max ?? Infinity)))
      bad(`${JSON.stringify(s)}: steps are whole numbers from 1 to ${range.max ?? 'any'}`);
    if (range.max !== undefined && n > range.max) bad(`${JSON.stringify(s)}: steps are at most ${range.max}`);
    return n;
  };
  const dots = parts.indexOf('...');
  let steps: number[];
  if (dots < 0) steps = parts.map(num);
  else {
    if (dots !== parts.length - 2 || dots < 2) bad('write the progression as a,b,...,last (or a,b,c,...,last)');
    const head = parts.slice(0, dots).map(num);
    const last = num(parts[parts.length - 1] as string);
    const [a, b] = head as [number, number];
    const c = head[2];
    const ratio = b / a;
    const geometricFits =
      ratio > 1 &&
      Math.abs(Math.log(last / a) / Math.log(ratio) - Math.round(Math.log(last / a) / Math.log(ratio))) < 1e-9;
    const geometric =
      c !== undefined ? Math.abs(c / b - ratio) < 1e-9 && Math.abs(c - b - (b - a)) > 1e-9 : geometricFits;
    steps = [...head];
    let v = head[head.length - 1] as number;
    while (steps.length <= MAX_STEPS) {
      v = geometric ? v * ratio : v + (b - a);
      if (v > last * (1 + 1e-9)) break;
      steps.push(v);
    }
    if (steps[steps.length - 1] !== last && steps.length <= MAX_STEPS) steps.push(last);
  }
  if (steps.length < 2) bad('a sweep needs at least two steps');
  if (steps.length > MAX_STEPS) bad(`at most ${MAX_STEPS} steps`);
  for (let i = 1; i < steps.length; i++)
    if (!((steps[i] as number) > (steps[i - 1] as number))) bad('steps must increase');
  if (range.integer === true && !steps.every((x) => Number.isInteger(x)))
    bad('this progression has steps that are not whole numbers: list them, or make the ratio or difference whole');
  return steps.map((s) => Math.round(s * 1000) / 1000);
}

/** Steps no sweep can run are usage errors, found before the first step runs. */
function checkSteps(mode: SweepMode, steps: readonly number[]): void {
  const max = mode === 'concurrency' ? MAX_CONCURRENCY : MAX_RATE_PER_SECOND;
  const ok = (x: number): boolean => x > 0 && x <= max && (mode === 'rate' || Number.isInteger(x));
  if (steps.length === 0 || !steps.every(ok) || steps.some((x, i) => i > 0 && !(x > (steps[i - 1] as number)))) {
    throw new UsageError(
      `sweep steps by ${mode} must increase and lie ${mode === 'concurrency' ? 'in whole numbers ' : ''}above 0 and at most ${max}, got ${steps.join(',') || 'none'}`,
    );
  }
}

export async function sweep(opts: SweepOptions): Promise<SweepResult> {
  checkSteps(opts.mode, opts.steps);
  const run = opts.replayFn ?? replayParallel;
  const stopShare = opts.stopOnErrorShare ?? 0.5;
  const steps: SweepStep[] = [];
  let stoppedEarly: string | null = null;
  for (const [i, load] of opts.steps.entries()) {
    if (opts.signal?.aborted === true) {
      stoppedEarly = `stopped by Ctrl-C before step ${load}`;
      break;
    }
    const o: ReplayOptions =
      opts.mode === 'concurrency'
        ? { ...opts.replay, model: 'closed', concurrency: Math.max(1, Math.round(load)) }
        : { ...opts.replay, model: 'open', rate: load };
    const child = childSignal(opts.signal);
    let report: ReplayReport;
    try {
      ({ report } = await run({ ...o, ...(child.signal === undefined ? {} : { signal: child.signal }) }));
    } finally {
      child.dispose();
    }
    const stopped = report.schedule.stoppedBy === 'signal';
    steps.push({ load, report, ...(stopped ? { stopped: true as const } : {}) });
    opts.onStep?.(i, load, report);
    if (stopped) {
      stoppedEarly = `stopped by Ctrl-C during step ${load} (its numbers are partial and left out of the knee)`;
      break;
    }
    const last = i === opts.steps.length - 1;
    const r = report.requests;
    if (r.total === 0 && !last) {
      stoppedEarly = `step ${load} measured no request (check --warmup against --duration / --requests): the sweep stopped there`;
      break;
    }
    const share = r.total === 0 ? 0 : r.errors / r.total;
    if (share > stopShare && !last) {
      stoppedEarly = `step ${load} failed ${(share * 100).toFixed(0)}% of its requests: the sweep stopped there`;
      break;
    }
    if (!last && opts.pauseMs !== undefined && opts.pauseMs > 0) await sleep(opts.pauseMs, opts.signal);
  }
  // A stopped step is partial, a step with no response measured a failure: neither takes part in the knee.
  const points: SweepPoint[] = steps.map((s) =>
    s.stopped === true
      ? { load: s.load, throughput: 0, p99: null }
      : {
          load: s.load,
          throughput: s.report.requests.perSecond,
          p99: s.report.latency.timeToCompleteUs.p99,
          ...(s.report.generator?.bound === true ? { generatorBound: true } : {}),
        },
  );
  const knee = findKnee(points, opts.knee);
  const advice = sizingAdvice(opts.mode, steps, knee);
  return {
    mode: opts.mode,
    steps,
    knee,
    stoppedEarly,
    advice,
    summary: {
      loadKind: opts.mode,
      steps: steps.map((s) => ({
        load: s.load,
        throughput: s.report.requests.perSecond,
        p99Us: s.report.latency.timeToCompleteUs.p99,
        p50Us: s.report.latency.timeToCompleteUs.p50,
        errors: s.report.requests.errors,
        total: s.report.requests.total,
        generatorCpu: s.report.generator?.cpuShare ?? null,
        generatorBound: s.report.generator?.bound === true,
      })),
      knee: knee.index,
      advice,
    },
  };
}

/** Requests in flight at a step by Little's law (throughput × mean latency). */
export function inFlight(r: ReplayReport): number {
  const mean = r.latency.timeToCompleteUs.mean;
  return mean === null ? 0 : (r.requests.perSecond * mean) / 1e6;
}

/** Whether a step got responses (a 5xx counts: the target answered). */
function answeredStep(s: SweepStep): boolean {
  return (
    s.stopped !== true &&
    answered({ load: s.load, throughput: s.report.requests.perSecond, p99: s.report.latency.timeToCompleteUs.p99 })
  );
}

/** Steps that got no response at all, said once: they are left out of the knee and the advice. */
function deadSteps(steps: SweepStep[]): string[] {
  const dead = steps.filter(
    (s) => s.stopped !== true && s.report.requests.total > 0 && s.report.requests.responses === 0,
  );
  if (dead.length === 0) return [];
  const kinds = new Map<string, number>();
  for (const s of dead) for (const e of s.report.errors.byKind) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + e.count);
  const why = [...kinds]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const which =
    dead.length === steps.length
      ? 'No step got a response'
      : `Step${dead.length > 1 ? 's' : ''} ${dead.map((s) => s.load).join(', ')} got no response`;
  return [
    `${which} (${why}): every request failed, which says the target broke or could not be reached, not how much it carries; left out of the knee.`,
  ];
}

/** Steps at which the generator was the bottleneck, said once: no knee is read from them. */
function generatorSteps(steps: SweepStep[]): string[] {
  const bound = steps.filter((s) => s.stopped !== true && s.report.generator?.bound === true);
  if (bound.length === 0) return [];
  return [
    `${GENERATOR_BOUND} at step${bound.length > 1 ? 's' : ''} ${bound.map((s) => s.load).join(', ')}: ` +
      "where throughput stops growing there, it is ajpbench's limit, not the target's, and no knee is read from it.",
  ];
}

/** What the knee means for Apache, mod_jk and Tomcat sizing. Never read from steps without responses. */
export function sizingAdvice(mode: SweepMode, steps: SweepStep[], knee: Knee): string[] {
  const unit = mode === 'rate' ? 'requests/s' : 'concurrent requests';
  if (steps.length === 0) return [];
  const dead = [...deadSteps(steps), ...generatorSteps(steps)];
  if (knee.index === null) {
    const ok = steps.filter(answeredStep);
    const first = ok[0];
    const last = ok[ok.length - 1];
    if (first === undefined || last === undefined) return dead;
    if (ok.length < 2) return [`Only step ${first.load} got responses: a knee needs two steps that did.`, ...dead];
    const at = `${last.load} ${unit} (${last.report.requests.perSecond.toFixed(1)} responses/s, p99 ${fmtMs(last.report.latency.timeToCompleteUs.p99)})`;
    const grew = last.report.requests.perSecond > first.report.requests.perSecond;
    if (ok.length === steps.length && grew)
      return [
        `No knee within the sweep: throughput still grew up to ${at}. Sweep further to find where it saturates.`,
        ...dead, // only generator-bound steps here: every step answered
      ];
    return [
      `No knee among the steps that got responses, up to ${at}${grew ? '' : '; throughput did not grow with the load there either'}.`,
      ...dead,
    ];
  }
  const k = steps[knee.index] as SweepStep;
  const next = steps[knee.index + 1];
  const rps = k.report.requests.perSecond;
  const n = Math.max(1, Math.round(inFlight(k.report)));
  const lines = [
    `Knee at ${k.load} ${unit}: ${rps.toFixed(1)} responses/s with p99 ${fmtMs(k.report.latency.timeToCompleteUs.p99)}` +
      (next === undefined
        ? '.'
        : `; at ${next.load} throughput went to ${next.report.requests.perSecond.toFixed(1)}/s while p99 rose to ${fmtMs(next.report.latency.timeToCompleteUs.p99)}.`),
    `At the knee about ${n} requests are in flight (throughput × mean latency, Little's law): this is the concurrency the backends can actually work on; more only waits in queues.`,
    `Tomcat: the AJP connector's maxThreads (default 200) must be at least the connections the front end opens, but threads beyond ~${n} per backend set add queueing, not throughput; to serve more than ~${rps.toFixed(0)}/s add backends.`,
    `mod_jk: connection_pool_size defaults to ThreadsPerChild per httpd child, so the backends can see up to (httpd children × pool size) AJP connections; keep that within Tomcat's maxThreads (plus acceptCount), or requests beyond it wait for a connection in httpd.`,
    `Apache httpd: MaxRequestWorkers (event MPM: ServerLimit × ThreadsPerChild) bounds the requests in progress at the front; sized well above ~${n}, the extra workers hold slow clients, not backend capacity. Set it for your client concurrency, and let the knee tell how much of it reaches the backends at once.`,
    ...dead,
  ];
  return lines;
}

function fmtMs(us: number | null): string {
  return us === null ? '–' : `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}
