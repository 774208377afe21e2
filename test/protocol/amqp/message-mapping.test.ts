// The mapping between AMQP basic properties / field tables and Warren's JSON message properties.
// Expected texts and types were captured from RabbitMQ 3.10.8 (amqplib against localhost:5672, and a
// raw decode of its frames with our codec).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordDeath } from '../../../src/broker/dead-letter.js';
import { BrokerError } from '../../../src/broker/errors.js';
import type { Headers, MessageProperties } from '../../../src/broker/message.js';
import { encodeContentHeaderFrame } from '../../../src/protocol/amqp/content.js';
import type { FieldTable, FieldValue } from '../../../src/protocol/amqp/field-table.js';
import { valueToJson, jsonToValue, type JsonValue } from '../../../src/protocol/amqp/header-values.js';
import { jsonToTable, propertiesFromAmqp, propertiesToAmqp, tableToJson } from '../../../src/protocol/amqp/server/message-mapping.js';
import type { BasicProperties } from '../../../src/protocol/amqp/spec/methods.js';
import { allProperties, everyTypeTable, utf8 } from './samples.js';

interface AmqplibFrame {
  parseFrame(bin: Buffer, max: number): { type: number; channel: number; payload: Buffer; rest: Buffer } | false;
  decodeFrame(frame: { type: number; channel: number; payload: Buffer }): { fields?: Record<string, unknown> };
}
const require = createRequire(import.meta.url);
const frameLib: AmqplibFrame = require(join(dirname(require.resolve('amqplib')), 'lib', 'frame.js'));

/** What amqplib makes of a content header frame: the properties as an amqplib consumer sees them. */
function amqplibView(frame: Buffer): Record<string, unknown> {
  const parsed = frameLib.parseFrame(frame, 0);
  if (!parsed) throw new Error('amqplib could not parse the frame');
  return frameLib.decodeFrame(parsed).fields ?? {};
}

const table = (...entries: Array<[string, FieldValue]>): Map<string, FieldValue> => new Map(entries);
const longstr = (s: string): FieldValue => ({ type: 'longstr', value: utf8(s) });
const i64 = (n: bigint): FieldValue => ({ type: 'int64', value: n });

