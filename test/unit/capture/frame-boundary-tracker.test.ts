/**
 * FrameBoundaryTracker: busy exactly while an exchange or a CPing is under way or a packet is
 * partly received, whatever the chunking; request body chunks whose first byte looks like a
 * Forward Request or a CPing code are not taken for one; garbage is skipped.
 */
import { describe, expect, it } from 'vitest';
import { FrameBoundaryTracker } from '../../../src/capture/frame-boundary-tracker.js';
import {
  AjpEncoder,
  CPING_FRAME,
  CPONG_FRAME,
  END_RESPONSE_REUSE_FRAME,
  type Direction,
} from '../../../src/protocol/index.js';
import { forwardRequest } from '../../fixtures/ajp-test-client.js';

const enc = new AjpEncoder();
const sendHeaders = enc.sendHeaders({ status: 200, message: 'OK', headers: [{ name: 'Content-Length', value: '3' }] });

/** Feeds `bytes` split at `at` and says whether the tracker was busy after each part. */
function feed(t: FrameBoundaryTracker, direction: Direction, bytes: Buffer, at: number): boolean[] {
  const parts = at <= 0 || at >= bytes.length ? [bytes] : [bytes.subarray(0, at), bytes.subarray(at)];
  return parts.map((p) => {
    t.push(direction, p);
    return t.busy;
  });
}

describe('FrameBoundaryTracker', () => {
  it('an exchange: busy from the Forward Request to the End Response, split at every offset of every packet', () => {
    const steps: [Direction, Buffer][] = [
      ['to-container', enc.forwardRequest(forwardRequest('/a', { bodyLength: 0 }))],
      ['to-web-server', sendHeaders],
      ['to-web-server', enc.sendBodyChunk(Buffer.from('abc'))],
      ['to-web-server', END_RESPONSE_REUSE_FRAME],
    ];
    for (const [k, [, packet]] of steps.entries()) {
      for (let at = 0; at <= packet.length; at++) {
        const t = new FrameBoundaryTracker();
        expect(t.busy).toBe(false);
        steps.forEach(([direction, bytes], j) => {
          const busy = feed(t, direction, bytes, j === k ? at : 0);
          const last = j === steps.length - 1;
          // Every part but the very last leaves something under way.
          busy.forEach((b, i) =>
            expect(b, `packet ${j} split at ${at}, part ${i}`).toBe(!(last && i === busy.length - 1)),
          );
        });
      }
    }
  });

  it('a CPing is under way until its CPong', () => {
    const t = new FrameBoundaryTracker();
    t.push('to-container', CPING_FRAME);
    expect(t.busy).toBe(true);
    t.push('to-web-server', CPONG_FRAME.subarray(0, 3));
    expect(t.busy).toBe(true);
    t.push('to-web-server', CPONG_FRAME.subarray(3));
    expect(t.busy).toBe(false);
  });

  it('request body chunks starting with 0x02 or 0x0a (lengths 512-767 and 2560-2815) are body, not a new exchange', () => {
    const t = new FrameBoundaryTracker();
    t.push('to-container', enc.forwardRequest(forwardRequest('/up', { bodyLength: 600 + 2600 })));
    t.push('to-container', enc.body(Buffer.alloc(600, 1)));
    t.push('to-web-server', enc.getBodyChunk(8186));
    t.push('to-container', enc.body(Buffer.alloc(2600, 2)));
    t.push('to-web-server', sendHeaders);
    t.push('to-web-server', END_RESPONSE_REUSE_FRAME);
    expect(t.busy).toBe(false);
    // Idle again: the next Forward Request starts the next exchange.
    t.push('to-container', enc.forwardRequest(forwardRequest('/next')));
    expect(t.busy).toBe(true);
  });

  it('skips garbage between packets and still sees the exchange that follows', () => {
    const t = new FrameBoundaryTracker();
    t.push('to-container', Buffer.from('GET / HTTP/1.1\r\n\r\n\x12'));
    expect(t.busy).toBe(true); // a magic's first byte: a header may be starting
    t.push('to-container', Buffer.from([0x00]));
    expect(t.busy).toBe(false);
    t.push('to-container', enc.forwardRequest(forwardRequest('/b')));
    t.push('to-web-server', Buffer.concat([Buffer.from('junk'), sendHeaders, END_RESPONSE_REUSE_FRAME]));
    expect(t.busy).toBe(false);
  });
});
