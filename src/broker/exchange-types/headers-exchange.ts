import type { Binding, RoutingInput } from '../binding.js';
import { HeadersPattern, parseXMatch } from '../headers-matcher.js';
import type { BindingIndex, ExchangeType } from './exchange-type.js';

/** Routes on message headers against each binding's argument table; the routing key is ignored. */
class HeadersIndex implements BindingIndex {
  private readonly patterns = new Map<Binding, HeadersPattern>();

  add(binding: Binding): void {
    this.patterns.set(binding, new HeadersPattern(binding.arguments as Record<string, unknown>));
  }

  remove(binding: Binding): void {
    this.patterns.delete(binding);
  }

  route(message: RoutingInput, out: Binding[]): void {
    for (const [binding, pattern] of this.patterns) if (pattern.matches(message.headers)) out.push(binding);
  }
}

export const headersExchange: ExchangeType = {
  name: 'headers',
  validateBinding: (args) => {
    const mode = parseXMatch(args as Record<string, unknown>);
    return typeof mode === 'string' ? undefined : mode;
  },
  createIndex: () => new HeadersIndex(),
};
