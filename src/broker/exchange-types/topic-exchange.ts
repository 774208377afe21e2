import type { Binding, RoutingInput } from '../binding.js';
import { TopicMatcher } from '../topic-matcher.js';
import type { BindingIndex, ExchangeType } from './exchange-type.js';

/** Routes on `*`/`#` word patterns through a trie, so cost follows the key's length, not the binding count. */
class TopicIndex implements BindingIndex {
  private readonly matcher = new TopicMatcher<Binding>();
  private readonly matched = new Set<Binding>();

  add(binding: Binding): void {
    this.matcher.add(binding.routingKey, binding);
  }

  remove(binding: Binding): void {
    this.matcher.remove(binding.routingKey, binding);
  }

  route(message: RoutingInput, out: Binding[]): void {
    const matched = this.matched;
    this.matcher.match(message.routingKey, matched);
    for (const binding of matched) out.push(binding);
    matched.clear();
  }
}

export const topicExchange: ExchangeType = {
  name: 'topic',
  validateBinding: () => undefined,
  createIndex: () => new TopicIndex(),
};
