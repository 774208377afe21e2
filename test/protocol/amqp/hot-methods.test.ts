import { describe, expect, it } from 'vitest';
import { buildMethod } from '../../../src/protocol/amqp/build-method.js';
import { HotMethodDecoder } from '../../../src/protocol/amqp/hot-methods.js';
import { decodeMethod, encodeMethodPayload } from '../../../src/protocol/amqp/method-codec.js';
import type { AmqpMethod } from '../../../src/protocol/amqp/spec/methods.js';

const HOT: readonly AmqpMethod[] = [
  buildMethod('basic.publish', { exchange: 'amq.direct', routingKey: 'orders.eu', mandatory: true }),
  buildMethod('basic.publish', { exchange: '', routingKey: '', immediate: true, ticket: 513 }),
  buildMethod('basic.publish', { exchange: 'x'.repeat(255), routingKey: 'k'.repeat(255) }),
  buildMethod('basic.publish', { exchange: 'é', routingKey: 'ключ' }),
  buildMethod('basic.ack', { deliveryTag: 0xffff_ffff_ffff_ffffn, multiple: true }),
  buildMethod('basic.ack', { deliveryTag: 7n, multiple: false }),
  buildMethod('basic.nack', { deliveryTag: 2n ** 40n, multiple: true, requeue: false }),
  buildMethod('basic.nack', { deliveryTag: 1n, multiple: false, requeue: true }),
  buildMethod('basic.reject', { deliveryTag: 99n, requeue: false }),
  buildMethod('basic.reject', { deliveryTag: 3n, requeue: true }),
  buildMethod('basic.qos', { prefetchCount: 100 }),
];

describe('hot method decoder', () => {
  it.each(HOT.map((m, i) => ({ name: `${i} ${m.method}`, m })))('$name decodes as the generic decoder does', ({ m }) => {
    const payload = encodeMethodPayload(m);
    const decoded = new HotMethodDecoder().decode(payload);
    expect(decoded).toEqual(m);
    expect(decoded).toEqual(decodeMethod(payload));
  });

  it('returns the previous basic.publish for the same bytes, and a fresh one for other bytes', () => {
    const decoder = new HotMethodDecoder();
    const first = decoder.decode(encodeMethodPayload(buildMethod('basic.publish', { exchange: 'e', routingKey: 'a' })));
    const again = decoder.decode(encodeMethodPayload(buildMethod('basic.publish', { exchange: 'e', routingKey: 'a' })));
    expect(again).toBe(first);
    const other = decoder.decode(encodeMethodPayload(buildMethod('basic.publish', { exchange: 'e', routingKey: 'b' })));
    expect(other).toEqual(buildMethod('basic.publish', { exchange: 'e', routingKey: 'b' }));
    const mandatory = decoder.decode(encodeMethodPayload(buildMethod('basic.publish', { exchange: 'e', routingKey: 'b', mandatory: true })));
    expect(mandatory).toEqual(buildMethod('basic.publish', { exchange: 'e', routingKey: 'b', mandatory: true }));
  });

  it('ignores unused bits as the generic decoder does', () => {
    const payload = encodeMethodPayload(buildMethod('basic.ack', { deliveryTag: 5n, multiple: true }));
    payload[12] = 0xff;
    expect(new HotMethodDecoder().decode(payload)).toEqual(decodeMethod(payload));
  });

  const publish = encodeMethodPayload(buildMethod('basic.publish', { exchange: 'ex', routingKey: 'key' }));
  const ack = encodeMethodPayload(buildMethod('basic.ack', { deliveryTag: 5n, multiple: true }));
  const malformed: ReadonlyArray<{ name: string; bytes: Buffer }> = [
    { name: 'publish cut in the routing key', bytes: publish.subarray(0, publish.length - 3) },
    { name: 'publish without its bits', bytes: publish.subarray(0, publish.length - 1) },
    { name: 'publish with a trailing byte', bytes: Buffer.concat([publish, Buffer.of(0)]) },
    { name: 'publish with an exchange length past the end', bytes: Buffer.from([0, 60, 0, 40, 0, 0, 200, 0x61]) },
    { name: 'publish with invalid UTF-8', bytes: Buffer.from([0, 60, 0, 40, 0, 0, 1, 0xff, 0, 0]) },
    { name: 'publish of 5 bytes', bytes: Buffer.from([0, 60, 0, 40, 0]) },
    { name: 'ack cut short', bytes: ack.subarray(0, 12) },
    { name: 'ack with a trailing byte', bytes: Buffer.concat([ack, Buffer.of(1)]) },
    { name: 'nack cut short', bytes: Buffer.from([0, 60, 0, 120, 0, 0, 0, 0, 0, 0, 0, 1]) },
    { name: 'reject too long', bytes: Buffer.from([0, 60, 0, 90, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]) },
    { name: 'unknown basic method', bytes: Buffer.from([0, 60, 0, 255, 0]) },
    { name: 'unknown class', bytes: Buffer.from([1, 60, 0, 40, 0]) },
    { name: 'no method id', bytes: Buffer.from([0, 60]) },
  ];
  it.each(malformed)('$name: the generic decoder\'s error', ({ bytes }) => {
    const generic = decodeMethod(bytes);
    expect(generic).toMatchObject({ kind: 'error' });
    const decoder = new HotMethodDecoder();
    // Remembering a valid publish first must not change how a malformed one is judged.
    decoder.decode(publish);
    expect(decoder.decode(bytes)).toEqual(generic);
  });
});
