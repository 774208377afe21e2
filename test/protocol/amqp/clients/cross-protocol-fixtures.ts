/**
 * The messages the cross-protocol test sends, and what each side is expected to see. Everything the
 * AMQP ↔ JSON header mapping decides (src/protocol/amqp/message-mapping.ts, docs/protocol.md) is kept
 * here, one entry per field type, so that adjusting the test to the documented mapping means editing
 * this file only. The JSON forms follow docs/protocol.md, "AMQP 0-9-1 messages seen from JSON".
 */
import type { BasicProperties, FieldTable, FieldValue } from '../../../../src/protocol/amqp/index.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const table = (entries: [string, FieldValue][]): FieldTable => new Map(entries);

/** One header per AMQP field type RabbitMQ uses (its errata tags), published over AMQP. */
export const AMQP_HEADERS: FieldTable = table([
  ['longstr', { type: 'longstr', value: utf8('text ünïcode ✓') }],
  ['emptystr', { type: 'longstr', value: utf8('') }],
  ['int8', { type: 'int8', value: -8 }],
  ['uint8', { type: 'uint8', value: 200 }],
  ['int16', { type: 'int16', value: -300 }],
  ['uint16', { type: 'uint16', value: 60000 }],
  ['int32', { type: 'int32', value: -70000 }],
  ['uint32', { type: 'uint32', value: 4000000000 }],
  ['int64', { type: 'int64', value: 1099511627776n }],
  ['int64big', { type: 'int64', value: 9007199254740993n }], // 2^53 + 1: not a safe JS number
  ['float', { type: 'float', value: 1.5 }],
  ['double', { type: 'double', value: -2.25 }],
  ['bool', { type: 'bool', value: true }],
  ['decimal', { type: 'decimal', value: { scale: 2, value: 314 } }],
  ['timestamp', { type: 'timestamp', value: 1700000000n }],
  ['table', { type: 'table', value: table([['inner', { type: 'longstr', value: utf8('x') }], ['deeper', { type: 'table', value: table([['n', { type: 'int32', value: 1 }]]) }]]) }],
  ['array', { type: 'array', value: [{ type: 'int32', value: 1 }, { type: 'longstr', value: utf8('two') }, { type: 'bool', value: false }, { type: 'void' }, { type: 'table', value: table([['k', { type: 'longstr', value: utf8('v') }]]) }] }],
  ['bytes', { type: 'bytes', value: Uint8Array.of(0x00, 0xff, 0x10) }],
  ['void', { type: 'void' }],
]);

/** All 14 basic properties. */
export const AMQP_PROPERTIES: BasicProperties = {
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  headers: AMQP_HEADERS,
  deliveryMode: 2,
  priority: 5,
  correlationId: 'corr-1',
  replyTo: 'reply-here',
  expiration: '600000',
  messageId: 'msg-1',
  timestamp: 1700000001n,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren-tests',
  clusterId: 'cluster-a',
};

/** What a JSON consumer should see for each of AMQP_HEADERS. */
export const EXPECTED_JSON_HEADERS: Record<string, unknown> = {
  longstr: 'text ünïcode ✓',
  emptystr: '',
  int8: -8,
  uint8: 200,
  int16: -300,
  uint16: 60000,
  int32: -70000,
  uint32: 4000000000,
  int64: 1099511627776,
  int64big: { $int64: '9007199254740993' }, // beyond ±(2^53 − 1) a JSON number would lose it
  float: 1.5,
  double: -2.25,
  bool: true,
  decimal: { $decimal: '3.14' },
  timestamp: { $timestamp: 1700000000 },
  table: { inner: 'x', deeper: { n: 1 } },
  array: [1, 'two', false, null, { k: 'v' }],
  bytes: { $bytes: 'AP8Q' },
  void: null,
};

/** What a JSON consumer should see for AMQP_PROPERTIES (headers compared apart). */
export const EXPECTED_JSON_PROPERTIES: Record<string, unknown> = {
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  deliveryMode: 2,
  persistent: true, // docs/protocol.md: added when deliveryMode is set
  priority: 5,
  correlationId: 'corr-1',
  replyTo: 'reply-here',
  expiration: '600000',
  messageId: 'msg-1',
  timestamp: 1700000001,
  type: 'order.created',
  userId: 'guest',
  appId: 'warren-tests',
  // No clusterId: docs/protocol.md says Warren drops it (the JSON protocol has no such property).
};

