import { describe, expect, it } from 'vitest';
import { KeySampler, sessionKeyOf, sessionOfExchange } from '../../../src/trace/index.js';

describe('sessionKeyOf', () => {
  it('drops the route suffix, so a failed-over session is the same session', () => {
    expect(sessionKeyOf('ABC123.tomcat1')).toBe('ABC123');
    expect(sessionKeyOf('ABC123.tomcat2')).toBe('ABC123');
    expect(sessionKeyOf('ABC123')).toBe('ABC123');
  });
});

describe('sessionOfExchange', () => {
  it('takes the path parameter first, then the cookie, then the Set-Cookie of the response', () => {
    expect(sessionOfExchange([['Cookie', 'JSESSIONID=C.t1']], '/a;jsessionid=U.t2')).toBe('U');
    expect(sessionOfExchange([['Cookie', 'x=1; JSESSIONID=C.t1']], '/a')).toBe('C');
    expect(sessionOfExchange([], '/a', [['Set-Cookie', 'JSESSIONID=N.t1; Path=/app']])).toBe('N');
    expect(sessionOfExchange([['Cookie', 'x=1']], '/a', [['Set-Cookie', 'other=1']])).toBeNull();
  });
});

describe('KeySampler', () => {
  it('keeps the same keys for the same seed, other keys for another seed', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `s${i}`);
    const a = keys.filter((k) => new KeySampler(0.1, 'x').keeps(k));
    const b = keys.filter((k) => new KeySampler(0.1, 'x').keeps(k));
    const c = keys.filter((k) => new KeySampler(0.1, 'y').keeps(k));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('keeps about the share asked for (10% of 20,000 within ±1 point)', () => {
    const s = new KeySampler(0.1, 'seed');
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (s.keeps(i)) kept++;
    expect(kept / 20_000).toBeGreaterThan(0.09);
    expect(kept / 20_000).toBeLessThan(0.11);
  });

  it('keeps all at 1 and none at 0, and refuses a share outside 0..1', () => {
    expect(new KeySampler(1).keeps('a')).toBe(true);
    expect(new KeySampler(0).keeps('a')).toBe(false);
    expect(() => new KeySampler(1.5)).toThrow(RangeError);
    expect(() => new KeySampler(Number.NaN)).toThrow(RangeError);
  });
});
