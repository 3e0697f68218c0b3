/**
 * One Forward Request model: the codec's ForwardRequest is the base; the trace's request keeps its
 * own JSON form only where it differs, and what the load clients send is a ForwardRequest.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { toReplayRequest, type ReplayRequest } from '../../src/load/replay-request.js';
import {
  AjpEncoder,
  METHOD_STORED,
  decodeToContainer,
  type AjpAttribute,
  type AjpHeader,
  type ForwardRequest,
} from '../../src/protocol/index.js';
import type { HeaderPair, TraceRequest } from '../../src/trace/index.js';
import { exchange } from './load/helpers.js';

type Shared = 'method' | 'protocol' | 'uri' | 'remoteAddr' | 'remoteHost' | 'serverName' | 'serverPort' | 'isSsl';

describe('the Forward Request model', () => {
  it('types: the trace request shares the fixed fields and differs only where its JSON form does', () => {
    expectTypeOf<Pick<TraceRequest, Shared>>().toEqualTypeOf<Pick<ForwardRequest, Shared>>();
    expectTypeOf<TraceRequest['headers']>().toEqualTypeOf<HeaderPair[]>();
    expectTypeOf<ForwardRequest['headers']>().toEqualTypeOf<AjpHeader[]>();
    expectTypeOf<TraceRequest>().not.toHaveProperty('type');
    expectTypeOf<TraceRequest>().not.toHaveProperty('methodCode');
    expectTypeOf<ReplayRequest>().toExtend<ForwardRequest>();
    expectTypeOf<ReplayRequest['attributes']>().toEqualTypeOf<AjpAttribute[]>();
  });

  it('a replay request is encoded as it is, and decodes to the same Forward Request', () => {
    const ex = exchange({ method: 'GET', uri: '/a' });
    const req = toReplayRequest(ex);
    expect(req.type).toBe('forward-request');
    expect(req.methodCode).toBeUndefined();
    const back = decodeToContainer(new AjpEncoder().forwardRequest(req).subarray(4)) as ForwardRequest;
    for (const k of [
      'method',
      'protocol',
      'uri',
      'remoteAddr',
      'remoteHost',
      'serverName',
      'serverPort',
      'isSsl',
    ] as const)
      expect(back[k], k).toEqual(req[k]);
    expect(back.headers.map((h) => [h.name, h.value])).toEqual(ex.request.headers);
    expect(back.attributes).toEqual(req.attributes);
  });

  it('a method outside the table keeps method byte 0xFF and its stored_method attribute (§4)', () => {
    const ex = exchange({ method: 'PATCH' });
    ex.request.attributes = { ...ex.request.attributes, stored_method: 'PATCH' };
    const req = toReplayRequest(ex);
    expect(req.methodCode).toBe(METHOD_STORED);
    const back = decodeToContainer(new AjpEncoder().forwardRequest(req).subarray(4)) as ForwardRequest;
    expect(back.methodCode).toBe(METHOD_STORED);
    expect(back.method).toBe('PATCH');
    expect(back.attributes.filter((a) => a.name === 'stored_method')).toEqual([
      { name: 'stored_method', value: 'PATCH' },
    ]);
  });
});
