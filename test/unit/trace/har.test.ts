/**
 * HAR both ways: the export of the lab capture validates against the HAR 1.2 JSON Schema (the
 * har-schema package, draft-06), trace → HAR → trace keeps every exchange (method, URI, headers,
 * status, bodies and the AJP fields HAR has no place for), binary bodies go as base64, and a browser's
 * HAR (no _ajpbench, HTTP/2 pseudo-headers) becomes a trace mod_jk could have sent.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../src/errors.js';
import {
  exportHar,
  httpVersionOf,
  importHar,
  parseHar,
  REDACTED,
  UNKNOWN_SHA256,
  type ExchangeEvent,
  type Har,
  type TraceEvent,
  type TraceOptions,
} from '../../../src/index.js';
import { importToEvents } from '../../fixtures/import-trace.js';
import { testTraceHeader } from '../../fixtures/trace-header.js';
import {
  readTraceFile,
  syntheticExchange,
  toTempTrace,
  writeTraceFile,
  type TraceContent,
} from '../../fixtures/trace-files.js';

const root = join(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);

/** har-schema's HAR 1.2 schemas are draft-06, with relative ids (entry.json#): all added, then har.json# compiled. */
function harValidator(): ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
  const addFormats = require('ajv-formats') as (a: Ajv) => Ajv;
  addFormats(ajv);
  for (const s of Object.values(require('har-schema') as Record<string, object>)) ajv.addSchema(s);
  return ajv.getSchema('har.json#')!;
}

const traceSchema = JSON.parse(readFileSync(join(root, 'docs/trace-format.schema.json'), 'utf8')) as { $id: string };
const traceAjv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).addSchema(traceSchema);
const validateTraceHeader = traceAjv.compile({ $ref: `${traceSchema.$id}#/$defs/header` });
const validateTraceEvent = traceAjv.compile({ $ref: `${traceSchema.$id}#/$defs/event` });

const ALL: TraceOptions = { redact: false, bodies: 'all', maxBody: 1024 * 1024 };

let lab: TraceContent;
let labFile: string;

beforeAll(async () => {
  const t = await importToEvents(join(root, 'captures/lab-mixed.pcap'), [28009, 29009, 28109, 29109], ALL);
  lab = { header: t.header, events: t.events };
  labFile = await writeTraceFile(t.header, t.events, 'lab.jsonl');
});

async function toHar(input: string): Promise<{ har: Har; text: string }> {
  const lines: string[] = [];
  await exportHar(input, { line: (l) => void lines.push(l) }, { creatorVersion: '0.0.0-test' });
  const text = lines.join('\n');
  return { har: JSON.parse(text) as Har, text };
}

async function fromHar(har: Har, trace: TraceOptions = ALL): Promise<TraceContent> {
  const out = toTempTrace();
  await importHar(har, out.open, { sourceName: 'x.har', tool: 't', trace });
  return readTraceFile(out.path);
}

const exchanges = (events: TraceEvent[]): ExchangeEvent[] =>
  events.filter((e): e is ExchangeEvent => e.event === 'exchange');

