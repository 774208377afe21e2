import { describe, expect, it } from 'vitest';
import { buildMethod } from '../../../src/protocol/amqp/build-method.js';
import { decodeMethod, encodeMethodPayload } from '../../../src/protocol/amqp/method-codec.js';

describe('buildMethod', () => {
  it('fills every argument the caller leaves out with the spec default, as a wire value', () => {
    expect(buildMethod('basic.publish', { routingKey: 'rk' })).toEqual({
      method: 'basic.publish',
      ticket: 0,
      exchange: '',
      routingKey: 'rk',
      mandatory: false,
      immediate: false,
    });
    expect(buildMethod('connection.start', { serverProperties: new Map() })).toEqual({
      method: 'connection.start',
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: new Map(),
      mechanisms: Buffer.from('PLAIN'),
      locales: Buffer.from('en_US'),
    });
    expect(buildMethod('basic.ack', {})).toEqual({ method: 'basic.ack', deliveryTag: 0n, multiple: false });
    expect(buildMethod('queue.declare', { queue: 'q', durable: true }).arguments).toEqual(new Map());
  });

  it('keeps what the caller gives, and the result encodes and decodes', () => {
    const close = buildMethod('connection.close', { replyCode: 530, classId: 10, methodId: 40, replyText: 'NOT_ALLOWED - vhost' });
    expect(decodeMethod(encodeMethodPayload(close))).toEqual(close);
  });

  it('arguments without a spec default are required by the type', () => {
    // @ts-expect-error reply-code, class-id and method-id have no default in the spec
    const incomplete = buildMethod('connection.close', { replyText: 'x' });
    expect(incomplete.replyCode).toBeUndefined();
  });
});