describe('AMQP values to JSON', () => {
  it('every field type of a table', () => {
    expect(tableToJson(everyTypeTable())).toEqual({
      'bool-true': true,
      'bool-false': false,
      int8: -128,
      uint8: 255,
      int16: -32768,
      uint16: 65535,
      int32: -2147483648,
      uint32: 4294967295,
      int64: -9007199254740991,
      float: 1.5,
      double: -0.1,
      decimal: { $decimal: '314.15' },
      longstr: 'héllo ✓',
      bytes: { $bytes: 'AAH+/w==' },
      array: [1, 'two', { deep: { n: -7 }, list: ['a', [null]] }],
      timestamp: { $timestamp: 1700000000 },
      table: { deep: { n: -7 }, list: ['a', [null]] },
      void: null,
    });
  });

  it.each<[string, FieldValue, JsonValue]>([
    ['decimal, scale 0', { type: 'decimal', value: { scale: 0, value: 7 } }, { $decimal: '7' }],
    ['decimal, trailing zeros keep the scale', { type: 'decimal', value: { scale: 2, value: 100 } }, { $decimal: '1.00' }],
    ['decimal, leading zeros', { type: 'decimal', value: { scale: 5, value: 42 } }, { $decimal: '0.00042' }],
    ['decimal, largest', { type: 'decimal', value: { scale: 255, value: 4294967295 } }, { $decimal: `0.${'0'.repeat(245)}4294967295` }],
    ['timestamp 0', { type: 'timestamp', value: 0n }, { $timestamp: 0 }],
    ['timestamp past 2^53', { type: 'timestamp', value: 2n ** 64n - 1n }, { $timestamp: '18446744073709551615' }],
    ['empty byte array', { type: 'bytes', value: new Uint8Array(0) }, { $bytes: '' }],
    ['longstr that is not UTF-8', { type: 'longstr', value: Buffer.from([0x66, 0xff, 0xc3]) }, { $longstr: 'Zv/D' }],
    ['longstr with a BOM stays text', { type: 'longstr', value: Buffer.from([0xef, 0xbb, 0xbf, 0x61]) }, '\ufeffa'],
    ['int64 at 2^53 − 1', i64(2n ** 53n - 1n), 9007199254740991],
    ['int64 past 2^53', i64(2n ** 53n), { $int64: '9007199254740992' }],
    ['int64 smallest', i64(-(2n ** 63n)), { $int64: '-9223372036854775808' }],
    ['double NaN', { type: 'double', value: NaN }, { $double: 'NaN' }],
    ['double +∞', { type: 'double', value: Infinity }, { $double: 'Infinity' }],
    ['float −∞', { type: 'float', value: -Infinity }, { $double: '-Infinity' }],
    ['double −0', { type: 'double', value: -0 }, { $double: '-0' }],
    ['a table whose only key is a tag name', { type: 'table', value: table(['$bytes', longstr('QUJD')]) }, { $table: { $bytes: 'QUJD' } }],
    ['a table with a tag name among other keys', { type: 'table', value: table(['$bytes', longstr('QUJD')], ['b', { type: 'void' }]) }, { $bytes: 'QUJD', b: null }],
  ])('%s', (_name, value, json) => {
    expect(valueToJson(value)).toEqual(json);
    expect(JSON.parse(JSON.stringify(valueToJson(value)))).toEqual(json);
  });

  it('arguments of declare and consume come out as the broker checks them', () => {
    const args = table(
      ['x-message-ttl', { type: 'int32', value: 60000 }],
      ['x-expires', i64(1800000n)],
      ['x-max-priority', { type: 'uint8', value: 10 }],
      ['x-dead-letter-exchange', longstr('dlx')],
      ['x-single-active-consumer', { type: 'bool', value: true }],
    );
    expect(tableToJson(args)).toEqual({
      'x-message-ttl': 60000,
      'x-expires': 1800000,
      'x-max-priority': 10,
      'x-dead-letter-exchange': 'dlx',
      'x-single-active-consumer': true,
    });
  });

  it('a key __proto__ is an ordinary key, not the prototype', () => {
    const json = tableToJson(table(['__proto__', { type: 'table', value: table(['polluted', { type: 'bool', value: true }]) }]));
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
    expect(Object.keys(json)).toEqual(['__proto__']);
    expect(JSON.stringify(json)).toBe('{"__proto__":{"polluted":true}}');
    expect([...jsonToTable(JSON.parse('{"__proto__":{"polluted":true}}') as Headers).keys()]).toEqual(['__proto__']);
  });

  it('keeps nothing of the frame: the JSON holds no view of the bytes it came from', () => {
    const bytes = Buffer.from('abc');
    const json = tableToJson(table(['s', { type: 'longstr', value: bytes }], ['b', { type: 'bytes', value: bytes }]));
    bytes.fill(0x7a);
    expect(json).toEqual({ s: 'abc', b: { $bytes: 'YWJj' } });
  });
});

