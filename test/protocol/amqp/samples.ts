// Representative values for every wire type, built from the generated table so that every method of
// the spec gets a sample without a hand-written list that could miss one.
import type { FieldTable, FieldValue } from '../../../src/protocol/amqp/field-table.js';
import { METHOD_TABLE, type AmqpMethod, type BasicProperties } from '../../../src/protocol/amqp/spec/methods.js';

export const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** One field table holding every value type, with a nested table and an array that nest further. */
export function everyTypeTable(): FieldTable {
  const inner: FieldTable = new Map<string, FieldValue>([
    ['deep', { type: 'table', value: new Map<string, FieldValue>([['n', { type: 'int32', value: -7 }]]) }],
    ['list', { type: 'array', value: [{ type: 'longstr', value: utf8('a') }, { type: 'array', value: [{ type: 'void' }] }] }],
  ]);
  return new Map<string, FieldValue>([
    ['bool-true', { type: 'bool', value: true }],
    ['bool-false', { type: 'bool', value: false }],
    ['int8', { type: 'int8', value: -128 }],
    ['uint8', { type: 'uint8', value: 255 }],
    ['int16', { type: 'int16', value: -32768 }],
    ['uint16', { type: 'uint16', value: 65535 }],
    ['int32', { type: 'int32', value: -2147483648 }],
    ['uint32', { type: 'uint32', value: 4294967295 }],
    ['int64', { type: 'int64', value: -9007199254740991n }],
    ['float', { type: 'float', value: 1.5 }],
    ['double', { type: 'double', value: -0.1 }],
    ['decimal', { type: 'decimal', value: { scale: 2, value: 31415 } }],
    ['longstr', { type: 'longstr', value: utf8('héllo ✓') }],
    ['bytes', { type: 'bytes', value: Buffer.from([0, 1, 0xfe, 0xff]) }],
    ['array', { type: 'array', value: [{ type: 'int8', value: 1 }, { type: 'longstr', value: utf8('two') }, { type: 'table', value: inner }] }],
    ['timestamp', { type: 'timestamp', value: 1700000000n }],
    ['table', { type: 'table', value: inner }],
    ['void', { type: 'void' }],
  ]);
}

/** A small table of the types amqplib can also express, in keys amqplib keeps in order (no integer keys). */
export function smallTable(): FieldTable {
  return new Map<string, FieldValue>([
    ['x-message-ttl', { type: 'int32', value: 60000 }],
    ['x-queue-type', { type: 'longstr', value: utf8('quorum') }],
    ['flag', { type: 'bool', value: true }],
  ]);
}

export function sampleValue(type: string, index: number, wide: boolean): unknown {
  switch (type) {
    case 'bit':
      return index % 3 !== 1;
    case 'octet':
      return 0xab;
    case 'short':
      return 0xbeef;
    case 'long':
      return 0xdeadbeef;
    case 'longlong':
    case 'timestamp':
      // Beyond 2^53 only where the other side is ours: amqplib carries these as JS numbers.
      return wide ? 0xfedcba9876543210n : 9007199254740991n;
    case 'shortstr':
      return `s${index}-é✓`;
    case 'longstr':
      return Buffer.from([0, 1, 0x80, 0xff, index]);
    case 'table':
      return everyTypeTable();
    default:
      throw new Error(`no sample for ${type}`);
  }
}

export function sampleMethod(spec: (typeof METHOD_TABLE)[number], wide = true): AmqpMethod {
  const out: Record<string, unknown> = { method: spec.name };
  spec.args.forEach((a, i) => {
    out[a.field] = sampleValue(a.type, i, wide);
  });
  // Built field by field from the same table the AmqpMethod union is generated from.
  return out as unknown as AmqpMethod;
}

export function allProperties(): BasicProperties {
  return {
    contentType: 'application/json',
    contentEncoding: 'gzip',
    headers: everyTypeTable(),
    deliveryMode: 2,
    priority: 9,
    correlationId: 'corr-1',
    replyTo: 'amq.rabbitmq.reply-to',
    expiration: '60000',
    messageId: 'msg-✓',
    timestamp: 1700000000n,
    type: 'order.created',
    userId: 'guest',
    appId: 'warren-test',
    clusterId: 'c1',
  };
}
