// TEMPORARY minimal mapping so the server can be wired; replaced by the full mapping (helper branch h-map).
import type { Headers, HeaderValue, MessageProperties } from '../../../broker/message.js';
import type { FieldTable, FieldValue } from '../field-table.js';
import type { BasicProperties } from '../spec/methods.js';

export function tableToJson(table: FieldTable): Headers {
  const out: Headers = {};
  for (const [key, value] of table) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: FieldValue): HeaderValue {
  switch (value.type) {
    case 'void':
      return null;
    case 'int64':
    case 'timestamp':
      return Number(value.value);
    case 'longstr':
    case 'bytes':
      return Buffer.from(value.value).toString('utf8');
    case 'decimal':
      return value.value.value / 10 ** value.value.scale;
    case 'array':
      return value.value.map(valueToJson);
    case 'table':
      return tableToJson(value.value);
    default:
      return value.value;
  }
}

export function jsonToTable(headers: Headers): FieldTable {
  const out = new Map<string, FieldValue>();
  for (const [key, value] of Object.entries(headers)) out.set(key, jsonToValue(value));
  return out;
}

function jsonToValue(value: HeaderValue): FieldValue {
  if (value === null) return { type: 'void' };
  if (typeof value === 'string') return { type: 'longstr', value: Buffer.from(value) };
  if (typeof value === 'boolean') return { type: 'bool', value };
  if (typeof value === 'number') return Number.isInteger(value) ? { type: 'int64', value: BigInt(value) } : { type: 'double', value };
  if (Array.isArray(value)) return { type: 'array', value: value.map(jsonToValue) };
  return { type: 'table', value: jsonToTable(value) };
}

export function propertiesFromAmqp(p: BasicProperties): MessageProperties {
  const out: Record<string, unknown> = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.contentEncoding !== undefined) out.contentEncoding = p.contentEncoding;
  if (p.headers !== undefined) out.headers = tableToJson(p.headers);
  if (p.deliveryMode !== undefined) out.deliveryMode = p.deliveryMode === 2 ? 2 : 1;
  if (p.priority !== undefined) out.priority = p.priority;
  if (p.correlationId !== undefined) out.correlationId = p.correlationId;
  if (p.replyTo !== undefined) out.replyTo = p.replyTo;
  if (p.expiration !== undefined) out.expiration = p.expiration;
  if (p.messageId !== undefined) out.messageId = p.messageId;
  if (p.timestamp !== undefined) out.timestamp = Number(p.timestamp);
  if (p.type !== undefined) out.type = p.type;
  if (p.userId !== undefined) out.userId = p.userId;
  if (p.appId !== undefined) out.appId = p.appId;
  return out as MessageProperties;
}

export function propertiesToAmqp(p: MessageProperties, deliveryCount: number): BasicProperties {
  const { headers, timestamp, ...rest } = p;
  const withCount = deliveryCount > 0 ? { ...headers, 'x-delivery-count': deliveryCount } : headers;
  return {
    ...rest,
    ...(withCount !== undefined ? { headers: jsonToTable(withCount) } : {}),
    ...(timestamp !== undefined ? { timestamp: BigInt(timestamp) } : {}),
  };
}
