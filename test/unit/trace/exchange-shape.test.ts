/** exchangeProblem: every field inspect and replay read is checked, and the first bad one named. */
import { describe, expect, it } from 'vitest';
import { exchangeProblem } from '../../../src/trace/exchange-shape.js';
import type { ExchangeEvent } from '../../../src/trace/trace-types.js';

function good(): ExchangeEvent {
  return {
    event: 'exchange',
    id: 1,
    conn: 1,
    t: 100,
    upstream: '10.0.0.2:8009',
    worker: 'jk-a',
    request: {
      method: 'GET',
      protocol: 'HTTP/1.1',
      uri: '/a',
      query: null,
      remoteAddr: '10.0.0.9',
      remoteHost: null,
      serverName: 'www',
      serverPort: 80,
      isSsl: false,
      headers: [
        ['host', 'www'],
        ['x-null', null],
      ],
      attributes: { route: 'r1', ssl_key_size: 256 },
      reqAttributes: [['k', 'v']],
      body: { length: 0, sha256: 'e3b0', data: '' },
    },
    response: {
      status: 200,
      message: 'OK',
      headers: [['Content-Type', 'text/plain']],
      body: { length: 5, sha256: 'ab' },
      reuse: true,
    },
    timing: { headersUs: null, endUs: 20 },
    route: null,
    routeSource: null,
    bodyRequests: 0,
  };
}

/** A copy of good() with one value replaced at a dotted path. */
function withValue(path: string, value: unknown): unknown {
  const ev = structuredClone(good()) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let o = ev;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[keys.at(-1) as string] = value;
  return ev;
}

describe('exchangeProblem', () => {
  it('accepts a good exchange, and one without the optional fields', () => {
    expect(exchangeProblem(good())).toBeUndefined();
    const { worker: _w, ...bare } = good();
    expect(exchangeProblem({ ...bare, byteStrings: true })).toBeUndefined();
  });

  it('names a URI that is a number, a list or an object', () => {
    expect(exchangeProblem(withValue('request.uri', 42))).toBe('request.uri is the number 42, not a string or null');
    expect(exchangeProblem(withValue('request.uri', ['/a']))).toBe('request.uri is a list, not a string or null');
    expect(exchangeProblem(withValue('request.uri', { p: '/a' }))).toBe(
      'request.uri is an object, not a string or null',
    );
  });

  it.each([
    ['id', 'x'],
    ['t', null],
    ['request', 'GET /'],
    ['request.method', 7],
    ['request.protocol', 1.1],
    ['request.query', {}],
    ['request.remoteAddr', []],
    ['request.serverName', 80],
    ['request.serverPort', 70_000],
    ['request.serverPort', '80'],
    ['request.isSsl', 'no'],
    ['request.headers', { host: 'x' }],
    ['request.headers', [['host']]],
    ['request.headers', [['host', 5]]],
    ['request.attributes', []],
    ['request.attributes', { route: { a: 1 } }],
    ['request.attributes', { ssl_key_size: 1e6 }],
    ['request.reqAttributes', [[1, 'v']]],
    ['request.chunked', 'yes'],
    ['request.body', null],
    ['request.body.length', -1],
    ['request.body.length', 1.5],
    ['request.body.data', 12],
    ['response', null],
    ['response.status', '200'],
    ['response.status', 2.5],
    ['response.headers', 'Content-Type: x'],
    ['response.body.sha256', null],
    ['response.body.length', 'lots'],
    ['timing', 5],
    ['timing.endUs', 'soon'],
    ['timing.headersUs', 'soon'],
    ['route', 5],
    ['worker', null],
    ['byteStrings', 'yes'],
  ])('refuses %s = %j, naming it', (path, value) => {
    const problem = exchangeProblem(withValue(path, value));
    expect(problem).toBeDefined();
    expect(problem).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')}(\\[\\d+\\]|\\.\\w+)? is `));
  });

  it('refuses what is not an object at all', () => {
    expect(exchangeProblem(null)).toBe('the event is null, not an object');
    expect(exchangeProblem([1])).toBe('the event is a list, not an object');
  });
});
