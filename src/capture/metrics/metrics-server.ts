/**
 * The `/metrics` HTTP endpoint (node:http): GET or HEAD /metrics answers the scrape's text and
 * Content-Type, any other path 404, any other method 405. A scrape that fails answers 500 with
 * one line and never reaches the tap: the endpoint is a window on the monitor, not part of the
 * forwarding. close() ends idle keep-alive scrapers' connections too, so a stop is not held up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHostPort, type HostPort } from '../../host-port.js';
import { TapListenError } from '../tap-errors.js';
import { listenProblem } from '../tap-proxy.js';

export const METRICS_PATH = '/metrics';

export interface Scrape {
  contentType: string;
  body: string;
}

export class MetricsServer {
  private constructor(
    private readonly server: Server,
    private readonly bound: HostPort,
  ) {}

  /** Listens on `listen` (port 0: a free one). Rejects with a TapListenError (in use, not local, no permission). */
  static async start(listen: HostPort, scrape: () => Promise<Scrape>): Promise<MetricsServer> {
    const server = createServer((req, res) => void answer(req, res, scrape));
    // Slow or stuck scrapers cannot hold sockets for long.
    server.requestTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = formatHostPort(listen);
        reject(new TapListenError(`cannot listen on ${where} for --metrics: ${listenProblem(err)}`, err.code, where));
      });
      server.listen({ host: listen.host, port: listen.port }, () => resolve());
    });
    server.on('error', () => undefined); // after listening, a server error is a client's; never the tap's
    const a = server.address() as AddressInfo;
    return new MetricsServer(server, { host: listen.host, port: a.port });
  }

  /** The bound address (the port chosen when 0 was given). */
  address(): HostPort {
    return this.bound;
  }

  get url(): string {
    return `http://${formatHostPort(this.bound)}${METRICS_PATH}`;
  }

  /** Stops listening and closes every connection, idle or not. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, scrape: () => Promise<Scrape>): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== METRICS_PATH) return plain(res, 404, `not found: the metrics are at ${METRICS_PATH}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, 'method not allowed\n');
  }
  let s: Scrape;
  try {
    s = await scrape();
  } catch (e) {
    return plain(res, 500, `the metrics could not be collected: ${e instanceof Error ? e.message : String(e)}\n`);
  }
  res.writeHead(200, { 'Content-Type': s.contentType, 'Content-Length': Buffer.byteLength(s.body) });
  res.end(req.method === 'HEAD' ? undefined : s.body);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
