/**
 * What compare, fairness, sweep and diff write with --json: the numbers, the printed text, and what the
 * HTML report draws, so that `ajpbench report` can print and draw the file again later.
 */
import type { ReplayReport } from './replay-report.js';

export const VERDICT_KINDS = ['ajpbench-compare', 'ajpbench-fairness', 'ajpbench-sweep', 'ajpbench-diff'] as const;
export type VerdictKind = (typeof VERDICT_KINDS)[number];

/**
 * The HTML report's input as a document carries it, in the part results/ reads and checks: the
 * title and the replay runs (each a ReplayReport, checked like replay results). The rest of it
 * (the verdict's summaries, thresholds, subtitle: report/html-input.ts's HtmlReportInput, which
 * fits this type) is carried as it was written and drawn as it is.
 */
export interface VerdictHtml {
  title: string;
  runs: { name: string; report: ReplayReport }[];
}

export interface VerdictDocument {
  kind: VerdictKind;
  version: 1;
  pass: boolean;
  /** The command's results (its own shape per kind). */
  result: unknown;
  /** The table as printed. */
  text: string;
  html: VerdictHtml;
}
