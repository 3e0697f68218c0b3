/**
 * What the HTML report's page script draws (page-data.ts), computed from the report input on the
 * Node side, so the page does no statistics: percentile curves on one grid, per-second series
 * with their breaks, short axis labels, shares as percentages.
 */
import { decodeHistogram, percentileCurves } from '../../results/latency-histogram.js';
import type { ReplayReport } from '../../results/replay-report.js';
import type { HtmlReportInput, HtmlRun, HtmlSegment } from '../html-input.js';
import type { CategoryLabels, PageData, RunSeries, TimeData } from './page-data.js';

/**
 * The runs a report's per-second series is made of. Given by the caller (`HtmlRun.segments`);
 * else, for a compare target, its `rounds`: they ran with the same duration, so when the series
 * splits evenly into that many parts those are the rounds; else the report is one run.
 */
export function segmentsFor(run: HtmlRun, compareRounds: number | null): HtmlSegment[] {
  const r = run.report;
  const seconds = r.throughput.series.length;
  const given = run.segments;
  if (given !== undefined && given.length > 0 && given.reduce((s, g) => s + g.seconds, 0) === seconds) return given;
  const n = compareRounds ?? 1;
  if (n > 1 && seconds % n === 0)
    return Array.from({ length: n }, () => ({ seconds: seconds / n, measuredMs: r.measuredMs / n }));
  return [{ seconds, measuredMs: r.measuredMs }];
}

/** A second the run covered less than this much of is no rate: too few requests to say one. */
export const MIN_COVERAGE = 0.5;

/**
 * One run's per-second series, its segments laid end to end with a null point between them (so
 * no line joins two rounds). A segment that ended part way through its last second counted that
 * second's responses over only part of it: drawn as they are they make a drop that did not
 * happen, so that second's rate is its count over the part covered, or none when it covered
 * less than MIN_COVERAGE (a run's in-flight requests finishing just after its end). p99 is kept
 * there as it is (a latency, not a count).
 */
export function runSeries(report: ReplayReport, segments: HtmlSegment[]): RunSeries {
  const out: RunSeries = { x: [], responses: [], errors: [], p99: [], summary: summaryOf(report) };
  const p99: (number | null)[] = [];
  let offset = 0;
  for (const [i, seg] of segments.entries()) {
    if (i > 0) {
      out.x.push(offset - 0.5);
      out.responses.push(null);
      out.errors.push(null);
      p99.push(null);
    }
    for (let k = 0; k < seg.seconds; k++) {
      const s = report.throughput.series[offset + k];
      const covered = Math.min(1, seg.measuredMs / 1000 - k);
      const rate = (n: number): number | null => (s === undefined || covered < MIN_COVERAGE ? null : n / covered);
      out.x.push(offset + k);
      out.responses.push(rate(s?.responses ?? 0));
      out.errors.push(rate(s?.errors ?? 0));
      // Results files written before per-second p99 existed lack the field.
      const v: unknown = s?.p99Us;
      p99.push(typeof v === 'number' ? v / 1000 : null);
    }
    offset += seg.seconds;
  }
  out.p99 = p99.some((v) => v !== null) ? p99 : null;
  return out;
}

function summaryOf(r: ReplayReport): RunSeries['summary'] {
  const seconds = r.measuredMs / 1000;
  const p99 = r.latency.timeToCompleteUs.p99;
  return {
    responsesPerSecond: r.requests.perSecond,
    errorsPerSecond: seconds > 0 ? r.requests.errors / seconds : 0,
    p99Ms: p99 === null ? null : p99 / 1000,
  };
}

/**
 * How many rounds a compare target's pooled report holds: poolReports lists the runs it pooled
 * (config.merged); a target can have one more than the compare's complete rounds when the
 * compare was stopped part way through a round.
 */
function roundsOf(run: HtmlRun, compareRounds: number): number {
  const merged = run.report.config.merged;
  return Array.isArray(merged) && merged.length > 1 ? merged.length : compareRounds;
}

