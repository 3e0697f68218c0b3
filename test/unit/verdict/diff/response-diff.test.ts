/** One comparison of two observed responses: status, header rules, bodies by hash, JSON, text and size. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ObservedResponse } from '../../../../src/trace/observed-response.js';
import type { HeaderPair } from '../../../../src/trace/trace-types.js';
import { headerRules, maskSessionCookie } from '../../../../src/verdict/diff/header-rules.js';
import { JSON_TYPE, response } from './responses.js';
import {
  bodyKindOf,
  compareResponses,
  SHORT_VALUE_CHARS,
  shortPair,
} from '../../../../src/verdict/diff/response-diff.js';

const json: HeaderPair[] = [['Content-Type', 'application/json;charset=UTF-8']];

describe('compareResponses', () => {
  it('finds equal answers equal, whatever Date, Content-Length and the transport headers say', () => {
    const a = response('{"a":1}', [...json, ['Date', 'Fri, 27 Nov 2026 17:00:00 GMT'], ['Content-Length', '7']]);
    const b = response('{"a":1}', [
      ['content-type', 'application/json;charset=UTF-8'],
      ['date', 'Fri, 27 Nov 2026 17:00:09 GMT'],
      ['transfer-encoding', 'chunked'],
      ['keep-alive', 'timeout=20'],
    ]);
    expect(compareResponses(a, b)).toEqual({ differences: [] });
  });

  it('reports the status, each differing header by lowercase name, and absent headers as null', () => {
    const a = response(
      'x',
      [
        ['X-Served-By', 'tomcat1'],
        ['Vary', 'Accept'],
      ],
      200,
    );
    const b = response('x', [['x-served-by', 'tomcat2']], 302);
    expect(compareResponses(a, b).differences).toEqual([
      { kind: 'status', field: 'status', before: '200', after: '302' },
      { kind: 'header', field: 'header:vary', before: 'Accept', after: null },
      { kind: 'header', field: 'header:x-served-by', before: 'tomcat1', after: 'tomcat2' },
    ]);
  });

  it('compares session cookies without their id but with their route, and Expires as a date', () => {
    expect(maskSessionCookie('JSESSIONID=9F3AE1.tomcat1; Path=/app; HttpOnly')).toBe(
      'JSESSIONID={session}.tomcat1; Path=/app; HttpOnly',
    );
    expect(maskSessionCookie('theme=dark; Expires=Sat, 28 Nov 2026 10:00:00 GMT; Path=/')).toBe(
      'theme=dark; Expires={date}; Path=/',
    );
    const a = response('x', [['Set-Cookie', 'JSESSIONID=AAAA.tomcat1; Path=/app']]);
    const sameNode = response('x', [['Set-Cookie', 'JSESSIONID=BBBB.tomcat1; Path=/app']]);
    const otherNode = response('x', [['Set-Cookie', 'JSESSIONID=CCCC.tomcat2; Path=/app']]);
    expect(compareResponses(a, sameNode).differences).toEqual([]);
    const two = (x: string, y: string): ObservedResponse =>
      response('x', [
        ['Set-Cookie', x],
        ['Set-Cookie', y],
      ]);
    expect(compareResponses(two('a=1', 'b=2'), two('b=2', 'a=1')).differences).toEqual([]);
    expect(compareResponses(a, otherNode).differences).toEqual([
      {
        kind: 'header',
        field: 'header:set-cookie',
        before: 'JSESSIONID={session}.tomcat1; Path=/app',
        after: 'JSESSIONID={session}.tomcat2; Path=/app',
      },
    ]);
  });

  it('compares only the named headers with --compare-headers, and never the --ignore-header ones', () => {
    const a = response('x', [
      ['Content-Type', 'text/plain'],
      ['X-A', '1'],
      ['Date', 'd1'],
    ]);
    const b = response('x', [
      ['Content-Type', 'text/html'],
      ['X-A', '2'],
      ['Date', 'd2'],
    ]);
    const only = headerRules({ compare: ['Content-Type', 'Date'] });
    expect(compareResponses(a, b, { headers: only }).differences.map((d) => d.field)).toEqual([
      'header:content-type',
      'header:date',
    ]);
    const ignoring = headerRules({ ignore: ['X-A'] });
    expect(compareResponses(a, b, { headers: ignoring }).differences.map((d) => d.field)).toEqual([
      'header:content-type',
    ]);
    // A named header absent on both sides is equal; absent on one side differs.
    const missing = headerRules({ compare: ['location'] });
    expect(compareResponses(a, b, { headers: missing }).differences).toEqual([]);
  });

  it('diffs JSON bodies field by field, the field folded for grouping and the exact path kept', () => {
    const a = response('{"route":"tomcat1","items":[{"id":1},{"id":2}],"n":1}', json);
    const b = response('{"route":"tomcat2","items":[{"id":1},{"id":3}],"n":"1","new":true}', json);
    const r = compareResponses(a, b);
    expect(r.body).toBe('json');
    expect(r.differences).toEqual([
      { kind: 'body', field: 'body:$.route', before: '"tomcat1"', after: '"tomcat2"' },
      { kind: 'body', field: 'body:$.items[*].id', path: 'body:$.items[1].id', before: '2', after: '3' },
      { kind: 'body', field: 'body:$.n', before: '1', after: '"1"' },
      { kind: 'body', field: 'body:$.new', before: null, after: 'true' },
    ]);
  });

  it('says when one JSON body is not JSON at all', () => {
    const r = compareResponses(response('{"a":1}', json), response('<html>oops</html>', json));
    expect(r.differences).toEqual([
      { kind: 'body', field: 'body:$', before: 'JSON object', after: 'not JSON (17 bytes)' },
    ]);
  });

  it('summarises text bodies by changed lines', () => {
    const html: HeaderPair[] = [['Content-Type', 'text/html']];
    const r = compareResponses(
      response('<p>\nnow 10:00\n</p>\n', html),
      response('<p>\nnow 10:01\n</p>\nextra\nmore\n', html),
    );
    expect(r.body).toBe('text');
    expect(r.differences).toEqual([
      { kind: 'body', field: 'body:line 2', before: 'now 10:00', after: 'now 10:01' },
      { kind: 'body', field: 'body:line 4', before: null, after: 'extra (+1 lines)' },
    ]);
  });

  it('compares binary bodies by size only, and bodies known only by hash as a whole', () => {
    const bin: HeaderPair[] = [['Content-Type', 'image/png']];
    expect(
      compareResponses(response(Buffer.from([1, 2, 0]), bin), response(Buffer.from([1, 0]), bin)).differences,
    ).toEqual([{ kind: 'body', field: 'body', before: '3 bytes', after: '2 bytes' }]);
    const a = response('{"a":1}', json);
    const hashOnly: ObservedResponse = { ...a, body: { length: 7, sha256: 'ab'.repeat(32) } };
    const r = compareResponses(hashOnly, response('{"a":2}', json));
    expect(r.body).toBe('hash');
    expect(r.differences).toEqual([
      {
        kind: 'body',
        field: 'body',
        before: `7 bytes, sha256 ${'ab'.repeat(6)}`,
        after: expect.stringMatching(/^7 bytes, sha256 [0-9a-f]{12}$/),
      },
    ]);
    // A kept prefix (truncated) is not the body: compared by hash.
    const cut: ObservedResponse = { ...a, body: { ...a.body, data: Buffer.from('{"a"'), truncated: true } };
    expect(compareResponses(cut, response('{"a":2}', json)).body).toBe('hash');
  });

  it('makes a candidate that gave no answer a no-response difference', () => {
    expect(compareResponses(response('x'), { error: 'connection refused' }).differences).toEqual([
      { kind: 'no-response', field: 'no-response', before: 'status 200', after: 'connection refused' },
    ]);
  });

  it('keeps before and after short and printable', () => {
    const r = compareResponses(response('x', [['X-Long', 'a'.repeat(500)]]), response('x', [['X-Long', 'b\u001b[2J']]));
    expect(r.differences[0]?.before).toHaveLength(SHORT_VALUE_CHARS);
    expect(r.differences[0]?.before?.endsWith('…')).toBe(true);
    expect(r.differences[0]?.after).toBe('b%1B[2J');
  });

  it('tells the body kind by Content-Type, else by the bytes', () => {
    expect(bodyKindOf('application/problem+json', Buffer.from('{}'))).toBe('json');
    expect(bodyKindOf('application/xml', Buffer.from('<a/>'))).toBe('text');
    expect(bodyKindOf('application/octet-stream', Buffer.from('abc'))).toBe('binary');
    expect(bodyKindOf(undefined, Buffer.from(' [1,2]'))).toBe('json');
    expect(bodyKindOf(undefined, Buffer.from('plain'))).toBe('text');
    expect(bodyKindOf(undefined, Buffer.from([0, 1, 2]))).toBe('binary');
  });

  it('shows two long values from a little before where they first differ', () => {
    const head = '<html><head><title>HTTP Status 405 – Method Not Allowed</title><style>'.repeat(2);
    const p = shortPair(`${head}port 28080 tail`, `${head}port 29080 tail`);
    expect(p.before).toBe(`…${head.slice(-18)}port 28080 tail`);
    expect(p.after).toBe(`…${head.slice(-18)}port 29080 tail`);
    expect(shortPair('short a', 'short b')).toEqual({ before: 'short a', after: 'short b' });
    expect(shortPair(null, 'x')).toEqual({ before: null, after: 'x' });
  });

  it('compares compressed bodies decompressed: another compression of the same page is equal', () => {
    const page = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}` })) });
    const gz = (level: number, body = page): ObservedResponse =>
      response(gzipSync(body, { level }), [...JSON_TYPE, ['Content-Encoding', 'gzip']]);
    expect(gz(1).body.sha256).not.toBe(gz(9).body.sha256);
    expect(compareResponses(gz(1), gz(9))).toEqual({ differences: [] });
    // Compressed against plain: the header says so, the bodies are the same.
    expect(compareResponses(gz(6), response(page, JSON_TYPE)).differences).toEqual([
      { kind: 'header', field: 'header:content-encoding', before: 'gzip', after: null },
    ]);
    const changed = compareResponses(gz(6), gz(6, page.replace('item 7', 'item seven')));
    expect(changed.differences).toEqual([
      {
        kind: 'body',
        field: 'body:$.items[*].name',
        path: 'body:$.items[7].name',
        before: '"item 7"',
        after: '"item seven"',
      },
    ]);
    // A body that says gzip but is not: compared as sent.
    const liar = response('{"a":1}', [...JSON_TYPE, ['Content-Encoding', 'gzip']]);
    expect(compareResponses(liar, response('{"a":2}', [...JSON_TYPE, ['Content-Encoding', 'gzip']])).body).toBe('json');
  });
});
