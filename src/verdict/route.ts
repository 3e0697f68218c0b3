/** The backend route in a Set-Cookie: the jvmRoute suffix of JSESSIONID (§7.3, src/trace/session-route.ts). */
import { routeOfSessionId, sessionIdInSetCookie } from '../trace/session-route.js';

export function routeFromSetCookie(setCookie: string): { route: string; cookie: string } | null {
  const id = sessionIdInSetCookie(setCookie);
  const route = id === undefined ? null : routeOfSessionId(id);
  return id === undefined || route === null ? null : { route, cookie: `JSESSIONID=${id}` };
}