describe('JSON values to AMQP', () => {
  it.each<[string, JsonValue, FieldValue]>([
    ['string', 'héllo', longstr('héllo')],
    ['true', true, { type: 'bool', value: true }],
    ['null', null, { type: 'void' }],
    ['small integer as a signed 32-bit int, as pika and Java send it', 1, { type: 'int32', value: 1 }],
    ['int32 smallest', -2147483648, { type: 'int32', value: -2147483648 }],
    ['int32 largest', 2147483647, { type: 'int32', value: 2147483647 }],
    ['past int32: long', 2147483648, i64(2147483648n)],
    ['largest safe integer: long', Number.MAX_SAFE_INTEGER, i64(9007199254740991n)],
    ['past 2^53: a double, which is what the JSON number is', 2 ** 53, { type: 'double', value: 2 ** 53 }],
    ['fraction: double', 0.25, { type: 'double', value: 0.25 }],
    ['array', [1, 'a', null], { type: 'array', value: [{ type: 'int32', value: 1 }, longstr('a'), { type: 'void' }] }],
    ['object', { a: { b: false } }, { type: 'table', value: table(['a', { type: 'table', value: table(['b', { type: 'bool', value: false }]) }]) }],
    ['$decimal', { $decimal: '12.34' }, { type: 'decimal', value: { scale: 2, value: 1234 } }],
    ['$decimal with leading zeros', { $decimal: '000.0050' }, { type: 'decimal', value: { scale: 4, value: 50 } }],
    ['$timestamp number', { $timestamp: 1700000000 }, { type: 'timestamp', value: 1700000000n }],
    ['$timestamp string', { $timestamp: '18446744073709551615' }, { type: 'timestamp', value: 2n ** 64n - 1n }],
    ['$bytes', { $bytes: 'AAH+/w==' }, { type: 'bytes', value: Buffer.from([0, 1, 0xfe, 0xff]) }],
    ['$longstr', { $longstr: 'Zv/D' }, { type: 'longstr', value: Buffer.from([0x66, 0xff, 0xc3]) }],
    ['$int64 string', { $int64: '-9223372036854775808' }, i64(-(2n ** 63n))],
    ['$int64 number forces a long', { $int64: 5 }, i64(5n)],
    ['$double number forces a double', { $double: 1 }, { type: 'double', value: 1 }],
    ['$double NaN', { $double: 'NaN' }, { type: 'double', value: NaN }],
    ['$double -0', { $double: '-0' }, { type: 'double', value: -0 }],
    ['$table takes its keys literally', { $table: { $bytes: 'QUJD' } }, { type: 'table', value: table(['$bytes', longstr('QUJD')]) }],
  ])('%s', (_name, json, value) => {
    expect(jsonToValue(json)).toEqual(value);
  });

  it('a key a shortstr cannot carry (over 255 bytes) is left out, one of exactly 255 kept', () => {
    const json = { ['é'.repeat(128)]: 1, ['k'.repeat(255)]: 2, ['é'.repeat(127)]: 3, ok: { ['x'.repeat(256)]: true } };
    const out = jsonToTable(json);
    expect([...out.keys()]).toEqual(['k'.repeat(255), 'é'.repeat(127), 'ok']);
    expect(out.get('ok')).toEqual({ type: 'table', value: new Map() });
    expect(() => encodeContentHeaderFrame(1, 0, { headers: out })).not.toThrow();
  });

  it.each<[string, JsonValue]>([
    ['$bytes that is not base64', { $bytes: 'not base64!' }],
    ['$bytes that is not a string', { $bytes: 5 }],
    ['$decimal with two points', { $decimal: '1.2.3' }],
    ['$decimal negative', { $decimal: '-1.5' }],
    ['$decimal past 32 bits', { $decimal: '4294967296' }],
    ['$decimal scale past 255', { $decimal: `0.${'0'.repeat(255)}1` }],
    ['$int64 past 2^63 − 1', { $int64: '9223372036854775808' }],
    ['$int64 unsafe number', { $int64: 2 ** 60 }],
    ['$timestamp negative', { $timestamp: -1 }],
    ['$timestamp past 2^64 − 1', { $timestamp: '18446744073709551616' }],
    ['$double text', { $double: 'nan' }],
    ['$table of an array', { $table: [1] }],
    ['an unknown tag', { $date: '2026-11-30' }],
    ['a tag among other keys', { $bytes: 'QUJD', other: 1 }],
  ])('a one-key object that is not a valid tag is a plain table: %s', (_name, json) => {
    const value = jsonToValue(json);
    expect(value.type).toBe('table');
    if (value.type === 'table') expect(tableToJson(value.value)).toEqual(json);
  });

  it('every AMQP value comes back as the same value through JSON (integer and float widths collapse)', () => {
    const collapse = (v: FieldValue): FieldValue => {
      switch (v.type) {
        case 'int8':
        case 'uint8':
        case 'int16':
        case 'uint16':
        case 'int32':
        case 'uint32':
          return jsonToValue(v.value);
        case 'int64':
          return v.value >= -(2n ** 31n) && v.value < 2n ** 31n ? { type: 'int32', value: Number(v.value) } : v;
        case 'float':
          return Number.isInteger(v.value) && Number.isSafeInteger(v.value) && !Object.is(v.value, -0) ? jsonToValue(v.value) : { type: 'double', value: v.value };
        case 'double':
          return Number.isSafeInteger(v.value) && !Object.is(v.value, -0) ? jsonToValue(v.value) : v;
        case 'array':
          return { type: 'array', value: v.value.map(collapse) };
        case 'table':
          return { type: 'table', value: new Map([...v.value].map(([k, x]) => [k, collapse(x)])) };
        default:
          return v;
      }
    };
    const values: FieldValue[] = [
      ...everyTypeTable().values(),
      i64(2n ** 63n - 1n),
      i64(-(2n ** 53n) - 1n),
      { type: 'timestamp', value: 2n ** 64n - 1n },
      { type: 'float', value: NaN },
      { type: 'float', value: -0 },
      { type: 'double', value: -Infinity },
      { type: 'double', value: 1e300 },
      { type: 'decimal', value: { scale: 3, value: 1000 } },
      { type: 'longstr', value: Buffer.from([0x80]) },
      { type: 'table', value: table(['$table', { type: 'table', value: table(['$int64', longstr('1')]) }]) },
      { type: 'array', value: [{ type: 'table', value: table(['$double', longstr('NaN')]) }] },
    ];
    for (const value of values) {
      const json = JSON.parse(JSON.stringify(valueToJson(value))) as JsonValue;
      expect(jsonToValue(json), JSON.stringify(json)).toEqual(collapse(value));
    }
  });
});

