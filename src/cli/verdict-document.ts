/**
 * What compare, fairness and sweep write with --json: the numbers, the printed text, and what the
 * HTML report draws, so that `ajpbench report` can print and draw the file again later.
 */
import type { HtmlReportInput } from '../report/html-report.js';

export const VERDICT_KINDS = ['ajpbench-compare', 'ajpbench-fairness', 'ajpbench-sweep'] as const;
export type VerdictKind = (typeof VERDICT_KINDS)[number];

export interface VerdictDocument {
  kind: VerdictKind;
  version: 1;
  pass: boolean;
  /** The command's results (its own shape per kind). */
  result: unknown;
  /** The table as printed. */
  text: string;
  html: HtmlReportInput;
}

export function isVerdictDocument(v: unknown): v is VerdictDocument {
  if (v === null || typeof v !== 'object') return false;
  const d = v as Partial<VerdictDocument>;
  return (
    typeof d.kind === 'string' &&
    (VERDICT_KINDS as readonly string[]).includes(d.kind) &&
    typeof d.text === 'string' &&
    typeof d.html === 'object' &&
    d.html !== null
  );
}
