/**
 * Regenerates the committed sample captures in captures/ from the lab (`npm run lab -- captures`):
 *
 * - lab-mixed.pcap: the e2e traffic mix (test/lab/traffic.ts) through mod_jk and mod_proxy_ajp,
 *   with and without the secret, tcpdump on the Tomcats' AJP ports; lab-mixed.expected.json
 *   holds what the client sent and received, which an import of the capture must match.
 * - mod_jk-post.pcap: one POST with a 12 000-byte body through mod_jk (CPing/CPong, Forward
 *   Request, body packets on Get Body Chunk, response), and the two directions of that connection
 *   as raw byte streams: mod_jk-post.to-container.ajp and mod_jk-post.to-web-server.ajp, which
 *   `ajpbench decode` reads.
 *
 * Timestamps, ports and session ids differ from run to run; the shape of the traffic does not.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { directionBytes, reassembleSegments } from './capture-streams.js';
import { httpRequest } from './http-client.js';
import type { LabState } from './lab.js';
import { captureClean } from './tcpdump.js';
import { driveMixedTraffic } from './traffic.js';
import { tsharkSegments } from './tshark.js';

export interface CaptureFile {
  file: string;
  bytes: number;
}

export async function makeCaptures(lab: LabState, outDir: string, log: (line: string) => void): Promise<CaptureFile[]> {
  mkdirSync(outDir, { recursive: true });
  const written: CaptureFile[] = [];
  const allAjp = [lab.ports.tomcat1Ajp, lab.ports.tomcat2Ajp, lab.ports.tomcat1AjpSecret, lab.ports.tomcat2AjpSecret];

  const mixed = join(outDir, 'lab-mixed.pcap');
  const sent = await captureClean(mixed, allAjp, () => driveMixedTraffic(lab));
  written.push(sized(mixed));
  // What the client sent and received: tests check an import of the capture against it.
  const expected = join(outDir, 'lab-mixed.expected.json');
  writeFileSync(expected, JSON.stringify({ ajpPorts: allAjp, requests: sent }, null, 1) + '\n');
  written.push(sized(expected));

  const ajp = [lab.ports.tomcat1Ajp, lab.ports.tomcat2Ajp];
  const post = join(outDir, 'mod_jk-post.pcap');
  const body = Buffer.from(
    Array.from({ length: 1200 }, (_, i) => `line ${String(i).padStart(4, '0')}`)
      .join('\n')
      .slice(0, 12_000),
  );
  await captureClean(post, ajp, async () => {
    const res = await httpRequest(`${lab.frontends.jk.baseUrl}${lab.paths.echo}?sample=post`, {
      method: 'POST',
      headers: [
        ['Content-Type', 'text/plain'],
        ['User-Agent', 'ajpbench-captures'],
      ],
      body,
    });
    if (res.status !== 200) throw new Error(`sample POST through mod_jk answered ${res.status}`);
  });
  written.push(sized(post));

  const chunks = reassembleSegments(await tsharkSegments(post, ajp));
  const streams = [...new Set(chunks.map((c) => c.stream))];
  if (streams.length !== 1) throw new Error(`expected the sample POST on one connection, found ${streams.length}`);
  for (const direction of ['to-container', 'to-web-server'] as const) {
    const file = join(outDir, `mod_jk-post.${direction}.ajp`);
    writeFileSync(file, directionBytes(chunks, streams[0] as number, direction));
    written.push(sized(file));
  }
  for (const w of written) log(`lab: wrote ${w.file} (${w.bytes} bytes)`);
  return written;
}

function sized(file: string): CaptureFile {
  return { file, bytes: statSync(file).size };
}
