// exchange.* and queue.* on a channel: each method becomes one operations-layer call, its reply the
// method's -ok (left out for `nowait`).
import { BrokerError } from '../../../broker/errors.js';
import type { Caller } from '../../../operations/caller.js';
import { REPLY_TO_QUEUE } from '../../../operations/direct-reply-to.js';
import type { Operations } from '../../../operations/operations.js';
import { buildMethod } from '../build-method.js';
import { replyAfter, type Replied } from './channel-outcome.js';
import { tableToJson } from './message-mapping.js';
import type { MethodOf } from '../method-codec.js';

/** What the topology methods need of their channel. */
export interface TopologyScope {
  readonly ops: Operations;
  readonly caller: Caller;
  /** The queue last declared on this channel: AMQP's meaning of an empty queue name. */
  lastQueue: string | undefined;
}

/** An empty queue name means the channel's last declared queue (RabbitMQ's `expand_queue_name_shortcut`). */
function queueName(scope: TopologyScope, name: string): string {
  if (name !== '') return name;
  if (scope.lastQueue === undefined) throw new BrokerError('NOT_FOUND', 'no previously declared queue');
  return scope.lastQueue;
}

export function exchangeDeclare(scope: TopologyScope, m: MethodOf<'exchange.declare'>): Replied {
  const done = scope.ops.topology.declareExchange(scope.caller, {
    exchange: m.exchange,
    type: m.type,
    passive: m.passive,
    durable: m.durable,
    autoDelete: m.autoDelete,
    internal: m.internal,
    arguments: tableToJson(m.arguments),
  });
  return replyAfter(done, buildMethod('exchange.declare-ok', {}), m.nowait);
}

export function exchangeDelete(scope: TopologyScope, m: MethodOf<'exchange.delete'>): Replied {
  const done = scope.ops.topology.deleteExchange(scope.caller, m.exchange, m.ifUnused);
  return replyAfter(done, buildMethod('exchange.delete-ok', {}), m.nowait);
}

export function exchangeBind(scope: TopologyScope, m: MethodOf<'exchange.bind'>): Replied {
  const done = scope.ops.topology.bind(scope.caller, {
    source: m.source,
    destination: m.destination,
    destinationKind: 'exchange',
    routingKey: m.routingKey,
    arguments: tableToJson(m.arguments),
  });
  return replyAfter(done, buildMethod('exchange.bind-ok', {}), m.nowait);
}

export function exchangeUnbind(scope: TopologyScope, m: MethodOf<'exchange.unbind'>): Replied {
  const done = scope.ops.topology.unbind(scope.caller, {
    source: m.source,
    destination: m.destination,
    destinationKind: 'exchange',
    routingKey: m.routingKey,
    arguments: tableToJson(m.arguments),
  });
  return replyAfter(done, buildMethod('exchange.unbind-ok', {}), m.nowait);
}

export function queueDeclare(scope: TopologyScope, m: MethodOf<'queue.declare'>): Replied {
  // The direct reply-to pseudo-queue always exists, for a passive check (RabbitMQ answers the same).
  if (m.passive && m.queue === REPLY_TO_QUEUE) {
    return { reply: m.nowait ? undefined : buildMethod('queue.declare-ok', { queue: REPLY_TO_QUEUE, messageCount: 0, consumerCount: 0 }) };
  }
  // A passive declare of '' names the last declared queue, as RabbitMQ reads it.
  const requested = m.passive ? queueName(scope, m.queue) : m.queue;
  const done = scope.ops.topology.declareQueue(scope.caller, {
    queue: requested,
    passive: m.passive,
    durable: m.durable,
    exclusive: m.exclusive,
    autoDelete: m.autoDelete,
    arguments: tableToJson(m.arguments),
  });
  const { queue, messageCount, consumerCount } = done.value;
  scope.lastQueue = queue;
  return replyAfter(done, buildMethod('queue.declare-ok', { queue, messageCount, consumerCount }), m.nowait);
}

export function queueBind(scope: TopologyScope, m: MethodOf<'queue.bind'>): Replied {
  const queue = queueName(scope, m.queue);
  // With both empty, the routing key is the queue's name too (RabbitMQ's `expand_routing_key_shortcut`).
  const routingKey = m.queue === '' && m.routingKey === '' ? queue : m.routingKey;
  const done = scope.ops.topology.bind(scope.caller, {
    source: m.exchange,
    destination: queue,
    destinationKind: 'queue',
    routingKey,
    arguments: tableToJson(m.arguments),
  });
  return replyAfter(done, buildMethod('queue.bind-ok', {}), m.nowait);
}

export function queueUnbind(scope: TopologyScope, m: MethodOf<'queue.unbind'>): Replied {
  const queue = queueName(scope, m.queue);
  const routingKey = m.queue === '' && m.routingKey === '' ? queue : m.routingKey;
  const done = scope.ops.topology.unbind(scope.caller, {
    source: m.exchange,
    destination: queue,
    destinationKind: 'queue',
    routingKey,
    arguments: tableToJson(m.arguments),
  });
  return replyAfter(done, buildMethod('queue.unbind-ok', {}));
}

export function queuePurge(scope: TopologyScope, m: MethodOf<'queue.purge'>): Replied {
  const done = scope.ops.topology.purgeQueue(scope.caller, queueName(scope, m.queue));
  return replyAfter(done, buildMethod('queue.purge-ok', { messageCount: done.value }), m.nowait);
}

export function queueDelete(scope: TopologyScope, m: MethodOf<'queue.delete'>): Replied {
  const done = scope.ops.topology.deleteQueue(scope.caller, queueName(scope, m.queue), { ifUnused: m.ifUnused, ifEmpty: m.ifEmpty });
  return replyAfter(done, buildMethod('queue.delete-ok', { messageCount: done.value }), m.nowait);
}
