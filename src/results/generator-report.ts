/**
 * The generator's own figures (issue 12, "honest about itself"): what ajpbench used while it sent
 * the load, and whether it, not the target, set the numbers. Load measures them
 * (load/generator-monitor.ts); replay, merging, thresholds, compare and sweep read the verdict here.
 *
 * The generator is the bottleneck ("generator-bound") when any of these holds:
 * - its process used more than CPU_BOUND_SHARE (90%) of the cores its threads can run on: a
 *   thread at its core's limit takes up responses late, so latency and throughput are its own;
 * - its event loop was late by more than EVENT_LOOP_FRACTION (half) of the measured latency p50
 *   at the p99, and by at least EVENT_LOOP_FLOOR_US (5 ms: an idle generator on a shared 2-core
 *   machine, measured, reaches 1-2 ms at its p99 from the timer's jitter and other processes alone): a response then waits in the socket for the loop longer than a
 *   typical request took at the target;
 * - open loop: at least LATE_SHARE (1%) of the sends left more than 10 ms after their due time.
 * CPU and event-loop delay are judged only over MIN_JUDGED_MS (1 s) or more: a shorter run is
 * mostly start-up (compiling, reading the trace's first lines), not the load.
 */

/** The generator's figures over one run (or runs merged). */
export interface GeneratorReport {
  /** Threads that sent the load (1 per process without --workers). */
  threads: number;
  /** Wall time over which the figures were taken, ms. */
  wallMs: number;
  /** Process CPU time (user + system) over that time, ms. */
  cpuMs: number;
  /** cpuMs / (wallMs × threads): the share of its threads' cores the generator used (GC threads can take it above 1). */
  cpuShare: number;
  /** Event-loop delay beyond the timer's resolution, µs (the worst thread's when merged). */
  eventLoopDelayUs: { p50: number; p99: number; max: number };
  /** Open loop: sends that left late (schedule.lateSends) as a share of those sent. */
  lateShare: number;
  /** The generator, not the target, set the figures. */
  bound: boolean;
  /** Why (empty when not bound). */
  reasons: string[];
}

export const CPU_BOUND_SHARE = 0.9;
export const EVENT_LOOP_FRACTION = 0.5;
export const EVENT_LOOP_FLOOR_US = 5000;
export const LATE_SHARE = 0.01;
/** Below this CPU share, a late event loop waited for the machine rather than for the generator's own work. */
export const CROWDED_CPU_SHARE = 0.5;
export const MIN_JUDGED_MS = 1000;
/** The line every table, the JSON's warnings and the HTML report show for a generator-bound run. */
export const GENERATOR_BOUND = 'generator-bound: these figures measure ajpbench, add --workers or machines';

/** What the monitor measured, before the verdict. */
export type GeneratorSample = Omit<GeneratorReport, 'bound' | 'reasons' | 'lateShare'>;

/** The verdict on a sample: `p50Us` is the run's time-to-complete p50, `late`/`sent` its schedule's counts. */
export function judgeGenerator(s: GeneratorSample, p50Us: number | null, late: number, sent: number): GeneratorReport {
  const reasons: string[] = [];
  const lateShare = sent > 0 ? late / sent : 0;
  const judged = s.wallMs >= MIN_JUDGED_MS;
  if (judged && s.cpuShare > CPU_BOUND_SHARE)
    reasons.push(
      `CPU ${pct(s.cpuShare)} of its ${s.threads} core${s.threads === 1 ? '' : 's'} (above ${pct(CPU_BOUND_SHARE)})`,
    );
  // Late with its CPU to spare, the generator waited for the machine, not for its own work: more
  // workers will not help, and the reason says so.
  const crowded =
    s.cpuShare < CROWDED_CPU_SHARE
      ? `, with CPU at ${pct(s.cpuShare)}: the machine held it (other processes on its cores), not its own work`
      : '';
  const eld = s.eventLoopDelayUs.p99;
  if (judged && p50Us !== null && eld >= EVENT_LOOP_FLOOR_US && eld > EVENT_LOOP_FRACTION * p50Us)
    reasons.push(
      `event-loop delay p99 ${msText(eld)} against a latency p50 of ${msText(p50Us)} (above ${EVENT_LOOP_FRACTION} of it)${crowded}`,
    );
  if (late > 0 && lateShare >= LATE_SHARE) reasons.push(`${pct(lateShare)} of the sends left late${crowded}`);
  return { ...s, lateShare, bound: reasons.length > 0, reasons };
}

/** `generator-bound: ... (CPU 97% of its 1 core ...)`, or undefined when the generator kept up. */
export function generatorWarning(g: GeneratorReport | undefined): string | undefined {
  if (g === undefined || !g.bound) return undefined;
  return `${GENERATOR_BOUND} (${g.reasons.join('; ')})`;
}

/** One line for tables: `CPU 42% of 1 core, event-loop delay p99 0.31 ms`. */
export function generatorLine(g: GeneratorReport): string {
  return (
    `CPU ${pct(g.cpuShare)} of ${g.threads} core${g.threads === 1 ? '' : 's'}, event-loop delay p99 ${msText(g.eventLoopDelayUs.p99)}` +
    (g.lateShare > 0 ? `, ${pct(g.lateShare)} late sends` : '') +
    (g.bound ? ` (${GENERATOR_BOUND})` : '')
  );
}

/**
 * Several runs' generator figures as one: `parallel` runs (processes or pods side by side) add
 * their threads; runs one after another (compare's rounds) keep the widest. CPU share is all CPU
 * over all thread-time; the event-loop delay is the worst run's; bound when any run was, or when
 * the merged figures say so.
 */
export function mergeGenerators(
  gs: readonly GeneratorReport[],
  parallel: boolean,
  p50Us: number | null,
  late: number,
  sent: number,
): GeneratorReport | undefined {
  if (gs.length === 0) return undefined;
  if (gs.length === 1) return gs[0];
  const threadMs = gs.reduce((s, g) => s + g.wallMs * g.threads, 0);
  const cpuMs = gs.reduce((s, g) => s + g.cpuMs, 0);
  const sample: GeneratorSample = {
    threads: parallel ? gs.reduce((s, g) => s + g.threads, 0) : Math.max(...gs.map((g) => g.threads)),
    wallMs: parallel ? Math.max(...gs.map((g) => g.wallMs)) : gs.reduce((s, g) => s + g.wallMs, 0),
    cpuMs,
    cpuShare: threadMs > 0 ? cpuMs / threadMs : 0,
    eventLoopDelayUs: {
      p50: Math.max(...gs.map((g) => g.eventLoopDelayUs.p50)),
      p99: Math.max(...gs.map((g) => g.eventLoopDelayUs.p99)),
      max: Math.max(...gs.map((g) => g.eventLoopDelayUs.max)),
    },
  };
  const merged = judgeGenerator(sample, p50Us, late, sent);
  const runsBound = gs.filter((g) => g.bound).length;
  if (runsBound > 0 && !merged.bound)
    merged.reasons.push(`${runsBound} of ${gs.length} runs were generator-bound on their own`);
  merged.bound = merged.reasons.length > 0;
  return merged;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

function msText(us: number): string {
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}
