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
  /** An error when a binding's arguments are not valid for this type. */
  validateBinding(args: BindingArguments): BrokerError | undefined;
  createIndex(): BindingIndex;
}
