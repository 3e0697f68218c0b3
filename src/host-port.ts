/**
 * TCP endpoints as ajpbench reads and writes them: one grammar for every flag that names one
 * (--listen, --upstream, --tap, the address inside --target's URL) and one text form for labels,
 * trace endpoints and messages.
 *
 * Read: `host:port`, `[ipv6]:port` (an IPv6 address goes in brackets, as in a URL: RFC 3986
 * §3.2.2; a zone as `[fe80::1%eth0]:8009`), or a bare `port`, meaning 127.0.0.1. A host is a name
 * or an IPv4 address: letters, digits, `.`, `-` and `_` (Docker and Compose service names carry
 * underscores). Written: `host:port`, and `[ipv6]:port` for any host with a colon.
 *
 * A leaf module (it imports only the error classes), so every layer may use it.
 */
import { UsageError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** The ports a socket connects to; a listener may also take 0 (the system picks a free port). */
export const MIN_PORT = 1;
export const MAX_PORT = 65_535;

/** Where a bare port listens or connects. */
export const DEFAULT_HOST = '127.0.0.1';

export interface PortOptions {
  /** Accept port 0: a listen address, where 0 picks a free port. */
  allowZeroPort?: boolean;
}

/** `127.0.0.1:8009`, `[::1]:8009`. */
export function formatHostPort(a: HostPort): string {
  return joinHostPort(a.host, a.port);
}

/** formatHostPort for a host and port held apart: no object to build (the pcap flow table calls it per packet). */
export function joinHostPort(host: string, port: number): string {
  return `${formatHost(host)}:${port}`;
}

/** The host as an authority (a URL, a Host header) writes it: `::1` is `[::1]`. */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `ajp://127.0.0.1:8009`, `http://[::1]:8080/app`: `path` (empty, or starting with `/`) follows the authority. */
export function formatHostPortUrl(scheme: string, a: HostPort, path = ''): string {
  return `${scheme}://${joinHostPort(a.host, a.port)}${path}`;
}

/** `port 0 is out of range: 1 to 65535`, with why 0 is allowed where it is. */
function portRange(port: number | string, zero: boolean): string {
  return `port ${port} is out of range: ${zero ? `0 to ${MAX_PORT} (0 picks a free port)` : `${MIN_PORT} to ${MAX_PORT}`}`;
}

/**
 * A whole number from 1 to 65535 (from 0 with `allowZeroPort`), or a UsageError
 * (AJPBENCH_ERR_TARGET) naming `what`: `"ajp://h:0": port 0 is out of range: 1 to 65535`.
 */
export function checkPort(port: number, what: string, opts: PortOptions = {}): number {
  const zero = opts.allowZeroPort === true;
  if (!Number.isInteger(port) || port < (zero ? 0 : MIN_PORT) || port > MAX_PORT)
    throw new UsageError(`${what}: ${portRange(port, zero)}`, 'AJPBENCH_ERR_TARGET');
  return port;
}

const BRACKETED = /^\[([0-9a-f:.]+(?:%[\w.-]+)?)\]:(\d+)$/i;
const HOST = /^[a-z0-9._-]+$/i;

/**
 * Reads `host:port`, `[ipv6]:port` or a bare port (127.0.0.1; see the module comment). Anything
 * else is a UsageError (AJPBENCH_ERR_TARGET) naming `flag`, the forms it takes and `text`, and
 * saying what is wrong: `--upstream takes host:port, [ipv6]:port or a bare port, got "x:0": port 0
 * is out of range: 1 to 65535`.
 */
export function parseHostPort(text: string, flag: string, opts: PortOptions = {}): HostPort {
  const zero = opts.allowZeroPort === true;
  const bad = (why: string): UsageError =>
    new UsageError(
      `${flag} takes host:port, [ipv6]:port or a bare port, got ${JSON.stringify(text)}${why === '' ? '' : `: ${why}`}`,
      'AJPBENCH_ERR_TARGET',
    );
  const v = text.trim();
  let host = DEFAULT_HOST;
  let port = v;
  const v6 = BRACKETED.exec(v);
  if (v6 !== null) {
    host = v6[1] as string;
    port = v6[2] as string;
  } else if (!/^\d+$/.test(v)) {
    const i = v.lastIndexOf(':');
    host = i > 0 ? v.slice(0, i) : '';
    port = i > 0 ? v.slice(i + 1) : '';
    if (host === '' || !/^\d+$/.test(port) || host.includes('[') || host.includes(']')) throw bad('');
    if (host.includes(':') || !HOST.test(host))
      throw bad(`${JSON.stringify(host)} is not a host name or address (an IPv6 address goes in brackets: [::1]:8009)`);
  }
  const n = Number(port);
  if (n < (zero ? 0 : MIN_PORT) || n > MAX_PORT) throw bad(portRange(port, zero));
  return { host, port: n };
}
