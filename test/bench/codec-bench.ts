/**
 * Codec benchmark: frame splitting, full decoding and encoding of a realistic mixed AJP stream,
 * with a plain Buffer.copy of the same bytes as this machine's baseline.
 */
import {
  AjpEncoder,
  ConversationDecoder,
  FrameDecoder,
  type AjpMessage,
  type ForwardRequest,
  type FrameSink,
  type MessageSink,
  type SendHeaders,
} from '../../src/protocol/index.js';

export interface BenchResult {
  name: string;
  frames: number;
  bytes: number;
  seconds: number;
}

const CHUNK = 64 * 1024; // a typical socket read

/** A Forward Request as mod_jk sends it for a browser request: 14 headers, 5 attributes. */
export function sampleRequest(i: number, body: number): ForwardRequest {
  return {
    type: 'forward-request',
    method: body > 0 ? 'POST' : 'GET',
    protocol: 'HTTP/1.1',
    uri: `/shop/catalog/item/${i % 997}/details`,
    remoteAddr: `10.1.${(i >> 8) & 255}.${i & 255}`,
    remoteHost: null,
    serverName: 'www.example.com',
    serverPort: 443,
    isSsl: true,
    headers: [
      { name: 'host', value: 'www.example.com' },
      { name: 'user-agent', value: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' },
      { name: 'accept', value: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
      { name: 'Accept-Language', value: 'en-US,en;q=0.5', coded: false },
      { name: 'Accept-Encoding', value: 'gzip, deflate, br', coded: false },
      { name: 'referer', value: 'https://www.example.com/shop/catalog' },
      { name: 'cookie', value: `JSESSIONID=${(1e15 + i).toString(16).toUpperCase()}.tomcat${(i % 2) + 1}; theme=dark` },
      { name: 'connection', value: 'keep-alive' },
      { name: 'Upgrade-Insecure-Requests', value: '1', coded: false },
      { name: 'Sec-Fetch-Dest', value: 'document', coded: false },
      { name: 'Sec-Fetch-Mode', value: 'navigate', coded: false },
      { name: 'X-Request-Id', value: `req-${i}`, coded: false },
      { name: 'content-length', value: String(body) },
      ...(body > 0 ? [{ name: 'content-type', value: 'application/x-www-form-urlencoded' }] : []),
    ],
    attributes: [
      { name: 'query_string', value: `page=${i % 10}&sort=price` },
      { name: 'route', value: `tomcat${(i % 2) + 1}` },
      { name: 'req_attribute', key: 'AJP_REMOTE_PORT', value: String(40000 + (i % 20000)) },
      { name: 'req_attribute', key: 'AJP_LOCAL_ADDR', value: '10.0.0.2' },
      { name: 'req_attribute', key: 'JK_LB_ACTIVATION', value: 'ACT' },
    ],
  };
}

const responseHeaders: SendHeaders = {
  type: 'send-headers',
  status: 200,
  message: '200',
  headers: [
    { name: 'Content-Type', value: 'text/html;charset=UTF-8' },
    { name: 'Content-Length', value: '9000' },
    { name: 'Date', value: 'Mon, 23 Nov 2026 12:00:00 GMT' },
    { name: 'Set-Cookie', value: 'JSESSIONID=0123456789ABCDEF.tomcat1; Path=/; HttpOnly' },
    { name: 'Cache-Control', value: 'no-cache' },
  ],
};

/** Each exchange: FR (+ a small or 8 KB body on every third), Send Headers, a small and an 8 KB chunk, End Response. */
export function mixedMessages(exchanges: number): { toContainer: AjpMessage[]; toWebServer: AjpMessage[] } {
  const toContainer: AjpMessage[] = [];
  const toWebServer: AjpMessage[] = [];
  for (let i = 0; i < exchanges; i++) {
    const body = i % 3 === 0 ? (i % 2 === 0 ? 8186 : 120) : 0;
    toContainer.push(sampleRequest(i, body));
    if (body > 0) toContainer.push({ type: 'body', data: Buffer.alloc(body, i & 0xff) });
    toWebServer.push(
      responseHeaders,
      { type: 'send-body-chunk', data: Buffer.alloc(816, 0x61) },
      { type: 'send-body-chunk', data: Buffer.alloc(8184, 0x62) },
      { type: 'end-response', reuse: true },
    );
  }
  return { toContainer, toWebServer };
}

export function encodeAll(msgs: AjpMessage[]): Buffer {
  const enc = new AjpEncoder();
  return Buffer.concat(msgs.map((m) => enc.encode(m)));
}

export function chunked(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += CHUNK) out.push(stream.subarray(i, Math.min(stream.length, i + CHUNK)));
  return out;
}

/** Runs `pass` until at least `minSeconds` have gone by; returns totals. */
export function timed(name: string, minSeconds: number, pass: () => { frames: number; bytes: number }): BenchResult {
  pass(); // warm-up: let the JIT settle
  pass();
  let frames = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  let seconds = 0;
  do {
    const r = pass();
    frames += r.frames;
    bytes += r.bytes;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  } while (seconds < minSeconds);
  return { name, frames, bytes, seconds };
}

export function codecBenchmarks(minSeconds: number): BenchResult[] {
  const { toContainer, toWebServer } = mixedMessages(2000);
  const requestsOnly = toContainer.filter((m) => m.type === 'forward-request');
  const tcStream = encodeAll(toContainer);
  const twStream = encodeAll(toWebServer);
  const frStream = encodeAll(requestsOnly);
  const tcChunks = chunked(tcStream);
  const twChunks = chunked(twStream);
  const frChunks = chunked(frStream);
  const mixedFrames = toContainer.length + toWebServer.length;
  const mixedBytes = tcStream.length + twStream.length;
  const target = Buffer.allocUnsafe(Math.max(tcStream.length, twStream.length));

  let sunk = 0;
  const frameSink: FrameSink = {
    frame: (p) => {
      sunk += p.length;
    },
    error: (e) => {
      throw e;
    },
  };
  const messageSink: MessageSink = {
    message: () => {
      sunk++;
    },
    error: (e) => {
      throw e;
    },
  };

  const results = [
    timed('baseline: Buffer.copy of the mixed stream', minSeconds, () => {
      for (const c of tcChunks) c.copy(target);
      for (const c of twChunks) c.copy(target);
      return { frames: mixedFrames, bytes: mixedBytes };
    }),
    timed('frame splitter, mixed stream', minSeconds, () => {
      const a = new FrameDecoder({ direction: 'to-container' });
      const b = new FrameDecoder({ direction: 'to-web-server' });
      for (const c of tcChunks) a.push(c, frameSink);
      for (const c of twChunks) b.push(c, frameSink);
      return { frames: mixedFrames, bytes: mixedBytes };
    }),
    timed('full decode, mixed stream', minSeconds, () => {
      const d = new ConversationDecoder();
      // Per exchange order does not matter for bodies here: every body is the unasked first packet.
      for (const c of tcChunks) d.push('to-container', c, messageSink);
      for (const c of twChunks) d.push('to-web-server', c, messageSink);
      d.end(messageSink);
      return { frames: mixedFrames, bytes: mixedBytes };
    }),
    timed('full decode, Forward Requests only', minSeconds, () => {
      const d = new ConversationDecoder();
      for (const c of frChunks) d.push('to-container', c, messageSink);
      return { frames: requestsOnly.length, bytes: frStream.length };
    }),
    timed('encode, mixed stream', minSeconds, () => {
      const enc = new AjpEncoder();
      let bytes = 0;
      for (const m of toContainer) bytes += enc.encode(m).length;
      for (const m of toWebServer) bytes += enc.encode(m).length;
      return { frames: mixedFrames, bytes };
    }),
    timed('encode, Forward Requests only', minSeconds, () => {
      const enc = new AjpEncoder();
      let bytes = 0;
      for (const m of requestsOnly) bytes += enc.encode(m).length;
      return { frames: requestsOnly.length, bytes };
    }),
  ];
  if (sunk < 0) console.log(sunk); // keep the sinks' work observable
  return results;
}
