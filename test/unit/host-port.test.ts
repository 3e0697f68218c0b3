/** src/host-port.ts: the one host:port grammar and text form (--listen, --upstream, --tap, targets, trace endpoints). */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkPort,
  formatHostPort,
  formatHostPortUrl,
  joinHostPort,
  parseHostPort,
  type PortOptions,
} from '../../src/host-port.js';

function failure(f: () => unknown): UsageError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('no error thrown');
}

describe('formatHostPort', () => {
  it.each([
    [{ host: '127.0.0.1', port: 8009 }, '127.0.0.1:8009'],
    [{ host: 'tomcat_1.example', port: 1 }, 'tomcat_1.example:1'],
    [{ host: '::1', port: 8009 }, '[::1]:8009'],
    [{ host: 'fe80::1%eth0', port: 65535 }, '[fe80::1%eth0]:65535'],
    [{ host: '0.0.0.0', port: 0 }, '0.0.0.0:0'],
  ])('%j is %s', (a, text) => {
    expect(formatHostPort(a)).toBe(text);
    expect(joinHostPort(a.host, a.port)).toBe(text);
  });

  it('writes URLs with the address as authority', () => {
    expect(formatHostPortUrl('ajp', { host: '127.0.0.1', port: 8009 })).toBe('ajp://127.0.0.1:8009');
    expect(formatHostPortUrl('http', { host: '::1', port: 8080 }, '/app')).toBe('http://[::1]:8080/app');
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8009', { host: '127.0.0.1', port: 8009 }],
    ['  localhost:8009 ', { host: 'localhost', port: 8009 }],
    ['tomcat_1:8009', { host: 'tomcat_1', port: 8009 }],
    ['[::1]:8009', { host: '::1', port: 8009 }],
    ['[FE80::1%eth0]:8009', { host: 'FE80::1%eth0', port: 8009 }],
    ['[::ffff:10.0.0.1]:1', { host: '::ffff:10.0.0.1', port: 1 }],
    ['8009', { host: '127.0.0.1', port: 8009 }],
    ['65535', { host: '127.0.0.1', port: 65535 }],
  ])('reads %j', (text, want) => {
    expect(parseHostPort(text, '--upstream')).toEqual(want);
  });

  it('round-trips what it formats', () => {
    for (const a of [
      { host: '10.1.2.3', port: 18009 },
      { host: '::1', port: 1 },
      { host: 'a-b.c', port: 65535 },
    ])
      expect(parseHostPort(formatHostPort(a), '--upstream')).toEqual(a);
  });

  it('takes port 0 only where allowed (a listen address: the system picks one)', () => {
    expect(parseHostPort('127.0.0.1:0', '--listen', { allowZeroPort: true })).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseHostPort('[::1]:0', '--listen', { allowZeroPort: true })).toEqual({ host: '::1', port: 0 });
    expect(parseHostPort('0', '--listen', { allowZeroPort: true })).toEqual({ host: '127.0.0.1', port: 0 });
    expect(failure(() => parseHostPort('127.0.0.1:0', '--upstream')).message).toBe(
      '--upstream takes host:port, [ipv6]:port or a bare port, got "127.0.0.1:0": port 0 is out of range: 1 to 65535',
    );
  });

  it.each<[string, PortOptions, RegExp]>([
    ['127.0.0.1:65536', {}, /got "127\.0\.0\.1:65536": port 65536 is out of range: 1 to 65535$/],
    ['[::1]:70000', { allowZeroPort: true }, /port 70000 is out of range: 0 to 65535 \(0 picks a free port\)$/],
    ['99999999999999', {}, /port 99999999999999 is out of range: 1 to 65535$/],
    ['nope', {}, /got "nope"$/],
    ['127.0.0.1:', {}, /got "127\.0\.0\.1:"$/],
    [':8009', {}, /got ":8009"$/],
    ['127.0.0.1:80x', {}, /got "127\.0\.0\.1:80x"$/],
    ['[::1:1', {}, /got "\[::1:1"$/],
    ['[::1]', {}, /got "\[::1\]"$/],
    ['[zz::1]:1', {}, /got "\[zz::1\]:1"$/],
    ['::1:8009', {}, /"::1" is not a host name or address \(an IPv6 address goes in brackets: \[::1\]:8009\)$/],
    ['a b:1', {}, /"a b" is not a host name or address/],
    ['x/y:1', {}, /"x\/y" is not a host name or address/],
    ['', {}, /got ""$/],
  ])('refuses %j (%j) with a UsageError AJPBENCH_ERR_TARGET naming the flag and its forms', (text, opts, why) => {
    const e = failure(() => parseHostPort(text, '--tap (upstream side)', opts));
    expect(e.code).toBe('AJPBENCH_ERR_TARGET');
    expect(e.exitCode).toBe(2);
    expect(e.message.startsWith('--tap (upstream side) takes host:port, [ipv6]:port or a bare port, got ')).toBe(true);
    expect(e.message).toMatch(why);
  });
});

describe('checkPort', () => {
  it('takes 1 to 65535, and 0 where allowed', () => {
    expect(checkPort(1, 'x')).toBe(1);
    expect(checkPort(65535, 'x')).toBe(65535);
    expect(checkPort(0, 'x', { allowZeroPort: true })).toBe(0);
  });

  it.each([0, -1, 65536, 1.5, NaN])('refuses %d, naming what it is for', (port) => {
    const e = failure(() => checkPort(port, '"ajp://h:0"'));
    expect(e.code).toBe('AJPBENCH_ERR_TARGET');
    expect(e.message).toBe(`"ajp://h:0": port ${port} is out of range: 1 to 65535`);
  });
});
