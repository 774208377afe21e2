import { describe, expect, it } from 'vitest';
import type { MessageProperties } from '../../src/broker/message.js';
import {
  HEADER_SIZE,
  decodeMessageContent,
  emptyMessageHeader,
  encodeQueueSection,
  planMessageRecord,
  readMessageHeader,
  readExpiration,
  readPriority,
  writeMessageRecord,
} from '../../src/store/record-codec.js';

const section = encodeQueueSection([{ vhost: '/', name: 'q' }]);

/** A message record as this Warren writes it, and the priority recovery reads from it. */
function roundTrip(properties: MessageProperties): { priority: number; expiration: number | undefined; decoded: MessageProperties } {
  const content = { exchange: 'ex', routingKey: 'rk', properties, body: new Uint8Array([1, 2, 3]) };
  const plan = planMessageRecord(content, 1, section);
  const buf = Buffer.alloc(plan.length);
  writeMessageRecord(buf, 0, plan, 7, Date.now(), content, 1, section);
  const header = emptyMessageHeader();
  const payloadLength = buf.readUInt32LE(4);
  expect(readMessageHeader(buf, HEADER_SIZE, payloadLength, header)).toBe(true);
  return {
    priority: readPriority(buf, header, HEADER_SIZE + payloadLength),
    expiration: readExpiration(buf, header, HEADER_SIZE + payloadLength),
    decoded: decodeMessageContent(buf).content.properties,
  };
}

describe('the priority in a message record', () => {
  it('is written first in the properties, so recovery reads it without decoding them', () => {
    for (const priority of [0, 1, 9, 10, 99, 255]) {
      const properties: MessageProperties = { deliveryMode: 2, headers: { priority: 3 }, priority, contentType: 'x' };
      const { priority: read, decoded } = roundTrip(properties);
      expect(read).toBe(priority);
      expect(decoded).toEqual(properties);
    }
  });

  it('is 0 for a message without one', () => {
    expect(roundTrip({ deliveryMode: 2, headers: { priority: 4 } }).priority).toBe(0);
    expect(roundTrip({}).priority).toBe(0);
  });
});

describe('the expiration in a message record', () => {
  it('is written after the priority (or first), so recovery reads it without decoding the properties', () => {
    const withPriority: MessageProperties = { deliveryMode: 2, priority: 7, expiration: '60000', headers: { expiration: '1' } };
    expect(roundTrip(withPriority)).toMatchObject({ priority: 7, expiration: 60_000, decoded: withPriority });
    const alone: MessageProperties = { contentType: 'x', expiration: '0' };
    expect(roundTrip(alone)).toMatchObject({ priority: 0, expiration: 0, decoded: alone });
  });

  it('is undefined for a message without one', () => {
    expect(roundTrip({ deliveryMode: 2, priority: 1 }).expiration).toBeUndefined();
    expect(roundTrip({ headers: { expiration: '5' } }).expiration).toBeUndefined();
  });
});
