// The hand-written delivery encoding against the generic codec: the same bytes, whatever the channel,
// frame_max, tag size and content origin.
import { describe, expect, it } from 'vitest';
import { Message, TextContent } from '../../../../src/broker/message.js';
import { buildMethod } from '../../../../src/protocol/amqp/build-method.js';
import { encodeBodyFrames, encodeContentHeaderFrame } from '../../../../src/protocol/amqp/content.js';
import { encodeMethodFrame } from '../../../../src/protocol/amqp/method-codec.js';
import { AmqpContent } from '../../../../src/protocol/amqp/server/amqp-content.js';
import { deliverFrames, type DeliveryFields } from '../../../../src/protocol/amqp/server/delivery-frames.js';
import { propertiesToAmqp } from '../../../../src/protocol/amqp/server/message-mapping.js';
import type { MessageContent } from '../../../../src/broker/message.js';

function expected(channel: number, tag: number, content: MessageContent, deliveryCount: number, frameMax: number): Buffer {
  const method = encodeMethodFrame(
    channel,
    buildMethod('basic.deliver', { consumerTag: 'ctag-ü', deliveryTag: BigInt(tag), redelivered: tag % 2 === 0, exchange: content.exchange, routingKey: content.routingKey }),
  );
  const header = encodeContentHeaderFrame(channel, content.body.byteLength, propertiesToAmqp(content.properties, deliveryCount));
  return Buffer.concat([method, header, ...encodeBodyFrames(channel, content.body, frameMax)]);
}

const properties = { contentType: 'text/plain', headers: { a: 1, b: 'x' }, deliveryMode: 2 as const, priority: 3, messageId: 'm', timestamp: 1_700_000_000 };

/** The bytes deliverFrames writes, into a sink that hands out exactly the room asked for, once. */
function delivered(channel: number, fields: DeliveryFields, message: Message, deliveryCount: number, frameMax: number): Buffer {
  const reserved: Buffer[] = [];
  deliverFrames({ reserve: (size) => reserved[reserved.push(Buffer.alloc(size, 0xaa)) - 1] }, channel, fields, message, deliveryCount, frameMax);
  expect(reserved).toHaveLength(1);
  return reserved[0] ?? Buffer.alloc(0);
}

describe('deliverFrames', () => {
  it.each([
    [1, 1, 5, 4096],
    [2047, 2 ** 40 + 3, 10_000, 4096],
    [7, 2 ** 53 - 1, 0, 131072],
  ])('channel %i, tag %i, %i-byte body, frame_max %i: the generic codec bytes', (channel, tag, size, frameMax) => {
    const body = Buffer.alloc(size, 7);
    const content: MessageContent = { exchange: 'ex-é', routingKey: 'rk.1', properties, body };
    for (const deliveryCount of [0, 2]) {
      const message = Message.create(1, content);
      const bytes = delivered(channel, { consumerTag: 'ctag-ü', deliveryTag: tag, redelivered: tag % 2 === 0 }, message, deliveryCount, frameMax);
      expect(bytes).toEqual(expected(channel, tag, content, deliveryCount, frameMax));
    }
  });

  it("reuses an AMQP publisher's own header on a first delivery, and encodes one after a return", () => {
    const header = encodeContentHeaderFrame(0, 3, propertiesToAmqp(properties, 0));
    const payload = header.subarray(7, header.length - 1);
    const content = AmqpContent.copied('', 'q', properties, payload, Buffer.from('abc'));
    const first = delivered(5, { consumerTag: 't', deliveryTag: 1, redelivered: false }, Message.create(1, content), 0, 4096);
    expect(first).toEqual(expected5(content, 0));
    const again = delivered(5, { consumerTag: 't', deliveryTag: 1, redelivered: false }, Message.create(2, content), 1, 4096);
    expect(again).toEqual(expected5(content, 1));
  });

  it('writes nothing when the sink has no room (the connection is closing)', () => {
    const content = new TextContent('', 'q', {}, 'x', 1);
    expect(() => deliverFrames({ reserve: () => undefined }, 1, { consumerTag: 't', deliveryTag: 1, redelivered: false }, Message.create(1, content), 0, 4096)).not.toThrow();
  });

  it('encodes a JSON-published text body once per delivery', () => {
    const content = new TextContent('', 'q', { headers: {} }, 'héllo', Buffer.byteLength('héllo'));
    const bytes = delivered(1, { consumerTag: 't', deliveryTag: 1, redelivered: false }, Message.create(1, content), 0, 4096);
    expect(bytes.subarray(-Buffer.byteLength('héllo') - 1, -1).toString()).toBe('héllo');
  });
});

function expected5(content: MessageContent, deliveryCount: number): Buffer {
  const method = encodeMethodFrame(5, buildMethod('basic.deliver', { consumerTag: 't', deliveryTag: 1n, redelivered: false, exchange: '', routingKey: 'q' }));
  const header = encodeContentHeaderFrame(5, 3, propertiesToAmqp(content.properties, deliveryCount));
  return Buffer.concat([method, header, ...encodeBodyFrames(5, content.body, 4096)]);
}
