import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectHeader, collectStatus, parseShare, parseShift, parseTimePoint } from '../../../src/cli/filter-flags.js';

describe("filter's flag parsers", () => {
  it('--sample: a percentage or a fraction above 0 up to 1', () => {
    expect(parseShare('10%')).toBe(0.1);
    expect(parseShare('0.25')).toBe(0.25);
    expect(parseShare('100%')).toBe(1);
    for (const bad of ['0', '0%', '150%', '1.5', 'ten', '-5%'])
      expect(() => parseShare(bad), bad).toThrow(InvalidArgumentError);
  });

  it('--from/--to: an offset (a bare number is seconds) or an ISO time', () => {
    expect(parseTimePoint('90s', '--from')).toEqual({ offsetUs: 90_000_000 });
    expect(parseTimePoint('+1.5ms', '--from')).toEqual({ offsetUs: 1500 });
    expect(parseTimePoint('2', '--to')).toEqual({ offsetUs: 2_000_000 });
    expect(parseTimePoint('2026-11-23T16:05:02Z', '--to')).toEqual({ at: '2026-11-23T16:05:02Z' });
    for (const bad of ['yesterday', '2026-13-45T99:00:00Z', '-5s'])
      expect(() => parseTimePoint(bad, '--from')).toThrow(/--from/);
  });

  it('--shift-time: a signed duration or an ISO time', () => {
    expect(parseShift('+2h')).toEqual({ byUs: 7_200_000_000 });
    expect(parseShift('-90s')).toEqual({ byUs: -90_000_000 });
    expect(parseShift('2030-01-01T00:00:00Z')).toEqual({ to: '2030-01-01T00:00:00Z' });
    expect(() => parseShift('2h')).toThrow(/\+DURATION/);
  });

  it('--set-header and --status collect, and refuse what they cannot use', () => {
    expect(collectHeader('X-A:  b c ', undefined)).toEqual([['X-A', 'b c']]);
    expect(collectHeader('Host: x:8080', [['X-A', 'b']])).toEqual([
      ['X-A', 'b'],
      ['Host', 'x:8080'],
    ]);
    expect(() => collectHeader('no colon', undefined)).toThrow(InvalidArgumentError);
    expect(collectStatus('2xx, 404', ['500'])).toEqual(['500', '2xx', '404']);
    expect(() => collectStatus('2xx,6xx', undefined)).toThrow(InvalidArgumentError);
  });
});
