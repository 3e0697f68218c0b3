/** Replay targets: `ajp://host:port` or `http://host:port[/prefix]`. */

export interface Target {
  protocol: 'ajp' | 'http';
  host: string;
  port: number;
  /** HTTP only: a path prefix put before every URI (no trailing slash); '' for none. */
  prefix: string;
  /** As given, normalised: ajp://127.0.0.1:8009, http://127.0.0.1:8080/app. */
  label: string;
}

/** Throws RangeError with a message saying what is wrong (the CLI turns it into a usage error). */
export function parseTarget(text: string): Target {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RangeError(`${JSON.stringify(text)} is not a URL: use ajp://host:port or http://host:port[/prefix]`);
  }
  const protocol = url.protocol === 'ajp:' ? 'ajp' : url.protocol === 'http:' ? 'http' : undefined;
  if (protocol === undefined) throw new RangeError(`${JSON.stringify(text)}: the scheme must be ajp:// or http:// (https is not supported)`);
  if (url.hostname === '') throw new RangeError(`${JSON.stringify(text)} has no host`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new RangeError(`${JSON.stringify(text)}: a target has no user, query or fragment`);
  }
  const port = url.port === '' ? (protocol === 'ajp' ? 8009 : 80) : Number(url.port);
  const prefix = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  if (protocol === 'ajp' && prefix !== '') throw new RangeError(`${JSON.stringify(text)}: an ajp:// target takes no path (the trace's URIs are sent as recorded)`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol, host, port, prefix, label: `${protocol}://${url.hostname}:${port}${prefix}` };
}
