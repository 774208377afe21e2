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
   * Copies the body out of the socket's chunks, so that keeping the message keeps no chunk. The header is
   * the assembler's own copy already (see Command.content.header).
   */
  static copied(exchange: string, routingKey: string, properties: MessageProperties, header: Uint8Array, body: Uint8Array): AmqpContent {
    const bytes = Buffer.allocUnsafe(body.byteLength);
    bytes.set(body, 0);
    return new AmqpContent(exchange, routingKey, properties, header, bytes);
  }
}
