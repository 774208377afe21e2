/**
 * The REST edge of the protocol-neutral message: RabbitMQ's snake_case `properties`, and payloads as
 * `string` or `base64` (publish) / `auto` or `base64` (get, peek).
 */
import type { Headers, MessageContent, MessageProperties } from '../../broker/message.js';
import type { QueueEntry } from '../../broker/queue.js';
import { badRequest } from './errors.js';
import { propertiesWithDeliveryCount } from '../../protocol/wire-message.js';

/** JSON Schema of `properties` in a publish body; ints must be numbers and the rest strings, as RabbitMQ. */
export const rabbitPropertiesSchema = {
  type: 'object',
  properties: {
    content_type: { type: 'string' },
    content_encoding: { type: 'string' },
    headers: { type: 'object' },
    delivery_mode: { type: 'integer', enum: [1, 2] },
    priority: { type: 'integer', minimum: 0, maximum: 255 },
    correlation_id: { type: 'string' },
    reply_to: { type: 'string' },
    expiration: { type: 'string', pattern: '^[0-9]{1,12}$' },
    message_id: { type: 'string' },
    timestamp: { type: 'integer', minimum: 0 },
    type: { type: 'string' },
    user_id: { type: 'string' },
    app_id: { type: 'string' },
    cluster_id: { type: 'string' },
  },
} as const;

const names = [
  ['content_type', 'contentType'],
  ['content_encoding', 'contentEncoding'],
  ['headers', 'headers'],
  ['delivery_mode', 'deliveryMode'],
  ['priority', 'priority'],
  ['correlation_id', 'correlationId'],
  ['reply_to', 'replyTo'],
  ['expiration', 'expiration'],
  ['message_id', 'messageId'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['user_id', 'userId'],
  ['app_id', 'appId'],
] as const satisfies ReadonlyArray<readonly [string, keyof MessageProperties]>;

/** Validated by `rabbitPropertiesSchema` first; `cluster_id` (deprecated in AMQP) is dropped. */
export function fromRabbitProperties(properties: Readonly<Record<string, unknown>>): MessageProperties {
  const out: Record<string, unknown> = {};
  for (const [rabbit, warren] of names) {
    const value = properties[rabbit];
    if (value !== undefined) out[warren] = value;
  }
  const headers = out.headers;
  if (headers !== undefined && (headers === null || typeof headers !== 'object' || Array.isArray(headers))) {
    throw badRequest('properties.headers must be an object');
  }
  return out as MessageProperties & { headers?: Headers };
}

export function toRabbitProperties(properties: MessageProperties): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rabbit, warren] of names) {
    const value = properties[warren];
    if (value !== undefined) out[rabbit] = value;
  }
  return out;
}

export type PayloadEncoding = 'auto' | 'base64';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** RabbitMQ's get: `auto` returns valid UTF-8 as text, anything else as base64; `truncate` cuts bytes first. */
function encodePayload(body: Uint8Array, encoding: PayloadEncoding, truncate?: number): { payload: string; payload_encoding: 'string' | 'base64' } {
  const bytes = truncate !== undefined && body.length > truncate ? body.subarray(0, truncate) : body;
  if (encoding === 'auto') {
    try {
      return { payload: strictUtf8.decode(bytes), payload_encoding: 'string' };
    } catch {
      // Not text (or cut inside a character): fall through to base64.
    }
  }
  return { payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), payload_encoding: 'base64' };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodePayload(payload: string, encoding: string): Buffer {
  if (encoding === 'string') return Buffer.from(payload, 'utf8');
  if (encoding === 'base64') {
    const compact = payload.replace(/\s+/g, '');
    if (!BASE64.test(compact)) throw badRequest('payload is not valid base64');
    return Buffer.from(compact, 'base64');
  }
  throw badRequest(['unsupported_encoding', encoding]);
}

export interface FormattedMessage {
  exchange: string;
  routing_key: string;
  properties: Record<string, unknown>;
  payload: string;
  payload_encoding: string;
  payload_bytes: number;
}

/** One message of a get or peek response; `deliveryCount` adds `x-delivery-count` as a delivery would. */
export function formatContent(
  content: MessageContent,
  size: number,
  encoding: PayloadEncoding,
  truncate: number | undefined,
  deliveryCount = 0,
): FormattedMessage {
  return {
    exchange: content.exchange,
    routing_key: content.routingKey,
    properties: toRabbitProperties(propertiesWithDeliveryCount(content.properties, deliveryCount)),
    ...encodePayload(content.body, encoding, truncate),
    payload_bytes: size,
  };
}

export function formatEntry(entry: QueueEntry, encoding: PayloadEncoding, truncate: number | undefined): FormattedMessage & { redelivered: boolean } {
  const { message } = entry;
  return { ...formatContent(message.content, message.size, encoding, truncate, entry.deliveryCount), redelivered: entry.redelivered };
}
