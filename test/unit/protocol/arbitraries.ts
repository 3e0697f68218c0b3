/** fast-check generators for every AJP message, shaped as the decoder returns them. */
import fc from 'fast-check';
import {
  ATTRIBUTE_NAMES,
  METHOD_NAMES,
  REQUEST_HEADER_NAMES,
  RESPONSE_HEADER_NAMES,
  type AjpAttribute,
  type AjpHeader,
  type AjpMessage,
  type ForwardRequest,
  type StringAttributeName,
  type ToContainerMessage,
  type ToWebServerMessage,
} from '../../../src/protocol/index.js';

/** A byte string (each char one byte), as the decoder produces. */
export const byteString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.uint8Array({ maxLength }).map((a) => Buffer.from(a).toString('latin1'));
export const maybeNull = (maxLength = 40): fc.Arbitrary<string | null> =>
  fc.option(byteString(maxLength), { nil: null, freq: 8 });

const headerName = (table: readonly (string | undefined)[]): fc.Arbitrary<AjpHeader> =>
  fc
    .oneof(
      fc.constantFrom(...table.filter((n): n is string => n !== undefined)).map((name) => ({ name, coded: true })),
      // A string name never starts with byte 0xA0 when its length is ≥ 0xA000; short names are always safe.
      byteString(20).map((name) => ({ name, coded: false })),
    )
    .chain((h) => maybeNull().map((value) => ({ ...h, value })));

const stringAttributeNames = ATTRIBUTE_NAMES.filter(
  (n): n is StringAttributeName =>
    n !== undefined && n !== 'req_attribute' && n !== 'ssl_key_size' && n !== 'stored_method',
);

const attribute: fc.Arbitrary<AjpAttribute> = fc.oneof(
  fc.record({ name: fc.constantFrom(...stringAttributeNames), value: maybeNull() }),
  fc.record({ name: fc.constant('ssl_key_size' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ name: fc.constant('req_attribute' as const), key: maybeNull(), value: maybeNull() }),
);

export const forwardRequest: fc.Arbitrary<ForwardRequest> = fc
  .record({
    methodCode: fc.oneof(fc.integer({ min: 1, max: 27 }), fc.constant(0xff)),
    storedMethod: fc.constantFrom('PATCH', 'PURGE', 'X-CUSTOM'),
    protocol: maybeNull(10),
    uri: maybeNull(80),
    remoteAddr: maybeNull(40),
    remoteHost: maybeNull(40),
    serverName: maybeNull(40),
    serverPort: fc.integer({ min: 0, max: 0xffff }),
    isSsl: fc.boolean(),
    headers: fc.array(headerName(REQUEST_HEADER_NAMES), { maxLength: 20 }),
    attributes: fc.array(attribute, { maxLength: 8 }),
  })
  .map(({ methodCode, storedMethod, ...rest }) => {
    const stored = methodCode === 0xff;
    return {
      type: 'forward-request',
      method: stored ? storedMethod : (METHOD_NAMES[methodCode] as string),
      methodCode,
      ...rest,
      attributes: stored ? [...rest.attributes, { name: 'stored_method', value: storedMethod }] : rest.attributes,
    };
  });

const data = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

export const toWebServerMessage: fc.Arbitrary<ToWebServerMessage> = fc.oneof(
  fc.record({
    type: fc.constant('send-headers' as const),
    status: fc.integer({ min: 0, max: 0xffff }),
    message: maybeNull(20),
    headers: fc.array(headerName(RESPONSE_HEADER_NAMES), { maxLength: 15 }),
  }),
  fc.record({ type: fc.constant('send-body-chunk' as const), data: data(300) }),
  fc.record({ type: fc.constant('send-body-chunk' as const), data: data(300), unpadded: fc.constant(true as const) }),
  fc.record({ type: fc.constant('end-response' as const), reuse: fc.boolean() }),
  fc.record({ type: fc.constant('get-body-chunk' as const), requestedLength: fc.integer({ min: 0, max: 0xffff }) }),
  fc.constant({ type: 'cpong' as const }),
);

/** Messages that are not body packets (whose reading depends on the exchange). */
export const toContainerMessage: fc.Arbitrary<ToContainerMessage> = fc.oneof(
  { weight: 4, arbitrary: forwardRequest },
  fc.constant({ type: 'cping' as const }),
  fc.constant({ type: 'shutdown' as const }),
  fc.constant({ type: 'ping' as const }),
);

export const anyMessage: fc.Arbitrary<AjpMessage> = fc.oneof(toContainerMessage, toWebServerMessage);
