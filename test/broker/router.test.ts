import { beforeEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/broker/exchange.js';
import type { Headers } from '../../src/broker/message.js';
import { routeMessage } from '../../src/broker/router.js';
import type { VHost } from '../../src/broker/vhost.js';
import { publish, queueOf, world } from './fixtures.js';

let vhost: VHost;

beforeEach(() => {
  vhost = world().vhost;
});

function exchange(name: string, type = 'direct', args: Record<string, unknown> = {}, internal = false): void {
  vhost.declareExchange({ exchange: name, type, arguments: args, internal });
}

function queues(...names: string[]): void {
  for (const name of names) vhost.declareQueue({ queue: name }, null);
}

function bindQueue(source: string, queue: string, routingKey = '', args: Record<string, unknown> = {}): void {
  vhost.bind({ source, destination: queue, destinationKind: 'queue', routingKey, arguments: args });
}

function bindExchange(source: string, destination: string, routingKey = '', args: Record<string, unknown> = {}): void {
  vhost.bind({ source, destination, destinationKind: 'exchange', routingKey, arguments: args });
}

function exchangeOf(name: string): Exchange {
  const found = vhost.exchanges.get(name);
  if (!found) throw new Error(`test setup: no exchange '${name}'`);
  return found;
}

/** Names of the queues a message reaches, sorted (routing order is not part of the contract). */
function route(start: string, routingKey: string, headers?: Headers): string[] {
  return routeMessage(vhost, exchangeOf(start), { routingKey, headers }).map((q) => q.name).sort();
}

/** Raw result, to check that no queue appears twice. */
function routeRaw(start: string, routingKey: string): string[] {
  return routeMessage(vhost, exchangeOf(start), { routingKey, headers: undefined }).map((q) => q.name);
}

describe('default exchange', () => {
  it('routes to the queue named by the routing key', () => {
    queues('q1', 'q2');
    expect(route('', 'q1')).toEqual(['q1']);
    expect(route('', 'q2')).toEqual(['q2']);
  });

  it('routes nowhere when no queue has that name', () => {
    queues('q1');
    expect(route('', 'nope')).toEqual([]);
    expect(route('', '')).toEqual([]);
  });

  it('does not route to an exchange of that name', () => {
    exchange('x');
    expect(route('', 'x')).toEqual([]);
  });

  it('stops routing to a deleted queue', () => {
    queues('q1');
    vhost.deleteQueue('q1');
    expect(route('', 'q1')).toEqual([]);
  });
});

describe('single exchange', () => {
  it('direct: exact key', () => {
    queues('a', 'b');
    bindQueue('amq.direct', 'a', 'k1');
    bindQueue('amq.direct', 'b', 'k2');
    expect(route('amq.direct', 'k1')).toEqual(['a']);
    expect(route('amq.direct', 'k3')).toEqual([]);
  });

  it('fanout: every bound queue', () => {
    queues('a', 'b');
    bindQueue('amq.fanout', 'a');
    bindQueue('amq.fanout', 'b', 'ignored');
    expect(route('amq.fanout', 'whatever')).toEqual(['a', 'b']);
  });

  it('topic: patterns', () => {
    queues('a', 'b');
    bindQueue('amq.topic', 'a', 'stock.*');
    bindQueue('amq.topic', 'b', '#.eur');
    expect(route('amq.topic', 'stock.eur')).toEqual(['a', 'b']);
    expect(route('amq.topic', 'bond.eur')).toEqual(['b']);
  });

  it('headers: binding arguments against message headers', () => {
    queues('a');
    bindQueue('amq.headers', 'a', '', { 'x-match': 'all', format: 'pdf' });
    expect(route('amq.headers', '', { format: 'pdf' })).toEqual(['a']);
    expect(route('amq.headers', '', { format: 'zip' })).toEqual([]);
    expect(route('amq.headers', '', undefined)).toEqual([]);
  });

  it('a queue matched by several bindings appears once', () => {
    queues('a');
    bindQueue('amq.topic', 'a', '#');
    bindQueue('amq.topic', 'a', 'x.*');
    bindQueue('amq.topic', 'a', 'x.y');
    expect(routeRaw('amq.topic', 'x.y')).toEqual(['a']);
  });
});

describe('exchange-to-exchange bindings', () => {
  it('follows a chain, matching the original routing key at each hop', () => {
    exchange('x1', 'direct');
    exchange('x2', 'fanout');
    exchange('x3', 'topic');
    queues('q');
    bindExchange('x1', 'x2', 'k.a');
    bindExchange('x2', 'x3', 'unused-by-fanout');
    bindQueue('x3', 'q', 'k.*');
    expect(route('x1', 'k.a')).toEqual(['q']);
    expect(route('x1', 'k.b')).toEqual([]); // x1 does not forward
  });

  it('stops where a hop does not match', () => {
    exchange('x1', 'fanout');
    exchange('x2', 'direct');
    queues('q');
    bindExchange('x1', 'x2');
    bindQueue('x2', 'q', 'only');
    expect(route('x1', 'only')).toEqual(['q']);
    expect(route('x1', 'other')).toEqual([]);
  });

  it('collects queues bound at every level', () => {
    exchange('x1', 'fanout');
    exchange('x2', 'fanout');
    queues('top', 'bottom');
    bindQueue('x1', 'top');
    bindExchange('x1', 'x2');
    bindQueue('x2', 'bottom');
    expect(route('x1', '')).toEqual(['bottom', 'top']);
    expect(route('x2', '')).toEqual(['bottom']); // bindings are one-way
  });

  it('headers exchanges downstream see the message headers', () => {
    exchange('x1', 'fanout');
    exchange('h', 'headers');
    queues('q');
    bindExchange('x1', 'h');
    bindQueue('h', 'q', '', { 'x-match': 'any', a: 1 });
    expect(route('x1', 'k', { a: 1 })).toEqual(['q']);
    expect(route('x1', 'k', { a: 2 })).toEqual([]);
  });

  it('a diamond reaches the shared queue once', () => {
    for (const name of ['top', 'left', 'right']) exchange(name, 'fanout');
    queues('q');
    bindExchange('top', 'left');
    bindExchange('top', 'right');
    bindQueue('left', 'q');
    bindQueue('right', 'q');
    expect(routeRaw('top', '')).toEqual(['q']);
  });

  it('an exchange bound twice to the same destination routes it once', () => {
    exchange('x1', 'topic');
    exchange('x2', 'fanout');
    queues('q');
    bindExchange('x1', 'x2', 'a.*');
    bindExchange('x1', 'x2', '#');
    bindQueue('x2', 'q');
    expect(routeRaw('x1', 'a.b')).toEqual(['q']);
  });

  it('a two-exchange cycle terminates and reaches each queue once', () => {
    exchange('a', 'fanout');
    exchange('b', 'fanout');
    queues('qa', 'qb');
    bindExchange('a', 'b');
    bindExchange('b', 'a');
    bindQueue('a', 'qa');
    bindQueue('b', 'qb');
    const fromA = routeRaw('a', '');
    expect([...fromA].sort()).toEqual(['qa', 'qb']);
    expect(new Set(fromA).size).toBe(fromA.length);
    expect(route('b', '')).toEqual(['qa', 'qb']);
  });

  it('a longer cycle with a shared queue reaches it once', () => {
    for (const name of ['a', 'b', 'c']) exchange(name, 'fanout');
    queues('shared', 'onlyC');
    bindExchange('a', 'b');
    bindExchange('b', 'c');
    bindExchange('c', 'a');
    for (const name of ['a', 'b', 'c']) bindQueue(name, 'shared');
    bindQueue('c', 'onlyC');
    const reached = routeRaw('b', '');
    expect([...reached].sort()).toEqual(['onlyC', 'shared']);
    expect(reached.length).toBe(2);
  });

  it('an exchange bound to itself terminates', () => {
    exchange('self', 'fanout');
    queues('q');
    bindExchange('self', 'self');
    bindQueue('self', 'q');
    expect(routeRaw('self', '')).toEqual(['q']);
  });

  it('a cycle with no queues routes nowhere', () => {
    exchange('a', 'fanout');
    exchange('b', 'fanout');
    bindExchange('a', 'b');
    bindExchange('b', 'a');
    expect(route('a', '')).toEqual([]);
  });

  it('routes through internal exchanges', () => {
    exchange('public', 'fanout');
    exchange('inner', 'fanout', {}, true);
    queues('q');
    bindExchange('public', 'inner');
    bindQueue('inner', 'q');
    expect(route('public', '')).toEqual(['q']);
  });
});

describe('alternate exchanges', () => {
  it('takes what the exchange cannot route, and only that', () => {
    exchange('ae', 'fanout');
    exchange('x', 'direct', { 'alternate-exchange': 'ae' });
    queues('main', 'unrouted');
    bindQueue('x', 'main', 'good');
    bindQueue('ae', 'unrouted');
    expect(route('x', 'good')).toEqual(['main']);
    expect(route('x', 'bad')).toEqual(['unrouted']);
  });

  it('is used by an exchange with no bindings at all', () => {
    exchange('ae', 'fanout');
    exchange('x', 'topic', { 'alternate-exchange': 'ae' });
    queues('unrouted');
    bindQueue('ae', 'unrouted');
    expect(route('x', 'anything')).toEqual(['unrouted']);
  });

  it('a missing alternate exchange is ignored', () => {
    exchange('x', 'direct', { 'alternate-exchange': 'does-not-exist' });
    expect(route('x', 'k')).toEqual([]);
  });

  it('an internal exchange can be an alternate exchange', () => {
    exchange('ae', 'fanout', {}, true);
    exchange('x', 'direct', { 'alternate-exchange': 'ae' });
    queues('unrouted');
    bindQueue('ae', 'unrouted');
    expect(route('x', 'k')).toEqual(['unrouted']);
  });

  it('an alternate exchange routes with its own type and bindings', () => {
    exchange('ae', 'direct');
    exchange('x', 'direct', { 'alternate-exchange': 'ae' });
    queues('k1', 'k2');
    bindQueue('ae', 'k1', 'k1');
    bindQueue('ae', 'k2', 'k2');
    expect(route('x', 'k2')).toEqual(['k2']);
    expect(route('x', 'k3')).toEqual([]);
  });

  it('follows a chain of alternate exchanges', () => {
    exchange('ae2', 'fanout');
    exchange('ae1', 'direct', { 'alternate-exchange': 'ae2' });
    exchange('x', 'direct', { 'alternate-exchange': 'ae1' });
    queues('q1', 'q2');
    bindQueue('ae1', 'q1', 'ae1-key');
    bindQueue('ae2', 'q2');
    expect(route('x', 'ae1-key')).toEqual(['q1']);
    expect(route('x', 'other')).toEqual(['q2']);
  });

  it('an alternate-exchange cycle terminates', () => {
    exchange('a', 'direct', { 'alternate-exchange': 'b' });
    exchange('b', 'direct', { 'alternate-exchange': 'a' });
    queues('qb');
    bindQueue('b', 'qb', 'kb');
    expect(route('a', 'nothing')).toEqual([]);
    expect(route('b', 'nothing')).toEqual([]);
    expect(route('a', 'kb')).toEqual(['qb']);
  });

  it('an exchange that is its own alternate terminates', () => {
    exchange('loop', 'direct', { 'alternate-exchange': 'loop' });
    expect(route('loop', 'k')).toEqual([]);
  });

  it('is not used when the exchange routes to another exchange', () => {
    // RabbitMQ: an exchange's alternate is consulted only when that exchange matched no binding;
    // a downstream exchange that routes nowhere uses its own alternate.
    exchange('ae-x', 'fanout');
    exchange('ae-y', 'fanout');
    exchange('x', 'direct', { 'alternate-exchange': 'ae-x' });
    exchange('y', 'direct', { 'alternate-exchange': 'ae-y' });
    queues('from-ae-x', 'from-ae-y');
    bindQueue('ae-x', 'from-ae-x');
    bindQueue('ae-y', 'from-ae-y');
    bindExchange('x', 'y', 'k');
    expect(route('x', 'k')).toEqual(['from-ae-y']);
    expect(route('x', 'other')).toEqual(['from-ae-x']);
  });

  it('combines with exchange-to-exchange cycles and still reaches each queue once', () => {
    exchange('ae', 'fanout');
    exchange('a', 'direct', { 'alternate-exchange': 'ae' });
    exchange('b', 'fanout');
    queues('q');
    bindExchange('ae', 'b');
    bindExchange('b', 'a', 'k'); // b -> a -> (nothing matches) -> ae -> b ...
    bindQueue('b', 'q');
    bindQueue('ae', 'q');
    expect(routeRaw('a', 'unmatched')).toEqual(['q']);
  });
});

describe('publish uses the router', () => {
  it('a message routed through a cycle lands once in each queue', () => {
    exchange('a', 'fanout');
    exchange('b', 'fanout');
    queues('q1', 'q2');
    bindExchange('a', 'b');
    bindExchange('b', 'a');
    bindQueue('a', 'q1');
    bindQueue('b', 'q1');
    bindQueue('b', 'q2');
    const result = publish(vhost, 'a', '', 'hello');
    expect(result.queues.map((q) => q.name).sort()).toEqual(['q1', 'q2']);
    expect(queueOf(vhost, 'q1').messageCount).toBe(1);
    expect(queueOf(vhost, 'q2').messageCount).toBe(1);
  });

  it('a message that reaches nothing is dropped', () => {
    exchange('x', 'direct');
    const result = publish(vhost, 'x', 'k', 'lost');
    expect(result.queues).toEqual([]);
    expect(result.rejectedBy).toEqual([]);
  });

  it('the default exchange delivers by queue name', () => {
    queues('q1');
    const result = publish(vhost, '', 'q1', 'hi');
    expect(result.queues.map((q) => q.name)).toEqual(['q1']);
    expect(queueOf(vhost, 'q1').messageCount).toBe(1);
  });
});
