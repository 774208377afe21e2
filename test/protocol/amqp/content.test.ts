import { describe, expect, it } from 'vitest';
import { ContentAssembler } from '../../../src/protocol/amqp/content-assembler.js';
import { decodeContentHeader, encodeBodyFrames, encodeContentHeaderFrame } from '../../../src/protocol/amqp/content.js';
import { FrameReader, type Frame } from '../../../src/protocol/amqp/frame-reader.js';
import { encodeFrame, HEARTBEAT_FRAME } from '../../../src/protocol/amqp/frame-writer.js';
import { encodeMethodFrame } from '../../../src/protocol/amqp/method-codec.js';
import { BASIC_PROPERTY_TABLE, type AmqpMethod, type BasicProperties } from '../../../src/protocol/amqp/spec/methods.js';
import { allProperties } from './samples.js';

function frames(...parts: Uint8Array[]): Frame[] {
  const out: Frame[] = [];
  for (const r of new FrameReader({ expectProtocolHeader: false, frameMax: 0 }).read(Buffer.concat(parts))) {
    if (r.kind !== 'frame') throw new Error(`unexpected ${r.kind}`);
    out.push(r);
  }
  return out;
}

const publish: AmqpMethod = { method: 'basic.publish', ticket: 0, exchange: 'x', routingKey: 'k', mandatory: false, immediate: false };

describe('content headers', () => {
  it('round-trip all 14 properties, and each one alone with the right flag bit', () => {
    const props = allProperties();
    const [f] = frames(encodeContentHeaderFrame(2, 77, props));
    expect(f && decodeContentHeader(f.payload)).toEqual({ classId: 60, weight: 0, bodySize: 77, properties: props });
    BASIC_PROPERTY_TABLE.forEach((p, i) => {
      const one: BasicProperties = { [p.field]: (props as Record<string, unknown>)[p.field] };
      const [g] = frames(encodeContentHeaderFrame(2, 1, one));
      expect(g?.payload.readUInt16BE(12), p.field).toBe(1 << (15 - i));
      expect(g && decodeContentHeader(g.payload), p.field).toMatchObject({ properties: one });
    });
  });

  it.each([
    ['unknown flag bit', (b: Buffer) => b.writeUInt16BE(0x0002, 12), 502],
    ['continuation flag word', (b: Buffer) => b.writeUInt16BE(0x0001, 12), 502],
    ['class without content', (b: Buffer) => b.writeUInt16BE(50, 0), 540],
    ['body size beyond 2^53', (b: Buffer) => b.writeUInt32BE(0xffffffff, 4), 502],
  ])('%s → %i', (_name, mutate, code) => {
    const [f] = frames(encodeContentHeaderFrame(2, 5, {}));
    if (!f) throw new Error('no frame');
    const payload = Buffer.from(f.payload);
    mutate(payload);
    expect(decodeContentHeader(payload)).toMatchObject({ kind: 'error', code });
  });

  it('truncated properties → 502', () => {
    const [f] = frames(encodeContentHeaderFrame(2, 5, allProperties()));
    if (!f) throw new Error('no frame');
    expect(decodeContentHeader(f.payload.subarray(0, f.payload.length - 3))).toMatchObject({ kind: 'error', code: 502 });
  });
});

describe('body frames', () => {
  it.each([4096, 4097, 131072, 0])('split a body by frame_max %i and reassemble it', (frameMax) => {
    const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
    const bodies = encodeBodyFrames(4, body, frameMax);
    for (const b of bodies) if (frameMax > 0) expect(b.length).toBeLessThanOrEqual(frameMax);
    expect(bodies).toHaveLength(frameMax === 0 ? 1 : Math.ceil(body.length / (frameMax - 8)));
    const a = new ContentAssembler();
    const results = frames(encodeMethodFrame(4, publish), encodeContentHeaderFrame(4, body.length, { deliveryMode: 2 }), ...bodies).map((f) => a.push(f));
    expect(results.slice(0, -1).every((r) => r === undefined)).toBe(true);
    const done = results.at(-1);
    expect(done && !('kind' in done) && done.content?.body.equals(body)).toBe(true);
    expect(done).toMatchObject({ method: publish, content: { properties: { deliveryMode: 2 } } });
  });

  it('an empty body has no body frames and completes at the header', () => {
    expect(encodeBodyFrames(1, Buffer.alloc(0), 4096)).toEqual([]);
    const a = new ContentAssembler();
    const [m, h] = frames(encodeMethodFrame(1, publish), encodeContentHeaderFrame(1, 0, {}));
    expect(m && a.push(m)).toBeUndefined();
    // The header's payload comes along as received, for a server to reuse on delivery.
    expect(h && a.push(h)).toEqual({ method: publish, content: { properties: {}, body: Buffer.alloc(0), header: h?.payload } });
  });

  it('methods without content complete at once', () => {
    const ack: AmqpMethod = { method: 'basic.ack', deliveryTag: 1n, multiple: false };
    const [f] = frames(encodeMethodFrame(1, ack));
    expect(f && new ContentAssembler().push(f)).toEqual({ method: ack });
  });
});

describe('content assembler refuses frames out of order with 505 UNEXPECTED_FRAME', () => {
  const method = encodeMethodFrame(1, publish);
  const header = encodeContentHeaderFrame(1, 10, {});
  const body = encodeFrame(3, 1, Buffer.alloc(10));
  it.each([
    ['header with no method', [header]],
    ['body with no header', [body]],
    ['body straight after the method', [method, body]],
    ['method while awaiting the header', [method, method]],
    ['method while awaiting the body', [method, header, method]],
    ['body longer than the header said', [method, header, encodeFrame(3, 1, Buffer.alloc(11))]],
    ['header after a method without content', [encodeMethodFrame(1, { method: 'basic.qos', prefetchSize: 0, prefetchCount: 1, global: false }), header]],
    ['heartbeat given to a channel', [HEARTBEAT_FRAME]],
  ])('%s', (_name, parts) => {
    const a = new ContentAssembler();
    const results = frames(...parts).map((f) => a.push(f));
    expect(results.at(-1)).toMatchObject({ kind: 'error', code: 505, name: 'UNEXPECTED_FRAME' });
  });

  it('names the method whose content was interrupted', () => {
    const a = new ContentAssembler();
    const results = frames(method, method).map((f) => a.push(f));
    expect(results[1]).toMatchObject({ classId: 60, methodId: 40 });
  });
});
