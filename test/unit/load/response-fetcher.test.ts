/**
 * The fetchers `ajpbench diff` uses: whole answers over AJP (request bodies on Get Body Chunk,
 * chunked and not; kept connections; one more try when a kept connection turns out closed, none
 * after a timeout) and over HTTP, and failures as values.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toReplayRequest, type ReplayRequest } from '../../../src/load/replay-request.js';
import { responseFetcher, type FetchOptions } from '../../../src/load/response-fetcher.js';
import { StubContainer } from '../../../src/load/stub-container.js';
import { parseTarget } from '../../../src/load/target.js';
import { AjpEncoder, END_RESPONSE_REUSE_FRAME, FrameDecoder, MessageCode } from '../../../src/protocol/index.js';
import { isFailure, type Observed, type ObservedResponse } from '../../../src/trace/observed-response.js';
import { openTrace } from '../../../src/trace/trace-reader.js';
import type { ExchangeEvent } from '../../../src/trace/trace-types.js';

const opts: FetchOptions = { connectTimeoutMs: 2000, requestTimeoutMs: 3000, maxBodyBytes: 1 << 20, connections: 2 };
const exchanges = new Map<number, ExchangeEvent>();
let stub: StubContainer;

beforeAll(async () => {
  const { events } = await openTrace(join(import.meta.dirname, '../../../captures/lab-mixed.trace.jsonl'));
  for await (const e of events) if (e.event === 'exchange') exchanges.set(e.id, e);
  stub = await StubContainer.start({
    listen: [
      { host: '127.0.0.1', port: 0, route: 's1', protocol: 'ajp' },
      { host: '127.0.0.1', port: 0, route: 's1', protocol: 'http' },
    ],
    bodySize: 20_000,
  });
});
afterAll(async () => {
  await stub.close();
});

const request = (id: number): ReplayRequest => toReplayRequest(exchanges.get(id) as ExchangeEvent);
const answer = (o: Observed): ObservedResponse => {
  if (isFailure(o)) throw new Error(`no answer: ${o.error}`);
  return o;
};
const port = (p: 'ajp' | 'http'): number => stub.listeners.find((l) => l.protocol === p)?.port ?? 0;

describe('AJP fetcher', () => {
  it('sends request bodies whole (Content-Length and chunked), reads the answer whole, and keeps its connection', async () => {
    const f = responseFetcher(parseTarget(`ajp://127.0.0.1:${port('ajp')}`), opts);
    const before = { ...stub.stats };
    const big = answer(await f.fetch(request(3)));
    const chunked = answer(await f.fetch(request(4)));
    const get = answer(await f.fetch(request(1)));
    await f.close();
    expect(stub.stats.bodyBytes - before.bodyBytes).toBe(20_000 + 19);
    expect(stub.stats.connections - before.connections).toBe(1);
    for (const r of [big, chunked, get]) {
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(20_000);
      expect(r.body.data?.length).toBe(20_000);
      expect(r.headers.find(([n]) => n === 'Content-Type')).toEqual(['Content-Type', 'text/plain']);
    }
    expect(big.headers.some(([n, v]) => n === 'Set-Cookie' && v?.includes('.s1') === true)).toBe(true);
  });

  it('keeps only the first maxBodyBytes but hashes the whole body', async () => {
    const f = responseFetcher(parseTarget(`ajp://127.0.0.1:${port('ajp')}`), { ...opts, maxBodyBytes: 100 });
    const r = answer(await f.fetch(request(1)));
    await f.close();
    expect(r.body).toMatchObject({ length: 20_000, truncated: true });
    expect(r.body.data?.length).toBe(100);
    expect(r.body.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  describe('against a connector that closes idle connections, or never answers', () => {
    let server: Server;
    let mode: 'close-after' | 'silent' = 'close-after';
    let connections = 0;
    beforeAll(async () => {
      const enc = new AjpEncoder();
      server = createServer((socket: Socket) => {
        connections++;
        const decoder = new FrameDecoder({ direction: 'to-container' });
        socket.on('data', (chunk: Buffer) =>
          decoder.push(chunk, {
            frame: (payload) => {
              if (payload[0] !== MessageCode.ForwardRequest || mode === 'silent') return;
              socket.write(
                Buffer.concat([
                  enc.sendHeaders({ status: 200, message: 'OK', headers: [] }),
                  enc.sendBodyChunk(Buffer.from('hi')),
                  END_RESPONSE_REUSE_FRAME,
                ]),
              );
              // Says reuse, then closes while idle, as a connector past its keep-alive time does.
              setTimeout(() => socket.end(), 20);
            },
            error: () => socket.destroy(),
          }),
        );
        socket.on('error', () => undefined);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('tries a request once more on a fresh connection when its kept one was closed', async () => {
      mode = 'close-after';
      connections = 0;
      const f = responseFetcher(parseTarget(`ajp://127.0.0.1:${(server.address() as { port: number }).port}`), opts);
      expect(answer(await f.fetch(request(1))).body.length).toBe(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(answer(await f.fetch(request(1))).body.length).toBe(2);
      await f.close();
      expect(connections).toBe(2);
    });

    it('fails a request the connector does not answer in time, once', async () => {
      mode = 'silent';
      connections = 0;
      const f = responseFetcher(parseTarget(`ajp://127.0.0.1:${(server.address() as { port: number }).port}`), {
        ...opts,
        requestTimeoutMs: 200,
      });
      expect(await f.fetch(request(1))).toEqual({ error: 'no complete response within 200 ms of the send' });
      await f.close();
      expect(connections).toBe(1);
    });
  });

  it('says why there is no answer when nothing listens', async () => {
    const f = responseFetcher(parseTarget('ajp://127.0.0.1:1'), opts);
    expect(await f.fetch(request(1))).toEqual({ error: 'connect: connection refused' });
    await f.close();
  });
});

describe('HTTP fetcher', () => {
  it('sends the exchange as HTTP/1.1 and reads headers and body whole', async () => {
    const f = responseFetcher(parseTarget(`http://127.0.0.1:${port('http')}`), opts);
    const before = stub.stats.bodyBytes;
    const r = answer(await f.fetch(request(3)));
    expect(stub.stats.bodyBytes - before).toBe(20_000);
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(20_000);
    expect(r.headers).toContainEqual(['content-type', 'text/plain']);
    expect(await responseFetcher(parseTarget('http://127.0.0.1:1'), opts).fetch(request(1))).toEqual({
      error: 'connect: connection refused',
    });
    await f.close();
  });
});
