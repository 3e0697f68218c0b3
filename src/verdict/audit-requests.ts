/**
 * What `ajpbench audit` sends: a CPing and a few GET Forward Requests to one harmless URI, each
 * described as it went (the secret's value is never shown; a padding header is shown by its
 * length). Nothing here reads or names an application file: every probe asks for `--uri`.
 */
import {
  AjpEncoder,
  CPING_FRAME,
  MAX_MAX_PACKET_SIZE,
  type AjpAttribute,
  type AjpHeader,
  type ForwardRequest,
} from '../protocol/index.js';

/** The request attribute no front end sends: a fixed Tomcat refuses it (allowedRequestAttributesPattern unset). */
export const PROBE_ATTRIBUTE = { key: 'ajpbench.audit', value: 'probe' };
/** The header that pads a Forward Request to an exact packet size. */
export const PAD_HEADER = 'x-ajpbench-audit-pad';
/**
 * Packet sizes tried, header included: one byte above Tomcat's default packetSize (8192), then
 * larger up to the protocol's maximum (§1). Probing stops at the first refused.
 */
export const PROBE_PACKET_SIZES: readonly number[] = [8193, 16384, 32768, MAX_MAX_PACKET_SIZE];

export interface ProbeRequestOptions {
  /** The host as given (sent as server_name and the Host header). */
  host: string;
  uri: string;
  userAgent: string;
  secret?: string;
  /** Add the unrecognised request attribute PROBE_ATTRIBUTE. */
  probeAttribute?: boolean;
  /** Pad with PAD_HEADER so that the frame is exactly this many bytes. */
  packetBytes?: number;
}

/** A message as it went, for the report: what every field held, the secret and the padding summarised. */
export interface SentMessage {
  message: 'cping' | 'forward-request';
  /** Bytes on the wire, header included. */
  bytes: number;
  method?: string;
  uri?: string;
  protocol?: string;
  remoteAddr?: string;
  serverName?: string;
  serverPort?: number;
  headers?: { name: string; value: string }[];
  attributes?: { name: string; value: string }[];
}

export const CPING_SENT: SentMessage = { message: 'cping', bytes: CPING_FRAME.length };

// One encoder for every probe, sized to the protocol maximum so the largest probe fits.
const encoder = new AjpEncoder({ maxPacketSize: MAX_MAX_PACKET_SIZE });

function baseRequest(o: ProbeRequestOptions, padBytes: number | undefined): ForwardRequest {
  const headers: AjpHeader[] = [
    { name: 'host', value: o.host },
    { name: 'user-agent', value: o.userAgent },
  ];
  if (padBytes !== undefined) headers.push({ name: PAD_HEADER, value: 'a'.repeat(padBytes) });
  const attributes: AjpAttribute[] = [];
  // §8: the secret goes first among the attributes, as mod_jk sends it.
  if (o.secret !== undefined) attributes.push({ name: 'secret', value: o.secret });
  if (o.probeAttribute === true) attributes.push({ name: 'req_attribute', ...PROBE_ATTRIBUTE });
  return {
    type: 'forward-request',
    method: 'GET',
    protocol: 'HTTP/1.1',
    uri: o.uri,
    remoteAddr: '127.0.0.1',
    remoteHost: null,
    serverName: o.host,
    serverPort: 80,
    isSsl: false,
    headers,
    attributes,
  };
}

/** The frame (a copy: the encoder's slab is reused) and its description. */
export function probeRequest(o: ProbeRequestOptions): { frame: Buffer; sent: SentMessage } {
  let req = baseRequest(o, o.packetBytes === undefined ? undefined : 0);
  let frame = Buffer.from(encoder.forwardRequest(req));
  if (o.packetBytes !== undefined) {
    const pad = o.packetBytes - frame.length;
    if (pad < 0) throw new RangeError(`a probe of ${o.packetBytes} bytes is smaller than its unpadded request`);
    req = baseRequest(o, pad);
    frame = Buffer.from(encoder.forwardRequest(req));
    if (frame.length !== o.packetBytes) throw new Error(`padded probe is ${frame.length} bytes, not ${o.packetBytes}`);
  }
  return { frame, sent: describe(req, frame.length) };
}

function describe(req: ForwardRequest, bytes: number): SentMessage {
  return {
    message: 'forward-request',
    bytes,
    method: req.method,
    uri: req.uri ?? '',
    protocol: req.protocol ?? '',
    remoteAddr: req.remoteAddr ?? '',
    serverName: req.serverName ?? '',
    serverPort: req.serverPort,
    headers: req.headers.map((h) => ({
      name: h.name,
      value: h.name === PAD_HEADER ? `<${(h.value ?? '').length} bytes of "a">` : (h.value ?? ''),
    })),
    attributes: req.attributes.map((a) =>
      a.name === 'secret'
        ? { name: 'secret', value: '<the --secret given>' }
        : a.name === 'req_attribute'
          ? { name: `req_attribute ${a.key ?? ''}`, value: a.value ?? '' }
          : { name: a.name, value: String(a.value) },
    ),
  };
}

/** One line: `GET / HTTP/1.1, headers host, user-agent; attributes secret (8193 bytes)`. */
export function sentLine(s: SentMessage): string {
  if (s.message === 'cping') return `CPing (${s.bytes} bytes)`;
  const headers = (s.headers ?? []).map((h) => (h.name === PAD_HEADER ? `${h.name} ${h.value}` : h.name));
  const attrs = (s.attributes ?? []).map((a) => (a.name === 'secret' ? 'secret' : `${a.name}=${a.value}`));
  return (
    `Forward Request ${s.method ?? ''} ${s.uri ?? ''} ${s.protocol ?? ''}, headers ${headers.join(', ')}` +
    `${attrs.length === 0 ? ', no attributes' : `, attributes ${attrs.join(', ')}`} (${s.bytes} bytes)`
  );
}
