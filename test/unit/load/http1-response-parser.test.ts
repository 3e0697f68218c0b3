/** Http1ResponseParser: framing by Content-Length, chunked (+ trailers), until close; 1xx, HEAD, 204/304; every fixture split at every byte. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Http1ParseError,
  Http1ResponseParser,
  MAX_HEAD_BYTES,
  type Http1ResponseSink,
} from '../../../src/load/http1-response-parser.js';

interface Seen {
  status: number;
  headers: [string, string][];
  body: string;
  keepAlive: boolean | null;
}

/** A sink that keeps what it saw; `head` says which responses answer a HEAD (by index). */
class Recorder implements Http1ResponseSink {
  readonly responses: Seen[] = [];
  constructor(private readonly head: (i: number) => boolean = () => false) {}
  private get cur(): Seen {
    return this.responses.at(-1) as Seen;
  }
  onResponseStart(status: number): boolean {
    this.responses.push({ status, headers: [], body: '', keepAlive: null });
    return this.head(this.responses.length - 1);
  }
  onHeader(lower: string, value: string): void {
    this.cur.headers.push([lower, value]);
  }
  onHeadersComplete(): void {}
  onBody(chunk: Buffer, start: number, end: number): void {
    // A view valid only now: copied here, as the client's hash copies it.
    this.cur.body += chunk.toString('latin1', start, end);
  }
  onResponseEnd(keepAlive: boolean): void {
    this.cur.keepAlive = keepAlive;
  }
}

/**
 * Parses `wire` in pieces cut at `cuts`. Each piece is pushed as the client's shared read buffer
 * is: the bytes at its start, stale bytes after `end`, and overwritten after the push.
 */
function parse(
  wire: string,
  cuts: number[] = [],
  opts: { close?: boolean; head?: (i: number) => boolean } = {},
): Seen[] {
  const rec = new Recorder(opts.head);
  const p = new Http1ResponseParser(rec);
  let from = 0;
  for (const at of [...cuts, wire.length]) {
    if (at <= from && at !== wire.length) continue;
    const piece = Buffer.alloc(at - from + 8, 0x0a); // stale LFs past the end would end any head
    piece.write(wire.slice(from, at), 'latin1');
    p.push(piece, at - from);
    piece.fill(0x58); // anything kept as a view would now read 'XXX'
    from = at;
  }
  if (opts.close === true) p.close();
  return rec.responses;
}

/** The same responses whatever the split: whole, and cut at every single offset, and at every pair for short wires. */
function everySplit(wire: string, opts: { close?: boolean; head?: (i: number) => boolean } = {}): Seen[] {
  const whole = parse(wire, [], opts);
  for (let i = 1; i < wire.length; i++) expect(parse(wire, [i], opts), `cut at ${i}`).toEqual(whole);
  expect(
    parse(
      wire,
      Array.from({ length: wire.length }, (_, i) => i + 1),
      opts,
    ),
    'byte by byte',
  ).toEqual(whole);
  return whole;
}

