// Smoke test of the real-peer lab (test/lab): every front end reaches a Tomcat, mod_jk balances over both and keeps
// sessions sticky, and the secret AJP connectors listen and enforce their secret. Skips when the Debian packages are
// missing (fails instead under CI, where a skip would hide a broken setup).
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FRONT_ENDS,
  labDown,
  labMissing,
  labStatus,
  labUp,
  largeBody,
  type FrontEndName,
  type LabState,
} from '../lab/lab.js';

const missing = labMissing({ includeCapture: false });
const reason = `lab not installed (missing: ${missing.join(' ')}); enable with: npm run lab -- install`;
const skip = missing.length > 0 && !process.env.CI;
if (skip) console.warn(`lab-smoke: skipped: ${reason}`);

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** AJP13 string: uint16 length, bytes, NUL (ajp13.md §2). */
function ajpString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes, Buffer.from([0])]);
}

/**
 * A minimal hand-built Forward Request (GET /app/echo.jsp with Host and Content-Length: 0), optionally with the secret
 * attribute (0x0C). Deliberately independent of src/protocol: this checks the lab, not the codec. Content-Length: 0
 * (as mod_jk sends) tells Tomcat there is no body; without it echo.jsp's body read would make Tomcat ask for one
 * with Get Body Chunk, which this probe does not answer.
 */
function forwardRequest(port: number, secret?: string): Buffer {
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  const body = Buffer.concat([
    Buffer.from([0x02, 0x02]), // Forward Request, method GET
    ajpString('HTTP/1.1'),
    ajpString('/app/echo.jsp'),
    ajpString('127.0.0.1'), // remote_addr
    ajpString('127.0.0.1'), // remote_host
    ajpString('127.0.0.1'), // server_name
    u16(port),
    Buffer.from([0x00]), // is_ssl
    u16(2),
    u16(0xa00b), // Host
    ajpString(`127.0.0.1:${port}`),
    u16(0xa008), // Content-Length
    ajpString('0'),
    ...(secret === undefined ? [] : [Buffer.from([0x0c]), ajpString(secret)]),
    Buffer.from([0xff]),
  ]);
  return Buffer.concat([Buffer.from([0x12, 0x34]), u16(body.length), body]);
}

/** Sends one Forward Request and returns the status of the container's Send Headers (0x04) packet. */
function ajpStatus(port: number, secret?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffered = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error('AJP probe timed out')));
    socket.once('connect', () => socket.write(forwardRequest(port, secret)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        const len = buffered.readUInt16BE(2);
        if (buffered.length < 4 + len) return;
        const type = buffered[4];
        if (type === 0x04) {
          socket.destroy();
          resolve(buffered.readUInt16BE(5));
          return;
        }
        buffered = buffered.subarray(4 + len);
      }
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('AJP connection closed before Send Headers')));
  });
}

describe.skipIf(skip)('lab smoke (real httpd, mod_jk, nginx, Tomcat 10.1)', () => {
  let lab: LabState;
  let startedHere = false;

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`CI is set, so not skipping: ${reason}`);
    // A lab someone already started (npm run lab -- up) is reused and left running afterwards.
    startedHere = !(await labStatus()).up;
    lab = await labUp({ log: (line) => console.log(line) });
  }, 180_000);

  afterAll(async () => {
    if (startedHere) await labDown();
  }, 60_000);

  const viaFrontEnd: FrontEndName[] = [...FRONT_ENDS];
  it.each(viaFrontEnd)('echo through %s answers 200 from a Tomcat', async (name) => {
    const fe = lab.frontends[name];
    const res = await get(fe.baseUrl + lab.paths.echo + '?smoke=1');
    expect(res.status).toBe(200);
    const servedBy = res.headers.get('x-served-by');
    expect(servedBy).toMatch(/^tomcat[12]$/);
    expect(res.headers.get('x-lab-frontend')).toBe(fe.header);
    const echo = JSON.parse(res.body) as { route: string; uri: string; queryString: string; method: string };
    expect(echo).toMatchObject({ route: servedBy, uri: lab.paths.echo, queryString: 'smoke=1', method: 'GET' });
  });

  it('mod_jk balances over both Tomcats', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const res = await get(lab.frontends.jk.baseUrl + lab.paths.echo);
      expect(res.status).toBe(200);
      seen.add(res.headers.get('x-served-by') ?? '');
    }
    expect([...seen].sort()).toEqual(['tomcat1', 'tomcat2']);
  });

  it('a session created through mod_jk carries the jvmRoute and sticks to its Tomcat', async () => {
    const first = await get(lab.frontends.jk.baseUrl + lab.paths.session);
    expect(first.status).toBe(200);
    const cookie = first.headers.getSetCookie().find((c) => c.startsWith('JSESSIONID='));
    expect(cookie).toBeDefined();
    const id = /^JSESSIONID=([^;]+)/.exec(cookie ?? '')?.[1] ?? '';
    const route = /\.(tomcat[12])$/.exec(id)?.[1];
    expect(route, `JSESSIONID ${id} should end in .tomcat1 or .tomcat2`).toBeDefined();
    expect(first.headers.get('x-served-by')).toBe(route);
    for (let hit = 2; hit <= 4; hit++) {
      const next = await get(lab.frontends.jk.baseUrl + lab.paths.session, { cookie: `JSESSIONID=${id}` });
      expect(next.headers.get('x-served-by')).toBe(route);
      expect(JSON.parse(next.body)).toMatchObject({ sessionId: id, new: false, hits: hit });
    }
  });

  it('the secret AJP connectors listen and enforce the secret', async () => {
    for (const name of ['tomcat1', 'tomcat2'] as const) {
      const t = lab.tomcats[name];
      expect(await listens(t.ajpSecretPort), `${name} secret AJP port ${t.ajpSecretPort}`).toBe(true);
      expect(await ajpStatus(t.ajpSecretPort)).toBe(403);
      expect(await ajpStatus(t.ajpSecretPort, 'wrong-secret')).toBe(403);
      expect(await ajpStatus(t.ajpSecretPort, lab.secret)).toBe(200);
      expect(await ajpStatus(t.ajpPort)).toBe(200);
    }
  });

  it('large.jsp serves the documented deterministic body', async () => {
    const res = await fetch(`${lab.frontends.proxyAjp.baseUrl}${lab.paths.large}?size=100000`, {
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(largeBody(100_000))).toBe(true);
  });
});
