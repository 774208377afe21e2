// A message's content as an AMQP publisher sent it: the broker sees ordinary properties, and a first
// delivery to an AMQP consumer reuses the content header exactly as it arrived instead of encoding it
// again (the header carries the body size and every property, all unchanged on the way out).
import type { MessageContent, MessageProperties } from '../../../broker/message.js';

export class AmqpContent implements MessageContent {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly properties: MessageProperties,
    /** The content header frame's payload as received. */
    readonly header: Uint8Array,
    readonly body: Uint8Array,
  ) {}

  /**
   * Copies header and body out of the socket's chunks into one allocation, so that keeping the message
   * keeps neither chunk.
   */
  static copied(exchange: string, routingKey: string, properties: MessageProperties, header: Uint8Array, body: Uint8Array): AmqpContent {
    const bytes = Buffer.allocUnsafe(header.byteLength + body.byteLength);
    bytes.set(header, 0);
    bytes.set(body, header.byteLength);
    return new AmqpContent(exchange, routingKey, properties, bytes.subarray(0, header.byteLength), bytes.subarray(header.byteLength));
  }
}
