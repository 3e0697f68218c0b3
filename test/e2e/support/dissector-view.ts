/**
 * What tshark's AJP13 dissector (Wireshark packet-ajp13.c, as in tshark 4.0) shows for a message
 * we decoded: the field names and value formatting it uses, so the two decodes compare field by
 * field. Known differences of that dissector, from shared/ajp13.md §11: strings past 240 bytes are
 * cut short in its output, a null string shows as "", string-named headers and req_attributes
 * show as "name: value", and strings and a body or chunk's bytes show as UTF-8 text.
 */
import { utf8View, type AjpHeader, type AjpMessage } from '../../../src/protocol/index.js';
import type { DissectorFields } from '../../lab/tshark.js';

/** tshark's display limit for header and attribute strings. */
export const TSHARK_STRING_LIMIT = 240;

const CODES: Partial<Record<AjpMessage['type'], number>> = {
  'forward-request': 2,
  'send-body-chunk': 3,
  'send-headers': 4,
  'end-response': 5,
  'get-body-chunk': 6,
  shutdown: 7,
  ping: 8,
  cpong: 9,
  cping: 10,
};

export function expectedFields(msg: AjpMessage, payloadLength: number, magic: string): DissectorFields {
  const f: DissectorFields = {};
  const add = (k: string, v: string | number | boolean | null): void => {
    // tshark shows string bytes as UTF-8 text where they are valid UTF-8.
    const text =
      v === null ? '' : typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'string' ? utf8View(v) : String(v);
    (f[`ajp13.${k}`] ??= []).push(text);
  };
  add('magic', magic);
  add('len', payloadLength);
  const code = CODES[msg.type];
  if (code !== undefined) add('code', code);
  switch (msg.type) {
    case 'forward-request':
      add('method', msg.methodCode ?? null);
      add('ver', msg.protocol);
      add('uri', msg.uri);
      add('raddr', msg.remoteAddr);
      add('rhost', msg.remoteHost);
      add('srv', msg.serverName);
      add('port', msg.serverPort);
      add('sslp', msg.isSsl);
      add('nhdr', msg.headers.length);
      addHeaders(msg.headers, add);
      for (const a of msg.attributes) {
        if (a.name === 'req_attribute') add('req_attribute', `${a.key ?? ''}: ${a.value ?? ''}`);
        else add(a.name, a.value);
      }
      break;
    case 'send-headers':
      add('rstatus', msg.status);
      add('rmsg', msg.message);
      add('nhdr', msg.headers.length);
      addHeaders(msg.headers, add);
      break;
    case 'body':
    case 'send-body-chunk':
      if (msg.data.length > 0) add('data', msg.data.toString('latin1'));
      break;
    case 'end-response':
      add('reusep', msg.reuse);
      break;
    case 'get-body-chunk':
      add('rlen', msg.requestedLength);
      break;
    default:
      break;
  }
  return f;
}

function addHeaders(headers: AjpHeader[], add: (k: string, v: string | null) => void): void {
  for (const h of headers) {
    if (h.coded === true) add(h.name.toLowerCase().replace(/-/g, '_'), h.value);
    else add('unknown_header', `${h.name}: ${h.value ?? ''}`);
  }
}

/**
 * Differences between what we expect tshark to show and what it showed, allowing for its
 * display limit: a long value of ours matches a tshark value that is a prefix of it.
 */
export function fieldDifferences(expected: DissectorFields, actual: DissectorFields): string[] {
  const diffs: string[] = [];
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const k of keys) {
    const want = expected[k] ?? [];
    const got = actual[k] ?? [];
    if (want.length !== got.length) {
      diffs.push(`${k}: expected ${JSON.stringify(want)}, tshark showed ${JSON.stringify(got)}`);
      continue;
    }
    want.forEach((w, i) => {
      const g = got[i] as string;
      const same =
        w === g ||
        (w.length > TSHARK_STRING_LIMIT && g.length >= TSHARK_STRING_LIMIT / 2 && w.startsWith(g.replace(/…$/, '')));
      if (!same)
        diffs.push(
          `${k}[${i}]: expected ${JSON.stringify(w.slice(0, 80))}, tshark showed ${JSON.stringify(g.slice(0, 80))}`,
        );
    });
  }
  return diffs;
}
