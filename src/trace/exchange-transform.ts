/**
 * The transforms of `ajpbench filter`, compiled once into one function over exchange and incomplete
 * events. Each returns a changed copy and never touches the event it was given. Order: the URI is
 * rewritten, headers dropped, set, then redacted, the query redacted, bodies dropped; the route is
 * then found again, since a changed Cookie or `;jsessionid=` can change it.
 */
import { UsageError } from '../errors.js';
import type { FilterSpec } from './filter-spec.js';
import { REDACTED } from './redaction.js';
import { findRoute } from './session-route.js';
import { toWireString } from './trace-strings.js';
import { parseSubstitution } from './uri-match.js';
import type { ExchangeEvent, HeaderPair, IncompleteEvent, TraceBody, TraceRequest } from './trace-types.js';

type RequestEvent = ExchangeEvent | IncompleteEvent;
type RequestStep = (r: TraceRequest, byteStrings: boolean) => TraceRequest;
type HeadersStep = (h: HeaderPair[]) => HeaderPair[];
type HeaderSteps = [drop: HeadersStep | undefined, redact: HeadersStep | undefined];

export interface EventTransform {
  /** True when nothing is to be changed (events pass through as they are). */
  readonly identity: boolean;
  apply(e: RequestEvent): RequestEvent;
}

export function compileTransform(spec: FilterSpec): EventTransform {
  const headerSteps = headerStepsOf(spec);
  const requestSteps = requestStepsOf(spec, headerSteps);
  const dropBodies = spec.dropBodies === true;
  const identity = requestSteps.length === 0 && !dropBodies;
  const [drop, redact] = headerSteps;
  const responseHeaders = (h: HeaderPair[]): HeaderPair[] => {
    const kept = drop === undefined ? h : drop(h);
    return redact === undefined ? kept : redact(kept);
  };
  return {
    identity,
    apply(e: RequestEvent): RequestEvent {
      if (identity) return e;
      const byteStrings = e.byteStrings === true;
      let request = e.request;
      if (request !== null) {
        request = requestSteps.reduce((r, step) => step(r, byteStrings), request);
        if (dropBodies) request = { ...request, body: withoutData(request.body) };
      }
      if (e.event === 'incomplete') return { ...e, request };
      let response = { ...e.response, headers: responseHeaders(e.response.headers) };
      if (dropBodies) response = { ...response, body: withoutData(response.body) };
      const req = request ?? e.request;
      const route = findRoute(req.headers, req.uri, response.headers, stringOrNull(req.attributes.route));
      return { ...e, request: req, response, route: route.route, routeSource: route.routeSource };
    },
  };
}

/** Request steps in order: the URI rewritten, headers dropped, set, redacted, the query redacted. */
function requestStepsOf(spec: FilterSpec, headerSteps: HeaderSteps): RequestStep[] {
  const steps: RequestStep[] = [];
  for (const expr of spec.rewriteUri ?? []) {
    const { pattern, replacement } = parseSubstitution(expr);
    steps.push((r) => (r.uri === null ? r : { ...r, uri: r.uri.replace(pattern, replacement) }));
  }
  const [drop, redact] = headerSteps;
  if (drop !== undefined) steps.push((r) => ({ ...r, headers: drop(r.headers) }));
  for (const [name, value] of spec.setHeader ?? []) steps.push(setHeaderStep(name, value));
  if (redact !== undefined) steps.push((r) => ({ ...r, headers: redact(r.headers) }));
  if (spec.redactQuery !== undefined) {
    const params = new Set(spec.redactQuery);
    steps.push((r) => (r.query === null ? r : { ...r, query: redactQuery(r.query, params) }));
  }
  return steps;
}

/** [drop, redact] over a list of headers (request and response), each undefined when not asked for. */
function headerStepsOf(spec: FilterSpec): HeaderSteps {
  const drop = spec.dropHeader === undefined ? undefined : new Set(spec.dropHeader.map((n) => n.toLowerCase()));
  const redact = spec.redactHeader === undefined ? undefined : new Set(spec.redactHeader.map((n) => n.toLowerCase()));
  return [
    drop === undefined ? undefined : (h) => h.filter(([n]) => !drop.has(n.toLowerCase())),
    redact === undefined
      ? undefined
      : (h) => h.map(([n, v]): HeaderPair => (redact.has(n.toLowerCase()) && v !== null ? [n, REDACTED] : [n, v])),
  ];
}

/**
 * The header set where the first header of that name was (its wire spelling kept), the others of the
 * name removed; appended when there was none. The value is text; an exchange of byte strings gets its bytes.
 */
function setHeaderStep(name: string, value: string): RequestStep {
  if (name.trim() === '' || /[\r\n:]/.test(name))
    throw new UsageError(`--set-header takes 'Name: value', got the name ${JSON.stringify(name)}`);
  const lower = name.toLowerCase();
  return (r, byteStrings) => {
    const v = byteStrings ? toWireString(value, false) : value;
    const headers: HeaderPair[] = [];
    let set = false;
    for (const [n, old] of r.headers) {
      if (n.toLowerCase() !== lower) headers.push([n, old]);
      else if (!set) {
        headers.push([n, v]);
        set = true;
      }
    }
    if (!set) headers.push([name, v]);
    return { ...r, headers };
  };
}

/** `a=1&token=x&b` → `a=1&token=REDACTED&b` for the parameter `token` (names compared as sent, not decoded). */
export function redactQuery(query: string, params: ReadonlySet<string>): string {
  return query
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      return params.has(name) || params.has(safeDecode(name)) ? `${name}=${REDACTED}` : part;
    })
    .join('&');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function withoutData(body: TraceBody): TraceBody {
  if (body.data === undefined) return body;
  const { data: _data, ...rest } = body;
  return rest;
}

function stringOrNull(v: string | number | null | undefined): string | null {
  return typeof v === 'string' ? v : null;
}
