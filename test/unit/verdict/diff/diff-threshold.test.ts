/** --threshold 'diffs<0.1%': parsed, checked on a comparison's summary, and failing where it has no value. */
import { describe, expect, it } from 'vitest';
import { DiffEngine } from '../../../../src/verdict/diff/diff-engine.js';
import { evaluateDiffThresholds, evaluateThresholds, parseThreshold } from '../../../../src/verdict/threshold.js';
import { buildReport, steady } from '../report-fixture.js';
import { json } from './responses.js';

function summary(differing: number, equal: number): ReturnType<DiffEngine['summary']> {
  const e = new DiffEngine();
  for (let i = 0; i < differing; i++)
    e.compare({ id: i, uri: '/', primary: json({ v: 1 }), candidate: json({ v: 2 }) });
  for (let i = 0; i < equal; i++) e.compare({ id: i, uri: '/', primary: json({ v: 1 }), candidate: json({ v: 1 }) });
  return e.summary();
}

describe('the diffs threshold', () => {
  it('parses as a share or a count', () => {
    expect(parseThreshold('diffs<0.1%')).toMatchObject({
      metric: { kind: 'diffs', share: true },
      op: '<',
      value: 0.001,
    });
    expect(parseThreshold('diffs <= 3')).toMatchObject({ metric: { kind: 'diffs', share: false }, value: 3 });
    expect(() => parseThreshold('diffs<3ms')).toThrow(/count or a percentage/);
  });

  it('passes and fails on the share of compared exchanges that differ', () => {
    const s = summary(1, 999);
    const [pass, fail, count] = evaluateDiffThresholds(s, [
      parseThreshold('diffs<0.2%'),
      parseThreshold('diffs<0.1%'),
      parseThreshold('diffs<=1'),
    ]);
    expect(pass).toMatchObject({ pass: true, actual: 0.001, message: 'diff rate = 0.100% < 0.200%' });
    expect(fail).toMatchObject({ pass: false, message: 'diff rate = 0.100% not < 0.100%' });
    expect(count).toMatchObject({ pass: true, actual: 1 });
  });

  it('fails when nothing was compared, on a load metric in a comparison, and on diffs in a load run', () => {
    const [none] = evaluateDiffThresholds(summary(0, 0), [parseThreshold('diffs<1%')]);
    expect(none).toMatchObject({
      pass: false,
      actual: null,
      message: 'diff rate: no exchange was compared (threshold diffs<1%)',
    });
    const [p99] = evaluateDiffThresholds(summary(0, 3), [parseThreshold('p99<50ms')]);
    expect(p99?.pass).toBe(false);
    const [load] = evaluateThresholds(buildReport(steady(10, 1, [5])), [parseThreshold('diffs<1%')]);
    expect(load?.pass).toBe(false);
    expect(load?.message).toMatch(/compares no responses/);
  });
});
