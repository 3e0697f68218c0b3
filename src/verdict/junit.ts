/**
 * A JUnit XML writer for CI (`--junit out.xml`): one <testsuite> per command run, one <testcase>
 * per check (a threshold, the chi-square test, the deviation bound, stickiness), a <failure> for
 * each that failed. The dialect is the common one Jenkins, GitLab and the GitHub test-report
 * actions read (testsuites > testsuite > testcase > failure | skipped, system-out).
 */

export interface JUnitCase {
  name: string;
  /** Dotted, e.g. ajpbench.fairness. */
  classname: string;
  /** Seconds. */
  timeS?: number;
  /** Present when the check failed: a one-line message and details. */
  failure?: { message: string; type?: string; details?: string };
  /** Present when the check did not run. */
  skipped?: string;
  /** Text attached to the case (the measured values). */
  output?: string;
}

export interface JUnitSuite {
  name: string;
  /** ISO 8601. */
  timestamp?: string;
  timeS?: number;
  properties?: Record<string, string>;
  cases: JUnitCase[];
  /** Text for the suite's <system-out> (the printed table). */
  output?: string;
}

// XML 1.0 allows tab, LF, CR and from 0x20 up (minus surrogates and U+FFFE/U+FFFF): drop the rest.
const INVALID_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Escapes text for an XML attribute or element, dropping characters XML 1.0 cannot carry. */
export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(pairs: Record<string, string | number | undefined>): string {
  return Object.entries(pairs)
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(typeof v === 'number' ? formatTime(v) : v)}"`)
    .join('');
}

function formatTime(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

export function renderJUnit(suites: readonly JUnitSuite[], name = 'ajpbench'): string {
  const count = (f: (c: JUnitCase) => boolean): number => suites.reduce((s, x) => s + x.cases.filter(f).length, 0);
  const total = suites.reduce((s, x) => s + (x.timeS ?? 0), 0);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites${attrs({ name, tests: count(() => true), failures: count((c) => c.failure !== undefined), errors: 0, skipped: count((c) => c.skipped !== undefined && c.failure === undefined), time: total })}>`,
  );
  for (const s of suites) {
    out.push(
      `  <testsuite${attrs({
        name: s.name,
        tests: s.cases.length,
        failures: s.cases.filter((c) => c.failure !== undefined).length,
        errors: 0,
        skipped: s.cases.filter((c) => c.skipped !== undefined && c.failure === undefined).length,
        time: s.timeS ?? 0,
        timestamp: s.timestamp,
      })}>`,
    );
    const props = Object.entries(s.properties ?? {});
    if (props.length > 0) {
      out.push('    <properties>');
      for (const [k, v] of props) out.push(`      <property${attrs({ name: k, value: v })}/>`);
      out.push('    </properties>');
    }
    for (const c of s.cases) {
      const open = `    <testcase${attrs({ name: c.name, classname: c.classname, time: c.timeS ?? 0 })}`;
      const body: string[] = [];
      if (c.failure !== undefined) {
        const f = c.failure;
        body.push(
          `      <failure${attrs({ message: f.message, type: f.type ?? 'VerdictFailed' })}>${xmlEscape(f.details ?? f.message)}</failure>`,
        );
      } else if (c.skipped !== undefined) body.push(`      <skipped${attrs({ message: c.skipped })}/>`);
      if (c.output !== undefined) body.push(`      <system-out>${xmlEscape(c.output)}</system-out>`);
      out.push(body.length === 0 ? `${open}/>` : `${open}>\n${body.join('\n')}\n    </testcase>`);
    }
    if (s.output !== undefined) out.push(`    <system-out>${xmlEscape(s.output)}</system-out>`);
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