describe('x-death', () => {
  const captured = table(
    ['a', { type: 'int8', value: 1 }],
    [
      'x-death',
      {
        type: 'array',
        value: [
          {
            type: 'table',
            value: table(
              ['count', i64(1n)],
              ['reason', longstr('rejected')],
              ['queue', longstr('work')],
              ['time', { type: 'timestamp', value: 1796069933n }],
              ['exchange', longstr('')],
              ['routing-keys', { type: 'array', value: [longstr('work')] }],
              ['original-expiration', longstr('60000')],
            ),
          },
        ],
      },
    ],
    ['x-first-death-exchange', longstr('')],
    ['x-first-death-queue', longstr('work')],
    ['x-first-death-reason', longstr('rejected')],
  );

  it("RabbitMQ's x-death reads as the broker writes its own: time in plain seconds, count a number", () => {
    expect(tableToJson(captured)).toEqual({
      a: 1,
      'x-death': [{ count: 1, reason: 'rejected', queue: 'work', time: 1796069933, exchange: '', 'routing-keys': ['work'], 'original-expiration': '60000' }],
      'x-first-death-exchange': '',
      'x-first-death-queue': 'work',
      'x-first-death-reason': 'rejected',
    });
  });

  it("the broker's own dead-lettering goes out with RabbitMQ's exact types", () => {
    const content = { exchange: '', routingKey: 'work', properties: {}, body: new Uint8Array(0) };
    const headers = recordDeath({ a: 1 }, { queue: 'work', reason: 'rejected', time: 1796069933 }, content, '60000');
    // RabbitMQ 3.10 writes no x-last-death-* headers; Warren does (3.13), as longstrs like the first-death ones.
    const { 'x-last-death-queue': q, 'x-last-death-reason': r, 'x-last-death-exchange': x, ...as310 } = headers;
    expect([q, r, x]).toEqual(['work', 'rejected', '']);
    const out = jsonToTable(as310);
    out.set('a', { type: 'int8', value: 1 }); // amqplib sent the publisher's 1 as a byte
    expect(out).toEqual(captured);
    expect(jsonToTable(headers).get('x-last-death-queue')).toEqual(longstr('work'));
  });

  it('a count raised past the first death stays a long, and the round trip keeps every type', () => {
    const json = tableToJson(captured);
    const deaths = json['x-death'] as Headers[];
    const again = recordDeath(json, { queue: 'work', reason: 'rejected', time: 1796069999 }, { exchange: 'dlx', routingKey: 'work', properties: {}, body: new Uint8Array(0) }, undefined);
    const deathsOut = jsonToTable(again).get('x-death');
    const entry = deathsOut?.type === 'array' ? deathsOut.value[0] : undefined;
    const fields: FieldTable = entry?.type === 'table' ? entry.value : new Map();
    expect(fields.get('count')).toEqual(i64(2n));
    expect(fields.get('time')).toEqual({ type: 'timestamp', value: 1796069933n });
    expect(deaths).toHaveLength(1);
    expect(jsonToTable(json)).toEqual(new Map([...captured].map(([k, v]) => [k, k === 'a' ? { type: 'int32', value: 1 } : v])));
  });

  it('amqplib reads our x-death exactly as it read RabbitMQ 3.10.8 (test/fixtures/rabbitmq-3.10.8-x-death.json)', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../fixtures/rabbitmq-3.10.8-x-death.json', import.meta.url), 'utf8')) as Record<
      string,
      { properties: { headers: Record<string, unknown> } }
    >;
    for (const name of ['rejected', 'expiredQueueTtl', 'expiredMessageTtl', 'maxlen', 'rejectedThreeTimesAcrossTwoQueues']) {
      const reference = fixture[name]?.properties.headers;
      if (!reference) throw new Error(`fixture has no ${name}`);
      // What the broker would hold: the timestamp as plain seconds.
      const held = JSON.parse(JSON.stringify(reference), (key: string, v: unknown) =>
        key === 'time' && typeof v === 'object' && v !== null && 'value' in v ? (v as { value: number }).value : v,
      ) as Headers;
      const frame = encodeContentHeaderFrame(1, 0, propertiesToAmqp({ headers: held }, 0));
      expect(amqplibView(frame).headers, name).toEqual(reference);
    }
  });
});

