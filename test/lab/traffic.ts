/**
 * A fixed mix of requests that exercises every AJP message and field real peers produce:
 * coded and string headers, query strings, a long header, small, multi-packet and chunked
 * request bodies, stored methods, HEAD, redirects with Set-Cookie, sessions, multi-packet
 * responses, and the secret attribute. Sent through mod_jk and mod_proxy_ajp.
 */
import type { FrontEndName, LabState } from './lab.js';
import { httpRequest, type HttpResult } from './http-client.js';

export interface SentRequest {
  frontEnd: FrontEndName;
  method: string;
  path: string;
  status: number;
}

const AJP_FRONT_ENDS: FrontEndName[] = ['jk', 'proxyAjp', 'jkSecret', 'proxyAjpSecret'];

export async function driveMixedTraffic(lab: LabState): Promise<SentRequest[]> {
  const sent: SentRequest[] = [];
  const longValue = 'v'.repeat(300); // past tshark's 240-byte display limit
  const bigBody = Buffer.alloc(20_000, 'b'); // three request body packets
  for (const frontEnd of AJP_FRONT_ENDS) {
    const base = lab.frontends[frontEnd].baseUrl;
    const go = async (method: string, path: string, opts: Parameters<typeof httpRequest>[1] = {}): Promise<HttpResult> => {
      const res = await httpRequest(base + path, { method, ...opts });
      sent.push({ frontEnd, method, path, status: res.status });
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
    await go('POST', lab.paths.echo, { headers: [['Content-Type', 'text/plain']], body: [Buffer.from('chunk-one;'), Buffer.from('chunk-two')] });
    await go('PATCH', lab.paths.echo, { body: Buffer.from('{"op":"x"}') });
    await go('HEAD', lab.paths.echo);
    await go('GET', `${lab.paths.status}?code=302`);
    await go('GET', `${lab.paths.status}?code=204`);
    const session = await go('GET', lab.paths.session);
    const cookie = [session.headers['set-cookie']].flat().find((c) => c?.startsWith('JSESSIONID='))?.split(';')[0];
    if (cookie !== undefined) await go('GET', lab.paths.session, { headers: [['Cookie', cookie]] });
    await go('GET', `${lab.paths.large}?size=20000`);
  }
  return sent;
}
