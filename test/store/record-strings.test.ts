import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { MessageProperties } from '../../src/broker/message.js';
import { crc32 } from '../../src/store/crc32.js';
import {
  HEADER_SIZE,
  decodeMessageContent,
  emptyMessageHeader,
  encodeQueueSection,
  planMessageRecord,
  readMessageHeader,
  writeMessageRecord,
} from '../../src/store/record-codec.js';
import { propertiesJson, utf8Length, writeUtf8 } from '../../src/store/record-strings.js';

/** What every Warren so far wrote as a record's properties (before the text was reused). */
function reference(properties: MessageProperties): string {
  if (properties.priority === undefined && properties.expiration === undefined) return JSON.stringify(properties);
  return JSON.stringify({ priority: properties.priority, expiration: properties.expiration, ...properties });
}

const cases: MessageProperties[] = [
  {},
  { deliveryMode: 2 },
  { headers: {}, deliveryMode: 2 },
  { headers: {}, deliveryMode: 2 },
  { headers: {}, deliveryMode: 1 },
  { deliveryMode: 2, headers: {} },
  { headers: {}, deliveryMode: 2, timestamp: 1764560000 },
  { headers: {}, deliveryMode: 2, timestamp: 1764560001 },
  { headers: {}, deliveryMode: 2 },
  { headers: { a: 1 }, deliveryMode: 2 },
  { headers: { a: 1 }, deliveryMode: 2 },
  { headers: {}, deliveryMode: 2 },
  { headers: {}, deliveryMode: 2, contentType: 'text/plain' },
  { headers: {}, deliveryMode: 2, contentType: 'tëxt "quoted" \u2028' },
  { headers: {}, deliveryMode: 2, priority: 5 },
  { headers: {}, deliveryMode: 2, expiration: '60000' },
  { headers: {}, deliveryMode: 2, priority: 0, expiration: '1' },
  { deliveryMode: undefined, headers: {} },
  { timestamp: Number.NaN },
  { timestamp: Number.NaN },
  { timestamp: -0 },
  { timestamp: 0 },
  { timestamp: 1e21 },
  { timestamp: 1.5 },
  { headers: Object.create(null) as Record<string, never> },
  { headers: [] as unknown as Record<string, never> },
  { headers: new Date(0) as unknown as Record<string, never> },
  { headers: { toJSON: () => 'x' } as unknown as Record<string, never> },
  { ...({ 'odd "key"': 1 } as MessageProperties), deliveryMode: 2 },
  { ...({ '2': 1, '1': 2 } as MessageProperties), headers: {} },
  { ...({ '2': 1, '1': 2 } as MessageProperties), headers: {} },
  { headers: {} },
];

describe('propertiesJson', () => {
  it('writes exactly what JSON.stringify of the properties (priority and expiration first) writes, message after message', () => {
    for (const properties of [...cases, ...cases.slice().reverse(), ...cases]) expect(propertiesJson(properties)).toBe(reference(properties));
  });

  it('survives a round trip through a message record', () => {
    const section = encodeQueueSection([{ vhost: '/', name: 'q' }]);
    for (const properties of cases.slice(0, 20)) {
      const content = { exchange: 'éx', routingKey: 'rk', properties, body: new Uint8Array([1, 2, 3]) };
      const plan = planMessageRecord(content, 1, section);
      const buf = Buffer.alloc(plan.length);
      writeMessageRecord(buf, 0, plan, 7, Date.now(), content, 1, section);
      expect(readMessageHeader(buf, HEADER_SIZE, buf.readUInt32LE(4), emptyMessageHeader())).toBe(true);
      const decoded = decodeMessageContent(buf).content;
      expect(decoded.properties).toEqual(JSON.parse(reference(properties)));
      expect(decoded.exchange).toBe('éx');
    }
  });
});

describe('utf8Length and writeUtf8', () => {
  it('write what Buffer.from(text, "utf8") holds', () => {
    for (const text of ['', 'q', 'orders.eu-west', 'é', 'ütf-8 ✓', '😀 x', '\ud800 lone', 'x'.repeat(300), 'ü'.repeat(100)]) {
      const bytes = utf8Length(text);
      const expected = Buffer.from(text, 'utf8');
      expect(bytes).toBe(expected.length);
      const buf = Buffer.alloc(bytes + 2, 0xee);
      writeUtf8(buf, 1, text, bytes);
      expect(buf.subarray(1, 1 + bytes).equals(expected)).toBe(true);
      expect(buf[0]).toBe(0xee);
      expect(buf[bytes + 1]).toBe(0xee);
    }
  });
});

describe('crc32', () => {
  it('is zlib.crc32 of the range, for every length around the switch to zlib and at any offset', () => {
    const buf = Buffer.alloc(3000);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 7919 + 13) & 0xff;
    for (let length = 0; length <= 1100; length += length < 420 ? 1 : 37) {
      for (const start of [0, 1, 3, 7, 8, 1000]) expect(crc32(buf, start, start + length)).toBe(zlibCrc32(buf.subarray(start, start + length)));
    }
  });
});
