import { delayedExchange } from './delayed-exchange.js';
import { directExchange } from './direct-exchange.js';
import type { ExchangeType } from './exchange-type.js';
import { fanoutExchange } from './fanout-exchange.js';
import { headersExchange } from './headers-exchange.js';
import { topicExchange } from './topic-exchange.js';

const registry: ReadonlyMap<string, ExchangeType> = new Map(
  [directExchange, fanoutExchange, topicExchange, headersExchange, delayedExchange].map((t) => [t.name, t]),
);

export function findExchangeType(name: string): ExchangeType | undefined {
  return registry.get(name);
}

export function exchangeTypeNames(): string[] {
  return [...registry.keys()];
}
