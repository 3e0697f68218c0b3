import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { globToRegExp, parseSubstitution } from '../../../src/index.js';

describe('globToRegExp', () => {
  it('* stays within a segment, ** crosses them, ? is one character, [..] a set', () => {
    expect(globToRegExp('/app/*.jsp').test('/app/echo.jsp')).toBe(true);
    expect(globToRegExp('/app/*.jsp').test('/app/a/echo.jsp')).toBe(false);
    expect(globToRegExp('/app/**').test('/app/a/b/c')).toBe(true);
    expect(globToRegExp('/v?/x').test('/v2/x')).toBe(true);
    expect(globToRegExp('/v[12]/x').test('/v3/x')).toBe(false);
    expect(globToRegExp('/v[!12]/x').test('/v3/x')).toBe(true);
  });

  it('matches the whole path, and regular expression characters are literal', () => {
    expect(globToRegExp('/app').test('/app/x')).toBe(false);
    expect(globToRegExp('/a.b+(c)').test('/a.b+(c)')).toBe(true);
    expect(globToRegExp('/a.b').test('/axb')).toBe(false);
  });
});

describe('parseSubstitution', () => {
  it('takes any punctuation delimiter, flags g and i, sed groups and escaped delimiters', () => {
    const s = parseSubstitution('s#^/old/(.*)#/new/\\1#');
    expect('/old/x/y'.replace(s.pattern, s.replacement)).toBe('/new/x/y');
    const g = parseSubstitution('s|a|b|gi');
    expect('AaA'.replace(g.pattern, g.replacement)).toBe('bbb');
    const esc = parseSubstitution('s/\\/x/\\/y/');
    expect('/x/1'.replace(esc.pattern, esc.replacement)).toBe('/y/1');
  });

  it('refuses what is not a substitution, with the flag named', () => {
    for (const bad of ['x#a#b#', 's#a#b', 's#a#b#q', 's#(#b#', 'sAaAbA'])
      expect(() => parseSubstitution(bad), bad).toThrow(UsageError);
    expect(() => parseSubstitution('s#a#b')).toThrow(/--rewrite-uri/);
  });
});
