import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../../src/protocol/amqp/frame-reader.js';
import { decodeMethod, encodeMethodFrame, encodeMethodPayload } from '../../../src/protocol/amqp/method-codec.js';
import { METHOD_TABLE, type AmqpMethod } from '../../../src/protocol/amqp/spec/methods.js';
import { AmqpEncodeError } from '../../../src/protocol/amqp/errors.js';
import { sampleMethod, smallTable } from './samples.js';

function roundTrip(method: AmqpMethod, channel = 3): unknown {
  const frame = encodeMethodFrame(channel, method);
  const [result] = [...new FrameReader({ expectProtocolHeader: false }).read(frame)];
  if (result?.kind !== 'frame') throw new Error('no frame');
  expect(result.channel).toBe(channel);
  expect(result.type).toBe(1);
  const decoded = decodeMethod(result.payload);
  // Re-encoding what was decoded gives the same bytes.
  if (!('kind' in decoded)) expect(encodeMethodFrame(channel, decoded).equals(frame)).toBe(true);
  return decoded;
}

describe('method codec', () => {
  it.each(METHOD_TABLE.map((spec) => ({ name: spec.name, spec })))('$name round-trips', ({ spec }) => {
    const method = sampleMethod(spec);
    expect(roundTrip(method)).toEqual(method);
  });

  it('packs consecutive bits into one octet, first bit lowest', () => {
    const payload = encodeMethodPayload({
      method: 'queue.declare',
      ticket: 0,
      queue: 'q',
      passive: true,
      durable: false,
      exclusive: true,
      autoDelete: false,
      nowait: true,
      arguments: new Map(),
    });
    // class 50, method 10, ticket, shortstr "q", one octet of bits 0b10101, empty table
    expect([...payload]).toEqual([0, 50, 0, 10, 0, 0, 1, 0x71, 0b10101, 0, 0, 0, 0]);
  });

  it('a bit run followed by another field, then more bits, uses two octets', () => {
    const payload = encodeMethodPayload({ method: 'basic.deliver', consumerTag: 'c', deliveryTag: 1n, redelivered: true, exchange: 'e', routingKey: 'k' });
    expect([...payload]).toEqual([0, 60, 0, 60, 1, 0x63, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0x65, 1, 0x6b]);
  });

  it('keeps 64-bit delivery tags exact', () => {
    const m: AmqpMethod = { method: 'basic.ack', deliveryTag: 0xffffffffffffffffn, multiple: true };
    expect(roundTrip(m)).toEqual(m);
  });

  it('refuses to encode values the wire cannot carry', () => {
    const long = 'x'.repeat(256);
    expect(() => encodeMethodPayload({ method: 'basic.consume-ok', consumerTag: long })).toThrow(AmqpEncodeError);
    expect(() => encodeMethodPayload({ method: 'basic.qos', prefetchSize: 0, prefetchCount: 70000, global: false })).toThrow(AmqpEncodeError);
    expect(() => encodeMethodPayload({ method: 'basic.ack', deliveryTag: -1n, multiple: false })).toThrow(AmqpEncodeError);
  });

  describe('malformed payloads give typed errors', () => {
    const valid = encodeMethodPayload({ method: 'queue.bind', ticket: 0, queue: 'q', exchange: 'x', routingKey: 'rk', nowait: false, arguments: smallTable() });
    const cases: [string, Uint8Array, number, string][] = [
      ['shorter than class and method ids', Uint8Array.of(0, 60, 0), 501, 'FRAME_ERROR'],
      ['unknown class', Uint8Array.of(0x12, 0x34, 0, 10), 540, 'NOT_IMPLEMENTED'],
      ['unknown method of a known class', Uint8Array.of(0, 60, 0, 99), 540, 'NOT_IMPLEMENTED'],
      ['truncated arguments', valid.subarray(0, 10), 501, 'FRAME_ERROR'],
      ['truncated table', valid.subarray(0, valid.length - 3), 501, 'FRAME_ERROR'],
      ['trailing bytes', Buffer.concat([valid, Uint8Array.of(0)]), 501, 'FRAME_ERROR'],
      ['shortstr length past the end', Uint8Array.of(0, 60, 0, 21, 200, 0x61), 501, 'FRAME_ERROR'],
      ['longstr length past the end', Uint8Array.of(0, 10, 0, 21, 0xff, 0xff, 0xff, 0xff), 501, 'FRAME_ERROR'],
      ['table length past the end', Uint8Array.of(0, 40, 0, 10, 0, 0, 1, 0x78, 1, 0x64, 0, 0xff, 0, 0, 0), 501, 'FRAME_ERROR'],
    ];
    // queue.bind whose arguments table holds one entry "k" with the undefined type tag 'Q'.
    const unknownType = Buffer.concat([valid.subarray(0, valid.length - smallTableBytes()), Uint8Array.of(0, 0, 0, 3, 1, 0x6b, 0x51)]);
    cases.push(['unknown field value type', unknownType, 501, 'FRAME_ERROR']);

    it.each(cases)('%s → %i %s', (_name, payload, code, name) => {
      const result = decodeMethod(payload);
      expect(result).toMatchObject({ kind: 'error', code, name });
      if ('kind' in result) {
        expect(result.replyText.startsWith(`${name} - `)).toBe(true);
        expect(Buffer.byteLength(result.replyText)).toBeLessThanOrEqual(255);
      }
    });

    it('an error names the class and method being decoded', () => {
      expect(decodeMethod(valid.subarray(0, 10))).toMatchObject({ classId: 50, methodId: 20 });
    });
  });
});

function smallTableBytes(): number {
  const withTable = encodeMethodPayload({ method: 'queue.bind', ticket: 0, queue: 'q', exchange: 'x', routingKey: 'rk', nowait: false, arguments: smallTable() });
  const without = encodeMethodPayload({ method: 'queue.bind', ticket: 0, queue: 'q', exchange: 'x', routingKey: 'rk', nowait: false, arguments: new Map() });
  return withTable.length - without.length + 4;
}

describe('shortstr text', () => {
  it('refuses a shortstr that is not UTF-8 (501, as RabbitMQ) rather than decoding it lossily', () => {
    expect(decodeMethod(Uint8Array.of(0, 60, 0, 21, 2, 0xc3, 0x28))).toMatchObject({ kind: 'error', code: 501 });
  });
  it('keeps a leading byte-order mark', () => {
    const m: AmqpMethod = { method: 'basic.consume-ok', consumerTag: '\uFEFFtag' };
    expect(decodeMethod(encodeMethodPayload(m))).toEqual(m);
  });
});

describe('encoding refuses incomplete methods', () => {
  it('a missing argument throws AmqpEncodeError rather than writing a short frame', () => {
    const partial = { method: 'basic.publish', exchange: 'x' } as unknown as AmqpMethod;
    expect(() => encodeMethodFrame(1, partial)).toThrow(AmqpEncodeError);
  });
});
