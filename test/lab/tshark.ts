/**
 * Reads a capture with tshark: the TCP segments (to feed our own decoder) and what tshark's AJP13
 * dissector makes of the same bytes (to compare with). tshark 4.0 merges repeated fields into
 * arrays with --no-duplicate-keys; without it a plain JSON.parse would keep only the last one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Direction } from '../../src/protocol/index.js';

const run = promisify(execFile);

export interface Segment {
  frame: number;
  stream: number;
  direction: Direction;
  seq: number;
  syn: boolean;
  payload: Buffer;
}

export type DissectorFields = Record<string, string[]>;

export interface TsharkPdu {
  stream: number;
  direction: Direction;
  frame: number;
  fields: DissectorFields;
}

function decodeAs(ports: number[]): string[] {
  return ports.flatMap((p) => ['-d', `tcp.port==${p},ajp13`]);
}

function directionOf(srcPort: number, ajpPorts: number[]): Direction {
  return ajpPorts.includes(srcPort) ? 'to-web-server' : 'to-container';
}

export async function tsharkSegments(file: string, ajpPorts: number[]): Promise<Segment[]> {
  const fields = ['frame.number', 'tcp.stream', 'tcp.srcport', 'tcp.seq_raw', 'tcp.flags.syn', 'tcp.payload'];
  const { stdout } = await run(
    'tshark',
    ['-r', file, '-Y', 'tcp', '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const [frame, stream, src, seq, syn, payload] = line.split('\t');
      return {
        frame: Number(frame),
        stream: Number(stream),
        direction: directionOf(Number(src), ajpPorts),
        seq: Number(seq),
        syn: syn === '1' || syn === 'True',
        payload: Buffer.from(payload ?? '', 'hex'),
      };
    });
}

interface TsharkPacket {
  _source: { layers: { tcp?: Record<string, unknown>; ajp13?: Record<string, unknown> | Record<string, unknown>[] } };
}

export async function tsharkAjpPdus(file: string, ajpPorts: number[]): Promise<TsharkPdu[]> {
  const { stdout } = await run(
    'tshark',
    ['-r', file, ...decodeAs(ajpPorts), '-Y', 'ajp13', '-T', 'json', '--no-duplicate-keys', '-j', 'frame tcp ajp13'],
    { maxBuffer: 512 * 1024 * 1024 },
  );
  const packets = JSON.parse(stdout) as TsharkPacket[];
  const pdus: TsharkPdu[] = [];
  for (const p of packets) {
    const tcp = p._source.layers.tcp ?? {};
    const stream = Number(first(tcp['tcp.stream']));
    const direction = directionOf(Number(first(tcp['tcp.srcport'])), ajpPorts);
    const frame = Number(
      first((p._source.layers as Record<string, Record<string, unknown>>).frame?.['frame.number'] ?? -1),
    );
    const layers = p._source.layers.ajp13;
    for (const layer of Array.isArray(layers) ? layers : layers === undefined ? [] : [layers]) {
      pdus.push({ stream, direction, frame, fields: flatten(layer) });
    }
  }
  return pdus;
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

/** Only the ajp13.* leaves, each as a list of its values in order. */
function flatten(layer: Record<string, unknown>): DissectorFields {
  const out: DissectorFields = {};
  for (const [k, v] of Object.entries(layer)) {
    if (!k.startsWith('ajp13.')) continue;
    const values = Array.isArray(v) ? v : [v];
    if (values.every((x) => typeof x === 'string')) out[k] = values;
  }
  return out;
}
