/**
 * The HTTP/1.1 request bytes of a trace exchange, encoded once and cached on the ReplayRequest (as
 * the AJP client caches its frame), so that a looped trace costs one socket write of a ready
 * Buffer per request: undici writes its request line and headers as strings on every request,
 * which was 9-10% of the HTTP client's CPU profile (writeLatin1String) before this client.
 *
 * The request is the recorded one: method, prefix + URI + query (bytes outside printable ASCII
 * percent-encoded), headers in the recorded order but the hop-by-hop ones and Content-Length
 * (computed here from the body), a Host when the trace had none; with `forwarded`, the AJP-only
 * facts as X-Forwarded-*. Header strings are byte strings (one char per byte): written as latin1.
 */
import { forwardedHeaders, httpPath, SKIPPED_HEADERS } from './http-request-parts.js';
import type { ReplayRequest } from './replay-request.js';

export interface Http1RequestOptions {
  /** Path prefix put before every URI ('' for none). */
  prefix: string;
  forwarded: boolean;
  /** Host header value when the trace has none (host:port of the target). */
  host: string;
}

/** Bodies up to this size are cached in the same Buffer as the head: one write per request. */
const INLINE_BODY_BYTES = 16 * 1024;

/** Methods whose requests carry a Content-Length even with an empty body (as undici and browsers send them). */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export class Http1RequestEncoder {
  /** Cache key on the request: two targets with other prefixes each encode again (a compare of two prefixes). */
  private readonly key: string;

  constructor(private readonly opts: Http1RequestOptions) {
    this.key = `${opts.forwarded ? 'f' : 'n'}${opts.host}\n${opts.prefix}`;
  }

  /**
   * The bytes to write: the head, with the body too when it is small (see bodyApart). The Buffer
   * is the request's cache: never written to.
   */
  encode(req: ReplayRequest): Buffer {
    if (req.http1Key === this.key && req.http1Bytes !== undefined) return req.http1Bytes;
    const head = Buffer.from(this.headText(req), 'latin1');
    const bytes = req.body.length > 0 && req.body.length <= INLINE_BODY_BYTES ? Buffer.concat([head, req.body]) : head;
    req.http1Bytes = bytes;
    req.http1Key = this.key;
    return bytes;
  }

  /** Whether encode()'s bytes leave the body to be written apart (a large body is not copied). */
  static bodyApart(req: ReplayRequest): boolean {
    return req.body.length > INLINE_BODY_BYTES;
  }

  private headText(req: ReplayRequest): string {
    let text = `${req.method} ${this.path(req)} HTTP/1.1\r\n`;
    let host: string | null = null;
    for (const h of req.headers) {
      if (h.value === null) continue;
      const lower = h.name.toLowerCase();
      if (SKIPPED_HEADERS.has(lower)) continue;
      if (lower === 'host') {
        if (host !== null) continue; // one Host only (RFC 9112 §3.2)
        host = h.value;
      }
      text += `${h.name}: ${noNewlines(h.value)}\r\n`;
    }
    if (host === null) text = text.replace(/\r\n/, `\r\nHost: ${this.opts.host}\r\n`);
    if (this.opts.forwarded) for (const [name, value] of forwardedHeaders(req, host)) text += `${name}: ${value}\r\n`;
    if (req.body.length > 0 || PAYLOAD_METHODS.has(req.method)) text += `Content-Length: ${req.body.length}\r\n`;
    return `${text}\r\n`;
  }

  private path(req: ReplayRequest): string {
    return httpPath(this.opts.prefix, req);
  }
}

/** A recorded value never splits the request: CR and LF (which no valid header holds) become spaces. */
function noNewlines(v: string): string {
  return /[\r\n]/.test(v) ? v.replace(/[\r\n]/g, ' ') : v;
}
