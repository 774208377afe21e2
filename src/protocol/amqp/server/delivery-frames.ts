// The frames of a message going out: basic.deliver, basic.get-ok and basic.return, each a method frame,
// a content header and the body frames, written into one buffer. The content header is the publisher's
// own when an AMQP client published the message and nothing changed it; otherwise it is encoded once for
// every delivery of the message within the current task (it rides on the message, see
// `Message.shareEncoding`). basic.deliver, the hot path, is encoded by hand.
import type { Message, MessageContent } from '../../../broker/message.js';
import { buildMethod } from '../build-method.js';
import { encodeContentHeaderFrame } from '../content.js';
import { FRAME_BODY, FRAME_END, FRAME_HEADER, FRAME_METHOD, FRAME_OVERHEAD } from '../frame-constants.js';
import { encodeMethodFrame } from '../method-codec.js';
import { AmqpContent } from './amqp-content.js';
import { propertiesToAmqp } from './message-mapping.js';

/** A content header's payload, encoded once for the deliveries of a message within one task. */
class EncodedHeader {
  constructor(readonly payload: Uint8Array) {}
}

/** The content header's payload (no frame envelope) for a delivery of `message`. */
function headerPayload(content: MessageContent, bodySize: number, message: Message | undefined, deliveryCount: number): Uint8Array {
  // As the JSON protocol: a returning message carries `x-delivery-count`, so its header is its own.
  if (deliveryCount === 0 && content instanceof AmqpContent) return content.header;
  if (deliveryCount > 0 || message === undefined) return encodeHeader(content, bodySize, deliveryCount);
  const shared = message.sharedEncoding;
  if (shared instanceof EncodedHeader) return shared.payload;
  const encoded = new EncodedHeader(encodeHeader(content, bodySize, 0));
  message.shareEncoding(encoded);
  return encoded.payload;
}

function encodeHeader(content: MessageContent, bodySize: number, deliveryCount: number): Uint8Array {
  const frame = encodeContentHeaderFrame(0, bodySize, propertiesToAmqp(content.properties, deliveryCount));
  return frame.subarray(7, frame.length - 1);
}

/** Body bytes per body frame under `frameMax` (0: no limit). */
function bodyRoom(body: Uint8Array, frameMax: number): number {
  return frameMax > 0 ? frameMax - FRAME_OVERHEAD : body.byteLength;
}

/** The header frame and the body frames' bytes, envelopes included. */
function contentSize(header: Uint8Array, body: Uint8Array, room: number): number {
  const bodyFrames = body.byteLength === 0 ? 0 : Math.ceil(body.byteLength / room);
  return header.byteLength + FRAME_OVERHEAD + body.byteLength + bodyFrames * FRAME_OVERHEAD;
}

/** Writes the header frame and the body frames at `at`. */
function writeContent(out: Buffer, at: number, channel: number, header: Uint8Array, body: Uint8Array, room: number): void {
  let next = writeFrame(out, at, FRAME_HEADER, channel, header);
  // Most bodies fit one frame: no view of them then.
  if (body.byteLength <= room) {
    if (body.byteLength > 0) writeFrame(out, next, FRAME_BODY, channel, body);
    return;
  }
  for (let from = 0; from < body.byteLength; from += room) next = writeFrame(out, next, FRAME_BODY, channel, body.subarray(from, from + room));
}

/** Method frame bytes, then the header frame and body frames, all in one buffer. */
function withContent(channel: number, method: Uint8Array, header: Uint8Array, body: Uint8Array, frameMax: number): Buffer {
  const room = bodyRoom(body, frameMax);
  const out = Buffer.allocUnsafe(method.byteLength + contentSize(header, body, room));
  out.set(method, 0);
  writeContent(out, method.byteLength, channel, header, body, room);
  return out;
}

