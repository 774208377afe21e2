import { beforeEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import type { Exchange } from '../../src/broker/exchange.js';
import type { BindingRequest, VHost } from '../../src/broker/vhost.js';
import { consumerOptions, expectBrokerError, fill, publish, queueOf, readyBodies, world, type World } from './fixtures.js';

let w: World;
let vhost: VHost;

beforeEach(() => {
  w = world();
  vhost = w.vhost;
});

function queueBinding(source: string, queue: string, routingKey = '', args: Record<string, unknown> = {}): BindingRequest {
  return { source, destination: queue, destinationKind: 'queue', routingKey, arguments: args };
}

function exchangeBinding(source: string, destination: string, routingKey = '', args: Record<string, unknown> = {}): BindingRequest {
  return { source, destination, destinationKind: 'exchange', routingKey, arguments: args };
}

function exchangeOf(name: string): Exchange {
  const exchange = vhost.exchanges.get(name);
  if (!exchange) throw new Error(`test setup: no exchange '${name}'`);
  return exchange;
}

/** `source -> destination (key)` for every binding, sorted. */
function bindingList(): string[] {
  return vhost
    .bindings()
    .map((b) => `${b.source.name} -> ${b.destination.kind === 'queue' ? b.destination.queue.name : `x:${b.destination.exchange.name}`} (${b.routingKey})`)
    .sort();
}

describe('predeclared exchanges', () => {
  const expected: [string, string, boolean][] = [
    ['', 'direct', false],
    ['amq.direct', 'direct', false],
    ['amq.fanout', 'fanout', false],
    ['amq.topic', 'topic', false],
    ['amq.headers', 'headers', false],
    ['amq.match', 'headers', false],
    ['amq.rabbitmq.trace', 'topic', true],
  ];

  it.each(expected)('%j is a durable %s exchange (internal: %s)', (name, type, internal) => {
    const exchange = exchangeOf(name);
    expect(exchange.type).toBe(type);
    expect(exchange.durable).toBe(true);
    expect(exchange.autoDelete).toBe(false);
    expect(exchange.internal).toBe(internal);
  });

  it('exist in every vhost and nothing else does', () => {
    const other = w.broker.addVhost('other');
    for (const v of [vhost, other]) expect([...v.exchanges.keys()].sort()).toEqual(expected.map(([name]) => name).sort());
    expect(vhost.bindings()).toEqual([]);
    expect(vhost.queues.size).toBe(0);
  });

  it('vhosts are independent', () => {
    const other = w.broker.addVhost('other');
    vhost.declareQueue({ queue: 'q' }, null);
    vhost.declareExchange({ exchange: 'x', type: 'fanout' });
    expect(other.queues.has('q')).toBe(false);
    expect(other.exchanges.has('x')).toBe(false);
  });
});

describe('broker', () => {
  it('has the vhost "/" and adds vhosts idempotently', () => {
    const broker = new Broker();
    expect(broker.vhost('/').name).toBe('/');
    const added = broker.addVhost('v');
    expect(broker.addVhost('v')).toBe(added);
  });

  it('an unknown vhost is 404', () => {
    expectBrokerError(() => new Broker().vhost('nope'), 'NOT_FOUND');
  });

  it('deleting a vhost cancels the consumers of its queues', () => {
    const { channel, sink } = w.channel();
    vhost.declareQueue({ queue: 'q' }, null);
    channel.consume(queueOf(vhost, 'q'), consumerOptions('c'));
    w.broker.deleteVhost('/');
    expect(w.broker.vhosts.has('/')).toBe(false);
    expect(sink.cancelled).toEqual(['c']);
  });

  it('message ids increase across vhosts', () => {
    const other = w.broker.addVhost('other');
    const a = publish(vhost, 'amq.direct', 'k', 'a').message.id;
    const b = publish(other, 'amq.direct', 'k', 'b').message.id;
    const c = publish(vhost, 'amq.direct', 'k', 'c').message.id;
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
  });
});

describe('exchange.declare', () => {
  it('creates an exchange with the given properties and defaults', () => {
    const exchange = vhost.declareExchange({ exchange: 'x', type: 'topic' });
    expect(exchange).toMatchObject({ name: 'x', type: 'topic', durable: false, autoDelete: false, internal: false, arguments: {} });
    expect(vhost.exchanges.get('x')).toBe(exchange);
  });

  it('redeclaring with the same properties returns the existing exchange', () => {
    const args = { 'alternate-exchange': 'ae', b: 2 };
    const first = vhost.declareExchange({ exchange: 'x', type: 'direct', durable: true, arguments: args });
    const again = vhost.declareExchange({ exchange: 'x', type: 'direct', durable: true, arguments: { b: 2, 'alternate-exchange': 'ae' } });
    expect(again).toBe(first);
  });

  it('an unknown or missing type is 503 COMMAND_INVALID', () => {
    expectBrokerError(() => vhost.declareExchange({ exchange: 'x', type: 'x-consistent-hash' }), 'COMMAND_INVALID');
    expectBrokerError(() => vhost.declareExchange({ exchange: 'x' }), 'COMMAND_INVALID');
    expect(vhost.exchanges.has('x')).toBe(false);
  });

  it('a non-string alternate-exchange is 406', () => {
    expectBrokerError(() => vhost.declareExchange({ exchange: 'x', type: 'direct', arguments: { 'alternate-exchange': 5 } }), 'PRECONDITION_FAILED');
    expect(vhost.exchanges.has('x')).toBe(false);
  });

  describe('inequivalent redeclare is 406 for each field', () => {
    const base = { exchange: 'x', type: 'direct', durable: true, autoDelete: false, internal: false, arguments: { a: 1 } };

    it.each([
      ['type', { type: 'fanout' }],
      ['durable', { durable: false }],
      ['auto_delete', { autoDelete: true }],
      ['internal', { internal: true }],
      ['a', { arguments: { a: 2 } }],
      ['a', { arguments: {} }],
      ['b', { arguments: { a: 1, b: 1 } }],
    ])('%s', (field, change) => {
      const original = vhost.declareExchange(base);
      expectBrokerError(() => vhost.declareExchange({ ...base, ...change }), 'PRECONDITION_FAILED', new RegExp(`inequivalent arg '${field}'`));
      expect(vhost.exchanges.get('x')).toBe(original);
      expect(original).toMatchObject({ type: 'direct', durable: true, autoDelete: false, internal: false, arguments: { a: 1 } });
    });
  });

  describe('passive', () => {
    it('returns an existing exchange and ignores the other fields', () => {
      const exchange = vhost.declareExchange({ exchange: 'x', type: 'direct' });
      expect(vhost.declareExchange({ exchange: 'x', passive: true })).toBe(exchange);
      expect(vhost.declareExchange({ exchange: 'x', passive: true, type: 'fanout', durable: true })).toBe(exchange);
    });

    it('is 404 when the exchange does not exist, and creates nothing', () => {
      expectBrokerError(() => vhost.declareExchange({ exchange: 'nope', type: 'direct', passive: true }), 'NOT_FOUND');
      expect(vhost.exchanges.has('nope')).toBe(false);
    });

    it('works for amq.* exchanges', () => {
      expect(vhost.declareExchange({ exchange: 'amq.topic', passive: true }).type).toBe('topic');
    });
  });

  describe('amq.* names', () => {
    it('declaring a new amq.* exchange is 403', () => {
      expectBrokerError(() => vhost.declareExchange({ exchange: 'amq.custom', type: 'direct' }), 'ACCESS_REFUSED');
      expect(vhost.exchanges.has('amq.custom')).toBe(false);
    });

    it('redeclaring an amq.* exchange with its properties succeeds', () => {
      const existing = exchangeOf('amq.direct');
      expect(vhost.declareExchange({ exchange: 'amq.direct', type: 'direct', durable: true })).toBe(existing);
    });

    it('redeclaring an amq.* exchange with other properties is 406', () => {
      expectBrokerError(() => vhost.declareExchange({ exchange: 'amq.direct', type: 'fanout', durable: true }), 'PRECONDITION_FAILED');
      expectBrokerError(() => vhost.declareExchange({ exchange: 'amq.direct', type: 'direct', durable: false }), 'PRECONDITION_FAILED');
    });

    it('deleting an amq.* exchange is 403, existing or not', () => {
      expectBrokerError(() => vhost.deleteExchange('amq.direct'), 'ACCESS_REFUSED');
      expectBrokerError(() => vhost.deleteExchange('amq.nope'), 'ACCESS_REFUSED');
      expect(vhost.exchanges.has('amq.direct')).toBe(true);
    });

    it('declaring a new amq.* queue is 403', () => {
      expectBrokerError(() => vhost.declareQueue({ queue: 'amq.q' }, null), 'ACCESS_REFUSED');
      expect(vhost.queues.has('amq.q')).toBe(false);
    });
  });

  describe('the default exchange', () => {
    beforeEach(() => {
      vhost.declareQueue({ queue: 'q' }, null);
      vhost.declareExchange({ exchange: 'x', type: 'direct' });
    });

    it('cannot be declared, even passively (403)', () => {
      expectBrokerError(() => vhost.declareExchange({ exchange: '', type: 'direct' }), 'ACCESS_REFUSED');
      expectBrokerError(() => vhost.declareExchange({ exchange: '', type: 'direct', durable: true }), 'ACCESS_REFUSED');
      expectBrokerError(() => vhost.declareExchange({ exchange: '', passive: true }), 'ACCESS_REFUSED');
    });

    it('cannot be deleted (403)', () => {
      expectBrokerError(() => vhost.deleteExchange(''), 'ACCESS_REFUSED');
      expect(vhost.exchanges.has('')).toBe(true);
    });

    it('cannot be bound to or from (403)', () => {
      expectBrokerError(() => vhost.bind(queueBinding('', 'q', 'q')), 'ACCESS_REFUSED');
      expectBrokerError(() => vhost.bind(exchangeBinding('', 'x')), 'ACCESS_REFUSED');
      expectBrokerError(() => vhost.bind(exchangeBinding('x', '')), 'ACCESS_REFUSED');
      expect(vhost.bindings()).toEqual([]);
    });

    it('cannot be unbound (403)', () => {
      expectBrokerError(() => vhost.unbind(queueBinding('', 'q', 'q')), 'ACCESS_REFUSED');
      expectBrokerError(() => vhost.unbind(exchangeBinding('x', '')), 'ACCESS_REFUSED');
    });

    it('routes to every queue by its name, without listed bindings', () => {
      expect(publish(vhost, '', 'q', 'm').queues.map((q) => q.name)).toEqual(['q']);
      expect(queueOf(vhost, 'q').inbound.size).toBe(0);
      expect(vhost.bindings()).toEqual([]);
    });
  });
});

describe('exchange.delete', () => {
  it('deleting a missing exchange succeeds', () => {
    expect(() => vhost.deleteExchange('nope')).not.toThrow();
    expect(() => vhost.deleteExchange('nope', true)).not.toThrow();
  });

  it('ifUnused refuses an exchange that is the source of a binding (406) and keeps it', () => {
    vhost.declareExchange({ exchange: 'x', type: 'fanout' });
    vhost.declareQueue({ queue: 'q' }, null);
    vhost.bind(queueBinding('x', 'q'));
    expectBrokerError(() => vhost.deleteExchange('x', true), 'PRECONDITION_FAILED');
    expect(vhost.exchanges.has('x')).toBe(true);
    expect(bindingList()).toEqual(['x -> q ()']);
  });

  it('ifUnused deletes an exchange that is only a destination', () => {
    vhost.declareExchange({ exchange: 'x', type: 'fanout' });
    vhost.bind(exchangeBinding('amq.fanout', 'x'));
    vhost.deleteExchange('x', true);
    expect(vhost.exchanges.has('x')).toBe(false);
    expect(vhost.bindings()).toEqual([]);
  });

  it('removes every binding the exchange is source or destination of', () => {
    vhost.declareExchange({ exchange: 'x', type: 'fanout' });
    vhost.declareExchange({ exchange: 'up', type: 'fanout' });
    vhost.declareExchange({ exchange: 'down', type: 'fanout' });
    vhost.declareQueue({ queue: 'q' }, null);
    vhost.bind(queueBinding('x', 'q'));
    vhost.bind(exchangeBinding('up', 'x'));
    vhost.bind(exchangeBinding('x', 'down'));
    vhost.bind(queueBinding('up', 'q'));
    vhost.deleteExchange('x');
    expect(vhost.exchanges.has('x')).toBe(false);
    expect(bindingList()).toEqual(['up -> q ()']);
    expect(queueOf(vhost, 'q').inbound.size).toBe(1);
    expect(exchangeOf('down').inbound.size).toBe(0);
    expect(exchangeOf('up').outbound.size).toBe(1);
  });
});

describe('auto-delete exchanges', () => {
  beforeEach(() => {
    vhost.declareExchange({ exchange: 'ad', type: 'direct', autoDelete: true });
    vhost.declareQueue({ queue: 'q1' }, null);
    vhost.declareQueue({ queue: 'q2' }, null);
  });

  it('is not deleted before it has had a binding', () => {
    expect(vhost.exchanges.has('ad')).toBe(true);
    vhost.unbind(queueBinding('ad', 'q1', 'k')); // no such binding: a no-op
    expect(vhost.exchanges.has('ad')).toBe(true);
  });

  it('is deleted when its last binding is unbound', () => {
    vhost.bind(queueBinding('ad', 'q1', 'k'));
    vhost.bind(queueBinding('ad', 'q2', 'k'));
    vhost.unbind(queueBinding('ad', 'q1', 'k'));
    expect(vhost.exchanges.has('ad')).toBe(true);
    vhost.unbind(queueBinding('ad', 'q2', 'k'));
    expect(vhost.exchanges.has('ad')).toBe(false);
  });

  it('is deleted when its last destination queue is deleted', () => {
    vhost.bind(queueBinding('ad', 'q1', 'k'));
    vhost.deleteQueue('q1');
    expect(vhost.exchanges.has('ad')).toBe(false);
  });

  it('is deleted when its last destination exchange is deleted', () => {
    vhost.declareExchange({ exchange: 'dest', type: 'fanout' });
    vhost.bind(exchangeBinding('ad', 'dest'));
    vhost.deleteExchange('dest');
    expect(vhost.exchanges.has('ad')).toBe(false);
  });

  it('cascades up a chain of auto-delete exchanges', () => {
    vhost.declareExchange({ exchange: 'ad-top', type: 'fanout', autoDelete: true });
    vhost.bind(exchangeBinding('ad-top', 'ad'));
    vhost.bind(queueBinding('ad', 'q1', 'k'));
    vhost.deleteQueue('q1');
    expect(vhost.exchanges.has('ad')).toBe(false);
    expect(vhost.exchanges.has('ad-top')).toBe(false);
    expect(vhost.bindings()).toEqual([]);
  });

  it('losing bindings as a destination does not delete it', () => {
    vhost.bind(queueBinding('ad', 'q1', 'k'));
    vhost.declareExchange({ exchange: 'up', type: 'fanout' });
    vhost.bind(exchangeBinding('up', 'ad'));
    vhost.unbind(exchangeBinding('up', 'ad'));
    expect(vhost.exchanges.has('ad')).toBe(true);
  });
});

describe('queue.declare', () => {
  it('creates a queue and reports counts', () => {
    expect(vhost.declareQueue({ queue: 'q', durable: true }, null)).toEqual({ queue: 'q', messageCount: 0, consumerCount: 0 });
    const queue = queueOf(vhost, 'q');
    expect(queue).toMatchObject({ name: 'q', durable: true, exclusive: false, autoDelete: false, arguments: {} });
  });

  it('redeclaring returns the current counts', () => {
    vhost.declareQueue({ queue: 'q' }, null);
    fill(vhost, 'q', ['a', 'b']);
    const { channel } = w.channel();
    channel.consume(queueOf(vhost, 'q'), consumerOptions('c', { prefetch: 1 }));
    expect(vhost.declareQueue({ queue: 'q' }, null)).toEqual({ queue: 'q', messageCount: 1, consumerCount: 1 });
  });

  it('server-named queues are amq.gen-<22 url-safe chars>, distinct, and redeclarable', () => {
    const a = vhost.declareQueue({}, null);
    const b = vhost.declareQueue({ queue: '' }, null);
    expect(a.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    expect(b.queue).toMatch(/^amq\.gen-[A-Za-z0-9_-]{22}$/);
    expect(a.queue).not.toBe(b.queue);
    expect(vhost.queues.has(a.queue)).toBe(true);
    expect(vhost.declareQueue({ queue: a.queue }, null)).toEqual({ queue: a.queue, messageCount: 0, consumerCount: 0 });
    expect(vhost.declareQueue({ queue: a.queue, passive: true }, null).queue).toBe(a.queue);
  });

  it('the default exchange routes to a server-named queue', () => {
    const { queue } = vhost.declareQueue({}, null);
    publish(vhost, '', queue, 'm');
    expect(queueOf(vhost, queue).messageCount).toBe(1);
  });

  describe('inequivalent redeclare is 406 for each field', () => {
    const base = { queue: 'q', durable: true, exclusive: false, autoDelete: false, arguments: { 'x-max-length': 10, 'custom': 'a' } };

    it.each([
      ['durable', { durable: false }],
      ['auto_delete', { autoDelete: true }],
      ['x-max-length', { arguments: { 'x-max-length': 11, 'custom': 'a' } }],
      ['custom', { arguments: { 'x-max-length': 10, 'custom': 'b' } }],
      ['custom', { arguments: { 'x-max-length': 10 } }],
      ['x-message-ttl', { arguments: { 'x-max-length': 10, 'custom': 'a', 'x-message-ttl': 5 } }],
    ])('%s', (field, change) => {
      vhost.declareQueue(base, null);
      expectBrokerError(() => vhost.declareQueue({ ...base, ...change }, null), 'PRECONDITION_FAILED', new RegExp(`inequivalent arg '${field}'`));
      expect(queueOf(vhost, 'q')).toMatchObject({ durable: true, autoDelete: false, arguments: base.arguments });
    });

    it('exclusive', () => {
      const { channel } = w.channel();
      vhost.declareQueue({ queue: 'mine', exclusive: true }, channel);
      expectBrokerError(() => vhost.declareQueue({ queue: 'mine', exclusive: false }, channel), 'PRECONDITION_FAILED', /inequivalent arg 'exclusive'/);
      vhost.declareQueue({ queue: 'shared' }, channel);
      expectBrokerError(() => vhost.declareQueue({ queue: 'shared', exclusive: true }, channel), 'PRECONDITION_FAILED', /inequivalent arg 'exclusive'/);
    });

    it('argument order does not matter', () => {
      vhost.declareQueue(base, null);
      expect(() => vhost.declareQueue({ ...base, arguments: { 'custom': 'a', 'x-max-length': 10 } }, null)).not.toThrow();
    });
  });

  describe('passive', () => {
    it('is 404 when the queue does not exist, and creates nothing', () => {
      expectBrokerError(() => vhost.declareQueue({ queue: 'nope', passive: true }, null), 'NOT_FOUND');
      expect(vhost.queues.has('nope')).toBe(false);
    });

    it('returns counts and ignores the other fields', () => {
      vhost.declareQueue({ queue: 'q', durable: true }, null);
      fill(vhost, 'q', ['a']);
      expect(vhost.declareQueue({ queue: 'q', passive: true, durable: false, arguments: { 'x-max-length': 1 } }, null)).toEqual({
        queue: 'q',
        messageCount: 1,
        consumerCount: 0,
      });
    });
  });

  it('an invalid argument is 406 and creates nothing', () => {
    expectBrokerError(() => vhost.declareQueue({ queue: 'q', arguments: { 'x-overflow': 'sideways' } }, null), 'PRECONDITION_FAILED', /x-overflow/);
    expectBrokerError(() => vhost.declareQueue({ queue: 'q', arguments: { 'x-dead-letter-routing-key': 'k' } }, null), 'PRECONDITION_FAILED');
    expectBrokerError(() => vhost.declareQueue({ queue: 'q', arguments: { 'x-expires': 0 } }, null), 'PRECONDITION_FAILED');
    expect(vhost.queues.has('q')).toBe(false);
  });

  it('an invalid argument on a server-named queue creates nothing', () => {
    expectBrokerError(() => vhost.declareQueue({ arguments: { 'x-max-priority': 1000 } }, null), 'PRECONDITION_FAILED');
    expect(vhost.queues.size).toBe(0);
  });
});

describe('exclusive queues', () => {
  it('another channel gets 405 for every use; the owner does not', () => {
    const owner = w.channel().channel;
    const other = w.channel().channel;
    vhost.declareQueue({ queue: 'ex', exclusive: true }, owner);
    fill(vhost, 'ex', ['a']);

    expectBrokerError(() => vhost.declareQueue({ queue: 'ex', passive: true }, other), 'RESOURCE_LOCKED');
    expectBrokerError(() => vhost.declareQueue({ queue: 'ex', exclusive: true }, other), 'RESOURCE_LOCKED');
    expectBrokerError(() => vhost.useQueue('ex', other), 'RESOURCE_LOCKED');
    expectBrokerError(() => vhost.purgeQueue('ex', other), 'RESOURCE_LOCKED');
    expectBrokerError(() => vhost.deleteQueue('ex', {}, other), 'RESOURCE_LOCKED');
    expect(queueOf(vhost, 'ex').messageCount).toBe(1);

    expect(vhost.declareQueue({ queue: 'ex', passive: true }, owner).messageCount).toBe(1);
    expect(vhost.useQueue('ex', owner).name).toBe('ex');
    expect(vhost.purgeQueue('ex', owner)).toBe(1);
    expect(vhost.deleteQueue('ex', {}, owner)).toBe(0);
    expect(vhost.queues.has('ex')).toBe(false);
  });

  it('anyone may publish to an exclusive queue', () => {
    const owner = w.channel().channel;
    vhost.declareQueue({ queue: 'ex', exclusive: true }, owner);
    publish(vhost, '', 'ex', 'm');
    expect(queueOf(vhost, 'ex').messageCount).toBe(1);
  });

  it('is deleted, with its bindings, when its channel closes; other queues stay', () => {
    const owner = w.channel().channel;
    const { channel: other } = w.channel();
    vhost.declareQueue({ queue: 'ex', exclusive: true }, owner);
    const { queue: named } = vhost.declareQueue({ exclusive: true }, owner);
    vhost.declareQueue({ queue: 'shared' }, owner);
    vhost.declareQueue({ queue: 'theirs', exclusive: true }, other);
    vhost.bind(queueBinding('amq.direct', 'ex', 'k'));
    fill(vhost, 'ex', ['m']);
    owner.close();
    expect(vhost.queues.has('ex')).toBe(false);
    expect(vhost.queues.has(named)).toBe(false);
    expect(vhost.queues.has('shared')).toBe(true);
    expect(vhost.queues.has('theirs')).toBe(true);
    expect(vhost.bindings()).toEqual([]);
    expect(w.observer.bodies()).toEqual(['m']);
    // the name is free again
    expect(vhost.declareQueue({ queue: 'ex', exclusive: true }, other).queue).toBe('ex');
  });

  it('an exclusive queue deleted before close is not deleted again by close', () => {
    const owner = w.channel().channel;
    const other = w.channel().channel;
    vhost.declareQueue({ queue: 'ex', exclusive: true }, owner);
    vhost.deleteQueue('ex', {}, owner);
    vhost.declareQueue({ queue: 'ex', exclusive: true }, other);
    owner.close();
    expect(queueOf(vhost, 'ex').owner).toBe(other);
  });

  it('cancels the consumers of its owner when it is deleted on close', () => {
    const { channel: owner, sink } = w.channel();
    vhost.declareQueue({ queue: 'ex', exclusive: true }, owner);
    owner.consume(vhost.useQueue('ex', owner), consumerOptions('c'));
    owner.close();
    expect(vhost.queues.has('ex')).toBe(false);
    expect(owner.consumerList).toEqual([]);
    expect(sink.bodies()).toEqual([]);
  });
});

describe('auto-delete queues', () => {
  it('is not deleted before it has had a consumer', () => {
    vhost.declareQueue({ queue: 'ad', autoDelete: true }, null);
    fill(vhost, 'ad', ['a']);
    vhost.purgeQueue('ad', null);
    expect(vhost.queues.has('ad')).toBe(true);
  });

  it('is deleted, with its bindings, when its last consumer is cancelled', () => {
    vhost.declareQueue({ queue: 'ad', autoDelete: true }, null);
    vhost.bind(queueBinding('amq.fanout', 'ad'));
    const queue = queueOf(vhost, 'ad');
    const a = w.channel().channel;
    const b = w.channel().channel;
    a.consume(queue, consumerOptions('c1'));
    a.consume(queue, consumerOptions('c2'));
    b.consume(queue, consumerOptions('c3'));
    a.cancel('c1');
    b.cancel('c3');
    expect(vhost.queues.has('ad')).toBe(true);
    a.cancel('c2');
    expect(vhost.queues.has('ad')).toBe(false);
    expect(queue.state).toBe('deleted');
    expect(vhost.bindings()).toEqual([]);
  });

  it('is deleted when the channel of its last consumer closes', () => {
    vhost.declareQueue({ queue: 'ad', autoDelete: true }, null);
    const { channel } = w.channel();
    channel.consume(queueOf(vhost, 'ad'), consumerOptions('c'));
    channel.close();
    expect(vhost.queues.has('ad')).toBe(false);
  });

  it('an exclusive auto-delete queue is deleted when its owner cancels its last consumer', () => {
    const { channel: owner } = w.channel();
    const { queue: name } = vhost.declareQueue({ exclusive: true, autoDelete: true }, owner);
    owner.consume(vhost.useQueue(name, owner), consumerOptions('c'));
    expect(() => owner.cancel('c')).not.toThrow();
    expect(vhost.queues.has(name)).toBe(false);
  });
});

describe('queue.delete', () => {
  beforeEach(() => {
    vhost.declareQueue({ queue: 'q' }, null);
  });

  it('returns the number of ready messages it held', () => {
    fill(vhost, 'q', ['a', 'b', 'c']);
    expect(vhost.deleteQueue('q')).toBe(3);
    expect(vhost.queues.has('q')).toBe(false);
    expect(w.observer.bodies()).toEqual(['a', 'b', 'c']);
  });

  it('deleting a missing queue succeeds with 0', () => {
    expect(vhost.deleteQueue('nope')).toBe(0);
    expect(vhost.deleteQueue('nope', { ifEmpty: true, ifUnused: true })).toBe(0);
  });

  it('ifUnused refuses a queue with consumers (406) and keeps it', () => {
    const { channel, sink } = w.channel();
    channel.consume(queueOf(vhost, 'q'), consumerOptions('c'));
    expectBrokerError(() => vhost.deleteQueue('q', { ifUnused: true }), 'PRECONDITION_FAILED', /in use/);
    expect(vhost.queues.has('q')).toBe(true);
    expect(sink.cancelled).toEqual([]);
    channel.cancel('c');
    expect(vhost.deleteQueue('q', { ifUnused: true })).toBe(0);
  });

  it('ifEmpty refuses a queue with ready messages (406) and keeps them', () => {
    fill(vhost, 'q', ['a']);
    expectBrokerError(() => vhost.deleteQueue('q', { ifEmpty: true }), 'PRECONDITION_FAILED', /not empty/);
    expect(queueOf(vhost, 'q').messageCount).toBe(1);
    vhost.purgeQueue('q', null);
    expect(vhost.deleteQueue('q', { ifEmpty: true })).toBe(0);
  });

  it('ifEmpty counts ready messages only, not unacked ones', () => {
    fill(vhost, 'q', ['a']);
    const { channel } = w.channel();
    expect(channel.get(queueOf(vhost, 'q'), false)).toBeDefined();
    expect(vhost.deleteQueue('q', { ifEmpty: true })).toBe(0);
  });

  it('removes its bindings and cancels its consumers on every channel', () => {
    vhost.declareExchange({ exchange: 'x', type: 'fanout' });
    vhost.bind(queueBinding('x', 'q'));
    vhost.bind(queueBinding('amq.direct', 'q', 'k'));
    vhost.declareQueue({ queue: 'other' }, null);
    vhost.bind(queueBinding('x', 'other'));
    const queue = queueOf(vhost, 'q');
    const one = w.channel();
    const two = w.channel();
    const c1 = one.channel.consume(queue, consumerOptions('c1'));
    const c2 = two.channel.consume(queue, consumerOptions('c2'));
    one.channel.consume(queueOf(vhost, 'other'), consumerOptions('keep'));

    vhost.deleteQueue('q');

    expect(bindingList()).toEqual(['x -> other ()']);
    expect(queue.inbound.size).toBe(0);
    expect(queue.state).toBe('deleted');
    expect(queue.consumerCount).toBe(0);
    expect([c1.state, c2.state]).toEqual(['cancelled', 'cancelled']);
    expect(one.sink.cancelled).toEqual(['c1']);
    expect(two.sink.cancelled).toEqual(['c2']);
    expect(one.channel.consumerList.map((c) => c.tag)).toEqual(['keep']);
    expect(two.channel.consumerList).toEqual([]);
    // nothing routes to it any more
    expect(publish(vhost, 'x', '', 'm').queues.map((q) => q.name)).toEqual(['other']);
    expect(publish(vhost, '', 'q', 'm').queues).toEqual([]);
  });

  it('unacked deliveries of a deleted queue can still be settled', () => {
    fill(vhost, 'q', ['a', 'b']);
    const { channel, sink } = w.channel();
    channel.consume(queueOf(vhost, 'q'), consumerOptions('c'));
    const [first, second] = sink.deliveries;
    vhost.deleteQueue('q');
    expect(() => channel.ack(first?.deliveryTag ?? -1, false)).not.toThrow();
    expect(() => channel.nack(second?.deliveryTag ?? -1, false, true)).not.toThrow();
    expect(channel.unackedCount).toBe(0);
    expect(vhost.queues.has('q')).toBe(false);
  });

  it('a consumer tag freed by a queue deletion can be reused', () => {
    const { channel } = w.channel();
    channel.consume(queueOf(vhost, 'q'), consumerOptions('c'));
    vhost.deleteQueue('q');
    vhost.declareQueue({ queue: 'q2' }, null);
    expect(() => channel.consume(queueOf(vhost, 'q2'), consumerOptions('c'))).not.toThrow();
  });
});

describe('queue.purge', () => {
  it('removes ready messages only and says how many', () => {
    vhost.declareQueue({ queue: 'q' }, null);
    fill(vhost, 'q', ['a', 'b', 'c']);
    const { channel } = w.channel();
    const got = channel.get(queueOf(vhost, 'q'), false);
    expect(vhost.purgeQueue('q', null)).toBe(2);
    expect(queueOf(vhost, 'q').messageCount).toBe(0);
    channel.nack(got?.deliveryTag ?? -1, false, true);
    expect(readyBodies(queueOf(vhost, 'q'))).toEqual(['a']);
  });

  it('a missing queue is 404', () => {
    expectBrokerError(() => vhost.purgeQueue('nope', null), 'NOT_FOUND');
  });
});

describe('bindings', () => {
  beforeEach(() => {
    vhost.declareQueue({ queue: 'q' }, null);
    vhost.declareExchange({ exchange: 'x', type: 'direct' });
  });

  it('binding twice is a no-op', () => {
    vhost.bind(queueBinding('x', 'q', 'k'));
    vhost.bind(queueBinding('x', 'q', 'k'));
    expect(bindingList()).toEqual(['x -> q (k)']);
    expect(queueOf(vhost, 'q').inbound.size).toBe(1);
    publish(vhost, 'x', 'k', 'm');
    expect(queueOf(vhost, 'q').messageCount).toBe(1);
  });

  it('binding arguments are part of the identity, in any key order', () => {
    vhost.bind(queueBinding('x', 'q', 'k', { a: 1, b: 2 }));
    vhost.bind(queueBinding('x', 'q', 'k', { b: 2, a: 1 }));
    vhost.bind(queueBinding('x', 'q', 'k', { a: 1 }));
    expect(vhost.bindings()).toHaveLength(2);
    vhost.unbind(queueBinding('x', 'q', 'k', { b: 2, a: 1 }));
    expect(vhost.bindings().map((b) => b.arguments)).toEqual([{ a: 1 }]);
  });

  it('the same key to a queue and to an exchange of the same name are different bindings', () => {
    vhost.declareExchange({ exchange: 'q', type: 'fanout' });
    vhost.bind(queueBinding('x', 'q', 'k'));
    vhost.bind(exchangeBinding('x', 'q', 'k'));
    expect(bindingList()).toEqual(['x -> q (k)', 'x -> x:q (k)']);
    vhost.unbind(exchangeBinding('x', 'q', 'k'));
    expect(bindingList()).toEqual(['x -> q (k)']);
  });

  it('unbinding a binding that does not exist is a no-op, even twice', () => {
    vhost.bind(queueBinding('x', 'q', 'k'));
    expect(() => vhost.unbind(queueBinding('x', 'q', 'other'))).not.toThrow();
    expect(() => vhost.unbind(queueBinding('x', 'q', 'k', { a: 1 }))).not.toThrow();
    expect(bindingList()).toEqual(['x -> q (k)']);
    vhost.unbind(queueBinding('x', 'q', 'k'));
    expect(() => vhost.unbind(queueBinding('x', 'q', 'k'))).not.toThrow();
    expect(vhost.bindings()).toEqual([]);
    expect(queueOf(vhost, 'q').inbound.size).toBe(0);
  });

  it('missing ends are 404 for bind and unbind', () => {
    expectBrokerError(() => vhost.bind(queueBinding('nope', 'q')), 'NOT_FOUND');
    expectBrokerError(() => vhost.bind(queueBinding('x', 'nope')), 'NOT_FOUND');
    expectBrokerError(() => vhost.bind(exchangeBinding('x', 'nope')), 'NOT_FOUND');
    expectBrokerError(() => vhost.unbind(queueBinding('nope', 'q')), 'NOT_FOUND');
    expectBrokerError(() => vhost.unbind(queueBinding('x', 'nope')), 'NOT_FOUND');
    expectBrokerError(() => vhost.unbind(exchangeBinding('nope', 'x')), 'NOT_FOUND');
    expect(vhost.bindings()).toEqual([]);
  });

  it('headers bindings check x-match (406)', () => {
    expectBrokerError(() => vhost.bind(queueBinding('amq.headers', 'q', '', { 'x-match': 'some' })), 'PRECONDITION_FAILED');
    expect(vhost.bindings()).toEqual([]);
    vhost.bind(queueBinding('amq.headers', 'q', '', { 'x-match': 'any-with-x', a: 1 }));
    expect(vhost.bindings()).toHaveLength(1);
  });

  it('the routing key defaults to ""', () => {
    vhost.bind({ source: 'x', destination: 'q', destinationKind: 'queue' });
    expect(bindingList()).toEqual(['x -> q ()']);
    vhost.unbind({ source: 'x', destination: 'q', destinationKind: 'queue' });
    expect(vhost.bindings()).toEqual([]);
  });
});

describe('publish', () => {
  it('a missing exchange is 404', () => {
    expectBrokerError(() => publish(vhost, 'nope', 'k', 'm'), 'NOT_FOUND');
  });

  it('an internal exchange is 403 and nothing is routed', () => {
    vhost.declareExchange({ exchange: 'inner', type: 'fanout', internal: true });
    vhost.declareQueue({ queue: 'q' }, null);
    vhost.bind(queueBinding('inner', 'q'));
    expectBrokerError(() => publish(vhost, 'inner', '', 'm'), 'ACCESS_REFUSED');
    expectBrokerError(() => publish(vhost, 'amq.rabbitmq.trace', '', 'm'), 'ACCESS_REFUSED');
    expect(queueOf(vhost, 'q').messageCount).toBe(0);
  });

  it('a body over the maximum is 311 and nothing is routed; the maximum itself is fine', () => {
    const small = world({ maxBodySize: 4 });
    small.vhost.declareQueue({ queue: 'q' }, null);
    expectBrokerError(() => publish(small.vhost, '', 'q', '12345'), 'CONTENT_TOO_LARGE');
    expect(queueOf(small.vhost, 'q').messageCount).toBe(0);
    expect(publish(small.vhost, '', 'q', '1234').queues).toHaveLength(1);
  });

  it('the default maximum is 16 MiB', () => {
    expect(new Broker().maxBodySize).toBe(16 * 1024 * 1024);
  });

  it('builds the message from the request', () => {
    vhost.declareQueue({ queue: 'q' }, null);
    const before = Date.now();
    const result = publish(vhost, '', 'q', 'hello', { deliveryMode: 2, headers: { a: 1 } });
    const { message } = result;
    expect([message.exchange, message.routingKey, message.persistent]).toEqual(['', 'q', true]);
    expect(message.properties).toEqual({ deliveryMode: 2, headers: { a: 1 } });
    expect(new TextDecoder().decode(message.body)).toBe('hello');
    expect(result.message.publishedAt).toBeGreaterThanOrEqual(before);
    expect(publish(vhost, '', 'q', 'x', { deliveryMode: 1 }).message.persistent).toBe(false);
    expect(publish(vhost, '', 'q', 'x').message.persistent).toBe(false);
  });

  it('reports queues that refused the message (x-overflow reject-publish)', () => {
    vhost.declareQueue({ queue: 'full', arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } }, null);
    vhost.declareQueue({ queue: 'open' }, null);
    vhost.bind(queueBinding('amq.fanout', 'full'));
    vhost.bind(queueBinding('amq.fanout', 'open'));
    publish(vhost, 'amq.fanout', '', 'first');
    const second = publish(vhost, 'amq.fanout', '', 'second');
    expect(second.queues.map((q) => q.name)).toEqual(['open']);
    expect(second.rejectedBy.map((q) => q.name)).toEqual(['full']);
    expect(readyBodies(queueOf(vhost, 'full'))).toEqual(['first']);
  });
});