describe('HAR export', () => {
  it('validates against the HAR 1.2 schema: one entry per exchange, in start order, timings adding up', async () => {
    const { har } = await toHar(labFile);
    const validate = harValidator();
    expect(validate(har), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    // The validator is not vacuous: an entry without its timings, or a log without entries, fails.
    const broken = JSON.parse(JSON.stringify(har)) as { log: { entries: Record<string, unknown>[] } };
    delete broken.log.entries[0]!.timings;
    expect(validate(broken)).toBe(false);
    expect(validate({ log: { version: '1.2', creator: { name: 'x', version: '1' } } })).toBe(false);
    const xs = exchanges(lab.events);
    expect(har.log.entries.length).toBe(xs.length);
    const starts = har.log.entries.map((e) => Date.parse(e.startedDateTime));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    for (const e of har.log.entries) {
      const t = e.timings;
      expect(e.time).toBeCloseTo(t.send + t.wait + t.receive, 6);
      expect(e.request.url).toMatch(/^http:\/\/127\.0\.0\.1:2818\d\/app\//);
    }
    // A POST's body, as text, and a response body as text.
    const post = har.log.entries.find((e) => e.request.method === 'POST' && (e.request.postData?.text ?? '') !== '');
    expect(post?.request.postData?.mimeType).not.toBe(undefined);
    expect(har.log.entries.some((e) => (e.response.content.text ?? '').length > 0)).toBe(true);
    expect(har.log.creator).toEqual({ name: 'ajpbench', version: '0.0.0-test' });
  });

  it('takes the start from startTime when the header has no startTimeUs (a trace from before the field)', async () => {
    const old = testTraceHeader({ startTime: '2026-11-23T00:00:01.000Z' });
    delete (old as Partial<typeof old>).startTimeUs;
    const file = await writeTraceFile(old, [syntheticExchange({ id: 1, conn: 1, t: 2500 })]);
    const { har } = await toHar(file);
    expect(har.log.entries[0]?.startedDateTime).toBe('2026-11-23T00:00:01.002Z');
  });

  it('says a body it does not hold is not recorded, and marks a binary body base64', async () => {
    const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
    const x = syntheticExchange({ id: 1, conn: 1, t: 0 });
    x.request.method = 'POST';
    x.request.body = {
      length: bin.length,
      sha256: createHash('sha256').update(bin).digest('hex'),
      data: bin.toString('base64'),
    };
    x.response.body = { length: 100, sha256: 'a'.repeat(64) };
    const y = syntheticExchange({ id: 2, conn: 1, t: 500 });
    y.response.body = {
      length: bin.length,
      sha256: createHash('sha256').update(bin).digest('hex'),
      data: bin.toString('base64'),
    };
    const file = await writeTraceFile(testTraceHeader({ options: ALL }), [x, y]);
    const { har } = await toHar(file);
    const [a, b] = har.log.entries;
    expect(a?.request.postData).toMatchObject({ text: bin.toString('base64'), _encoding: 'base64' });
    expect(a?.response.content).toMatchObject({ size: 100, comment: 'body not recorded' });
    expect(a?.response.content.text).toBe(undefined);
    expect(b?.response.content).toMatchObject({ size: 6, text: bin.toString('base64'), encoding: 'base64' });
    const back = exchanges((await fromHar(har)).events);
    expect(back.map((e) => [e.request.body, e.response.body])).toEqual(
      [x, y].map((e) => [e.request.body, e.response.body]),
    );
  });
});

describe('HAR round trip: trace → HAR → trace', () => {
  it('keeps every exchange of the lab capture exactly: method, URI, query, headers, status, bodies, timing, AJP fields', async () => {
    const { har } = await toHar(labFile);
    const back = await fromHar(har);
    const original = exchanges(lab.events);
    const again = new Map(exchanges(back.events).map((e) => [e.id, e]));
    expect(again.size).toBe(original.length);
    for (const o of original) {
      const e = again.get(o.id)!;
      expect(e.request.method).toBe(o.request.method);
      expect(e.request.uri).toBe(o.request.uri);
      expect(e.request.query).toBe(o.request.query);
      expect(e.request.headers).toEqual(o.request.headers);
      expect(e.response.status).toBe(o.response.status);
      expect(e.response.headers).toEqual(o.response.headers);
      expect(e.request.body).toEqual(o.request.body);
      expect(e.response.body).toEqual(o.response.body);
      expect(e).toEqual(o); // and all the rest
    }
    expect(back.header.startTimeUs).toBe(lab.header.startTimeUs);
    expect(back.header.source).toEqual({ kind: 'har', file: 'x.har', creator: 'ajpbench 0.0.0-test' });
    expect(validateTraceHeader(back.header), JSON.stringify(validateTraceHeader.errors)).toBe(true);
    for (const e of back.events) expect(validateTraceEvent(e), JSON.stringify(validateTraceEvent.errors)).toBe(true);
  });

  it('keeps null header values and byte strings through _ajpbench', async () => {
    const x = syntheticExchange({ id: 7, conn: 3, t: 10 });
    x.request.headers.push(['X-Null', null]);
    x.request.uri = '/caf\u00e9'; // the bytes 63 61 66 e9 on the wire: not UTF-8
    x.byteStrings = true;
    x.response.body.data = ''; // bodies all: an empty body is kept, as empty
    const file = await writeTraceFile(testTraceHeader({ options: ALL }), [x]);
    const { har } = await toHar(file);
    expect(har.log.entries[0]?.request.headers.at(-1)).toEqual({ name: 'X-Null', value: '' });
    expect(exchanges((await fromHar(har)).events)).toEqual([x]);
  });

  it('percent-encodes what a URL cannot hold, keeps the exact path and query, and still validates', async () => {
    const x = syntheticExchange({ id: 1, conn: 1, t: 0, uri: '/a b/"q"' });
    x.request.query = 'q=x y&z=%41';
    x.response.body.data = '';
    const file = await writeTraceFile(testTraceHeader({ options: ALL }), [x]);
    const { har } = await toHar(file);
    expect(har.log.entries[0]?.request.url).toBe('http://shop.test/a%20b/%22q%22?q=x%20y&z=%41');
    expect(harValidator()(har)).toBe(true);
    expect(exchanges((await fromHar(har)).events)).toEqual([x]);
  });
});

describe('HAR import of a browser session', () => {
  const browserHar = (): Har => ({
    log: {
      version: '1.2',
      creator: { name: 'WebInspector', version: '537.36' },
      entries: [
        {
          startedDateTime: '2026-11-27T10:00:00.000Z',
          time: 50,
          request: {
            method: 'POST',
            url: 'https://shop.test/cart/add?item=42&qty=1',
            httpVersion: 'http/2.0',
            cookies: [],
            headers: [
              { name: ':authority', value: 'shop.test' },
              { name: ':method', value: 'POST' },
              { name: 'Content-Type', value: 'application/json' },
              { name: 'Cookie', value: 'JSESSIONID=ABC.tomcat2; theme=dark' },
              { name: 'Authorization', value: 'Bearer secret' },
              { name: 'X-Requested-With', value: 'fetch' },
            ],
            queryString: [],
            postData: { mimeType: 'application/json', text: '{"id":42}' },
            headersSize: -1,
            bodySize: 9,
          },
          response: {
            status: 201,
            statusText: 'Created',
            httpVersion: 'http/2.0',
            cookies: [],
            headers: [{ name: 'content-type', value: 'application/json' }],
            content: { size: 11, mimeType: 'application/json', text: '{"ok":true}' },
            redirectURL: '',
            headersSize: -1,
            bodySize: 11,
          },
          cache: {},
          timings: { blocked: 3, dns: -1, connect: -1, ssl: -1, send: 0.5, wait: 30, receive: 10 },
          serverIPAddress: '192.0.2.10',
        },
        {
          startedDateTime: '2026-11-27T10:00:00.020Z',
          time: 5,
          request: {
            method: 'GET',
            url: 'https://shop.test/img/logo.png',
            httpVersion: 'http/2.0',
            cookies: [],
            headers: [{ name: 'Accept', value: 'image/*' }],
            queryString: [],
            headersSize: -1,
            bodySize: 0,
          },
          response: {
            status: 200,
            statusText: '',
            httpVersion: 'http/2.0',
            cookies: [],
            headers: [],
            content: { size: 2048, mimeType: 'image/png' },
            redirectURL: '',
            headersSize: -1,
            bodySize: 2048,
          },
          cache: {},
          timings: { send: 0, wait: 4, receive: 1 },
        },
      ],
    },
  });

  it('gives each entry a Forward Request as mod_jk would send it', async () => {
    const t = await fromHar(browserHar(), { redact: false, bodies: 'all', maxBody: 1 << 20 });
    const [post, get] = exchanges(t.events).sort((a, b) => a.id - b.id);
    expect(post?.request).toMatchObject({
      method: 'POST',
      uri: '/cart/add',
      query: 'item=42&qty=1',
      serverName: 'shop.test',
      serverPort: 443,
      isSsl: true,
      protocol: 'HTTP/2.0',
    });
    expect(post?.request.headers).toEqual([
      ['host', 'shop.test'],
      ['content-type', 'application/json'],
      ['cookie', 'JSESSIONID=ABC.tomcat2; theme=dark'],
      ['authorization', 'Bearer secret'],
      ['X-Requested-With', 'fetch'],
      ['content-length', '9'],
    ]);
    expect(Buffer.from(post?.request.body.data ?? '', 'base64').toString()).toBe('{"id":42}');
    expect(post?.response).toMatchObject({ status: 201, message: 'Created' });
    expect(Buffer.from(post?.response.body.data ?? '', 'base64').toString()).toBe('{"ok":true}');
    expect(post?.timing).toEqual({ headersUs: 30_500, endUs: 40_500 });
    expect(post?.route).toBe('tomcat2');
    expect(post?.upstream).toBe('192.0.2.10:443');
    // The second starts while the first is in flight: another connection.
    expect(get?.t).toBe(20_000);
    expect(new Set([post?.conn, get?.conn])).toEqual(new Set([1, 2]));
    expect(get?.response.body).toEqual({ length: 2048, sha256: UNKNOWN_SHA256 });
    expect(get?.response.message).toBe(null);
    expect(t.header.startTime).toBe('2026-11-27T10:00:00.000Z');
    expect(t.header.source).toEqual({ kind: 'har', file: 'x.har', creator: 'WebInspector 537.36' });
  });

  it('names the protocol as httpd hands it to mod_jk', () => {
    expect(['http/1.1', 'HTTP/1.0', 'http/2.0', 'h2', 'h3', ''].map(httpVersionOf)).toEqual([
      'HTTP/1.1',
      'HTTP/1.0',
      'HTTP/2.0',
      'HTTP/2.0',
      'HTTP/3.0',
      'HTTP/1.1',
    ]);
  });

  it('skips entries that are not http or https (data:, blob:, ws:) and counts them', async () => {
    const har = browserHar();
    const data = JSON.parse(JSON.stringify(har.log.entries[1])) as Har['log']['entries'][number];
    data.request.url = 'data:image/png;base64,iVBORw0KGgo=';
    har.log.entries.push(data);
    const out = toTempTrace();
    const s = await importHar(har, out.open, { sourceName: 'x.har', tool: 't', trace: ALL });
    expect(s).toEqual({ entries: 3, exchanges: 2, notHttp: 1 });
    const byId = exchanges((await readTraceFile(out.path)).events).sort((a, b) => a.id - b.id);
    expect(byId.map((e) => e.request.uri)).toEqual(['/cart/add', '/img/logo.png']);
  });

  it('redacts credentials and cookies by default, keeping the JSESSIONID route', async () => {
    const t = await fromHar(browserHar(), { redact: true, bodies: 'request', maxBody: 4 });
    const post = exchanges(t.events).find((e) => e.request.method === 'POST')!;
    expect(post.request.headers).toContainEqual(['authorization', REDACTED]);
    const cookie = post.request.headers.find(([n]) => n === 'cookie')?.[1];
    expect(cookie).toMatch(new RegExp(`^JSESSIONID=${REDACTED}-[0-9a-f]{16}\\.tomcat2; theme=${REDACTED}$`));
    expect(post.route).toBe('tomcat2');
    // --max-body 4: the first 4 bytes, marked truncated; the response body not kept (bodies request).
    expect(post.request.body).toMatchObject({
      length: 9,
      data: Buffer.from('{"id').toString('base64'),
      truncated: true,
    });
    expect(post.response.body.data).toBe(undefined);
  });

  it('refuses what is not HAR with AJPBENCH_ERR_HAR, naming the entry and field', () => {
    const fail = (text: string): RuntimeError => {
      try {
        parseHar(text, 'f.har');
      } catch (e) {
        return e as RuntimeError;
      }
      throw new Error('parseHar accepted it');
    };
    expect(fail('not json').code).toBe('AJPBENCH_ERR_HAR');
    expect(fail('{"x":1}').message).toMatch(/no "log" object/);
    const har = browserHar();
    (har.log.entries[1] as unknown as { request: { url: number } }).request.url = 5;
    expect(fail(JSON.stringify(har)).message).toContain('log.entries[1].request.url');
  });
});
