/**
 * A fixed mix of requests that exercises every AJP message and field real peers produce:
 * coded and string headers, query strings, a long header, small, multi-packet and chunked
 * request bodies, stored methods, HEAD, redirects with Set-Cookie, sessions, multi-packet
 * responses, and the secret attribute. Sent through mod_jk and mod_proxy_ajp.
 */
import { createHash } from 'node:crypto';
import type { ExchangeEvent } from '../../src/trace/index.js';
import type { FrontEndName, LabState } from './lab.js';
import { httpRequest, type HttpResult } from './http-client.js';

/** A front end of the lab by name, or one outside the fixed set (httpd's `mod_jk+tap` vhost over ajpbench taps). */
export type TrafficFrontEnd = FrontEndName | 'jkTap';

/** One request as the client saw it: the ground truth a trace of the same traffic must match. */
export interface SentRequest {
  frontEnd: TrafficFrontEnd;
  method: string;
  path: string;
  status: number;
  /** SHA-256 of the request body sent (of the de-chunked bytes for a chunked one). */
  requestSha256: string;
  requestLength: number;
  /** SHA-256 and length of the response body received. */
  responseSha256: string;
  responseLength: number;
  /** The X-Served-By response header (tomcat1 or tomcat2): which Tomcat answered. */
  servedBy?: string;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const AJP_FRONT_ENDS: FrontEndName[] = ['jk', 'proxyAjp', 'jkSecret', 'proxyAjpSecret'];

/**
 * The mix, once through each target: by default every AJP front end of the lab; `targets` names
 * others (e.g. `[{ frontEnd: 'jkTap', baseUrl: 'http://127.0.0.1:' + lab.ports.httpdJkTap }]`).
 */
export async function driveMixedTraffic(
  lab: LabState,
  targets?: readonly { frontEnd: TrafficFrontEnd; baseUrl: string }[],
): Promise<SentRequest[]> {
  const sent: SentRequest[] = [];
  const longValue = 'v'.repeat(300); // past tshark's 240-byte display limit
  const bigBody = Buffer.alloc(20_000, 'b'); // three request body packets
  for (const { frontEnd, baseUrl: base } of targets ??
    AJP_FRONT_ENDS.map((f) => ({ frontEnd: f, baseUrl: lab.frontends[f].baseUrl }))) {
    const go = async (
      method: string,
      path: string,
      opts: Parameters<typeof httpRequest>[1] = {},
    ): Promise<HttpResult> => {
      const res = await httpRequest(base + path, { method, ...opts });
      const body = opts.body === undefined ? Buffer.alloc(0) : Buffer.concat([opts.body].flat());
      sent.push({
        frontEnd,
        method,
        path,
        status: res.status,
        requestSha256: sha256(body),
        requestLength: body.length,
        responseSha256: sha256(res.body),
        responseLength: res.body.length,
        ...(typeof res.headers['x-served-by'] === 'string' ? { servedBy: res.headers['x-served-by'] } : {}),
      });
      return res;
    };
    await go('GET', `${lab.paths.echo}?a=1&b=two`, {
      headers: [
        ['Accept', 'text/html'],
        ['Accept-Language', 'de-DE,de;q=0.9'],
        ['Accept-Encoding', 'gzip'],
        ['Authorization', 'Basic dXNlcjpwYXNz'],
        ['Cookie', 'theme=dark'],
        ['Referer', 'http://example.test/'],
        ['X-Long', longValue],
        ['X-Multi', 'one'],
      ],
    });
    await go('POST', lab.paths.echo, { headers: [['Content-Type', 'text/plain']], body: Buffer.from('hello=world') });
    await go('POST', lab.paths.echo, { headers: [['Content-Type', 'application/octet-stream']], body: bigBody });
    await go('POST', lab.paths.echo, {
      headers: [['Content-Type', 'text/plain']],
      body: [Buffer.from('chunk-one;'), Buffer.from('chunk-two')],
    });
    await go('PATCH', lab.paths.echo, { body: Buffer.from('{"op":"x"}') });
    await go('HEAD', lab.paths.echo);
    await go('GET', `${lab.paths.status}?code=302`);
    await go('GET', `${lab.paths.status}?code=204`);
    const session = await go('GET', lab.paths.session);
    const cookie = [session.headers['set-cookie']]
      .flat()
      .find((c) => c?.startsWith('JSESSIONID='))
      ?.split(';')[0];
    if (cookie !== undefined) await go('GET', lab.paths.session, { headers: [['Cookie', cookie]] });
    await go('GET', `${lab.paths.large}?size=20000`);
  }
  return sent;
}

/**
 * Differences between the exchanges of a trace and the requests that made them, taken in the
 * same order (the requests went one after another). Empty when every request is in the trace
 * as an exchange with its method, URI and query, status and both body hashes.
 */
export function traceMismatches(exchanges: readonly ExchangeEvent[], sent: readonly SentRequest[]): string[] {
  const diffs: string[] = [];
  if (exchanges.length !== sent.length)
    diffs.push(`${exchanges.length} exchanges in the trace for ${sent.length} requests sent`);
  const ordered = [...exchanges].sort((a, b) => a.t - b.t);
  sent.forEach((s, i) => {
    const x = ordered[i];
    if (x === undefined) return;
    const [path, query = null] = s.path.split('?');
    const got = {
      method: x.request.method,
      uri: x.request.uri,
      query: x.request.query,
      status: x.response.status,
      requestSha256: x.request.body.sha256,
      requestLength: x.request.body.length,
      // httpd sends no body for HEAD; Tomcat may still have produced one, which the trace keeps.
      ...(s.method === 'HEAD'
        ? {}
        : { responseSha256: x.response.body.sha256, responseLength: x.response.body.length }),
    };
    const want = {
      method: s.method,
      uri: path,
      query,
      status: s.status,
      requestSha256: s.requestSha256,
      requestLength: s.requestLength,
      ...(s.method === 'HEAD' ? {} : { responseSha256: s.responseSha256, responseLength: s.responseLength }),
    };
    for (const k of Object.keys(want) as (keyof typeof want)[]) {
      if (got[k] !== want[k])
        diffs.push(
          `request ${i} (${s.frontEnd} ${s.method} ${s.path}): ${k} is ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`,
        );
    }
  });
  return diffs;
}