/** Headers a JSON publisher sends: every JSON value kind. */
export const JSON_HEADERS = {
  str: 'text ✓',
  int: 42,
  negative: -7,
  big: 1099511627776,
  float: 2.5,
  bool: false,
  nil: null,
  object: { a: { b: 'deep' } },
  array: [1, 'x', true, null, { k: 'v' }],
};

/** The properties a JSON publisher sends: all the JSON protocol has (it has no clusterId). */
export const JSON_PROPERTIES = {
  contentType: 'text/plain',
  contentEncoding: 'identity',
  headers: JSON_HEADERS,
  deliveryMode: 2 as const,
  priority: 3,
  correlationId: 'corr-j',
  replyTo: 'reply-j',
  expiration: '600000',
  messageId: 'msg-j',
  timestamp: 1700000002,
  type: 'json.sent',
  userId: 'guest',
  appId: 'json-app',
};

/**
 * What an AMQP consumer should get on the wire for JSON_HEADERS, per docs/protocol.md: integers within
 * 32 bits → int32 (I, what pika, Java and .NET send), larger ones → int64 (l), other numbers → double,
 * null → void. (RabbitMQ's management API, the nearest thing it has, sends every integer as l and
 * refuses null with 400 null_not_allowed, as checked on 3.10.8.)
 */
export const EXPECTED_AMQP_HEADERS: FieldTable = table([
  ['str', { type: 'longstr', value: utf8('text ✓') }],
  ['int', { type: 'int32', value: 42 }],
  ['negative', { type: 'int32', value: -7 }],
  ['big', { type: 'int64', value: 1099511627776n }],
  ['float', { type: 'double', value: 2.5 }],
  ['bool', { type: 'bool', value: false }],
  ['nil', { type: 'void' }],
  ['object', { type: 'table', value: table([['a', { type: 'table', value: table([['b', { type: 'longstr', value: utf8('deep') }]]) }]]) }],
  ['array', { type: 'array', value: [{ type: 'int32', value: 1 }, { type: 'longstr', value: utf8('x') }, { type: 'bool', value: true }, { type: 'void' }, { type: 'table', value: table([['k', { type: 'longstr', value: utf8('v') }]]) }] }],
]);

/** The properties an AMQP consumer should get for JSON_PROPERTIES (headers compared apart). */
export const EXPECTED_AMQP_PROPERTIES: Omit<BasicProperties, 'headers'> = {
  contentType: 'text/plain',
  contentEncoding: 'identity',
  deliveryMode: 2,
  priority: 3,
  correlationId: 'corr-j',
  replyTo: 'reply-j',
  expiration: '600000',
  messageId: 'msg-j',
  timestamp: 1700000002n,
  type: 'json.sent',
  userId: 'guest',
  appId: 'json-app',
};

/**
 * A field value as plain, diff-friendly data: `[tag, value]`, bytes as hex, bigints as strings, tables
 * as objects (so key order, which RabbitMQ does not keep, does not matter).
 */
export type Tagged = [string, unknown];

export function tagged(value: FieldValue): Tagged {
  switch (value.type) {
    case 'longstr':
    case 'bytes':
      return [value.type, Buffer.from(value.value).toString(value.type === 'longstr' ? 'utf8' : 'hex')];
    case 'int64':
    case 'timestamp':
      return [value.type, value.value.toString()];
    case 'table':
      return ['table', taggedTable(value.value)];
    case 'array':
      return ['array', value.value.map(tagged)];
    case 'void':
      return ['void', null];
    default:
      return [value.type, value.value];
  }
}

export function taggedTable(t: FieldTable | undefined): Record<string, Tagged> {
  return Object.fromEntries([...(t ?? new Map<string, FieldValue>())].map(([k, v]) => [k, tagged(v)]));
}

/** The same headers as amqplib takes them: its `{'!': type, value}` notation pins each wire type. */
export function amqplibValue(value: FieldValue): unknown {
  switch (value.type) {
    case 'longstr':
      return Buffer.from(value.value).toString('utf8');
    case 'bytes':
      return Buffer.from(value.value);
    case 'int64':
      return { '!': 'int64', value: value.value };
    case 'timestamp':
      return { '!': 'timestamp', value: Number(value.value) };
    case 'decimal':
      return { '!': 'decimal', value: { places: value.value.scale, digits: value.value.value } };
    case 'table':
      return Object.fromEntries([...value.value].map(([k, v]) => [k, amqplibValue(v)]));
    case 'array':
      return value.value.map(amqplibValue);
    case 'void':
      return null;
    case 'bool':
      return value.value;
    default:
      return { '!': value.type, value: value.value };
  }
}

