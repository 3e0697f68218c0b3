/** Test helpers for the load engine: replay requests made by hand, a raw AJP peer, a sink that keeps copies. */
import { connect, type Socket } from 'node:net';
import {
  AjpEncoder,
  FrameDecoder,
  decodeToWebServer,
  type AjpProtocolError,
  type ToWebServerMessage,
} from '../../../src/protocol/index.js';
import { toReplayRequest, type ReplayRequest } from '../../../src/load/replay-request.js';
import type { RequestResult } from '../../../src/load/request-result.js';
import type { ResultSink } from '../../../src/load/schedulers.js';
import type { ExchangeEvent } from '../../../src/trace/index.js';
import { createHash } from 'node:crypto';

export function exchange(
  over: {
    id?: number;
    t?: number;
    method?: string;
    uri?: string;
    headers?: [string, string | null][];
    body?: Buffer;
    chunked?: boolean;
    status?: number;
  } = {},
): ExchangeEvent {
  const body = over.body ?? Buffer.alloc(0);
  const headers: [string, string | null][] = over.headers ?? [
    ['host', 'example.test'],
    ['user-agent', 'test'],
    ...(over.chunked === true
      ? ([['Transfer-Encoding', 'chunked']] as [string, string][])
      : ([['content-length', String(body.length)]] as [string, string][])),
  ];
  return {
    event: 'exchange',
    id: over.id ?? 1,
    conn: 1,
    t: over.t ?? 0,
    upstream: '127.0.0.1:8009',
    request: {
      method: over.method ?? (body.length > 0 ? 'POST' : 'GET'),
      protocol: 'HTTP/1.1',
      uri: over.uri ?? '/app/echo.jsp',
      query: null,
      remoteAddr: '10.0.0.7',
      remoteHost: null,
      serverName: 'example.test',
      serverPort: 443,
      isSsl: true,
      headers,
      attributes: { route: 'tomcat1' },
      reqAttributes: [['AJP_REMOTE_PORT', '40000']],
      ...(over.chunked === true ? { chunked: true } : {}),
      body: {
        length: body.length,
        sha256: createHash('sha256').update(body).digest('hex'),
        data: body.toString('base64'),
      },
    },
    response: {
      status: over.status ?? 200,
      message: '200',
      headers: [['Content-Type', 'text/plain']],
      body: { length: 0, sha256: createHash('sha256').digest('hex') },
      reuse: true,
    },
    timing: { headersUs: 1000, endUs: 1200 },
    route: null,
    routeSource: null,
    bodyRequests: 0,
  };
}

export function request(over: Parameters<typeof exchange>[0] = {}): ReplayRequest {
  return toReplayRequest(exchange(over));
}

/** Keeps a copy of every record (the scheduler reuses them). */
export class CollectingSink implements ResultSink {
  readonly records: RequestResult[] = [];
  add(r: RequestResult): void {
    this.records.push({ ...r, verifyHeaders: r.verifyHeaders === null ? null : [...r.verifyHeaders] });
  }
}

/** A raw AJP web-server side: writes frames, collects decoded container messages. */
export class RawAjpPeer {
  readonly messages: ToWebServerMessage[] = [];
  readonly errors: AjpProtocolError[] = [];
  readonly encoder = new AjpEncoder();
  closed = false;
  private readonly decoder = new FrameDecoder({ direction: 'to-web-server', onInvalid: 'stop' });
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.decoder.push(c, {
        frame: (p) => this.messages.push(decodeToWebServer(Buffer.from(p))),
        error: (e) => this.errors.push(e),
      });
      this.poke();
    });
    socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawAjpPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawAjpPeer(s)));
      s.once('error', reject);
    });
  }

  write(...frames: Buffer[]): void {
    for (const f of frames) this.socket.write(f);
  }

  /** Waits until `pred` holds (checked on every arrival), at most `ms`. */
  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${this.messages.map((m) => m.type).join(',')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private poke(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
