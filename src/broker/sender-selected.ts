import { preconditionFailed } from './errors.js';
import type { Headers, MessageContent } from './message.js';

/**
 * RabbitMQ's sender-selected distribution: routing keys in a message's `CC` and `BCC` headers (arrays of
 * strings) route it as well as its own routing key, and `BCC` is removed before anyone sees the message.
 * Undefined when the message has neither header (the common case costs one lookup each).
 */
export function senderSelectedKeys(headers: Headers | undefined): string[] | undefined {
  if (headers === undefined) return undefined;
  const cc = headers.CC;
  const bcc = headers.BCC;
  if (cc === undefined && bcc === undefined) return undefined;
  return [...keysOf('CC', cc), ...keysOf('BCC', bcc)];
}

function keysOf(name: string, value: Headers[string] | undefined): string[] {
  if (value === undefined) return [];
  // As RabbitMQ (rabbit_basic:header_routes): an array's string elements count, anything else is refused.
  if (!Array.isArray(value)) throw preconditionFailed(`invalid message: {unacceptable_type_in_header,"${name}",${typeName(value)}}`);
  return value.filter((key): key is string => typeof key === 'string');
}

function typeName(value: Headers[string]): string {
  if (typeof value === 'string') return 'longstr';
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'double';
  if (typeof value === 'boolean') return 'bool';
  if (value === null) return 'void';
  return 'table';
}

/** The content without its `BCC` header, which no consumer may see. */
export function withoutBcc(content: MessageContent): MessageContent {
  const headers = content.properties.headers;
  if (headers?.BCC === undefined) return content;
  const { BCC: _hidden, ...kept } = headers;
  return { exchange: content.exchange, routingKey: content.routingKey, body: content.body, properties: { ...content.properties, headers: kept } };
}
