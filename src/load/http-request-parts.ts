/**
 * What every HTTP form of a replayed request shares (the lean client's encoder, the undici client,
 * diff's fetcher): the request target as bytes on the wire, which recorded headers are never
 * replayed, and the X-Forwarded-* headers that carry the AJP-only facts (--forwarded).
 */
import type { ReplayRequest } from './replay-request.js';

/** Headers never replayed as recorded: hop-by-hop, or computed from the body by the sender. */
export const SKIPPED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'content-length',
  'expect',
  'http2-settings',
]);

/** The prefix, the URI and the query, with bytes outside printable ASCII percent-encoded. */
export function httpPath(prefix: string, req: ReplayRequest): string {
  const raw = `${prefix}${req.uri ?? '/'}${req.query === null ? '' : `?${req.query}`}`;
  return /[^\x21-\x7e]/.test(raw)
    ? raw.replace(/[^\x21-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    : raw;
}

/** X-Forwarded-For/-Proto/-Host/-Port from the Forward Request's facts; `host` is the recorded Host, if any. */
export function forwardedHeaders(req: ReplayRequest, host: string | null): [string, string][] {
  const out: [string, string][] = [];
  if (req.remoteAddr !== null) out.push(['X-Forwarded-For', req.remoteAddr]);
  out.push(['X-Forwarded-Proto', req.isSsl ? 'https' : 'http']);
  if (host !== null) out.push(['X-Forwarded-Host', host]);
  out.push(['X-Forwarded-Port', String(req.serverPort)]);
  return out;
}

/** The headers to send, flat (name, value, name, value ...) as undici takes them. */
export function httpHeaderList(req: ReplayRequest, forwarded: boolean): string[] {
  const out: string[] = [];
  let host: string | null = null;
  for (const h of req.headers) {
    const lower = h.name.toLowerCase();
    if (h.value === null || SKIPPED_HEADERS.has(lower)) continue;
    if (lower === 'host') host = h.value;
    out.push(h.name, h.value);
  }
  if (forwarded) for (const [name, value] of forwardedHeaders(req, host)) out.push(name, value);
  return out;
}
