/** What the load engine reads from response headers: the backend route and the --verify headers. */
import { routeOfSessionId, sessionIdInSetCookie } from '../trace/index.js';
import type { ClientOptions } from './load-client.js';
import type { RequestResult } from './request-result.js';

/**
 * Notes one response header on the result. `lower` is the lowercase name. The route comes from a
 * JSESSIONID Set-Cookie (§7.3: the text after the first '.'), which wins over the route header.
 */
export function noteResponseHeader(rec: RequestResult, lower: string, value: string | null, opts: ClientOptions): void {
  if (value === null) return;
  if (lower === 'set-cookie') {
    const id = sessionIdInSetCookie(value);
    if (id === undefined) return noteVerifyHeader(rec, lower, value, opts);
    // The session cookie jar of --sessions (load/session-jar.ts) follows what the target hands out.
    rec.sessionCookie = id;
    const route = routeOfSessionId(id);
    if (route !== null) rec.route = route;
  } else if (lower === opts.routeHeader && rec.route === null) {
    rec.route = value;
  }
  noteVerifyHeader(rec, lower, value, opts);
}

function noteVerifyHeader(rec: RequestResult, lower: string, value: string, opts: ClientOptions): void {
  const v = opts.verify;
  if (v !== undefined) {
    const i = v.headers.indexOf(lower);
    if (i >= 0) {
      const vals = (rec.verifyHeaders ??= v.headers.map(() => null));
      const prev = vals[i];
      vals[i] = prev === null || prev === undefined ? value : `${prev}\n${value}`;
    }
  }
}

/** Once all headers are noted: a header the route header named but Set-Cookie overrode is fine; fill verify slots. */
export function finishResponseHeaders(rec: RequestResult, opts: ClientOptions): void {
  if (opts.verify !== undefined && rec.verifyHeaders === null) rec.verifyHeaders = opts.verify.headers.map(() => null);
}
