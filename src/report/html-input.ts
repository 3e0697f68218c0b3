/**
 * What the HTML report draws (report/html-report.ts renders it, page/chart-data.ts turns it into
 * the page's data): the replay runs, and the verdicts' own summaries as the commands made them.
 * A verdict document (results/verdict-document.ts) carries it as written; this type fits the part
 * of it results/ reads (VerdictHtml).
 */
import type { ReplayReport } from '../results/replay-report.js';
import type { CompareSummary } from '../verdict/compare.js';
import type { DiffReport } from '../verdict/diff/diff-run.js';
import type { FairnessVerdict } from '../verdict/fairness.js';
import type { SweepSummary } from '../verdict/sweep.js';
import type { ThresholdResult } from '../verdict/threshold.js';

/** One of several runs laid end to end in one report (compare's rounds pooled by poolReports). */
export interface HtmlSegment {
  /** Its number of entries in the report's per-second series. */
  seconds: number;
  /** Its measured time: says how much of its last second it covered (see page/chart-data.ts runSeries). */
  measuredMs: number;
}

export interface HtmlRun {
  name: string;
  report: ReplayReport;
  /**
   * When the report is several runs laid end to end: each run, in order, so the charts break
   * the lines between them. Without it a compare target's series is split evenly into its rounds.
   */
  segments?: HtmlSegment[];
}

export interface HtmlFairness {
  target: string;
  verdict: FairnessVerdict;
  /** mod_jk status worker's own request counts per member (--jk-status). */
  jkStatus?: { worker: string; count: number }[] | null;
  /**
   * --sticky: synthetic sessions (follow-ups, and those that landed elsewhere per worker), or with
   * `recorded` the trace's sessions (`followUps`: those kept on one worker; `violations`: those
   * that moved, by the worker that served them first).
   */
  sticky?: {
    recorded?: boolean;
    sessions: number;
    followUps: number;
    violations: { worker: string; count: number }[];
  } | null;
  /** Workers that stopped answering during the run (src/verdict/failover.ts). */
  failovers?: {
    worker: string;
    stoppedAtSecond: number;
    rateBefore: number;
    takeoverSeconds: number | null;
    errorsDuring: number;
  }[];
}

export interface HtmlReportInput {
  title: string;
  /** Lines under the title (command, time). */
  subtitle?: string[];
  runs: HtmlRun[];
  fairness?: HtmlFairness;
  compare?: CompareSummary;
  sweep?: SweepSummary;
  /** `ajpbench diff`: the comparison, its differences grouped by URI pattern and field. */
  diff?: DiffReport;
  thresholds?: ThresholdResult[];
  /** The overall verdict, when the command has one. */
  verdict?: { pass: boolean; lines: string[] };
  generatedAt?: string;
}
