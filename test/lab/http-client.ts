/** A tiny HTTP/1.1 client on node:http, so tests control method, header order, and chunked bodies exactly. */
import { request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpOptions {
  method?: string;
  headers?: [string, string][];
  /** A Buffer goes with Content-Length; an array of Buffers goes chunked, one chunk each. */
  body?: Buffer | Buffer[];
  timeoutMs?: number;
}

export function httpRequest(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    // With headers as a flat array (to keep their order) node:http adds no Host: add it first, as curl does.
    const headers = ['Host', new URL(url).host, ...(opts.headers?.flat() ?? [])];
    if (Buffer.isBuffer(opts.body)) headers.push('Content-Length', String(opts.body.length));
    else if (Array.isArray(opts.body)) headers.push('Transfer-Encoding', 'chunked');
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers, agent: false, timeout: opts.timeoutMs ?? 15_000 },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${opts.timeoutMs ?? 15_000} ms`)));
    req.on('error', reject);
    if (Buffer.isBuffer(opts.body)) req.end(opts.body);
    else if (Array.isArray(opts.body)) {
      for (const chunk of opts.body) req.write(chunk);
      req.end();
    } else req.end();
  });
}