describe('propertiesFromAmqp / propertiesToAmqp', () => {
  const expected: MessageProperties = {
    contentType: 'application/json',
    contentEncoding: 'gzip',
    headers: tableToJson(everyTypeTable()),
    deliveryMode: 2,
    priority: 9,
    correlationId: 'corr-1',
    replyTo: 'amq.rabbitmq.reply-to',
    expiration: '60000',
    messageId: 'msg-✓',
    timestamp: 1700000000,
    type: 'order.created',
    userId: 'guest',
    appId: 'warren-test',
  };

  it('all 14 properties: 13 kept, cluster-id dropped as RabbitMQ 3.10 drops it', () => {
    const props = propertiesFromAmqp(allProperties());
    expect(props).toEqual(expected);
    expect(Object.keys(props)).toEqual(Object.keys(expected));
    expect('clusterId' in props).toBe(false);
    const { clusterId: _dropped, headers, ...rest } = allProperties();
    expect(propertiesToAmqp(props, 0)).toEqual({ ...rest, headers: jsonToTable(tableToJson(headers ?? new Map())) });
  });

  it('absent properties stay absent, both ways', () => {
    expect(propertiesFromAmqp({})).toStrictEqual({});
    expect(propertiesToAmqp({}, 0)).toStrictEqual({});
    expect(propertiesFromAmqp({ priority: 0 })).toStrictEqual({ priority: 0 });
    expect(propertiesFromAmqp({ headers: new Map() })).toStrictEqual({ headers: {} });
  });

  it('encoded with the codec, amqplib reads back the values it read from the original', () => {
    const original = allProperties();
    const mapped = propertiesToAmqp(propertiesFromAmqp(original), 0);
    const theirsOfOriginal = amqplibView(encodeContentHeaderFrame(3, 10, original));
    const theirsOfMapped = amqplibView(encodeContentHeaderFrame(3, 10, mapped));
    expect(theirsOfMapped).toEqual({ ...theirsOfOriginal, clusterId: undefined });
    expect(theirsOfOriginal.clusterId).toBe('c1');
  });

  it('x-delivery-count: a long, last, replacing the publisher\'s own, only when the count is above 0', () => {
    const props: MessageProperties = { headers: { a: 1, 'x-delivery-count': 7, b: 'x' } };
    const counted = propertiesToAmqp(props, 3).headers;
    expect([...(counted ?? new Map()).keys()]).toEqual(['a', 'b', 'x-delivery-count']);
    expect(counted?.get('x-delivery-count')).toEqual(i64(3n));
    expect(propertiesToAmqp(props, 0).headers?.get('x-delivery-count')).toEqual({ type: 'int32', value: 7 });
    expect(propertiesToAmqp({}, 2).headers).toEqual(table(['x-delivery-count', i64(2n)]));
    expect(propertiesToAmqp({}, 0).headers).toBeUndefined();
    expect(props.headers).toEqual({ a: 1, 'x-delivery-count': 7, b: 'x' });
  });

  it('a string property longer than a shortstr (255 bytes) is left out on the way to AMQP', () => {
    const long = 'é'.repeat(128);
    const fits = 'é'.repeat(127);
    const out = propertiesToAmqp({ correlationId: long, messageId: fits, appId: 'k'.repeat(255), type: 'x' }, 0);
    expect(out).toStrictEqual({ messageId: fits, appId: 'k'.repeat(255), type: 'x' });
    expect(() => encodeContentHeaderFrame(1, 0, out)).not.toThrow();
  });

  it('deliveryMode other than 1 or 2 is refused as RabbitMQ refuses it', () => {
    for (const mode of [1, 2] as const) expect(propertiesFromAmqp({ deliveryMode: mode }).deliveryMode).toBe(mode);
    for (const mode of [0, 3, 255]) {
      expect(() => propertiesFromAmqp({ deliveryMode: mode })).toThrow(
        expect.objectContaining({ code: 406, reason: 'PRECONDITION_FAILED', message: `invalid message: {delivery_mode_unknown,${mode}}` }),
      );
    }
  });

  it('expiration is checked before deliveryMode, as rabbit_channel does', () => {
    expect(() => propertiesFromAmqp({ expiration: 'x', deliveryMode: 3 })).toThrow("invalid expiration 'x': no_integer");
  });

  it('a timestamp past 2^53 − 1 is refused rather than rounded', () => {
    expect(propertiesFromAmqp({ timestamp: 2n ** 53n - 1n }).timestamp).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => propertiesFromAmqp({ timestamp: 2n ** 53n })).toThrow(expect.objectContaining({ code: 406 }));
  });
});

