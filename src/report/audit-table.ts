/** `ajpbench audit` as text: what was sent and the answer to each message, the findings table, and the fixes. Rendering only. */
import Table from 'cli-table3';
import { sentLine } from '../verdict/audit-requests.js';
import type { AuditReport } from '../verdict/audit.js';

const RESULT_WORDS = { pass: 'ok', fail: 'FINDING', info: 'info', unknown: 'unknown' } as const;

export function renderAuditTable(report: AuditReport): string {
  const out: string[] = [];
  out.push(
    `Sent to ${report.target} (connected to ${report.address}), each message on a connection of its own, URI ${report.uri}:`,
  );
  report.probes.forEach((p, i) => {
    out.push(`  ${String(i + 1).padStart(2)}. ${p.name.padEnd(18)} ${sentLine(p.sent)}`);
    out.push(`      ${''.padEnd(18)} -> ${p.answer}`);
  });
  out.push('');
  const t = new Table({
    head: ['Check', 'Result', 'Severity', 'Seen'],
    colWidths: [42, 9, 10, 72],
    wordWrap: true,
    style: { head: [], border: [], compact: true },
  });
  for (const f of report.findings)
    t.push([`${f.id}: ${f.check}`, RESULT_WORDS[f.result], f.result === 'fail' ? f.severity : '-', f.detail]);
  out.push(t.toString());
  const fixes = report.findings.filter((f) => f.fix !== undefined);
  if (fixes.length > 0) {
    out.push('', 'Fixes (server.xml):');
    for (const f of fixes) out.push(`  ${f.id}${f.result === 'fail' ? ` (${f.severity})` : ''}: ${f.fix ?? ''}`);
  }
  return out.join('\n');
}
