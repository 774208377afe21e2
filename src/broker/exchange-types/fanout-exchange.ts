import type { Binding } from '../binding.js';
import type { BindingIndex, ExchangeType } from './exchange-type.js';

/** Routes every message to every binding; the routing key is ignored. */
class FanoutIndex implements BindingIndex {
  private readonly bindings = new Set<Binding>();

  add(binding: Binding): void {
    this.bindings.add(binding);
  }

  remove(binding: Binding): void {
    this.bindings.delete(binding);
  }

  route(_message: unknown, out: Binding[]): void {
    for (const binding of this.bindings) out.push(binding);
  }
}

export const fanoutExchange: ExchangeType = {
  name: 'fanout',
  validateBinding: () => undefined,
  createIndex: () => new FanoutIndex(),
};
