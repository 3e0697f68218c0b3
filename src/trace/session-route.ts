/**
 * The backend route of an exchange, as a balancer sees it (§7.3): the text after the first '.' of
 * the session id. mod_jk reads the `;jsessionid=` path parameter first, then the JSESSIONID cookie.
 */
import type { HeaderPair, RouteSource } from './trace-types.js';

const SESSION_COOKIE = 'JSESSIONID';

/** The route suffix of a session id, or null when it has none. */
export function routeOfSessionId(id: string): string | null {
  const dot = id.indexOf('.');
  return dot >= 0 && dot < id.length - 1 ? id.slice(dot + 1) : null;
}

/** Session ids in a Cookie header value (`a=1; JSESSIONID=x.r`), in order. */
export function sessionIdsInCookie(cookie: string): string[] {
  const ids: string[] = [];
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) ids.push(part.slice(eq + 1).trim());
  }
  return ids;
}

/** The session id a Set-Cookie value sets, if it sets JSESSIONID. */
export function sessionIdInSetCookie(setCookie: string): string | undefined {
  const first = setCookie.split(';', 1)[0] ?? '';
  const eq = first.indexOf('=');
  return eq > 0 && first.slice(0, eq).trim() === SESSION_COOKIE ? first.slice(eq + 1).trim() : undefined;
}

/** `;jsessionid=` path parameter in a request URI. */
export function sessionIdInUri(uri: string | null): string | undefined {
  if (uri === null) return undefined;
  const m = /;jsessionid=([^;/?#]*)/i.exec(uri);
  return m?.[1];
}

export interface FoundRoute {
  route: string | null;
  routeSource: RouteSource | null;
}

export function findRoute(
  requestHeaders: readonly HeaderPair[],
  uri: string | null,
  responseHeaders: readonly HeaderPair[],
  routeAttribute: string | null | undefined,
): FoundRoute {
  for (const [name, value] of responseHeaders) {
    if (value === null || name.toLowerCase() !== 'set-cookie') continue;
    const id = sessionIdInSetCookie(value);
    const route = id === undefined ? null : routeOfSessionId(id);
    if (route !== null) return { route, routeSource: 'set-cookie' };
  }
  const fromUri = sessionIdInUri(uri);
  const candidates = fromUri === undefined ? [] : [fromUri];
  for (const [name, value] of requestHeaders) {
    if (value !== null && name.toLowerCase() === 'cookie') candidates.push(...sessionIdsInCookie(value));
  }
  for (const id of candidates) {
    const route = routeOfSessionId(id);
    if (route !== null) return { route, routeSource: 'cookie' };
  }
  if (routeAttribute !== undefined && routeAttribute !== null && routeAttribute !== '') {
    return { route: routeAttribute, routeSource: 'attribute' };
  }
  return { route: null, routeSource: null };
}