/** Byte stores rather than writeUInt16BE/writeUInt32BE: no range checks for values known to fit. */
function writeFrameHeader(out: Buffer, at: number, type: number, channel: number, size: number): void {
  out[at] = type;
  out[at + 1] = channel >>> 8;
  out[at + 2] = channel & 0xff;
  writeLong(out, at + 3, size);
}

function writeLong(out: Buffer, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function writeFrame(out: Buffer, at: number, type: number, channel: number, payload: Uint8Array): number {
  const size = payload.byteLength;
  writeFrameHeader(out, at, type, channel, size);
  out.set(payload, at + 7);
  out[at + 7 + size] = FRAME_END;
  return at + 8 + size;
}

export interface DeliveryFields {
  readonly consumerTag: string;
  readonly deliveryTag: number;
  readonly redelivered: boolean;
}

const BASIC = 60;
const DELIVER = 60;

/** A shortstr's bytes, for a string that usually repeats from one delivery to the next. */
class RepeatedShortstr {
  private last = '';
  private bytes: Buffer = Buffer.alloc(0);

  encode(s: string): Buffer {
    if (s !== this.last) {
      this.bytes = Buffer.from(s, 'utf8');
      this.last = s;
    }
    return this.bytes;
  }
}

const consumerTags = new RepeatedShortstr();
const exchanges = new RepeatedShortstr();
const routingKeys = new RepeatedShortstr();

/** Where a delivery's frames are written: straight into the connection's send buffer. */
export interface FrameSink {
  /** `size` bytes to fill at once; undefined when nothing may be written. */
  reserve(size: number): Buffer | undefined;
}

/**
 * A delivery's frames, written into `sink`: basic.deliver's method frame, written by hand (it is encoded
 * once per delivery), then the content's frames.
 */
export function deliverFrames(sink: FrameSink, channel: number, fields: DeliveryFields, message: Message, deliveryCount: number, frameMax: number): void {
  const content = message.content;
  const body = content.body;
  const header = headerPayload(content, body.byteLength, message, deliveryCount);
  const room = bodyRoom(body, frameMax);
  const tag = consumerTags.encode(fields.consumerTag);
  const exchange = exchanges.encode(content.exchange);
  const routingKey = routingKeys.encode(content.routingKey);
  const payload = 4 + 1 + tag.length + 8 + 1 + 1 + exchange.length + 1 + routingKey.length;
  const out = sink.reserve(payload + FRAME_OVERHEAD + contentSize(header, body, room));
  if (out === undefined) return;
  writeFrameHeader(out, 0, FRAME_METHOD, channel, payload);
  out[7] = 0;
  out[8] = BASIC;
  out[9] = 0;
  out[10] = DELIVER;
  let at = 11;
  out[at++] = tag.length;
  out.set(tag, at);
  at += tag.length;
  // Delivery tags stay below 2^53: two 32-bit halves, no BigInt.
  writeLong(out, at, Math.floor(fields.deliveryTag / 0x1_0000_0000));
  writeLong(out, at + 4, fields.deliveryTag >>> 0);
  at += 8;
  out[at++] = fields.redelivered ? 1 : 0;
  out[at++] = exchange.length;
  out.set(exchange, at);
  at += exchange.length;
  out[at++] = routingKey.length;
  out.set(routingKey, at);
  at += routingKey.length;
  out[at++] = FRAME_END;
  writeContent(out, at, channel, header, body, room);
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
  const body = content.body;
  return [withContent(channel, method, headerPayload(content, body.byteLength, undefined, deliveryCount), body, frameMax)];
}

export function returnFrames(channel: number, replyCode: number, replyText: string, message: Message, frameMax: number): Buffer[] {
  const content = message.content;
  const method = encodeMethodFrame(
    channel,
    buildMethod('basic.return', { replyCode, replyText, exchange: content.exchange, routingKey: content.routingKey }),
  );
  const body = content.body;
  return [withContent(channel, method, headerPayload(content, body.byteLength, undefined, 0), body, frameMax)];
}
