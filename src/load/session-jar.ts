/**
 * The cookie jar of one replayed session (`--sessions`): the recorded JSESSIONID in the Cookie
 * header and in a `;jsessionid=` path parameter is replaced by the one the target handed out
 * (Set-Cookie in an earlier response of the session), so the target's balancer routes the replay
 * by its own session, as it routed production by the recorded one (§7.3). Before the target has
 * set one, the recorded id is dropped: the request arrives as a new user's, and the balancer picks
 * a worker as it would for one. A recorded id sent as it is would name a session that exists
 * nowhere, with a route that pins it to a worker the replay's own session may not be on.
 *
 * The request is a fresh object each time, without the clients' cached wire forms (`ajpFrame`,
 * `httpHeaders`, `http1Bytes`): the trace's own request is shared by every pass and every session.
 */
import type { AjpHeader } from '../protocol/index.js';
import type { ReplayRequest } from './replay-request.js';
import type { SessionTag } from './request-result.js';

const SESSION_COOKIE = 'JSESSIONID';
const URI_SESSION = /;jsessionid=[^;/?#]*/gi;

/** A Cookie header value with its JSESSIONID set to `id` (the first one; others dropped), or removed when `id` is null; null when nothing is left. */
export function withSessionCookie(cookie: string, id: string | null): string | null {
  const parts = cookie.split(';');
  const out: string[] = [];
  let placed = false;
  let changed = false;
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      changed = true;
      if (id !== null && !placed) out.push(`${SESSION_COOKIE}=${id}`);
      placed = true;
      continue;
    }
    if (part.trim() !== '') out.push(part.trim());
  }
  if (!changed) return cookie;
  return out.length === 0 ? null : out.join('; ');
}

/** A URI with its `;jsessionid=` path parameters set to `id`, or removed when `id` is null. */
export function withUriSession(uri: string, id: string | null): string {
  if (!/;jsessionid=/i.test(uri)) return uri;
  let first = true;
  return uri.replace(URI_SESSION, (m) => {
    const keep = id !== null && first;
    first = false;
    return keep ? `${m.slice(0, ';jsessionid='.length)}${id}` : '';
  });
}

/**
 * The request to send for step `step` of a session whose jar holds `id` (the JSESSIONID value the
 * target set, route included; null before it set one). `readyMs`: when the previous request of the
 * session ended (run clock), for the open-loop schedule.
 */
export function sessionRequest(
  req: ReplayRequest,
  id: string | null,
  tag: SessionTag,
  step: number,
  readyMs: number | undefined,
): ReplayRequest {
  const {
    ajpFrame: _frame,
    ajpFrameOwner: _owner,
    httpHeaders: _http,
    httpHeadersForwarded: _fwd,
    http1Bytes: _bytes,
    http1Key: _key,
    session: _session,
    sessionStep: _step,
    sessionReadyMs: _ready,
    ...plain
  } = req;
  let headers = req.headers;
  if (headers.some(isCookie)) {
    const out: AjpHeader[] = [];
    for (const h of headers) {
      if (!isCookie(h) || h.value === null) {
        out.push(h);
        continue;
      }
      const value = withSessionCookie(h.value, id);
      if (value !== null) out.push(value === h.value ? h : { ...h, value });
    }
    headers = out;
  }
  return {
    ...plain,
    headers,
    uri: req.uri === null ? null : withUriSession(req.uri, id),
    session: tag,
    sessionStep: step,
    ...(readyMs === undefined ? {} : { sessionReadyMs: readyMs }),
  };
}

function isCookie(h: AjpHeader): boolean {
  return h.name.length === 6 && h.name.toLowerCase() === 'cookie';
}
