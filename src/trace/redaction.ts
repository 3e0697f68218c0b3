/**
 * Redaction of what production traces must not carry: credentials and session or cookie values.
 * The `.route` suffix of a JSESSIONID survives, because sticky routing replays on it. The session
 * itself becomes a pseudonym, `REDACTED-` and 16 hex digits of the SHA-256 of the id: it cannot be
 * sent back as a session (nor turned back into one: Tomcat's ids hold 128 random bits), yet each
 * user session stays apart, so `replay --sessions`, `filter --sample` by session and the mirror's
 * sampling work on redacted traces. Unsalted, so one session seen by two taps reads the same in both.
 */
import { createHash } from 'node:crypto';
import { routeOfSessionId } from './session-route.js';
import type { HeaderPair } from './trace-types.js';

export const REDACTED = 'REDACTED';

const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization']);
const COOKIE_HEADERS = new Set(['cookie', 'cookie2']);
const SET_COOKIE_HEADERS = new Set(['set-cookie', 'set-cookie2']);

/** The pseudonym of a session id (its route suffix excluded), `REDACTED-` and 16 hex digits. */
export function sessionPseudonym(id: string): string {
  const dot = id.indexOf('.');
  const session = dot >= 0 ? id.slice(0, dot) : id;
  // Already redacted (a trace redacted again: HAR import, filter): it stays as it is.
  if (session === REDACTED || /^REDACTED-[0-9a-f]{16}$/.test(session)) return session;
  return `${REDACTED}-${createHash('sha256').update(session, 'latin1').digest('hex').slice(0, 16)}`;
}

/** A cookie or session value replaced; a JSESSIONID by its pseudonym, keeping its route suffix. */
function redactValue(name: string, value: string): string {
  if (name.trim().toUpperCase() === 'JSESSIONID') {
    const id = value.trim();
    if (id === '') return REDACTED;
    const route = routeOfSessionId(id);
    return route === null ? sessionPseudonym(id) : `${sessionPseudonym(id)}.${route}`;
  }
  return REDACTED;
}

/** `a=1; JSESSIONID=x.r` → `a=REDACTED; JSESSIONID=REDACTED-<16 hex>.r` */
export function redactCookieHeader(cookie: string): string {
  return cookie
    .split(';')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      return `${part.slice(0, eq + 1)}${redactValue(part.slice(0, eq), part.slice(eq + 1))}`;
    })
    .join(';');
}

/** `JSESSIONID=x.r; Path=/; HttpOnly` → `JSESSIONID=REDACTED-<16 hex>.r; Path=/; HttpOnly` */
export function redactSetCookie(setCookie: string): string {
  const semi = setCookie.indexOf(';');
  const first = semi < 0 ? setCookie : setCookie.slice(0, semi);
  const rest = semi < 0 ? '' : setCookie.slice(semi);
  const eq = first.indexOf('=');
  if (eq < 0) return setCookie;
  return `${first.slice(0, eq + 1)}${redactValue(first.slice(0, eq), first.slice(eq + 1))}${rest}`;
}

/** `;jsessionid=x.r` path parameters in a URI. */
export function redactUri(uri: string | null): string | null {
  if (uri === null || !/;jsessionid=/i.test(uri)) return uri;
  return uri.replace(
    /(;jsessionid=)([^;/?#]*)/gi,
    (_m, p: string, id: string) => `${p}${redactValue('JSESSIONID', id)}`,
  );
}

export function redactHeaders(headers: readonly HeaderPair[]): HeaderPair[] {
  return headers.map(([name, value]): HeaderPair => {
    if (value === null) return [name, value];
    const lower = name.toLowerCase();
    if (CREDENTIAL_HEADERS.has(lower)) return [name, REDACTED];
    if (COOKIE_HEADERS.has(lower)) return [name, redactCookieHeader(value)];
    if (SET_COOKIE_HEADERS.has(lower)) return [name, redactSetCookie(value)];
    return [name, value];
  });
}
