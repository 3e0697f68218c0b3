/**
 * One AJP connection from bytes to trace events: decodes both directions (ConversationDecoder),
 * assembles exchanges (ExchangeAssembler), and reports the connection's open and close, its
 * decode errors and any bytes a capture lost. The tap and the pcap importer drive one per connection.
 */
import { ConversationDecoder, type AjpProtocolError, type Direction, type MessageSink } from '../protocol/index.js';
import { ExchangeAssembler, type DetailBytes, type ExchangeDetail } from './exchange-assembler.js';
import type { ConnectionEvent, IncompleteEvent, TraceEvent, TraceOptions } from './trace-types.js';

export interface TracerShared {
  options: TraceOptions;
  startUs: number;
  nextId(): number;
  emit(event: TraceEvent, detail?: ExchangeDetail): void;
  /** AssemblerContext.detailBytes: exchanges come with their ExchangeDetail. */
  detailBytes?: DetailBytes;
}

export interface ConnectionInfo {
  conn: number;
  /** Web server side, ip:port. */
  client: string;
  /** Container side, ip:port. */
  upstream: string;
  worker?: string;
  /** The first bytes may be in the middle of a frame (a capture that started late). */
  midStream?: boolean;
  maxPacketSize?: number;
}

const CLOSE_TO_INCOMPLETE: Record<NonNullable<ConnectionEvent['reason']>, IncompleteEvent['reason']> = {
  fin: 'closed',
  rst: 'reset',
  end: 'end',
  error: 'error',
};

export class ConnectionTracer {
  private readonly decoder: ConversationDecoder;
  private readonly assembler: ExchangeAssembler;
  private readonly bytes: Record<Direction, number> = { 'to-container': 0, 'to-web-server': 0 };
  private timeUs = 0;
  private closed = false;
  private readonly sink: MessageSink;

  constructor(
    private readonly shared: TracerShared,
    private readonly info: ConnectionInfo,
  ) {
    this.decoder = new ConversationDecoder({ maxPacketSize: info.maxPacketSize, midStream: info.midStream });
    this.assembler = new ExchangeAssembler({
      conn: info.conn,
      upstream: info.upstream,
      ...(info.worker === undefined ? {} : { worker: info.worker }),
      options: shared.options,
      startUs: shared.startUs,
      nextId: () => shared.nextId(),
      emit: (e, detail) => shared.emit(e, detail),
      ...(shared.detailBytes === undefined ? {} : { detailBytes: shared.detailBytes }),
    });
    this.sink = {
      message: (msg, info) => this.assembler.message(msg, this.timeUs, info),
      error: (err) => this.decodeError(err),
    };
  }

  get completedExchanges(): number {
    return this.assembler.completed;
  }

  /**
   * Something is under way that closing the connection now would cut off: an exchange, a CPing
   * waiting for its CPong, or a frame partly received. The tap drains connections until this is false.
   */
  get busy(): boolean {
    return this.assembler.inProgress || this.assembler.awaitingCPong || this.decoder.bufferedBytes > 0;
  }

  /** Whether any byte went either way yet. */
  get hasTraffic(): boolean {
    return this.bytes['to-container'] + this.bytes['to-web-server'] > 0;
  }

  open(timeUs: number): void {
    this.shared.emit(this.connectionEvent('open', timeUs));
  }

  push(direction: Direction, chunk: Buffer, timeUs: number): void {
    if (this.closed) return;
    this.timeUs = timeUs;
    this.bytes[direction] += chunk.length;
    this.decoder.push(direction, chunk, this.sink);
  }

  /**
   * `missing` bytes of one direction were never captured (a snaplen cut, lost segments). The frame
   * they cut is decoded as far as it was captured and the exchange in progress goes on, marked
   * truncated (salvage, see ExchangeAssembler.lost). An error event says so only when the loss
   * cost more: frame sync (decoding resumes at the next plausible frame), or bytes no exchange holds.
   */
  gap(direction: Direction, missing: number, timeUs: number): void {
    if (this.closed) return;
    this.timeUs = timeUs;
    const kept = this.decoder.gap(direction, missing, this.sink);
    const carried = this.assembler.lost(direction, missing, timeUs);
    if (kept && carried) return;
    this.shared.emit({
      event: 'error',
      t: this.rel(timeUs),
      conn: this.info.conn,
      direction,
      code: 'CAPTURE_ERR_GAP',
      message: `${missing} byte(s) ${direction} were not captured${kept ? '' : '; resynchronising on the next frame'}${carried ? '; the exchange in progress is marked truncated' : ''}`,
      skipped: missing,
    });
  }

  close(reason: NonNullable<ConnectionEvent['reason']>, timeUs: number): void {
    if (this.closed) return;
    this.timeUs = timeUs;
    this.decoder.end(this.sink);
    this.assembler.cutOff(CLOSE_TO_INCOMPLETE[reason]);
    this.closed = true;
    this.shared.emit({
      ...this.connectionEvent('close', timeUs),
      reason,
      bytesToContainer: this.bytes['to-container'],
      bytesToWebServer: this.bytes['to-web-server'],
    });
  }

  private decodeError(err: AjpProtocolError): void {
    this.shared.emit({
      event: 'error',
      t: this.rel(this.timeUs),
      conn: this.info.conn,
      ...(err.direction === undefined ? {} : { direction: err.direction }),
      code: err.code,
      message: err.message,
      offset: err.offset,
      skipped: err.skipped,
    });
  }

  private connectionEvent(state: 'open' | 'close', timeUs: number): ConnectionEvent {
    return {
      event: 'connection',
      conn: this.info.conn,
      t: this.rel(timeUs),
      state,
      client: this.info.client,
      upstream: this.info.upstream,
      ...(this.info.worker === undefined ? {} : { worker: this.info.worker }),
    };
  }

  private rel(timeUs: number): number {
    return Math.round(timeUs - this.shared.startUs);
  }
}
