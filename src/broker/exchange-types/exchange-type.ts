import type { Binding, BindingArguments, RoutingInput } from '../binding.js';
import type { BrokerError } from '../errors.js';

/**
 * How one exchange type keeps its bindings and picks the ones a message matches. Types are small and
 * stateless; each exchange owns a `BindingIndex` made by its type.
 */
export interface BindingIndex {
  add(binding: Binding): void;
  remove(binding: Binding): void;
  /** Appends every binding the message matches (duplicates allowed; the caller de-duplicates). */
  route(message: RoutingInput, out: Binding[]): void;
}

export interface ExchangeType {
  readonly name: string;
  /** An error when a binding's arguments are not valid for this type (given the exchange's own arguments). */
  validateBinding(args: BindingArguments, exchangeArguments: BindingArguments): BrokerError | undefined;
  /** Made once per exchange, from its arguments (validated first). */
  createIndex(exchangeArguments: BindingArguments): BindingIndex;
  /** An error when a new exchange's arguments are not valid for this type; types without rules leave it out. */
  validateArguments?(exchangeArguments: BindingArguments, exchange: string, vhost: string): BrokerError | undefined;
}