describe('Http1ResponseParser', () => {
  it('reads a Content-Length response and the next one on the same connection, split anywhere', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nSet-Cookie: JSESSIONID=A.web1\r\n\r\nhello' +
      'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
    expect(everySplit(wire)).toEqual([
      {
        status: 200,
        headers: [
          ['content-type', 'text/plain'],
          ['content-length', '5'],
          ['set-cookie', 'JSESSIONID=A.web1'],
        ],
        body: 'hello',
        keepAlive: true,
      },
      { status: 404, headers: [['content-length', '0']], body: '', keepAlive: true },
    ]);
  });

  it('reads chunked bodies with extensions and trailers, split at every byte', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=val\r\nhello\r\nA\r\n, chunked!\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n' +
      'HTTP/1.1 201 Created\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n';
    const [a, b] = everySplit(wire);
    expect(a).toMatchObject({ status: 200, body: 'hello, chunked!', keepAlive: true });
    expect(b).toMatchObject({ status: 201, body: '', keepAlive: true });
  });

  it('reads a body until the connection closes when nothing frames it (and never reuses that connection)', () => {
    const wire = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>all of it</html>';
    const [r] = everySplit(wire, { close: true });
    expect(r).toMatchObject({ status: 200, body: '<html>all of it</html>', keepAlive: false });
    // Not chunked as the final coding: also until close (RFC 9112 §6.3).
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz', [], { close: true })[0]).toMatchObject({
      body: 'zz',
      keepAlive: false,
    });
  });

  it('skips 100 Continue and 103 Early Hints, and gives no body to HEAD, 204 and 304', () => {
    const wire =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc' +
      'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + // the answer to a HEAD: no body follows
      'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n' +
      'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    const seen = everySplit(wire, { head: (i) => i === 1 });
    expect(seen.map((r) => [r.status, r.body, r.keepAlive])).toEqual([
      [200, 'abc', true],
      [200, '', true],
      [204, '', true],
      [304, '', true],
      [200, 'ok', true],
    ]);
  });

  it('keep-alive: Connection: close ends it, HTTP/1.0 keeps it only when asked, TE with CL is not reused', () => {
    const one = (w: string) => parse(w)[0]?.keepAlive;
    expect(one('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')).toBe(false);
    expect(one('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n')).toBe(false);
    expect(one('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).toBe(false);
    expect(one('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')).toBe(true);
    expect(one('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')).toBe(false);
    // Bare LF line ends are read (RFC 9112 §2.2), and a status line may have no reason phrase.
    expect(parse('HTTP/1.1 200 OK\nContent-Length: 1\n\nx')[0]).toMatchObject({ body: 'x', keepAlive: true });
    expect(parse('HTTP/1.1 302\r\nContent-Length: 0\r\n\r\n')[0]).toMatchObject({ status: 302, keepAlive: true });
  });

  it('stops at halt(): bytes after a closing response belong to nothing', () => {
    const rec = new Recorder();
    const p = new Http1ResponseParser({
      ...rec,
      onResponseStart: (s) => rec.onResponseStart(s),
      onHeader: (n, v) => rec.onHeader(n, v),
      onHeadersComplete: () => undefined,
      onBody: (c, s, e) => rec.onBody(c, s, e),
      onResponseEnd: (k) => {
        rec.onResponseEnd(k);
        p.halt();
      },
    });
    p.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\ngarbage after it'));
    expect(rec.responses).toHaveLength(1);
    expect(() => p.close()).not.toThrow();
  });

  it.each([
    ['garbage instead of a status line', 'SSH-2.0-OpenSSH_9.6\r\n', /not an HTTP\/1.x response/],
    ['an AJP frame on an HTTP port', '\x41\x42\x00\x02\x05\x01', /not an HTTP\/1.x response/],
    ['a bad status line', 'HTTP/1.1 2000 OK\r\n\r\n', /bad status line/],
    ['a status below 100', 'HTTP/1.1 099 Odd\r\n\r\n', /bad status 99/],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', /bad status line/],
    ['HTTP/2 preface answer', 'HTTP/2 200\r\n\r\n', /bad status line/],
    ['a header without a colon', 'HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n', /bad header line/],
    ['obsolete line folding', 'HTTP/1.1 200 OK\r\nA: b\r\n  folded\r\n\r\n', /bad header line/],
    ['a bad header name', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /bad header name/],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n', /bad Content-Length/],
    ['two Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /two different/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /bad chunk size/],
    ['no CRLF after chunk data', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX', /no CRLF/],
    ['a huge chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFF\r\n', /too large/],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n', /101/],
  ])('refuses %s with Http1ParseError', (_what, wire, message) => {
    expect(() => parse(wire)).toThrow(Http1ParseError);
    expect(() => parse(wire)).toThrow(message);
    // The same however the bytes arrive.
    expect(() =>
      parse(
        wire,
        Array.from({ length: wire.length }, (_, i) => i + 1),
      ),
    ).toThrow(Http1ParseError);
  });

  it('refuses a head longer than its limit as bytes arrive, without waiting for its end', () => {
    const p = new Http1ResponseParser(new Recorder());
    p.push(Buffer.from('HTTP/1.1 200 OK\r\n'));
    const filler = Buffer.from(`X-Pad: ${'a'.repeat(1000)}\r\n`);
    expect(() => {
      for (let i = 0; i < (MAX_HEAD_BYTES / filler.length) * 2; i++) p.push(filler);
    }).toThrow(/longer than 65536 bytes/);
  });

  it('says where a response was cut short when the connection closes', () => {
    const cut = (wire: string) => () => parse(wire, [], { close: true });
    expect(cut('HTTP/1.1 200 OK\r\nContent-Len')).toThrow(/in the response head/);
    expect(cut('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')).toThrow(/with 7 body bytes still to come/);
    expect(cut('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab')).toThrow(/in a chunked body/);
    expect(cut('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n')).toThrow(/chunked/);
    // Between responses, a close is no error.
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx', [], { close: true })).toHaveLength(1);
  });
});

interface GenResponse {
  status: number;
  framing: 'length' | 'chunked' | 'close';
  body: Uint8Array;
  chunks: number[];
  trailers: boolean;
  interim: boolean;
  nameCase: 'lower' | 'title' | 'upper';
}

const genResponse = fc.record({
  status: fc.constantFrom(200, 201, 204, 302, 304, 404, 500, 503),
  framing: fc.constantFrom('length' as const, 'chunked' as const, 'close' as const),
  body: fc.uint8Array({ maxLength: 300 }),
  chunks: fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 8 }),
  trailers: fc.boolean(),
  interim: fc.boolean(),
  nameCase: fc.constantFrom('lower' as const, 'title' as const, 'upper' as const),
});

