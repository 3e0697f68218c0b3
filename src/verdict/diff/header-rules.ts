/**
 * Which response headers a comparison looks at, and in what form. By default every header but a
 * list that differs between any two answers by nature (DEFAULT_IGNORED_HEADERS); `--compare-headers`
 * names the only ones compared instead. Session cookies are compared without their session id (two
 * backends never hand out the same one) but with the rest: the route suffix, the path, the flags.
 */
import { sessionKeyOf } from '../../trace/session-sample.js';
import type { HeaderPair } from '../../trace/trace-types.js';

/**
 * Left out unless named: the time of the answer (Date, Expires, Age, Last-Modified is kept: a
 * release that changes it is worth seeing), the transport (hop-by-hop headers and Transfer-Encoding
 * differ between an AJP and an HTTP target of the same application), and Content-Length, which the
 * body comparison covers: it differs exactly when the body's length does, and a body whose
 * difference is noise must not come back as a header difference.
 */
export const DEFAULT_IGNORED_HEADERS: readonly string[] = [
  'date',
  'expires',
  'age',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'proxy-connection',
];

/** Cookie names whose value is a session id (masked, the route suffix kept). */
const SESSION_COOKIE = /^(jsessionid|phpsessid|asp\.net_sessionid|sessionid|session|sid)$/i;

export interface HeaderRules {
  /** Lowercase names compared, and only these; undefined: every header not ignored. */
  only?: readonly string[];
  /** Lowercase names never compared (added to the defaults unless `only` is given). */
  ignore: readonly string[];
}

export function headerRules(opts: { compare?: readonly string[]; ignore?: readonly string[] } = {}): HeaderRules {
  const ignore = [...DEFAULT_IGNORED_HEADERS, ...(opts.ignore ?? []).map((h) => h.toLowerCase())];
  return opts.compare !== undefined && opts.compare.length > 0
    ? { only: opts.compare.map((h) => h.toLowerCase()), ignore: (opts.ignore ?? []).map((h) => h.toLowerCase()) }
    : { ignore };
}

/** The compared headers by lowercase name: every value of a name in order (Set-Cookie sorted), in comparable form. */
export function comparableHeaders(headers: readonly HeaderPair[], rules: HeaderRules): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of rules.only ?? []) out.set(name, []);
  for (const [n, v] of headers) {
    const lower = n.toLowerCase();
    if (rules.ignore.includes(lower)) continue;
    if (rules.only !== undefined && !rules.only.includes(lower)) continue;
    const value = v === null ? '(null)' : lower === 'set-cookie' ? maskSessionCookie(v) : v;
    const list = out.get(lower);
    if (list === undefined) out.set(lower, [value]);
    else list.push(value);
  }
  // Each Set-Cookie sets its own cookie: their order carries no meaning (RFC 6265 §4.1.2), unlike a list header's.
  out.get('set-cookie')?.sort();
  return out;
}

/**
 * `JSESSIONID=9F3A...E1.tomcat1; Path=/app; HttpOnly` → `JSESSIONID={session}.tomcat1; Path=/app; HttpOnly`;
 * an Expires attribute (a date computed from now) becomes `Expires={date}`.
 */
export function maskSessionCookie(value: string): string {
  const semi = value.indexOf(';');
  const pair = semi >= 0 ? value.slice(0, semi) : value;
  const rest = semi >= 0 ? value.slice(semi) : '';
  const eq = pair.indexOf('=');
  let first = pair;
  if (eq > 0 && SESSION_COOKIE.test(pair.slice(0, eq).trim())) {
    const id = pair.slice(eq + 1).trim();
    const route = id.slice(sessionKeyOf(id).length);
    first = `${pair.slice(0, eq)}=${id === '' ? '' : '{session}'}${route}`;
  }
  return first + rest.replace(/(;\s*expires=)[^;]*/gi, '$1{date}');
}
