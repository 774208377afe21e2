import type { Binding, RoutingInput } from './binding.js';
import type { Exchange } from './exchange.js';
import type { Queue } from './queue.js';

/** How routing finds exchanges and queues by name (the vhost's maps). */
export interface RoutingTables {
  readonly exchanges: ReadonlyMap<string, Exchange>;
  readonly queues: ReadonlyMap<string, Queue>;
}

/**
 * The queues a message published to `start` reaches: follows exchange-to-exchange bindings and
 * alternate exchanges, each exchange visited once, so cycles end and each queue appears at most once.
 * Nothing can be bound to or from the default exchange, so it only ever starts a route.
 */
export function routeMessage(tables: RoutingTables, start: Exchange, message: RoutingInput, extraKeys?: readonly string[]): Queue[] {
  if (extraKeys && extraKeys.length > 0) {
    // Sender-selected distribution: the union of the routes of every key, each queue once.
    const all = new Set(routeMessage(tables, start, message));
    for (const routingKey of extraKeys) for (const queue of routeMessage(tables, start, { ...message, routingKey })) all.add(queue);
    return [...all];
  }
  if (start.isDefault) {
    const queue = tables.queues.get(message.routingKey);
    return queue ? [queue] : [];
  }
  const queues = new Set<Queue>();
  const visited = new Set<Exchange>();
  const pending: Exchange[] = [start];
  const matched: Binding[] = [];
  while (pending.length > 0) {
    const exchange = pending.pop() as Exchange;
    if (visited.has(exchange)) continue;
    visited.add(exchange);
    matched.length = 0;
    exchange.route(message, matched);
    for (const binding of matched) {
      const destination = binding.destination;
      if (destination.kind === 'queue') queues.add(destination.queue);
      else pending.push(destination.exchange);
    }
    // As RabbitMQ: an exchange that routes a message nowhere hands it to its alternate exchange.
    if (matched.length === 0) {
      const alternate = alternateOf(tables, exchange);
      if (alternate) pending.push(alternate);
    }
  }
  return [...queues];
}

function alternateOf(tables: RoutingTables, exchange: Exchange): Exchange | undefined {
  const name = exchange.alternateExchange;
  return name === undefined ? undefined : tables.exchanges.get(name);
}