describe('expiration', () => {
  it.each([
    ['0', '0'],
    ['60000', '60000'],
    ['315360000000', '315360000000'],
    ['007', '007'],
    ['+5', '5'],
    ['-0', '0'],
    ['000000000000005', '5'],
  ])('%j is accepted (as %j)', (expiration, kept) => {
    expect(propertiesFromAmqp({ expiration }).expiration).toBe(kept);
  });

  /** As RabbitMQ sends it on the wire: prefixed with the name, cut at 255 bytes (rabbit_binary_generator). */
  function asRabbitSends(error: unknown): string {
    if (!(error instanceof BrokerError)) throw error;
    const text = Buffer.from(`${error.reason} - ${error.message}`, 'utf8');
    return (text.length > 255 ? Buffer.concat([text.subarray(0, 252), Buffer.from('...')]) : text).toString('utf8');
  }

  // [expiration, RabbitMQ 3.10.8's reply text after "PRECONDITION_FAILED - "], captured with amqplib.
  const captured: Array<[string, string]> = [
    ["abc", "invalid expiration 'abc': no_integer"],
    ["", "invalid expiration '': no_integer"],
    ["-1", "invalid expiration '-1': {value_negative,-1}"],
    ["5x", "invalid expiration '5x': {leftover_string,\"x\"}"],
    ["315360000001", "invalid expiration '315360000001': {value_too_large,315360000001}"],
    [" 5", "invalid expiration ' 5': no_integer"],
    ["5 ", "invalid expiration '5 ': {leftover_string,\" \"}"],
    ["1e3", "invalid expiration '1e3': {leftover_string,\"e3\"}"],
    ["0x10", "invalid expiration '0x10': {leftover_string,\"x10\"}"],
    ["99999999999999999999", "invalid expiration '99999999999999999999': {value_too_large,\n                                            99999999999999999999}"],
    ["é5", "invalid expiration 'é5': no_integer"],
    ["5é", "invalid expiration '5é': {leftover_string,\"é\"}"],
    ["5\u0001", "invalid expiration '5\u0001': {leftover_string,[1]}"],
    ["5\"", "invalid expiration '5\"': {leftover_string,\"\\\"\"}"],
    ["5\\", "invalid expiration '5\\': {leftover_string,\"\\\\\"}"],
    ["5\n", "invalid expiration '5\n': {leftover_string,\"\\n\"}"],
    ["+", "invalid expiration '+': no_integer"],
    ["-", "invalid expiration '-': no_integer"],
    ["5\u007f", "invalid expiration '5\u007f': {leftover_string,[127]}"],
    ["5\u00a0", "invalid expiration '5\u00a0': {leftover_string,\"\u00a0\"}"],
    ["-99999999999999999999", "invalid expiration '-99999999999999999999': {value_negative,\n                                             -99999999999999999999}"],
    ["9999999999999999999", "invalid expiration '9999999999999999999': {value_too_large,\n                                           9999999999999999999}"],
    ["5xxxxxxxxxxxxxxxxxx", "invalid expiration '5xxxxxxxxxxxxxxxxxx': {leftover_string,\n                                           \"xxxxxxxxxxxxxxxxxx\"}"],
    ["5xxxxxxxxxxxxxxxxx", "invalid expiration '5xxxxxxxxxxxxxxxxx': {leftover_string,\"xxxxxxxxxxxxxxxxx\"}"],
    ["5€", "invalid expiration '5€': {leftover_string,[226,130,172]}"],
    ["5\u0001xxxx", "invalid expiration '5\u0001xxxx': {leftover_string,[1,120,120,120,120]}"],
    ["1\n999999999999999999999999999999", "invalid expiration '1\n999999999999999999999999999999': {leftover_string,\n                                     \"\\n999999999999999999999999999999\"}"],
    ["1\n99999999999999999999999999999999999999", "invalid expiration '1\n99999999999999999999999999999999999999': {leftover_string,\n                                          \"\\n99999999999999999999999999999999999999\"}"],
    ["1\t999999999999999999999999999999999999999999999999999999999999", "invalid expiration '1\t999999999999999999999999999999999999999999999999999999999999': {leftover_string,\n                                                                                        \"\\t999999999999999999999999999999999999..."],
    ["5\t\u001b\b\f\u000b\r", "invalid expiration '5\t\u001b\b\f\u000b\r': {leftover_string,\"\\t\\e\\b\\f\\v\\r\"}"],
    ["1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "invalid expiration '1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx': {leftover_string,\n                                                                                     \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."],
    ["1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "invalid expiration '1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx': {leftover_string,\n                                                                           \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"],
  ];

  it.each(captured)('%j is refused with RabbitMQ\'s text', (expiration, text) => {
    let thrown: unknown;
    try {
      propertiesFromAmqp({ expiration });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BrokerError);
    expect((thrown as BrokerError).code).toBe(406);
    expect(asRabbitSends(thrown)).toBe(`PRECONDITION_FAILED - ${text}`);
  });
});

describe('without headers', () => {
  it('properties of a publish come back equal', () => {
    const p: BasicProperties = { deliveryMode: 1, contentType: 'text/plain' };
    expect(propertiesToAmqp(propertiesFromAmqp(p), 0)).toStrictEqual(p);
  });
});
