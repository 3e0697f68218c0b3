/**
 * Types for pcap-parser 0.2.1 (node_modules/pcap-parser/lib/pcap-parser.js), which ships none.
 * Only what capture/classic-pcap-reader.ts uses.
 */
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';

  export interface PcapGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  export interface PcapPacketHeader {
    timestampSeconds: number;
    /** The fraction field, read as is (microseconds in the file format the package knows). */
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface PcapPacket {
    header: PcapPacketHeader;
    /** A slice of the parser's internal buffer (a fresh copy for every chunk after the first). */
    data: Buffer;
  }

  /** What the parser needs from its input: it pauses it, listens to it, and resumes it on the next tick. */
  export interface PcapInput {
    pause(): unknown;
    resume(): unknown;
    on(event: 'data', listener: (chunk: Buffer) => void): unknown;
    on(event: 'error', listener: (err: Error) => void): unknown;
    on(event: 'end', listener: () => void): unknown;
  }

  export interface PcapParser extends EventEmitter {
    on(event: 'globalHeader', listener: (header: PcapGlobalHeader) => void): this;
    on(event: 'packetHeader', listener: (header: PcapPacketHeader) => void): this;
    on(event: 'packet', listener: (packet: PcapPacket) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'end', listener: () => void): this;
  }

  /** A path (opened with fs.createReadStream) or a readable stream. */
  export function parse(input: string | PcapInput): PcapParser;
}
