/** The document `ajpbench diff --json` writes: docs/results.schema.json accepts it, report reads it, and a damaged one is refused naming the field. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { readResultsFile } from '../../../src/results/results-file.js';
import type { VerdictDocument } from '../../../src/results/verdict-document.js';
import { DiffEngine } from '../../../src/verdict/diff/diff-engine.js';
import type { DiffReport } from '../../../src/verdict/diff/diff-run.js';
import { json } from '../verdict/diff/responses.js';

function doc(): VerdictDocument {
  const engine = new DiffEngine({ secondary: true });
  engine.compare({
    id: 1,
    uri: '/a/1',
    primary: json({ v: 1, t: 1 }),
    secondary: json({ v: 1, t: 2 }),
    candidate: json({ v: 2, t: 3, items: [1] }),
  });
  engine.compare({ id: 2, uri: '/b', primary: json({}), candidate: { error: 'reset' } });
  engine.drop('primary gave no answer: reset');
  const report: DiffReport = {
    file: 't.jsonl',
    sample: 0.5,
    summary: engine.summary(),
    targets: { primary: 'ajp://a:8009', candidate: 'ajp://b:8009', secondary: 'ajp://c:8009' },
    trace: { exchanges: 3, sampledOut: 0, skippedMalformed: 0, skippedTruncated: 0, unreadableLines: 0 },
    answered: { primary: 2, candidate: 1, secondary: 2 },
    sent: 3,
    stoppedBy: 'end of trace',
    startedAt: '2026-01-01T00:00:00.000Z',
    elapsedMs: 10,
  };
  return {
    kind: 'ajpbench-diff',
    version: 1,
    pass: true,
    result: report,
    text: 'Diff\n',
    html: { title: 't', runs: [], diff: report } as VerdictDocument['html'],
  };
}

describe('the diff results document', () => {
  const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/results.schema.json'), 'utf8')) as {
    $id: string;
  };
  const validate = new Ajv2020({ allErrors: true, strict: false })
    .addSchema(schema)
    .compile({ $ref: `${schema.$id}#/$defs/verdictDocument` });
  const dir = mkdtempSync(join(tmpdir(), 'ajpbench-diff-doc-'));

  it('validates against the schema and reads back', () => {
    const d = doc();
    expect(validate(JSON.parse(JSON.stringify(d))), JSON.stringify(validate.errors)).toBe(true);
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(d));
    const r = readResultsFile(file);
    expect(r.kind === 'verdict' && r.doc.kind).toBe('ajpbench-diff');
  });

  it('is refused, naming the field, when its comparison is damaged', () => {
    const d = JSON.parse(JSON.stringify(doc())) as {
      html: { diff: { summary: { groups: unknown; compared: unknown } } };
    };
    d.html.diff.summary.groups = 'many';
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(d));
    expect(() => readResultsFile(file)).toThrow(
      /not valid ajpbench-diff results: html\.diff\.summary\.groups is a string, not a list/,
    );
    expect(validate(d)).toBe(false);
  });
});
