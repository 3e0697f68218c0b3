import { describe, expect, it } from 'vitest';
import {
  redactCookieHeader,
  redactSetCookie,
  redactUri,
  sessionOfExchange,
  sessionPseudonym,
} from '../../../src/trace/index.js';

describe('session pseudonyms', () => {
  it('each session keeps a name of its own, the same on every route and in every header, never its id', () => {
    const a = redactCookieHeader('theme=dark; JSESSIONID=AAAA1111.tomcat1');
    const a2 = redactSetCookie('JSESSIONID=AAAA1111.tomcat2; Path=/app; HttpOnly');
    const b = redactCookieHeader('JSESSIONID=BBBB2222.tomcat1');
    expect(a).toMatch(/^theme=REDACTED; JSESSIONID=REDACTED-[0-9a-f]{16}\.tomcat1$/);
    expect(a2).toMatch(/^JSESSIONID=REDACTED-[0-9a-f]{16}\.tomcat2; Path=\/app; HttpOnly$/);
    expect(a + a2 + b).not.toMatch(/AAAA1111|BBBB2222/);
    const key = (cookie: string): string | null => sessionOfExchange([['Cookie', cookie]], '/');
    expect(key(a)).toBe(sessionOfExchange([], '/', [['Set-Cookie', a2]]));
    expect(key(a)).not.toBe(key(b));
    expect(redactUri('/app/x;jsessionid=AAAA1111.tomcat1?q=1')).toBe(
      `/app/x;jsessionid=${sessionPseudonym('AAAA1111')}.tomcat1?q=1`,
    );
  });

  it('redacting twice changes nothing (a redacted trace filtered or exported and imported again)', () => {
    const once = redactCookieHeader('JSESSIONID=AAAA1111.tomcat1');
    expect(redactCookieHeader(once)).toBe(once);
    expect(redactCookieHeader('JSESSIONID=REDACTED.tomcat1')).toBe('JSESSIONID=REDACTED.tomcat1');
    expect(redactCookieHeader('JSESSIONID=')).toBe('JSESSIONID=REDACTED');
  });
});
