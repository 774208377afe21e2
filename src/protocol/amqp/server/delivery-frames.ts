// The frames of a message going out: basic.deliver, basic.get-ok and basic.return, each a method frame,
// a content header and the body frames. A message fanned out to many consumers within one task has its
// content header encoded once (it rides on the message, see `Message.shareEncoding`); only the method
// frame, which carries the channel's delivery tag, is encoded per delivery.
import type { Message, MessageContent } from '../../../broker/message.js';
import { buildMethod } from '../build-method.js';
import { encodeBodyFrames, encodeContentHeaderFrame } from '../content.js';
import { encodeMethodFrame } from '../method-codec.js';
import { propertiesToAmqp } from './message-mapping.js';

/** The content header frame as encoded for `channel`; another channel patches its number into a copy. */
class AmqpContentEncoding {
  constructor(
    readonly channel: number,
    readonly header: Buffer,
    readonly body: Uint8Array,
  ) {}

  headerFor(channel: number): Buffer {
    if (channel === this.channel) return this.header;
    const copy = Buffer.from(this.header);
    copy.writeUInt16BE(channel, 1);
    return copy;
  }
}

function contentFrames(channel: number, content: MessageContent, deliveryCount: number, frameMax: number): Buffer[] {
  const body = content.body;
  const header = encodeContentHeaderFrame(channel, body.byteLength, propertiesToAmqp(content.properties, deliveryCount));
  return [header, ...encodeBodyFrames(channel, body, frameMax)];
}

/** Header and body frames of a message's content, shared by every first delivery of it in this task. */
export function messageFrames(channel: number, message: Message, deliveryCount: number, frameMax: number): Buffer[] {
  // As the JSON protocol: a returning message carries `x-delivery-count`, so its header is its own.
  if (deliveryCount > 0) return contentFrames(channel, message.content, deliveryCount, frameMax);
  const shared = message.sharedEncoding;
  let encoding: AmqpContentEncoding;
  if (shared instanceof AmqpContentEncoding) encoding = shared;
  else {
    const content = message.content;
    const body = content.body;
    encoding = new AmqpContentEncoding(channel, encodeContentHeaderFrame(channel, body.byteLength, propertiesToAmqp(content.properties, 0)), body);
    message.shareEncoding(encoding);
  }
  return [encoding.headerFor(channel), ...encodeBodyFrames(channel, encoding.body, frameMax)];
}

export interface DeliveryFields {
  readonly consumerTag: string;
  readonly deliveryTag: number;
  readonly redelivered: boolean;
}

export function deliverFrames(channel: number, fields: DeliveryFields, message: Message, deliveryCount: number, frameMax: number): Buffer[] {
  const content = message.content;
  const method = encodeMethodFrame(
    channel,
    buildMethod('basic.deliver', {
      consumerTag: fields.consumerTag,
      deliveryTag: BigInt(fields.deliveryTag),
      redelivered: fields.redelivered,
      exchange: content.exchange,
      routingKey: content.routingKey,
    }),
  );
  return [method, ...messageFrames(channel, message, deliveryCount, frameMax)];
}

export interface GotFields {
  readonly deliveryTag: number;
  readonly redelivered: boolean;
  readonly messageCount: number;
}

export function getOkFrames(channel: number, fields: GotFields, message: Message, deliveryCount: number, frameMax: number): Buffer[] {
  const content = message.content;
  const method = encodeMethodFrame(
    channel,
    buildMethod('basic.get-ok', {
      deliveryTag: BigInt(fields.deliveryTag),
      redelivered: fields.redelivered,
      exchange: content.exchange,
      routingKey: content.routingKey,
      messageCount: fields.messageCount,
    }),
  );
  return [method, ...contentFrames(channel, content, deliveryCount, frameMax)];
}

export function returnFrames(channel: number, replyCode: number, replyText: string, message: Message, frameMax: number): Buffer[] {
  const content = message.content;
  const method = encodeMethodFrame(
    channel,
    buildMethod('basic.return', { replyCode, replyText, exchange: content.exchange, routingKey: content.routingKey }),
  );
  return [method, ...contentFrames(channel, content, 0, frameMax)];
}
