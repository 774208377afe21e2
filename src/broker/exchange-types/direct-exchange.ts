import type { Binding } from '../binding.js';
import type { BindingIndex, ExchangeType } from './exchange-type.js';

/** Routes on exact routing-key equality. */
class DirectIndex implements BindingIndex {
  private readonly byKey = new Map<string, Binding[]>();

  add(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (list) list.push(binding);
    else this.byKey.set(binding.routingKey, [binding]);
  }

  remove(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (!list) return;
    const at = list.indexOf(binding);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.byKey.delete(binding.routingKey);
  }

  route(message: { routingKey: string }, out: Binding[]): void {
    const list = this.byKey.get(message.routingKey);
    if (list) for (const binding of list) out.push(binding);
  }
}

export const directExchange: ExchangeType = {
  name: 'direct',
  validateBinding: () => undefined,
  createIndex: () => new DirectIndex(),
};
