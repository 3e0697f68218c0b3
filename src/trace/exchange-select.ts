/**
 * The selectors of `ajpbench filter` compiled into one predicate per event. Request-level selectors
 * (URI, method, status, latency, headers) judge exchange and incomplete events; the others (connection,
 * worker, time) judge every event that carries the field. A connection, CPing, error or dropped event
 * is kept only when every selector given can judge it: once requests are selected, they would
 * describe traffic no longer in the trace.
 */
import { UsageError } from '../errors.js';
import type { FilterSpec } from './filter-spec.js';
import { globToRegExp, userRegExp } from './uri-match.js';
import type { ExchangeEvent, IncompleteEvent, TraceEvent } from './trace-types.js';

type Check<E> = (e: E) => boolean;

export interface EventSelector {
  /** Whether the event passes every selector given. */
  keeps(e: TraceEvent): boolean;
}

/** `window`: from (inclusive) and to (exclusive), microseconds from the input's start (trace-filter.ts resolves them). */
export function compileSelector(spec: FilterSpec, window: { fromUs?: number; toUs?: number }): EventSelector {
  const request = requestChecks(spec);
  const exchangeOnly = exchangeChecks(spec);
  const requestLevel = request.length > 0 || exchangeOnly.length > 0 || spec.exchangesOnly === true;
  const conns = spec.conn === undefined ? undefined : new Set(spec.conn);
  const workers = spec.worker === undefined ? undefined : new Set(spec.worker);
  const { fromUs, toUs } = window;
  return {
    keeps(e) {
      if (fromUs !== undefined && e.t < fromUs) return false;
      if (toUs !== undefined && e.t >= toUs) return false;
      if (conns !== undefined && !('conn' in e && e.conn !== undefined && conns.has(e.conn))) return false;
      if (workers !== undefined && !('worker' in e && e.worker !== undefined && workers.has(e.worker))) return false;
      if (e.event === 'exchange') return request.every((c) => c(e)) && exchangeOnly.every((c) => c(e));
      if (e.event === 'incomplete') return exchangeOnly.length === 0 && request.every((c) => c(e));
      return !requestLevel;
    },
  };
}

/** Checks that judge an exchange or an incomplete event by its request (a null request fails them). */
function requestChecks(spec: FilterSpec): Check<ExchangeEvent | IncompleteEvent>[] {
  const checks: Check<ExchangeEvent | IncompleteEvent>[] = [];
  const uri = (e: ExchangeEvent | IncompleteEvent): string | null => e.request?.uri ?? null;
  // Globs see the path as Tomcat maps it, without `;name=value` path parameters (`;jsessionid=`);
  // regular expressions see the URI as it travelled.
  const path = (e: ExchangeEvent | IncompleteEvent): string | null => uri(e)?.replace(/;[^/]*/g, '') ?? null;
  if (spec.uri !== undefined || spec.uriRegex !== undefined) {
    const globs = (spec.uri ?? []).map(globToRegExp);
    const res = (spec.uriRegex ?? []).map((r) => userRegExp(r, '--uri-regex'));
    checks.push((e) => {
      const p = path(e);
      const u = uri(e);
      return (p !== null && globs.some((re) => re.test(p))) || (u !== null && res.some((re) => re.test(u)));
    });
  }
  if (spec.notUri !== undefined) {
    const res = spec.notUri.map(globToRegExp);
    checks.push((e) => {
      const p = path(e);
      return p === null || !res.some((re) => re.test(p));
    });
  }
  if (spec.method !== undefined) {
    const methods = new Set(spec.method.map((m) => m.toUpperCase()));
    checks.push((e) => e.request !== null && methods.has(e.request.method.toUpperCase()));
  }
  if (spec.hasHeader !== undefined) {
    const names = spec.hasHeader.map((n) => n.toLowerCase());
    checks.push((e) => {
      const r = e.request;
      return r !== null && names.every((n) => r.headers.some(([h]) => h.toLowerCase() === n));
    });
  }
  if (spec.status !== undefined) {
    const match = statusMatcher(spec.status);
    checks.push((e) => {
      const s = e.event === 'exchange' ? e.response.status : e.status;
      return s !== null && match(s);
    });
  }
  return checks;
}

/** Checks only a whole exchange can pass (an incomplete one has no end time). */
function exchangeChecks(spec: FilterSpec): Check<ExchangeEvent>[] {
  const checks: Check<ExchangeEvent>[] = [];
  const { minLatencyUs: min, maxLatencyUs: max } = spec;
  if (min !== undefined) checks.push((e) => e.timing.endUs >= min);
  if (max !== undefined) checks.push((e) => e.timing.endUs <= max);
  return checks;
}

/** `2xx`, `404`, `4xx,503`: classes and codes. */
export function statusMatcher(items: readonly string[]): (status: number) => boolean {
  const codes = new Set<number>();
  const classes = new Set<number>();
  for (const item of items) {
    const s = item.trim().toLowerCase();
    if (/^[1-5]xx$/.test(s)) classes.add(Number(s[0]));
    else if (/^\d{3}$/.test(s)) codes.add(Number(s));
    else throw new UsageError(`--status takes codes and classes such as 404 or 2xx, got ${JSON.stringify(item)}`);
  }
  return (status) => codes.has(status) || classes.has(Math.floor(status / 100));
}
