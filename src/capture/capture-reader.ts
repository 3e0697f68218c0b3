/**
 * readCapture: packets from a capture file or stream (`tcpdump -U -w - | ajpbench import -`).
 *
 * Sniffs the format from the first 4 bytes: classic pcap (µs a1b2c3d4 or ns a1b23c4d, either
 * byte order; read with pcap-parser, see classic-pcap-reader.ts) or pcapng (0a0d0d0a, see
 * pcapng-reader.ts). The input is pulled one chunk at a time and the next chunk is read only
 * once the consumer has taken every packet of this one, so memory stays at a chunk or two plus
 * the stream's own read-ahead, whatever the capture's size.
 *
 * Packets are views into the chunks read (see CapturedPacket.data). An input that ends inside a
 * packet yields every whole packet before it and then reports CAPTURE_ERR_TRUNCATED through
 * onIssue (tcpdump killed mid-write is common and nothing read should be lost). A corrupt file
 * throws CaptureFormatError after the packets that precede the corruption.
 */
import { createReadStream } from 'node:fs';
import { ClassicPcapReader } from './classic-pcap-reader.js';
import {
  CaptureFormatError,
  type CapturedPacket,
  type CaptureIssue,
  type PacketSource,
  type ReadCaptureOptions,
} from './capture-types.js';
import { PcapngReader } from './pcapng-reader.js';

/** Read size for files: large enough that few packets span two reads, small enough to keep memory flat. */
const FILE_CHUNK = 512 * 1024;

type CaptureFormat =
  | { kind: 'pcap'; nanosecond: boolean }
  | { kind: 'pcapng' };

/** File magics as the first 4 bytes appear, in both byte orders (hex). */
const MAGICS: ReadonlyMap<string, CaptureFormat> = new Map<string, CaptureFormat>([
  ['a1b2c3d4', { kind: 'pcap', nanosecond: false }],
  ['d4c3b2a1', { kind: 'pcap', nanosecond: false }],
  ['a1b23c4d', { kind: 'pcap', nanosecond: true }],
  ['4d3cb2a1', { kind: 'pcap', nanosecond: true }],
  ['0a0d0d0a', { kind: 'pcapng' }],
]);

export async function* readCapture(
  input: NodeJS.ReadableStream | string,
  opts: ReadCaptureOptions = {},
): AsyncIterable<CapturedPacket> {
  const onIssue = opts.onIssue ?? ((): void => {});
  const stream = typeof input === 'string' ? createReadStream(input, { highWaterMark: FILE_CHUNK }) : input;
  // Leaving the loop early (break, a throw in the consumer) ends the stream iterator, which
  // destroys the stream: a file we opened is closed, and so is a stream handed to us.
  const chunks = bufferChunks(stream);
  let source: PacketSource | undefined;
  let head: Buffer = Buffer.alloc(0);
  const out: CapturedPacket[] = [];
  for await (const chunk of chunks) {
    let next = chunk;
    if (source === undefined) {
      // Gather the 4 magic bytes, which may arrive in more than one chunk.
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < 4) continue;
      source = sourceFor(head, onIssue);
      next = head;
    }
    let failure: unknown;
    try {
      source.push(next, out);
    } catch (err) {
      failure = err; // the packets before the corruption still go out first
    }
    for (let i = 0; i < out.length; i++) yield out[i] as CapturedPacket;
    out.length = 0;
    if (failure !== undefined) throw failure;
  }
  if (source === undefined) {
    if (head.length === 0) throw new CaptureFormatError('CAPTURE_ERR_EMPTY', 'the capture input is empty', 0);
    // 1 to 3 bytes: the start of a known magic was cut, anything else is not a capture.
    const known = [...MAGICS.keys()].some((m) => m.startsWith(head.toString('hex')));
    if (known) throw new CaptureFormatError('CAPTURE_ERR_TRUNCATED', `the capture input ends after ${head.length} bytes`, 0);
    throw badMagic(head);
  }
  source.end();
}

function sourceFor(head: Buffer, onIssue: (issue: CaptureIssue) => void): PacketSource {
  const format = MAGICS.get(head.toString('hex', 0, 4));
  if (format === undefined) throw badMagic(head);
  return format.kind === 'pcapng' ? new PcapngReader(onIssue) : new ClassicPcapReader(format.nanosecond, onIssue);
}

function badMagic(head: Buffer): CaptureFormatError {
  const hex = head.toString('hex', 0, Math.min(4, head.length));
  const hint = head[0] === 0x1f && head[1] === 0x8b ? ' (gzip-compressed: decompress it first)' : '';
  return new CaptureFormatError('CAPTURE_ERR_BAD_MAGIC', `not a pcap or pcapng file: it starts with ${hex}${hint}`, 0);
}

async function* bufferChunks(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    if (typeof chunk === 'string') throw new TypeError('readCapture: the stream has an encoding set; captures are binary');
    if (chunk.length > 0) yield chunk;
  }
}
