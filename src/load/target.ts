/** Replay targets: `ajp://host:port` or `http://host:port[/prefix]`. */
import { UsageError } from '../errors.js';
import { checkPort, formatHostPortUrl, type HostPort } from '../host-port.js';

export interface Target extends HostPort {
  protocol: 'ajp' | 'http';
  /** HTTP only: a path prefix put before every URI (no trailing slash); '' for none. */
  prefix: string;
  /** As given, normalised: ajp://127.0.0.1:8009, http://127.0.0.1:8080/app. */
  label: string;
}

function bad(text: string, why: string): UsageError {
  return new UsageError(`${JSON.stringify(text)}${why}`, 'AJPBENCH_ERR_TARGET');
}

/** Throws a UsageError (code AJPBENCH_ERR_TARGET) saying what is wrong. */
export function parseTarget(text: string): Target {
  // The URL parser refuses a port above 65535 as "not a URL"; say what is wrong with it instead.
  const written = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/?#:@]*):(\d+)(?:[/?#]|$)/i.exec(text.trim());
  if (written !== null) checkPort(Number(written[1]), JSON.stringify(text));
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw bad(text, ' is not a URL: use ajp://host:port or http://host:port[/prefix]');
  }
  const protocol = url.protocol === 'ajp:' ? 'ajp' : url.protocol === 'http:' ? 'http' : undefined;
  if (protocol === undefined) throw bad(text, ': the scheme must be ajp:// or http:// (https is not supported)');
  if (url.hostname === '') throw bad(text, ' has no host');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
    throw bad(text, ': a target has no user, query or fragment');
  const port = checkPort(url.port === '' ? (protocol === 'ajp' ? 8009 : 80) : Number(url.port), JSON.stringify(text));
  const prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  if (protocol === 'ajp' && prefix !== '')
    throw bad(text, ": an ajp:// target takes no path (the trace's URIs are sent as recorded)");
  // The URL keeps an IPv6 host in its brackets; a HostPort holds the bare address.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol, host, port, prefix, label: formatHostPortUrl(protocol, { host, port }, prefix) };
}
