import { describe, expect, it } from 'vitest';
import { decodeContentHeader, encodeContentHeaderFrame } from '../../../src/protocol/amqp/content.js';
import { ContentHeaderDecoder } from '../../../src/protocol/amqp/content-header-decoder.js';
import type { BasicProperties } from '../../../src/protocol/amqp/spec/methods.js';
import { allProperties } from './samples.js';

function headerPayload(bodySize: number, properties: BasicProperties): Buffer {
  const frame = encodeContentHeaderFrame(1, bodySize, properties);
  return frame.subarray(7, frame.length - 1);
}

describe('content header decoder', () => {
  it('decodes as decodeContentHeader, and reuses the properties of a header with the same property bytes', () => {
    const decoder = new ContentHeaderDecoder();
    const props: BasicProperties = { deliveryMode: 1, headers: new Map() };
    const first = decoder.decode(headerPayload(256, props));
    expect(first).toEqual(decodeContentHeader(headerPayload(256, props)));
    const second = decoder.decode(headerPayload(2 ** 40 + 3, props));
    expect(second).toEqual({ classId: 60, weight: 0, bodySize: 2 ** 40 + 3, properties: props });
    if ('kind' in first || 'kind' in second) throw new Error('decode failed');
    expect(second.properties).toBe(first.properties);
    const other = decoder.decode(headerPayload(256, { deliveryMode: 2, headers: new Map() }));
    expect(other).toEqual(decodeContentHeader(headerPayload(256, { deliveryMode: 2, headers: new Map() })));
  });

  it('round-trips every property', () => {
    const decoder = new ContentHeaderDecoder();
    for (const size of [0, 1, 1000]) expect(decoder.decode(headerPayload(size, allProperties()))).toEqual(decodeContentHeader(headerPayload(size, allProperties())));
  });

  it("after a remembered header, a malformed one still gets decodeContentHeader's error", () => {
    const decoder = new ContentHeaderDecoder();
    const good = headerPayload(10, { deliveryMode: 1 });
    decoder.decode(good);
    const tooLarge = Buffer.from(good);
    tooLarge.writeUInt32BE(0x20_0000, 4); // body size 2^53
    const otherClass = Buffer.from(good);
    otherClass[1] = 50;
    const truncated = good.subarray(0, good.length - 1);
    for (const bad of [tooLarge, otherClass, truncated]) {
      const generic = decodeContentHeader(bad);
      expect(generic).toMatchObject({ kind: 'error' });
      expect(decoder.decode(bad)).toEqual(generic);
    }
  });
});

describe('content header decoder: the kept copy', () => {
  it('is a copy, shared by headers of the same bytes, and a new one for other bytes', () => {
    const decoder = new ContentHeaderDecoder();
    const received = Buffer.from(headerPayload(256, { deliveryMode: 1 }));
    const kept = decoder.keep(received);
    expect(kept.equals(received)).toBe(true);
    received.fill(0);
    expect(kept.equals(headerPayload(256, { deliveryMode: 1 }))).toBe(true);
    expect(decoder.keep(headerPayload(256, { deliveryMode: 1 }))).toBe(kept);
    const other = decoder.keep(headerPayload(257, { deliveryMode: 1 }));
    expect(other).not.toBe(kept);
    expect(other.equals(headerPayload(257, { deliveryMode: 1 }))).toBe(true);
    expect(kept.equals(headerPayload(256, { deliveryMode: 1 }))).toBe(true);
  });
});