/** The wire form of a response, and what the parser should report for it. */
function wireOf(r: GenResponse, last: boolean): { wire: string; expected: Seen } {
  const framing = r.framing === 'close' && !last ? 'length' : r.framing;
  const noBody = r.status === 204 || r.status === 304;
  const body = noBody ? '' : Buffer.from(r.body).toString('latin1');
  const name = (n: string): string =>
    r.nameCase === 'lower' ? n.toLowerCase() : r.nameCase === 'upper' ? n.toUpperCase() : n;
  const headers: [string, string][] = [[name('Content-Type'), 'application/octet-stream']];
  let payload = '';
  if (framing === 'length') headers.push([name('Content-Length'), String(body.length)]);
  if (framing === 'chunked') {
    headers.push([name('Transfer-Encoding'), 'chunked']);
    if (!noBody) {
      let at = 0;
      for (const size of [...r.chunks, Infinity]) {
        const piece = body.slice(at, at + size);
        if (piece === '') break;
        payload += `${piece.length.toString(16)}${size % 2 === 0 ? ';ext=1' : ''}\r\n${piece}\r\n`;
        at += piece.length;
      }
      payload += `0\r\n${r.trailers ? 'X-Digest: abc\r\nX-Other: 1\r\n' : ''}\r\n`;
    }
  } else if (!noBody) payload = body;
  const interim = r.interim ? 'HTTP/1.1 100 Continue\r\n\r\n' : '';
  const head = `HTTP/1.1 ${r.status} Reason\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return {
    wire: interim + head + payload,
    expected: {
      status: r.status,
      headers: headers.map(([n, v]) => [n.toLowerCase(), v]),
      body,
      keepAlive: framing !== 'close' || noBody,
    },
  };
}

describe('Http1ResponseParser properties', () => {
  it('any sequence of responses, split anywhere, parses to the same responses and bodies', () => {
    fc.assert(
      fc.property(
        fc.array(genResponse, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (responses, rawCuts) => {
          const parts = responses.map((r, i) => wireOf(r, i === responses.length - 1));
          const wire = parts.map((p) => p.wire).join('');
          const cuts = [...new Set(rawCuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const seen = parse(wire, cuts, { close: true });
          expect(seen).toEqual(parts.map((p) => p.expected));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('random or mutated bytes end in Http1ParseError or in responses, never another exception', () => {
    const mutated = fc.tuple(genResponse, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([r, at, byte]) => {
      const w = Buffer.from(wireOf(r, true).wire, 'latin1');
      if (w.length > 0) w[at % w.length] = byte;
      return w.toString('latin1');
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 200 })), fc.nat(), (wire, cut) => {
        try {
          parse(wire, [cut % (wire.length + 1)], { close: true });
        } catch (e) {
          expect(e).toBeInstanceOf(Http1ParseError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
