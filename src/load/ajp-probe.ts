/**
 * One-shot AJP probes for `ajpbench audit`: a fresh connection per probe, one message sent (a
 * CPing or a Forward Request), and the connector's answer read until CPong, End Response, a close
 * or a deadline. Unlike AjpConnection (the load engine's pooled, reusable connection) nothing here
 * is kept: a connector that refuses a probe closes the connection (§8, §11), and the next probe
 * must not inherit that.
 *
 * The answer says what a peer can see from outside and nothing more: the status, the headers,
 * whether End Response allowed reuse, whether the connection closed before any response, and the
 * address the socket actually connected to (a name given by the user resolves to one).
 */
import { connect } from 'node:net';
import {
  EMPTY_BODY_FRAME,
  FrameDecoder,
  MAX_MAX_PACKET_SIZE,
  MessageCode,
  decodeToWebServer,
  type AjpHeader,
  type AjpProtocolError,
  type FrameSink,
  type SendHeaders,
} from '../protocol/index.js';

export type ProbeOutcome =
  /** The TCP connection could not be made (refused, unreachable, no answer within the deadline). */
  | { kind: 'connect-failed'; message: string }
  /** Connected, but nothing conclusive came back before the deadline. */
  | { kind: 'timeout'; remoteAddress: string; message: string }
  /** Connected; the peer closed (or reset) the connection before any Send Headers. */
  | { kind: 'closed'; remoteAddress: string; message: string }
  /** The peer sent bytes that are not an AJP answer (another protocol on the port, or a broken peer). */
  | { kind: 'protocol-error'; remoteAddress: string; message: string }
  /** A CPong to a CPing. */
  | { kind: 'cpong'; remoteAddress: string }
  /** A response: Send Headers, then End Response (`ended`) or a close after the headers. */
  | ProbeResponse;

export interface ProbeResponse {
  kind: 'response';
  remoteAddress: string;
  status: number;
  message: string | null;
  headers: AjpHeader[];
  /** End Response arrived; false when the connection closed after the headers. */
  ended: boolean;
  /** End Response's reuse byte (§5.3): false means the connector closes the connection. */
  reuse: boolean;
  bodyBytes: number;
}

export interface ProbeTarget {
  host: string;
  port: number;
  /** Deadline for the connect and for the answer, each, ms. */
  timeoutMs: number;
}

/**
 * Connects, writes `frame` (one whole message) and reads the answer. Never rejects: every way a
 * probe can end is an outcome. Get Body Chunk (a probe has no body) is answered with the empty
 * body packet (§6.4), as mod_jk does.
 */
export function probeAjp(target: ProbeTarget, frame: Buffer): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    let remoteAddress = '';
    let settled = false;
    let response: ProbeResponse | undefined;
    const settle = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const answerTimeout = (): void =>
      settle(
        response ??
          (remoteAddress === ''
            ? { kind: 'connect-failed', message: `not connected within ${target.timeoutMs} ms` }
            : { kind: 'timeout', remoteAddress, message: `no answer within ${target.timeoutMs} ms` }),
      );
    let timer = setTimeout(answerTimeout, target.timeoutMs);
    // Responses come from the connector, which may have a larger packetSize than ours: read up to the protocol maximum.
    const decoder = new FrameDecoder({
      direction: 'to-web-server',
      maxPacketSize: MAX_MAX_PACKET_SIZE,
      onInvalid: 'stop',
    });
    const sink: FrameSink = {
      frame(payload: Buffer): void {
        const type = payload[0];
        if (type === MessageCode.CPong) return settle({ kind: 'cpong', remoteAddress });
        if (type === MessageCode.SendHeaders) {
          let msg: SendHeaders;
          try {
            msg = decodeToWebServer(payload) as SendHeaders;
          } catch (e) {
            return settle({
              kind: 'protocol-error',
              remoteAddress,
              message: `bad Send Headers: ${(e as Error).message}`,
            });
          }
          response = {
            kind: 'response',
            remoteAddress,
            status: msg.status,
            message: msg.message,
            headers: msg.headers,
            ended: false,
            reuse: false,
            bodyBytes: 0,
          };
          return;
        }
        if (type === MessageCode.SendBodyChunk && response !== undefined) {
          response.bodyBytes += ((payload[1] ?? 0) << 8) | (payload[2] ?? 0);
          return;
        }
        if (type === MessageCode.EndResponse && response !== undefined) {
          response.ended = true;
          response.reuse = payload[1] !== 0;
          return settle(response);
        }
        if (type === MessageCode.GetBodyChunk) {
          socket.write(EMPTY_BODY_FRAME);
          return;
        }
        settle({ kind: 'protocol-error', remoteAddress, message: `unexpected message type ${type}` });
      },
      error(err: AjpProtocolError): void {
        settle({ kind: 'protocol-error', remoteAddress, message: `${err.code}: ${err.message}` });
      },
    };
    socket.on('connect', () => {
      remoteAddress = socket.remoteAddress ?? target.host;
      clearTimeout(timer);
      timer = setTimeout(answerTimeout, target.timeoutMs);
      socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk, sink));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (remoteAddress === '') settle({ kind: 'connect-failed', message: e.code ?? e.message });
      else if (response === undefined)
        settle({ kind: 'closed', remoteAddress, message: `reset (${e.code ?? e.message})` });
      else settle(response);
    });
    socket.on('close', () => {
      if (remoteAddress === '') settle({ kind: 'connect-failed', message: 'the connection closed while connecting' });
      else settle(response ?? { kind: 'closed', remoteAddress, message: 'closed without an answer' });
    });
  });
}