function timeData(input: HtmlReportInput): TimeData | null {
  if (!input.runs.some((r) => r.report.throughput.series.length > 0)) return null;
  const c = input.compare;
  const compareNames = new Set(c?.targets.map((t) => t.name) ?? []);
  const segments = input.runs.map((run) =>
    segmentsFor(run, c !== undefined && compareNames.has(run.name) ? roundsOf(run, c.rounds) : null),
  );
  const runs = input.runs.map((run, i) => runSeries(run.report, segments[i] ?? []));
  return { runs, endToEnd: segments.some((s) => s.length > 1), hasP99: runs.some((r) => r.p99 !== null) };
}

const SEPARATORS = '/:';

/**
 * Axis labels for bar charts: the names without the prefix and suffix they all share, cut at a
 * '/' or ':' so that what is left reads as a host or path (http://10.0.0.11/jk and
 * http://10.0.0.12/jk become 10.0.0.11 and 10.0.0.12, "http://…/jk" noted as the common part).
 */
export function categoryLabels(names: string[]): CategoryLabels {
  const same = { names, short: names, common: null };
  if (names.length < 2) return same;
  const first = names[0] as string;
  let pre = 0;
  while (pre < first.length && names.every((n) => n[pre] === first[pre])) pre++;
  // Back to just after a separator, so no host or path is cut in the middle.
  while (pre > 0 && !SEPARATORS.includes(first[pre - 1] as string)) pre--;
  let suf = 0;
  const minLen = Math.min(...names.map((n) => n.length));
  while (suf < minLen - pre && names.every((n) => n[n.length - 1 - suf] === first[first.length - 1 - suf])) suf++;
  // Forward to a separator: the suffix starts with one.
  while (suf > 0 && !SEPARATORS.includes(first[first.length - suf] as string)) suf--;
  if (pre === 0 && suf === 0) return same;
  const short = names.map((n) => n.slice(pre, n.length - suf));
  if (short.some((s) => s.length === 0) || new Set(short).size !== short.length) return same;
  return { names, short, common: `${first.slice(0, pre)}…${first.slice(first.length - suf)}` };
}

/** The runs' time-to-complete percentile curves (ms), ten points per decade of x. */
function latencyCurve(runs: readonly HtmlRun[]): PageData['curve'] {
  const c = percentileCurves(runs.map((r) => decodeHistogram(r.report.latency.timeToCompleteUs.histogram)));
  return { x: c.x, ys: c.ysUs.map((y) => y.map((us) => (us === null ? null : us / 1000))) };
}

/** Everything the page script draws. */
export function chartData(input: HtmlReportInput): PageData {
  const runs = input.runs;
  const data: PageData = {
    names: runs.map((r) => r.name),
    curve: latencyCurve(runs),
    time: timeData(input),
    fairness: null,
    compare: null,
    sweep: null,
  };
  if (input.fairness !== undefined) {
    const v = input.fairness.verdict;
    const jk = input.fairness.jkStatus ?? null;
    const jkTotal = jk === null ? 0 : jk.reduce((s, w) => s + w.count, 0);
    const names = v.workers.map((w) => w.worker);
    data.fairness = {
      workers: categoryLabels(names),
      observed: v.workers.map((w) => 100 * w.share),
      expected: v.workers.map((w) => 100 * w.expectedShare),
      jk:
        jk === null
          ? null
          : v.workers.map((w) => {
              const c = jk.find((j) => j.worker === w.worker)?.count;
              return c === undefined || jkTotal === 0 ? null : (100 * c) / jkTotal;
            }),
      focus: Math.max(0, names.indexOf(v.largestDeviation?.worker ?? '')),
    };
  }
  if (input.compare !== undefined) {
    const t = input.compare.targets;
    data.compare = {
      targets: categoryLabels(t.map((x) => x.name)),
      rps: t.map((x) => x.rps),
      rpsMin: t.map((x) => x.rpsMin),
      rpsMax: t.map((x) => x.rpsMax),
      p50: t.map((x) => (x.p50Us === null ? null : x.p50Us / 1000)),
      p99: t.map((x) => (x.p99Us === null ? null : x.p99Us / 1000)),
    };
  }
  if (input.sweep !== undefined) {
    const s = input.sweep;
    data.sweep = {
      loadKind: s.loadKind,
      load: s.steps.map((x) => x.load),
      throughput: s.steps.map((x) => x.throughput),
      p99: s.steps.map((x) => (x.p99Us === null ? null : x.p99Us / 1000)),
      knee: s.knee,
    };
  }
  return data;
}
