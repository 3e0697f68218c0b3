/**
 * The import benchmark's lab capture (issue 14: "a >= 200 MB capture made by the lab under
 * load"): tcpdump on loopback on both Tomcats' AJP ports while a closed loop of one keep-alive
 * client drives httpd + mod_jk and httpd + mod_proxy_ajp as fast as they answer, with a mix (GETs with query strings,
 * POSTs of 2 KB and 30 KB, 64 KB responses, redirects) until the file holds LAB_CAPTURE_BYTES, at
 * most MAX_REQUESTS requests and MAX_SECONDS. Cached in the lab's run dir (bench/import-load.pcap
 * and its .json), so a rerun imports the same file without capturing again; delete them to
 * capture anew. `skipped`, with the reason, when the lab is not up and nothing is cached.
 */
import { Agent, request } from 'node:http';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { readLabState, resolveConfig, type LabState } from '../lab/lab.js';
import { startCapture } from '../lab/tcpdump.js';

export const LAB_CAPTURE_BYTES = 200 * 1024 * 1024;
const MAX_SECONDS = 300;
const MAX_REQUESTS = 400_000;
/** More clients and tcpdump, starved of CPU on 2 cores, drops packets (8: 26 751 dropped; 2: 236; 1: none). */
const CLIENTS = 1;

export interface LabCapture {
  file: string;
  /** Tomcat's AJP ports in the capture. */
  ports: number[];
  bytes: number;
  requests: number;
  /** Packets tcpdump said the kernel dropped while capturing. */
  dropped: number;
  /** Taken now (false: the cached file of an earlier run). */
  fresh: boolean;
}

export type LabCaptureOutcome = { capture: LabCapture } | { skipped: string };

export async function labCapture(log: (line: string) => void = () => undefined): Promise<LabCaptureOutcome> {
  const runDir = resolveConfig().runDir;
  const state = readLabState(runDir);
  const dir = join(runDir, 'bench');
  const file = join(dir, 'import-load.pcap');
  const meta = join(dir, 'import-load.json');
  if (existsSync(file) && existsSync(meta)) {
    const cached = JSON.parse(readFileSync(meta, 'utf8')) as Omit<LabCapture, 'file' | 'fresh'>;
    if (statSync(file).size === cached.bytes && cached.bytes >= LAB_CAPTURE_BYTES)
      return { capture: { ...cached, file, fresh: false } };
  }
  if (state === undefined)
    return { skipped: `the lab is not up (no ready lab in ${runDir}; npm run lab -- up) and no capture is cached` };
  mkdirSync(dir, { recursive: true });
  const ports = [state.ports.tomcat1Ajp, state.ports.tomcat2Ajp];
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  log(`lab capture: tcpdump on ports ${ports.join(', ')} under load until ${LAB_CAPTURE_BYTES / 2 ** 20} MiB...`);
  const capture = await startCapture(partial, ports);
  let requests = 0;
  let dropped = 0;
  try {
    requests = await drive(state, partial);
  } finally {
    dropped = await capture.stop();
  }
  const bytes = statSync(partial).size;
  if (bytes < LAB_CAPTURE_BYTES) {
    rmSync(partial, { force: true });
    return { skipped: `the lab capture reached only ${(bytes / 1e6).toFixed(0)} MB in ${MAX_SECONDS} s` };
  }
  renameSync(partial, file);
  const saved = { ports, bytes, requests, dropped };
  writeFileSync(meta, JSON.stringify(saved) + '\n');
  return { capture: { ...saved, file, fresh: true } };
}

/** The first packets of a classic pcap up to about `bytes` (cut at a packet boundary): a smaller capture of the same traffic. */
export function pcapPrefix(src: string, dst: string, bytes: number): number {
  const fd = openSync(src, 'r');
  try {
    const head = Buffer.alloc(24);
    readSync(fd, head, 0, 24, 0);
    const le = head.readUInt32LE(0) === 0xa1b2c3d4 || head.readUInt32LE(0) === 0xa1b23c4d;
    let at = 24;
    const rec = Buffer.alloc(16);
    while (at < bytes && readSync(fd, rec, 0, 16, at) === 16)
      at += 16 + (le ? rec.readUInt32LE(8) : rec.readUInt32BE(8));
    const out = Buffer.alloc(at);
    readSync(fd, out, 0, at, 0);
    writeFileSync(dst, out);
    return at;
  } finally {
    closeSync(fd);
  }
}

/** The mix, closed loop, until the capture file is large enough or a bound is reached; returns the requests sent. */
async function drive(state: LabState, file: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const fronts = [state.frontends.jk.baseUrl, state.frontends.proxyAjp.baseUrl];
  const small = Buffer.alloc(2048, 's');
  const large = Buffer.alloc(30_000, 'L');
  const deadline = Date.now() + MAX_SECONDS * 1000;
  let sent = 0;
  let completed = 0;
  let done = false;
  const client = async (c: number): Promise<void> => {
    while (!done) {
      const n = sent++;
      if (n >= MAX_REQUESTS || Date.now() > deadline) break;
      const base = fronts[(n + c) % fronts.length] as string;
      const pick = n % 20;
      if (pick < 10) await send(agent, 'GET', `${base}${state.paths.echo}?n=${n}&q=lab+capture`);
      else if (pick < 14) await send(agent, 'POST', `${base}${state.paths.echo}?n=${n}`, small);
      else if (pick < 16) await send(agent, 'POST', `${base}${state.paths.echo}?n=${n}`, large);
      else if (pick < 19) await send(agent, 'GET', `${base}${state.paths.large}?size=65536`);
      else await send(agent, 'GET', `${base}${state.paths.status}?code=302`);
      completed++;
      if (n % 500 === 0 && statSync(file).size >= LAB_CAPTURE_BYTES) done = true;
    }
  };
  try {
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  } finally {
    agent.destroy();
  }
  return completed;
}

function send(agent: Agent, method: string, url: string, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          'user-agent': 'ajpbench-lab-capture',
          accept: 'text/html',
          ...(body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': body.length }),
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve());
        res.once('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.once('error', reject);
    req.end(body);
  });
}
