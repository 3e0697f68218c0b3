/** The diff events the engine writes validate against docs/trace-format.schema.json, and the schema refuses broken ones. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { DiffEngine, diffEvent } from '../../../../src/verdict/diff/diff-engine.js';
import { json, response } from './responses.js';

const root = join(import.meta.dirname, '../../../..');
const schema = JSON.parse(readFileSync(join(root, 'docs/trace-format.schema.json'), 'utf8')) as { $id: string };
const validate = new Ajv2020({ allErrors: true, strict: false })
  .addSchema(schema)
  .compile({ $ref: `${schema.$id}#/$defs/event` });

describe('the diff event', () => {
  it('validates as the engine writes it: noise, indexes, absent values, long values, more', () => {
    const engine = new DiffEngine({ secondary: true });
    const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'x'.repeat(300) + String(i)]));
    const events = [
      engine.compare({
        id: 1,
        uri: '/a/1',
        primary: json({ items: [1, 2], t: 1 }, [['X-Node', 'a']]),
        secondary: json({ items: [1, 2], t: 2 }, [['X-Node', 'b']]),
        candidate: json({ items: [1, 3], extra: true }, [['X-Node', 'c']]),
      }),
      engine.compare({ id: 2, uri: null, primary: json(big), candidate: json({}) }),
      engine.compare({ id: 3, uri: '/t', primary: response('a\nb\n'), candidate: { error: 'reset' } }),
    ].map((d, i) => diffEvent(d, i * 1000));
    for (const e of events) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
    expect(events[1]?.more).toBe(8);
  });

  it('refuses an unknown kind and a difference without its noise flag', () => {
    const base = { event: 'diff', t: 1, id: 1, uri: '/', pattern: '/', outcome: 'differs' };
    const d = { kind: 'status', field: 'status', before: '200', after: '500', noise: false };
    expect(validate({ ...base, differences: [d] })).toBe(true);
    expect(validate({ ...base, differences: [{ ...d, kind: 'cookie' }] })).toBe(false);
    expect(validate({ ...base, differences: [{ ...d, noise: undefined }] })).toBe(false);
    expect(validate({ ...base, outcome: 'equal', differences: [] })).toBe(false);
  });
});
