/**
 * A one-exchange trace for load without a recording (`fairness` without a trace): a plain GET of
 * one path, written as a trace file so that the replay engine drives it like any other (with
 * --loop it is cycled in memory).
 */
import { createHash } from 'node:crypto';
import { formatHost, formatHostPort, type HostPort } from '../host-port.js';
import { TRACE_FORMAT, TRACE_MINOR_VERSION, TRACE_VERSION, TraceWriter, type ExchangeEvent } from '../trace/index.js';

export interface GeneratedRequest {
  /** Path and query, e.g. /app/echo.jsp?a=1. */
  path: string;
  /** The target: the Host header, server_name and server_port, and the trace's upstream. */
  target: HostPort;
  method?: string;
  isSsl?: boolean;
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');

export function generatedExchange(req: GeneratedRequest): ExchangeEvent {
  const q = req.path.indexOf('?');
  const uri = q < 0 ? req.path : req.path.slice(0, q);
  const query = q < 0 ? null : req.path.slice(q + 1);
  const host = formatHostPort(req.target);
  return {
    event: 'exchange',
    id: 1,
    conn: 1,
    t: 0,
    upstream: host,
    request: {
      method: req.method ?? 'GET',
      protocol: 'HTTP/1.1',
      uri: uri === '' ? '/' : uri,
      query,
      remoteAddr: '127.0.0.1',
      remoteHost: null,
      // As in the Host header: an IPv6 address in its brackets.
      serverName: formatHost(req.target.host),
      serverPort: req.target.port,
      isSsl: req.isSsl === true,
      headers: [
        ['host', host],
        ['user-agent', 'ajpbench'],
        ['accept', '*/*'],
      ],
      attributes: {},
      reqAttributes: [],
      body: { length: 0, sha256: EMPTY_SHA256, data: '' },
    },
    response: { status: 200, message: 'OK', headers: [], body: { length: 0, sha256: EMPTY_SHA256 }, reuse: true },
    timing: { headersUs: 0, endUs: 0 },
    route: null,
    routeSource: null,
    bodyRequests: 0,
  };
}

/** Writes the one-exchange trace to `file` (mode 0600). */
export async function writeGeneratedTrace(file: string, req: GeneratedRequest): Promise<void> {
  const now = Date.now();
  const w = await TraceWriter.create(file, {
    format: TRACE_FORMAT,
    version: TRACE_VERSION,
    minorVersion: TRACE_MINOR_VERSION,
    tool: 'ajpbench (generated workload)',
    source: { kind: 'tap', taps: [] },
    startTime: new Date(now).toISOString(),
    startTimeUs: now * 1000,
    options: { redact: false, bodies: 'request', maxBody: 0 },
  });
  await w.write(generatedExchange(req));
  await w.close();
}
