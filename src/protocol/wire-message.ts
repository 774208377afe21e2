import { isUtf8 } from 'node:buffer';
import { BrokerError } from '../broker/errors.js';
import { TextContent, type Message, type MessageContent, type MessageProperties } from '../broker/message.js';
import type { WireProperties } from './frames.js';

export type BodyEncoding = 'utf8' | 'base64';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBody(body: string, encoding: BodyEncoding): Buffer {
  if (encoding === 'utf8') return Buffer.from(body, 'utf8');
  if (!BASE64.test(body)) throw new BrokerError('SYNTAX_ERROR', 'publish: /body is not valid base64');
  return Buffer.from(body, 'base64');
}

/**
 * The content of a published frame. Text stays text (no byte copy until someone needs bytes), unless it
 * holds lone surrogates, which have no UTF-8 form: those are stored, and delivered, as their encoding.
 */
export function publishedContent(
  exchange: string,
  routingKey: string,
  properties: MessageProperties,
  body: string,
  encoding: BodyEncoding,
): MessageContent {
  if (encoding === 'utf8' && body.isWellFormed()) {
    return new TextContent(exchange, routingKey, properties, body, Buffer.byteLength(body, 'utf8'));
  }
  return { exchange, routingKey, properties, body: decodeBody(body, encoding) };
}

/** Text goes out as text; bytes that are not valid UTF-8 go out as base64. */
export function encodeBody(body: Uint8Array): { body: string; encoding: BodyEncoding } {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return isUtf8(bytes) ? { body: bytes.toString('utf8'), encoding: 'utf8' } : { body: bytes.toString('base64'), encoding: 'base64' };
}

/** A content's body as the protocol sends it: text that arrived as text goes back as it came. */
export function wireBody(content: MessageContent): { body: string; encoding: BodyEncoding } {
  return content instanceof TextContent ? { body: content.text, encoding: 'utf8' } : encodeBody(content.body);
}

/** `persistent: true` is shorthand for AMQP's delivery mode 2; the broker keeps only `deliveryMode`. */
export function fromWireProperties(wire: WireProperties): MessageProperties {
  if (wire.persistent === undefined) return wire;
  const { persistent, ...rest } = wire;
  if (rest.deliveryMode !== undefined && rest.deliveryMode !== (persistent ? 2 : 1)) {
    throw new BrokerError('SYNTAX_ERROR', 'publish: /properties/persistent contradicts /properties/deliveryMode');
  }
  return { ...rest, deliveryMode: persistent ? 2 : 1 };
}

export function toWireProperties(properties: MessageProperties): WireProperties {
  if (properties.deliveryMode === undefined) return properties;
  return { ...properties, persistent: properties.deliveryMode === 2 };
}

/** This protocol's encoding of a content, as it rides on the message; the class tells it from another edge's. */
class ContentJson {
  /** `json` cut before its headers, for deliveries that add `x-delivery-count`; made on the first such. */
  private cut: { head: string; headers: string } | undefined;

  constructor(
    readonly json: string,
    private readonly content: MessageContent,
  ) {}

  /**
   * The same fields with `x-delivery-count` added to the headers, last, replacing a publisher's own (as a
   * quorum queue does). Only the properties are encoded again; the body's encoding is shared.
   */
  withDeliveryCount(count: number): string {
    if (!this.cut) {
      const { headers, ...rest } = toWireProperties(this.content.properties);
      const { 'x-delivery-count': _publishers, ...kept } = headers ?? {};
      const others = JSON.stringify(rest).slice(0, -1);
      const keptJson = JSON.stringify(kept).slice(1, -1);
      const head = this.json.slice(0, this.json.lastIndexOf(',"properties":'));
      this.cut = {
        head: `${head},"properties":${others}${others.length > 1 ? ',' : ''}"headers":{`,
        headers: keptJson.length > 0 ? `${keptJson},` : '',
      };
    }
    return `${this.cut.head}${this.cut.headers}"x-delivery-count":${count}}}`;
  }
}

/**
 * `"exchange":…,"routingKey":…,"body":…,"encoding":…,"properties":{…}` without braces, ready to splice
 * after a delivery's own fields. Encoded once for every delivery of the message within the current task
 * (a publish fanned out to several queues reaches all their waiting consumers synchronously): the
 * encoding rides on the message itself, which lets it go when the task ends, so a message left in a
 * backlog or awaiting its ack keeps no JSON.
 */
export function messageContentJson(message: Message, deliveryCount = 0): string {
  const encoded = contentJsonOf(message);
  // As RabbitMQ's quorum queues: no header on a first delivery, the count of earlier returns after.
  return deliveryCount > 0 ? encoded.withDeliveryCount(deliveryCount) : encoded.json;
}

function contentJsonOf(message: Message): ContentJson {
  const shared = message.sharedEncoding;
  if (shared instanceof ContentJson) return shared;
  const content = message.content;
  const { body, encoding } = wireBody(content);
  const json =
    `"exchange":${JSON.stringify(content.exchange)},"routingKey":${JSON.stringify(content.routingKey)},` +
    `"body":${JSON.stringify(body)},"encoding":"${encoding}","properties":${JSON.stringify(toWireProperties(content.properties))}`;
  const encoded = new ContentJson(json, content);
  message.shareEncoding(encoded);
  return encoded;
}

/** Properties as a get reply sends them: with `x-delivery-count` once the message has come back (see above). */
export function propertiesWithDeliveryCount(properties: MessageProperties, deliveryCount: number): MessageProperties {
  if (deliveryCount === 0) return properties;
  const { 'x-delivery-count': _publishers, ...headers } = properties.headers ?? {};
  return { ...properties, headers: { ...headers, 'x-delivery-count': deliveryCount } };
}
