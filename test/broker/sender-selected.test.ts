// Sender-selected distribution (RabbitMQ's CC and BCC headers) on the domain alone.
import { describe, expect, it } from 'vitest';
import { queueOf, readyBodies, world } from './fixtures.js';

function setup() {
  const { vhost } = world();
  for (const name of ['a', 'b', 'c', 'd']) vhost.declareQueue({ queue: name }, null);
  vhost.declareExchange({ exchange: 'x', type: 'direct' });
  for (const name of ['a', 'b', 'c']) vhost.bind({ source: 'x', destination: name, destinationKind: 'queue', routingKey: name });
  return vhost;
}

const body = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('CC and BCC headers', () => {
  it('route the message with every key as well as its own, each queue once', () => {
    const vhost = setup();
    const result = vhost.publish({ exchange: 'x', routingKey: 'a', body: body('m'), properties: { headers: { CC: ['b', 'a'], BCC: ['c', 'nowhere'] } } });
    expect(result.queues.map((q) => q.name).sort()).toEqual(['a', 'b', 'c']);
    expect(readyBodies(queueOf(vhost, 'd'))).toEqual([]);
  });

  it('keep CC on the message and remove BCC before anyone sees it', () => {
    const vhost = setup();
    vhost.publish({ exchange: 'x', routingKey: 'a', body: body('m'), properties: { headers: { CC: ['b'], BCC: ['c'], other: 1 } } });
    for (const name of ['a', 'b', 'c']) {
      const [entry] = queueOf(vhost, name).peek(0, 1);
      expect(entry?.message.content.properties.headers).toEqual({ CC: ['b'], other: 1 });
    }
  });

  it('work through the default exchange too', () => {
    const vhost = setup();
    const result = vhost.publish({ exchange: '', routingKey: 'a', body: body('m'), properties: { headers: { CC: ['d'] } } });
    expect(result.queues.map((q) => q.name).sort()).toEqual(['a', 'd']);
  });

  it('refuse a CC that is not an array with 406, as RabbitMQ does', () => {
    const vhost = setup();
    expect(() => vhost.publish({ exchange: 'x', routingKey: 'a', body: body('m'), properties: { headers: { CC: 'b' } } })).toThrow(
      'invalid message: {unacceptable_type_in_header,"CC",longstr}',
    );
    expect(readyBodies(queueOf(vhost, 'a'))).toEqual([]);
  });
});
