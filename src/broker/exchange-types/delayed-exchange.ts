import type { BindingArguments } from '../binding.js';
import { preconditionFailed } from '../errors.js';
import { directExchange } from './direct-exchange.js';
import type { ExchangeType } from './exchange-type.js';
import { fanoutExchange } from './fanout-exchange.js';
import { headersExchange } from './headers-exchange.js';
import { topicExchange } from './topic-exchange.js';

export const DELAYED_EXCHANGE_TYPE = 'x-delayed-message';

/** The types a delayed exchange may route as, as in the RabbitMQ plugin (not itself). */
const ROUTING_TYPES: ReadonlyMap<string, ExchangeType> = new Map(
  [directExchange, fanoutExchange, topicExchange, headersExchange].map((t) => [t.name, t]),
);

/**
 * RabbitMQ's `x-delayed-message` (the community plugin): it routes as its `x-delayed-type` does, once a
 * message's `x-delay` has passed. The holding is the vhost's business (see ScheduledMessages); this
 * type only routes, with the bindings as they are at the due time.
 */
export const delayedExchange: ExchangeType = {
  name: DELAYED_EXCHANGE_TYPE,
  validateArguments: (args, exchange, vhost) => {
    const type = args['x-delayed-type'];
    if (type === DELAYED_EXCHANGE_TYPE) {
      return preconditionFailed(`Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type' (exchange '${exchange}' in vhost '${vhost}')`);
    }
    if (typeof type !== 'string' || !ROUTING_TYPES.has(type)) {
      return preconditionFailed(
        `Invalid argument, 'x-delayed-type' must be an existing exchange type: one of ${[...ROUTING_TYPES.keys()].join(', ')} ` +
          `(exchange '${exchange}' in vhost '${vhost}' got ${JSON.stringify(type) ?? 'none'})`,
      );
    }
    return undefined;
  },
  validateBinding: (args, exchangeArguments) => routingType(exchangeArguments).validateBinding(args, exchangeArguments),
  createIndex: (exchangeArguments) => routingType(exchangeArguments).createIndex(exchangeArguments),
};

/** Validated at the declare; direct only guards a record that bypassed it. */
function routingType(args: BindingArguments): ExchangeType {
  const type = args['x-delayed-type'];
  return (typeof type === 'string' ? ROUTING_TYPES.get(type) : undefined) ?? directExchange;
}
